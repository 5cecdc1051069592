/*
 * lib/: what every program and layer uses and that knows nothing of
 * fmn's domain (allocation, text, UTF-8, the hash map, globs, logging,
 * the config reader, the lock). It includes nothing from the other
 * folders; docs/architecture.md shows the layers.
 *
 * Small helpers every module uses: allocation that aborts on failure,
 * a growable string buffer, time, a cause for errors.
 */
#ifndef FMN_UTIL_H
#define FMN_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define FMN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define FMN_NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort the process on failure (never NULL). */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) FMN_PRINTF(1, 2);
char *xvasprintf(const char *fmt, va_list ap) FMN_PRINTF(1, 0);

/* A growable, always NUL-terminated byte buffer. */
struct fmn_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};
void fmn_buf_init(struct fmn_buf *b);
void fmn_buf_free(struct fmn_buf *b);
void fmn_buf_reset(struct fmn_buf *b);
void fmn_buf_add(struct fmn_buf *b, const void *p, size_t n);
void fmn_buf_adds(struct fmn_buf *b, const char *s);
void fmn_buf_addc(struct fmn_buf *b, char c);
void fmn_buf_printf(struct fmn_buf *b, const char *fmt, ...) FMN_PRINTF(2, 3);
/*
 * Room for n more bytes: write them at the pointer returned, then say
 * where the writing ended with fmn_buf_commit (at most n bytes on).
 */
char *fmn_buf_reserve(struct fmn_buf *b, size_t n);
void fmn_buf_commit(struct fmn_buf *b, const char *end);
/* Hand the contents to the caller (who frees them) and reset b. */
char *fmn_buf_steal(struct fmn_buf *b);

/* Wall-clock seconds since the epoch, with sub-second precision. */
double fmn_now(void);
/* Monotonic milliseconds, for timers. */
int64_t fmn_monotonic_ms(void);

/*
 * n random bytes from the kernel (getrandom), as a hexadecimal string of
 * 2n characters the caller frees: secrets and tokens.
 */
char *fmn_random_hex(size_t n);

/* Set the cause to a formatted message if cause is not NULL. */
void fmn_set_cause(char **cause, const char *fmt, ...) FMN_PRINTF(2, 3);

#endif
