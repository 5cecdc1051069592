/*
 * What a regex requires of the text it is found in, for the filter
 * engine's indexes (docs/filters.md, "Literals"): a conservative reading
 * of the pattern that may say nothing, and never names text that a
 * match could lack.
 */
#ifndef FMN_LITERAL_H
#define FMN_LITERAL_H

#include <stddef.h>

/* A run of literal text every match contains. */
struct fmn_literal_run {
	char	*text;		/* owned, NUL-terminated, never empty */
	size_t	 len;
};

struct fmn_literal {
	struct fmn_literal_run	*runs;	/* in pattern order */
	size_t			 nruns;
	/*
	 * When the pattern starts with ^ followed by literal text: that
	 * text, which every subject it is found in starts with (the first
	 * run); else NULL.
	 */
	const struct fmn_literal_run *prefix;
};

/*
 * Read pattern (as fmn_rule compiles it: PCRE2, UTF, no options). The
 * reading stops, with no runs at all, at anything it does not follow:
 * alternation at the top level, option settings such as (?i), \Q, verbs,
 * conditionals, recursion. Groups, classes, dots, escapes that are not a
 * literal character, assertions and anchors end a run; a character under
 * a quantifier that allows zero is not part of any. Returns 0, or -1
 * when nothing can be said (out has no runs then either).
 */
int fmn_literal_regex(const char *pattern, struct fmn_literal *out);
void fmn_literal_clear(struct fmn_literal *l);

#endif
