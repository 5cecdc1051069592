/*
 * The mbox backend: the e-mail context delivered into a local mbox file,
 * the embedded default that needs no mail server. Each mail is rendered
 * by the same formatter as SMTP (fmn_mail_format), its line ends turned
 * into LF, lines starting with "From " quoted the mboxrd way, and
 * appended after a "From " separator line, so that `mutt -f FILE` reads
 * it. Deliveries accepted during one pass of the loop are written
 * together under an fcntl lock and made durable with one fsync; their
 * outcomes are reported after that fsync.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fmn_backend.h"
#include "fmn_mail.h"
#include "fmn_log.h"
#include "fmn_util.h"

#define MBOX_MAX_PENDING	64	/* deliveries per write and fsync */
#define MBOX_LOCK_RETRY_MS	100	/* another process holds the lock */

struct mbox {
	struct fmn_buf	 out;		/* mails not yet written */
	struct fmn_buf	 mail;		/* scratch for one rendered mail */
	long long	*pending;	/* their delivery ids */
	size_t		 n_pending;
	int64_t		 retry_at;	/* monotonic ms; 0: write at once */
};

static int
mbox_init(struct fmn_backend *b, char **cause)
{
	struct mbox *m;
	int fd;

	if (b->target == NULL || *b->target == '\0') {
		fmn_set_cause(cause, "mbox: no file given (mbox:PATH)");
		return -1;
	}
	/* Fail at start, not at the first delivery, when it cannot work. */
	if ((fd = open(b->target, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1) {
		fmn_set_cause(cause, "mbox: %s: %s", b->target,
		    strerror(errno));
		return -1;
	}
	close(fd);
	m = xcalloc(1, sizeof(*m));
	fmn_buf_init(&m->out);
	fmn_buf_init(&m->mail);
	m->pending = xreallocarray(NULL, MBOX_MAX_PENDING, sizeof(long long));
	b->priv = m;
	return 0;
}

/* Append one rendered mail (CRLF lines) to out as an mboxrd entry. */
static void
mbox_append(struct fmn_buf *out, const char *from, double now,
    const char *mail, size_t len)
{
	char date[64];
	time_t t = (time_t)now;
	struct tm tm;
	const char *p = mail, *end = mail + len, *eol;
	const char *sender = from;

	gmtime_r(&t, &tm);
	strftime(date, sizeof(date), "%a %b %e %H:%M:%S %Y", &tm);
	/* The separator's sender is one word: take the address part. */
	if (sender == NULL || *sender == '\0' || strpbrk(sender, " \t<>\r\n"))
		sender = "MAILER-DAEMON";
	fmn_buf_printf(out, "From %s %s\n", sender, date);
	while (p < end) {
		const char *q;
		size_t n;

		eol = memchr(p, '\n', (size_t)(end - p));
		n = eol != NULL ? (size_t)(eol - p) : (size_t)(end - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		for (q = p; q < p + n && *q == '>'; q++)
			;
		if ((size_t)(p + n - q) >= 5 && memcmp(q, "From ", 5) == 0)
			fmn_buf_addc(out, '>');
		fmn_buf_add(out, p, n);
		fmn_buf_addc(out, '\n');
		if (eol == NULL)
			break;
		p = eol + 1;
	}
	fmn_buf_addc(out, '\n');
}

static int
mbox_deliver(struct fmn_backend *b, const struct fmn_delivery *d)
{
	struct mbox *m = b->priv;
	char *cause = NULL;
	double now = fmn_now();

	if (m->n_pending == MBOX_MAX_PENDING)
		return -1;
	fmn_buf_reset(&m->mail);
	if (fmn_mail_format(d, b->cfg, now, &m->mail, &cause) != 0) {
		/* A delivery the formatter refuses will not get better. */
		b->done(b->done_arg, d->id, FMN_RESULT_PERMFAIL,
		    cause != NULL ? cause : "mbox: cannot format the mail");
		free(cause);
		return 0;
	}
	mbox_append(&m->out, b->cfg->mail_from, now, m->mail.data,
	    m->mail.len);
	m->pending[m->n_pending++] = d->id;
	return 0;
}

/* Write everything pending under the lock and fsync; 0, or -1 with errno. */
static int
mbox_write(struct mbox *m, const char *path, int *busy)
{
	struct flock fl;
	size_t off = 0;
	int fd, save;

	*busy = 0;
	if ((fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
	    0600)) == -1)
		return -1;
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		save = errno;
		close(fd);
		if (save == EACCES || save == EAGAIN)
			*busy = 1;
		errno = save;
		return -1;
	}
	while (off < m->out.len) {
		ssize_t w = write(fd, m->out.data + off, m->out.len - off);

		if (w == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)w;
	}
	if (fsync(fd) == -1)
		goto fail;
	close(fd);	/* releases the lock */
	return 0;
fail:
	save = errno;
	/* Leave no half mail behind for mutt to choke on. */
	if (off > 0) {
		off_t size = lseek(fd, 0, SEEK_END);

		if (size != (off_t)-1 && (off_t)off <= size &&
		    ftruncate(fd, size - (off_t)off) == -1)
			log_warn("mbox: %s: cannot undo a partial write: %s",
			    path, strerror(errno));
	}
	close(fd);
	errno = save;
	return -1;
}

static void
mbox_process(struct fmn_backend *b, zmq_pollitem_t *items, int n)
{
	struct mbox *m = b->priv;
	enum fmn_result result = FMN_RESULT_DELIVERED;
	char *error = NULL;
	size_t i, count;
	int busy;

	(void)items;
	(void)n;
	if (m->n_pending == 0 || fmn_monotonic_ms() < m->retry_at)
		return;
	if (mbox_write(m, b->target, &busy) != 0) {
		if (busy) {
			m->retry_at = fmn_monotonic_ms() + MBOX_LOCK_RETRY_MS;
			return;
		}
		error = xasprintf("mbox: %s: %s", b->target, strerror(errno));
		result = FMN_RESULT_TEMPFAIL;
	}
	m->retry_at = 0;
	fmn_buf_reset(&m->out);
	/* done() may call deliver() again: report from a copy. */
	count = m->n_pending;
	m->n_pending = 0;
	{
		long long ids[MBOX_MAX_PENDING];

		memcpy(ids, m->pending, count * sizeof(*ids));
		for (i = 0; i < count; i++)
			b->done(b->done_arg, ids[i], result, error);
	}
	free(error);
}

static long
mbox_timeout(struct fmn_backend *b)
{
	struct mbox *m = b->priv;
	int64_t now;

	if (m->n_pending == 0)
		return -1;
	now = fmn_monotonic_ms();
	return m->retry_at > now ? (long)(m->retry_at - now) : 0;
}

static size_t
mbox_inflight(struct fmn_backend *b)
{
	struct mbox *m = b->priv;

	return m->n_pending;
}

static void
mbox_fini(struct fmn_backend *b)
{
	struct mbox *m = b->priv;

	if (m == NULL)
		return;
	if (m->n_pending > 0)
		mbox_process(b, NULL, 0);
	fmn_buf_free(&m->out);
	fmn_buf_free(&m->mail);
	free(m->pending);
	free(m);
	b->priv = NULL;
}

const struct fmn_backend_ops fmn_backend_mbox = {
	.name = "mbox",
	.context = "email",
	.init = mbox_init,
	.deliver = mbox_deliver,
	.process = mbox_process,
	.timeout = mbox_timeout,
	.inflight = mbox_inflight,
	.fini = mbox_fini,
};
