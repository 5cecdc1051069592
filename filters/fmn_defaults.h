/*
 * Default filters for a new user, FMN's: "Events referring to my
 * username" and "Events on packages that I own", each with its
 * exclusions, and "Critical taskotron tasks on my packages".
 */
#ifndef FMN_DEFAULTS_H
#define FMN_DEFAULTS_H

#include <sqlite3.h>

#define FMN_DEFAULT_USERNAME	"Events referring to my username"
#define FMN_DEFAULT_PACKAGES	"Events on packages that I own"
#define FMN_DEFAULT_TASKOTRON	"Critical taskotron tasks on my packages"

/*
 * Create the preference of user uid (account nick) for context ctx if
 * missing (enabled, unbatched) and append the three default filters;
 * refuses when a filter of one of those names exists. The caller holds a
 * transaction.
 */
int fmn_defaults_store(sqlite3 *db, long long uid, const char *nick,
    const char *ctx, char **cause);

#endif
