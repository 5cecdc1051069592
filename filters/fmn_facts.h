/*
 * The facts engine: definitions (data, not code) that map topic patterns
 * to usernames, packages, agent, link, subtitle and long form, and the
 * alias table that turns e-mail addresses and nicks into account names.
 */
#ifndef FMN_FACTS_H
#define FMN_FACTS_H

#include <sqlite3.h>
#include "fmn_msg.h"

struct fmn_aliases;
struct fmn_defs;

struct fmn_aliases *fmn_aliases_new(void);
void fmn_aliases_destroy(struct fmn_aliases **ap);
void fmn_aliases_add(struct fmn_aliases *a, const char *alias,
    const char *account);
/* The account for a name, or NULL when the name has no alias. */
const char *fmn_aliases_lookup(const struct fmn_aliases *a, const char *name);
/* Replace the contents with the aliases table of the database. */
int fmn_aliases_load(struct fmn_aliases *a, sqlite3 *db, char **cause);

/* The definitions shipped with fmn (compiled into the binary). */
struct fmn_defs *fmn_defs_new_builtin(char **cause);
/*
 * The shipped definitions plus, when extra_path is not NULL, a
 * deployment's file (the daemon's and fmnctl's usual set).
 */
struct fmn_defs *fmn_defs_new(const char *extra_path, char **cause);
/* Add a deployment's file; its definitions take precedence. */
int fmn_defs_load_file(struct fmn_defs *d, const char *path, char **cause);
void fmn_defs_destroy(struct fmn_defs **dp);

/* Derive m->facts once; never fails on odd bodies (empty facts instead). */
int fmn_facts_derive(const struct fmn_defs *d, const struct fmn_aliases *a,
    struct fmn_msg *m);
/*
 * Only the facts matching reads (usernames, packages, agent), for a
 * message that may never be shown; fmn_facts_derive completes them.
 */
int fmn_facts_derive_match(const struct fmn_defs *d,
    const struct fmn_aliases *a, struct fmn_msg *m);

#endif
