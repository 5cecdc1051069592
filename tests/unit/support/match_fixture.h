/*
 * What the filter engine's tests share: a temporary database with users,
 * destinations, preferences and filters made in a line each, messages
 * from the real corpus, and recipients as one comparable string.
 */
#ifndef MATCH_FIXTURE_H
#define MATCH_FIXTURE_H

#include <sqlite3.h>

#include "fmn_match.h"
#include "fmn_msg.h"

extern char fixture_db_path[64];

sqlite3 *db_new(void);
void db_done(sqlite3 *db);
void sql(sqlite3 *db, const char *q);
long long add_user(sqlite3 *db, const char *name);
long long add_dest(sqlite3 *db, long long uid, const char *ctx, const char *addr,
    int confirmed, int failing);
long long add_pref(sqlite3 *db, long long uid, const char *ctx, int enabled);
long long add_filter(sqlite3 *db, long long pid, const char *name, int pos, int active,
    const char *rules);
void add_owner(sqlite3 *db, const char *pkg, const char *owner, int is_group);
void add_member(sqlite3 *db, const char *grp, const char *member);
void add_list(struct fmn_strset *s, const char *list);
struct fmn_msg *mkmsg(const char *topic, const char *body, const char *users,
    const char *pkgs, const char *agent);
char *recipients_str(const struct fmn_recipients *r);
char *match_str(struct fmn_engine *e, struct fmn_msg *m);
struct fmn_engine *engine_for(sqlite3 *db);

#endif
