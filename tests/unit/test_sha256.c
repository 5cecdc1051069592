/*
 * SHA-256 against the test vectors of FIPS 180-4's examples (and the
 * million 'a's of its companion), fed whole and in pieces; and the
 * comparison that does not stop at the first difference.
 */
#include <string.h>

#include "fmn_sha256.h"
#include "fmn_test.h"

static void
hex(const unsigned char *d, char *out)
{
	int i;

	for (i = 0; i < FMN_SHA256_LEN; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

TEST(known_vectors)
{
	static const struct { const char *in, *out; } v[] = {
		{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
		{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
		{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
		  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
		{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
		  "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
		  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	};
	unsigned char d[FMN_SHA256_LEN];
	char h[2 * FMN_SHA256_LEN + 1];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		fmn_sha256(v[i].in, strlen(v[i].in), d);
		hex(d, h);
		CHECK_STR(h, v[i].out);
	}
}

TEST(pieces_give_the_same_digest)
{
	struct fmn_sha256 c;
	unsigned char d[FMN_SHA256_LEN];
	char h[2 * FMN_SHA256_LEN + 1], chunk[1000];
	int i;

	/* A million 'a's, in pieces that straddle the 64-byte blocks. */
	memset(chunk, 'a', sizeof(chunk));
	fmn_sha256_init(&c);
	for (i = 0; i < 1000; i++)
		fmn_sha256_update(&c, chunk, sizeof(chunk));
	fmn_sha256_final(&c, d);
	hex(d, h);
	CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
	/* 55, 56 and 64 bytes: where the padding needs a second block. */
	for (i = 55; i <= 64; i++) {
		unsigned char one[FMN_SHA256_LEN];

		fmn_sha256(chunk, (size_t)i, one);
		fmn_sha256_init(&c);
		fmn_sha256_update(&c, chunk, 1);
		fmn_sha256_update(&c, chunk + 1, (size_t)i - 1);
		fmn_sha256_final(&c, d);
		CHECK(memcmp(one, d, sizeof(d)) == 0);
	}
}

TEST(equal_ct_compares_every_byte)
{
	unsigned char a[32], b[32];

	memset(a, 7, sizeof(a));
	memcpy(b, a, sizeof(b));
	CHECK(fmn_equal_ct(a, b, sizeof(a)));
	b[31] ^= 1;
	CHECK(!fmn_equal_ct(a, b, sizeof(a)));
	b[31] ^= 1;
	b[0] ^= 0x80;
	CHECK(!fmn_equal_ct(a, b, sizeof(a)));
	CHECK(fmn_equal_ct(a, b, 0));
}
