/* The daemon's integer-keyed map: insert, replace, delete with backward shift. */
#include "fmn_test.h"
#include "fmn_imap.h"

#include <stdint.h>

#define V(x) ((void *)(intptr_t)(x))

TEST(put_get_replace)
{
	struct fmn_imap m = { 0 };

	CHECK(fmn_imap_get(&m, 1) == NULL);
	CHECK(fmn_imap_put(&m, 1, V(10)) == NULL);
	CHECK(fmn_imap_put(&m, -5, V(20)) == NULL);
	CHECK(fmn_imap_get(&m, 1) == V(10));
	CHECK(fmn_imap_get(&m, -5) == V(20));
	CHECK(fmn_imap_put(&m, 1, V(11)) == V(10));
	CHECK_INT(m.n, 2);
	fmn_imap_clear(&m, NULL);
	CHECK_INT(m.n, 0);
}

TEST(delete_keeps_every_other_key_reachable)
{
	struct fmn_imap m = { 0 };
	long long k;
	size_t i, seen = 0;
	void *v;

	for (k = 1; k <= 5000; k++)
		fmn_imap_put(&m, k, V(k));
	for (k = 1; k <= 5000; k += 3)
		CHECK(fmn_imap_del(&m, k) == V(k));
	CHECK(fmn_imap_del(&m, 1) == NULL);
	for (k = 1; k <= 5000; k++) {
		if ((k - 1) % 3 == 0)
			CHECK(fmn_imap_get(&m, k) == NULL);
		else
			CHECK(fmn_imap_get(&m, k) == V(k));
	}
	for (i = 0; fmn_imap_next(&m, &i, &k, &v); seen++)
		CHECK(v == V(k));
	CHECK_INT(seen, m.n);
	CHECK_INT(m.n, 5000 - 1667);
	fmn_imap_clear(&m, NULL);
}
