/*
 * Ownership tables in memory: package -> owners (accounts and groups),
 * group -> members, and member -> groups for the group: index.
 */
#include "fmn_owners.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_hmap.h"
#include "fmn_util.h"

/* A small list of names; owners of one package are few. */
struct names {
	char	**v;
	size_t	  n;
	size_t	  cap;
};

struct pkg_owners {
	struct names	users;
	struct names	groups;
};

struct fmn_owners {
	struct fmn_hmap	pkgs;		/* package -> struct pkg_owners */
	struct fmn_hmap	members;	/* group -> struct fmn_hmap of members (val 1) */
	struct fmn_hmap	groups_of;	/* member -> struct names of groups */
	/*
	 * Owner names, each kept once: a name owns many packages (20 each
	 * for 100,000 people are 2 million entries). pkg_owners' lists
	 * point here.
	 */
	struct fmn_hmap	owner_names;	/* name -> its one copy */
};

/* The one copy of an owner's name. */
static char *
owner_name(struct fmn_owners *o, const char *s)
{
	void **slot = fmn_hmap_put(&o->owner_names, s);

	if (*slot == NULL)
		*slot = xstrdup(s);
	return *slot;
}

/* Add an owner's name (interned) unless one of l's first n has it. */
static void
owners_add(struct names *l, char *name, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (l->v[i] == name)
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = name;
}

static void
names_add(struct names *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = xstrdup(s);
}

static int
names_has(const struct names *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], s) == 0)
			return 1;
	return 0;
}

static void
names_free(void *p)
{
	struct names *l = p;
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l);
}

/* The names are the owners' (owner_names). */
static void
pkg_free(void *p)
{
	struct pkg_owners *po = p;

	free(po->users.v);
	free(po->groups.v);
	free(po);
}

static void
members_free(void *p)
{
	fmn_hmap_clear(p, NULL);
	free(p);
}

struct fmn_owners *
fmn_owners_new(void)
{
	return xcalloc(1, sizeof(struct fmn_owners));
}

void
fmn_owners_reset(struct fmn_owners *o)
{
	fmn_hmap_clear(&o->pkgs, pkg_free);
	fmn_hmap_clear(&o->members, members_free);
	fmn_hmap_clear(&o->groups_of, names_free);
	fmn_hmap_clear(&o->owner_names, free);
}

void
fmn_owners_destroy(struct fmn_owners **op)
{
	if (*op == NULL)
		return;
	fmn_owners_reset(*op);
	free(*op);
	*op = NULL;
}

void
fmn_owners_add(struct fmn_owners *o, const char *package, const char *owner,
    int is_group)
{
	void **slot = fmn_hmap_put(&o->pkgs, package);
	struct pkg_owners *po;
	struct names *l;

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct pkg_owners));
	po = *slot;
	l = is_group ? &po->groups : &po->users;
	owners_add(l, owner_name(o, owner), l->n);
}

void
fmn_owners_add_member(struct fmn_owners *o, const char *group,
    const char *member)
{
	void **slot = fmn_hmap_put(&o->members, group);

	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct fmn_hmap));
	*fmn_hmap_put(*slot, member) = (void *)1;
	slot = fmn_hmap_put(&o->groups_of, member);
	if (*slot == NULL)
		*slot = xcalloc(1, sizeof(struct names));
	names_add(*slot, group);
}

int
fmn_owners_load(struct fmn_owners *o, sqlite3 *db, char **cause)
{
	sqlite3_stmt *st = NULL;
	int rc;

	struct pkg_owners *po = NULL;
	size_t before[2] = { 0, 0 };
	struct fmn_buf at;

	fmn_owners_reset(o);
	fmn_buf_init(&at);
	/*
	 * In the key's order, no sorting: a namespace's rows are distinct;
	 * a package's owners in an earlier namespace are the only ones an
	 * owner may repeat (before), so the lists are not searched whole.
	 */
	if (sqlite3_prepare_v2(db, "SELECT namespace, package, owner, is_group "
	    "FROM owners ORDER BY namespace, package", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *ns = (const char *)sqlite3_column_text(st, 0);
		const char *pkg = (const char *)sqlite3_column_text(st, 1);
		const char *own = (const char *)sqlite3_column_text(st, 2);
		int grp = sqlite3_column_int(st, 3) != 0;

		if (ns == NULL || pkg == NULL || own == NULL)
			continue;
		if (po == NULL || at.data == NULL || strcmp(at.data, ns) != 0 ||
		    strcmp(at.data + strlen(ns) + 1, pkg) != 0) {
			void **slot = fmn_hmap_put(&o->pkgs, pkg);

			if (*slot == NULL)
				*slot = xcalloc(1, sizeof(struct pkg_owners));
			po = *slot;
			before[0] = po->users.n;
			before[1] = po->groups.n;
			fmn_buf_reset(&at);
			fmn_buf_add(&at, ns, strlen(ns) + 1);
			fmn_buf_add(&at, pkg, strlen(pkg) + 1);
		}
		owners_add(grp ? &po->groups : &po->users, owner_name(o, own),
		    before[grp]);
	}
	fmn_buf_free(&at);
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	if (sqlite3_prepare_v2(db, "SELECT grp, member FROM group_members",
	    -1, &st, NULL) != SQLITE_OK)
		goto fail;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *g = (const char *)sqlite3_column_text(st, 0);
		const char *mem = (const char *)sqlite3_column_text(st, 1);

		if (g != NULL && mem != NULL)
			fmn_owners_add_member(o, g, mem);
	}
	if (rc != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	return 0;
fail:
	fmn_set_cause(cause, "loading owners and groups: %s", sqlite3_errmsg(db));
	fmn_buf_free(&at);
	sqlite3_finalize(st);
	return -1;
}

int
fmn_owners_is_member(const struct fmn_owners *o, const char *group,
    const char *name)
{
	const struct fmn_hmap *mem = fmn_hmap_get(&o->members, group);

	return mem != NULL && fmn_hmap_get(mem, name) != NULL;
}

int
fmn_owners_owns(const struct fmn_owners *o, const char *package,
    const char *name)
{
	const struct pkg_owners *po = fmn_hmap_get(&o->pkgs, package);
	size_t i;

	if (po == NULL)
		return 0;
	if (names_has(&po->users, name))
		return 1;
	for (i = 0; i < po->groups.n; i++)
		if (fmn_owners_is_member(o, po->groups.v[i], name))
			return 1;
	return 0;
}

void
fmn_owners_foreach_owner(const struct fmn_owners *o, const char *package,
    void (*fn)(void *, const char *), void *arg)
{
	const struct pkg_owners *po = fmn_hmap_get(&o->pkgs, package);
	const struct fmn_hmap *mem;
	const char *name;
	size_t i, j;

	if (po == NULL)
		return;
	for (i = 0; i < po->users.n; i++)
		fn(arg, po->users.v[i]);
	for (i = 0; i < po->groups.n; i++) {
		if ((mem = fmn_hmap_get(&o->members, po->groups.v[i])) == NULL)
			continue;
		for (j = 0; fmn_hmap_next(mem, &j, &name, NULL); )
			fn(arg, name);
	}
}

void
fmn_owners_foreach_group(const struct fmn_owners *o, const char *name,
    void (*fn)(void *, const char *), void *arg)
{
	const struct names *l = fmn_hmap_get(&o->groups_of, name);
	size_t i;

	if (l == NULL)
		return;
	for (i = 0; i < l->n; i++)
		fn(arg, l->v[i]);
}
