/* The one glob matcher: '*' spans dots, '?' is one character, the whole topic must match. */
#include "fmn_test.h"
#include "fmn_glob.h"
#include "fmn_util.h"

TEST(star_question_and_literals)
{
	static const struct {
		const char	*g, *s;
		int		 match;
	} cases[] = {
		{ "*", "", 1 },
		{ "*", "org.fedoraproject.prod.bodhi.update.comment", 1 },
		{ "*.bodhi.*", "org.fedoraproject.prod.bodhi.update.comment", 1 },
		{ "*.bodhi.update.comment", "org.fedoraproject.prod.bodhi.update.comment", 1 },
		{ "*.bodhi.update.comment", "org.fedoraproject.prod.bodhi.update.comments", 0 },
		{ "org.*.prod.*", "org.fedoraproject.stg.bodhi.x.prod.y", 1 },
		{ "org.?.x", "org.a.x", 1 },
		{ "org.?.x", "org.ab.x", 0 },
		{ "a*b*c", "aXXbYYc", 1 },
		{ "a*b*c", "aXXbYY", 0 },
		{ "**a", "bbba", 1 },
		{ "abc", "abc", 1 },
		{ "abc", "ab", 0 },
		{ "", "", 1 },
		{ "", "a", 0 },
	};
	size_t i;

	for (i = 0; i < FMN_NELEM(cases); i++)
		CHECK_INT(fmn_glob_match(cases[i].g, cases[i].s),
		    cases[i].match);
}

TEST(many_stars_stay_cheap)
{
	char s[4097];
	size_t i;

	/* Exponential backtracking would never finish this. */
	for (i = 0; i < sizeof(s) - 1; i++)
		s[i] = 'a';
	s[i] = '\0';
	CHECK_INT(fmn_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*b", s), 0);
	CHECK_INT(fmn_glob_match("*a*a*a*a*a*a*a*a*a*a*a*a*a", s), 1);
}
