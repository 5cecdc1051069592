/*
 * Signing as a fedmsg publisher (see fmn_signer.h): the same canonical
 * bytes as the checks use, signed with OpenSSL.
 */
#include "fmn_signer.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fmn_canon.h"
#include "fmn_util.h"

struct fmn_signer {
	EVP_PKEY	*key;
	char		*cert;		/* the certificate field, ready */
	struct fmn_buf	 canon;
};

/* base64 of n bytes, in lines of 76 with a newline after each. */
static char *
signer_b64(const unsigned char *p, size_t n)
{
	unsigned char *flat = xmalloc(4 * ((n + 2) / 3) + 1);
	struct fmn_buf b;
	size_t len, i;

	len = (size_t)EVP_EncodeBlock(flat, p, (int)n);
	fmn_buf_init(&b);
	for (i = 0; i < len; i += 76) {
		fmn_buf_add(&b, flat + i, len - i < 76 ? len - i : 76);
		fmn_buf_addc(&b, '\n');
	}
	free(flat);
	return fmn_buf_steal(&b);
}

struct fmn_signer *
fmn_signer_new(const char *key_file, const char *cert_file, char **cause)
{
	struct fmn_signer *sg = xcalloc(1, sizeof(*sg));
	BIO *in = NULL, *out = NULL;
	X509 *x = NULL;
	char *pem;
	long n;

	fmn_buf_init(&sg->canon);
	if ((in = BIO_new_file(key_file, "r")) == NULL ||
	    (sg->key = PEM_read_bio_PrivateKey(in, NULL, NULL, NULL)) ==
	    NULL) {
		fmn_set_cause(cause, "%s: no PEM private key", key_file);
		goto fail;
	}
	BIO_free(in);
	if ((in = BIO_new_file(cert_file, "r")) == NULL ||
	    (x = PEM_read_bio_X509(in, NULL, NULL, NULL)) == NULL) {
		fmn_set_cause(cause, "%s: no PEM certificate", cert_file);
		goto fail;
	}
	/* The certificate as PEM again, as fedmsg does (public_bytes). */
	if ((out = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio_X509(out, x) != 1 ||
	    (n = BIO_get_mem_data(out, &pem)) <= 0) {
		fmn_set_cause(cause, "%s: cannot write it", cert_file);
		goto fail;
	}
	sg->cert = signer_b64((unsigned char *)pem, (size_t)n);
	BIO_free(in);
	BIO_free(out);
	X509_free(x);
	return sg;
fail:
	BIO_free(in);
	BIO_free(out);
	X509_free(x);
	ERR_clear_error();
	fmn_signer_destroy(&sg);
	return NULL;
}

int
fmn_signer_sign(struct fmn_signer *sg, json_t *env, char **cause)
{
	EVP_MD_CTX *md = NULL;
	unsigned char *sig = NULL;
	char *b64;
	size_t siglen = 0;
	int rc = -1;

	if (!json_is_object(env)) {
		fmn_set_cause(cause, "the envelope is not a JSON object");
		return -1;
	}
	json_object_del(env, "signature");
	json_object_del(env, "certificate");
	json_object_set_new(env, "crypto", json_string("x509"));
	if (fmn_canon_envelope(env, NULL, 0, &sg->canon, cause) != 0)
		return -1;
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(md, NULL, EVP_sha1(), NULL, sg->key) != 1 ||
	    EVP_DigestSign(md, NULL, &siglen,
	    (unsigned char *)sg->canon.data, sg->canon.len) != 1 ||
	    (sig = xmalloc(siglen)) == NULL ||
	    EVP_DigestSign(md, sig, &siglen,
	    (unsigned char *)sg->canon.data, sg->canon.len) != 1) {
		fmn_set_cause(cause, "signing failed (OpenSSL)");
		goto out;
	}
	b64 = signer_b64(sig, siglen);
	json_object_set_new(env, "signature", json_string(b64));
	free(b64);
	json_object_set_new(env, "certificate", json_string(sg->cert));
	rc = 0;
out:
	free(sig);
	EVP_MD_CTX_free(md);
	ERR_clear_error();
	return rc;
}

void
fmn_signer_destroy(struct fmn_signer **sgp)
{
	struct fmn_signer *sg = *sgp;

	if (sg == NULL)
		return;
	EVP_PKEY_free(sg->key);
	free(sg->cert);
	fmn_buf_free(&sg->canon);
	free(sg);
	*sgp = NULL;
}
