/*
 * The alias table: a name seen on the bus (an e-mail address, an IRC
 * nick, an old account name) mapped to the account it belongs to.
 * Loaded from the database's aliases table; looked up for every name
 * the facts engine finds, so it is a hash map. E-mail addresses are
 * also tried lower-cased, since their case carries no meaning.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_facts.h"
#include "fmn_hmap.h"
#include "fmn_util.h"

struct fmn_aliases {
	struct fmn_hmap *map;		/* alias -> account (owned strings) */
};

struct fmn_aliases *
fmn_aliases_new(void)
{
	struct fmn_aliases *a = xcalloc(1, sizeof(*a));

	a->map = fmn_hmap_new();
	return a;
}

void
fmn_aliases_destroy(struct fmn_aliases **ap)
{
	struct fmn_aliases *a = *ap;

	if (a == NULL)
		return;
	fmn_hmap_destroy(&a->map, free);
	free(a);
	*ap = NULL;
}

void
fmn_aliases_add(struct fmn_aliases *a, const char *alias, const char *account)
{
	free(fmn_hmap_set(a->map, alias, xstrdup(account)));
}

const char *
fmn_aliases_lookup(const struct fmn_aliases *a, const char *name)
{
	const char *acct;
	char buf[256];
	size_t i, n;

	if (a == NULL || name == NULL)
		return NULL;
	if ((acct = fmn_hmap_get(a->map, name)) != NULL)
		return acct;
	n = strlen(name);
	if (strchr(name, '@') == NULL || n >= sizeof(buf))
		return NULL;
	for (i = 0; i <= n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	if (strcmp(buf, name) == 0)
		return NULL;
	return fmn_hmap_get(a->map, buf);
}

int
fmn_aliases_load(struct fmn_aliases *a, sqlite3 *db, char **cause)
{
	struct fmn_hmap *map;
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(db, "SELECT alias, account FROM aliases", -1,
	    &st, NULL) != SQLITE_OK) {
		fmn_set_cause(cause, "aliases: %s", sqlite3_errmsg(db));
		return -1;
	}
	map = fmn_hmap_new();
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *alias = (const char *)sqlite3_column_text(st, 0);
		const char *acct = (const char *)sqlite3_column_text(st, 1);

		if (alias != NULL && acct != NULL)
			free(fmn_hmap_set(map, alias, xstrdup(acct)));
	}
	if (rc != SQLITE_DONE) {
		fmn_set_cause(cause, "aliases: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		fmn_hmap_destroy(&map, free);
		return -1;
	}
	sqlite3_finalize(st);
	fmn_hmap_destroy(&a->map, free);
	a->map = map;
	return 0;
}
