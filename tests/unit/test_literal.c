/*
 * The literal runs a regex requires (filters/fmn_literal.c): what the
 * reading finds in patterns people write, where it gives up, and, over
 * random patterns and subjects, that a subject a pattern is found in
 * always contains every run and starts with the anchored one.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_test.h"
#include "fmn_literal.h"
#include "fmn_util.h"

/* The runs joined by '|', the prefix after a '^' when there is one. */
static char *
runs_str(const char *pattern)
{
	struct fmn_literal l;
	struct fmn_buf b;
	size_t i;

	if (fmn_literal_regex(pattern, &l) == -1)
		return xstrdup("(none)");
	fmn_buf_init(&b);
	fmn_buf_adds(&b, "");
	if (l.prefix != NULL)
		fmn_buf_printf(&b, "^%s ", l.prefix->text);
	for (i = 0; i < l.nruns; i++)
		fmn_buf_printf(&b, "%s%s", i ? "|" : "", l.runs[i].text);
	fmn_literal_clear(&l);
	return fmn_buf_steal(&b);
}

static const struct {
	const char	*pattern;
	const char	*runs;
} cases[] = {
	{ "bodhi", "bodhi" },
	{ "\\.git\\.receive$", ".git.receive" },
	{ "^org\\.fedoraproject\\.prod\\.bodhi\\.",
	  "^org.fedoraproject.prod.bodhi. org.fedoraproject.prod.bodhi." },
	{ "\\.copr\\.(build\\.start|chroot\\.start|worker\\.create)$",
	  ".copr." },
	{ "\\.buildsys\\.(tag|untag)$", ".buildsys." },
	{ "^(0|OPEN)$", "" },
	{ "^dist\\.(abicheck|rpmdeplint)$", "^dist. dist." },
	{ "(?:.*a){40}x", "x" },
	{ "(a+)+$", "" },
	{ "ab?c", "a|c" },
	{ "ab+c", "ab|c" },
	{ "ab*c", "a|c" },
	{ "ab{0,2}c", "a|c" },
	{ "ab{2}c", "ab|c" },
	{ "a.b[cd]e\\d+f\\w", "a|b|e|f" },
	{ "\"status\":\"stable\"", "\"status\":\"stable\"" },
	{ "{\"x\"", "{\"x\"" },
	{ "a]b}c", "a]b}c" },
	{ "k\\x41b\\p{Lu}c\\N{U+41}d", "k|b|c|d" },
	{ "caf\xc3\xa9+s", "caf\xc3\xa9|s" },
	{ "a(?=b)c", "a|c" },
	{ "ab(?#x)c", "(none)" },
	{ "(?i)fedora", "(none)" },
	{ "fedora(?i)x", "(none)" },
	{ "karma|comment", "(none)" },
	{ "\\Qa.b\\E", "(none)" },
	{ "(*UTF)abc", "(none)" },
	{ "a{,3}b", "b" },
	{ "a{1", "(none)" },
	{ "[]a]bc", "bc" },
	{ "[^]a]bc", "bc" },
	{ "[[:alpha:]]bc", "bc" },
	{ "^a", "^a a" },
	{ "^a?b", "b" },
	{ "x^a", "x|a" },
	{ "\\1ab", "ab" },
	{ "\\bword\\b", "word" },
	/* Where a group or class ends is not where it seems. */
	{ "(?:\\c)x)abc", "(none)" },
	{ "[\\c]]yz", "(none)" },
	{ "(?:(*ACCEPT))zzz", "(none)" },
	{ "(?:(?C\")\"))def", "(none)" },
	{ "(?:(?x)#)\nq)abc", "(none)" },
	{ "(?:(?i)a)bc", "(none)" },
	{ "[[:a]b:][]x]yz", "(none)" },
	{ "[a[:]x]yz", "(none)" },
	{ "[[:^alpha:]]bc", "bc" },
	{ "(?:a(b)[)]c)de", "de" },
};

TEST(reads_common_patterns)
{
	size_t i;

	for (i = 0; i < FMN_NELEM(cases); i++) {
		char *got = runs_str(cases[i].pattern);

		if (strcmp(got, cases[i].runs) != 0) {
			fprintf(stderr, "%s: got \"%s\", want \"%s\"\n",
			    cases[i].pattern, got, cases[i].runs);
			CHECK(!"literal case");
		}
		free(got);
	}
}

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint32_t
rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)(rng % n);
}

/*
 * Pieces of patterns that end groups and classes somewhere else than a
 * plain reading of their brackets says: escapes that take a bracket,
 * verbs, callouts, options, comments, POSIX classes well formed or not.
 */
static const char *const tricky[] = { "(?:", "(", ")", "[", "]", "\\c)",
    "\\c]", "[:", ":]", "[:alpha:]", "(*ACCEPT)", "(?x)", "#", "\n",
    "(?C\")\")", "(?i)", "\\Q)", "\\E", "a", "b", "x" };
static int tricky_mode;

/* A random pattern over a small alphabet, from atoms the reading knows. */
static char *
random_pattern(void)
{
	static const char *atoms[] = { "a", "b", "c", "\\.", ".", "[ab]",
	    "(?:ab|c)", "(a)", "\\d", "(?=a)", "\\b", "x", "1", "(?:a|)",
	    "\\w", "[^a]", "(?!b)", "\\1" };
	static const char *quants[] = { "?", "*", "+", "{0,2}", "{1,3}",
	    "{2}", "??", "*+", "{,2}" };
	struct fmn_buf b;
	int i, n = 1 + (int)rnd(7);

	fmn_buf_init(&b);
	fmn_buf_adds(&b, rnd(4) == 0 ? "^" : "");
	for (i = 0; i < n; i++) {
		if (tricky_mode) {
			fmn_buf_adds(&b, tricky[rnd(FMN_NELEM(tricky))]);
			if (rnd(2) == 0)
				i--;	/* longer patterns: they must compile */
			if (b.len > 40)
				break;
			continue;
		}
		fmn_buf_adds(&b, atoms[rnd(FMN_NELEM(atoms))]);
		if (rnd(3) == 0)
			fmn_buf_adds(&b, quants[rnd(FMN_NELEM(quants))]);
		if (rnd(30) == 0)
			fmn_buf_addc(&b, '|');
	}
	if (rnd(4) == 0)
		fmn_buf_addc(&b, '$');
	return fmn_buf_steal(&b);
}

static int
contains(const char *s, size_t len, const char *lit, size_t n)
{
	size_t i;

	for (i = 0; i + n <= len; i++)
		if (memcmp(s + i, lit, n) == 0)
			return 1;
	return 0;
}

/*
 * Over random patterns and subjects drawn from alphabet: every subject
 * a pattern is found in contains every run and starts with the prefix.
 */
static void
check_runs(const char *alphabet, size_t *checked_out, size_t *withruns_out)
{
	pcre2_match_data *md = pcre2_match_data_create(32, NULL);
	size_t checked = 0, withruns = 0, alen = strlen(alphabet);
	int p, k;

	for (p = 0; p < 20000; p++) {
		char *pat = random_pattern();
		struct fmn_literal l;
		pcre2_code *code;
		PCRE2_SIZE off;
		int err;

		code = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
		    PCRE2_UTF, &err, &off, NULL);
		if (code == NULL) {
			free(pat);
			continue;
		}
		if (fmn_literal_regex(pat, &l) == 0 && l.nruns > 0)
			withruns++;
		for (k = 0; k < 60; k++) {
			char subj[16];
			size_t len = rnd(14), i, r;

			for (i = 0; i < len; i++)
				subj[i] = alphabet[rnd((uint32_t)alen)];
			if (pcre2_match(code, (PCRE2_SPTR)subj, len, 0, 0, md,
			    NULL) < 0)
				continue;
			checked++;
			for (r = 0; r < l.nruns; r++) {
				if (!contains(subj, len, l.runs[r].text,
				    l.runs[r].len)) {
					fprintf(stderr, "%s found in \"%.*s\", "
					    "which lacks \"%s\"\n", pat,
					    (int)len, subj, l.runs[r].text);
					CHECK(!"run missing from a match");
				}
			}
			if (l.prefix != NULL && (len < l.prefix->len ||
			    memcmp(subj, l.prefix->text, l.prefix->len) != 0)) {
				fprintf(stderr, "%s found in \"%.*s\", which "
				    "does not start with \"%s\"\n", pat,
				    (int)len, subj, l.prefix->text);
				CHECK(!"prefix missing from a match");
			}
		}
		fmn_literal_clear(&l);
		pcre2_code_free(code);
		free(pat);
	}
	pcre2_match_data_free(md);
	*checked_out = checked;
	*withruns_out = withruns;
}

TEST(runs_hold_for_every_match)
{
	size_t checked, withruns;

	check_runs("abc.x1 ", &checked, &withruns);
	printf("%zu matches checked, %zu patterns with runs\n", checked,
	    withruns);
	CHECK(checked > 10000);
	CHECK(withruns > 5000);
}

/* The same over patterns of the pieces that mislead a plain reading. */
TEST(runs_hold_for_misleading_brackets)
{
	size_t checked, withruns;

	tricky_mode = 1;
	check_runs("abx):]#\n\x1d", &checked, &withruns);
	tricky_mode = 0;
	printf("%zu matches checked, %zu patterns with runs\n", checked,
	    withruns);
	CHECK(checked > 1000);
	CHECK(withruns > 100);
}
