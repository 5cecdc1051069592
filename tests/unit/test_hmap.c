/* The hash map: integer keys (insert, replace, delete with backward shift) and string keys. */
#include "fmn_test.h"
#include "fmn_hmap.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define V(x) ((void *)(intptr_t)(x))

TEST(put_get_replace)
{
	struct fmn_hmap m = { 0 };

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
	struct fmn_hmap m = { 0 };
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

TEST(string_keys_are_copied_found_by_length_and_deleted)
{
	struct fmn_hmap m = { 0 };
	char key[16];
	const char *k;
	size_t i, seen = 0;
	void *v;
	int n;

	for (n = 0; n < 1000; n++) {
		snprintf(key, sizeof(key), "key%d", n);
		*fmn_hmap_put(&m, key) = V(n + 1);
	}
	/* The map holds copies: the buffer is reused above. */
	CHECK_INT(m.n, 1000);
	CHECK(fmn_hmap_get(&m, "key7") == V(8));
	CHECK(fmn_hmap_getn(&m, "key77xyz", 5) == V(78));
	CHECK(fmn_hmap_getn(&m, "key77xyz", 4) == V(8));
	CHECK(fmn_hmap_get(&m, "key1000") == NULL);
	CHECK(fmn_hmap_set(&m, "key7", V(70)) == V(8));
	for (n = 0; n < 1000; n += 2) {
		snprintf(key, sizeof(key), "key%d", n);
		CHECK(fmn_hmap_del(&m, key) != NULL);
	}
	CHECK_INT(m.n, 500);
	for (n = 1; n < 1000; n += 2) {
		snprintf(key, sizeof(key), "key%d", n);
		CHECK(fmn_hmap_get(&m, key) == (n == 7 ? V(70) : V(n + 1)));
	}
	for (i = 0; fmn_hmap_next(&m, &i, &k, &v); seen++)
		CHECK(strncmp(k, "key", 3) == 0);
	CHECK_INT(seen, 500);
	fmn_hmap_clear(&m, NULL);
	CHECK_INT(m.n, 0);
}
