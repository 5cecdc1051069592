/*
 * Glob matching with one backtrack point: a later '*' supersedes an
 * earlier one, so the cost is linear in practice and at worst the
 * product of the two lengths, never exponential.
 */
#include "fmn_glob.h"

#include <stddef.h>

int
fmn_glob_match(const char *g, const char *s)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*g == '*') {
			star = g++;
			resume = s;
		} else if (*g == '?' || *g == *s) {
			g++;
			s++;
		} else if (star != NULL) {
			g = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}
