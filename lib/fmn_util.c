/*
 * Allocation, string buffers and clocks shared by fmnd, fmnctl
 * and the libraries under filters/, backends/ and schema/.
 */
#include "fmn_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

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

char *
fmn_buf_reserve(struct fmn_buf *b, size_t n)
{
	buf_grow(b, n);
	return b->data + b->len;
}

void
fmn_buf_commit(struct fmn_buf *b, const char *end)
{
	b->len = (size_t)(end - b->data);
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

char *
fmn_random_hex(size_t n)
{
	unsigned char *raw = xmalloc(n);
	char *hex = xmalloc(2 * n + 1);
	size_t i, got = 0;
	ssize_t r;

	while (got < n) {
		r = getrandom(raw + got, n - got, 0);
		if (r < 0 && errno != EINTR) {
			/* Only a kernel without getrandom (before 3.17). */
			fprintf(stderr, "fatal: getrandom: %s\n",
			    strerror(errno));
			abort();
		}
		if (r > 0)
			got += (size_t)r;
	}
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", raw[i]);
	memset(raw, 0, n);
	free(raw);
	return hex;
}
