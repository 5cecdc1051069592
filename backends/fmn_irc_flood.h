/*
 * Flood control for the IRC bot: a token bucket (a burst of lines, then
 * one line per interval), a queue of lines per target nick served
 * round-robin, so one person with a long backlog cannot hold back the
 * notifications of everybody else, and a reply budget per nick, so
 * nobody can make the bot talk much by talking to it. Times are
 * monotonic milliseconds passed in by the caller, which keeps all three
 * testable without a clock.
 */
#ifndef FMN_IRC_FLOOD_H
#define FMN_IRC_FLOOD_H

#include <stddef.h>
#include <stdint.h>

struct fmn_irc_bucket {
	double	 tokens;
	double	 burst;		/* capacity */
	double	 interval_ms;	/* one token per interval; 0: unlimited */
	int64_t	 last_ms;	/* when tokens was last brought up to date */
};

void fmn_irc_bucket_init(struct fmn_irc_bucket *b, int burst,
    double interval_s, int64_t now_ms);
/* Take a token: 1 if there was one, 0 if the caller must wait. */
int fmn_irc_bucket_take(struct fmn_irc_bucket *b, int64_t now_ms);
/* Give back a token taken for a line that could not be sent after all. */
void fmn_irc_bucket_refund(struct fmn_irc_bucket *b);
/* Milliseconds until a token is available (0: now). */
long fmn_irc_bucket_wait(struct fmn_irc_bucket *b, int64_t now_ms);

/*
 * How many reply lines one nick has had in its current window. A window
 * starts with the first reply after the previous one ended, so a nick
 * that was told "limit" lines hears nothing more until window_ms after
 * the first of them.
 */
struct fmn_irc_budget {
	int64_t	 start_ms;	/* when the current window began */
	int	 used;		/* lines charged in it */
	int	 open;		/* a window has begun (start_ms is meaningful) */
};

/*
 * May a reply of lines lines go out at now_ms? It may when it fits in
 * what is left of limit, or when it is the first reply of a window (a
 * single answer, such as a long filter list, is never cut or refused for
 * its length alone). If so it is charged and 1 returned; otherwise 0 and
 * nothing changes.
 */
int fmn_irc_budget_take(struct fmn_irc_budget *b, int64_t now_ms,
    int64_t window_ms, int limit, size_t lines);
/* 1 once the window has passed: the budget is whole again (forgettable). */
int fmn_irc_budget_idle(const struct fmn_irc_budget *b, int64_t now_ms,
    int64_t window_ms);

/* One queued line. */
struct fmn_irc_line {
	char			*nick;	/* the target as it will be sent */
	char			*text;
	long long		 tag;	/* the delivery it belongs to; 0: none */
	struct fmn_irc_line	*next;
};
void fmn_irc_line_free(struct fmn_irc_line *l);

struct fmn_irc_queue;

struct fmn_irc_queue *fmn_irc_queue_new(void);
void fmn_irc_queue_destroy(struct fmn_irc_queue **qp);
/* Append a line for nick; key is the nick case-folded (its queue's identity). */
void fmn_irc_queue_push(struct fmn_irc_queue *q, const char *nick,
    const char *key, const char *text, long long tag);
/* The next line in round-robin order across targets, or NULL; caller frees. */
struct fmn_irc_line *fmn_irc_queue_pop(struct fmn_irc_queue *q);
/* Put a popped line back at the head of its target's queue (send failed). */
void fmn_irc_queue_unpop(struct fmn_irc_queue *q, const char *key,
    struct fmn_irc_line *l);
/* Drop every line with this tag; returns how many. */
size_t fmn_irc_queue_drop_tag(struct fmn_irc_queue *q, long long tag);
/* Drop everything. */
void fmn_irc_queue_clear(struct fmn_irc_queue *q);
size_t fmn_irc_queue_lines(const struct fmn_irc_queue *q);
size_t fmn_irc_queue_targets(const struct fmn_irc_queue *q);
/* Lines waiting for the target with this key. */
size_t fmn_irc_queue_target_lines(const struct fmn_irc_queue *q,
    const char *key);

#endif
