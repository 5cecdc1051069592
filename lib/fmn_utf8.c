/*
 * UTF-8 (see fmn_utf8.h). Continuation bytes are 10xxxxxx: counting
 * and cutting only need to step over them.
 */
#include "fmn_utf8.h"

#define CONT(c)	(((unsigned char)(c) & 0xc0) == 0x80)

size_t
fmn_utf8_decode(const char *s, size_t n, uint32_t *cp)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t len, k;
	uint32_t c;

	if (n == 0)
		return 0;
	if (p[0] < 0x80) {
		*cp = p[0];
		return 1;
	}
	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2;
		c = p[0] & 0x1f;
	} else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		c = p[0] & 0x07;
	} else
		return 0;
	if (len > n)
		return 0;
	for (k = 1; k < len; k++) {
		if (!CONT(p[k]))
			return 0;
		c = (c << 6) | (p[k] & 0x3f);
	}
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return len;
}

int
fmn_utf8_valid(const char *s, size_t n)
{
	size_t i = 0, len;
	uint32_t cp;

	while (i < n) {
		if ((len = fmn_utf8_decode(s + i, n - i, &cp)) == 0 ||
		    cp == 0)
			return 0;
		i += len;
	}
	return 1;
}

size_t
fmn_utf8_cut(const char *s, size_t n, size_t max)
{
	if (n <= max)
		return n;
	while (max > 0 && CONT(s[max]))
		max--;
	return max;
}

size_t
fmn_utf8_chars(const char *s, size_t n)
{
	size_t i, c = 0;

	for (i = 0; i < n; i++)
		if (!CONT(s[i]))
			c++;
	return c;
}

size_t
fmn_utf8_prefix(const char *s, size_t n, size_t chars)
{
	size_t i = 0;

	while (i < n && chars > 0) {
		i++;
		while (i < n && CONT(s[i]))
			i++;
		chars--;
	}
	return i;
}
