/*
 * Validation of what people type as destinations: e-mail addresses and
 * IRC nicks. Shared by fmnctl dest add and fmnctl import.
 */
#ifndef FMN_VALID_H
#define FMN_VALID_H

/*
 * 1 when s looks like a deliverable address: exactly one '@', non-empty
 * local and domain parts, no whitespace or control characters, and a
 * domain with a dot (or "localhost").
 */
int fmn_valid_email(const char *s);
/*
 * 1 when s is an IRC nick (RFC 2812): 1-30 characters among letters,
 * digits and []\`_^{|}-, not starting with a digit or '-'.
 */
int fmn_valid_nick(const char *s);

#endif
