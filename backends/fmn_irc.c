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

struct irc *
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
void
irc_report(struct irc *irc)
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
struct irc_nickinfo *
irc_nick_get(struct irc *irc, const char *key, int create)
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

char *
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

void
irc_delivery_finish(struct irc *irc, struct irc_delivery *d, enum fmn_result r,
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

void
irc_nick_offline(struct irc *irc, const char *nick)
{
	struct irc_delivery *d, *next;
	char *key = irc_key(irc, nick);
	struct irc_nickinfo *ni;

	if ((ni = irc_nick_get(irc, key, 1)) != NULL)
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
void
irc_nick_refused(struct irc *irc, const char *nick, const char *why)
{
	struct irc_delivery *d, *next;
	char *key = irc_key(irc, nick), *error;

	error = xasprintf("IRC server refused messages to %s: %s", nick,
	    why != NULL ? why : "?");
	for (d = irc->deliveries; d != NULL; d = next) {
		next = d->next;
		if (strcmp(d->key, key) == 0)
			irc_delivery_finish(irc, d, FMN_RESULT_TEMPFAIL, error);
	}
	free(error);
	free(key);
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
void
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
void
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
	cb.event_numeric = irc_on_numeric;
	cb.event_unknown = irc_on_unknown;
	cb.event_nick = irc_on_nick;
	cb.event_privmsg = irc_on_privmsg;
	cb.event_channel = irc_on_privmsg;	/* we check the target ourselves */
	cb.event_ctcp_req = irc_on_ctcp;
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
	ni = irc_nick_get(irc, key, 0);
	if (ni != NULL && ni->offline_until > fmn_monotonic_ms()) {
		offline_outcome(irc, d->id, d->address, oldest);
		free(key);
		goto out;
	}

	/* Leave room for an alternate nick getting longer. */
	nicklen = strlen(irc->nick);
	if (nicklen < strlen(cfg->irc_nick) + 3)
		nicklen = strlen(cfg->irc_nick) + 3;
	fmn_irc_format(d, (size_t)cfg->irc_digest_lines, cfg->http_base_url,
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
	irc_report(irc);
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
	irc_report(irc);
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
