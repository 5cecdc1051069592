/*
 * The filters a new packager starts with: Fedora FMN's defaults
 * (fmn.lib.defaults, create_defaults_for), rule for rule; each rule
 * names the FMN rules it stands for, and docs/filters.md lists them and
 * the few places where fmn differs on purpose. Two are "anything about
 * me, except the noise": the exclusions are negated rules, so the
 * engine indexes each filter under its one positive rule (user: or
 * owned:) and looks at it only for messages about the user. The third
 * lets through the taskotron results the packages filter drops that an
 * owner must see.
 */
#include "fmn_defaults.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_rule.h"
#include "fmn_store.h"
#include "fmn_util.h"

/*
 * Noise, excluded from both broad filters: FMN's exclusion_mutual, the
 * koji_instance rule both its filters start with, and the catch-alls
 * that are in both of its other lists.
 */
static const char *const exclusion_mutual[] = {
	/* koji_instance(ppc,s390,arm): builds from the secondary-architecture
	 * koji hubs duplicate the primary ones. FMN compares the whole
	 * instance name. */
	"!field:/msg/instance~^(ppc|s390|arm)$",
	/* copr_build_start, copr_chroot_start, copr_worker_create: only
	 * finished copr builds are interesting. */
	"!topic-re:\\.copr\\.(build\\.start|chroot\\.start|worker\\.create)$",
	/* koji_build_started, koji_scratch_build_started: builds (state 0,
	 * BUILDING) and scratch tasks (OPEN) that just started; completions,
	 * failures and cancellations still come through. */
	"!field:/msg/new~^(0|OPEN)$",
	/* koji_tag, koji_untag, koji_repo_init, koji_repo_done,
	 * koji_package_list_change, koji_rpm_sign: koji's behind-the-scenes
	 * work, signatures imported en masse by the signing server included. */
	("!topic-re:\\.buildsys\\.(tag|untag|repo\\.init|repo\\.done|"
	    "package\\.list\\.change|rpm\\.sign)$"),
	/* anitya_catchall: neither one's own release-monitoring edits nor new
	 * upstream versions of one's packages (the-new-hotness files those
	 * where the packager asked for it). fedoratagger_catchall: in both
	 * of FMN's lists. summershum_catchall: the tarball indexer. */
	"!category:anitya,fedoratagger,summershum",
};

/*
 * Excluded from "Events on packages that I own" only (FMN's
 * exclusion_packages; its fedoratagger_catchall is shared, above).
 */
static const char *const exclusion_packages[] = {
	/* taskotron_result_new: the third filter keeps the results that
	 * matter. */
	"!topic:*.taskotron.result.new",
	/* git_pkgdb2branch_start, git_pkgdb2branch_complete: SCM admins'
	 * batch runs over many packages. */
	"!topic-re:\\.git\\.pkgdb2branch\\.(start|complete)$",
	/* faf_report_threshold1, faf_problem_threshold1: the first crash of a
	 * kind is the frequent, rarely useful one; higher thresholds come. */
	"!topic-re:\\.faf\\.(report|problem)\\.threshold1$",
	/* bodhi_masher_start: an admin starting a push. */
	"!topic:*.bodhi.masher.start",
	/* mdapi_repo_update: repository metadata changes, a flood for the
	 * rawhide repo (every environment's; FMN's own only, see the docs). */
	"!topic:*.mdapi.repo.update",
	/* ci_step_complete: CI steps that passed, "success" in any case as
	 * FMN lowercases it (the pipelines send both); failures still come. */
	"!field:/msg/status~(?i)^success$",
};

/*
 * Excluded from "Events referring to my username" only: what the user
 * does themselves, where a notification would only echo it (FMN's
 * exclusion_username), and two echoes of FMN's earlier defaults.
 */
static const char *const exclusion_username[] = {
	/* askbot_catchall, bugzilla_catchall, git_catchall, github_catchall,
	 * wiki_catchall, trac_catchall, fmn_catchall, meetbot_catchall,
	 * fedocal_catchall, pkgdb_catchall: whole categories, so that every
	 * topic shape of dist-git (git.lookaside.PKG.new) and all of GitHub
	 * count, and nothing of another service (pagure.git.receive) does. */
	"!category:askbot,bugzilla,git,github,wiki,trac,fmn,meetbot,fedocal,"
	    "pkgdb",
	/* bodhi_catchall, narrowed to what FMN excluded before it took all of
	 * bodhi: one's own update requests, buildroot overrides and push
	 * starts. Comments and karma about one's updates still come. */
	"!topic-re:\\.bodhi\\.(buildroot_override\\.(un)?tag|update\\.request\\."
	    "(stable|obsolete|testing|unpush|revoke)|(masher|mashtask)\\.start)$",
	/* fedbadges_person_first_login, fedbadges_person_rank_advance: keep
	 * the badge award itself. */
	"!topic-re:\\.fedbadges\\.person\\.(login\\.first|rank\\.advance)$",
	/* mailman_receive: one's own list mail arrives by mail anyway. */
	"!topic:*.mailman.receive",
	/* Not in FMN's final defaults, kept from its first ones
	 * (playbook_started, planet_post_new): a playbook run's start (its
	 * completion comes) and one's own blog post. */
	"!topic:*.ansible.playbook.start",
	"!topic:*.planet.post.new",
};

/*
 * "Critical taskotron tasks on my packages", after owned:NAME (FMN's
 * user_package_filter).
 */
static const char *const taskotron_critical[] = {
	/* taskotron_release_critical_task: a new result of a task whose
	 * failure the distribution must look at, by its exact name. */
	"topic:*.taskotron.result.new",
	"field:/msg/task/name~^dist\\.(abicheck|rpmdeplint)$",
	/* taskotron_task_particular_or_changed_outcome(outcome=FAILED): the
	 * outcome is FAILED (in any case, as FMN lowercases it), or there is
	 * a previous outcome and the new one differs. Rules are AND-ed, so the
	 * OR is one regex over the result object, whatever its key order:
	 * "outcome" with a quote before it is not "prev_outcome". */
	"field:/msg/result~\"outcome\":\"(?i:failed)\"|"
	    "^(?=.*\"outcome\":\"([^\"]*)\")"
	    "(?=.*\"prev_outcome\":\"(?!\\1\")[^\"]+\")",
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

/*
 * Add one filter at position pos: the leading rules, the extra ones and,
 * when shared is set, the exclusions both broad filters end with.
 */
static int
add_filter(sqlite3 *db, long long pid, int pos, const char *name,
    const char **lead, size_t nlead, const char *const *extra, size_t nextra,
    int shared, char **cause)
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
	for (i = 0; shared && i < FMN_NELEM(exclusion_mutual); i++)
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
	const char *lead_owned[] = { owned_rule };
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
	    "f WHERE f.preference_id = p.id AND f.name IN (?3, ?4, ?5)), "
	    "(SELECT coalesce(max(position), 0) + 1 FROM filters f WHERE "
	    "f.preference_id = p.id) FROM preferences p WHERE p.user_id = ?1 "
	    "AND p.context = ?2", cause);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, ctx, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, FMN_DEFAULT_USERNAME, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, FMN_DEFAULT_PACKAGES, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, FMN_DEFAULT_TASKOTRON, -1, SQLITE_STATIC);
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
		fmn_set_cause(cause, "%s already has a filter named \"%s\", "
		    "\"%s\" or \"%s\" in %s", nick, FMN_DEFAULT_USERNAME,
		    FMN_DEFAULT_PACKAGES, FMN_DEFAULT_TASKOTRON, ctx);
		goto out;
	}
	if (add_filter(db, pid, pos, FMN_DEFAULT_USERNAME, lead_user, 1,
	    exclusion_username, FMN_NELEM(exclusion_username), 1, cause) != 0 ||
	    add_filter(db, pid, pos + 1, FMN_DEFAULT_PACKAGES, lead_pkg, 2,
	    exclusion_packages, FMN_NELEM(exclusion_packages), 1, cause) != 0 ||
	    add_filter(db, pid, pos + 2, FMN_DEFAULT_TASKOTRON, lead_owned, 1,
	    taskotron_critical, FMN_NELEM(taskotron_critical), 0, cause) != 0)
		goto out;
	ret = 0;
out:
	free(user_rule);
	free(owned_rule);
	free(not_user);
	return ret;
}

