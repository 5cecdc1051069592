/*
 * What deriving facts costs next to parsing: the corpus of real bus
 * messages, each given a fresh msg_id, parsed only, then parsed and run
 * through the shipped definitions, in the same run.
 * Usage: bench_facts [CORPUS.json] [SECONDS per phase]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_facts.h"
#include "fmn_util.h"

static char **
load(const char *path, size_t *n)
{
	json_error_t err;
	json_t *root, *v;
	char **texts;
	size_t i;

	if ((root = json_load_file(path, 0, &err)) == NULL ||
	    !json_is_array(root)) {
		fprintf(stderr, "%s: %s\n", path, err.text);
		exit(1);
	}
	*n = json_array_size(root);
	texts = xcalloc(*n, sizeof(*texts));
	json_array_foreach(root, i, v) {
		json_t *env = json_deep_copy(json_object_get(v, "msg"));
		char id[64];

		snprintf(id, sizeof(id), "bench-%08zx-0000-4000-8000-%012zx",
		    i, i * 7919);
		json_object_set_new(env, "msg_id", json_string(id));
		texts[i] = json_dumps(env, JSON_COMPACT);
		json_decref(env);
	}
	json_decref(root);
	return texts;
}

/* Messages per second over about `secs` seconds. */
static double
run(char **texts, size_t n, const struct fmn_defs *d,
    const struct fmn_aliases *a, double secs, size_t *users)
{
	double start = fmn_now(), now;
	size_t done = 0, i;

	*users = 0;
	do {
		for (i = 0; i < n; i++) {
			char *cause = NULL;
			struct fmn_msg *m = fmn_msg_parse(NULL, texts[i],
			    strlen(texts[i]), &cause);

			if (m == NULL) {
				fprintf(stderr, "corpus message %zu: %s\n", i,
				    cause);
				exit(1);
			}
			if (d != NULL) {
				fmn_facts_derive(d, a, m);
				*users += m->facts.usernames.n;
			}
			fmn_msg_destroy(&m);
		}
		done += n;
		now = fmn_now();
	} while (now - start < secs);
	return (double)done / (now - start);
}

int
main(int argc, char **argv)
{
	const char *path = argc > 1 ? argv[1] :
	    FMN_SOURCE_DIR "/tests/data/fmfi-dev.json";
	double secs = argc > 2 ? atof(argv[2]) : 3.0;
	struct fmn_aliases *a = fmn_aliases_new();
	char *cause = NULL;
	struct fmn_defs *d = fmn_defs_new_builtin(&cause);
	double parse, facts;
	size_t n, users, i;
	char **texts;

	if (d == NULL) {
		fprintf(stderr, "definitions: %s\n", cause);
		return 1;
	}
	fmn_aliases_add(a, "threebean", "ralph");
	fmn_aliases_add(a, "rbean@redhat.com", "ralph");
	texts = load(path, &n);
	(void)run(texts, n, d, a, 0.2, &users);	/* warm up */
	parse = run(texts, n, NULL, a, secs, &users);
	facts = run(texts, n, d, a, secs, &users);
	printf("corpus: %zu messages (%s)\n", n, path);
	printf("parse only:    %10.0f messages/s\n", parse);
	printf("parse + facts: %10.0f messages/s\n", facts);
	printf("ratio:         %10.2f (facts cost %.1f us per message)\n",
	    facts / parse, 1e6 / facts - 1e6 / parse);
	for (i = 0; i < n; i++)
		free(texts[i]);
	free(texts);
	fmn_defs_destroy(&d);
	fmn_aliases_destroy(&a);
	return 0;
}
