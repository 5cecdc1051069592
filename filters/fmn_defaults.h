/*
 * Default filters for a new user: "Events referring to my username" and
 * "Events on packages that I own", each with FMN's exclusions.
 */
#ifndef FMN_DEFAULTS_H
#define FMN_DEFAULTS_H

#include <sqlite3.h>

#define FMN_DEFAULT_USERNAME	"Events referring to my username"
#define FMN_DEFAULT_PACKAGES	"Events on packages that I own"

/*
 * Create the preference of user uid (account nick) for context ctx if
 * missing (enabled, unbatched) and append the two default filters;
 * refuses when filters of those names exist. The caller holds a
 * transaction.
 */
int fmn_defaults_store(sqlite3 *db, long long uid, const char *nick,
    const char *ctx, char **cause);

#endif
