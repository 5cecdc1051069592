/*
 * Allocation, string buffers, clocks and logging shared by fmnd, fmnctl
 * and the libraries under filters/, backends/ and schema/.
 */
#include "fmn_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/stat.h>

static enum fmn_log_level log_level = FMN_LOG_INFO;
static const char *log_prefix = "fmn";
static int log_journal;		/* stderr is the journal: <N> priorities */

static void
oom(void)
{
	fputs("fatal: out of memory\n", stderr);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom();
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		oom();
	return p;
}

void *
xreallocarray(void *p, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		oom();
	return xrealloc(p, nmemb * size);
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *
xvasprintf(const char *fmt, va_list ap)
{
	va_list ap2;
	int n;
	char *p;

	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap2);
	va_end(ap2);
	if (n < 0)
		oom();
	p = xmalloc((size_t)n + 1);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void
fmn_buf_init(struct fmn_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void
fmn_buf_free(struct fmn_buf *b)
{
	free(b->data);
	fmn_buf_init(b);
}

void
fmn_buf_reset(struct fmn_buf *b)
{
	b->len = 0;
	if (b->data != NULL)
		b->data[0] = '\0';
}

static void
buf_grow(struct fmn_buf *b, size_t extra)
{
	size_t need = b->len + extra + 1;

	if (need <= b->cap)
		return;
	if (b->cap == 0)
		b->cap = 64;
	while (b->cap < need)
		b->cap *= 2;
	b->data = xrealloc(b->data, b->cap);
}

void
fmn_buf_add(struct fmn_buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
}

void
fmn_buf_adds(struct fmn_buf *b, const char *s)
{
	fmn_buf_add(b, s, strlen(s));
}

void
fmn_buf_addc(struct fmn_buf *b, char c)
{
	fmn_buf_add(b, &c, 1);
}

void
fmn_buf_printf(struct fmn_buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		oom();
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

char *
fmn_buf_steal(struct fmn_buf *b)
{
	char *p = b->data;

	if (p == NULL)
		p = xstrdup("");
	fmn_buf_init(b);
	return p;
}

double
fmn_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int64_t
fmn_monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
fmn_set_cause(char **cause, const char *fmt, ...)
{
	va_list ap;

	if (cause == NULL)
		return;
	free(*cause);
	va_start(ap, fmt);
	*cause = xvasprintf(fmt, ap);
	va_end(ap);
}

void
fmn_log_set_level(enum fmn_log_level level)
{
	log_level = level;
}

void
fmn_log_set_prefix(const char *prefix)
{
	log_prefix = prefix;
}

/*
 * Is stderr the journal? systemd sets JOURNAL_STREAM to the device and
 * inode of the stream it connected, so a redirection made since (a
 * pipe, a file) is not mistaken for it.
 */
static int
log_to_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(STDERR_FILENO, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

void
fmn_log_init(const char *prefix)
{
	log_prefix = prefix;
	log_journal = log_to_journal();
}

/*
 * Write one whole line in one call (threads log too), with the syslog
 * priority the journal reads when stderr is the journal. Control
 * characters are escaped: text from the bus can never start a line of
 * its own or move the cursor of whoever reads the log.
 */
static void
log_write(enum fmn_log_level level, const char *head, const char *text)
{
	static const int priorities[] = { 3, 4, 6, 7 };
	struct fmn_buf b;
	const unsigned char *p;

	fmn_buf_init(&b);
	if (log_journal)
		fmn_buf_printf(&b, "<%d>", priorities[level]);
	fmn_buf_adds(&b, head);
	for (p = (const unsigned char *)text; *p != '\0'; p++) {
		if (*p == '\n')
			fmn_buf_adds(&b, "\\n");
		else if (*p == '\t')
			fmn_buf_addc(&b, ' ');
		else if (*p < 0x20 || *p == 0x7f)
			fmn_buf_printf(&b, "\\x%02x", *p);
		else
			fmn_buf_addc(&b, (char)*p);
	}
	fmn_buf_addc(&b, '\n');
	fwrite(b.data, 1, b.len, stderr);
	fflush(stderr);
	fmn_buf_free(&b);
}

void
fmn_log_line(enum fmn_log_level level, const char *line)
{
	log_write(level, "", line);
}

void
fmn_log(enum fmn_log_level level, const char *fmt, ...)
{
	static const char *names[] = { "error", "warning", "info", "debug" };
	va_list ap;
	char *text, head[64];
	int saved = errno;

	if (level > log_level)
		return;
	va_start(ap, fmt);
	text = xvasprintf(fmt, ap);
	va_end(ap);
	/* The journal names the program already. */
	if (log_journal)
		snprintf(head, sizeof(head), "%s: ", names[level]);
	else
		snprintf(head, sizeof(head), "%s: %s: ", log_prefix,
		    names[level]);
	log_write(level, head, text);
	free(text);
	errno = saved;
}
