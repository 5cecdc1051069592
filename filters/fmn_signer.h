/*
 * Signing envelopes as a fedmsg publisher does (fedmsg.crypto.x509.sign),
 * for the tests, the fuzz seeds and the load benchmark: fmn itself only
 * checks signatures (fmn_sign.h).
 */
#ifndef FMN_SIGNER_H
#define FMN_SIGNER_H

#include <jansson.h>

struct fmn_signer;

/* A key and its certificate, both PEM; NULL and *cause on failure. */
struct fmn_signer *fmn_signer_new(const char *key_file, const char *cert_file,
    char **cause);
/*
 * Sign env in place: "crypto": "x509", then "signature" (RSA PKCS#1 v1.5
 * over SHA-1 of the canonical bytes, fmn_canon.h) and "certificate"
 * (the PEM certificate), each base64 in lines of 76 with a final
 * newline, as fedmsg writes them. -1 and *cause on failure.
 */
int fmn_signer_sign(struct fmn_signer *sg, json_t *env, char **cause);
void fmn_signer_destroy(struct fmn_signer **sgp);

#endif
