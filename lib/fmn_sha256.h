/*
 * SHA-256 (FIPS 180-4), for what must be stored as a digest and not as
 * itself (the API's tokens), and a comparison that takes the same time
 * whatever the bytes compared, so that how long a refusal took says
 * nothing about how close a guess was.
 */
#ifndef FMN_SHA256_H
#define FMN_SHA256_H

#include <stddef.h>
#include <stdint.h>

#define FMN_SHA256_LEN	32

struct fmn_sha256 {
	uint32_t	 h[8];
	uint64_t	 len;		/* bytes hashed so far */
	unsigned char	 block[64];
	size_t		 used;		/* bytes waiting in block */
};

void fmn_sha256_init(struct fmn_sha256 *c);
void fmn_sha256_update(struct fmn_sha256 *c, const void *p, size_t n);
void fmn_sha256_final(struct fmn_sha256 *c, unsigned char out[FMN_SHA256_LEN]);
/* The digest of n bytes at p, in one call. */
void fmn_sha256(const void *p, size_t n, unsigned char out[FMN_SHA256_LEN]);
/* 1 when the n bytes at a and b are equal; the time depends on n only. */
int fmn_equal_ct(const void *a, const void *b, size_t n);

#endif
