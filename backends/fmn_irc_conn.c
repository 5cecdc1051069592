/*
 * The IRC bot's session: connecting (and reconnecting with backoff),
 * registering under the configured nick or an alternate, what the
 * server tells us (numerics, errors, nick changes), and what people
 * tell the bot in private (commands, fmn_irc_cmd.c), answered within
 * each nick's reply budget.
 */
#include "fmn_irc_int.h"

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

#include "fmn_log.h"
#include "fmn_util.h"

/* Connection. */

void
irc_disconnected(struct irc *irc, const char *reason)
{
	const struct fmn_config *cfg = irc->b->cfg;
	long max_ms = (long)cfg->irc_reconnect_max * 1000;
	char *error;

	irc_disconnect(irc->s);
	error = xasprintf("disconnected from the IRC server: %s", reason);
	while (irc->deliveries != NULL)
		irc_delivery_finish(irc, irc->deliveries, FMN_RESULT_TEMPFAIL,
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
		return 1;	/* let irc_connect irc_report the real error */
	close(fd);
	return fd < FD_SETSIZE;
}

void
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

void
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

/* libircclient callbacks. They only change state; irc_report() runs later. */

void
irc_on_numeric(irc_session_t *s, unsigned int code, const char *origin,
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
			irc_nick_offline(irc, params[1]);
		break;
	case 404:	/* ERR_CANNOTSENDTOCHAN (also +R/+g nicks on some servers) */
	case 412:	/* ERR_NOTEXTTOSEND */
	case 477:	/* ERR_NEEDREGGEDNICK */
	case 486:	/* ERR_NONONREG */
		if (irc->state == IRC_READY && count >= 2 && params[1] != NULL)
			irc_nick_refused(irc, params[1], params[count - 1]);
		break;
	case 464:	/* ERR_PASSWDMISMATCH */
		log_err("irc: %s:%u refused the server password", irc->host,
		    irc->port);
		break;
	default:
		break;
	}
}

void
irc_on_unknown(irc_session_t *s, const char *event, const char *origin,
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
			irc_delivery_finish(irc, d, FMN_RESULT_DELIVERED, NULL);
		else if (irc->unacked_since == 0)
			irc->unacked_since = irc->marker_sent;
	}
}

void
irc_on_nick(irc_session_t *s, const char *event, const char *origin,
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
		    (ni = irc_nick_get(irc, key, 1)) == NULL ||
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

void
irc_on_privmsg(irc_session_t *s, const char *event, const char *origin,
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
	if ((ni = irc_nick_get(irc, key, 0)) != NULL)
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
	if (fmn_irc_cmd_handle(db, irc->cm, origin, params[1],
	    irc->b->cfg->http_base_url, fmn_now(), &reply, &who,
	    &cause) != 0) {
		log_warn("irc: command from %s: %s", origin,
		    cause ? cause : "failed");
		free(cause);
	}
	irc_reply(irc, origin, key, who, &reply, fmn_monotonic_ms());
	fmn_irc_lines_free(&reply);
	free(key);
}

/* CTCP requests get no answer: replies would bypass the flood control. */
void
irc_on_ctcp(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count)
{
	(void)s;
	(void)event;
	(void)origin;
	(void)params;
	(void)count;
}
