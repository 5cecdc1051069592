/*
 * Worker threads for backends whose library blocks; see fmn_workers.h.
 *
 * One mutex guards the queue, the list of finished jobs and the stop
 * flag; workers sleep on a condition variable while the queue is empty.
 * A worker that finishes a job into an empty done list writes to an
 * eventfd, which the daemon's loop polls; the loop drains the eventfd
 * before it takes the list, so a job finished after the take writes
 * again and none waits unseen. Workers block every signal: SIGTERM and
 * SIGHUP are for the loop's thread, whose poll they interrupt.
 */
#include "fmn_workers.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "fmn_util.h"

struct fmn_workers {
	const struct fmn_workers_ops *ops;
	void			*arg;
	pthread_t		*threads;
	int			 n_threads;	/* started */
	int			 fd;		/* eventfd: finished jobs wait */

	pthread_mutex_t		 lock;
	pthread_cond_t		 cond;		/* the queue has a job, or stop */
	/* Under lock: */
	struct fmn_workers_job	*queue, *queue_tail;
	struct fmn_workers_job	*done;
	int			 stop;

	/* The loop's own: */
	struct fmn_workers_job	*collected;	/* taken from done, not returned yet */
	size_t			 pending;
};

static void
workers_wake_loop(struct fmn_workers *w)
{
	uint64_t one = 1;

	/* Cannot fail: the loop drains the counter long before it fills. */
	while (write(w->fd, &one, sizeof(one)) == -1 && errno == EINTR)
		;
}

static void *
workers_main(void *arg)
{
	struct fmn_workers *w = arg;
	struct fmn_workers_job *job;
	void *state = NULL;
	int wake;

	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (!w->stop && w->queue == NULL)
			pthread_cond_wait(&w->cond, &w->lock);
		if (w->stop)
			break;
		job = w->queue;
		if ((w->queue = job->next) == NULL)
			w->queue_tail = NULL;
		job->next = NULL;
		pthread_mutex_unlock(&w->lock);

		w->ops->run(w->arg, &state, job);

		pthread_mutex_lock(&w->lock);
		wake = w->done == NULL;
		job->next = w->done;
		w->done = job;
		if (wake)
			workers_wake_loop(w);
	}
	pthread_mutex_unlock(&w->lock);
	if (w->ops->end != NULL)
		w->ops->end(w->arg, state);
	return NULL;
}

struct fmn_workers *
fmn_workers_new(int n, const struct fmn_workers_ops *ops, void *arg,
    char **cause)
{
	struct fmn_workers *w;
	sigset_t all, old;
	int i, error;

	w = xcalloc(1, sizeof(*w));
	w->ops = ops;
	w->arg = arg;
	if ((w->fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1) {
		fmn_set_cause(cause, "eventfd: %s", strerror(errno));
		free(w);
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->cond, NULL);
	w->threads = xcalloc((size_t)n, sizeof(*w->threads));

	/* The workers inherit the mask in force when they are created. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (i = 0; i < n; i++) {
		error = pthread_create(&w->threads[i], NULL, workers_main, w);
		if (error != 0) {
			fmn_set_cause(cause, "cannot start a worker thread: "
			    "%s", strerror(error));
			break;
		}
		w->n_threads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (w->n_threads < n) {
		fmn_workers_destroy(&w);
		return NULL;
	}
	return w;
}

static void
workers_free_list(struct fmn_workers *w, struct fmn_workers_job *job)
{
	struct fmn_workers_job *next;

	for (; job != NULL; job = next) {
		next = job->next;
		w->ops->free(job);
	}
}

void
fmn_workers_destroy(struct fmn_workers **wp)
{
	struct fmn_workers *w = *wp;
	int i;

	if (w == NULL)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = 1;
	pthread_cond_broadcast(&w->cond);
	pthread_mutex_unlock(&w->lock);
	for (i = 0; i < w->n_threads; i++)
		pthread_join(w->threads[i], NULL);

	workers_free_list(w, w->queue);
	workers_free_list(w, w->done);
	workers_free_list(w, w->collected);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->cond);
	close(w->fd);
	free(w->threads);
	free(w);
	*wp = NULL;
}

void
fmn_workers_push(struct fmn_workers *w, struct fmn_workers_job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&w->lock);
	if (w->queue_tail != NULL)
		w->queue_tail->next = job;
	else
		w->queue = job;
	w->queue_tail = job;
	pthread_cond_signal(&w->cond);
	pthread_mutex_unlock(&w->lock);
	w->pending++;
}

int
fmn_workers_fd(const struct fmn_workers *w)
{
	return w->fd;
}

struct fmn_workers_job *
fmn_workers_done(struct fmn_workers *w)
{
	struct fmn_workers_job *job;
	uint64_t count;

	if (w->collected == NULL) {
		/* Drain first: what finishes after the take writes again. */
		while (read(w->fd, &count, sizeof(count)) == -1 &&
		    errno == EINTR)
			;
		pthread_mutex_lock(&w->lock);
		w->collected = w->done;
		w->done = NULL;
		pthread_mutex_unlock(&w->lock);
	}
	if ((job = w->collected) == NULL)
		return NULL;
	w->collected = job->next;
	job->next = NULL;
	w->pending--;
	return job;
}

size_t
fmn_workers_pending(const struct fmn_workers *w)
{
	return w->pending;
}

int
fmn_workers_stopping(struct fmn_workers *w)
{
	int stop;

	pthread_mutex_lock(&w->lock);
	stop = w->stop;
	pthread_mutex_unlock(&w->lock);
	return stop;
}
