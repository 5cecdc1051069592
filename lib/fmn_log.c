/*
 * Logging (see fmn_log.h): to stderr, as service managers expect.
 */
#include "fmn_log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <sys/stat.h>

static enum fmn_log_level log_level = FMN_LOG_INFO;
static const char *log_prefix = "fmn";
static int log_journal;		/* stderr is the journal: <N> priorities */

void
fmn_log_set_level(enum fmn_log_level level)
{
	log_level = level;
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
