/*
 * The SMTP backend driven the way the daemon drives it (a zmq_poll loop
 * over its poll items and timeout), against a real SMTP server: the
 * aiosmtpd server of tests/lib/smtptest.py on a free loopback port,
 * which writes what it receives into a spool directory, and can also
 * be silent or slow in answering a message, or refuse it.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fmn_backend.h"
#include "fmn_config.h"
#include "fmn_msg.h"
#include "fmn_test.h"
#include "fmn_util.h"

extern const struct fmn_backend_ops fmn_backend_smtp;

#define MAX_DONE	256

struct outcome {
	long long	 id;
	enum fmn_result	 result;
	char		*error;
};

struct harness {
	struct fmn_config	cfg;
	struct fmn_backend	b;
	struct outcome		done[MAX_DONE];
	size_t			n_done;
	int			port;
	pid_t			server;
	char			spool[64];
};

static struct fmn_strset users, pkgs;

static void
on_done(void *arg, long long id, enum fmn_result result, const char *error)
{
	struct harness *h = arg;

	if (h->n_done == MAX_DONE)
		return;
	h->done[h->n_done].id = id;
	h->done[h->n_done].result = result;
	h->done[h->n_done].error = error != NULL ? xstrdup(error) : NULL;
	h->n_done++;
}

/*
 * A port nothing listens on, drawn below the kernel's ephemeral range:
 * one the kernel hands out (bind to 0) is also what it gives the next
 * outgoing connection of a test running beside this one.
 */
static int
free_port(void)
{
	struct sockaddr_in sa;
	FILE *f;
	int low = 32768, first, port, fd, i;

	if ((f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r")) !=
	    NULL) {
		if (fscanf(f, "%d", &low) != 1 || low < 2048 || low > 65536)
			low = 32768;
		fclose(f);
	}
	first = low > 12000 ? 10000 : 1024;
	srand((unsigned)getpid() ^ (unsigned)fmn_monotonic_ms());
	for (i = 0; i < 200; i++) {
		port = first + rand() % (low - first);
		if ((fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
			return -1;
		memset(&sa, 0, sizeof(sa));
		sa.sin_family = AF_INET;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		sa.sin_port = htons((uint16_t)port);
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return port;
		}
		close(fd);
	}
	return -1;
}

static int
port_open(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((uint16_t)port);
	ok = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

/*
 * Start the server with extra arguments (NULL-terminated, may be NULL);
 * wait until it listens.
 */
static int
server_start(struct harness *h, const char *const *extra)
{
	char port[16], script[512];
	const char *argv[32];
	int64_t deadline = fmn_monotonic_ms() + 20000;
	struct timespec ts = { 0, 20 * 1000000 };
	size_t n = 0;

	snprintf(port, sizeof(port), "%d", h->port);
	snprintf(script, sizeof(script), "%s/tests/lib/smtptest.py",
	    FMN_SOURCE_DIR);
	argv[n++] = "python3";
	argv[n++] = script;
	argv[n++] = "--port";
	argv[n++] = port;
	argv[n++] = "--spool";
	argv[n++] = h->spool;
	while (extra != NULL && *extra != NULL && n < FMN_NELEM(argv) - 1)
		argv[n++] = *extra++;
	argv[n] = NULL;
	if ((h->server = fork()) == 0) {
		execv("/usr/bin/python3", (char *const *)argv);
		_exit(127);
	}
	/* Readiness is the port answering; poll it, bounded. */
	while (!port_open(h->port)) {
		int status;

		if (waitpid(h->server, &status, WNOHANG) == h->server) {
			h->server = -1;
			return -1;
		}
		if (fmn_monotonic_ms() > deadline)
			return -1;
		nanosleep(&ts, NULL);
	}
	return 0;
}

static void
server_stop(struct harness *h)
{
	struct timespec ts = { 0, 20 * 1000000 };
	int64_t deadline = fmn_monotonic_ms() + 10000;
	int status;

	if (h->server <= 0)
		return;
	kill(h->server, SIGTERM);
	/* Bounded: a server that does not go is killed, and said so. */
	while (waitpid(h->server, &status, WNOHANG) == 0) {
		if (fmn_monotonic_ms() > deadline) {
			fprintf(stderr, "SMTP server %d ignored SIGTERM for "
			    "10 s; killed\n", (int)h->server);
			kill(h->server, SIGKILL);
			waitpid(h->server, &status, 0);
			break;
		}
		nanosleep(&ts, NULL);
	}
	h->server = -1;
}

static int
setup(struct harness *h, int with_server, const char *const *extra)
{
	char *cause = NULL;

	memset(h, 0, sizeof(*h));
	h->server = -1;
	snprintf(h->spool, sizeof(h->spool), "/tmp/fmn-smtp-XXXXXX");
	if (mkdtemp(h->spool) == NULL)
		return -1;
	h->port = free_port();
	fmn_config_init(&h->cfg);
	free(h->cfg.smtp_url);
	h->cfg.smtp_url = xasprintf("smtp://127.0.0.1:%d", h->port);
	free(h->cfg.mail_from);
	h->cfg.mail_from = xstrdup("fmn <fmn@example.net>");
	h->cfg.smtp_timeout = 5;
	h->cfg.smtp_connections = 2;
	if (with_server && server_start(h, extra) != 0) {
		fprintf(stderr, "cannot start the SMTP server\n");
		return -1;
	}
	h->b.ops = &fmn_backend_smtp;
	h->b.cfg = &h->cfg;
	h->b.done = on_done;
	h->b.done_arg = h;
	h->b.context = "email";
	if (fmn_backend_smtp.init(&h->b, &cause) != 0) {
		fprintf(stderr, "init: %s\n", cause);
		free(cause);
		return -1;
	}
	fmn_strset_clear(&users);
	fmn_strset_clear(&pkgs);
	fmn_strset_add(&users, "kevin");
	fmn_strset_finish(&users);
	fmn_strset_add(&pkgs, "ansible");
	fmn_strset_finish(&pkgs);
	return 0;
}

static void
teardown(struct harness *h)
{
	char cmd[128];
	size_t i;

	fmn_backend_smtp.fini(&h->b);
	server_stop(h);
	for (i = 0; i < h->n_done; i++)
		free(h->done[i].error);
	fmn_config_free(&h->cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->spool);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", h->spool);
	fmn_strset_clear(&users);
	fmn_strset_clear(&pkgs);
}

/* The daemon's loop, until n outcomes are in or timeout_ms passed. */
static void
run_until(struct harness *h, size_t n, long timeout_ms)
{
	int64_t deadline = fmn_monotonic_ms() + timeout_ms;
	zmq_pollitem_t items[32];

	while (h->n_done < n && fmn_monotonic_ms() < deadline) {
		int k = fmn_backend_smtp.pollitems(&h->b, items, 32);
		long t = fmn_backend_smtp.timeout(&h->b);
		long left = (long)(deadline - fmn_monotonic_ms());

		if (t < 0 || t > left)
			t = left > 0 ? left : 0;
		if (zmq_poll(items, k, t) < 0 && errno != EINTR)
			break;
		fmn_backend_smtp.process(&h->b, items, k);
	}
}

static struct fmn_notice
notice(long long id, const char *subtitle)
{
	struct fmn_notice n;

	memset(&n, 0, sizeof(n));
	n.notification_id = id;
	n.msg_id = "2024-abc";
	n.topic = "org.fedoraproject.prod.buildsys.build.state.change";
	n.category = "buildsys";
	n.timestamp = 1709633472.0;
	n.subtitle = subtitle;
	n.link = "https://koji.fedoraproject.org/koji/buildinfo?buildID=1";
	n.filter = "my packages";
	n.usernames = &users;
	n.packages = &pkgs;
	return n;
}

static int
deliver(struct harness *h, long long id, enum fmn_delivery_kind kind,
    const char *address, const struct fmn_notice *nv, size_t n)
{
	struct fmn_delivery d;

	memset(&d, 0, sizeof(d));
	d.id = id;
	d.kind = kind;
	d.context = "email";
	d.user = "alice";
	d.destination_id = id;
	d.address = address;
	d.verbose = 1;
	d.notices = nv;
	d.n_notices = n;
	d.secret = "s3cr3t0123456789";
	d.expires = 1709633472.0 + 86400;
	return fmn_backend_smtp.deliver(&h->b, &d);
}

static const struct outcome *
outcome(struct harness *h, long long id)
{
	size_t i;

	for (i = 0; i < h->n_done; i++)
		if (h->done[i].id == id)
			return &h->done[i];
	return NULL;
}

/* The text of spool file N.ext, or NULL. */
static char *
spool_read(struct harness *h, int n, const char *ext)
{
	char path[128];
	struct fmn_buf b;
	char chunk[4096];
	size_t k;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%d.%s", h->spool, n, ext);
	if ((f = fopen(path, "rb")) == NULL)
		return NULL;
	fmn_buf_init(&b);
	while ((k = fread(chunk, 1, sizeof(chunk), f)) > 0)
		fmn_buf_add(&b, chunk, k);
	fclose(f);
	return fmn_buf_steal(&b);
}

static int
spool_count(struct harness *h)
{
	DIR *d = opendir(h->spool);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);

		if (len > 4 && strcmp(e->d_name + len - 4, ".eml") == 0)
			n++;
	}
	closedir(d);
	return n;
}

TEST(delivers_single_digest_confirm)
{
	struct harness h;
	struct fmn_notice n[3];
	const struct outcome *o;
	int i, seen_subject = 0;

	if (setup(&h, 1, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	n[0] = notice(1, "kevin's ansible-1.8.3-1.el7 completed");
	n[1] = notice(2, "second");
	n[2] = notice(3, "third");
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "alice@example.org", n,
	    1) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_DIGEST, "alice@example.org", n,
	    3) == 0);
	CHECK(deliver(&h, 3, FMN_DELIVERY_CONFIRM, "new@example.org", NULL,
	    0) == 0);
	CHECK_INT(fmn_backend_smtp.inflight(&h.b), 3);
	run_until(&h, 3, 30000);
	CHECK_INT(h.n_done, 3);
	for (i = 1; i <= 3; i++) {
		o = outcome(&h, i);
		CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
		if (o != NULL && o->error != NULL)
			fprintf(stderr, "%d: %s\n", i, o->error);
	}
	CHECK_INT(fmn_backend_smtp.inflight(&h.b), 0);
	CHECK_INT(spool_count(&h), 3);
	for (i = 0; i < 3; i++) {
		char *m = spool_read(&h, i, "eml"), *env = spool_read(&h, i,
		    "json");

		CHECK(m != NULL && env != NULL);
		if (m == NULL || env == NULL) {
			free(m);
			free(env);
			continue;
		}
		CHECK(strstr(env, "\"mail_from\": \"fmn@example.net\"") != NULL);
		if (strstr(m, "Subject: kevin's ansible-1.8.3-1.el7 completed"))
			seen_subject |= 1;
		if (strstr(m, "Subject: fmn: 3 notifications"))
			seen_subject |= 2;
		if (strstr(m, "fmnctl dest confirm s3cr3t0123456789")) {
			seen_subject |= 4;
			CHECK(strstr(env, "[\"new@example.org\"]") != NULL);
		}
		free(m);
		free(env);
	}
	CHECK_INT(seen_subject, 7);
	teardown(&h);
}

TEST(rejected_recipient_is_permanent)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	const struct outcome *o;
	static const char *const reject[] = {
		"--reject", "bad@example.org", NULL
	};

	if (setup(&h, 1, reject) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "good@example.org", &n,
	    1) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "bad@example.org", &n,
	    1) == 0);
	CHECK(deliver(&h, 3, FMN_DELIVERY_SINGLE, "other@example.org", &n,
	    1) == 0);
	run_until(&h, 3, 30000);
	o = outcome(&h, 1);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	o = outcome(&h, 3);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_PERMFAIL);
	CHECK(o != NULL && o->error != NULL && strstr(o->error, "550") != NULL);
	CHECK(o != NULL && o->error != NULL &&
	    strstr(o->error, "User unknown") != NULL);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);
	CHECK_INT(spool_count(&h), 2);
	teardown(&h);
}

TEST(server_down_is_temporary_then_delivers)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	const struct outcome *o;
	int64_t t0;

	if (setup(&h, 0, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	t0 = fmn_monotonic_ms();
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 1, 20000);
	o = outcome(&h, 1);
	CHECK(o != NULL && o->result == FMN_RESULT_TEMPFAIL);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);
	CHECK(fmn_monotonic_ms() - t0 < 10000);
	/* The server comes up: the retry gets through. */
	CHECK(server_start(&h, NULL) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 2, 20000);
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	/* The server goes away with a cached connection: temporary again. */
	server_stop(&h);
	CHECK(deliver(&h, 3, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 3, 20000);
	o = outcome(&h, 3);
	CHECK(o != NULL && o->result == FMN_RESULT_TEMPFAIL);
	CHECK(server_start(&h, NULL) == 0);
	CHECK(deliver(&h, 4, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 4, 20000);
	o = outcome(&h, 4);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	teardown(&h);
}

TEST(connections_are_reused)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	int i, distinct = 0;
	char *peers[40];

	if (setup(&h, 1, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	/* One at a time, so each can reuse the last one's connection. */
	for (i = 0; i < 20; i++) {
		CHECK(deliver(&h, i + 1, FMN_DELIVERY_SINGLE, "a@example.org",
		    &n, 1) == 0);
		run_until(&h, (size_t)i + 1, 20000);
	}
	CHECK_INT(h.n_done, 20);
	CHECK_INT(spool_count(&h), 20);
	for (i = 0; i < 20; i++) {
		char *env = spool_read(&h, i, "json"), *p;
		int j, same = 0;

		peers[i] = NULL;
		if (env == NULL || (p = strstr(env, "\"peer\"")) == NULL) {
			free(env);
			continue;
		}
		peers[i] = xstrdup(p);
		free(env);
		for (j = 0; j < i; j++)
			if (peers[j] != NULL && strcmp(peers[j], peers[i]) == 0)
				same = 1;
		if (!same)
			distinct++;
	}
	CHECK(distinct >= 1 && distinct <= 2);
	for (i = 0; i < 20; i++)
		free(peers[i]);
	teardown(&h);
}

TEST(no_extra_recipient_or_header)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hi\r\nBcc: victim@example.org\r\n"
	    "RCPT TO:<victim@example.org>\r\n.\r\nMAIL FROM:<x@y.org>");
	const struct outcome *o;
	char *m, *env;

	if (setup(&h, 1, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	n.long_form = "line\r\n.\r\nRCPT TO:<victim@example.org>\r\n";
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	/* An address that would inject a command is refused outright. */
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE,
	    "a@example.org>\r\nRCPT TO:<victim@example.org", &n, 1) == 0);
	run_until(&h, 2, 20000);
	o = outcome(&h, 1);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_PERMFAIL);
	CHECK_INT(spool_count(&h), 1);
	m = spool_read(&h, 0, "eml");
	env = spool_read(&h, 0, "json");
	CHECK(env != NULL && strstr(env, "\"rcpt_tos\": [\"a@example.org\"]")
	    != NULL);
	CHECK(m != NULL && strstr(m, "\nBcc:") == NULL);
	CHECK(m != NULL && strstr(m, "\r\n.\r\nRCPT") != NULL);
	free(m);
	free(env);
	teardown(&h);
}

TEST(server_restart_between_mails)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	const struct outcome *o;

	if (setup(&h, 1, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 1, 20000);
	/* The cached connection dies with the server; a new one is used. */
	server_stop(&h);
	CHECK(server_start(&h, NULL) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 2, 20000);
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);
	teardown(&h);
}

/*
 * STARTTLS and AUTH: the server requires both. With starttls = required
 * and the right CA and login the mail goes through encrypted; in clear
 * the server's refusal of MAIL FROM is a temporary failure, since it is
 * the deployment's problem and not the recipient's.
 */
TEST(starttls_and_auth)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	const struct outcome *o;
	char cert[128], key[128], cmd[512], *cause = NULL, *env;
	const char *extra[] = {
		"--tls", cert, key, "--auth", "fmn", "s3cret", NULL
	};

	if (setup(&h, 0, NULL) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	snprintf(cert, sizeof(cert), "%s/cert.pem", h.spool);
	snprintf(key, sizeof(key), "%s/key.pem", h.spool);
	snprintf(cmd, sizeof(cmd), "openssl req -x509 -newkey rsa:2048 "
	    "-nodes -keyout '%s' -out '%s' -days 2 -subj /CN=127.0.0.1 "
	    "-addext subjectAltName=IP:127.0.0.1 2>/dev/null", key, cert);
	if (system(cmd) != 0) {
		CHECK(!"openssl cannot make a certificate");
		teardown(&h);
		return;
	}
	CHECK(server_start(&h, extra) == 0);

	/* In clear: refused at MAIL FROM with 530, temporary. */
	free(h.cfg.starttls);
	h.cfg.starttls = xstrdup("no");
	fmn_backend_smtp.fini(&h.b);
	CHECK(fmn_backend_smtp.init(&h.b, &cause) == 0);
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 1, 20000);
	o = outcome(&h, 1);
	CHECK(o != NULL && o->result == FMN_RESULT_TEMPFAIL);
	CHECK(o != NULL && o->error != NULL && strstr(o->error, "530") != NULL);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);

	/* Required TLS, our CA, the login: delivered, encrypted. */
	free(h.cfg.starttls);
	h.cfg.starttls = xstrdup("required");
	h.cfg.smtp_ca_file = xstrdup(cert);
	h.cfg.smtp_user = xstrdup("fmn");
	h.cfg.smtp_password = xstrdup("s3cret");
	fmn_backend_smtp.fini(&h.b);
	CHECK(fmn_backend_smtp.init(&h.b, &cause) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 2, 20000);
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);
	env = spool_read(&h, 0, "json");
	CHECK(env != NULL && strstr(env, "\"tls\": true") != NULL);
	CHECK(env != NULL && strstr(env, "\"login\": \"fmn\"") != NULL);
	free(env);

	/* A wrong password: refused login, temporary. */
	free(h.cfg.smtp_password);
	h.cfg.smtp_password = xstrdup("wrong");
	fmn_backend_smtp.fini(&h.b);
	CHECK(fmn_backend_smtp.init(&h.b, &cause) == 0);
	CHECK(deliver(&h, 3, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	run_until(&h, 3, 20000);
	o = outcome(&h, 3);
	CHECK(o != NULL && o->result == FMN_RESULT_TEMPFAIL);
	CHECK(o != NULL && o->error != NULL &&
	    strstr(o->error, "(AUTH): 535") != NULL);
	/* Nothing of the credentials (base64 of "\0fmn\0wrong"). */
	CHECK(o != NULL && o->error != NULL &&
	    strstr(o->error, "AGZtbgB3cm9uZw") == NULL &&
	    strstr(o->error, "AGZTBG") == NULL);
	if (o != NULL && o->error != NULL)
		fprintf(stderr, "error: %s\n", o->error);
	free(cause);
	teardown(&h);
}

/* Run the loop until the server wrote SPOOL/NAME, at most timeout_ms. */
static int
wait_spool_file(struct harness *h, const char *name, long timeout_ms)
{
	int64_t deadline = fmn_monotonic_ms() + timeout_ms;
	char path[128];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/%s", h->spool, name);
	while (stat(path, &sb) != 0) {
		if (fmn_monotonic_ms() > deadline)
			return -1;
		run_until(h, h->n_done + 1, 50);
	}
	return 0;
}

/*
 * The server takes the message and never answers its end. The loop goes
 * on (no call into the backend takes long), every transfer fails
 * temporarily after [email] timeout, and the ones waiting for a worker
 * count as in flight meanwhile.
 */
TEST(silent_server_does_not_block_the_loop)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	const struct outcome *o;
	static const char *const never[] = { "--delay", "never", NULL };
	zmq_pollitem_t items[32];
	int64_t t0, t, longest = 0, deadline;
	int i;

	if (setup(&h, 1, never) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	h.cfg.smtp_timeout = 2;
	fmn_backend_smtp.fini(&h.b);
	CHECK(fmn_backend_smtp.init(&h.b, NULL) == 0);
	t0 = fmn_monotonic_ms();
	for (i = 1; i <= 3; i++)
		CHECK(deliver(&h, i, FMN_DELIVERY_SINGLE, "a@example.org", &n,
		    1) == 0);
	/* Two connections: two transfers run, one waits for a worker. */
	CHECK_INT(fmn_backend_smtp.inflight(&h.b), 3);
	deadline = t0 + 30000;
	while (h.n_done < 3 && fmn_monotonic_ms() < deadline) {
		int k = fmn_backend_smtp.pollitems(&h.b, items, 32);

		if (zmq_poll(items, k, 100) < 0 && errno != EINTR)
			break;
		t = fmn_monotonic_ms();
		fmn_backend_smtp.process(&h.b, items, k);
		if (fmn_monotonic_ms() - t > longest)
			longest = fmn_monotonic_ms() - t;
		if (h.n_done == 0)
			CHECK_INT(fmn_backend_smtp.inflight(&h.b), 3);
	}
	fprintf(stderr, "3 timeouts in %lld ms; longest call into the "
	    "backend %lld ms\n", (long long)(fmn_monotonic_ms() - t0),
	    (long long)longest);
	CHECK_INT(h.n_done, 3);
	CHECK(longest < 500);
	/*
	 * Each waited for its reply for the timeout, 2 s, the third after
	 * one of the first two; then a worker is free at once (4 s in all):
	 * it does not wait for the silent server to answer a QUIT too.
	 */
	CHECK(fmn_monotonic_ms() - t0 >= 3500);
	CHECK(fmn_monotonic_ms() - t0 < 6500);
	for (i = 1; i <= 3; i++) {
		o = outcome(&h, i);
		CHECK(o != NULL && o->result == FMN_RESULT_TEMPFAIL);
		CHECK(o != NULL && o->error != NULL &&
		    strstr(o->error, "Timeout was reached") != NULL);
		if (o != NULL && o->error != NULL && i == 1)
			fprintf(stderr, "error: %s\n", o->error);
	}
	CHECK_INT(fmn_backend_smtp.inflight(&h.b), 0);
	teardown(&h);
}

/*
 * Stopping while a transfer waits, inside curl's blocking wait, for the
 * reply to the end of its message: curl calls the progress callback
 * about once a second there, so fini() returns within about a second,
 * long before the 30 s timeout, and reports nothing.
 */
TEST(fini_gives_up_a_stuck_transfer)
{
	struct harness h;
	struct fmn_notice n = notice(1, "hello");
	static const char *const never[] = { "--delay", "never", NULL };
	int64_t t0, took;

	if (setup(&h, 1, never) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	h.cfg.smtp_timeout = 30;
	fmn_backend_smtp.fini(&h.b);
	CHECK(fmn_backend_smtp.init(&h.b, NULL) == 0);
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &n, 1) == 0);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "b@example.org", &n, 1) == 0);
	CHECK(deliver(&h, 3, FMN_DELIVERY_SINGLE, "c@example.org", &n, 1) == 0);
	/* Both connections hold a message whose reply never comes. */
	CHECK(wait_spool_file(&h, "held-1", 20000) == 0);
	t0 = fmn_monotonic_ms();
	fmn_backend_smtp.fini(&h.b);
	took = fmn_monotonic_ms() - t0;
	fprintf(stderr, "fini took %lld ms\n", (long long)took);
	CHECK(took < 3000);
	CHECK_INT(h.n_done, 0);
	teardown(&h);
}

/*
 * 554 after the message (a content filter) refuses that mail only: the
 * result says the destination is fine, and the next mail to the same
 * address goes through.
 */
TEST(refused_message_is_not_the_destination)
{
	struct harness h;
	struct fmn_notice bad = notice(1, "FORBIDDEN words");
	struct fmn_notice good = notice(2, "harmless words");
	const struct outcome *o;
	static const char *const refuse[] = {
		"--refuse-content", "FORBIDDEN", NULL
	};

	if (setup(&h, 1, refuse) != 0) {
		CHECK(!"setup");
		teardown(&h);
		return;
	}
	CHECK(deliver(&h, 1, FMN_DELIVERY_SINGLE, "a@example.org", &bad,
	    1) == 0);
	run_until(&h, 1, 20000);
	CHECK(deliver(&h, 2, FMN_DELIVERY_SINGLE, "a@example.org", &good,
	    1) == 0);
	run_until(&h, 2, 20000);
	o = outcome(&h, 1);
	CHECK(o != NULL && o->result == FMN_RESULT_REJECTED);
	CHECK_STR(o != NULL ? o->error : NULL,
	    "message refused (DATA): 554 5.7.1 message content rejected");
	o = outcome(&h, 2);
	CHECK(o != NULL && o->result == FMN_RESULT_DELIVERED);
	CHECK_INT(spool_count(&h), 1);
	teardown(&h);
}
