/* The one UTF-8 decoder, and cutting text between characters. */
#include "fmn_test.h"
#include "fmn_utf8.h"
#include "fmn_util.h"

TEST(decode_is_strict)
{
	static const struct {
		const char	*s;
		size_t		 len;	/* expected; 0: refused */
		uint32_t	 cp;
	} cases[] = {
		{ "a", 1, 'a' },
		{ "\xc3\xa9", 2, 0xe9 },
		{ "\xe2\x80\xae", 3, 0x202e },
		{ "\xf0\x9f\x98\x80", 4, 0x1f600 },
		{ "\xc0\xaf", 0, 0 },		/* overlong '/' */
		{ "\xe0\x80\xaf", 0, 0 },	/* overlong */
		{ "\xed\xa0\x80", 0, 0 },	/* a surrogate */
		{ "\xf4\x90\x80\x80", 0, 0 },	/* past U+10FFFF */
		{ "\xc3", 0, 0 },		/* truncated */
		{ "\x80", 0, 0 },		/* a lone continuation byte */
	};
	size_t i;
	uint32_t cp;

	for (i = 0; i < FMN_NELEM(cases); i++) {
		cp = 0;
		CHECK_INT(fmn_utf8_decode(cases[i].s, strlen(cases[i].s), &cp),
		    cases[i].len);
		if (cases[i].len > 0)
			CHECK_INT(cp, cases[i].cp);
	}
	CHECK_INT(fmn_utf8_valid("caf\xc3\xa9", 5), 1);
	CHECK_INT(fmn_utf8_valid("a\0b", 3), 0);
}

TEST(cut_count_and_prefix_keep_characters_whole)
{
	const char *s = "a\xc3\xa9" "b\xe2\x82\xac";	/* a é b € : 4 characters, 7 bytes */

	CHECK_INT(fmn_utf8_chars(s, 7), 4);
	CHECK_INT(fmn_utf8_cut(s, 7, 7), 7);
	CHECK_INT(fmn_utf8_cut(s, 7, 6), 4);	/* not into the euro sign */
	CHECK_INT(fmn_utf8_cut(s, 7, 2), 1);	/* not into the e acute */
	CHECK_INT(fmn_utf8_cut(s, 7, 0), 0);
	CHECK_INT(fmn_utf8_prefix(s, 7, 2), 3);
	CHECK_INT(fmn_utf8_prefix(s, 7, 10), 7);
}
