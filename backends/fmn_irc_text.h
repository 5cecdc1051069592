/*
 * IRC text: what the bot may put after "PRIVMSG nick :". Text from the
 * bus is sanitised: no control characters, so nothing can end the line
 * and start a command, and no bidirectional or invisible format
 * characters, so nothing can reorder or hide what a person reads. It is
 * rendered with optional mIRC colours and split into lines that stay
 * under the 512-byte protocol limit once the server has put its prefix
 * in front, cutting only between UTF-8 characters and never inside a
 * colour code. Also IRC nick rules: validity and the server's case
 * mapping.
 */
#ifndef FMN_IRC_TEXT_H
#define FMN_IRC_TEXT_H

#include <stddef.h>

#include "fmn_backend.h"
#include "fmn_util.h"

/* mIRC formatting codes the formatter emits. */
#define FMN_IRC_BOLD	"\002"
#define FMN_IRC_COLOUR	"\003"
#define FMN_IRC_RESET	"\017"

/* How the server compares nicks (ISUPPORT CASEMAPPING). */
enum fmn_irc_casemap {
	FMN_IRC_CASEMAP_RFC1459,	/* []\~ are the upper case of {}|^ */
	FMN_IRC_CASEMAP_STRICT,		/* strict-rfc1459: []\ and {}| */
	FMN_IRC_CASEMAP_ASCII,		/* A-Z only */
};

/* A growable list of owned strings. */
struct fmn_irc_lines {
	char	**v;
	size_t	  n;
	size_t	  cap;
};
void fmn_irc_lines_add(struct fmn_irc_lines *l, const char *s);
/* Takes ownership of s. */
void fmn_irc_lines_take(struct fmn_irc_lines *l, char *s);
void fmn_irc_lines_free(struct fmn_irc_lines *l);

/* The case mapping named by a CASEMAPPING token; rfc1459 if unknown. */
enum fmn_irc_casemap fmn_irc_casemap_parse(const char *name);
/* Fold s in place to the mapping's lower case. */
void fmn_irc_casefold(char *s, enum fmn_irc_casemap m);
/* strcmp of the folded forms: 0 when a and b are the same nick. */
int fmn_irc_casecmp(const char *a, const char *b, enum fmn_irc_casemap m);

/*
 * Is s usable as a PRIVMSG target nick: 1..64 bytes of letters, digits
 * and []\`_^{|}-, not starting with a digit or '-'. This is what keeps
 * a destination address from naming a channel or adding parameters.
 */
int fmn_irc_nick_valid(const char *s);

/*
 * Append s to out as one line of plain text: CR, LF, TAB and the
 * LINE and PARAGRAPH SEPARATOR (U+2028, U+2029) become a space, every
 * other C0 control (NUL, the mIRC codes, CTCP's \001) and DEL are
 * dropped, C1 controls are dropped, so are the bidirectional controls
 * (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069) and the
 * invisible format characters that can hide text (U+200B, U+2060,
 * U+206A-U+206F, U+FEFF, U+FFF9-U+FFFB); invalid UTF-8 becomes U+FFFD.
 * Runs of spaces are kept as they are.
 */
void fmn_irc_sanitize(struct fmn_buf *out, const char *s);

/*
 * Split text (sanitised, possibly with the formatter's own bold, colour
 * and reset codes) into lines of at most max bytes each, appended to
 * out. Cuts fall on a space when one is in the second half of the line,
 * otherwise between two UTF-8 characters; a colour code is never cut and
 * the bold/colour state in force is repeated at the start of the next
 * line. Empty text gives no line. max is raised to 16 if smaller.
 */
void fmn_irc_split(const char *text, size_t max, struct fmn_irc_lines *out);

/* Cut text to at most max bytes at a character boundary, adding "..." when cut. */
void fmn_irc_truncate(struct fmn_buf *out, const char *text, size_t max);

/*
 * The bytes a line of text may have in "PRIVMSG target :text" so that
 * the server's relayed ":nick!user@host PRIVMSG target :text\r\n" fits
 * in 512 bytes, for a bot whose nick is nicklen bytes long.
 */
size_t fmn_irc_text_max(size_t nicklen, size_t targetlen);

/*
 * Render a delivery as the lines the bot sends to its nick, each at most
 * max bytes: a notification (subtitle and link), a digest (a summary
 * line, at most digest_lines entries of one line each, then "and K
 * more") or a confirmation request, with its link under base_url (fmnd's
 * [http] base_url) when not NULL. mIRC colours when d->markup.
 */
void fmn_irc_format(const struct fmn_delivery *d, size_t digest_lines,
    const char *base_url, size_t max, struct fmn_irc_lines *out);

#endif
