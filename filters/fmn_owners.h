/*
 * Package ownership and group membership, as the owned: and group: rules
 * and the filter engine's owner index see them. Owners of every namespace
 * (rpms, modules, ...) count alike.
 */
#ifndef FMN_OWNERS_H
#define FMN_OWNERS_H

#include <sqlite3.h>

struct fmn_owners;

struct fmn_owners *fmn_owners_new(void);
void fmn_owners_destroy(struct fmn_owners **op);
/* Forget everything. */
void fmn_owners_reset(struct fmn_owners *o);
void fmn_owners_add(struct fmn_owners *o, const char *package,
    const char *owner, int is_group);
void fmn_owners_add_member(struct fmn_owners *o, const char *group,
    const char *member);
/* Replace the contents with the owners and group_members tables. */
int fmn_owners_load(struct fmn_owners *o, sqlite3 *db, char **cause);

/* Is name an owner of package, directly or through a group it is in? */
int fmn_owners_owns(const struct fmn_owners *o, const char *package,
    const char *name);
/* Is name a member of group? */
int fmn_owners_is_member(const struct fmn_owners *o, const char *group,
    const char *name);
/* Call fn for every account that owns package (directly or by group). */
void fmn_owners_foreach_owner(const struct fmn_owners *o, const char *package,
    void (*fn)(void *arg, const char *name), void *arg);
/* Call fn for every group name is a member of. */
void fmn_owners_foreach_group(const struct fmn_owners *o, const char *name,
    void (*fn)(void *arg, const char *group), void *arg);

#endif
