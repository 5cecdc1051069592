/*
 * Validation of what people type as destinations: e-mail addresses and
 * IRC nicks. Shared by fmnctl dest add, fmnctl import and the backends
 * that deliver to them.
 */
#ifndef FMN_VALID_H
#define FMN_VALID_H

/*
 * 1 when s is an address the mail side can deliver to: a dot-atom local
 * part (letters, digits, !#$%&'*+-/=?^_`{|}~ and single inner dots; at
 * most 64 characters), one '@', and a host name of letters, digits and
 * hyphens with a dot (or "localhost"); 254 characters in all. No quotes,
 * comments, spaces, control or non-ASCII characters. Else 0, and *cause
 * (if cause is not NULL) says why. The one check for fmnctl dest add,
 * fmnctl import and the mail formatter.
 */
int fmn_valid_email(const char *s, char **cause);
/*
 * 1 when s is an IRC nick (RFC 2812): 1-30 characters among letters,
 * digits and []\`_^{|}-, not starting with a digit or '-'.
 */
int fmn_valid_nick(const char *s);

#endif
