/*
 * Recording broken filters: the engine stops trying a filter as soon as
 * it finds it over budget; this writes why and since when on its row, so
 * that a restart or a recompile of the user keeps skipping it until
 * `fmnctl filter enable` clears the mark.
 */
#include "fmn_broken.h"

#include <stdlib.h>

#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

int
fmn_broken_record(struct fmn_engine *e, sqlite3 *db,
    struct fmn_counters *counters)
{
	struct fmn_broken *v;
	sqlite3_stmt *st;
	char *cause = NULL;
	size_t i, n;
	int marked = 0, rc;
	double now = fmn_now();

	if ((n = fmn_engine_take_broken(e, &v)) == 0)
		return 0;
	/* A mark already there (from another daemon's run) is kept as is. */
	st = fmn_store_prepare(db, "UPDATE filters SET broken = ?, "
	    "broken_since = ? WHERE id = ? AND broken IS NULL", &cause);
	if (st == NULL) {
		log_err("broken filters: %s", cause);
		free(cause);
		fmn_engine_broken_free(v, n);
		return -1;
	}
	for (i = 0; i < n; i++) {
		sqlite3_bind_text(st, 1, v[i].reason, -1, SQLITE_STATIC);
		sqlite3_bind_double(st, 2, now);
		sqlite3_bind_int64(st, 3, v[i].filter_id);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc != SQLITE_DONE) {
			log_err("broken filters: %s", sqlite3_errmsg(db));
			marked = -1;
			break;
		}
		if (sqlite3_changes(db) == 0)
			continue;	/* removed or marked meanwhile */
		marked++;
		log_warn("user %s, %s filter \"%s\" is marked broken and no "
		    "longer evaluated: %s (fmnctl filter enable clears the "
		    "mark)", v[i].user, v[i].context, v[i].filter,
		    v[i].reason);
	}
	sqlite3_finalize(st);
	if (marked > 0)
		fmn_counters_add(counters, FMN_C_FILTERS_BROKEN, marked);
	fmn_engine_broken_free(v, n);
	return marked;
}
