/*
 * The daemon's inside, shared by the files that make it: its state
 * (struct fmn_daemon), the loop's timings, and what one file does for
 * another. fmn_daemon.c starts, runs and stops it; fmn_intake.c takes
 * messages into the database; fmn_timers.c does the loop's timed work
 * (deliveries, live changes, housekeeping, the status row). Only
 * fmnd/fmn_daemon.c, fmn_intake.c and fmn_timers.c include this.
 */
#ifndef FMN_DAEMON_INT_H
#define FMN_DAEMON_INT_H

#include <stdint.h>
#include <sqlite3.h>

#include "fmn_batch.h"
#include "fmn_catchup.h"
#include "fmn_checkpoint.h"
#include "fmn_counters.h"
#include "fmn_daemon.h"
#include "fmn_facts.h"
#include "fmn_hmap.h"
#include "fmn_http.h"
#include "fmn_match.h"
#include "fmn_queue.h"
#include "fmn_reader.h"
#include "fmn_sched.h"

#define DAEMON_DEFAULT_ENDPOINT	"tcp://127.0.0.1:9940"
#define DAEMON_BATCH_MAX	2000	/* messages per intake transaction */
#define DAEMON_BATCH_MS		50	/* time per intake transaction */
#define DAEMON_DISPATCH_MAX	2000	/* deliveries handed per pass */
#define DAEMON_DISPATCH_CHUNK	32	/* deliveries handed per commit */
#define DAEMON_TICK_MS		250	/* scheduler: retries, digests */
#define DAEMON_CHANGES_MS	200	/* PRAGMA data_version poll */
#define DAEMON_FLUSH_MS		1000	/* counters persisted */
#define DAEMON_CONFIRM_MS	1000	/* confirmation requests */
#define DAEMON_PRUNE_MS		60000	/* changes rows already read, retention */
#define DAEMON_EXPIRE_ROWS	5000	/* old rows removed per pass and table */
#define DAEMON_STOP_MS		5000	/* SIGTERM to exit, at most */
#define DAEMON_ABANDON_MS	1000	/* of which backends need to give up
					 * what they still do (fini) */
#define DAEMON_FULL_RELOAD	1000	/* users changed at once: recompile all */
#define DAEMON_MAX_POLL		64
#define DAEMON_BURST_MS		250	/* a burst lasts this long after the last full batch */
#define DAEMON_HEARTBEAT_MS	10000	/* the daemon row is rewritten at least this often */
#define DAEMON_BUSY_MS		1000	/* SQLite busy timeout of the loop's connection */
#define DAEMON_RETRY_MIN_MS	100	/* first retry of a failed intake transaction */
#define DAEMON_RETRY_MAX_MS	5000	/* backoff cap */
#define DAEMON_ISOLATE_AFTER	3	/* failures before messages go one by one */

struct fmn_daemon {
	const struct fmn_daemon_args *args;
	struct fmn_config	*cfg;
	int			 lock_fd;	/* DB.lock, held while we run */
	double			 started;
	sqlite3			*db;
	void			*zctx;
	struct fmn_reader	*reader;	/* the intake thread and its bus */
	struct fmn_checkpointer	*checkpointer;
	struct fmn_http		*http;		/* [http] listen, or NULL */
	struct fmn_catchup	*catchup;	/* [catchup] url, or NULL */
	int			 reader_done;	/* its last batch is in */
	/*
	 * Batches taken from the intake thread whose transaction failed
	 * (a busy, full or failing database): kept, in order, and tried
	 * again after a backoff; nothing more is taken meanwhile, so the
	 * intake thread and then ZeroMQ hold the rest.
	 */
	struct fmn_reader_batch	**held;
	size_t			 nheld, held_cap;
	int			 intake_failures;	/* in a row */
	int64_t			 intake_retry_at;
	int			 isolate;	/* one savepoint per message */
	int			 deliver_failures;	/* in a row */
	int64_t			 deliver_retry_at;
	int64_t			 burst_until;	/* intake first until then */
	struct fmn_counters	 counters;
	struct fmn_queue	*queue;
	struct fmn_batch	*batch;
	struct fmn_sched	*sched;
	struct fmn_engine	*engine;
	struct fmn_defs		*defs;
	struct fmn_aliases	*aliases;
	struct fmn_recipients	 recips;
	int			*batched;	/* per recipient: held for a digest */
	int			*queued;	/* per recipient: row inserted */
	size_t			 flags_cap;
	unsigned long long	 rule_errors;	/* engine's count already counted */
	long long		 changes_seen;	/* highest changes.seq handled */
	long long		 data_version;
	sqlite3_stmt		*st_data_version;
	sqlite3_stmt		*st_changes;
	sqlite3_stmt		*st_prune;
	sqlite3_stmt		*st_oneshots;
	sqlite3_stmt		*st_max_seq;
	sqlite3_stmt		*st_status;	/* the daemon row */
	char			*backends_seen;	/* as last written there */
	char			*status_sent;	/* the last STATUS= to systemd */
	int64_t			 next_heartbeat;
	struct fmn_hmap		 oneshot_prefs;	/* preferences with an active oneshot filter */
	int			 dispatch;	/* due work: run the scheduler */
	int64_t			 next_tick, next_changes, next_flush;
	int64_t			 next_confirm, next_prune;
};

/* fmn_daemon.c */
/* The first column of st's first row, or -1. */
long long daemon_query_int(sqlite3_stmt *st);
/* Which preferences have a oneshot filter to switch off when it fires. */
void daemon_load_oneshots(struct fmn_daemon *d);
/* A copy of the aliases for the intake thread; NULL after logging why. */
struct fmn_aliases *daemon_aliases_copy(struct fmn_daemon *d);
/* The built-in definitions and the configured file over them. */
int daemon_load_facts(struct fmn_daemon *d, const struct fmn_config *c,
    struct fmn_defs **defsp, char **cause);
/* SIGHUP: take what can change live, say what needs a restart. */
void daemon_reload(struct fmn_daemon *d);

/* fmn_intake.c: intake, and the transactions every part shares. */
void daemon_intake(struct fmn_daemon *d);
/* Recompile these users (a full reload when they are many). */
void daemon_reload_users(struct fmn_daemon *d, struct fmn_hmap *users);
/* Milliseconds before trying the database again after failures in a row. */
int64_t daemon_backoff(int failures);
/* Is a failed statement worth trying again as it is (busy, full...)? */
int daemon_transient(int rc);
/* Commit (-1: everything rolled back), roll back, and what follows a rollback. */
int daemon_commit(struct fmn_daemon *d);
void daemon_rollback(struct fmn_daemon *d);
void daemon_rolled_back(struct fmn_daemon *d);

/* fmn_timers.c: what the loop does on its timers. */
void daemon_deliver(struct fmn_daemon *d, int tick, int confirm, int burst);
void daemon_changes(struct fmn_daemon *d, int timer);
int64_t daemon_prune_interval(const struct fmn_daemon *d);
void daemon_prune(struct fmn_daemon *d);
void daemon_flush(struct fmn_daemon *d);
int daemon_status_write(struct fmn_daemon *d, const char *backends,
    double stopped);
char *daemon_backends_json(struct fmn_daemon *d);
void daemon_notify_status(struct fmn_daemon *d, const char *backends);

#endif
