/*
 * RFC 6901 JSON pointers as rules (field:) and fact definitions write
 * them: the one decoder of their reference tokens.
 */
#ifndef FMN_POINTER_H
#define FMN_POINTER_H

#include <stddef.h>

#include "fmn_util.h"

/*
 * Append the reference token s (n bytes, no '/') to out with its escapes
 * undone: "~0" is '~', "~1" is '/'. Any other '~' (another digit, any
 * other character, the end of the token) is refused: returns -1 and sets
 * *cause; else 0.
 */
int fmn_pointer_token(const char *s, size_t n, struct fmn_buf *out,
    char **cause);

#endif
