/*
 * The bytes a fedmsg publisher signs. fedmsg serialises with Python's
 * json.dumps(sort_keys=True, separators=(",", ":"), ensure_ascii=True):
 * keys sorted by code point, no spaces, everything outside printable
 * ASCII escaped as \uXXXX (lowercase hex, surrogate pairs beyond the
 * BMP), integers as integers and floats as Python's repr. This module
 * writes that text from a jansson value, byte for byte, and applies
 * fedmsg's rules for what of an envelope is signed.
 */
#ifndef FMN_CANON_H
#define FMN_CANON_H

#include <stddef.h>
#include <jansson.h>

#include "fmn_util.h"

/* Room for any double as Python's repr writes it, with its NUL. */
#define FMN_CANON_REAL_MAX	32

/*
 * Python's repr() of a finite double: the shortest digits that read
 * back as d (the nearest such string when several are as short), in
 * exponent form ("1e+16", "1.5e-05") when the decimal exponent is below
 * -4 or at least 16, else with a ".0" when integral. Returns the
 * length; -1 for NaN and infinities (which JSON cannot carry).
 */
int fmn_canon_real(double d, char buf[FMN_CANON_REAL_MAX]);

/*
 * Append Python's json.dumps(v, sort_keys=True, separators=(",", ":"),
 * ensure_ascii=True) of v to out. -1 (out then holds a part) when v
 * holds what JSON cannot (NaN, an infinity, text that is not UTF-8).
 */
int fmn_canon_dump(const json_t *v, struct fmn_buf *out);

/*
 * The bytes fedmsg signs for the envelope env, into out (reset first):
 * env without "signature" and "certificate"; and, when it has both
 * "source_name" and "source_version" (the form datagrepper stores and
 * serves, fedmsg.crypto.utils.fix_datagrepper_message), without those
 * two, without "headers" when it is empty or false, and with a float
 * "timestamp" cut to an integer. raw, when not NULL, is the text env
 * was parsed from: an envelope holding an integer too big for jansson
 * was read with every number as a double (fmn_msg_load_json), and the
 * exact integers are then taken from the text. -1 with *cause when the
 * envelope is not an object or cannot be written.
 */
int fmn_canon_envelope(const json_t *env, const char *raw, size_t rawlen,
    struct fmn_buf *out, char **cause);

#endif
