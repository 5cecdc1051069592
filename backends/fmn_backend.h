/*
 * backends/: delivery. This header is the ops table every backend
 * fills; the others are the backends themselves and the text they
 * send. On filters/, schema/ and lib/; never on the daemon.
 *
 * Delivery backends behind one ops table. The daemon's scheduler hands a
 * backend a delivery (one notification, a digest, or a confirmation) and
 * later hears the outcome through the done callback; a backend never
 * blocks the daemon's loop: it exposes poll items and a timeout instead,
 * and runs what must block in threads of its own (fmn_workers.h). The done
 * callback is only ever called from the loop's thread.
 */
#ifndef FMN_BACKEND_H
#define FMN_BACKEND_H

#include <sqlite3.h>
#include <zmq.h>

#include "fmn_config.h"
#include "fmn_msg.h"

enum fmn_delivery_kind {
	FMN_DELIVERY_SINGLE,		/* one notification */
	FMN_DELIVERY_DIGEST,		/* several, batched */
	FMN_DELIVERY_CONFIRM,		/* ask a new destination to confirm */
};

enum fmn_result {
	FMN_RESULT_DELIVERED,
	FMN_RESULT_TEMPFAIL,		/* retry later with backoff */
	FMN_RESULT_PERMFAIL,		/* the destination refuses: mark it failing */
	FMN_RESULT_EXPIRED,		/* too old to be worth sending: drop it,
					 * the destination itself is fine */
	FMN_RESULT_REJECTED,		/* this delivery is refused for good (its
					 * content); the destination is fine */
};

/* One entry of a delivery: what the person reads about one message. */
struct fmn_notice {
	long long	 notification_id;
	const char	*msg_id;	/* may be NULL */
	const char	*topic;
	const char	*category;
	double		 timestamp;
	const char	*subtitle;
	const char	*link;		/* may be NULL */
	const char	*long_form;	/* may be NULL */
	const char	*filter;	/* name of the filter that fired */
	const struct fmn_strset *usernames;
	const struct fmn_strset *packages;
};

struct fmn_delivery {
	long long		 id;		/* the scheduler's token for done() */
	enum fmn_delivery_kind	 kind;
	const char		*context;	/* "email", "irc" */
	const char		*user;
	long long		 destination_id;
	const char		*address;	/* e-mail address or nick */
	int			 verbose;
	int			 markup;
	const struct fmn_notice	*notices;
	size_t			 n_notices;
	size_t			 n_omitted;	/* digest entries cut by the limits */
	const char		*secret;	/* FMN_DELIVERY_CONFIRM */
	double			 expires;	/* FMN_DELIVERY_CONFIRM */
};

/* What fmnctl status says of a backend. */
enum fmn_backend_status {
	FMN_BACKEND_CONNECTED,		/* up: a session, or its last exchange worked */
	FMN_BACKEND_FAILING,		/* its last attempt failed */
	FMN_BACKEND_WAITING,		/* connecting or reconnecting: not up yet */
	FMN_BACKEND_IDLE,		/* no session of its own, nothing tried yet */
};

struct fmn_backend;
typedef void (*fmn_backend_done_cb)(void *arg, long long delivery_id,
    enum fmn_result result, const char *error);

struct fmn_backend_ops {
	const char	*name;		/* "mbox", "smtp", "irc", "capture" */
	const char	*context;	/* the context it serves */
	int	(*init)(struct fmn_backend *b, char **cause);
	/*
	 * Start a delivery. Everything d points to is valid only during
	 * the call: copy what you keep. The outcome comes later through
	 * b->done (possibly from inside this call). Returns -1 when the
	 * backend cannot take it now (the scheduler retries later).
	 */
	int	(*deliver)(struct fmn_backend *b, const struct fmn_delivery *d);
	/* Fill up to max poll items; returns how many. May be NULL. */
	int	(*pollitems)(struct fmn_backend *b, zmq_pollitem_t *items, int max);
	/* Called after every poll with the items it filled (revents set). */
	void	(*process)(struct fmn_backend *b, zmq_pollitem_t *items, int n);
	/* Milliseconds until process() is needed again; -1 for none. */
	long	(*timeout)(struct fmn_backend *b);
	/* Deliveries accepted and not yet done. */
	size_t	(*inflight)(struct fmn_backend *b);
	/*
	 * A backend with a session of its own (IRC) says whether it is up,
	 * with a few words in detail. May be NULL: the scheduler then
	 * judges by the last outcomes.
	 */
	enum fmn_backend_status (*status)(struct fmn_backend *b, char *detail,
	    size_t len);
	void	(*fini)(struct fmn_backend *b);
};

struct fmn_backend {
	const struct fmn_backend_ops	*ops;
	const struct fmn_config		*cfg;
	sqlite3				*db;	/* the daemon's connection */
	fmn_backend_done_cb		 done;
	void				*done_arg;
	void				*priv;	/* the backend's own state */
	/* Set by the daemon before init(): */
	const char			*context;	/* the context this instance serves */
	const char			*target;	/* what follows "scheme:" in its URL (mbox, capture path), or NULL */
};

/* The registry: every backend fmn knows, by name. */
const struct fmn_backend_ops *fmn_backend_lookup(const char *name);
/* All of them, NULL-terminated. */
const struct fmn_backend_ops *const *fmn_backend_all(void);

#endif
