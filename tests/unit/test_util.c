/*
 * Shared helpers: the string buffer and the UTF-8 check that guards
 * every frame from the bus.
 */
#include <stdlib.h>

#include "fmn_test.h"
#include "fmn_utf8.h"
#include "fmn_util.h"

TEST(buf_grows_and_stays_terminated)
{
	struct fmn_buf b;
	char *s;
	int i;

	fmn_buf_init(&b);
	for (i = 0; i < 1000; i++)
		fmn_buf_printf(&b, "%d,", i % 10);
	CHECK_INT(b.len, 2000);
	CHECK_INT(b.data[b.len], '\0');
	fmn_buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK_STR(b.data, "");
	fmn_buf_adds(&b, "abc");
	fmn_buf_addc(&b, 'd');
	fmn_buf_add(&b, "ef\0gh", 5);
	CHECK_INT(b.len, 9);
	s = fmn_buf_steal(&b);
	CHECK(memcmp(s, "abcdef\0gh", 10) == 0);
	CHECK(b.data == NULL && b.len == 0);
	free(s);
	s = fmn_buf_steal(&b);
	CHECK_STR(s, "");
	free(s);
}

TEST(utf8_accepts_valid_text)
{
	const char *ok[] = { "", "plain", "caf\xc3\xa9", "\xe2\x82\xac",
	    "\xf0\x9f\x8e\x89 party", "\xed\x9f\xbf" };
	size_t i;

	for (i = 0; i < FMN_NELEM(ok); i++)
		CHECK(fmn_utf8_valid(ok[i], strlen(ok[i])));
}

TEST(utf8_refuses_invalid_text)
{
	const char *bad[] = { "\xc3", "\xc3(", "\xc0\xaf", "\xe0\x80\xaf",
	    "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xff", "\x80" };
	size_t i;

	for (i = 0; i < FMN_NELEM(bad); i++)
		CHECK(!fmn_utf8_valid(bad[i], strlen(bad[i])));
	/* An embedded NUL is not text either. */
	CHECK(!fmn_utf8_valid("a\0b", 3));
}

TEST(asprintf_and_cause)
{
	char *s = xasprintf("%s-%d", "x", 42), *cause = NULL;

	CHECK_STR(s, "x-42");
	free(s);
	fmn_set_cause(&cause, "first %d", 1);
	fmn_set_cause(&cause, "second %d", 2);
	CHECK_STR(cause, "second 2");
	free(cause);
	fmn_set_cause(NULL, "ignored");
}
