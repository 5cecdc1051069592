/*
 * The load generator: publishes real corpus messages on a ZeroMQ PUB
 * socket in fedmsg frames (topic, envelope), each with a fresh msg_id
 * and the time it was sent ("fmn_sent", seconds), at a given rate or as
 * fast as the subscriber takes them. The msg_id is
 * "2026-bench-SEED-INDEX-SENT_MICROSECONDS". It binds an XPUB socket and waits
 * for a subscription first, so nothing is sent into the void, and it
 * never drops: a full queue blocks the sender instead.
 *
 * With --sign-key and --sign-cert every message is signed as a fedmsg
 * publisher signs (fmn_signer.h), for a daemon that checks signatures:
 * at the time of sending with a rate, or all of them before the first is
 * sent without one, so that a burst measures the daemon, not the
 * signing.
 *
 * usage: bench_load [--endpoint EP] [--count N] [--rate R] [--corpus FILE]
 *                   [--wait SECONDS] [--seed N] [--sign-key KEY --sign-cert CRT]
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <zmq.h>

#include "fmn_signer.h"
#include "fmn_util.h"

struct template {
	char	*topic;
	char	*rest;		/* the envelope's JSON without its opening brace */
};

/* Message i of the run as it is sent, signed when sg is not NULL. */
static char *
make(const struct template *m, struct fmn_signer *sg, unsigned seed, long i,
    double now, struct fmn_buf *b)
{
	json_t *env;
	char *cause = NULL, *s;

	fmn_buf_reset(b);
	/* msg_id is opaque: it carries the run, the index and the send
	 * time (µs), so a delivery log alone gives the latency. */
	fmn_buf_printf(b, "{\"msg_id\":\"2026-bench-%u-%ld-%lld\","
	    "\"i\":%ld,\"fmn_sent\":%.6f,%s", seed, i,
	    (long long)(now * 1e6), i + 1, now, m->rest);
	if (sg == NULL)
		return b->data;
	if ((env = json_loadb(b->data, b->len, 0, NULL)) == NULL ||
	    fmn_signer_sign(sg, env, &cause) != 0 ||
	    (s = json_dumps(env, JSON_COMPACT)) == NULL) {
		fprintf(stderr, "bench_load: signing: %s\n", cause ? cause :
		    "invalid JSON");
		exit(1);
	}
	json_decref(env);
	fmn_buf_reset(b);
	fmn_buf_adds(b, s);
	free(s);
	return b->data;
}

static size_t
load_corpus(const char *path, struct template **out)
{
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err), *v;
	struct template *t;
	size_t i, n = 0;

	if (!json_is_array(doc)) {
		fprintf(stderr, "bench_load: %s:%d: %s\n", path, err.line,
		    doc ? "not a JSON array" : err.text);
		exit(1);
	}
	t = xcalloc(json_array_size(doc), sizeof(*t));
	json_array_foreach(doc, i, v) {
		json_t *env = json_deep_copy(json_object_get(v, "msg"));
		const char *topic;
		char *s;

		if (!json_is_object(env) ||
		    (topic = json_string_value(json_object_get(env,
		    "topic"))) == NULL) {
			json_decref(env);
			continue;
		}
		json_object_del(env, "msg_id");
		json_object_del(env, "fmn_sent");
		/* One publisher numbering its messages 1, 2, 3...: the
		 * daemon's gap count then measures real losses. */
		json_object_del(env, "i");
		json_object_set_new(env, "username", json_string("fmn-bench"));
		t[n].topic = xstrdup(topic);
		s = json_dumps(env, JSON_COMPACT);
		t[n].rest = xstrdup(s + 1);
		free(s);
		json_decref(env);
		n++;
	}
	json_decref(doc);
	*out = t;
	return n;
}

static void
sleep_until(double t)
{
	double now = fmn_now();
	struct timespec ts;

	if (t <= now)
		return;
	ts.tv_sec = (time_t)(t - now);
	ts.tv_nsec = (long)((t - now - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

static void
usage(void)
{
	fputs("usage: bench_load [--endpoint tcp://127.0.0.1:9940] "
	    "[--count 50000]\n"
	    "                  [--rate MSGS_PER_S (0: as fast as possible)]\n"
	    "                  [--corpus tests/data/fmfi-dev.json] "
	    "[--wait SECONDS] [--seed N]\n"
	    "                  [--sign-key KEY.pem --sign-cert CERT.pem]\n",
	    stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "endpoint", required_argument, NULL, 'e' },
		{ "count", required_argument, NULL, 'n' },
		{ "rate", required_argument, NULL, 'r' },
		{ "corpus", required_argument, NULL, 'c' },
		{ "wait", required_argument, NULL, 'w' },
		{ "seed", required_argument, NULL, 's' },
		{ "sign-key", required_argument, NULL, 'k' },
		{ "sign-cert", required_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *endpoint = "tcp://127.0.0.1:9940";
	const char *corpus = FMN_SOURCE_DIR "/tests/data/fmfi-dev.json";
	long count = 50000, i;
	double rate = 0, wait_s = 30, t0, elapsed;
	unsigned seed = 1;
	const char *sign_key = NULL, *sign_cert = NULL;
	struct fmn_signer *sg = NULL;
	struct template *t;
	struct fmn_buf b;
	char **pre = NULL, *cause = NULL;
	size_t nt;
	void *ctx, *pub;
	int c, hwm = 0, one = 1, timeout;
	char sub[256];

	while ((c = getopt_long(argc, argv, "e:n:r:c:w:s:k:C:h", longopts,
	    NULL)) != -1) {
		switch (c) {
		case 'e': endpoint = optarg; break;
		case 'n': count = atol(optarg); break;
		case 'r': rate = atof(optarg); break;
		case 'c': corpus = optarg; break;
		case 'w': wait_s = atof(optarg); break;
		case 's': seed = (unsigned)atol(optarg); break;
		case 'k': sign_key = optarg; break;
		case 'C': sign_cert = optarg; break;
		default: usage();
		}
	}
	if (count <= 0 || rate < 0 || optind != argc ||
	    (sign_key == NULL) != (sign_cert == NULL))
		usage();
	nt = load_corpus(corpus, &t);
	if (nt == 0) {
		fprintf(stderr, "bench_load: no envelopes in %s\n", corpus);
		return 1;
	}
	fmn_buf_init(&b);
	if (sign_key != NULL &&
	    (sg = fmn_signer_new(sign_key, sign_cert, &cause)) == NULL) {
		fprintf(stderr, "bench_load: %s\n", cause);
		return 1;
	}
	if (sg != NULL && rate == 0) {
		double now = fmn_now();

		pre = xcalloc((size_t)count, sizeof(*pre));
		for (i = 0; i < count; i++)
			pre[i] = xstrdup(make(&t[(size_t)i % nt], sg, seed,
			    i, now, &b));
	}
	ctx = zmq_ctx_new();
	pub = zmq_socket(ctx, ZMQ_XPUB);
	zmq_setsockopt(pub, ZMQ_SNDHWM, &hwm, sizeof(hwm));
	zmq_setsockopt(pub, ZMQ_XPUB_NODROP, &one, sizeof(one));
	if (zmq_bind(pub, endpoint) != 0) {
		fprintf(stderr, "bench_load: bind %s: %s\n", endpoint,
		    zmq_strerror(errno));
		return 1;
	}
	/* A subscription message means a subscriber is there to read. */
	timeout = (int)(wait_s * 1000);
	zmq_setsockopt(pub, ZMQ_RCVTIMEO, &timeout, sizeof(timeout));
	if (zmq_recv(pub, sub, sizeof(sub), 0) < 1 || sub[0] != 1) {
		fprintf(stderr, "bench_load: no subscriber on %s within %gs\n",
		    endpoint, wait_s);
		return 1;
	}
	t0 = fmn_now();
	for (i = 0; i < count; i++) {
		const struct template *m = &t[(size_t)i % nt];
		const char *text;

		if (rate > 0)
			sleep_until(t0 + (double)i / rate);
		text = pre != NULL ? pre[i] : make(m, sg, seed, i, fmn_now(),
		    &b);
		if (zmq_send(pub, m->topic, strlen(m->topic), ZMQ_SNDMORE) < 0 ||
		    zmq_send(pub, text, strlen(text), 0) < 0) {
			fprintf(stderr, "bench_load: send: %s\n",
			    zmq_strerror(errno));
			return 1;
		}
	}
	elapsed = fmn_now() - t0;
	printf("sent %ld messages in %.3f s: %.0f messages/s\n", count, elapsed,
	    (double)count / (elapsed > 0 ? elapsed : 1e-9));
	fflush(stdout);
	/* Let the queue drain before the socket goes away. */
	{
		int linger = (int)(wait_s * 1000);

		zmq_setsockopt(pub, ZMQ_LINGER, &linger, sizeof(linger));
	}
	zmq_close(pub);
	zmq_ctx_term(ctx);
	fmn_buf_free(&b);
	for (i = 0; pre != NULL && i < count; i++)
		free(pre[i]);
	free(pre);
	fmn_signer_destroy(&sg);
	for (i = 0; i < (long)nt; i++) {
		free(t[i].topic);
		free(t[i].rest);
	}
	free(t);
	return 0;
}
