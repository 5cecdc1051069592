/*
 * The failure limiter: a key is blocked after its limit of failures in
 * the window, for the window, then free again; other keys are not
 * touched; and the table never holds more keys than its size, however
 * many arrive (time is given, not read: no test waits).
 */
#include <stdio.h>

#include "fmn_limit.h"
#include "fmn_test.h"

TEST(blocks_after_the_limit_for_the_window)
{
	struct fmn_limit *l = fmn_limit_new(16, 3, 60);
	double retry = 0;

	CHECK(!fmn_limit_blocked(l, "10.0.0.1", 100, NULL));
	CHECK(fmn_limit_fail(l, "10.0.0.1", 100) == 0);
	CHECK(fmn_limit_fail(l, "10.0.0.1", 101) == 0);
	CHECK(!fmn_limit_blocked(l, "10.0.0.1", 102, NULL));
	CHECK(fmn_limit_fail(l, "10.0.0.1", 102) == 1);
	CHECK(fmn_limit_blocked(l, "10.0.0.1", 103, &retry));
	CHECK(retry > 58.9 && retry <= 59.0);
	/* Another address is not concerned. */
	CHECK(!fmn_limit_blocked(l, "10.0.0.2", 103, NULL));
	/* Free again once the window has passed. */
	CHECK(fmn_limit_blocked(l, "10.0.0.1", 161.9, NULL));
	CHECK(!fmn_limit_blocked(l, "10.0.0.1", 162, NULL));
	fmn_limit_destroy(&l);
	CHECK(l == NULL);
}

TEST(failures_spread_over_more_than_the_window_do_not_block)
{
	struct fmn_limit *l = fmn_limit_new(16, 3, 60);
	int i;

	for (i = 0; i < 100; i++)
		CHECK(fmn_limit_fail(l, "k", 100 + i * 31.0) == 0);
	CHECK(!fmn_limit_blocked(l, "k", 100 + 100 * 31.0, NULL));
	fmn_limit_destroy(&l);
}

TEST(memory_is_bounded_and_the_oldest_goes_first)
{
	struct fmn_limit *l = fmn_limit_new(8, 2, 60);
	char key[32];
	int i;

	/* The attacker, blocked, keeps trying while others come and go. */
	fmn_limit_fail(l, "attacker", 0);
	fmn_limit_fail(l, "attacker", 0);
	for (i = 0; i < 10000; i++) {
		snprintf(key, sizeof(key), "192.0.2.%d", i);
		fmn_limit_fail(l, key, 1 + i * 0.001);
		CHECK(fmn_limit_count(l) <= 8);
		if (i % 4 == 0)
			CHECK(fmn_limit_blocked(l, "attacker", 1 + i * 0.001,
			    NULL));
	}
	CHECK_INT(fmn_limit_count(l), 8);
	/* Keys longer than the limit are cut, not refused. */
	fmn_limit_fail(l, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	    "aaaaaaaaaaaaaaaaaaaa", 20);
	CHECK_INT(fmn_limit_count(l), 8);
	fmn_limit_destroy(&l);
}
