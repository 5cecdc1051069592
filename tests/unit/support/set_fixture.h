/*
 * Facts' name sets against what a corpus states: the same comparison
 * and the same text in every test that scores facts.
 */
#ifndef SET_FIXTURE_H
#define SET_FIXTURE_H

#include <jansson.h>

#include "fmn_msg.h"

/* Sets are equal: the JSON list holds each name of got, and only those. */
int set_equal(const struct fmn_strset *got, json_t *expected);
/* The set as "[a, b]", for a failure's message; the caller frees it. */
char *set_text(const struct fmn_strset *s);

#endif
