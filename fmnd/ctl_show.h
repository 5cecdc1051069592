/*
 * One user's whole configuration as JSON, in the shape of `fmnctl
 * export` (DESIGN.md), for `user show` and the exporter.
 */
#ifndef FMN_CTL_SHOW_H
#define FMN_CTL_SHOW_H

#include <jansson.h>
#include <sqlite3.h>

/*
 * {"name", "destinations", "preferences": [... "filters": [...]]}; with
 * state, pending destinations carry "expires" and failing ones
 * "failing"/"last_error" (export leaves these out).
 */
json_t *ctl_show_user(sqlite3 *db, long long uid, int state);
/* Print ctl_show_user's result for a person. */
void ctl_show_user_text(const json_t *u);
/* A filter's rules as tokens, in order. */
json_t *ctl_show_rules(sqlite3 *db, long long filter_id);

#endif
