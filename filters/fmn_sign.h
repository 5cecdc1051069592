/*
 * fedmsg's x509 signatures (fedmsg.crypto.x509): checking that an
 * envelope was signed by a certificate of the configured CA, that the
 * CRL does not revoke it, and that the routing policy lets it publish
 * on the envelope's topic.
 *
 * A signed envelope has "crypto": "x509", "signature" (base64 of an RSA
 * PKCS#1 v1.5 signature over SHA-1 of the canonical bytes, fmn_canon.h)
 * and "certificate" (base64 of the signer's PEM certificate). Checked in
 * fedmsg's order: the fields, the signature with the certificate's key,
 * the certificate's chain to the CA with the CRL, the routing policy.
 * (Signing is fmn_signer.h.)
 *
 * Certificates seen before are not parsed or checked again: each is
 * kept by the SHA-256 of its DER (its fingerprint) with its key, its
 * common name and the outcome of its chain and CRL check, until the
 * earliest of its own, its CA's and the CRL's expiry (a refusal: for a
 * minute). A verifier is used by one thread at a time.
 */
#ifndef FMN_SIGN_H
#define FMN_SIGN_H

#include <stddef.h>
#include <jansson.h>

/* Why an envelope is refused; each is one kind for counting and logging. */
enum fmn_sign_status {
	FMN_SIGN_VALID,
	FMN_SIGN_UNSIGNED,	/* no signature or no certificate */
	FMN_SIGN_MALFORMED,	/* another crypto, fields that do not decode */
	FMN_SIGN_SIGNATURE,	/* not the certificate's signature of these bytes */
	FMN_SIGN_CHAIN,		/* no chain to the CA, or out of validity */
	FMN_SIGN_REVOKED,	/* revoked by the CRL */
	FMN_SIGN_CRL,		/* the CRL cannot be used: expired, not the CA's */
	FMN_SIGN_POLICY,	/* the routing policy refuses signer and topic */
	FMN_SIGN_NSTATUS
};

/* "valid", "unsigned", "malformed", "signature", "chain", "revoked"... */
const char *fmn_sign_status_name(enum fmn_sign_status st);

struct fmn_sign_opts {
	const char	*ca_file;	/* PEM: the CA certificate(s); required */
	const char	*crl_file;	/* PEM: the CRL(s), or NULL: none */
	const char	*policy_file;	/* JSON {topic: [CN, ...]}, or NULL */
	int		 nitpicky;	/* refuse a topic the policy does not name */
	int		 no_check_time;	/* ignore validity periods (archives) */
	int		 no_cache;	/* check every certificate at every message
					 * (for benchmarks: what the cache saves) */
};

struct fmn_sign_result {
	enum fmn_sign_status status;
	char	signer[256];	/* the certificate's CN (UTF-8), "" if none read */
	char	reason[512];	/* why it is refused (UTF-8); "" when valid */
};

struct fmn_sign;

/*
 * Read the CA, the CRL and the policy. NULL and *cause when a file
 * cannot be read or holds nothing usable. What makes every message
 * fail without being an error of the files (an expired CRL, a CRL the
 * CA did not sign, an expired CA) is said by fmn_sign_warning.
 */
struct fmn_sign *fmn_sign_new(const struct fmn_sign_opts *o, char **cause);
void fmn_sign_destroy(struct fmn_sign **sp);
/* What to tell the administrator about the files read, or NULL. */
const char *fmn_sign_warning(const struct fmn_sign *s);
/* Topics in the routing policy. */
size_t fmn_sign_policy_size(const struct fmn_sign *s);

/*
 * Check the envelope env, parsed from raw (rawlen bytes; NULL if there
 * is no text: an envelope with integers past 64 bits then cannot be
 * checked exactly, see fmn_canon_envelope). Fills *r; returns r->status.
 */
enum fmn_sign_status fmn_sign_verify(struct fmn_sign *s, const json_t *env,
    const char *raw, size_t rawlen, struct fmn_sign_result *r);

#endif
