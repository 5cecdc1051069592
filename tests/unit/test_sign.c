/*
 * fedmsg's x509 signatures: the cases of fedmsg's own test suite
 * (fedmsg/tests/crypto/test_x509.py) with its test PKI
 * (tests/data/pki), and the real signed messages of
 * tests/data/signed-dev.json against Fedora's CA.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_sign.h"
#include "fmn_signer.h"
#include "fmn_util.h"
#include "fmn_test.h"

#define PKI FMN_TEST_DATA "/pki/"
#define APP01 "shell-app01.phx2.fedoraproject.org"
#define APP02 "shell-app02.phx2.fedoraproject.org"

static struct fmn_sign *
verifier(const char *ca, const char *crl, const char *policy, int nitpicky)
{
	struct fmn_sign_opts o = { ca, crl, policy, nitpicky, 0, 0 };
	char *cause = NULL;
	struct fmn_sign *s = fmn_sign_new(&o, &cause);

	if (s == NULL)
		fprintf(stderr, "fmn_sign_new: %s\n", cause);
	free(cause);
	return s;
}

/* {"topic": topic, "msg": {"message": "so secure"}, ...} signed by name. */
static json_t *
signed_by(const char *name, const char *topic)
{
	char *key = xasprintf(PKI "%s.key", name);
	char *crt = xasprintf(PKI "%s.crt", name);
	char *cause = NULL;
	struct fmn_signer *sg = fmn_signer_new(key, crt, &cause);
	json_t *env = json_pack("{s:s, s:{s:s}, s:i, s:s, s:i, s:s}",
	    "topic", topic, "msg", "message", "so secure", "timestamp",
	    1700000000, "msg_id", "2023-x", "i", 1, "username", "fedmsg");

	CHECK(sg != NULL);
	if (sg != NULL)
		CHECK(fmn_signer_sign(sg, env, &cause) == 0);
	fmn_signer_destroy(&sg);
	free(cause);
	free(key);
	free(crt);
	return env;
}

/* Verify env as text on the bus: the status, and the reason's words. */
static enum fmn_sign_status
check(struct fmn_sign *s, json_t *env, struct fmn_sign_result *r)
{
	char *raw = json_dumps(env, JSON_COMPACT);
	json_t *parsed = json_loads(raw, 0, NULL);
	enum fmn_sign_status st = fmn_sign_verify(s, parsed, raw,
	    strlen(raw), r);

	free(raw);
	json_decref(parsed);
	return st;
}

static void
expect(struct fmn_sign *s, json_t *env, enum fmn_sign_status want,
    const char *words)
{
	struct fmn_sign_result r;

	CHECK(s != NULL);
	if (s == NULL)
		return;
	CHECK_STR(fmn_sign_status_name(check(s, env, &r)),
	    fmn_sign_status_name(want));
	CHECK(r.status == want);
	if (words != NULL && strstr(r.reason, words) == NULL) {
		fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", r.reason,
		    words);
		CHECK(0);
	}
	if (want == FMN_SIGN_VALID)
		CHECK_STR(r.reason, "");
}

TEST(sign_and_verify)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = signed_by(APP01, "mytopic");
	struct fmn_sign_result r;

	CHECK_STR(json_string_value(json_object_get(env, "crypto")), "x509");
	expect(s, env, FMN_SIGN_VALID, NULL);
	CHECK(check(s, env, &r) == FMN_SIGN_VALID);	/* from the cache */
	CHECK_STR(r.signer, APP01);
	CHECK(fmn_sign_warning(s) == NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
	CHECK(s == NULL);
}

TEST(unsigned_is_refused)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = json_pack("{s:s}", "my", "message");
	struct fmn_sign_result r;

	expect(s, env, FMN_SIGN_UNSIGNED, "unsigned");
	check(s, env, &r);
	CHECK_STR(r.signer, "");
	json_decref(env);
	env = signed_by(APP01, "t");
	json_object_del(env, "certificate");
	expect(s, env, FMN_SIGN_UNSIGNED, "certificate");
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(invalid_ca)
{
	struct fmn_sign *s = verifier(PKI "badca.crt", NULL, NULL, 0);
	json_t *env = signed_by(APP01, "t");

	expect(s, env, FMN_SIGN_CHAIN, "certificate chain");
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(ca_or_crl_unreadable_is_an_error)
{
	struct fmn_sign_opts o = { "/nonexistent/ca.crt", NULL, NULL, 0, 0,
	    0 };
	char *cause = NULL;

	CHECK(fmn_sign_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "/nonexistent/ca.crt") != NULL);
	free(cause);
	cause = NULL;
	o.ca_file = PKI "ca.crt";
	o.crl_file = "/nonexistent/crl.pem";
	CHECK(fmn_sign_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "crl.pem") != NULL);
	free(cause);
	cause = NULL;
	o.crl_file = PKI "ca.crt";	/* PEM, but no CRL in it */
	CHECK(fmn_sign_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "no CRL") != NULL);
	free(cause);
	cause = NULL;
	o.ca_file = NULL;
	CHECK(fmn_sign_new(&o, &cause) == NULL);
	free(cause);
}

TEST(invalid_signing_cert)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = signed_by(APP01, "t"), *other = signed_by(APP02, "t");

	json_object_set(env, "certificate", json_object_get(other,
	    "certificate"));
	expect(s, env, FMN_SIGN_SIGNATURE, "does not match");
	json_decref(env);
	json_decref(other);
	fmn_sign_destroy(&s);
}

TEST(signed_by_revoked_cert)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = signed_by("dummy-revoked", "t");
	struct fmn_sign_result r;

	expect(s, env, FMN_SIGN_REVOKED, "revoked");
	check(s, env, &r);
	CHECK_STR(r.signer, "dummy-revoked");
	json_decref(env);
	fmn_sign_destroy(&s);
	/* Without the CRL it is a good certificate of the CA. */
	s = verifier(PKI "ca.crt", NULL, NULL, 0);
	env = signed_by("dummy-revoked", "t");
	expect(s, env, FMN_SIGN_VALID, NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(invalid_message_signature)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = signed_by(APP01, "t");

	json_object_set_new(json_object_get(env, "msg"), "message",
	    json_string("so insecure!"));
	expect(s, env, FMN_SIGN_SIGNATURE, APP01);
	json_decref(env);
	/* Any field: the topic, the id, an added one. */
	env = signed_by(APP01, "t");
	json_object_set_new(env, "topic", json_string("u"));
	expect(s, env, FMN_SIGN_SIGNATURE, NULL);
	json_decref(env);
	env = signed_by(APP01, "t");
	json_object_set_new(env, "extra", json_true());
	expect(s, env, FMN_SIGN_SIGNATURE, NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(no_crl)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", NULL, NULL, 0);
	json_t *env = signed_by(APP01, "t");

	expect(s, env, FMN_SIGN_VALID, NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(signed_by_expired_ca)
{
	struct fmn_sign *s = verifier(PKI "expired_ca.crt", NULL, NULL, 0);
	json_t *env = signed_by("signed_by_expired_ca", "t");

	CHECK(s != NULL && fmn_sign_warning(s) != NULL &&
	    strstr(fmn_sign_warning(s), "expired") != NULL);
	expect(s, env, FMN_SIGN_CHAIN, "expired");
	json_decref(env);
	fmn_sign_destroy(&s);
}

TEST(old_crl)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "expired_crl.pem",
	    NULL, 0);
	json_t *env = signed_by(APP01, "t");

	CHECK(s != NULL && fmn_sign_warning(s) != NULL &&
	    strstr(fmn_sign_warning(s), "expired") != NULL);
	expect(s, env, FMN_SIGN_CRL, "CRL");
	json_decref(env);
	fmn_sign_destroy(&s);
}

static char *
write_tmp(const char *text)
{
	char tmpl[] = "/tmp/fmn-sign-XXXXXX";
	int fd = mkstemp(tmpl);

	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return xstrdup(tmpl);
}

static char *
read_all(const char *path)
{
	FILE *f = fopen(path, "r");
	struct fmn_buf b;
	char buf[4096];
	size_t n;

	fmn_buf_init(&b);
	while (f != NULL && (n = fread(buf, 1, sizeof(buf), f)) > 0)
		fmn_buf_add(&b, buf, n);
	if (f != NULL)
		fclose(f);
	return fmn_buf_steal(&b);
}

/* As fedmsg fetches the CRL again, a CRL renewed on disk is read. */
TEST(renewed_crl_is_read_again)
{
	char *old = read_all(PKI "expired_crl.pem"), *good = read_all(PKI
	    "crl.pem"), *path = write_tmp(old);
	struct fmn_sign *s = verifier(PKI "ca.crt", path, NULL, 0);
	json_t *env = signed_by(APP01, "t");
	FILE *f;

	CHECK(fmn_sign_warning(s) != NULL);
	/* A new file (another inode), as a deployment writes it. */
	unlink(path);
	CHECK((f = fopen(path, "w")) != NULL);
	fputs(good, f);
	fclose(f);
	expect(s, env, FMN_SIGN_VALID, NULL);
	CHECK(fmn_sign_warning(s) == NULL);
	json_decref(env);
	env = signed_by("dummy-revoked", "t");
	expect(s, env, FMN_SIGN_REVOKED, NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
	unlink(path);
	free(path);
	free(old);
	free(good);
}

TEST(routing_policy)
{
	char *policy = write_tmp("{\"mytopic\": [\"Not " APP01 "\"], "
	    "\"ourtopic\": [\"" APP02 "\", \"" APP01 "\"]}");
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", policy, 1);
	struct fmn_sign *lax = verifier(PKI "ca.crt", PKI "crl.pem", policy,
	    0);
	json_t *env;

	CHECK(s != NULL && fmn_sign_policy_size(s) == 2);
	/* Refused: the topic is listed, the signer is not. */
	env = signed_by(APP01, "mytopic");
	expect(s, env, FMN_SIGN_POLICY, "does not let " APP01);
	expect(lax, env, FMN_SIGN_POLICY, NULL);
	json_decref(env);
	/* Allowed. */
	env = signed_by(APP01, "ourtopic");
	expect(s, env, FMN_SIGN_VALID, NULL);
	json_decref(env);
	/* A topic the policy does not name: nitpicky refuses it. */
	env = signed_by(APP01, "othertopic");
	expect(s, env, FMN_SIGN_POLICY, "no entry for the topic othertopic");
	expect(lax, env, FMN_SIGN_VALID, NULL);
	json_decref(env);
	fmn_sign_destroy(&s);
	fmn_sign_destroy(&lax);
	unlink(policy);
	free(policy);
}

TEST(bad_routing_policy_is_an_error)
{
	char *policy = write_tmp("{\"t\": \"a name, not a list\"}");
	struct fmn_sign_opts o = { PKI "ca.crt", NULL, policy, 0, 0, 0 };
	char *cause = NULL;

	CHECK(fmn_sign_new(&o, &cause) == NULL);
	CHECK(cause != NULL && strstr(cause, "list") != NULL);
	free(cause);
	unlink(policy);
	free(policy);
}

TEST(undecodable_fields)
{
	struct fmn_sign *s = verifier(PKI "ca.crt", PKI "crl.pem", NULL, 0);
	json_t *env = signed_by(APP01, "t");

	json_object_set_new(env, "signature", json_string("\xc3\x96"));
	expect(s, env, FMN_SIGN_MALFORMED, "signature");
	json_object_set_new(env, "signature", json_integer(3));
	expect(s, env, FMN_SIGN_MALFORMED, "signature");
	json_decref(env);
	env = signed_by(APP01, "t");
	json_object_set_new(env, "certificate", json_string("aGVsbG8="));
	expect(s, env, FMN_SIGN_MALFORMED, "certificate");
	json_object_set_new(env, "certificate", json_string("\xc3\x96"));
	expect(s, env, FMN_SIGN_MALFORMED, "certificate");
	json_decref(env);
	env = signed_by(APP01, "t");
	json_object_set_new(env, "crypto", json_string("gpg"));
	expect(s, env, FMN_SIGN_MALFORMED, "x509");
	json_decref(env);
	fmn_sign_destroy(&s);
}

/* The real bus: Fedora's CA, certificates expired since. */
TEST(signed_dev_vectors_against_fedora_ca)
{
	struct fmn_sign_opts o = { PKI "fedora_ca.crt", NULL, NULL, 0, 1,
	    0 };
	char *cause = NULL, *raw;
	struct fmn_sign *archive = fmn_sign_new(&o, &cause), *now;
	json_t *doc = json_load_file(FMN_TEST_DATA "/signed-dev.json", 0,
	    NULL), *vec;
	struct fmn_sign_result r;
	size_t i;

	o.no_check_time = 0;
	now = fmn_sign_new(&o, &cause);
	CHECK(archive != NULL && now != NULL && doc != NULL);
	json_array_foreach(json_object_get(doc, "vectors"), i, vec) {
		json_t *env = json_object_get(vec, "as_stored_in_datagrepper");

		raw = json_dumps(env, JSON_COMPACT);
		CHECK(fmn_sign_verify(archive, env, raw, strlen(raw), &r) ==
		    FMN_SIGN_VALID);
		CHECK_STR(r.signer, json_string_value(json_object_get(vec,
		    "signer_cn")));
		/* The validity periods are checked unless told not to. */
		CHECK(fmn_sign_verify(now, env, raw, strlen(raw), &r) ==
		    FMN_SIGN_CHAIN);
		CHECK(strstr(r.reason, "expired") != NULL);
		free(raw);
	}
	CHECK(i == 18);
	json_decref(doc);
	fmn_sign_destroy(&archive);
	fmn_sign_destroy(&now);
	free(cause);
}
