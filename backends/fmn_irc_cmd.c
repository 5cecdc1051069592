/*
 * The IRC bot's commands (see fmn_irc_cmd.h). Every statement binds its
 * parameters; nothing the sender types reaches SQL text.
 */
#include "fmn_irc_cmd.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fmn_util.h"

#define CMD_MAX_FILTERS	20	/* "list filters" shows this many per account */

/* One line, whatever the command: a stranger learns nothing of who uses fmn. */
#define REFUSAL	"Sorry, I only take commands from nicks registered with fmn."
static const char confirm_failed[] =
    "That confirmation code is not valid for this nick, or it has expired.";

/* An IRC destination whose address is the sender's nick. */
struct owner {
	long long	 user_id;
	char		*user;
	long long	 dest_id;
	int		 confirmed;
	char		*secret;	/* NULL once confirmed */
	double		 expires;	/* 0: none */
};

struct owners {
	struct owner	*v;
	size_t		 n, cap;
};

static void
owners_free(struct owners *o)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		free(o->v[i].user);
		free(o->v[i].secret);
	}
	free(o->v);
}

static int
db_fail(sqlite3 *db, sqlite3_stmt *st, char **cause)
{
	fmn_set_cause(cause, "irc commands: %s", sqlite3_errmsg(db));
	sqlite3_finalize(st);
	return -1;
}

static int
find_owners(sqlite3 *db, enum fmn_irc_casemap cm, const char *nick,
    struct owners *o, char **cause)
{
	sqlite3_stmt *st = NULL;
	int rc;

	/* Length first: case mapping never changes it; then IRC folding in C. */
	if (sqlite3_prepare_v2(db,
	    "SELECT d.user_id, u.name, d.id, d.confirmed, d.secret, d.expires, "
	    "d.address FROM destinations d JOIN users u ON u.id = d.user_id "
	    "WHERE d.context = 'irc' AND length(d.address) = length(?1) "
	    "ORDER BY u.name, d.id", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, st, cause);
	sqlite3_bind_text(st, 1, nick, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 6);
		const char *user = (const char *)sqlite3_column_text(st, 1);
		const char *secret = (const char *)sqlite3_column_text(st, 4);
		struct owner *w;

		if (addr == NULL || user == NULL ||
		    fmn_irc_casecmp(addr, nick, cm) != 0)
			continue;
		if (o->n == o->cap) {
			o->cap = o->cap ? o->cap * 2 : 4;
			o->v = xreallocarray(o->v, o->cap, sizeof(*o->v));
		}
		w = &o->v[o->n++];
		w->user_id = sqlite3_column_int64(st, 0);
		w->user = xstrdup(user);
		w->dest_id = sqlite3_column_int64(st, 2);
		w->confirmed = sqlite3_column_int(st, 3) != 0;
		w->secret = secret != NULL ? xstrdup(secret) : NULL;
		w->expires = sqlite3_column_type(st, 5) == SQLITE_NULL ? 0 :
		    sqlite3_column_double(st, 5);
	}
	if (rc != SQLITE_DONE)
		return db_fail(db, st, cause);
	sqlite3_finalize(st);
	return 0;
}

/* Has an earlier confirmed owner the same account? (one reply per account) */
static int
owner_seen(const struct owners *o, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++) {
		if (o->v[j].confirmed && o->v[j].user_id == o->v[i].user_id)
			return 1;
	}
	return 0;
}

/*
 * How a stranger gets started, in the one line of the refusal, the same
 * for every nick: with fmnd's API (base_url), from their own machine;
 * else through an admin.
 */
static void
cmd_refuse(const char *base_url, struct fmn_irc_lines *reply)
{
	if (base_url != NULL && *base_url != '\0')
		fmn_irc_lines_take(reply, xasprintf(REFUSAL " To start: get a "
		    "token (%s says how), then run fmnctl --server %s dest add "
		    "YOURNAME irc YOURNICK, and confirm the code I send.",
		    base_url, base_url));
	else
		fmn_irc_lines_add(reply, REFUSAL " To start, ask an admin of "
		    "fmn to add your nick as your IRC destination (fmnctl dest "
		    "add YOURNAME irc YOURNICK), then confirm the code I send.");
}

static int
cmd_help(const char *base_url, struct fmn_irc_lines *reply)
{
	fmn_irc_lines_add(reply, "I send fmn notifications. Commands:");
	fmn_irc_lines_add(reply, "help: this text. stop: pause your IRC "
	    "notifications. start: resume them.");
	fmn_irc_lines_add(reply, "list filters: what you are subscribed to. "
	    "confirm CODE: confirm this nick as a destination.");
	if (base_url != NULL && *base_url != '\0')
		fmn_irc_lines_take(reply, xasprintf("Your filters and "
		    "destinations: fmnctl --server %s (%s says how).", base_url,
		    base_url));
	return 0;
}

static int
cmd_enable(sqlite3 *db, const struct owners *o, int enable,
    struct fmn_irc_lines *reply, char **cause)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	if (sqlite3_prepare_v2(db, "UPDATE preferences SET enabled = ?1 "
	    "WHERE user_id = ?2 AND context = 'irc'", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, st, cause);
	for (i = 0; i < o->n; i++) {
		if (!o->v[i].confirmed || owner_seen(o, i))
			continue;
		sqlite3_reset(st);
		sqlite3_bind_int(st, 1, enable);
		sqlite3_bind_int64(st, 2, o->v[i].user_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(db, st, cause);
		if (sqlite3_changes(db) == 0)
			fmn_irc_lines_take(reply, xasprintf("%s has no IRC "
			    "preference yet; set one up with fmnctl.",
			    o->v[i].user));
		else if (enable)
			fmn_irc_lines_take(reply, xasprintf("IRC notifications "
			    "for %s are on again.", o->v[i].user));
		else
			fmn_irc_lines_take(reply, xasprintf("IRC notifications "
			    "for %s are stopped. Say \"start\" to resume them.",
			    o->v[i].user));
	}
	sqlite3_finalize(st);
	return 0;
}

static int
list_one(sqlite3 *db, const struct owner *w, struct fmn_irc_lines *reply,
    char **cause)
{
	sqlite3_stmt *st = NULL, *rs = NULL;
	struct fmn_buf b;
	int rc, enabled = -1, shown = 0, more = 0;

	if (sqlite3_prepare_v2(db, "SELECT enabled FROM preferences "
	    "WHERE user_id = ?1 AND context = 'irc'", -1, &st, NULL) != SQLITE_OK)
		return db_fail(db, st, cause);
	sqlite3_bind_int64(st, 1, w->user_id);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		enabled = sqlite3_column_int(st, 0);
	else if (rc != SQLITE_DONE)
		return db_fail(db, st, cause);
	sqlite3_finalize(st);
	st = NULL;
	if (enabled < 0) {
		fmn_irc_lines_take(reply, xasprintf("%s has no IRC preference "
		    "yet; set one up with fmnctl.", w->user));
		return 0;
	}

	if (sqlite3_prepare_v2(db, "SELECT f.id, f.name, f.active, f.oneshot "
	    "FROM filters f JOIN preferences p ON p.id = f.preference_id "
	    "WHERE p.user_id = ?1 AND p.context = 'irc' "
	    "ORDER BY f.position, f.id", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(db, "SELECT kind, argument, negated FROM rules "
	    "WHERE filter_id = ?1 ORDER BY position, id", -1, &rs,
	    NULL) != SQLITE_OK) {
		sqlite3_finalize(rs);
		return db_fail(db, st, cause);
	}
	sqlite3_bind_int64(st, 1, w->user_id);
	fmn_irc_lines_take(reply, xasprintf("IRC filters of %s%s:", w->user,
	    enabled ? "" : " (notifications stopped; say \"start\")"));
	fmn_buf_init(&b);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (shown == CMD_MAX_FILTERS) {
			more++;
			continue;
		}
		fmn_buf_reset(&b);
		fmn_buf_printf(&b, "%d. %s:", ++shown, name ? name : "?");
		sqlite3_reset(rs);
		sqlite3_bind_int64(rs, 1, sqlite3_column_int64(st, 0));
		while ((rc = sqlite3_step(rs)) == SQLITE_ROW) {
			const char *kind = (const char *)sqlite3_column_text(rs, 0);
			const char *arg = (const char *)sqlite3_column_text(rs, 1);

			fmn_buf_printf(&b, " %s%s:%s",
			    sqlite3_column_int(rs, 2) ? "!" : "",
			    kind ? kind : "?", arg ? arg : "");
		}
		if (rc != SQLITE_DONE)
			break;
		if (!sqlite3_column_int(st, 2))
			fmn_buf_adds(&b, " (inactive)");
		if (sqlite3_column_int(st, 3))
			fmn_buf_adds(&b, " (once)");
		fmn_irc_lines_add(reply, b.data);
	}
	fmn_buf_free(&b);
	if (rc != SQLITE_DONE) {
		sqlite3_finalize(rs);
		return db_fail(db, st, cause);
	}
	if (shown == 0)
		fmn_irc_lines_add(reply, "(no filters: nothing is sent to IRC)");
	if (more > 0)
		fmn_irc_lines_take(reply, xasprintf("and %d more", more));
	sqlite3_finalize(rs);
	sqlite3_finalize(st);
	return 0;
}

static int
cmd_list(sqlite3 *db, const struct owners *o, struct fmn_irc_lines *reply,
    char **cause)
{
	size_t i;

	for (i = 0; i < o->n; i++) {
		if (!o->v[i].confirmed || owner_seen(o, i))
			continue;
		if (list_one(db, &o->v[i], reply, cause) != 0)
			return -1;
	}
	return 0;
}

/* Compare secrets in time that does not depend on where they differ. */
static int
secret_equal(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i;
	unsigned char d = la != lb;

	for (i = 0; i < la; i++)
		d |= (unsigned char)a[i] ^ (unsigned char)b[i % (lb ? lb : 1)];
	return lb > 0 && d == 0;
}

/* Sets *done when a pending destination was confirmed. */
static int
cmd_confirm(sqlite3 *db, const struct owners *o, const char *secret,
    double now, struct fmn_irc_lines *reply, int *done, char **cause)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	for (i = 0; i < o->n; i++) {
		const struct owner *w = &o->v[i];

		if (w->confirmed || w->secret == NULL || *secret == '\0' ||
		    !secret_equal(w->secret, secret) ||
		    (w->expires > 0 && w->expires <= now))
			continue;
		if (sqlite3_prepare_v2(db, "UPDATE destinations SET "
		    "confirmed = 1, secret = NULL, expires = NULL "
		    "WHERE id = ?1 AND confirmed = 0", -1, &st,
		    NULL) != SQLITE_OK)
			return db_fail(db, st, cause);
		sqlite3_bind_int64(st, 1, w->dest_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			return db_fail(db, st, cause);
		sqlite3_finalize(st);
		fmn_irc_lines_take(reply, xasprintf("Confirmed: fmn will send "
		    "notifications for %s to this nick. Say \"help\" for "
		    "what I understand.", w->user));
		*done = 1;
		return 0;
	}
	fmn_irc_lines_add(reply, confirm_failed);
	return 0;
}

int
fmn_irc_cmd_handle(sqlite3 *db, enum fmn_irc_casemap cm, const char *nick,
    const char *text, const char *base_url, double now,
    struct fmn_irc_lines *reply, enum fmn_irc_cmd_who *who, char **cause)
{
	struct owners o = { NULL, 0, 0 };
	struct fmn_buf clean;
	char *p, *word, *arg;
	size_t i;
	int rc = 0, owner = 0, confirmed = 0;

	*who = FMN_IRC_CMD_STRANGER;
	fmn_buf_init(&clean);
	fmn_irc_sanitize(&clean, text);
	fmn_buf_addc(&clean, '\0');
	p = clean.data;
	while (*p == ' ')
		p++;
	word = p;
	while (*p != '\0' && *p != ' ')
		p++;
	if (*p != '\0')
		*p++ = '\0';
	while (*p == ' ')
		p++;
	arg = p;
	for (p = arg + strlen(arg); p > arg && p[-1] == ' ';)
		*--p = '\0';
	for (p = word; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');

	if (find_owners(db, cm, nick, &o, cause) != 0) {
		fmn_irc_lines_add(reply, "Sorry, something went wrong on my "
		    "side; please try again later.");
		rc = -1;
		goto out;
	}
	for (i = 0; i < o.n; i++)
		owner |= o.v[i].confirmed;
	if (owner)
		*who = FMN_IRC_CMD_OWNER;

	if (strcmp(word, "confirm") == 0) {
		rc = cmd_confirm(db, &o, arg, now, reply, &confirmed, cause);
		if (confirmed)
			*who = FMN_IRC_CMD_CONFIRMED;
	} else if (!owner)
		cmd_refuse(base_url, reply);
	else if (strcmp(word, "help") == 0 || strcmp(word, "?") == 0)
		rc = cmd_help(base_url, reply);
	else if (strcmp(word, "stop") == 0 && *arg == '\0')
		rc = cmd_enable(db, &o, 0, reply, cause);
	else if (strcmp(word, "start") == 0 && *arg == '\0')
		rc = cmd_enable(db, &o, 1, reply, cause);
	else if ((strcmp(word, "list") == 0 && strcasecmp(arg, "filters") == 0) ||
	    (strcmp(word, "filters") == 0 && *arg == '\0'))
		rc = cmd_list(db, &o, reply, cause);
	else
		fmn_irc_lines_add(reply, "I don't know that command. Say "
		    "\"help\" for the list.");
	if (rc != 0)
		fmn_irc_lines_add(reply, "Sorry, something went wrong on my "
		    "side; please try again later.");
out:
	owners_free(&o);
	fmn_buf_free(&clean);
	return rc;
}
