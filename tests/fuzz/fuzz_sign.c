/*
 * libFuzzer target: what a signature check reads from a message. The
 * first byte says how the rest is taken:
 *
 *   '{'  the whole input is an envelope (JSON text), checked and
 *        written in canonical form;
 *   'd'  the rest is a certificate's DER, put in a PEM block, in the
 *        certificate field of a message signed with the test PKI;
 *   's'  the rest is the signature's bytes, in that message;
 *   else the rest is "SIGNATURE\nCERTIFICATE": the two fields' text.
 *
 * The checks run against the test CA and its CRL; nothing may crash,
 * leak or stall, and a signature or certificate other than the
 * signer's may never pass (the same certificate written otherwise may).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "fmn_canon.h"
#include "fmn_log.h"
#include "fmn_msg.h"
#include "fmn_sign.h"
#include "fmn_signer.h"
#include "fmn_util.h"

#define PKI FMN_SOURCE_DIR "/tests/data/pki/"

static struct fmn_sign *verifier;
static json_t *base;	/* a good signed envelope */
static unsigned char *der;	/* its certificate */
static int derlen;
static unsigned char sig[1024];	/* its signature */
static size_t siglen;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The signer's certificate (DER) and signature (bytes). */
static void
setup_fields(void)
{
	const char *b = json_string_value(json_object_get(base, "signature"));
	char flat[2048];
	size_t n = 0;
	FILE *f;
	X509 *x;

	for (; *b != '\0' && n < sizeof(flat) - 1; b++)
		if (*b != '\n')
			flat[n++] = *b;
	siglen = (size_t)EVP_DecodeBlock(sig, (unsigned char *)flat, (int)n);
	while (n > 0 && flat[--n] == '=')
		siglen--;
	if ((f = fopen(PKI "shell-app01.phx2.fedoraproject.org.crt", "r")) ==
	    NULL || (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		abort();
	fclose(f);
	derlen = i2d_X509(x, &der);
	X509_free(x);
}

static void
setup(void)
{
	struct fmn_sign_opts o = { PKI "ca.crt", PKI "crl.pem", NULL, 0, 0,
	    0 };
	struct fmn_signer *sg;
	struct fmn_sign_result r;
	char *cause = NULL;

	fmn_log_set_level(FMN_LOG_ERR);
	if ((verifier = fmn_sign_new(&o, &cause)) == NULL ||
	    (sg = fmn_signer_new(PKI "shell-app01.phx2.fedoraproject.org.key",
	    PKI "shell-app01.phx2.fedoraproject.org.crt", &cause)) == NULL)
		abort();
	base = json_pack("{s:s, s:{s:s}, s:i, s:s}", "topic",
	    "org.fedoraproject.prod.wiki.article.edit", "msg", "title", "x",
	    "timestamp", 1700000000, "msg_id", "2026-fuzz");
	if (fmn_signer_sign(sg, base, &cause) != 0 ||
	    fmn_sign_verify(verifier, base, NULL, 0, &r) != FMN_SIGN_VALID)
		abort();
	fmn_signer_destroy(&sg);
	setup_fields();
}

/* base64 of n bytes, in lines of 64 (as PEM wants them) */
static void
b64(struct fmn_buf *b, const uint8_t *p, size_t n)
{
	unsigned char *flat = xmalloc(4 * ((n + 2) / 3) + 1);
	size_t len = (size_t)EVP_EncodeBlock(flat, p, (int)n), i;

	for (i = 0; i < len; i += 64) {
		fmn_buf_add(b, flat + i, len - i < 64 ? len - i : 64);
		fmn_buf_addc(b, '\n');
	}
	free(flat);
}

static void
check(const json_t *env, const char *raw, size_t len)
{
	struct fmn_sign_result r;
	json_t *a, *b;

	fmn_sign_verify(verifier, env, raw, len, &r);
	/* The text given out must be UTF-8, as JSON output needs it. */
	a = json_string(r.reason);
	b = json_string(r.signer);
	if (a == NULL || b == NULL)
		abort();
	json_decref(a);
	json_decref(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fmn_sign_result r;
	struct fmn_buf pem, field;
	const char *s = (const char *)data, *nl;
	json_t *env, *j;
	int same;

	if (verifier == NULL)
		setup();
	if (size == 0)
		return 0;
	if (data[0] == '{') {
		if ((env = fmn_msg_load_json(s, size, NULL)) != NULL) {
			fmn_buf_init(&pem);
			fmn_canon_envelope(env, s, size, &pem, NULL);
			fmn_buf_free(&pem);
			check(env, s, size);
			json_decref(env);
		}
		return 0;
	}
	env = json_deep_copy(base);
	fmn_buf_init(&pem);
	fmn_buf_init(&field);
	same = 1;
	if (data[0] == 'd') {
		same = (int)size - 1 == derlen && memcmp(data + 1, der,
		    size - 1) == 0;
		fmn_buf_adds(&pem, "-----BEGIN CERTIFICATE-----\n");
		b64(&pem, data + 1, size - 1);
		fmn_buf_adds(&pem, "-----END CERTIFICATE-----\n");
		b64(&field, (uint8_t *)pem.data, pem.len);
		json_object_set_new(env, "certificate", json_string(field.data));
	} else if (data[0] == 's') {
		same = size - 1 == siglen && memcmp(data + 1, sig, siglen) == 0;
		b64(&field, data + 1, size - 1);
		json_object_set_new(env, "signature", json_string(field.len ?
		    field.data : ""));
	} else if ((nl = memchr(s + 1, '\n', size - 1)) != NULL) {
		if ((j = json_stringn(s + 1, (size_t)(nl - s - 1))) != NULL)
			json_object_set_new(env, "signature", j);
		if ((j = json_stringn(nl + 1, size - (size_t)(nl + 1 - s))) !=
		    NULL)
			json_object_set_new(env, "certificate", j);
	}
	/* Another signature or certificate never passes. */
	if (fmn_sign_verify(verifier, env, NULL, 0, &r) == FMN_SIGN_VALID &&
	    !same)
		abort();
	check(env, NULL, 0);
	json_decref(env);
	fmn_buf_free(&pem);
	fmn_buf_free(&field);
	return 0;
}
