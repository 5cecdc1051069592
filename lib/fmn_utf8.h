/*
 * UTF-8: the one decoder (strict: no overlong forms, no surrogates,
 * nothing past U+10FFFF), validation, and cutting text at character
 * boundaries. Everything that reads or shortens text from the bus goes
 * through these.
 */
#ifndef FMN_UTF8_H
#define FMN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * The length of the well-formed sequence at s (n bytes left), with its
 * code point in *cp; 0 when it is not one (or n is 0). A NUL byte is a
 * well-formed sequence of one: the callers decide about it.
 */
size_t fmn_utf8_decode(const char *s, size_t n, uint32_t *cp);
/* Is s (n bytes) valid UTF-8, with no NUL byte? */
int fmn_utf8_valid(const char *s, size_t n);
/* The longest prefix of s (n bytes) of at most max bytes that ends on a character boundary. */
size_t fmn_utf8_cut(const char *s, size_t n, size_t max);
/* Characters in s (n bytes of valid UTF-8). */
size_t fmn_utf8_chars(const char *s, size_t n);
/* Bytes of the first chars characters of s (n bytes of valid UTF-8). */
size_t fmn_utf8_prefix(const char *s, size_t n, size_t chars);

#endif
