/*
 * fedmsg's x509 signatures with OpenSSL (see fmn_sign.h).
 *
 * As fedmsg.crypto.x509_ng.validate: an envelope whose "crypto" is not
 * "x509" is refused (fmn checks no gpg signatures), one without
 * "signature" or "certificate" is unsigned; the signature must verify
 * with the certificate's RSA key over SHA-1 of the canonical bytes
 * (fmn_canon.h); the certificate must chain to the CA with the CRL
 * checked for it and the CA (X509_V_FLAG_CRL_CHECK_ALL), at the current
 * time unless validity periods are ignored; then the routing policy: a
 * topic it names may be published only by the certificates it lists,
 * and one it does not name only when not nitpicky.
 *
 * Like fedmsg, which fetches the CA and CRL again when a chain fails, a
 * verifier whose chains fail looks at the CA and CRL files (at most once
 * a minute) and reads them again when they changed: a CRL renewed on
 * disk is taken without a reload.
 */
#include "fmn_sign.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include "fmn_canon.h"
#include "fmn_hmap.h"
#include "fmn_utf8.h"
#include "fmn_util.h"

#define SIGN_CACHE_MAX	4096	/* certificates kept; then the cache starts over */
#define SIGN_RETRY_S	60	/* a refused certificate is checked again after */
#define SIGN_REFRESH_S	60	/* the files are looked at again at most this often */
#define SIGN_SIG_MAX	2048	/* bytes of a signature (RSA-16384) */
#define SIGN_CERT_MAX	65536	/* bytes of a certificate's PEM text */
#define SIGN_TEXT_MAX	16384	/* a certificate field kept as text up to this */
#define SIGN_TEXTS_MAX	1024	/* fields kept as text; then they start over */

static const char *const status_names[FMN_SIGN_NSTATUS] = {
	[FMN_SIGN_VALID] = "valid",
	[FMN_SIGN_UNSIGNED] = "unsigned",
	[FMN_SIGN_MALFORMED] = "malformed",
	[FMN_SIGN_SIGNATURE] = "signature",
	[FMN_SIGN_CHAIN] = "chain",
	[FMN_SIGN_REVOKED] = "revoked",
	[FMN_SIGN_CRL] = "crl",
	[FMN_SIGN_POLICY] = "policy",
};

/* A certificate seen in a message: what checking it again would give. */
struct sign_cert {
	EVP_PKEY_CTX		*vctx;	/* its key, ready to verify SHA-1 PKCS#1 v1.5 */
	char			*cn;	/* UTF-8 */
	enum fmn_sign_status	 chain;	/* VALID, CHAIN, REVOKED or CRL */
	char			*why;	/* when not VALID */
	time_t			 until;	/* check the chain again after; 0: never */
};

/* The certificate names the policy allows for a topic. */
struct sign_names {
	size_t	  n;
	char	**v;
};

/* A file read, as it was on disk then. */
struct sign_file {
	char		*path;
	struct stat	 st;
};

struct fmn_sign {
	struct sign_file	 ca;
	struct sign_file	 crl;		/* path NULL: no CRL */
	int			 nitpicky;
	int			 no_check_time;
	int			 no_cache;
	X509_STORE		*store;		/* the CAs and CRLs */
	time_t			 until;		/* the first of their expiries; 0: none */
	char			*warning;
	struct fmn_hmap		 policy;	/* topic -> struct sign_names */
	struct fmn_hmap		 cache;		/* hex SHA-256 of DER -> struct sign_cert */
	struct fmn_hmap		 bytext;	/* a certificate field's text -> the
						 * same (not owned): no decoding */
	struct fmn_buf		 canon;
	unsigned char		*pem;		/* a certificate field, decoded */
	size_t			 pemcap;
	EVP_MD			*sha1;
	EVP_MD_CTX		*md;
	time_t			 refresh_at;
};

const char *
fmn_sign_status_name(enum fmn_sign_status st)
{
	return st < FMN_SIGN_NSTATUS ? status_names[st] : "?";
}

/* Make s valid UTF-8 in place: a byte that does not decode becomes '?'. */
static void
sign_utf8_fix(char *s)
{
	size_t n = strlen(s), i = 0, k;
	uint32_t cp;

	while (i < n) {
		if ((k = fmn_utf8_decode(s + i, n - i, &cp)) == 0) {
			s[i++] = '?';
			continue;
		}
		i += k;
	}
}

static enum fmn_sign_status
sign_fail(struct fmn_sign_result *r, enum fmn_sign_status st,
    const char *fmt, ...) FMN_PRINTF(3, 4);

static enum fmn_sign_status
sign_fail(struct fmn_sign_result *r, enum fmn_sign_status st,
    const char *fmt, ...)
{
	va_list ap;

	r->status = st;
	va_start(ap, fmt);
	vsnprintf(r->reason, sizeof(r->reason), fmt, ap);
	va_end(ap);
	sign_utf8_fix(r->reason);
	ERR_clear_error();
	return st;
}

/* At most max bytes of s, cut between characters, for a %.*s. */
static int
cut(const char *s, size_t max)
{
	return (int)fmn_utf8_cut(s, strlen(s), max);
}

/*
 * Base64 into out (at most max bytes); white space is skipped, as the
 * 76-column lines of fedmsg have newlines. -1 on anything else that is
 * not base64, or a length that is not one.
 */
static long
sign_b64decode(const char *s, size_t n, unsigned char *out, size_t max)
{
	uint32_t acc = 0;
	size_t i, len = 0;
	int bits = 0, pad = 0, v;

	for (i = 0; i < n; i++) {
		char c = s[i];

		if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0)
			return -1;
		if (c >= 'A' && c <= 'Z')
			v = c - 'A';
		else if (c >= 'a' && c <= 'z')
			v = c - 'a' + 26;
		else if (c >= '0' && c <= '9')
			v = c - '0' + 52;
		else if (c == '+')
			v = 62;
		else if (c == '/')
			v = 63;
		else
			return -1;
		acc = (acc << 6) | (uint32_t)v;
		if ((bits += 6) >= 8) {
			bits -= 8;
			if (len >= max)
				return -1;
			out[len++] = (unsigned char)(acc >> bits);
		}
	}
	/* What is left must be the zero bits of a final group, padded. */
	if (pad > 2 || (bits == 0 && pad != 0) ||
	    (bits != 0 && (bits / 2 != pad || (acc & ((1u << bits) - 1)))))
		return -1;
	return (long)len;
}

static time_t
sign_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void
sign_date(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%d %H:%M:%S UTC", &tm);
}

/* The first CN of a name, as UTF-8, or NULL. */
static char *
sign_cn(const X509_NAME *name)
{
	unsigned char *utf8 = NULL;
	char *cn;
	int i, len;

	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0 || (len = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)))) < 0)
		return NULL;
	if (!fmn_utf8_valid((char *)utf8, (size_t)len)) {
		OPENSSL_free(utf8);
		return NULL;
	}
	cn = xstrndup((char *)utf8, (size_t)len);
	OPENSSL_free(utf8);
	return cn;
}

static void
sign_warn(char **w, const char *fmt, ...) FMN_PRINTF(2, 3);

static void
sign_warn(char **w, const char *fmt, ...)
{
	va_list ap;
	char *m, *all;

	va_start(ap, fmt);
	m = xvasprintf(fmt, ap);
	va_end(ap);
	if (*w == NULL)
		*w = m;
	else {
		all = xasprintf("%s; %s", *w, m);
		free(*w);
		free(m);
		*w = all;
	}
}

static void
sign_min(time_t *until, time_t t)
{
	if (t != 0 && (*until == 0 || t < *until))
		*until = t;
}

/* Every object of a PEM file; NULL and *cause when it cannot be read. */
static STACK_OF(X509_INFO) *
sign_read_pem(struct sign_file *f, const char *what, char **cause)
{
	STACK_OF(X509_INFO) *info;
	BIO *bio;

	if ((bio = BIO_new_file(f->path, "r")) == NULL ||
	    stat(f->path, &f->st) != 0) {
		fmn_set_cause(cause, "%s %s: cannot be read", what, f->path);
		BIO_free(bio);
		ERR_clear_error();
		return NULL;
	}
	info = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (info == NULL)
		fmn_set_cause(cause, "%s %s: not PEM", what, f->path);
	ERR_clear_error();
	return info;
}

/* A CA certificate of the store, checked and its expiry noted. */
static void
sign_add_ca(struct fmn_sign *s, X509_STORE *st, X509 *x, time_t *until,
    char **warning)
{
	time_t now = time(NULL), nb, na;
	char date[32], *cn = sign_cn(X509_get_subject_name(x));

	X509_STORE_add_cert(st, x);
	nb = sign_time(X509_get0_notBefore(x));
	na = sign_time(X509_get0_notAfter(x));
	if (!s->no_check_time) {
		sign_min(until, na);
		if (na != 0 && na < now) {
			sign_date(na, date);
			sign_warn(warning, "the CA certificate %s expired on %s: "
			    "certificates it signed are refused", cn ? cn : "",
			    date);
		} else if (nb > now) {
			sign_date(nb, date);
			sign_warn(warning, "the CA certificate %s is valid from "
			    "%s only", cn ? cn : "", date);
		}
	}
	free(cn);
}

/* A CRL of the store: is it the CA's, is it current? */
static void
sign_add_crl(struct fmn_sign *s, X509_STORE *st, X509_CRL *crl,
    STACK_OF(X509_INFO) *cas, time_t *until, char **warning)
{
	time_t now = time(NULL), next;
	char date[32];
	int i, signed_ok = 0;

	X509_STORE_add_crl(st, crl);
	for (i = 0; i < sk_X509_INFO_num(cas); i++) {
		X509 *x = sk_X509_INFO_value(cas, i)->x509;

		if (x != NULL && X509_NAME_cmp(X509_get_subject_name(x),
		    X509_CRL_get_issuer(crl)) == 0 &&
		    X509_CRL_verify(crl, X509_get0_pubkey(x)) == 1)
			signed_ok = 1;
	}
	ERR_clear_error();
	if (!signed_ok)
		sign_warn(warning, "the CRL %s is not signed by the CA: every "
		    "message is refused", s->crl.path);
	next = sign_time(X509_CRL_get0_nextUpdate(crl));
	if (s->no_check_time)
		return;
	sign_min(until, next);
	if (next != 0 && next < now) {
		sign_date(next, date);
		sign_warn(warning, "the CRL %s expired on %s: every message is "
		    "refused until a current one is read", s->crl.path, date);
	}
}

/* A store of the CA and CRL files, or NULL and *cause. */
static X509_STORE *
sign_load_store(struct fmn_sign *s, time_t *until, char **warning,
    char **cause)
{
	STACK_OF(X509_INFO) *cas, *crls = NULL;
	X509_STORE *st = X509_STORE_new();
	unsigned long flags = 0;
	int i, ncas = 0, ncrls = 0;

	*until = 0;
	if ((cas = sign_read_pem(&s->ca, "CA", cause)) == NULL)
		goto fail;
	for (i = 0; i < sk_X509_INFO_num(cas); i++)
		if (sk_X509_INFO_value(cas, i)->x509 != NULL) {
			sign_add_ca(s, st, sk_X509_INFO_value(cas, i)->x509,
			    until, warning);
			ncas++;
		}
	if (ncas == 0) {
		fmn_set_cause(cause, "CA %s: no certificate in it", s->ca.path);
		goto fail;
	}
	if (s->crl.path != NULL) {
		if ((crls = sign_read_pem(&s->crl, "CRL", cause)) == NULL)
			goto fail;
		for (i = 0; i < sk_X509_INFO_num(crls); i++)
			if (sk_X509_INFO_value(crls, i)->crl != NULL) {
				sign_add_crl(s, st,
				    sk_X509_INFO_value(crls, i)->crl, cas,
				    until, warning);
				ncrls++;
			}
		if (ncrls == 0) {
			fmn_set_cause(cause, "CRL %s: no CRL in it",
			    s->crl.path);
			goto fail;
		}
		flags |= X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL;
	}
	if (s->no_check_time)
		flags |= X509_V_FLAG_NO_CHECK_TIME;
	X509_STORE_set_flags(st, flags);
	sk_X509_INFO_pop_free(cas, X509_INFO_free);
	sk_X509_INFO_pop_free(crls, X509_INFO_free);
	return st;
fail:
	sk_X509_INFO_pop_free(cas, X509_INFO_free);
	sk_X509_INFO_pop_free(crls, X509_INFO_free);
	X509_STORE_free(st);
	ERR_clear_error();
	return NULL;
}

static void
sign_cert_free(void *p)
{
	struct sign_cert *c = p;

	EVP_PKEY_CTX_free(c->vctx);
	free(c->cn);
	free(c->why);
	free(c);
}

/* Forget every certificate (the cache, and the fields that lead to it). */
static void
sign_cache_clear(struct fmn_sign *s)
{
	fmn_hmap_clear(&s->bytext, NULL);
	fmn_hmap_clear(&s->cache, sign_cert_free);
}

static void
sign_names_free(void *p)
{
	struct sign_names *n = p;
	size_t i;

	for (i = 0; i < n->n; i++)
		free(n->v[i]);
	free(n->v);
	free(n);
}

static int
sign_load_policy(struct fmn_sign *s, const char *path, char **cause)
{
	json_error_t err;
	json_t *doc, *names, *name;
	const char *topic;
	size_t i;

	if ((doc = json_load_file(path, JSON_REJECT_DUPLICATES, &err)) ==
	    NULL) {
		fmn_set_cause(cause, "routing policy %s: line %d: %s", path,
		    err.line, err.text);
		return -1;
	}
	if (!json_is_object(doc)) {
		fmn_set_cause(cause, "routing policy %s: expected an object "
		    "{topic: [certificate name, ...]}", path);
		json_decref(doc);
		return -1;
	}
	json_object_foreach(doc, topic, names) {
		struct sign_names *n;

		if (!json_is_array(names)) {
			fmn_set_cause(cause, "routing policy %s: %s: expected "
			    "a list of certificate names", path, topic);
			json_decref(doc);
			return -1;
		}
		n = xcalloc(1, sizeof(*n));
		n->v = xcalloc(json_array_size(names) + 1, sizeof(*n->v));
		json_array_foreach(names, i, name) {
			if (!json_is_string(name))
				continue;
			n->v[n->n++] = xstrdup(json_string_value(name));
		}
		fmn_hmap_set(&s->policy, topic, n);
	}
	json_decref(doc);
	return 0;
}

struct fmn_sign *
fmn_sign_new(const struct fmn_sign_opts *o, char **cause)
{
	struct fmn_sign *s;

	if (o->ca_file == NULL || *o->ca_file == '\0') {
		fmn_set_cause(cause, "no CA certificate to check signatures "
		    "against");
		return NULL;
	}
	s = xcalloc(1, sizeof(*s));
	s->ca.path = xstrdup(o->ca_file);
	s->crl.path = o->crl_file != NULL && *o->crl_file != '\0' ?
	    xstrdup(o->crl_file) : NULL;
	s->nitpicky = o->nitpicky;
	s->no_check_time = o->no_check_time;
	s->no_cache = o->no_cache;
	fmn_buf_init(&s->canon);
	if ((s->sha1 = EVP_MD_fetch(NULL, "SHA1", NULL)) == NULL ||
	    (s->md = EVP_MD_CTX_new()) == NULL) {
		fmn_set_cause(cause, "OpenSSL has no SHA-1");
		goto fail;
	}
	if ((s->store = sign_load_store(s, &s->until, &s->warning,
	    cause)) == NULL)
		goto fail;
	if (o->policy_file != NULL && *o->policy_file != '\0' &&
	    sign_load_policy(s, o->policy_file, cause) != 0)
		goto fail;
	return s;
fail:
	fmn_sign_destroy(&s);
	ERR_clear_error();
	return NULL;
}

void
fmn_sign_destroy(struct fmn_sign **sp)
{
	struct fmn_sign *s = *sp;

	if (s == NULL)
		return;
	X509_STORE_free(s->store);
	sign_cache_clear(s);
	fmn_hmap_clear(&s->policy, sign_names_free);
	EVP_MD_free(s->sha1);
	EVP_MD_CTX_free(s->md);
	fmn_buf_free(&s->canon);
	free(s->pem);
	free(s->warning);
	free(s->ca.path);
	free(s->crl.path);
	free(s);
	*sp = NULL;
}

const char *
fmn_sign_warning(const struct fmn_sign *s)
{
	return s->warning;
}

size_t
fmn_sign_policy_size(const struct fmn_sign *s)
{
	return s->policy.n;
}

/* Did a file change since it was read? */
static int
sign_changed(const struct sign_file *f)
{
	struct stat st;

	if (f->path == NULL || stat(f->path, &st) != 0)
		return 0;
	return st.st_ino != f->st.st_ino || st.st_dev != f->st.st_dev ||
	    st.st_size != f->st.st_size ||
	    st.st_mtim.tv_sec != f->st.st_mtim.tv_sec ||
	    st.st_mtim.tv_nsec != f->st.st_mtim.tv_nsec;
}

/*
 * Chains fail: read the CA and CRL again if they changed on disk, at
 * most once a minute. 1 when they were read again (the cache is empty).
 */
static int
sign_refresh(struct fmn_sign *s, time_t now)
{
	X509_STORE *st;
	char *warning = NULL, *cause = NULL;
	time_t until;

	if (now < s->refresh_at)
		return 0;
	s->refresh_at = now + SIGN_REFRESH_S;
	if (!sign_changed(&s->ca) && !sign_changed(&s->crl))
		return 0;
	if ((st = sign_load_store(s, &until, &warning, &cause)) == NULL) {
		free(cause);
		free(warning);
		return 0;
	}
	X509_STORE_free(s->store);
	s->store = st;
	s->until = until;
	free(s->warning);
	s->warning = warning;
	sign_cache_clear(s);
	return 1;
}

/* Check x's chain to the CA, with the CRL, into c. */
static void
sign_chain(struct fmn_sign *s, X509 *x, struct sign_cert *c, time_t now)
{
	X509_STORE_CTX *ctx = X509_STORE_CTX_new();
	STACK_OF(X509) *chain;
	X509 *at;
	char *cn = NULL;
	int err, i;

	c->until = now + SIGN_RETRY_S;
	if (ctx == NULL || X509_STORE_CTX_init(ctx, s->store, x, NULL) != 1) {
		c->chain = FMN_SIGN_CHAIN;
		c->why = xstrdup("the chain cannot be checked (OpenSSL)");
		goto out;
	}
	if (X509_verify_cert(ctx) == 1) {
		c->chain = FMN_SIGN_VALID;
		c->until = 0;
		if (s->no_check_time)
			goto out;
		chain = X509_STORE_CTX_get0_chain(ctx);
		for (i = 0; i < sk_X509_num(chain); i++)
			sign_min(&c->until, sign_time(X509_get0_notAfter(
			    sk_X509_value(chain, i))));
		sign_min(&c->until, s->until);
		goto out;
	}
	err = X509_STORE_CTX_get_error(ctx);
	switch (err) {
	case X509_V_ERR_CERT_REVOKED:
		c->chain = FMN_SIGN_REVOKED;
		break;
	case X509_V_ERR_UNABLE_TO_GET_CRL:
	case X509_V_ERR_UNABLE_TO_DECRYPT_CRL_SIGNATURE:
	case X509_V_ERR_CRL_SIGNATURE_FAILURE:
	case X509_V_ERR_CRL_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_ERROR_IN_CRL_LAST_UPDATE_FIELD:
	case X509_V_ERR_ERROR_IN_CRL_NEXT_UPDATE_FIELD:
	case X509_V_ERR_UNABLE_TO_GET_CRL_ISSUER:
	case X509_V_ERR_KEYUSAGE_NO_CRL_SIGN:
	case X509_V_ERR_DIFFERENT_CRL_SCOPE:
	case X509_V_ERR_UNHANDLED_CRITICAL_CRL_EXTENSION:
		c->chain = FMN_SIGN_CRL;
		break;
	default:
		c->chain = FMN_SIGN_CHAIN;
		break;
	}
	at = X509_STORE_CTX_get_current_cert(ctx);
	if (at != NULL)
		cn = sign_cn(X509_get_subject_name(at));
	c->why = xasprintf("%s (%s%s%s)", X509_verify_cert_error_string(err),
	    X509_STORE_CTX_get_error_depth(ctx) > 0 ? "the CA certificate" :
	    "the certificate", cn != NULL ? " " : "", cn != NULL ? cn : "");
	free(cn);
out:
	X509_STORE_CTX_free(ctx);
	ERR_clear_error();
}

/*
 * The certificate of a message, from the cache or parsed and checked
 * now; NULL after filling r when it is not one.
 */
static struct sign_cert *
sign_cert(struct fmn_sign *s, const char *text, size_t len, time_t now,
    struct fmn_sign_result *r)
{
	unsigned char fp[EVP_MAX_MD_SIZE], *der = NULL;
	const unsigned char *p;
	char hex[2 * EVP_MAX_MD_SIZE + 1], *name = NULL;
	struct sign_cert *c;
	EVP_PKEY *key;
	unsigned fplen, i;
	long n, derlen;
	BIO *bio;
	X509 *x;

	/* A field seen before, as it was: nothing to decode or hash. */
	if ((c = fmn_hmap_getn(&s->bytext, text, len)) != NULL &&
	    (c->until == 0 || now < c->until))
		return c;
	if (len > 2 * SIGN_CERT_MAX) {
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate field is "
		    "%zu bytes", len);
		return NULL;
	}
	if (s->pemcap < len + 1) {
		s->pemcap = len + 1;
		s->pem = xrealloc(s->pem, s->pemcap);
	}
	if ((n = sign_b64decode(text, len, s->pem, s->pemcap)) < 0) {
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate is not "
		    "base64");
		return NULL;
	}
	bio = BIO_new_mem_buf(s->pem, (int)n);
	if (bio == NULL || PEM_bytes_read_bio(&der, &derlen, &name,
	    PEM_STRING_X509, bio, NULL, NULL) != 1) {
		BIO_free(bio);
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate field holds "
		    "no PEM certificate");
		return NULL;
	}
	BIO_free(bio);
	OPENSSL_free(name);
	if (EVP_Digest(der, (size_t)derlen, fp, &fplen, EVP_sha256(),
	    NULL) != 1) {
		OPENSSL_free(der);
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate cannot be "
		    "hashed");
		return NULL;
	}
	for (i = 0; i < fplen; i++)
		snprintf(hex + 2 * i, 3, "%02x", fp[i]);
	if ((c = fmn_hmap_get(&s->cache, hex)) != NULL) {
		if (c->until == 0 || now < c->until) {
			OPENSSL_free(der);
			goto known;
		}
		/* What its chain's check said has expired: check again. */
		fmn_hmap_clear(&s->bytext, NULL);
		sign_cert_free(fmn_hmap_del(&s->cache, hex));
	}
	p = der;
	x = d2i_X509(NULL, &p, derlen);
	OPENSSL_free(der);
	if (x == NULL) {
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate does not "
		    "parse");
		return NULL;
	}
	key = X509_get0_pubkey(x);
	if (key == NULL || EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
		X509_free(x);
		sign_fail(r, FMN_SIGN_MALFORMED, "the certificate's key is "
		    "not RSA");
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->cn = sign_cn(X509_get_subject_name(x));
	c->vctx = EVP_PKEY_CTX_new(key, NULL);
	if (c->cn == NULL || c->vctx == NULL ||
	    EVP_PKEY_verify_init(c->vctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(c->vctx, RSA_PKCS1_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c->vctx, s->sha1) != 1) {
		sign_fail(r, FMN_SIGN_MALFORMED, c->cn == NULL ? "the "
		    "certificate has no common name (CN) in UTF-8" :
		    "the certificate's key cannot verify");
		sign_cert_free(c);
		X509_free(x);
		return NULL;
	}
	sign_chain(s, x, c, now);
	X509_free(x);
	if (s->cache.n >= SIGN_CACHE_MAX)
		sign_cache_clear(s);
	fmn_hmap_set(&s->cache, hex, c);
known:
	/* Known by its text next time (one text a field, NUL-free). */
	if (len <= SIGN_TEXT_MAX && strlen(text) == len) {
		if (s->bytext.n >= SIGN_TEXTS_MAX)
			fmn_hmap_clear(&s->bytext, NULL);
		fmn_hmap_set(&s->bytext, text, c);
	}
	return c;
}

static enum fmn_sign_status
sign_policy(struct fmn_sign *s, const json_t *env, const char *cn,
    struct fmn_sign_result *r)
{
	const char *topic = json_string_value(json_object_get(env, "topic"));
	struct sign_names *names = NULL;
	size_t i;

	if (topic != NULL)
		names = fmn_hmap_get(&s->policy, topic);
	if (names == NULL) {
		if (s->nitpicky)
			return sign_fail(r, FMN_SIGN_POLICY, "the routing "
			    "policy has no entry for the topic %.*s "
			    "(routing_nitpicky)", topic ? cut(topic, 200) : 6,
			    topic ? topic : "(none)");
		return FMN_SIGN_VALID;
	}
	for (i = 0; i < names->n; i++)
		if (strcmp(names->v[i], cn) == 0)
			return FMN_SIGN_VALID;
	return sign_fail(r, FMN_SIGN_POLICY, "the routing policy does not let "
	    "%.*s publish on %.*s", cut(cn, 128), cn, cut(topic, 200), topic);
}

static enum fmn_sign_status
sign_verify(struct fmn_sign *s, const json_t *env, const char *raw,
    size_t rawlen, struct fmn_sign_result *r)
{
	unsigned char sig[SIGN_SIG_MAX], digest[EVP_MAX_MD_SIZE];
	const json_t *crypto, *jsig, *jcert;
	struct sign_cert *c;
	time_t now = time(NULL);
	unsigned dlen;
	char *cause = NULL;
	long siglen;

	r->status = FMN_SIGN_VALID;
	r->signer[0] = r->reason[0] = '\0';
	if (!json_is_object(env))
		return sign_fail(r, FMN_SIGN_MALFORMED, "not a JSON object");
	crypto = json_object_get(env, "crypto");
	jsig = json_object_get(env, "signature");
	jcert = json_object_get(env, "certificate");
	if (crypto != NULL && !(json_is_string(crypto) &&
	    strcmp(json_string_value(crypto), "x509") == 0))
		return sign_fail(r, FMN_SIGN_MALFORMED, "crypto is not "
		    "\"x509\" (only x509 signatures are checked)");
	if (jsig == NULL || jcert == NULL)
		return sign_fail(r, FMN_SIGN_UNSIGNED, "unsigned: no %s",
		    jsig == NULL ? "signature" : "certificate");
	if (!json_is_string(jsig) || !json_is_string(jcert))
		return sign_fail(r, FMN_SIGN_MALFORMED, "the %s is not a "
		    "string", json_is_string(jsig) ? "certificate" :
		    "signature");
	if ((siglen = sign_b64decode(json_string_value(jsig),
	    json_string_length(jsig), sig, sizeof(sig))) <= 0)
		return sign_fail(r, FMN_SIGN_MALFORMED, "the signature is not "
		    "base64");
	if ((c = sign_cert(s, json_string_value(jcert),
	    json_string_length(jcert), now, r)) == NULL)
		return r->status;
	snprintf(r->signer, sizeof(r->signer), "%.*s",
	    cut(c->cn, sizeof(r->signer) - 1), c->cn);
	if (fmn_canon_envelope(env, raw, rawlen, &s->canon, &cause) != 0) {
		sign_fail(r, FMN_SIGN_MALFORMED, "%s", cause);
		free(cause);
		return r->status;
	}
	if (EVP_DigestInit_ex2(s->md, s->sha1, NULL) != 1 ||
	    EVP_DigestUpdate(s->md, s->canon.data, s->canon.len) != 1 ||
	    EVP_DigestFinal_ex(s->md, digest, &dlen) != 1 ||
	    EVP_PKEY_verify(c->vctx, sig, (size_t)siglen, digest, dlen) != 1)
		return sign_fail(r, FMN_SIGN_SIGNATURE, "the signature does "
		    "not match the message and certificate of %.*s",
		    cut(c->cn, 128), c->cn);
	if (c->chain != FMN_SIGN_VALID && c->chain != FMN_SIGN_REVOKED &&
	    sign_refresh(s, now) && (c = sign_cert(s,
	    json_string_value(jcert), json_string_length(jcert), now,
	    r)) == NULL)
		return r->status;
	if (c->chain != FMN_SIGN_VALID)
		return sign_fail(r, c->chain, "%s: %s", c->chain ==
		    FMN_SIGN_REVOKED ? "revoked" : c->chain == FMN_SIGN_CRL ?
		    "CRL" : "certificate chain", c->why);
	return sign_policy(s, env, c->cn, r);
}

enum fmn_sign_status
fmn_sign_verify(struct fmn_sign *s, const json_t *env, const char *raw,
    size_t rawlen, struct fmn_sign_result *r)
{
	enum fmn_sign_status st = sign_verify(s, env, raw, rawlen, r);

	if (s->no_cache)
		sign_cache_clear(s);
	return st;
}
