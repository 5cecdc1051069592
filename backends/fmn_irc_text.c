/*
 * IRC text: sanitising, splitting and formatting what the notification
 * bot says, and the nick rules it needs (see fmn_irc_text.h).
 */
#include "fmn_irc_text.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmn_utf8.h"

/* Room the server's relay prefix may take besides our nick: "!" user "@" host. */
#define IRC_USER_MAX	11	/* USERLEN 10, plus the "~" of an unverified ident */
#define IRC_HOST_MAX	63
#define IRC_LINE_MAX	512

void
fmn_irc_lines_take(struct fmn_irc_lines *l, char *s)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

void
fmn_irc_lines_add(struct fmn_irc_lines *l, const char *s)
{
	fmn_irc_lines_take(l, xstrdup(s));
}

void
fmn_irc_lines_free(struct fmn_irc_lines *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = l->cap = 0;
}

enum fmn_irc_casemap
fmn_irc_casemap_parse(const char *name)
{
	if (name == NULL)
		return FMN_IRC_CASEMAP_RFC1459;
	if (strcmp(name, "ascii") == 0)
		return FMN_IRC_CASEMAP_ASCII;
	if (strcmp(name, "strict-rfc1459") == 0)
		return FMN_IRC_CASEMAP_STRICT;
	return FMN_IRC_CASEMAP_RFC1459;
}

static char
irc_fold(char c, enum fmn_irc_casemap m)
{
	if (c >= 'A' && c <= 'Z')
		return (char)(c - 'A' + 'a');
	if (m == FMN_IRC_CASEMAP_ASCII)
		return c;
	switch (c) {
	case '[':
		return '{';
	case ']':
		return '}';
	case '\\':
		return '|';
	case '~':
		return m == FMN_IRC_CASEMAP_RFC1459 ? '^' : c;
	default:
		return c;
	}
}

void
fmn_irc_casefold(char *s, enum fmn_irc_casemap m)
{
	for (; *s != '\0'; s++)
		*s = irc_fold(*s, m);
}

int
fmn_irc_casecmp(const char *a, const char *b, enum fmn_irc_casemap m)
{
	unsigned char ca, cb;

	for (;; a++, b++) {
		ca = (unsigned char)irc_fold(*a, m);
		cb = (unsigned char)irc_fold(*b, m);
		if (ca != cb || ca == '\0')
			return (int)ca - (int)cb;
	}
}

static int
irc_nick_special(char c)
{
	return strchr("[]\\`_^{|}", c) != NULL;
}

int
fmn_irc_nick_valid(const char *s)
{
	size_t i;

	if (s == NULL || *s == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		char c = s[i];
		int alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
		int digit = c >= '0' && c <= '9';

		if (i >= 64)
			return 0;
		if (alpha || irc_nick_special(c))
			continue;
		if (i > 0 && (digit || c == '-'))
			continue;
		return 0;
	}
	return 1;
}

/*
 * Invisible format characters that are dropped like the control
 * characters: with them, text from the bus could change the order in
 * which a reader's client shows what follows (a right-to-left override
 * makes "evil\u202Etxt.exe" read "evilexe.txt"), or hide text. ZERO
 * WIDTH NON-JOINER and ZERO WIDTH JOINER (U+200C, U+200D) are kept: they
 * neither move nor hide anything, and Persian, Indic scripts and emoji
 * sequences need them to be written correctly.
 */
static const struct {
	uint32_t	lo, hi;
} sanitize_dropped[] = {
	{ 0x061c, 0x061c },	/* ARABIC LETTER MARK */
	{ 0x200b, 0x200b },	/* ZERO WIDTH SPACE */
	{ 0x200e, 0x200f },	/* LEFT-TO-RIGHT and RIGHT-TO-LEFT MARK */
	{ 0x202a, 0x202e },	/* embeddings, POP DIRECTIONAL FORMATTING, overrides */
	{ 0x2060, 0x2060 },	/* WORD JOINER */
	{ 0x2066, 0x2069 },	/* isolates and POP DIRECTIONAL ISOLATE */
	{ 0x206a, 0x206f },	/* deprecated format controls (symmetric swapping...) */
	{ 0xfeff, 0xfeff },	/* ZERO WIDTH NO-BREAK SPACE, the byte order mark */
	{ 0xfff9, 0xfffb },	/* interlinear annotation: may hide the text it brackets */
};

static int
sanitize_drops(uint32_t cp)
{
	size_t i;

	if (cp < 0x061c)
		return 0;
	for (i = 0; i < sizeof(sanitize_dropped) / sizeof(*sanitize_dropped);
	    i++)
		if (cp >= sanitize_dropped[i].lo &&
		    cp <= sanitize_dropped[i].hi)
			return 1;
	return 0;
}

void
fmn_irc_sanitize(struct fmn_buf *out, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n, len;
	uint32_t cp;

	if (s == NULL)
		return;
	n = strlen(s);
	while (n > 0) {
		len = fmn_utf8_decode((const char *)p, n, &cp);
		if (len == 0) {
			fmn_buf_adds(out, "\xef\xbf\xbd");	/* U+FFFD */
			p++;
			n--;
			continue;
		}
		/* Line breaks, Unicode's too, would break lines in clients. */
		if (cp == '\r' || cp == '\n' || cp == '\t' || cp == 0x2028 ||
		    cp == 0x2029)
			fmn_buf_addc(out, ' ');
		else if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
			;	/* a control character: dropped */
		else if (sanitize_drops(cp))
			;	/* an invisible format character: dropped */
		else
			fmn_buf_add(out, p, len);
		p += len;
		n -= len;
	}
}

/* Length of the token at p: one formatting code or one character. */
static size_t
split_token(const char *p, size_t n)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t i;
	uint32_t cp;

	if (u[0] == 0x03) {
		i = 1;
		if (i < n && p[i] >= '0' && p[i] <= '9') {
			i++;
			if (i < n && p[i] >= '0' && p[i] <= '9')
				i++;
			if (i + 1 < n && p[i] == ',' && p[i + 1] >= '0' &&
			    p[i + 1] <= '9') {
				i += 2;
				if (i < n && p[i] >= '0' && p[i] <= '9')
					i++;
			}
		}
		return i;
	}
	i = fmn_utf8_decode((const char *)u, n, &cp);
	return i == 0 ? 1 : i;
}

/* The bold and colour state a line has reached; repeated after a cut. */
struct split_state {
	int	bold;
	char	colour[8];	/* the last colour code, "" for none */
};

static void
split_apply(struct split_state *st, const char *p, size_t len)
{
	if (p[0] == 0x02)
		st->bold = !st->bold;
	else if (p[0] == 0x0f) {
		st->bold = 0;
		st->colour[0] = '\0';
	} else if (p[0] == 0x03) {
		if (len == 1 || len >= sizeof(st->colour))
			st->colour[0] = '\0';
		else {
			memcpy(st->colour, p, len);
			st->colour[len] = '\0';
		}
	}
}

static int
split_is_code(char c)
{
	return c == 0x02 || c == 0x03 || c == 0x0f;
}

void
fmn_irc_split(const char *text, size_t max, struct fmn_irc_lines *out)
{
	struct split_state st = { 0, "" };
	struct fmn_buf line;
	size_t n = strlen(text), pos = 0;

	if (max < 16)
		max = 16;
	fmn_buf_init(&line);
	while (pos < n) {
		size_t avail, i, tok, cut, last_space = 0;
		int visible = 0;

		fmn_buf_reset(&line);
		if (st.bold)
			fmn_buf_addc(&line, 0x02);
		fmn_buf_adds(&line, st.colour);
		avail = max - line.len;

		/* Find the cut: the last token boundary that fits. */
		for (i = pos; i < n; i += tok) {
			tok = split_token(text + i, n - i);
			if (i + tok - pos > avail && i > pos)
				break;
			if (text[i] == ' ' && i > pos)
				last_space = i;
		}
		cut = i;
		if (cut < n && last_space > pos && last_space - pos >= avail / 2)
			cut = last_space;

		for (i = pos; i < cut; i += tok) {
			tok = split_token(text + i, cut - i);
			if (split_is_code(text[i]))
				split_apply(&st, text + i, tok);
			else if (text[i] != ' ')
				visible = 1;
		}
		fmn_buf_add(&line, text + pos, cut - pos);
		if (visible)
			fmn_irc_lines_add(out, line.data);
		pos = cut;
		while (pos < n && text[pos] == ' ')
			pos++;
	}
	fmn_buf_free(&line);
}

void
fmn_irc_truncate(struct fmn_buf *out, const char *text, size_t max)
{
	struct fmn_irc_lines l = { NULL, 0, 0 };

	if (strlen(text) <= max) {
		fmn_buf_adds(out, text);
		return;
	}
	fmn_irc_split(text, max > 19 ? max - 3 : 16, &l);
	if (l.n > 0)
		fmn_buf_adds(out, l.v[0]);
	fmn_buf_adds(out, "...");
	fmn_irc_lines_free(&l);
}

size_t
fmn_irc_text_max(size_t nicklen, size_t targetlen)
{
	size_t prefix = 1 + nicklen + 1 + IRC_USER_MAX + 1 + IRC_HOST_MAX;
	size_t fixed = 2 + prefix + strlen(" PRIVMSG ") + targetlen + 2;

	if (fixed + 64 > IRC_LINE_MAX)
		return 64;	/* absurd nicks: still something sendable */
	return IRC_LINE_MAX - fixed;
}

/* One notice as text: "[category] subtitle link", coloured with markup. */
static void
format_notice(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_notice *n)
{
	const char *subtitle = n->subtitle;

	if (subtitle == NULL || *subtitle == '\0')
		subtitle = n->topic;
	if (d->verbose && n->category != NULL && *n->category != '\0') {
		if (d->markup)
			fmn_buf_adds(out, FMN_IRC_COLOUR "06");
		fmn_buf_addc(out, '[');
		fmn_irc_sanitize(out, n->category);
		fmn_buf_addc(out, ']');
		if (d->markup)
			fmn_buf_adds(out, FMN_IRC_RESET);
		fmn_buf_addc(out, ' ');
	}
	if (subtitle != NULL && *subtitle != '\0')
		fmn_irc_sanitize(out, subtitle);
	else
		fmn_buf_adds(out, "(no description)");
	if (n->link != NULL && *n->link != '\0') {
		fmn_buf_addc(out, ' ');
		if (d->markup)
			fmn_buf_adds(out, FMN_IRC_COLOUR "12");
		fmn_irc_sanitize(out, n->link);
		if (d->markup)
			fmn_buf_adds(out, FMN_IRC_RESET);
	}
}

static void
format_digest(const struct fmn_delivery *d, size_t digest_lines, size_t max,
    struct fmn_irc_lines *out)
{
	struct fmn_buf b, entry;
	size_t total = d->n_notices + d->n_omitted, shown, i;

	fmn_buf_init(&b);
	fmn_buf_init(&entry);
	shown = d->n_notices < digest_lines ? d->n_notices : digest_lines;
	if (d->markup)
		fmn_buf_adds(&b, FMN_IRC_BOLD "fmn digest:" FMN_IRC_RESET);
	else
		fmn_buf_adds(&b, "fmn digest:");
	fmn_buf_printf(&b, " %zu notification%s", total, total == 1 ? "" : "s");
	fmn_irc_split(b.data, max, out);
	for (i = 0; i < shown; i++) {
		fmn_buf_reset(&entry);
		fmn_buf_reset(&b);
		format_notice(&entry, d, &d->notices[i]);
		fmn_buf_adds(&b, "- ");
		fmn_irc_truncate(&b, entry.data, max - 2);
		fmn_irc_lines_add(out, b.data);
	}
	if (total > shown) {
		fmn_buf_reset(&b);
		fmn_buf_printf(&b, "and %zu more", total - shown);
		fmn_irc_lines_add(out, b.data);
	}
	fmn_buf_free(&entry);
	fmn_buf_free(&b);
}

static void
format_confirm(const struct fmn_delivery *d, const char *base_url,
    size_t max, struct fmn_irc_lines *out)
{
	struct fmn_buf b, secret;
	const char *sec;
	char when[64] = "";
	struct tm tm;
	time_t t;

	fmn_buf_init(&b);
	fmn_buf_init(&secret);
	fmn_irc_sanitize(&secret, d->secret != NULL ? d->secret : "");
	sec = secret.data != NULL ? secret.data : "";
	fmn_buf_adds(&b, "Hello from fmn: account ");
	fmn_irc_sanitize(&b, d->user != NULL ? d->user : "?");
	fmn_buf_adds(&b, " asked for notifications to be sent to this nick.");
	fmn_irc_split(b.data, max, out);

	fmn_buf_reset(&b);
	fmn_buf_adds(&b, "To confirm, reply to me with: ");
	if (d->markup)
		fmn_buf_adds(&b, FMN_IRC_BOLD);
	fmn_buf_printf(&b, "confirm %s", sec);
	if (d->markup)
		fmn_buf_adds(&b, FMN_IRC_RESET);
	if (base_url != NULL && *base_url != '\0') {
		fmn_buf_adds(&b, " (or open ");
		fmn_irc_sanitize(&b, base_url);
		/* One slash between the base and the path. */
		while (b.len > 0 && b.data[b.len - 1] == '/')
			b.data[--b.len] = '\0';
		fmn_buf_printf(&b, "/confirm/%s)", sec);
	} else
		fmn_buf_printf(&b, " (or run: fmnctl dest confirm %s)", sec);
	fmn_irc_split(b.data, max, out);

	fmn_buf_reset(&b);
	if (d->expires > 0 && d->expires < 1e12) {
		t = (time_t)d->expires;
		if (gmtime_r(&t, &tm) != NULL)
			strftime(when, sizeof(when), "%Y-%m-%d %H:%M UTC", &tm);
	}
	if (*when != '\0')
		fmn_buf_printf(&b, "The code expires %s. ", when);
	fmn_buf_adds(&b, "If you did not ask for this, ignore this message.");
	fmn_irc_split(b.data, max, out);
	fmn_buf_free(&secret);
	fmn_buf_free(&b);
}

void
fmn_irc_format(const struct fmn_delivery *d, size_t digest_lines,
    const char *base_url, size_t max, struct fmn_irc_lines *out)
{
	struct fmn_buf b;

	switch (d->kind) {
	case FMN_DELIVERY_CONFIRM:
		format_confirm(d, base_url, max, out);
		return;
	case FMN_DELIVERY_DIGEST:
		if (d->n_notices + d->n_omitted > 1) {
			format_digest(d, digest_lines, max, out);
			return;
		}
		break;
	case FMN_DELIVERY_SINGLE:
		break;
	}
	fmn_buf_init(&b);
	if (d->n_notices > 0)
		format_notice(&b, d, &d->notices[0]);
	else
		fmn_buf_adds(&b, "(empty notification)");
	fmn_irc_split(b.data, max, out);
	if (out->n == 0)
		fmn_irc_lines_add(out, "(empty notification)");
	fmn_buf_free(&b);
}
