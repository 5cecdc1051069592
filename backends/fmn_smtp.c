/*
 * The SMTP backend: e-mail handed to a mail server with libcurl's multi
 * interface, driven from the daemon's zmq_poll loop. curl tells us which
 * sockets it wants watched (CURLMOPT_SOCKETFUNCTION) and when it needs a
 * timeout (CURLMOPT_TIMERFUNCTION); we expose those sockets as poll items
 * and call curl_multi_socket_action when they are ready, so the loop
 * never blocks on the network. Connections stay in the multi handle's
 * cache and are reused from one mail to the next.
 *
 * Outcomes: a 5xx reply to RCPT TO or to the message (DATA) is the
 * recipient's refusal and is permanent; everything else that fails
 * (connection refused, timeouts, 4xx, a refused sender or login, which
 * are the deployment's problem and not the recipient's) is temporary.
 * The error text carries the command and the server's reply.
 */
#include <curl/curl.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_backend.h"
#include "fmn_mail.h"
#include "fmn_util.h"

#define SMTP_MAX_QUEUED		10000	/* deliveries accepted, in all */
#define SMTP_DEFAULT_CONNS	4	/* transfers (connections) at once */
#define SMTP_REPLY_MAX		240	/* bytes of a server reply we keep */

struct smtp_job {
	struct smtp	*s;
	CURL		*easy;		/* NULL while queued */
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
	struct smtp_job	*next;
};

struct smtp_sock {
	curl_socket_t	 fd;
	int		 what;		/* CURL_POLL_IN / OUT / INOUT */
};

struct smtp {
	CURLM		*multi;
	char		*url;
	char		*envelope_from;
	long		 use_ssl;	/* CURLUSESSL_* for smtp:// */
	int		 conns;		/* transfers at once */

	struct smtp_sock *socks;	/* what curl wants watched */
	size_t		  n_socks, cap_socks;
	int64_t		  deadline;	/* monotonic ms; -1: no timer */

	struct smtp_job	*queue, *queue_tail;	/* waiting for a transfer slot */
	struct smtp_job	*active;	/* added to the multi handle */
	size_t		 n_active, n_queued;

	CURL		**idle;		/* easy handles to reuse */
	size_t		  n_idle;
	struct fmn_buf	  scratch;
};

static int
smtp_socket_cb(CURL *easy, curl_socket_t fd, int what, void *arg, void *sockp)
{
	struct smtp *s = arg;
	size_t i;

	(void)easy;
	(void)sockp;
	for (i = 0; i < s->n_socks; i++)
		if (s->socks[i].fd == fd)
			break;
	if (what == CURL_POLL_REMOVE) {
		if (i < s->n_socks)
			s->socks[i] = s->socks[--s->n_socks];
		return 0;
	}
	if (i == s->n_socks) {
		if (s->n_socks == s->cap_socks) {
			s->cap_socks = s->cap_socks ? s->cap_socks * 2 : 8;
			s->socks = xreallocarray(s->socks, s->cap_socks,
			    sizeof(*s->socks));
		}
		s->socks[s->n_socks++].fd = fd;
	}
	s->socks[i].what = what;
	return 0;
}

/* curl wants to be called back in timeout_ms (-1: never). */
static int
smtp_timer_cb(CURLM *multi, long timeout_ms, void *arg)
{
	struct smtp *s = arg;

	(void)multi;
	s->deadline = timeout_ms < 0 ? -1 : fmn_monotonic_ms() + timeout_ms;
	return 0;
}

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

/* Options every transfer shares; set once per easy handle. */
static CURL *
smtp_easy_new(struct smtp *s, const struct fmn_config *cfg)
{
	CURL *e;
	long t = cfg->smtp_timeout > 0 ? cfg->smtp_timeout : 30;

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
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, t);
	curl_easy_setopt(e, CURLOPT_SERVER_RESPONSE_TIMEOUT, t);
	/* A stalled transfer (under 1 byte/s for t seconds) is abandoned. */
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, t);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, t * 10);
	curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
	if (strncmp(s->url, "smtp://", 7) == 0)
		curl_easy_setopt(e, CURLOPT_USE_SSL, s->use_ssl);
	if (cfg->smtp_user != NULL) {
		curl_easy_setopt(e, CURLOPT_USERNAME, cfg->smtp_user);
		curl_easy_setopt(e, CURLOPT_PASSWORD,
		    cfg->smtp_password != NULL ? cfg->smtp_password : "");
	}
	if (cfg->smtp_ca_file != NULL)
		curl_easy_setopt(e, CURLOPT_CAINFO, cfg->smtp_ca_file);
	return e;
}

static int
smtp_init(struct fmn_backend *b, char **cause)
{
	const struct fmn_config *cfg = b->cfg;
	const char *url = cfg->smtp_url;
	struct smtp *s;
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
	if ((s->envelope_from = fmn_mail_envelope_from(cfg->mail_from)) ==
	    NULL) {
		fmn_set_cause(cause, "smtp: [email] from holds no usable "
		    "address: %s", cfg->mail_from != NULL ? cfg->mail_from :
		    "(none)");
		free(s);
		curl_global_cleanup();
		return -1;
	}
	s->url = xstrdup(url);
	s->use_ssl = use_ssl;
	s->conns = cfg->smtp_connections > 0 ? cfg->smtp_connections :
	    SMTP_DEFAULT_CONNS;
	s->deadline = -1;
	s->idle = xcalloc((size_t)s->conns, sizeof(*s->idle));
	fmn_buf_init(&s->scratch);
	if ((s->multi = curl_multi_init()) == NULL) {
		fmn_set_cause(cause, "smtp: cannot create a curl multi handle");
		free(s->idle);
		free(s->url);
		free(s->envelope_from);
		free(s);
		curl_global_cleanup();
		return -1;
	}
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETFUNCTION, smtp_socket_cb);
	curl_multi_setopt(s->multi, CURLMOPT_SOCKETDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERFUNCTION, smtp_timer_cb);
	curl_multi_setopt(s->multi, CURLMOPT_TIMERDATA, s);
	curl_multi_setopt(s->multi, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)s->conns);
	curl_multi_setopt(s->multi, CURLMOPT_MAXCONNECTS, (long)s->conns);
	b->priv = s;
	return 0;
}

static void
smtp_job_free(struct smtp_job *j)
{
	curl_slist_free_all(j->rcpt);
	free(j->mail);
	free(j);
}

/* Hand queued jobs to curl while there are free transfer slots. */
static void
smtp_start(struct fmn_backend *b)
{
	struct smtp *s = b->priv;
	struct smtp_job *j;
	CURL *e;

	while (s->queue != NULL && s->n_active < (size_t)s->conns) {
		j = s->queue;
		if (s->n_idle > 0)
			e = s->idle[--s->n_idle];
		else if ((e = smtp_easy_new(s, b->cfg)) == NULL) {
			log_warn("smtp: cannot create a curl handle");
			return;		/* try again at the next pass */
		}
		if ((s->queue = j->next) == NULL)
			s->queue_tail = NULL;
		s->n_queued--;
		j->easy = e;
		j->errbuf[0] = '\0';
		curl_easy_setopt(e, CURLOPT_MAIL_RCPT, j->rcpt);
		curl_easy_setopt(e, CURLOPT_READDATA, j);
		curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)j->len);
		curl_easy_setopt(e, CURLOPT_DEBUGDATA, j);
		curl_easy_setopt(e, CURLOPT_ERRORBUFFER, j->errbuf);
		curl_easy_setopt(e, CURLOPT_PRIVATE, j);
		if (curl_multi_add_handle(s->multi, e) != CURLM_OK) {
			/* Put it back first in line; retried next pass. */
			log_warn("smtp: cannot add a transfer to curl");
			j->easy = NULL;
			j->next = s->queue;
			s->queue = j;
			if (s->queue_tail == NULL)
				s->queue_tail = j;
			s->n_queued++;
			s->idle[s->n_idle++] = e;
			return;
		}
		j->next = s->active;
		s->active = j;
		s->n_active++;
	}
}

static int
smtp_deliver(struct fmn_backend *b, const struct fmn_delivery *d)
{
	struct smtp *s = b->priv;
	struct smtp_job *j;
	char *cause = NULL;

	if (s->n_active + s->n_queued >= SMTP_MAX_QUEUED)
		return -1;
	fmn_buf_reset(&s->scratch);
	if (fmn_mail_format(d, b->cfg, fmn_now(), &s->scratch, &cause) != 0) {
		/* A mail we cannot write is not going to work next time. */
		b->done(b->done_arg, d->id, FMN_RESULT_PERMFAIL, cause);
		free(cause);
		return 0;
	}
	j = xcalloc(1, sizeof(*j));
	j->s = s;
	j->id = d->id;
	j->len = s->scratch.len;
	j->mail = fmn_buf_steal(&s->scratch);
	/* The formatter checked the address: no CR, LF, space or brackets. */
	if ((j->rcpt = curl_slist_append(NULL, d->address)) == NULL) {
		smtp_job_free(j);
		return -1;
	}
	if (s->queue_tail != NULL)
		s->queue_tail->next = j;
	else
		s->queue = j;
	s->queue_tail = j;
	s->n_queued++;
	smtp_start(b);
	return 0;
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
	/* Only the recipient's own refusal is permanent. */
	if (code >= 500 && code <= 599 && (strcmp(cmd, "RCPT") == 0 ||
	    strcmp(cmd, "DATA") == 0))
		r = FMN_RESULT_PERMFAIL;
	if (code >= 400 && *reply != '\0')
		*error = xasprintf("%s (%s): %s", what,
		    *cmd != '\0' ? cmd : "greeting", reply);
	else
		*error = xasprintf("%s%s%s", curl_easy_strerror(rc),
		    j->errbuf[0] != '\0' ? ": " : "", j->errbuf);
	return r;
}

/* Report every transfer curl has finished. */
static void
smtp_reap(struct fmn_backend *b)
{
	struct smtp *s = b->priv;
	struct smtp_job *j, **jp;
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(s->multi, &left)) != NULL) {
		enum fmn_result r;
		char *error = NULL, *priv = NULL;
		long code = 0;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &priv);
		j = (struct smtp_job *)priv;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE,
		    &code);
		r = smtp_classify(j, msg->data.result, code, &error);
		curl_multi_remove_handle(s->multi, j->easy);
		for (jp = &s->active; *jp != NULL; jp = &(*jp)->next) {
			if (*jp == j) {
				*jp = j->next;
				break;
			}
		}
		s->n_active--;
		/* The handle must not point into the job any more. */
		curl_easy_setopt(j->easy, CURLOPT_DEBUGDATA, NULL);
		curl_easy_setopt(j->easy, CURLOPT_READDATA, NULL);
		curl_easy_setopt(j->easy, CURLOPT_ERRORBUFFER, NULL);
		curl_easy_setopt(j->easy, CURLOPT_MAIL_RCPT, NULL);
		if (r == FMN_RESULT_DELIVERED && s->n_idle < (size_t)s->conns)
			s->idle[s->n_idle++] = j->easy;
		else	/* after a failure, start from a clean handle */
			curl_easy_cleanup(j->easy);
		if (r != FMN_RESULT_DELIVERED)
			log_debug("smtp: delivery %lld: %s: %s", j->id,
			    r == FMN_RESULT_PERMFAIL ? "permanent failure" :
			    "will retry", error);
		b->done(b->done_arg, j->id, r, error);
		free(error);
		smtp_job_free(j);
	}
	smtp_start(b);
}

static int
smtp_pollitems(struct fmn_backend *b, zmq_pollitem_t *items, int max)
{
	struct smtp *s = b->priv;
	int n = 0;
	size_t i;

	for (i = 0; i < s->n_socks && n < max; i++) {
		items[n].socket = NULL;
		items[n].fd = s->socks[i].fd;
		items[n].events = 0;
		if (s->socks[i].what & CURL_POLL_IN)
			items[n].events |= ZMQ_POLLIN;
		if (s->socks[i].what & CURL_POLL_OUT)
			items[n].events |= ZMQ_POLLOUT;
		items[n].revents = 0;
		n++;
	}
	if ((size_t)n < s->n_socks)
		log_warn("smtp: %zu sockets but room to watch %d",
		    s->n_socks, max);
	return n;
}

static void
smtp_process(struct fmn_backend *b, zmq_pollitem_t *items, int n)
{
	struct smtp *s = b->priv;
	int i, running;

	for (i = 0; i < n; i++) {
		int ev = 0;

		if (items[i].revents & ZMQ_POLLIN)
			ev |= CURL_CSELECT_IN;
		if (items[i].revents & ZMQ_POLLOUT)
			ev |= CURL_CSELECT_OUT;
		if (items[i].revents & ZMQ_POLLERR)
			ev |= CURL_CSELECT_ERR;
		if (ev != 0)
			curl_multi_socket_action(s->multi, items[i].fd, ev,
			    &running);
	}
	if (s->deadline >= 0 && fmn_monotonic_ms() >= s->deadline) {
		s->deadline = -1;
		curl_multi_socket_action(s->multi, CURL_SOCKET_TIMEOUT, 0,
		    &running);
	}
	smtp_reap(b);
}

static long
smtp_timeout(struct fmn_backend *b)
{
	struct smtp *s = b->priv;
	int64_t left;

	if (s->queue != NULL && s->n_active < (size_t)s->conns)
		return 100;	/* a handle could not be started: retry soon */
	if (s->deadline < 0)
		return -1;
	left = s->deadline - fmn_monotonic_ms();
	return left > 0 ? (long)left : 0;
}

static size_t
smtp_inflight(struct fmn_backend *b)
{
	struct smtp *s = b->priv;

	return s->n_active + s->n_queued;
}

/* Drop everything not yet done: the scheduler sends it again later. */
static void
smtp_fini(struct fmn_backend *b)
{
	struct smtp *s = b->priv;
	struct smtp_job *j;
	size_t i;

	if (s == NULL)
		return;
	while ((j = s->active) != NULL) {
		s->active = j->next;
		curl_multi_remove_handle(s->multi, j->easy);
		curl_easy_cleanup(j->easy);
		smtp_job_free(j);
	}
	while ((j = s->queue) != NULL) {
		s->queue = j->next;
		smtp_job_free(j);
	}
	for (i = 0; i < s->n_idle; i++)
		curl_easy_cleanup(s->idle[i]);
	curl_multi_cleanup(s->multi);
	curl_global_cleanup();
	fmn_buf_free(&s->scratch);
	free(s->idle);
	free(s->socks);
	free(s->url);
	free(s->envelope_from);
	free(s);
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
