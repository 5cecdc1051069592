/*
 * One user's whole configuration as JSON, in the shape of `fmnctl
 * export` (DESIGN.md): what `user show --json` prints, what the API's
 * GET /api/v1/users/USER answers, and what export writes per user. The
 * statements are prepared once per fmn_show, so exporting ten thousand
 * users does not prepare them ten thousand times.
 */
#ifndef FMN_SHOW_H
#define FMN_SHOW_H

#include <jansson.h>
#include <sqlite3.h>

struct fmn_show;

/* NULL with *cause when a statement does not prepare. */
struct fmn_show *fmn_show_new(sqlite3 *db, char **cause);
void fmn_show_free(struct fmn_show **sp);
/*
 * {"name", "destinations", "preferences": [... "filters": [...]]}; with
 * state, pending destinations carry "expires", failing ones
 * "failing"/"last_error", and broken filters "broken" (export leaves
 * these out: they are this installation's judgement, not configuration).
 */
json_t *fmn_show_user(struct fmn_show *s, long long uid, int state);
/* A filter's rules as tokens, in order. */
json_t *fmn_show_rules(struct fmn_show *s, long long filter_id);
/*
 * A filter's broken mark, read from columns col (filters.broken) and
 * col + 1 (broken_since) of st: {"reason", "since"}, or JSON null.
 */
json_t *fmn_show_broken(sqlite3_stmt *st, int col);

#endif
