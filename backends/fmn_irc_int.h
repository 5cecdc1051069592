/*
 * The IRC backend's inside, shared by fmn_irc.c (the ops, deliveries,
 * sending, timers) and fmn_irc_conn.c (the session: connecting,
 * registering, nicks, the server's events, people's commands). Only
 * those include this.
 */
#ifndef FMN_IRC_INT_H
#define FMN_IRC_INT_H

#include <stdint.h>

#include <libircclient.h>
#include <sqlite3.h>

#include "fmn_backend.h"
#include "fmn_irc_cmd.h"
#include "fmn_irc_flood.h"
#include "fmn_irc_text.h"

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

/* fmn_irc.c */
struct irc *irc_from_session(irc_session_t *s);
/* A nick case-folded with the server's casemapping (the caller frees it). */
char *irc_key(struct irc *irc, const char *nick);
/* Report the outcomes gathered, once the backend's state is consistent. */
void irc_report(struct irc *irc);
/* What the bot remembers of a nick (made when create is set), or NULL. */
struct irc_nickinfo *irc_nick_get(struct irc *irc, const char *key,
    int create);
/* A 401 for nick: its deliveries wait, or fail when they are too old. */
void irc_nick_offline(struct irc *irc, const char *nick);
/* The server refused to send to nick for good. */
void irc_nick_refused(struct irc *irc, const char *nick, const char *why);
void irc_delivery_finish(struct irc *irc, struct irc_delivery *d,
    enum fmn_result r, const char *error);
/* Send what the token bucket lets out; write what is buffered. */
void irc_pump(struct irc *irc);
void irc_flush(struct irc *irc);

/* fmn_irc_conn.c */
void irc_connect_start(struct irc *irc);
/* The link is gone: fail what was sent, reconnect after a backoff. */
void irc_disconnected(struct irc *irc, const char *reason);
/* From a callback: disconnect once it has returned. */
void irc_request_disconnect(struct irc *irc, const char *reason);
/* libircclient's callbacks. */
void irc_on_numeric(irc_session_t *s, unsigned int code, const char *origin,
    const char **params, unsigned int count);
void irc_on_unknown(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count);
void irc_on_nick(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count);
void irc_on_privmsg(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count);
void irc_on_ctcp(irc_session_t *s, const char *event, const char *origin,
    const char **params, unsigned int count);

#endif
