/*
 * A pool of worker threads for a backend whose library blocks (libcurl
 * waits for the SMTP server's reply to the end of a message even inside
 * its multi interface). The daemon's loop pushes jobs; each worker takes
 * them one at a time in order and runs them; finished jobs come back to
 * the loop, which learns of them by polling a file descriptor. Jobs cross
 * between threads only through the pool's lists, under its mutex.
 *
 * Ownership: a job belongs to the pool from fmn_workers_push until
 * fmn_workers_done returns it; fmn_workers_destroy frees (ops->free) the jobs
 * that were never run or never collected.
 */
#ifndef FMN_WORKERS_H
#define FMN_WORKERS_H

#include <stddef.h>

/* The pool's link; the first member of a backend's own job struct. */
struct fmn_workers_job {
	struct fmn_workers_job	*next;
};

struct fmn_workers_ops {
	/*
	 * In a worker thread: do one job and leave its outcome in it.
	 * *state is the worker's own (NULL at first), kept from one job
	 * to the next: a connection, a library handle.
	 */
	void	(*run)(void *arg, void **state, struct fmn_workers_job *job);
	/* In a worker thread as it ends: free its state. May be NULL. */
	void	(*end)(void *arg, void *state);
	/* Free a job fmn_workers_destroy found not collected. */
	void	(*free)(struct fmn_workers_job *job);
};

struct fmn_workers;

/* Start n workers; arg is passed to every op. NULL and *cause on error. */
struct fmn_workers *fmn_workers_new(int n, const struct fmn_workers_ops *ops,
    void *arg, char **cause);
/*
 * Stop: fmn_workers_stopping becomes true, workers finish or give up the job
 * they run and are joined; jobs not collected are freed without a word.
 * NULLs the caller's pointer.
 */
void	fmn_workers_destroy(struct fmn_workers **wp);

/* The loop's side; call these from one thread only. */
void	fmn_workers_push(struct fmn_workers *w, struct fmn_workers_job *job);
/* Readable (POLLIN) when finished jobs wait to be collected. */
int	fmn_workers_fd(const struct fmn_workers *w);
/* The next finished job, in no particular order, or NULL. */
struct fmn_workers_job *fmn_workers_done(struct fmn_workers *w);
/* Jobs pushed and not yet collected: waiting, running or finished. */
size_t	fmn_workers_pending(const struct fmn_workers *w);

/*
 * For a worker's long calls (a progress callback): true once
 * fmn_workers_destroy has begun, and the job should be given up.
 */
int	fmn_workers_stopping(struct fmn_workers *w);

#endif
