/*
 * What checking signatures costs next to parsing: the real corpus
 * messages, each given a fresh msg_id and signed with the test PKI
 * (1024-bit RSA, as fedmsg's hosts had), then in turn for SECONDS each:
 *
 *   parse        fmn_msg_load_json, the floor;
 *   parse+check  and fmn_sign_verify against the CA and CRL, with the
 *                certificate cache (a publisher's certificate is parsed
 *                and its chain and CRL checked once);
 *   no cache     the same with every certificate parsed and checked at
 *                every message.
 *
 * usage: bench_verify [CORPUS.json] [SECONDS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_msg.h"
#include "fmn_sign.h"
#include "fmn_signer.h"
#include "fmn_util.h"

#define PKI FMN_SOURCE_DIR "/tests/data/pki/"

struct text {
	char	*s;
	size_t	 len;
};

static size_t
load(const char *path, struct text **out)
{
	struct fmn_signer *sg;
	json_t *doc = json_load_file(path, 0, NULL), *v;
	struct text *t;
	char *cause = NULL;
	size_t i, n = 0;

	sg = fmn_signer_new(PKI "shell-app01.phx2.fedoraproject.org.key",
	    PKI "shell-app01.phx2.fedoraproject.org.crt", &cause);
	if (!json_is_array(doc) || sg == NULL) {
		fprintf(stderr, "bench_verify: %s: %s\n", path,
		    cause ? cause : "not a JSON array");
		exit(1);
	}
	t = xcalloc(json_array_size(doc), sizeof(*t));
	json_array_foreach(doc, i, v) {
		json_t *env = json_deep_copy(json_object_get(v, "msg"));
		char id[64];

		if (!json_is_object(env)) {
			json_decref(env);
			continue;
		}
		snprintf(id, sizeof(id), "2026-bench-verify-%zu", i);
		json_object_set_new(env, "msg_id", json_string(id));
		if (fmn_signer_sign(sg, env, &cause) != 0) {
			fprintf(stderr, "bench_verify: %s\n", cause);
			exit(1);
		}
		t[n].s = json_dumps(env, JSON_COMPACT);
		t[n].len = strlen(t[n].s);
		n++;
		json_decref(env);
	}
	json_decref(doc);
	fmn_signer_destroy(&sg);
	*out = t;
	return n;
}

/* Messages per second over secs; every one must be valid. */
static double
run(struct text *t, size_t n, struct fmn_sign *s, double secs)
{
	struct fmn_sign_result r;
	double t0 = fmn_now(), el;
	size_t done = 0;

	do {
		size_t i;

		for (i = 0; i < n; i++, done++) {
			json_t *env = fmn_msg_load_json(t[i].s, t[i].len, NULL);

			if (s != NULL && fmn_sign_verify(s, env, t[i].s,
			    t[i].len, &r) != FMN_SIGN_VALID) {
				fprintf(stderr, "bench_verify: message %zu: "
				    "%s\n", i, r.reason);
				exit(1);
			}
			json_decref(env);
		}
	} while ((el = fmn_now() - t0) < secs);
	return (double)done / el;
}

int
main(int argc, char **argv)
{
	const char *corpus = argc > 1 ? argv[1] :
	    FMN_SOURCE_DIR "/tests/data/fmfi-dev.json";
	double secs = argc > 2 ? atof(argv[2]) : 3, floor, cached, uncached;
	struct fmn_sign_opts o = { PKI "ca.crt", PKI "crl.pem", NULL, 0, 0,
	    0 };
	struct fmn_sign *s, *nc;
	struct text *t;
	char *cause = NULL;
	size_t n, i, bytes = 0;

	n = load(corpus, &t);
	for (i = 0; i < n; i++)
		bytes += t[i].len;
	if ((s = fmn_sign_new(&o, &cause)) == NULL) {
		fprintf(stderr, "bench_verify: %s\n", cause);
		return 1;
	}
	o.no_cache = 1;
	nc = fmn_sign_new(&o, &cause);
	printf("%zu signed messages, %zu bytes on average\n", n, bytes / n);
	floor = run(t, n, NULL, secs);
	printf("parse:                  %8.0f messages/s\n", floor);
	cached = run(t, n, s, secs);
	printf("parse + check (cache):  %8.0f messages/s, check %.1f us/message,"
	    " ratio %.2f\n", cached, 1e6 / cached - 1e6 / floor,
	    cached / floor);
	uncached = run(t, n, nc, secs);
	printf("parse + check (none):   %8.0f messages/s, check %.1f us/message,"
	    " ratio %.2f\n", uncached, 1e6 / uncached - 1e6 / floor,
	    uncached / floor);
	fmn_sign_destroy(&s);
	fmn_sign_destroy(&nc);
	for (i = 0; i < n; i++)
		free(t[i].s);
	free(t);
	return 0;
}
