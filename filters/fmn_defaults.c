/*
 * The two filters a new packager starts with, in the spirit of Fedora
 * FMN's defaults (docs/filters.md says what each rule is for). Both are
 * "anything about me, except the noise"; the exclusions are negated
 * rules, so the engine indexes each filter under its one positive rule
 * (user: or owned:) and looks at it only for messages about the user.
 */
#include "fmn_defaults.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_util.h"

/* Noise, excluded from both filters. */
static const char *const exclusion_mutual[] = {
	/* Builds from the secondary-architecture koji hubs. */
	"!field:/msg/instance~^(ppc|s390|arm)",
	/* Ansible runs: keep the "completed" ones only. */
	"!topic:*.ansible.playbook.start",
	/* Q&A site housekeeping. */
	"!topic-re:\\.askbot\\.(post\\.(delete|edit|flag_offensive|"
	    "unflag_offensive)|tag\\.update)",
	/* Badges: keep the award, drop logins and rank changes. */
	"!topic-re:\\.fedbadges\\.person\\.(login\\.first|rank\\.advance)$",
	/* Copr: only finished builds are interesting. */
	"!topic-re:\\.copr\\.(build\\.start|chroot\\.start|worker\\.create)$",
	/* Koji: builds and scratch tasks that just started (BUILDING, OPEN);
	 * completions, failures and cancellations still come through. */
	"!field:/msg/new~^(0|OPEN)$",
	/* Koji behind-the-scenes work: tags, repos, package lists, and the
	 * signing server importing signatures en masse (FMN's koji_tag,
	 * koji_untag, koji_repo_init, koji_repo_done, koji_package_list_change,
	 * koji_rpm_sign). */
	"!topic-re:\\.buildsys\\.(tag|untag|repo\\.init|repo\\.done|"
	    "package\\.list\\.change|rpm\\.sign)$",
	/* Mailing lists arrive by mail anyway; blogs; the summershum indexer. */
	"!topic-re:\\.(mailman\\.receive|planet\\.post\\.new|"
	    "summershum\\.ingest\\.(start|complete|fail))$",
	/* Automated checks that passed: taskotron results, CI steps. */
	"!topic:*.taskotron.result.new",
	"!field:/msg/status=SUCCESS",
	/* Push, repo-metadata and crash-report threshold chatter. */
	"!topic-re:\\.bodhi\\.(masher|mashtask)\\.start$",
	"!topic:*.mdapi.repo.update",
	"!topic-re:\\.faf\\.(report|problem)\\.threshold1$",
};

/* What the user does themselves, on services where that is only an echo. */
static const char *const exclusion_username[] = {
	"!topic-re:\\.bodhi\\.(buildroot_override\\.(un)?tag|update\\.request\\."
	    "(stable|obsolete|testing|unpush|revoke))$",
	/* FMN's bugzilla_catchall, git_catchall, github_catchall,
	 * wiki_catchall, trac_catchall, fmn_catchall, meetbot_catchall,
	 * fedocal_catchall, pkgdb_catchall, fedoratagger_catchall and
	 * anitya_catchall: whole categories, so that every topic shape of
	 * dist-git (git.lookaside.PKG.new) and all of GitHub count, and
	 * nothing of another service (pagure.git.receive) does. */
	"!category:bugzilla,git,github,wiki,trac,fmn,meetbot,fedocal,pkgdb,"
	    "fedoratagger,anitya",
};

static int
add_rule(sqlite3_stmt *ins, long long fid, int pos, const char *token,
    char **cause)
{
	struct fmn_rule_spec spec;

	if (fmn_rule_parse(token, &spec, cause) != 0)
		return -1;
	sqlite3_reset(ins);
	sqlite3_bind_int64(ins, 1, fid);
	sqlite3_bind_int(ins, 2, pos);
	sqlite3_bind_text(ins, 3, fmn_rule_kind_name(spec.kind), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(ins, 4, spec.argument, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(ins, 5, spec.negated);
	fmn_rule_spec_clear(&spec);
	if (sqlite3_step(ins) != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s",
		    sqlite3_errmsg(sqlite3_db_handle(ins)));
		return -1;
	}
	return 0;
}

/* Add one filter at position pos with the given leading rules. */
static int
add_filter(sqlite3 *db, long long pid, int pos, const char *name,
    const char **lead, size_t nlead, const char *const *extra, size_t nextra,
    char **cause)
{
	sqlite3_stmt *fst, *rst;
	long long fid;
	size_t i;
	int rpos = 0, ret = -1;

	fst = fmn_store_prepare(db, "INSERT INTO filters (preference_id, name, "
	    "position) VALUES (?, ?, ?)", cause);
	rst = fmn_store_prepare(db, "INSERT INTO rules (filter_id, position, "
	    "kind, argument, negated) VALUES (?, ?, ?, ?, ?)", cause);
	if (fst == NULL || rst == NULL)
		goto out;
	sqlite3_bind_int64(fst, 1, pid);
	sqlite3_bind_text(fst, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(fst, 3, pos);
	if (sqlite3_step(fst) != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		goto out;
	}
	fid = sqlite3_last_insert_rowid(db);
	for (i = 0; i < nlead; i++)
		if (add_rule(rst, fid, rpos++, lead[i], cause) != 0)
			goto out;
	for (i = 0; i < nextra; i++)
		if (add_rule(rst, fid, rpos++, extra[i], cause) != 0)
			goto out;
	for (i = 0; i < FMN_NELEM(exclusion_mutual); i++)
		if (add_rule(rst, fid, rpos++, exclusion_mutual[i], cause) != 0)
			goto out;
	ret = 0;
out:
	sqlite3_finalize(fst);
	sqlite3_finalize(rst);
	return ret;
}

int
fmn_defaults_store(sqlite3 *db, long long uid, const char *nick, const char *ctx,
    char **cause)
{
	sqlite3_stmt *st;
	long long pid = -1;
	int pos = 0, exists = 0;
	char *user_rule = xasprintf("user:%s", nick);
	char *owned_rule = xasprintf("owned:%s", nick);
	char *not_user = xasprintf("!user:%s", nick);
	const char *lead_user[] = { user_rule };
	const char *lead_pkg[] = { owned_rule, not_user };
	int ret = -1;

	st = fmn_store_prepare(db, "INSERT OR IGNORE INTO preferences "
	    "(user_id, context, enabled) VALUES (?, ?, 1)", cause);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		fmn_set_cause(cause, "database: %s", sqlite3_errmsg(db));
		sqlite3_finalize(st);
		goto out;
	}
	sqlite3_finalize(st);
	st = fmn_store_prepare(db, "SELECT p.id, (SELECT count(*) FROM filters "
	    "f WHERE f.preference_id = p.id AND f.name IN (?3, ?4)), "
	    "(SELECT coalesce(max(position), 0) + 1 FROM filters f WHERE "
	    "f.preference_id = p.id) FROM preferences p WHERE p.user_id = ?1 "
	    "AND p.context = ?2", cause);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, FMN_DEFAULT_USERNAME, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, FMN_DEFAULT_PACKAGES, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		pid = sqlite3_column_int64(st, 0);
		exists = sqlite3_column_int(st, 1);
		pos = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (pid < 0) {
		fmn_set_cause(cause, "no preference for context \"%s\"", ctx);
		goto out;
	}
	if (exists) {
		fmn_set_cause(cause, "%s already has a filter named \"%s\" or "
		    "\"%s\" in %s", nick, FMN_DEFAULT_USERNAME, FMN_DEFAULT_PACKAGES, ctx);
		goto out;
	}
	if (add_filter(db, pid, pos, FMN_DEFAULT_USERNAME, lead_user, 1,
	    exclusion_username, FMN_NELEM(exclusion_username), cause) != 0 ||
	    add_filter(db, pid, pos + 1, FMN_DEFAULT_PACKAGES, lead_pkg, 2, NULL, 0,
	    cause) != 0)
		goto out;
	ret = 0;
out:
	free(user_rule);
	free(owned_rule);
	free(not_user);
	return ret;
}

