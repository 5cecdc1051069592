/*
 * The SMTP backend: e-mail handed to a mail server with libcurl, one
 * worker thread per [email] connections (fmn_workers.c), so that nothing
 * here ever blocks the daemon's loop. libcurl blocks while it waits for
 * the reply to the end of a message, even in its multi interface, so
 * each worker runs curl_easy_perform on an easy handle of its own, kept
 * from one mail to the next so that its connection is reused. The loop
 * formats the mail, queues it, and hears the outcome when the workers'
 * file descriptor turns readable; b->done is only called from the loop.
 *
 * Every wait has a deadline ([email] timeout): connecting, each server
 * reply, a stalled transfer, and the whole mail. At stop, a progress
 * callback that curl calls about once a second, even inside its
 * blocking waits, makes in-flight transfers give up; they report
 * nothing, and the daemon sends them again after its restart.
 *
 * Outcomes: a 5xx reply to RCPT TO is the recipient's refusal and is
 * permanent (the destination is marked failing); a 5xx reply to DATA or
 * to the message refuses this mail only (content filters), and the
 * destination stays in service. Everything else that fails (connection
 * refused, timeouts, 4xx, a refused sender or login, which are the
 * deployment's problem and not the recipient's) is temporary. The
 * error text carries the command and the server's reply.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "fmn_backend.h"
#include "fmn_mail.h"
#include "fmn_log.h"
#include "fmn_util.h"
#include "fmn_workers.h"

#define SMTP_MAX_QUEUED		10000	/* deliveries accepted, in all */
#define SMTP_DEFAULT_CONNS	4	/* workers, each with a connection */
#define SMTP_REPLY_MAX		240	/* bytes of a server reply we keep */

struct smtp_job {
	struct fmn_workers_job entry;	/* first: the workers' link */
	long long	 id;
	char		*mail;		/* the rendered message */
	size_t		 len, off;	/* its length, bytes sent so far */
	struct curl_slist *rcpt;
	char		 cmd[16];	/* last SMTP command sent: "RCPT", ... */
	char		 reply[SMTP_REPLY_MAX];	/* last reply line */
	/* The first refusal (4xx/5xx), kept past curl's QUIT. */
	char		 fail_cmd[16];
	char		 fail_reply[SMTP_REPLY_MAX];
	int		 fail_code;
	int		 fail_more;	/* its reply had more lines ("550-") */
	char		 errbuf[CURL_ERROR_SIZE];
	/* The outcome, filled by the worker. */
	enum fmn_result	 result;
	char		*error;
};

/*
 * Settings are copied at init: the workers never read the configuration,
 * which a reload replaces under them.
 */
struct smtp {
	struct fmn_workers *workers;
	char		*url;
	char		*envelope_from;
	char		*user;		/* NULL: no AUTH */
	char		*password;
	char		*ca_file;	/* NULL: the system's CAs */
	long		 use_ssl;	/* CURLUSESSL_* for smtp:// */
	long		 timeout;	/* seconds, for each step */
	int		 conns;		/* workers */
	struct fmn_buf	 scratch;	/* the loop's, for formatting */
};

static size_t
smtp_read_cb(char *buf, size_t size, size_t nitems, void *arg)
{
	struct smtp_job *j = arg;
	size_t n = size * nitems;

	if (n > j->len - j->off)
		n = j->len - j->off;
	memcpy(buf, j->mail + j->off, n);
	j->off += n;
	return n;
}

/* Keep one line of protocol text: printable ASCII, at most max-1 bytes. */
static void
smtp_keep_line(char *dst, size_t max, const char *src, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n && o + 1 < max; i++) {
		unsigned char c = (unsigned char)src[i];

		if (c == '\r' || c == '\n')
			break;
		dst[o++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	dst[o] = '\0';
}

/* The commands curl sends that we tell apart in errors. */
static const char *const smtp_verbs[] = {
	"EHLO", "HELO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "RSET",
	"NOOP", "QUIT",
};

/* The code of a reply line ("550 5.1.1 ..." -> 550), or 0. */
static int
smtp_reply_code(const char *line)
{
	if (!isdigit((unsigned char)line[0]) ||
	    !isdigit((unsigned char)line[1]) ||
	    !isdigit((unsigned char)line[2]) ||
	    (line[3] != ' ' && line[3] != '-' && line[3] != '\0'))
		return 0;
	return (line[0] - '0') * 100 + (line[1] - '0') * 10 + (line[2] - '0');
}

/*
 * curl shows us the conversation: commands as HEADER_OUT, replies as
 * HEADER_IN. We remember the last command and the last reply line, to
 * tell a refused recipient from a refused sender and to quote the server.
 */
static int
smtp_debug_cb(CURL *easy, curl_infotype type, char *data, size_t size,
    void *arg)
{
	struct smtp_job *j = arg;
	char verb[16];
	size_t n, k;
	int code;

	(void)easy;
	if (j == NULL)
		return 0;
	if (type == CURLINFO_HEADER_IN && size > 0) {
		smtp_keep_line(j->reply, sizeof(j->reply), data, size);
		code = smtp_reply_code(j->reply);
		if (code >= 400 && (j->fail_code == 0 ||
		    (j->fail_more && code == j->fail_code))) {
			memcpy(j->fail_cmd, j->cmd, sizeof(j->fail_cmd));
			memcpy(j->fail_reply, j->reply, sizeof(j->fail_reply));
			j->fail_code = code;
			j->fail_more = j->reply[3] == '-';
		}
	} else if (type == CURLINFO_HEADER_OUT && size > 0) {
		/*
		 * Only the verbs we know: a line in the middle of AUTH is
		 * a credential, and must not end up in a log.
		 */
		for (n = 0; n < size && n + 1 < sizeof(verb) &&
		    isalpha((unsigned char)data[n]); n++)
			verb[n] = (char)toupper((unsigned char)data[n]);
		verb[n] = '\0';
		if (n == size || data[n] == ' ' || data[n] == '\r' ||
		    data[n] == ':') {
			for (k = 0; k < FMN_NELEM(smtp_verbs); k++) {
				if (strcmp(verb, smtp_verbs[k]) == 0) {
					memcpy(j->cmd, verb, sizeof(j->cmd));
					j->reply[0] = '\0';
					break;
				}
			}
		}
	}
	return 0;
}

/*
 * curl calls this about once a second, also inside its blocking wait
 * for a server reply: a transfer gives up once the workers stop.
 */
static int
smtp_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct smtp *s = arg;

	(void)dltotal;
	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	return fmn_workers_stopping(s->workers);
}

/* Options every transfer shares; set once per easy handle. */
static CURL *
smtp_easy_new(struct smtp *s)
{
	CURL *e;
	long t = s->timeout;

	if ((e = curl_easy_init()) == NULL)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, s->url);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(e, CURLOPT_MAIL_FROM, s->envelope_from);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, smtp_read_cb);
	curl_easy_setopt(e, CURLOPT_VERBOSE, 1L);
	curl_easy_setopt(e, CURLOPT_DEBUGFUNCTION, smtp_debug_cb);
	curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, smtp_progress_cb);
	curl_easy_setopt(e, CURLOPT_XFERINFODATA, s);
	/* One connection per worker, kept for the next mail. */
	curl_easy_setopt(e, CURLOPT_MAXCONNECTS, 1L);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, t);
	/* Each reply, the one to the end of the message included. */
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, t);
	/* A stalled transfer (under 1 byte/s for t seconds) is abandoned. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, t);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, t * 10);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (strncmp(s->url, "smtp://", 7) == 0)
		curl_easy_setopt(e, CURLOPT_USE_SSL, s->use_ssl);
	if (s->user != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, s->user);
		curl_easy_setopt(e, CURLOPT_PASSWORD, s->password);
	}
	if (s->ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, s->ca_file);
	return e;
}

/*
 * Throw a handle away with its connection, without QUIT. curl would send
 * QUIT from an internal handle of its own and wait for the reply, up to
 * the response timeout and deaf to the progress callback: a server that
 * stopped answering would hold a worker, and the daemon's stop, that long.
 */
static void
smtp_easy_drop(CURL *e)
{
	curl_socket_t fd = CURL_SOCKET_BAD;

	if (e == NULL)
		return;
	if (curl_easy_getinfo(e, CURLINFO_ACTIVESOCKET, &fd) == CURLE_OK &&
	    fd != CURL_SOCKET_BAD)
		shutdown(fd, SHUT_RDWR);
	curl_easy_cleanup(e);
}

/* The outcome of a finished transfer, and a sentence for people. */
static enum fmn_result
smtp_classify(struct smtp_job *j, CURLcode rc, long code, char **error)
{
	const char *what, *cmd = j->cmd, *reply = j->reply;
	enum fmn_result r = FMN_RESULT_TEMPFAIL;

	if (rc == CURLE_OK) {
		*error = NULL;
		return FMN_RESULT_DELIVERED;
	}
	if (j->fail_code != 0) {
		cmd = j->fail_cmd;
		reply = j->fail_reply;
		code = j->fail_code;
	}
	if (strcmp(cmd, "RCPT") == 0)
		what = "recipient refused";
	else if (strcmp(cmd, "DATA") == 0)
		what = "message refused";
	else if (strcmp(cmd, "MAIL") == 0)
		what = "sender refused";
	else if (strcmp(cmd, "AUTH") == 0)
		what = "login refused";
	else
		what = "refused";
	/*
	 * Only the recipient's own refusal is the destination's fault. A
	 * refused message (a content filter) is this mail's: sending it
	 * again will not change that, but the next one may well pass.
	 */
	if (code >= 500 && code <= 599) {
		if (strcmp(cmd, "RCPT") == 0)
			r = FMN_RESULT_PERMFAIL;
		else if (strcmp(cmd, "DATA") == 0)
			r = FMN_RESULT_REJECTED;
	}
	if (code >= 400 && *reply != '\0')
		*error = xasprintf("%s (%s): %s", what,
		    *cmd != '\0' ? cmd : "greeting", reply);
	else
		*error = xasprintf("%s%s%s", curl_easy_strerror(rc),
		    j->errbuf[0] != '\0' ? ": " : "", j->errbuf);
	return r;
}

/*
 * A worker sends one mail with its own easy handle (*state), created the
 * first time and kept while mails go through, so its connection is
 * reused.
 */
static void
smtp_run(void *arg, void **state, struct fmn_workers_job *job)
{
	struct smtp *s = arg;
	struct smtp_job *j = (struct smtp_job *)job;
	CURL *e = *state;
	CURLcode rc;
	long code = 0;

	if (e == NULL && (e = smtp_easy_new(s)) == NULL) {
		j->result = FMN_RESULT_TEMPFAIL;
		j->error = xstrdup("cannot create a curl handle");
		return;
	}
	j->errbuf[0] = '\0';
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt);
	curl_easy_setopt(e, CURLOPT_READDATA, j);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)j->len);
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, j);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
	rc = curl_easy_perform(e);
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &code);
	j->result = smtp_classify(j, rc, code, &j->error);
	/* The handle must not point into the job any more. */
	curl_easy_setopt(e, CURLOPT_DEBUGDATA, NULL);
	curl_easy_setopt(e, CURLOPT_READDATA, NULL);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, NULL);
	curl_easy_setopt(e, CURLOPT_MAIL_RCPT, NULL);
	/*
	 * After a failure, start from a clean handle: curl keeps even a
	 * connection whose reply to the end of the message never came,
	 * and would send the next mail into it.
	 */
	if (j->result != FMN_RESULT_DELIVERED) {
		smtp_easy_drop(e);
		e = NULL;
	}
	*state = e;
}

static void
smtp_end(void *arg, void *state)
{
	(void)arg;
	smtp_easy_drop(state);
}

static void
smtp_job_free(struct fmn_workers_job *job)
{
	struct smtp_job *j = (struct smtp_job *)job;

	curl_slist_free_all(j->rcpt);
	free(j->mail);
	free(j->error);
	free(j);
}

static const struct fmn_workers_ops smtp_workers_ops = {
	.run = smtp_run,
	.end = smtp_end,
	.free = smtp_job_free,
};

static void
smtp_free(struct smtp *s)
{
	fmn_buf_free(&s->scratch);
	free(s->url);
	free(s->envelope_from);
	free(s->user);
	free(s->password);
	free(s->ca_file);
	free(s);
}

static int
smtp_init(struct fmn_backend *b, char **cause)
{
	const struct fmn_config *cfg = b->cfg;
	const char *url = cfg->smtp_url;
	struct smtp *s;
	char *why = NULL;
	long use_ssl;

	if (url == NULL || (strncmp(url, "smtp://", 7) != 0 &&
	    strncmp(url, "smtps://", 8) != 0)) {
		fmn_set_cause(cause, "smtp: not an smtp:// or smtps:// URL: %s",
		    url != NULL ? url : "(none)");
		return -1;
	}
	if (cfg->starttls == NULL || strcmp(cfg->starttls, "try") == 0)
		use_ssl = CURLUSESSL_TRY;
	else if (strcmp(cfg->starttls, "no") == 0)
		use_ssl = CURLUSESSL_NONE;
	else if (strcmp(cfg->starttls, "required") == 0)
		use_ssl = CURLUSESSL_ALL;
	else {
		fmn_set_cause(cause, "smtp: [email] starttls must be no, try "
		    "or required, not \"%s\"", cfg->starttls);
		return -1;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		fmn_set_cause(cause, "smtp: cannot initialise libcurl");
		return -1;
	}
	s = xcalloc(1, sizeof(*s));
	fmn_buf_init(&s->scratch);
	if ((s->envelope_from = fmn_mail_envelope_from(cfg->mail_from)) ==
	    NULL) {
		fmn_set_cause(cause, "smtp: [email] from holds no usable "
		    "address: %s", cfg->mail_from != NULL ? cfg->mail_from :
		    "(none)");
		smtp_free(s);
		curl_global_cleanup();
		return -1;
	}
	s->url = xstrdup(url);
	if (cfg->smtp_user != NULL) {
		s->user = xstrdup(cfg->smtp_user);
		s->password = xstrdup(cfg->smtp_password != NULL ?
		    cfg->smtp_password : "");
	}
	if (cfg->smtp_ca_file != NULL)
		s->ca_file = xstrdup(cfg->smtp_ca_file);
	s->use_ssl = use_ssl;
	s->timeout = cfg->smtp_timeout > 0 ? cfg->smtp_timeout : 30;
	s->conns = cfg->smtp_connections > 0 ? cfg->smtp_connections :
	    SMTP_DEFAULT_CONNS;
	if ((s->workers = fmn_workers_new(s->conns, &smtp_workers_ops, s, &why)) ==
	    NULL) {
		fmn_set_cause(cause, "smtp: %s", why);
		free(why);
		smtp_free(s);
		curl_global_cleanup();
		return -1;
	}
	b->priv = s;
	return 0;
}

static int
smtp_deliver(struct fmn_backend *b, const struct fmn_delivery *d)
{
	struct smtp *s = b->priv;
	struct smtp_job *j;
	char *cause = NULL;

	if (fmn_workers_pending(s->workers) >= SMTP_MAX_QUEUED)
		return -1;
	fmn_buf_reset(&s->scratch);
	if (fmn_mail_format(d, b->cfg, fmn_now(), &s->scratch, &cause) != 0) {
		/* A mail we cannot write is not going to work next time. */
		b->done(b->done_arg, d->id, FMN_RESULT_PERMFAIL, cause);
		free(cause);
		return 0;
	}
	j = xcalloc(1, sizeof(*j));
	j->id = d->id;
	j->len = s->scratch.len;
	j->mail = fmn_buf_steal(&s->scratch);
	/* The formatter checked the address: no CR, LF, space or brackets. */
	if ((j->rcpt = curl_slist_append(NULL, d->address)) == NULL) {
		smtp_job_free(&j->entry);
		return -1;
	}
	fmn_workers_push(s->workers, &j->entry);
	return 0;
}

static int
smtp_pollitems(struct fmn_backend *b, zmq_pollitem_t *items, int max)
{
	struct smtp *s = b->priv;

	if (max < 1)
		return 0;
	items[0].socket = NULL;
	items[0].fd = fmn_workers_fd(s->workers);
	items[0].events = ZMQ_POLLIN;
	items[0].revents = 0;
	return 1;
}

/* Report the mails the workers have finished. */
static void
smtp_process(struct fmn_backend *b, zmq_pollitem_t *items, int n)
{
	struct smtp *s = b->priv;
	struct fmn_workers_job *job;
	struct smtp_job *j;

	if (n < 1 || !(items[0].revents & ZMQ_POLLIN))
		return;
	while ((job = fmn_workers_done(s->workers)) != NULL) {
		j = (struct smtp_job *)job;
		if (j->result != FMN_RESULT_DELIVERED)
			log_debug("smtp: delivery %lld: %s: %s", j->id,
			    j->result == FMN_RESULT_PERMFAIL ?
			    "permanent failure" :
			    j->result == FMN_RESULT_REJECTED ?
			    "message refused" : "will retry", j->error);
		b->done(b->done_arg, j->id, j->result, j->error);
		smtp_job_free(job);
	}
}

/* The workers keep their own deadlines: nothing to do on a timer. */
static long
smtp_timeout(struct fmn_backend *b)
{
	(void)b;
	return -1;
}

static size_t
smtp_inflight(struct fmn_backend *b)
{
	struct smtp *s = b->priv;

	return fmn_workers_pending(s->workers);
}

/*
 * Stop the workers: a transfer in flight gives up within about a second
 * (the progress callback). What was not done is dropped without an
 * outcome: the daemon puts its rows back in the queue.
 */
static void
smtp_fini(struct fmn_backend *b)
{
	struct smtp *s = b->priv;

	if (s == NULL)
		return;
	fmn_workers_destroy(&s->workers);
	curl_global_cleanup();
	smtp_free(s);
	b->priv = NULL;
}

const struct fmn_backend_ops fmn_backend_smtp = {
	.name = "smtp",
	.context = "email",
	.init = smtp_init,
	.deliver = smtp_deliver,
	.pollitems = smtp_pollitems,
	.process = smtp_process,
	.timeout = smtp_timeout,
	.inflight = smtp_inflight,
	.fini = smtp_fini,
};
