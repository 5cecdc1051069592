/*
 * One user's whole configuration as JSON, in the shape of `fmnctl
 * export` (DESIGN.md): what `user show --json` prints and what export
 * writes per user. The statements are prepared once per ctl_show, so
 * exporting ten thousand users does not prepare them ten thousand times.
 */
#ifndef FMN_CTL_SHOW_H
#define FMN_CTL_SHOW_H

#include <jansson.h>
#include <sqlite3.h>

struct ctl_show;

/* NULL with *cause when a statement does not prepare. */
struct ctl_show *ctl_show_new(sqlite3 *db, char **cause);
void ctl_show_free(struct ctl_show **sp);
/*
 * {"name", "destinations", "preferences": [... "filters": [...]]}; with
 * state, pending destinations carry "expires" and failing ones
 * "failing"/"last_error" (export leaves these out).
 */
json_t *ctl_show_user(struct ctl_show *s, long long uid, int state);
/* A filter's rules as tokens, in order. */
json_t *ctl_show_rules(struct ctl_show *s, long long filter_id);
/* Print ctl_show_user's result for a person. */
void ctl_show_user_text(const json_t *u);

#endif
