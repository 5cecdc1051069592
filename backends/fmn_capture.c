/*
 * The capture backend, for tests and benchmarks: every delivery becomes
 * one JSON line appended to a file (the backend's target), with the
 * wall-clock time of the hand-off so that a benchmark can measure the
 * latency from publish to delivery. It serves any context.
 *
 * Two test hooks make failures reproducible without a real server: an
 * address whose local part starts with "permfail" is refused for good,
 * and one that starts with "tempfail" fails temporarily for as long as
 * the file TARGET.tempfail exists.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "fmn_backend.h"
#include "fmn_log.h"
#include "fmn_util.h"

struct capture {
	int	 fd;		/* the file, O_APPEND; read once to repair */
	char	*tempfail_path;
};

static void	capture_repair(int, const char *);

static int
capture_init(struct fmn_backend *b, char **cause)
{
	struct capture *c;
	int fd;

	if (b->target == NULL || *b->target == '\0') {
		fmn_set_cause(cause, "capture: no file given (capture:PATH)");
		return -1;
	}
	if ((fd = open(b->target, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC,
	    0644)) == -1) {
		fmn_set_cause(cause, "capture: %s: %s", b->target,
		    strerror(errno));
		return -1;
	}
	capture_repair(fd, b->target);
	c = xcalloc(1, sizeof(*c));
	c->fd = fd;
	c->tempfail_path = xasprintf("%s.tempfail", b->target);
	b->priv = c;
	return 0;
}

static json_t *
capture_strset(const struct fmn_strset *s)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++)
		json_array_append_new(a, json_string(s->v[i]));
	return a;
}

static json_t *
capture_str(const char *s)
{
	json_t *j = s != NULL ? json_string(s) : NULL;

	/* Text from the bus is valid UTF-8; anything else is recorded as null. */
	return j != NULL ? j : json_null();
}

static const char *
capture_kind(enum fmn_delivery_kind k)
{
	switch (k) {
	case FMN_DELIVERY_SINGLE:
		return "single";
	case FMN_DELIVERY_DIGEST:
		return "digest";
	case FMN_DELIVERY_CONFIRM:
		return "confirm";
	}
	return "?";
}

/*
 * Append one line, whole or not at all: a full disk or a file-size limit
 * leaves no half line for the reader to choke on.  The text and its
 * newline go in one write, so a kill between two writes cannot leave a
 * line without its end either.
 */
static int
capture_write(int fd, const char *line)
{
	size_t len = strlen(line), off = 0;
	struct stat st;
	char *buf;
	ssize_t w;
	int save;

	if (fstat(fd, &st) != 0)
		return -1;
	buf = xmalloc(len + 1);
	memcpy(buf, line, len);
	buf[len++] = '\n';
	while (off < len) {
		w = write(fd, buf + off, len - off);
		if (w == -1) {
			if (errno == EINTR)
				continue;
			save = errno;
			if (ftruncate(fd, st.st_size) == -1)
				log_warn("capture: cannot undo a partial "
				    "write: %s", strerror(errno));
			free(buf);
			errno = save;
			return -1;
		}
		off += (size_t)w;
	}
	free(buf);
	return 0;
}

/*
 * A daemon killed in the middle of a write leaves a line without its
 * newline.  That delivery was never recorded as done and will be made
 * again, so the half line is cut off rather than joined to the next.
 */
static void
capture_repair(int fd, const char *path)
{
	char buf[4096];
	struct stat st;
	off_t end, at;
	ssize_t n, i;

	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
		return;
	end = st.st_size;
	while (end > 0) {
		at = end > (off_t)sizeof(buf) ? end - (off_t)sizeof(buf) : 0;
		if ((n = pread(fd, buf, (size_t)(end - at), at)) <= 0)
			return;
		for (i = n; i > 0; i--) {
			if (buf[i - 1] == '\n') {
				end = at + i;
				goto found;
			}
		}
		end = at;
	}
found:
	if (end == st.st_size)
		return;
	log_warn("capture: %s: cutting a partial last line (%jd bytes)",
	    path, (intmax_t)(st.st_size - end));
	if (ftruncate(fd, end) == -1)
		log_warn("capture: %s: %s", path, strerror(errno));
}

static int
capture_deliver(struct fmn_backend *b, const struct fmn_delivery *d)
{
	struct capture *c = b->priv;
	json_t *o, *notices;
	const char *addr = d->address != NULL ? d->address : "";
	char *line, *error;
	size_t i;

	if (strncmp(addr, "permfail", 8) == 0) {
		b->done(b->done_arg, d->id, FMN_RESULT_PERMFAIL,
		    "550 capture: recipient refused");
		return 0;
	}
	if (strncmp(addr, "tempfail", 8) == 0 &&
	    access(c->tempfail_path, F_OK) == 0) {
		b->done(b->done_arg, d->id, FMN_RESULT_TEMPFAIL,
		    "451 capture: try again later");
		return 0;
	}

	notices = json_array();
	for (i = 0; i < d->n_notices; i++) {
		const struct fmn_notice *n = &d->notices[i];

		json_array_append_new(notices, json_pack("{s:I s:o s:o s:o s:f "
		    "s:o s:o s:o s:o s:o s:o}",
		    "notification_id", (json_int_t)n->notification_id,
		    "msg_id", capture_str(n->msg_id),
		    "topic", capture_str(n->topic),
		    "category", capture_str(n->category),
		    "timestamp", n->timestamp,
		    "subtitle", capture_str(n->subtitle),
		    "link", capture_str(n->link),
		    "long_form", capture_str(n->long_form),
		    "filter", capture_str(n->filter),
		    "usernames", capture_strset(n->usernames),
		    "packages", capture_strset(n->packages)));
	}
	o = json_pack("{s:f s:s s:s s:o s:I s:o s:b s:b s:I s:o s:o}",
	    "t", fmn_now(),
	    "kind", capture_kind(d->kind),
	    "context", d->context != NULL ? d->context : "",
	    "user", capture_str(d->user),
	    "destination_id", (json_int_t)d->destination_id,
	    "address", capture_str(d->address),
	    "verbose", d->verbose,
	    "markup", d->markup,
	    "n_omitted", (json_int_t)d->n_omitted,
	    "secret", capture_str(d->secret),
	    "notices", notices);
	if (o == NULL) {
		b->done(b->done_arg, d->id, FMN_RESULT_TEMPFAIL,
		    "capture: cannot encode the delivery");
		return 0;
	}
	line = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(o);
	if (line == NULL || capture_write(c->fd, line) != 0) {
		error = xasprintf("capture: cannot write the file: %s",
		    line == NULL ? "cannot encode" : strerror(errno));
		free(line);
		b->done(b->done_arg, d->id, FMN_RESULT_TEMPFAIL, error);
		free(error);
		return 0;
	}
	free(line);
	b->done(b->done_arg, d->id, FMN_RESULT_DELIVERED, NULL);
	return 0;
}

static size_t
capture_inflight(struct fmn_backend *b)
{
	(void)b;
	return 0;
}

static void
capture_fini(struct fmn_backend *b)
{
	struct capture *c = b->priv;

	if (c == NULL)
		return;
	close(c->fd);
	free(c->tempfail_path);
	free(c);
	b->priv = NULL;
}

const struct fmn_backend_ops fmn_backend_capture = {
	.name = "capture",
	.context = NULL,
	.init = capture_init,
	.deliver = capture_deliver,
	.inflight = capture_inflight,
	.fini = capture_fini,
};
