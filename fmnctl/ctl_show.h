/*
 * A user's configuration, and times, for a person to read: the text
 * `fmnctl user show` prints from the JSON of filters/fmn_show.c, the
 * same whether that JSON came from the database or from fmnd's API.
 */
#ifndef FMN_CTL_SHOW_H
#define FMN_CTL_SHOW_H

#include <stddef.h>
#include <jansson.h>

/* A time for a person: "2026-11-28 12:00:00 UTC". */
void ctl_show_time(char *buf, size_t len, double t);
/* Print fmn_show_user's result for a person. */
void ctl_show_user_text(const json_t *u);

#endif
