/*
 * The checkpoint thread (see fmn_checkpoint.h). Checkpoints are PASSIVE:
 * they copy what no reader still needs and never block the writer, so
 * in a long burst the WAL grows, and the writer starts it afresh once a
 * checkpoint has caught up; journal_size_limit then trims the file.
 */
#include "fmn_checkpoint.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <time.h>

#include "fmn_store.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define CHECKPOINT_PAGES	4096	/* WAL pages that call for a checkpoint */
#define CHECKPOINT_IDLE_MS	1000	/* and at least this often */

struct fmn_checkpointer {
	sqlite3		*loop_db;	/* the hooked connection */
	sqlite3		*db;		/* the thread's own */
	pthread_t	 thread;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;
	int		 wanted;	/* the WAL has grown: checkpoint now */
	int		 stop;
	int		 started;
};

static int
checkpoint_hook(void *arg, sqlite3 *db, const char *name, int pages)
{
	struct fmn_checkpointer *c = arg;

	(void)db;
	(void)name;
	if (pages >= CHECKPOINT_PAGES) {
		pthread_mutex_lock(&c->lock);
		c->wanted = 1;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
	}
	return SQLITE_OK;
}

static void
checkpoint_run(struct fmn_checkpointer *c)
{
	int log = 0, done = 0, rc;

	rc = sqlite3_wal_checkpoint_v2(c->db, NULL, SQLITE_CHECKPOINT_PASSIVE,
	    &log, &done);
	if (rc != SQLITE_OK && rc != SQLITE_BUSY)
		log_warn("checkpoint: %s", sqlite3_errmsg(c->db));
}

static void *
checkpoint_main(void *arg)
{
	struct fmn_checkpointer *c = arg;
	struct timespec ts;
	int stop;

	prctl(PR_SET_NAME, "fmnd-checkpoint", 0, 0, 0);
	pthread_mutex_lock(&c->lock);
	while (!c->stop) {
		if (!c->wanted) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += CHECKPOINT_IDLE_MS / 1000;
			pthread_cond_timedwait(&c->cond, &c->lock, &ts);
		}
		c->wanted = 0;
		stop = c->stop;
		pthread_mutex_unlock(&c->lock);
		checkpoint_run(c);
		pthread_mutex_lock(&c->lock);
		if (stop)
			break;
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

struct fmn_checkpointer *
fmn_checkpointer_new(sqlite3 *db, const char *path, char **cause)
{
	struct fmn_checkpointer *c = xcalloc(1, sizeof(*c));

	c->loop_db = db;
	pthread_mutex_init(&c->lock, NULL);
	pthread_cond_init(&c->cond, NULL);
	if ((c->db = fmn_store_open(path, cause)) == NULL)
		goto fail;
	if (fmn_store_exec(db, "PRAGMA wal_autocheckpoint = 0", cause) != 0 ||
	    fmn_store_exec(db, "PRAGMA journal_size_limit = 67108864",
	    cause) != 0)
		goto fail;
	if (pthread_create(&c->thread, NULL, checkpoint_main, c) != 0) {
		fmn_set_cause(cause, "checkpoint thread: cannot start");
		goto fail;
	}
	c->started = 1;
	sqlite3_wal_hook(db, checkpoint_hook, c);
	return c;
fail:
	fmn_checkpointer_destroy(&c);
	return NULL;
}

void
fmn_checkpointer_destroy(struct fmn_checkpointer **cp)
{
	struct fmn_checkpointer *c = *cp;

	if (c == NULL)
		return;
	if (c->started) {
		sqlite3_wal_hook(c->loop_db, NULL, NULL);
		pthread_mutex_lock(&c->lock);
		c->stop = 1;
		pthread_cond_signal(&c->cond);
		pthread_mutex_unlock(&c->lock);
		pthread_join(c->thread, NULL);
	} else if (c->loop_db != NULL)
		/* Not started: the loop's connection checkpoints itself. */
		sqlite3_exec(c->loop_db, "PRAGMA wal_autocheckpoint = 1000",
		    NULL, NULL, NULL);
	fmn_store_close(&c->db);
	pthread_mutex_destroy(&c->lock);
	pthread_cond_destroy(&c->cond);
	free(c);
	*cp = NULL;
}
