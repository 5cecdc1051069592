/*
 * The IRC backend: one bot connection through libircclient, driven by
 * the daemon's zmq_poll loop (the session's socket is exposed as a poll
 * item; libircclient's select-descriptor calls do the reading and
 * writing, never blocking). A delivery becomes PRIVMSG lines to the
 * destination nick, queued per nick and let out by a token bucket in
 * round-robin order. Because PRIVMSG has no acknowledgement, the bot
 * follows the lines with "PING :fmn-N": the server answers in order, so
 * once its PONG arrives every line before it has been accepted, and an
 * ERR_NOSUCHNICK (401) for a nick would have arrived first. A delivery
 * is DELIVERED at that PONG, TEMPFAIL at a 401 or a disconnect.
 * Private messages to the bot are commands (fmn_irc_cmd.c); their
 * replies wait in a queue of their own that is served only when no
 * notification line is waiting, and each nick has a small reply budget,
 * so talking to the bot can neither make it flood nor delay anybody's
 * notifications.
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libircclient.h>

#include "fmn_backend.h"
#include "fmn_irc_cmd.h"
#include "fmn_irc_flood.h"
#include "fmn_irc_text.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define IRC_DEFAULT_PORT	6667
#define IRC_USERNAME		"fmn"
#define IRC_REALNAME		"fmn notifications"
#define IRC_CONNECT_TIMEOUT_MS	30000	/* TCP connect plus registration */
#define IRC_MARKER_TIMEOUT_MS	60000	/* no PONG by then: the link is dead */
#define IRC_IDLE_PING_MS	90000	/* probe a link that has been quiet */
#define IRC_ACK_DELAY_MS	1000	/* longest wait for a marker under load */
#define IRC_OFFLINE_MS		15000	/* after a 401, fail that nick's deliveries without trying */
#define IRC_REPLY_WINDOW_MS	60000	/* reply budgets are per nick per window */
#define IRC_STRANGER_REPLIES	3	/* lines per window for a nick that owns nothing */
#define IRC_OWNER_REPLIES	30	/* lines per window for the owner of a destination */
#define IRC_REPLY_MAX		200	/* reply lines waiting in all; beyond, nobody is answered */
#define IRC_NICKS_MAX		4096	/* nicks remembered at once */
#define IRC_QUEUE_MAX		10000	/* lines; beyond this deliver() says "not now" */
#define IRC_NICK_TRIES		10	/* alternate nicks tried during registration */
#define IRC_REGAIN_MS		300000	/* how often to try to get the configured nick back */
#define IRC_BACKOFF_MIN_MS	1000

enum irc_state {
	IRC_WAITING,		/* disconnected, reconnecting at reconnect_at */
	IRC_CONNECTING,		/* TCP connect and registration under way */
	IRC_READY,		/* registered (001 seen) */
};

enum delivery_state {
	D_QUEUED,		/* lines waiting in the queue */
	D_SENT,			/* all lines written; waiting for the marker's PONG */
};

/* A delivery accepted and not yet done. */
struct irc_delivery {
	long long		 id;
	char			*nick;
	char			*key;		/* nick case-folded */
	enum delivery_state	 state;
	size_t			 lines_left;	/* still in the queue */
	uint64_t		 sent_seq;	/* line_seq after its last line */
	double			 oldest;	/* oldest notice's time; 0: unknown */
	struct irc_delivery	*next;
};

/* What the bot remembers about a nick for a while. */
struct irc_nickinfo {
	char			*key;
	int64_t			 offline_until;	/* 401 seen: skip sending until then */
	struct fmn_irc_budget	 replies;	/* reply lines it has had lately */
};

/* An outcome to report once the backend's state is consistent again. */
struct irc_outcome {
	long long	 id;
	enum fmn_result	 result;
	char		*error;
};

struct irc {
	struct fmn_backend	*b;
	irc_session_t		*s;
	char			*host;
	unsigned short		 port;
	int			 v6;

	enum irc_state		 state;
	int64_t			 state_since;
	int64_t			 reconnect_at;
	long			 backoff_ms;
	char			*want_disconnect;	/* set by callbacks, acted on after them */
	int			 blocked;	/* libircclient's output buffer is full */
	int64_t			 last_rx;

	char			*nick;		/* ours, as the server knows it */
	int			 nick_tries;
	size_t			 nick_keep;	/* bytes of the configured nick kept in alternates */
	int64_t			 regain_at;
	enum fmn_irc_casemap	 cm;

	struct fmn_irc_bucket	 bucket;
	struct fmn_irc_queue	*queue;		/* notification lines (tag: the delivery) */
	struct fmn_irc_queue	*replies;	/* replies to commands: only when queue is empty */
	struct fmn_irc_lines	 control;	/* raw commands that go first (IDENTIFY, NICK) */

	struct irc_delivery	*deliveries;
	size_t			 inflight;
	uint64_t		 line_seq;	/* PRIVMSG lines written this connection */
	uint64_t		 marker_id;
	int			 marker_out;	/* a PING marker awaits its PONG */
	uint64_t		 marker_seq;	/* line_seq when it was sent */
	int64_t			 marker_sent;
	int64_t			 unacked_since;	/* oldest D_SENT not covered by a marker; 0: none */

	struct irc_nickinfo	*nicks;
	size_t			 n_nicks, cap_nicks;
	int64_t			 nicks_gc_at;
	size_t			 unanswered;	/* commands left unanswered since the last GC */

	sqlite3			*cmd_db;	/* the bot commands' own connection */

	struct irc_outcome	*outcomes;
	size_t			 n_outcomes, cap_outcomes;
	int			 reporting;	/* inside report(): no nested flush */
};

static void irc_pump(struct irc *irc);

static struct irc *
irc_from_session(irc_session_t *s)
{
	return irc_get_ctx(s);
}

/* Outcomes. */

static void
outcome_add(struct irc *irc, long long id, enum fmn_result r, const char *error)
{
	struct irc_outcome *o;

	if (irc->n_outcomes == irc->cap_outcomes) {
		irc->cap_outcomes = irc->cap_outcomes ? irc->cap_outcomes * 2 : 16;
		irc->outcomes = xreallocarray(irc->outcomes, irc->cap_outcomes,
		    sizeof(*irc->outcomes));
	}
	o = &irc->outcomes[irc->n_outcomes++];
	o->id = id;
	o->result = r;
	o->error = error != NULL ? xstrdup(error) : NULL;
}

/* Hand the collected outcomes to the daemon (it may call deliver() back). */
static void
report(struct irc *irc)
{
	struct irc_outcome o;

	if (irc->reporting)
		return;
	irc->reporting = 1;
	while (irc->n_outcomes > 0) {
		o = irc->outcomes[0];
		irc->n_outcomes--;
		memmove(irc->outcomes, irc->outcomes + 1,
		    irc->n_outcomes * sizeof(*irc->outcomes));
		if (irc->b->done != NULL)
			irc->b->done(irc->b->done_arg, o.id, o.result, o.error);
		free(o.error);
	}
	irc->reporting = 0;
}

/* Nick memory. */

static void nick_gc(struct irc *irc, int64_t now);

/*
 * The nick's entry; with create, a new one if there is none, or NULL
 * when IRC_NICKS_MAX nicks are remembered and none can be forgotten yet
 * (callers then act as for a nick that is owed nothing).
 */
static struct irc_nickinfo *
nick_get(struct irc *irc, const char *key, int create)
{
	struct irc_nickinfo *n;
	size_t i;

	for (i = 0; i < irc->n_nicks; i++)
		if (strcmp(irc->nicks[i].key, key) == 0)
			return &irc->nicks[i];
	if (!create)
		return NULL;
	if (irc->n_nicks >= IRC_NICKS_MAX) {
		nick_gc(irc, fmn_monotonic_ms());
		if (irc->n_nicks >= IRC_NICKS_MAX)
			return NULL;
	}
	if (irc->n_nicks == irc->cap_nicks) {
		irc->cap_nicks = irc->cap_nicks ? irc->cap_nicks * 2 : 16;
		irc->nicks = xreallocarray(irc->nicks, irc->cap_nicks,
		    sizeof(*irc->nicks));
	}
	n = &irc->nicks[irc->n_nicks++];
	memset(n, 0, sizeof(*n));
	n->key = xstrdup(key);
	return n;
}

/* Forget what no longer matters, so strangers cannot grow the table forever. */
static void
nick_gc(struct irc *irc, int64_t now)
{
	size_t i = 0;

	while (i < irc->n_nicks) {
		struct irc_nickinfo *n = &irc->nicks[i];

		if (n->offline_until <= now && fmn_irc_budget_idle(&n->replies,
		    now, IRC_REPLY_WINDOW_MS)) {
			free(n->key);
			*n = irc->nicks[--irc->n_nicks];
		} else
			i++;
	}
}

static char *
irc_key(struct irc *irc, const char *nick)
{
	char *key = xstrdup(nick);

	fmn_irc_casefold(key, irc->cm);
	return key;
}

/* Deliveries. */

static struct irc_delivery *
delivery_find(struct irc *irc, long long id)
{
	struct irc_delivery *d;

	for (d = irc->deliveries; d != NULL; d = d->next)
		if (d->id == id)
			return d;
	return NULL;
}

/* Unlink d, drop its queued lines and free it. */
static void
delivery_drop(struct irc *irc, struct irc_delivery *d)
{
	struct irc_delivery **dp;

	for (dp = &irc->deliveries; *dp != NULL; dp = &(*dp)->next) {
		if (*dp == d) {
			*dp = d->next;
			break;
		}
	}
	if (d->lines_left > 0)
		fmn_irc_queue_drop_tag(irc->queue, d->id);
	irc->inflight--;
	free(d->nick);
	free(d->key);
	free(d);
}

static void
delivery_finish(struct irc *irc, struct irc_delivery *d, enum fmn_result r,
    const char *error)
{
	outcome_add(irc, d->id, r, error);
	delivery_drop(irc, d);
}

/* The outcome for a nick that is not online: retry, or give up when too old. */
static void
offline_outcome(struct irc *irc, long long id, const char *nick, double oldest)
{
	const struct fmn_config *cfg = irc->b->cfg;
	char *error;

	if (cfg->irc_max_age > 0 && oldest > 0 &&
	    fmn_now() - oldest > cfg->irc_max_age) {
		error = xasprintf("%s has not been on IRC for %d s since the "
		    "message; given up", nick, cfg->irc_max_age);
		outcome_add(irc, id, FMN_RESULT_EXPIRED, error);
	} else {
		error = xasprintf("%s is not on IRC", nick);
		outcome_add(irc, id, FMN_RESULT_TEMPFAIL, error);
	}
	free(error);
}

static void
nick_offline(struct irc *irc, const char *nick)
{
	struct irc_delivery *d, *next;
	char *key = irc_key(irc, nick);
	struct irc_nickinfo *ni;

	if ((ni = nick_get(irc, key, 1)) != NULL)
		ni->offline_until = fmn_monotonic_ms() + IRC_OFFLINE_MS;
	for (d = irc->deliveries; d != NULL; d = next) {
		next = d->next;
		if (strcmp(d->key, key) == 0) {
			offline_outcome(irc, d->id, d->nick, d->oldest);
			delivery_drop(irc, d);
		}
	}
	free(key);
}

/* The server refused lines to nick for another reason (404, 486...). */
static void
nick_refused(struct irc *irc, const char *nick, const char *why)
{
	struct irc_delivery *d, *next;
	char *key = irc_key(irc, nick), *error;

	error = xasprintf("IRC server refused messages to %s: %s", nick,
	    why != NULL ? why : "?");
	for (d = irc->deliveries; d != NULL; d = next) {
		next = d->next;
		if (strcmp(d->key, key) == 0)
			delivery_finish(irc, d, FMN_RESULT_TEMPFAIL, error);
	}
	free(error);
	free(key);
}

/* Connection. */

static void
irc_disconnected(struct irc *irc, const char *reason)
{
	const struct fmn_config *cfg = irc->b->cfg;
	long max_ms = (long)cfg->irc_reconnect_max * 1000;
	char *error;

	irc_disconnect(irc->s);
	error = xasprintf("disconnected from the IRC server: %s", reason);
	while (irc->deliveries != NULL)
		delivery_finish(irc, irc->deliveries, FMN_RESULT_TEMPFAIL,
		    error);
	free(error);
	fmn_irc_queue_clear(irc->queue);
	fmn_irc_queue_clear(irc->replies);
	fmn_irc_lines_free(&irc->control);
	irc->marker_out = 0;
	irc->unacked_since = 0;
	irc->blocked = 0;
	free(irc->want_disconnect);
	irc->want_disconnect = NULL;

	if (max_ms < IRC_BACKOFF_MIN_MS)
		max_ms = IRC_BACKOFF_MIN_MS;
	if (irc->backoff_ms < IRC_BACKOFF_MIN_MS)
		irc->backoff_ms = IRC_BACKOFF_MIN_MS;
	log_warn("irc: %s:%u: %s; reconnecting in %ld ms", irc->host,
	    irc->port, reason, irc->backoff_ms);
	irc->state = IRC_WAITING;
	irc->state_since = fmn_monotonic_ms();
	irc->reconnect_at = irc->state_since + irc->backoff_ms;
	irc->backoff_ms = irc->backoff_ms > max_ms / 2 ? max_ms :
	    irc->backoff_ms * 2;
}

/*
 * libircclient watches its socket with select(): a descriptor at or
 * beyond FD_SETSIZE would overflow its fd_set. The socket it is about to
 * create gets the lowest free number, so look at that number first.
 */
static int
irc_fd_fits(void)
{
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	if (fd < 0)
		return 1;	/* let irc_connect report the real error */
	close(fd);
	return fd < FD_SETSIZE;
}

static void
irc_connect_start(struct irc *irc)
{
	const struct fmn_config *cfg = irc->b->cfg;
	int rc;

	irc->nick_tries = 0;
	irc->nick_keep = strlen(cfg->irc_nick);
	free(irc->nick);
	irc->nick = xstrdup(cfg->irc_nick);
	irc->cm = FMN_IRC_CASEMAP_RFC1459;
	irc->line_seq = 0;
	irc->state = IRC_CONNECTING;
	irc->state_since = irc->last_rx = fmn_monotonic_ms();
	if (!irc_fd_fits()) {
		irc_disconnected(irc, "too many open files for select()");
		return;
	}
	if (irc->v6)
		rc = irc_connect6(irc->s, irc->host, irc->port,
		    cfg->irc_password, irc->nick, IRC_USERNAME, IRC_REALNAME);
	else
		rc = irc_connect(irc->s, irc->host, irc->port,
		    cfg->irc_password, irc->nick, IRC_USERNAME, IRC_REALNAME);
	if (rc != 0) {
		irc_disconnected(irc, irc_strerror(irc_errno(irc->s)));
		return;
	}
	log_info("irc: connecting to %s:%u as %s", irc->host, irc->port,
	    irc->nick);
}

static void
irc_request_disconnect(struct irc *irc, const char *reason)
{
	if (irc->want_disconnect == NULL)
		irc->want_disconnect = xstrdup(reason);
}

/* The next nick to try while the configured one is taken or refused. */
static void
irc_next_nick(struct irc *irc, int erroneous)
{
	const char *base = irc->b->cfg->irc_nick;
	char suffix[16];

	if (++irc->nick_tries > IRC_NICK_TRIES) {
		irc_request_disconnect(irc, "no nick accepted");
		return;
	}
	if (erroneous && irc->nick_keep > 1)
		irc->nick_keep--;
	if (irc->nick_tries == 1)
		snprintf(suffix, sizeof(suffix), "_");
	else
		snprintf(suffix, sizeof(suffix), "%d", irc->nick_tries);
	free(irc->nick);
	irc->nick = xasprintf("%.*s%s", (int)irc->nick_keep, base, suffix);
	log_info("irc: nick taken or refused; trying %s", irc->nick);
	irc_send_raw(irc->s, "NICK %s", irc->nick);
}

/* libircclient callbacks. They only change state; report() runs later. */

static void
on_numeric(irc_session_t *s, unsigned int code, const char *origin,
    const char **params, unsigned int count)
{
	struct irc *irc = irc_from_session(s);
	const struct fmn_config *cfg = irc->b->cfg;
	unsigned int i;

	(void)origin;
	switch (code) {
	case 1:		/* RPL_WELCOME */
		if (irc->state != IRC_CONNECTING)
			break;
		if (count >= 1 && params[0] != NULL &&
		    fmn_irc_nick_valid(params[0])) {
			free(irc->nick);
			irc->nick = xstrdup(params[0]);
		}
		irc->state = IRC_READY;
		irc->state_since = fmn_monotonic_ms();
		irc->backoff_ms = IRC_BACKOFF_MIN_MS;
		irc->regain_at = irc->state_since + IRC_REGAIN_MS;
		log_info("irc: registered on %s:%u as %s", irc->host,
		    irc->port, irc->nick);
		if (cfg->irc_nickserv != NULL) {
			char *line = xasprintf("PRIVMSG NickServ :IDENTIFY %s",
			    cfg->irc_nickserv);

			fmn_irc_lines_take(&irc->control, line);
		}
		break;
	case 5:		/* RPL_ISUPPORT */
		for (i = 1; i < count; i++)
			if (params[i] != NULL &&
			    strncmp(params[i], "CASEMAPPING=", 12) == 0)
				irc->cm = fmn_irc_casemap_parse(params[i] + 12);
		break;
	case 432:	/* ERR_ERRONEUSNICKNAME */
	case 433:	/* ERR_NICKNAMEINUSE */
	case 436:	/* ERR_NICKCOLLISION */
	case 437:	/* ERR_UNAVAILRESOURCE */
		if (irc->state == IRC_CONNECTING)
			irc_next_nick(irc, code == 432);
		break;
	case 401:	/* ERR_NOSUCHNICK */
		if (irc->state == IRC_READY && count >= 2 && params[1] != NULL)
			nick_offline(irc, params[1]);
		break;
	case 404:	/* ERR_CANNOTSENDTOCHAN (also +R/+g nicks on some servers) */
	case 412:	/* ERR_NOTEXTTOSEND */
	case 477:	/* ERR_NEEDREGGEDNICK */
	case 486:	/* ERR_NONONREG */
		if (irc->state == IRC_READY && count >= 2 && params[1] != NULL)
			nick_refused(irc, params[1], params[count - 1]);
		break;
	case 464:	/* ERR_PASSWDMISMATCH */
		log_err("irc: %s:%u refused the server password", irc->host,
		    irc->port);
		break;
	default:
		break;
	}
}

static void
on_unknown(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count)
{
	struct irc *irc = irc_from_session(s);
	struct irc_delivery *d, *next;
	char token[32];

	(void)origin;
	if (event == NULL)
		return;
	if (strcmp(event, "ERROR") == 0) {
		log_warn("irc: server says: %s", count > 0 && params[0] ?
		    params[0] : "(nothing)");
		return;
	}
	if (strcmp(event, "PONG") != 0 || count == 0 || !irc->marker_out ||
	    params[count - 1] == NULL)
		return;
	snprintf(token, sizeof(token), "fmn-%llu",
	    (unsigned long long)irc->marker_id);
	if (strcmp(params[count - 1], token) != 0)
		return;
	irc->marker_out = 0;
	irc->unacked_since = 0;
	for (d = irc->deliveries; d != NULL; d = next) {
		next = d->next;
		if (d->state != D_SENT)
			continue;
		if (d->sent_seq <= irc->marker_seq)
			delivery_finish(irc, d, FMN_RESULT_DELIVERED, NULL);
		else if (irc->unacked_since == 0)
			irc->unacked_since = irc->marker_sent;
	}
}

static void
on_nick(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count)
{
	struct irc *irc = irc_from_session(s);

	(void)event;
	if (origin == NULL || count < 1 || params[0] == NULL ||
	    !fmn_irc_nick_valid(params[0]) ||
	    fmn_irc_casecmp(origin, irc->nick, irc->cm) != 0)
		return;
	free(irc->nick);
	irc->nick = xstrdup(params[0]);
	log_info("irc: nick is now %s", irc->nick);
}

/*
 * The connection bot commands use: their own, to the daemon's database
 * file, so that what they change is committed by "another connection"
 * and the daemon's change detection (PRAGMA data_version) sees it. An
 * in-memory database can only be shared through the daemon's handle.
 */
static sqlite3 *
irc_cmd_db(struct irc *irc)
{
	const char *path;
	sqlite3 *db = NULL;

	if (irc->cmd_db != NULL)
		return irc->cmd_db;
	if (irc->b->db == NULL)
		return NULL;
	path = sqlite3_db_filename(irc->b->db, "main");
	if (path == NULL || *path == '\0')
		return irc->b->db;
	if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warn("irc: commands: %s: %s", path,
		    db ? sqlite3_errmsg(db) : "cannot open");
		sqlite3_close(db);
		return irc->b->db;
	}
	/* Short: a command waits for a writer, the daemon's loop with it. */
	sqlite3_busy_timeout(db, 2000);
	sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL);
	irc->cmd_db = db;
	return db;
}

/* Text as the sanitised, split PRIVMSG lines the bot would send to nick. */
static void
irc_text_lines(struct irc *irc, const char *nick, const char *text,
    struct fmn_irc_lines *out)
{
	struct fmn_buf clean;

	fmn_buf_init(&clean);
	fmn_irc_sanitize(&clean, text);
	if (clean.data != NULL)
		fmn_irc_split(clean.data, fmn_irc_text_max(strlen(irc->nick),
		    strlen(nick)), out);
	fmn_buf_free(&clean);
}

/*
 * Queue the reply to a command, or say nothing. Every reply is charged
 * to the nick's budget: a stranger gets IRC_STRANGER_REPLIES lines per
 * window whatever it sends (help, wrong secrets, gibberish), an owner
 * IRC_OWNER_REPLIES. The one exception is the line that says a
 * destination was just confirmed: it can happen only once per secret,
 * so it cannot be used to make the bot talk, and a person who mistyped
 * the code a few times must still learn that the right one worked.
 */
static void
irc_reply(struct irc *irc, const char *nick, const char *key,
    enum fmn_irc_cmd_who who, const struct fmn_irc_lines *reply,
    int64_t now)
{
	struct fmn_irc_lines lines = { NULL, 0, 0 };
	struct irc_nickinfo *ni;
	size_t i;
	int limit;

	for (i = 0; i < reply->n; i++)
		irc_text_lines(irc, nick, reply->v[i], &lines);
	if (lines.n == 0)
		goto out;
	if (who != FMN_IRC_CMD_CONFIRMED) {
		limit = who == FMN_IRC_CMD_OWNER ? IRC_OWNER_REPLIES :
		    IRC_STRANGER_REPLIES;
		if (fmn_irc_queue_lines(irc->replies) >= IRC_REPLY_MAX ||
		    (ni = nick_get(irc, key, 1)) == NULL ||
		    !fmn_irc_budget_take(&ni->replies, now,
		    IRC_REPLY_WINDOW_MS, limit, lines.n)) {
			irc->unanswered++;
			goto out;
		}
	}
	for (i = 0; i < lines.n; i++)
		fmn_irc_queue_push(irc->replies, nick, key, lines.v[i], 0);
out:
	fmn_irc_lines_free(&lines);
}

static void
on_privmsg(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count)
{
	struct irc *irc = irc_from_session(s);
	struct fmn_irc_lines reply = { NULL, 0, 0 };
	enum fmn_irc_cmd_who who;
	struct irc_nickinfo *ni;
	sqlite3 *db;
	char *key, *cause = NULL;

	(void)event;
	/* Only private messages to us, from a plausible nick that is not ours. */
	if (irc->state != IRC_READY || origin == NULL || count < 2 ||
	    params[0] == NULL || params[1] == NULL ||
	    fmn_irc_casecmp(params[0], irc->nick, irc->cm) != 0 ||
	    !fmn_irc_nick_valid(origin) ||
	    fmn_irc_casecmp(origin, irc->nick, irc->cm) == 0)
		return;
	key = irc_key(irc, origin);
	if ((ni = nick_get(irc, key, 0)) != NULL)
		ni->offline_until = 0;	/* it talks, so it is online */
	/*
	 * The command is carried out whatever the budget says: an owner's
	 * stop must stop, and a right secret must confirm. Only the reply
	 * is rationed.
	 */
	if ((db = irc_cmd_db(irc)) == NULL) {
		free(key);
		return;
	}
	if (fmn_irc_cmd_handle(db, irc->cm, origin, params[1], fmn_now(),
	    &reply, &who, &cause) != 0) {
		log_warn("irc: command from %s: %s", origin,
		    cause ? cause : "failed");
		free(cause);
	}
	irc_reply(irc, origin, key, who, &reply, fmn_monotonic_ms());
	fmn_irc_lines_free(&reply);
	free(key);
}

/* CTCP requests get no answer: replies would bypass the flood control. */
static void
on_ctcp(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count)
{
	(void)s;
	(void)event;
	(void)origin;
	(void)params;
	(void)count;
}

/* Sending. */

static int
irc_want_marker(struct irc *irc, int64_t now)
{
	if (irc->marker_out)
		return 0;
	if (irc->unacked_since != 0 &&
	    (fmn_irc_queue_lines(irc->queue) == 0 ||
	    now - irc->unacked_since >= IRC_ACK_DELAY_MS))
		return 1;
	return now - irc->last_rx >= IRC_IDLE_PING_MS;
}

static void
irc_line_sent(struct irc *irc, long long tag, int64_t now)
{
	struct irc_delivery *d;

	irc->line_seq++;
	if (tag == 0 || (d = delivery_find(irc, tag)) == NULL)
		return;
	if (d->lines_left > 0 && --d->lines_left == 0) {
		d->state = D_SENT;
		d->sent_seq = irc->line_seq;
		if (irc->unacked_since == 0)
			irc->unacked_since = now;
	}
}

/* Write what libircclient has buffered now, if the socket takes it. */
static void
irc_flush(struct irc *irc)
{
	fd_set in, out;
	int maxfd = 0, fd;
	struct pollfd pfd;

	FD_ZERO(&in);
	FD_ZERO(&out);
	if (irc_add_select_descriptors(irc->s, &in, &out, &maxfd) != 0)
		return;
	for (fd = 0; fd <= maxfd && fd < FD_SETSIZE; fd++) {
		if (!FD_ISSET(fd, &out))
			continue;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		pfd.revents = 0;
		if (poll(&pfd, 1, 0) != 1 || !(pfd.revents & POLLOUT))
			return;
		FD_ZERO(&in);
		FD_ZERO(&out);
		FD_SET(fd, &out);
		if (irc_process_select_descriptors(irc->s, &in, &out) != 0 &&
		    !irc_is_connected(irc->s))
			irc_request_disconnect(irc, irc_strerror(
			    irc_errno(irc->s)));
		irc->blocked = 0;
		return;
	}
}

/*
 * Send what the bucket allows: control lines, a marker, notification
 * lines round-robin, and replies only when no notification line waits.
 */
static void
irc_pump(struct irc *irc)
{
	int64_t now = fmn_monotonic_ms();
	int sent = 0;

	while (irc->state == IRC_READY && irc->want_disconnect == NULL) {
		struct fmn_irc_line *l = NULL;
		char *raw = NULL;
		int is_marker = 0, rc;

		if (irc->control.n == 0 && !irc_want_marker(irc, now) &&
		    fmn_irc_queue_lines(irc->queue) == 0 &&
		    fmn_irc_queue_lines(irc->replies) == 0)
			break;
		if (!fmn_irc_bucket_take(&irc->bucket, now))
			break;
		if (irc->control.n > 0)
			raw = irc->control.v[0];
		else if (irc_want_marker(irc, now)) {
			is_marker = 1;
			raw = xasprintf("PING :fmn-%llu",
			    (unsigned long long)irc->marker_id + 1);
		} else if ((l = fmn_irc_queue_pop(irc->queue)) == NULL)
			l = fmn_irc_queue_pop(irc->replies);

		if (l != NULL)
			rc = irc_send_raw(irc->s, "PRIVMSG %s :%s", l->nick,
			    l->text);
		else
			rc = irc_send_raw(irc->s, "%s", raw);
		if (rc != 0) {
			/* The output buffer is full: wait for the socket. */
			fmn_irc_bucket_refund(&irc->bucket);
			if (l != NULL) {
				char *key = irc_key(irc, l->nick);

				fmn_irc_queue_unpop(l->tag != 0 ? irc->queue :
				    irc->replies, key, l);
				free(key);
			}
			if (is_marker)
				free(raw);
			irc->blocked = 1;
			if (sent == 0)
				irc_flush(irc);
			break;
		}
		sent++;
		if (l != NULL) {
			irc_line_sent(irc, l->tag, now);
			fmn_irc_line_free(l);
		} else if (is_marker) {
			free(raw);
			irc->marker_id++;
			irc->marker_out = 1;
			irc->marker_seq = irc->line_seq;
			irc->marker_sent = now;
		} else {
			free(irc->control.v[0]);
			irc->control.n--;
			memmove(irc->control.v, irc->control.v + 1,
			    irc->control.n * sizeof(*irc->control.v));
		}
		irc_flush(irc);
	}
}

/* Timers: reconnection, timeouts, keeping the nick. */
static void
irc_timers(struct irc *irc)
{
	int64_t now = fmn_monotonic_ms();
	const char *want = irc->b->cfg->irc_nick;

	switch (irc->state) {
	case IRC_WAITING:
		if (now >= irc->reconnect_at)
			irc_connect_start(irc);
		break;
	case IRC_CONNECTING:
		if (now - irc->state_since >= IRC_CONNECT_TIMEOUT_MS)
			irc_request_disconnect(irc, "registration timed out");
		break;
	case IRC_READY:
		if (irc->marker_out &&
		    now - irc->marker_sent >= IRC_MARKER_TIMEOUT_MS)
			irc_request_disconnect(irc, "server stopped answering");
		else if (now >= irc->regain_at) {
			irc->regain_at = now + IRC_REGAIN_MS;
			if (fmn_irc_casecmp(irc->nick, want, irc->cm) != 0)
				fmn_irc_lines_take(&irc->control,
				    xasprintf("NICK %s", want));
		}
		break;
	}
	if (now >= irc->nicks_gc_at) {
		nick_gc(irc, now);
		irc->nicks_gc_at = now + IRC_REPLY_WINDOW_MS;
		if (irc->unanswered > 0)
			log_info("irc: %zu command%s left unanswered in the "
			    "last minute (reply budgets)", irc->unanswered,
			    irc->unanswered == 1 ? "" : "s");
		irc->unanswered = 0;
	}
}

/* After anything that may have asked for a disconnect: act on it. */
static void
irc_settle(struct irc *irc)
{
	if (irc->want_disconnect != NULL) {
		char *reason = irc->want_disconnect;

		irc->want_disconnect = NULL;
		irc_disconnected(irc, reason);
		free(reason);
	}
}

/* The ops. */

static int
irc_parse_server(struct irc *irc, const char *server, char **cause)
{
	const char *colon, *host = server;
	size_t hostlen;
	char *end;
	long port = IRC_DEFAULT_PORT;

	if (*server == '[') {
		const char *close = strchr(server, ']');

		if (close == NULL)
			goto bad;
		host = server + 1;
		hostlen = (size_t)(close - host);
		colon = close[1] == ':' ? close + 1 : NULL;
		if (close[1] != '\0' && colon == NULL)
			goto bad;
		irc->v6 = 1;
	} else {
		colon = strrchr(server, ':');
		if (colon != NULL && strchr(server, ':') != colon) {
			colon = NULL;	/* a bare IPv6 address */
			irc->v6 = 1;
		}
		hostlen = colon != NULL ? (size_t)(colon - server) :
		    strlen(server);
	}
	if (colon != NULL) {
		errno = 0;
		port = strtol(colon + 1, &end, 10);
		if (errno != 0 || end == colon + 1 || *end != '\0' ||
		    port < 1 || port > 65535)
			goto bad;
	}
	if (hostlen == 0)
		goto bad;
	irc->host = xstrndup(host, hostlen);
	irc->port = (unsigned short)port;
	return 0;
bad:
	fmn_set_cause(cause, "[irc] server: \"%s\" is not HOST:PORT", server);
	return -1;
}

static void irc_fini(struct fmn_backend *b);

static int
irc_init(struct fmn_backend *b, char **cause)
{
	const struct fmn_config *cfg = b->cfg;
	irc_callbacks_t cb;
	struct irc *irc;

	if (cfg->irc_server == NULL || *cfg->irc_server == '\0') {
		fmn_set_cause(cause, "[irc] server is not set");
		return -1;
	}
	if (cfg->irc_nick == NULL || !fmn_irc_nick_valid(cfg->irc_nick)) {
		fmn_set_cause(cause, "[irc] nick: \"%s\" is not a valid nick",
		    cfg->irc_nick ? cfg->irc_nick : "");
		return -1;
	}
	irc = xcalloc(1, sizeof(*irc));
	irc->b = b;
	b->priv = irc;
	if (irc_parse_server(irc, cfg->irc_server, cause) != 0) {
		irc_fini(b);
		return -1;
	}
	memset(&cb, 0, sizeof(cb));
	cb.event_numeric = on_numeric;
	cb.event_unknown = on_unknown;
	cb.event_nick = on_nick;
	cb.event_privmsg = on_privmsg;
	cb.event_channel = on_privmsg;	/* we check the target ourselves */
	cb.event_ctcp_req = on_ctcp;
	if ((irc->s = irc_create_session(&cb)) == NULL) {
		fmn_set_cause(cause, "irc: cannot create a session");
		irc_fini(b);
		return -1;
	}
	irc_set_ctx(irc->s, irc);
	irc_option_set(irc->s, LIBIRC_OPTION_STRIPNICKS);
	irc->queue = fmn_irc_queue_new();
	irc->replies = fmn_irc_queue_new();
	irc->backoff_ms = IRC_BACKOFF_MIN_MS;
	fmn_irc_bucket_init(&irc->bucket, cfg->irc_burst,
	    cfg->irc_line_interval, fmn_monotonic_ms());
	irc_connect_start(irc);
	irc_settle(irc);
	return 0;
}

static int
irc_deliver(struct fmn_backend *b, const struct fmn_delivery *d)
{
	struct irc *irc = b->priv;
	const struct fmn_config *cfg = b->cfg;
	struct fmn_irc_lines lines = { NULL, 0, 0 };
	struct irc_nickinfo *ni;
	struct irc_delivery *dl;
	size_t i, nicklen;
	double oldest = 0;
	char *key;

	for (i = 0; i < d->n_notices; i++)
		if (d->notices[i].timestamp > 0 &&
		    (oldest == 0 || d->notices[i].timestamp < oldest))
			oldest = d->notices[i].timestamp;

	if (d->address == NULL || !fmn_irc_nick_valid(d->address)) {
		outcome_add(irc, d->id, FMN_RESULT_PERMFAIL,
		    "not a valid IRC nick");
		goto out;
	}
	if (d->kind == FMN_DELIVERY_CONFIRM && d->expires > 0 &&
	    d->expires <= fmn_now()) {
		outcome_add(irc, d->id, FMN_RESULT_EXPIRED,
		    "the confirmation has expired");
		goto out;
	}
	if (irc->state != IRC_READY) {
		outcome_add(irc, d->id, FMN_RESULT_TEMPFAIL,
		    "not connected to the IRC server");
		goto out;
	}
	if (delivery_find(irc, d->id) != NULL)
		return -1;	/* the same token twice: not now */
	if (fmn_irc_queue_lines(irc->queue) >= IRC_QUEUE_MAX)
		return -1;
	key = irc_key(irc, d->address);
	ni = nick_get(irc, key, 0);
	if (ni != NULL && ni->offline_until > fmn_monotonic_ms()) {
		offline_outcome(irc, d->id, d->address, oldest);
		free(key);
		goto out;
	}

	/* Leave room for an alternate nick getting longer. */
	nicklen = strlen(irc->nick);
	if (nicklen < strlen(cfg->irc_nick) + 3)
		nicklen = strlen(cfg->irc_nick) + 3;
	fmn_irc_format(d, (size_t)cfg->irc_digest_lines,
	    fmn_irc_text_max(nicklen, strlen(d->address)), &lines);

	dl = xcalloc(1, sizeof(*dl));
	dl->id = d->id;
	dl->nick = xstrdup(d->address);
	dl->key = key;
	dl->state = D_QUEUED;
	dl->oldest = oldest;
	for (i = 0; i < lines.n; i++)
		fmn_irc_queue_push(irc->queue, d->address, key, lines.v[i],
		    d->id);
	dl->lines_left = lines.n;
	fmn_irc_lines_free(&lines);
	dl->next = irc->deliveries;
	irc->deliveries = dl;
	irc->inflight++;
	if (dl->lines_left == 0) {
		dl->state = D_SENT;
		dl->sent_seq = irc->line_seq;
		if (irc->unacked_since == 0)
			irc->unacked_since = fmn_monotonic_ms();
	}
	irc_pump(irc);
	irc_settle(irc);
out:
	report(irc);
	return 0;
}

static int
irc_pollitems(struct fmn_backend *b, zmq_pollitem_t *items, int max)
{
	struct irc *irc = b->priv;
	fd_set in, out;
	int maxfd = 0, fd, n = 0;

	if (irc->state == IRC_WAITING)
		return 0;
	FD_ZERO(&in);
	FD_ZERO(&out);
	if (irc_add_select_descriptors(irc->s, &in, &out, &maxfd) != 0)
		return 0;
	for (fd = 0; fd <= maxfd && fd < FD_SETSIZE && n < max; fd++) {
		short events = 0;

		if (FD_ISSET(fd, &in))
			events |= ZMQ_POLLIN;
		if (FD_ISSET(fd, &out))
			events |= ZMQ_POLLOUT;
		if (events == 0)
			continue;
		items[n].socket = NULL;
		items[n].fd = fd;
		items[n].events = events;
		items[n].revents = 0;
		n++;
	}
	return n;
}

static void
irc_process(struct fmn_backend *b, zmq_pollitem_t *items, int n)
{
	struct irc *irc = b->priv;
	fd_set in, out;
	int i, any = 0;

	FD_ZERO(&in);
	FD_ZERO(&out);
	for (i = 0; i < n; i++) {
		if (items[i].fd < 0 || items[i].fd >= FD_SETSIZE ||
		    items[i].revents == 0)
			continue;
		if (items[i].revents & (ZMQ_POLLIN | ZMQ_POLLERR)) {
			FD_SET(items[i].fd, &in);
			irc->last_rx = fmn_monotonic_ms();
		}
		if (items[i].revents & (ZMQ_POLLOUT | ZMQ_POLLERR)) {
			FD_SET(items[i].fd, &out);
			irc->blocked = 0;
		}
		any = 1;
	}
	if (any && irc->state != IRC_WAITING &&
	    irc_process_select_descriptors(irc->s, &in, &out) != 0 &&
	    !irc_is_connected(irc->s)) {
		int e = irc_errno(irc->s);

		irc_request_disconnect(irc, e == LIBIRC_ERR_TERMINATED ||
		    e == LIBIRC_ERR_CLOSED ? "connection closed" :
		    irc_strerror(e));
	}
	irc_settle(irc);
	irc_timers(irc);
	irc_settle(irc);
	irc_pump(irc);
	irc_settle(irc);
	report(irc);
}

static long
irc_timeout(struct fmn_backend *b)
{
	struct irc *irc = b->priv;
	int64_t now = fmn_monotonic_ms(), t = INT64_MAX;

#define AT(when) do { if ((when) < t) t = (when); } while (0)
	switch (irc->state) {
	case IRC_WAITING:
		AT(irc->reconnect_at);
		break;
	case IRC_CONNECTING:
		AT(irc->state_since + IRC_CONNECT_TIMEOUT_MS);
		break;
	case IRC_READY:
		if (!irc->blocked && (irc->control.n > 0 ||
		    fmn_irc_queue_lines(irc->queue) > 0 ||
		    fmn_irc_queue_lines(irc->replies) > 0 ||
		    irc_want_marker(irc, now)))
			AT(now + fmn_irc_bucket_wait(&irc->bucket, now));
		if (irc->marker_out)
			AT(irc->marker_sent + IRC_MARKER_TIMEOUT_MS);
		else if (irc->unacked_since != 0)
			AT(irc->unacked_since + IRC_ACK_DELAY_MS);
		else
			AT(irc->last_rx + IRC_IDLE_PING_MS);
		AT(irc->regain_at);
		break;
	}
	AT(irc->nicks_gc_at);
#undef AT
	if (t <= now)
		return 0;
	return t - now > LONG_MAX ? LONG_MAX : (long)(t - now);
}

static size_t
irc_inflight(struct fmn_backend *b)
{
	struct irc *irc = b->priv;

	return irc != NULL ? irc->inflight : 0;
}

static enum fmn_backend_status
irc_status(struct fmn_backend *b, char *detail, size_t len)
{
	struct irc *irc = b->priv;
	int64_t now = fmn_monotonic_ms();

	switch (irc->state) {
	case IRC_READY:
		snprintf(detail, len, "registered as %s", irc->nick ?
		    irc->nick : "?");
		return FMN_BACKEND_CONNECTED;
	case IRC_CONNECTING:
		snprintf(detail, len, "connecting to %s:%u", irc->host,
		    irc->port);
		return FMN_BACKEND_WAITING;
	case IRC_WAITING:
	default:
		snprintf(detail, len, "disconnected; reconnecting in %lld s",
		    (long long)(irc->reconnect_at > now ?
		    (irc->reconnect_at - now + 999) / 1000 : 0));
		return FMN_BACKEND_WAITING;
	}
}

/*
 * Shut down: say goodbye if we can, drop the connection. Deliveries still
 * in flight get no outcome; the daemon finds them in its queue on restart.
 */
static void
irc_fini(struct fmn_backend *b)
{
	struct irc *irc = b->priv;
	struct irc_delivery *d, *next;
	size_t i;

	if (irc == NULL)
		return;
	if (irc->s != NULL) {
		if (irc->state == IRC_READY &&
		    irc_send_raw(irc->s, "QUIT :fmn shutting down") == 0)
			irc_flush(irc);
		irc_destroy_session(irc->s);
	}
	for (d = irc->deliveries; d != NULL; d = next) {
		next = d->next;
		free(d->nick);
		free(d->key);
		free(d);
	}
	if (irc->cmd_db != NULL)
		sqlite3_close(irc->cmd_db);
	fmn_irc_queue_destroy(&irc->queue);
	fmn_irc_queue_destroy(&irc->replies);
	fmn_irc_lines_free(&irc->control);
	for (i = 0; i < irc->n_nicks; i++)
		free(irc->nicks[i].key);
	free(irc->nicks);
	for (i = 0; i < irc->n_outcomes; i++)
		free(irc->outcomes[i].error);
	free(irc->outcomes);
	free(irc->want_disconnect);
	free(irc->nick);
	free(irc->host);
	free(irc);
	b->priv = NULL;
}

const struct fmn_backend_ops fmn_backend_irc = {
	.name = "irc",
	.context = "irc",
	.init = irc_init,
	.deliver = irc_deliver,
	.pollitems = irc_pollitems,
	.process = irc_process,
	.timeout = irc_timeout,
	.inflight = irc_inflight,
	.status = irc_status,
	.fini = irc_fini,
};
