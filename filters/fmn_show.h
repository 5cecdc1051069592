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
 * state, pending destinations carry "expires", failing ones
 * "failing"/"last_error", and broken filters "broken" (export leaves
 * these out: they are this installation's judgement, not configuration).
 */
json_t *ctl_show_user(struct ctl_show *s, long long uid, int state);
/* A filter's rules as tokens, in order. */
json_t *ctl_show_rules(struct ctl_show *s, long long filter_id);
/*
 * A filter's broken mark, read from columns col (filters.broken) and
 * col + 1 (broken_since) of st: {"reason", "since"}, or JSON null.
 */
json_t *ctl_show_broken(sqlite3_stmt *st, int col);
/* A time for a person: "2026-11-28 12:00:00 UTC". */
void ctl_show_time(char *buf, size_t len, double t);
/* Print ctl_show_user's result for a person. */
void ctl_show_user_text(const json_t *u);

#endif
