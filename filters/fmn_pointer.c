/*
 * JSON pointer reference tokens (RFC 6901). Only two escapes exist; a
 * '~' followed by anything else is refused rather than kept as a
 * literal character, since a pointer that names a key with a '~' in it
 * is written "~0" and one kept "~2" would match no message and never
 * say why.
 */
#include "fmn_pointer.h"

int
fmn_pointer_token(const char *s, size_t n, struct fmn_buf *out, char **cause)
{
	size_t i;
	unsigned char c;

	for (i = 0; i < n; i++) {
		if (s[i] != '~') {
			fmn_buf_addc(out, s[i]);
			continue;
		}
		if (i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			fmn_buf_addc(out, s[i + 1] == '0' ? '~' : '/');
			i++;
			continue;
		}
		c = i + 1 < n ? (unsigned char)s[i + 1] : '\0';
		if (c > ' ' && c < 0x7f)
			fmn_set_cause(cause, "\"~%c\" is not a JSON pointer "
			    "escape: only ~0 (for ~) and ~1 (for /) are", c);
		else
			fmn_set_cause(cause, "a '~' %s in a JSON pointer: only "
			    "~0 (for ~) and ~1 (for /) are escapes",
			    c == '\0' ? "ends a token" : "without 0 or 1");
		return -1;
	}
	return 0;
}
