/*
 * The IRC bot's flood control: token bucket, round-robin per-target
 * line queues and per-nick reply budgets (see fmn_irc_flood.h).
 */
#include "fmn_irc_flood.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

void
fmn_irc_bucket_init(struct fmn_irc_bucket *b, int burst, double interval_s,
    int64_t now_ms)
{
	b->burst = burst > 0 ? burst : 1;
	b->tokens = b->burst;
	b->interval_ms = interval_s > 0 ? interval_s * 1000.0 : 0;
	b->last_ms = now_ms;
}

static void
bucket_fill(struct fmn_irc_bucket *b, int64_t now_ms)
{
	if (b->interval_ms <= 0) {
		b->tokens = b->burst;
		return;
	}
	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) / b->interval_ms;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
	}
	b->last_ms = now_ms;
}

int
fmn_irc_bucket_take(struct fmn_irc_bucket *b, int64_t now_ms)
{
	bucket_fill(b, now_ms);
	/* A hair of slack so float rounding does not cost a whole wait. */
	if (b->tokens < 1.0 - 1e-9)
		return 0;
	b->tokens -= 1.0;
	if (b->tokens < 0)
		b->tokens = 0;
	return 1;
}

void
fmn_irc_bucket_refund(struct fmn_irc_bucket *b)
{
	b->tokens += 1.0;
	if (b->tokens > b->burst)
		b->tokens = b->burst;
}

long
fmn_irc_bucket_wait(struct fmn_irc_bucket *b, int64_t now_ms)
{
	double ms;

	bucket_fill(b, now_ms);
	if (b->tokens >= 1.0 - 1e-9)
		return 0;
	ms = (1.0 - b->tokens) * b->interval_ms;
	return (long)ms + 1;
}

int
fmn_irc_budget_idle(const struct fmn_irc_budget *b, int64_t now_ms,
    int64_t window_ms)
{
	return !b->open || now_ms - b->start_ms >= window_ms;
}

int
fmn_irc_budget_take(struct fmn_irc_budget *b, int64_t now_ms,
    int64_t window_ms, int limit, size_t lines)
{
	if (fmn_irc_budget_idle(b, now_ms, window_ms)) {
		b->open = 1;
		b->start_ms = now_ms;
		b->used = 0;
	}
	if (b->used > 0 && (b->used >= limit ||
	    lines > (size_t)(limit - b->used)))
		return 0;
	b->used = lines > (size_t)INT_MAX - (size_t)b->used ? INT_MAX :
	    b->used + (int)lines;
	return 1;
}

void
fmn_irc_line_free(struct fmn_irc_line *l)
{
	if (l == NULL)
		return;
	free(l->nick);
	free(l->text);
	free(l);
}

/* The lines waiting for one nick. */
struct queue_target {
	char			*key;
	struct fmn_irc_line	*head;
	struct fmn_irc_line	*tail;
};

/*
 * Targets form a ring (an array and a cursor): pop takes one line from
 * the target at the cursor and moves on, so each target with lines gets
 * one line per round whatever the length of its backlog.
 */
struct fmn_irc_queue {
	struct queue_target	**t;
	size_t			  n, cap;
	size_t			  cursor;
	size_t			  lines;
};

struct fmn_irc_queue *
fmn_irc_queue_new(void)
{
	return xcalloc(1, sizeof(struct fmn_irc_queue));
}

static void
target_free(struct queue_target *t)
{
	struct fmn_irc_line *l, *next;

	for (l = t->head; l != NULL; l = next) {
		next = l->next;
		fmn_irc_line_free(l);
	}
	free(t->key);
	free(t);
}

void
fmn_irc_queue_clear(struct fmn_irc_queue *q)
{
	size_t i;

	for (i = 0; i < q->n; i++)
		target_free(q->t[i]);
	q->n = 0;
	q->cursor = 0;
	q->lines = 0;
}

void
fmn_irc_queue_destroy(struct fmn_irc_queue **qp)
{
	struct fmn_irc_queue *q = *qp;

	if (q == NULL)
		return;
	fmn_irc_queue_clear(q);
	free(q->t);
	free(q);
	*qp = NULL;
}

static size_t
queue_find(const struct fmn_irc_queue *q, const char *key)
{
	size_t i;

	for (i = 0; i < q->n; i++) {
		if (strcmp(q->t[i]->key, key) == 0)
			return i;
	}
	return (size_t)-1;
}

/* Insert a new empty target at position at. */
static struct queue_target *
queue_insert(struct fmn_irc_queue *q, const char *key, size_t at)
{
	struct queue_target *t;

	if (q->n == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->t = xreallocarray(q->t, q->cap, sizeof(*q->t));
	}
	memmove(q->t + at + 1, q->t + at, (q->n - at) * sizeof(*q->t));
	t = xcalloc(1, sizeof(*t));
	t->key = xstrdup(key);
	q->t[at] = t;
	q->n++;
	if (at < q->cursor)
		q->cursor++;
	return t;
}

static void
queue_remove(struct fmn_irc_queue *q, size_t at)
{
	target_free(q->t[at]);
	memmove(q->t + at, q->t + at + 1, (q->n - at - 1) * sizeof(*q->t));
	q->n--;
	if (at < q->cursor)
		q->cursor--;
	if (q->cursor >= q->n)
		q->cursor = 0;
}

void
fmn_irc_queue_push(struct fmn_irc_queue *q, const char *nick, const char *key,
    const char *text, long long tag)
{
	struct queue_target *t;
	struct fmn_irc_line *l;
	size_t i = queue_find(q, key);

	t = i != (size_t)-1 ? q->t[i] : queue_insert(q, key, q->n);
	l = xcalloc(1, sizeof(*l));
	l->nick = xstrdup(nick);
	l->text = xstrdup(text);
	l->tag = tag;
	if (t->tail != NULL)
		t->tail->next = l;
	else
		t->head = l;
	t->tail = l;
	q->lines++;
}

struct fmn_irc_line *
fmn_irc_queue_pop(struct fmn_irc_queue *q)
{
	struct queue_target *t;
	struct fmn_irc_line *l;

	if (q->n == 0)
		return NULL;
	if (q->cursor >= q->n)
		q->cursor = 0;
	t = q->t[q->cursor];
	l = t->head;
	t->head = l->next;
	if (t->head == NULL) {
		t->tail = NULL;
		queue_remove(q, q->cursor);
	} else
		q->cursor = (q->cursor + 1) % q->n;
	l->next = NULL;
	q->lines--;
	return l;
}

void
fmn_irc_queue_unpop(struct fmn_irc_queue *q, const char *key,
    struct fmn_irc_line *l)
{
	struct queue_target *t;
	size_t i = queue_find(q, key);

	if (i == (size_t)-1) {
		i = q->n == 0 ? 0 : q->cursor;
		t = queue_insert(q, key, i);
	} else
		t = q->t[i];
	q->cursor = i;
	l->next = t->head;
	t->head = l;
	if (t->tail == NULL)
		t->tail = l;
	q->lines++;
}

size_t
fmn_irc_queue_drop_tag(struct fmn_irc_queue *q, long long tag)
{
	struct fmn_irc_line **lp, *l;
	size_t i = 0, dropped = 0;

	while (i < q->n) {
		struct queue_target *t = q->t[i];

		t->tail = NULL;
		for (lp = &t->head; (l = *lp) != NULL;) {
			if (l->tag == tag) {
				*lp = l->next;
				fmn_irc_line_free(l);
				dropped++;
			} else {
				t->tail = l;
				lp = &l->next;
			}
		}
		if (t->head == NULL)
			queue_remove(q, i);
		else
			i++;
	}
	q->lines -= dropped;
	return dropped;
}

size_t
fmn_irc_queue_lines(const struct fmn_irc_queue *q)
{
	return q->lines;
}

size_t
fmn_irc_queue_targets(const struct fmn_irc_queue *q)
{
	return q->n;
}

size_t
fmn_irc_queue_target_lines(const struct fmn_irc_queue *q, const char *key)
{
	const struct fmn_irc_line *l;
	size_t i = queue_find(q, key), n = 0;

	if (i == (size_t)-1)
		return 0;
	for (l = q->t[i]->head; l != NULL; l = l->next)
		n++;
	return n;
}
