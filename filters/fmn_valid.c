/*
 * Address and nick checks: strict enough to refuse typos and injection
 * (spaces, control characters, CR/LF in an SMTP or IRC command), loose
 * enough to accept every address a mail server would.
 */
#include "fmn_valid.h"

#include <string.h>

static int
is_ascii_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_ascii_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

int
fmn_valid_email(const char *s)
{
	const char *at, *dom, *p;

	if (s == NULL || (at = strchr(s, '@')) == NULL || at == s)
		return 0;
	if (strchr(at + 1, '@') != NULL)
		return 0;
	for (p = s; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= ' ' || c == 0x7f || c == '<' || c == '>' ||
		    c == ',' || c == ';')
			return 0;
	}
	dom = at + 1;
	if (*dom == '\0' || *dom == '.' || dom[strlen(dom) - 1] == '.' ||
	    strstr(dom, "..") != NULL)
		return 0;
	return strchr(dom, '.') != NULL || strcmp(dom, "localhost") == 0;
}

int
fmn_valid_nick(const char *s)
{
	size_t n = 0;
	const unsigned char *p;

	if (s == NULL || *s == '\0' || is_ascii_digit(*s) || *s == '-')
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++, n++) {
		if (n >= 30)
			return 0;
		if (!is_ascii_alpha(*p) && !is_ascii_digit(*p) &&
		    strchr("[]\\`_^{|}-", *p) == NULL)
			return 0;
	}
	return 1;
}
