/*
 * Filters the engine found over the regex budget (fmn_match.h), marked
 * broken in the database so that the mark outlives a restart and people
 * can see it (fmnctl filter list, status).
 */
#ifndef FMN_BROKEN_H
#define FMN_BROKEN_H

#include <sqlite3.h>

#include "fmn_counters.h"
#include "fmn_match.h"

/*
 * Take what the engine found since the last call and mark it, with its
 * reason and the time, inside the caller's transaction: the mark commits
 * with the messages that earned it, and the filters trigger makes the
 * daemon recompile the user. Logs one warning per filter marked. Returns
 * how many were marked, or -1 after logging a database error.
 */
int fmn_broken_record(struct fmn_engine *e, sqlite3 *db,
    struct fmn_counters *counters);

#endif
