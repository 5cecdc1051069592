/*
 * fedmsg's canonical form: Python's json.dumps(sort_keys=True,
 * separators=(",", ":"), ensure_ascii=True) byte for byte (the
 * expected texts below are Python's own output), and what of an
 * envelope is signed, against every real signed message of
 * tests/data/signed-dev.json.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_canon.h"
#include "fmn_msg.h"
#include "fmn_util.h"
#include "fmn_test.h"

/* Doubles (by their bits) and repr() of each, from Python 3.11. */
static const struct {
	uint64_t	 bits;
	const char	*repr;
} reals[] = {
	{ 0x3fb999999999999aULL, "0.1" },
	{ 0x3fc999999999999aULL, "0.2" },
	{ 0x3fd3333333333333ULL, "0.3" },
	{ 0x3fd5555555555555ULL, "0.3333333333333333" },
	{ 0x3fe5555555555555ULL, "0.6666666666666666" },
	{ 0x4341c37937e08000ULL, "1e+16" },
	{ 0x430c6bf526340000ULL, "1000000000000000.0" },
	{ 0x4341c37937e07fffULL, "9999999999999998.0" },
	{ 0x3f1a36e2eb1c432dULL, "0.0001" },
	{ 0x3ee4f8b588e368f1ULL, "1e-05" },
	{ 0x3f202e4b6ce5dc68ULL, "0.00012345" },
	{ 0x437b69b4ba630f35ULL, "1.2345678901234568e+17" },
	{ 0x7e41eb2d66005835ULL, "1.5e+300" },
	{ 0x0000000000000001ULL, "5e-324" },
	{ 0x0010000000000000ULL, "2.2250738585072014e-308" },
	{ 0x7fefffffffffffffULL, "1.7976931348623157e+308" },
	{ 0x0000000000000003ULL, "1.5e-323" },
	{ 0x0010000000000000ULL, "2.2250738585072014e-308" },
	{ 0x43b0000000000000ULL, "1.152921504606847e+18" },
	{ 0x43e0000000000000ULL, "9.223372036854776e+18" },
	{ 0x43f0000000000000ULL, "1.8446744073709552e+19" },
	{ 0x4340000000000000ULL, "9007199254740992.0" },
	{ 0x4340000000000001ULL, "9007199254740994.0" },
	{ 0x41d73e077b400000ULL, "1559764461.0" },
	{ 0x41d954fc4007e6b4ULL, "1700000000.123456" },
	{ 0x3fe0000000000000ULL, "0.5" },
	{ 0x8000000000000000ULL, "-0.0" },
	{ 0x4059000000000000ULL, "100.0" },
	{ 0x4480f0cf064dd592ULL, "1e+22" },
	{ 0x44b52d02c7e14af6ULL, "1e+23" },
	{ 0x4023000000000000ULL, "9.5" },
	{ 0x405edd2f1a9fbe77ULL, "123.456" },
	{ 0xbe80c6f7a0b5ed8dULL, "-1.25e-07" },
	{ 0x4011666666666666ULL, "4.35" },
	{ 0x4005666666666666ULL, "2.675" },
	{ 0x444b1ae4d6e2ef50ULL, "1e+21" },
	{ 0x447c7e83209e90b2ULL, "8.41e+21" },
	{ 0x00005c0ab9347ed7ULL, "5e-310" },
	{ 0x3fd3333333333334ULL, "0.30000000000000004" },
	{ 0x3ff0000000000001ULL, "1.0000000000000002" },
	{ 0x3fefffffffffffffULL, "0.9999999999999999" },
	{ 0x6a06e9ab85a0bcc1ULL, "5.612350177107035e+202" },
	{ 0x4dad2986ce834960ULL, "1.5355697530503638e+66" },
	{ 0x5d998017f5e2fc57ULL, "7.773997008762227e+142" },
	{ 0x2cb85f3f4a24e39aULL, "2.9210136204825604e-93" },
	{ 0xb48438b5c41f9dfdULL, "-1.0308718581606456e-55" },
	{ 0x8a4996efb447c0ceULL, "-4.160803020977301e-259" },
	{ 0x473d212ba950666dULL, "1.5124938762558304e+35" },
	{ 0xeae0d2c11c339464ULL, "-6.751451821608404e+206" },
	{ 0x3fb81d2706e55426ULL, "0.09419483106951584" },
	{ 0xd0b0090d62590992ULL, "-4.753325801517404e+80" },
	{ 0x6b68b48ebf13c171ULL, "2.538149452935017e+209" },
	{ 0xdc159e6a409c38f2ULL, "-3.928346849104129e+135" },
	{ 0xcd68615c80690847ULL, "-8.023584780952784e+64" },
	{ 0xa3f96f0e51436d1fULL, "-2.1870233525128276e-135" },
	{ 0xaf371d87d8a8f065ULL, "-3.046082980686551e-81" },
	{ 0xb969ec07f1f83a79ULL, "-3.9939159012341567e-32" },
	{ 0x2335e9e266cea9faULL, "4.6004038392059884e-139" },
	{ 0x8d1a6bffff9a3914ULL, "-1.5115662276882396e-245" },
	{ 0x23cf493f0febddf8ULL, "3.362820287804567e-136" },
	{ 0xcaa7e9bfd00724a1ULL, "-4.473473289258468e+51" },
	{ 0x32521553e014be00ULL, "2.682989148164103e-66" },
	{ 0xe1ff83ab26a2658fULL, "-1.1342420427054517e+164" },
	{ 0x8869510db4a02517ULL, "-3.833712278029127e-268" },
	{ 0xcd425ec38f138999ULL, "-1.511410045433058e+64" },
	{ 0xaf929a91f4873115ULL, "-1.5689986596107426e-79" },
	{ 0x54bec7d835c33744ULL, "1.6831245847342778e+100" },
	{ 0x1f9db8dd8a3b09ddULL, "2.1648220314045117e-156" },
	{ 0xb730d88fe1e8a4aaULL, "-7.553983206425518e-43" },
	{ 0x11b5aecda386a3a0ULL, "2.343144632774262e-223" },
	{ 0x68e06b0c4f27b35cULL, "1.5340925832667625e+197" },
	{ 0x81dda9da14f50791ULL, "-1.1073540134429294e-299" },
	{ 0xdbd5f6d2f09529afULL, "-2.4944373847082567e+134" },
	{ 0xa3e2889c795e846bULL, "-7.968427600300697e-136" },
	{ 0x9995d8aaff0f3b81ULL, "-2.0083608630643466e-185" },
	{ 0xaebf999324405d96ULL, "-1.626623125495228e-83" },
	{ 0x689edcd6cfec9e2cULL, "9.011777317387664e+195" },
	{ 0x818dced3d0398c72ULL, "-3.4773308534043904e-301" },
	{ 0x561d2417eb837ba8ULL, "6.683482021030893e+106" },
	{ 0x6ecace3c0490ca26ULL, "4.961035740073758e+225" },
	{ 0x925b1ec95f4807bcULL, "-3.001076281885131e-220" },
	{ 0x0000000000000010ULL, "8e-323" },
	{ 0x1a70000000000000ULL, "2.409919865102884e-181" },
	{ 0x39b0000000000000ULL, "7.888609052210118e-31" },
	{ 0x3e10000000000000ULL, "9.313225746154785e-10" },
	{ 0x3fa0000000000000ULL, "0.03125" },
	{ 0x4040000000000000ULL, "32.0" },
	{ 0x41d0000000000000ULL, "1073741824.0" },
	{ 0x4630000000000000ULL, "1.2676506002282294e+30" },
	{ 0x6570000000000000ULL, "4.149515568880993e+180" },
	{ 0x7e70000000000000ULL, "1.0715086071862673e+301" },
	{ 0x7fe0000000000000ULL, "8.98846567431158e+307" },
};

TEST(real_is_python_repr)
{
	char buf[FMN_CANON_REAL_MAX];
	size_t i;
	double d;

	for (i = 0; i < FMN_NELEM(reals); i++) {
		memcpy(&d, &reals[i].bits, sizeof(d));
		CHECK(fmn_canon_real(d, buf) == (int)strlen(reals[i].repr));
		CHECK_STR(buf, reals[i].repr);
	}
	CHECK(fmn_canon_real(0.0 / 0.0, buf) == -1);
	CHECK(fmn_canon_real(1.0 / 0.0, buf) == -1);
}

/* text parsed and written again is want. */
static void
dumps_as(const char *text, const char *want)
{
	struct fmn_buf b;
	json_error_t err;
	json_t *v = json_loads(text, JSON_DECODE_ANY, &err);

	CHECK(v != NULL);
	if (v == NULL) {
		fprintf(stderr, "  %s: %s\n", text, err.text);
		return;
	}
	fmn_buf_init(&b);
	CHECK(fmn_canon_dump(v, &b) == 0);
	CHECK_STR(b.data, want);
	fmn_buf_free(&b);
	json_decref(v);
}

TEST(strings_escape_as_ensure_ascii)
{
	static const char py[] = "\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f"
	    "\\u007f/ \\u00e9\\u20ac\\ud834\\udd1e\\u2028~\"";

	dumps_as(py, py);
	/* The same text with its characters as UTF-8. */
	dumps_as("\"a\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/ \xc3\xa9"
	    "\xe2\x82\xac\xf0\x9d\x84\x9e\xe2\x80\xa8~\"", py);
	dumps_as("\"\\/\"", "\"/\"");
}

TEST(keys_sorted_by_code_point_compact)
{
	static const char py[] = "{\"Z\":false,\"a\":[2,{\"x\":true,"
	    "\"y\":null}],\"ab\":{},\"b\":1,\"\\u00e9\":3.0,\"\\uffff\":\"\","
	    "\"\\ud800\\udc00\":-5}";

	dumps_as(py, py);
	dumps_as("{\"b\": 1, \"a\": [2, {\"y\": null, \"x\": true}], "
	    "\"\xc3\xa9\": 3.0, \"Z\": false, \"\xf0\x90\x80\x80\": -5, "
	    "\"\xef\xbf\xbf\": \"\", \"ab\": {}}", py);
	dumps_as("[1.0, 1e16, 1E-5, 0.1, -0, -0.0, 12345678901234567890e0]",
	    "[1.0,1e+16,1e-05,0.1,0,-0.0,1.2345678901234567e+19]");
	dumps_as("{}", "{}");
	dumps_as("[]", "[]");
}

static json_t *
load_file(const char *name)
{
	char *path = xasprintf("%s/%s", FMN_TEST_DATA, name);
	json_error_t err;
	json_t *doc = json_load_file(path, 0, &err);

	if (doc == NULL)
		fprintf(stderr, "%s: %s\n", path, err.text);
	free(path);
	return doc;
}

/* Every real signed message: the bytes its publisher signed. */
TEST(signed_dev_vectors_byte_for_byte)
{
	json_t *doc = load_file("signed-dev.json"), *vec;
	struct fmn_buf b;
	size_t i;
	char *raw, *cause = NULL;

	CHECK(doc != NULL);
	fmn_buf_init(&b);
	json_array_foreach(json_object_get(doc, "vectors"), i, vec) {
		json_t *env = json_object_get(vec, "as_stored_in_datagrepper");
		json_t *parsed;

		/* As the bus would give it: text, parsed as fmnd parses. */
		raw = json_dumps(env, JSON_COMPACT);
		parsed = fmn_msg_load_json(raw, strlen(raw), NULL);
		CHECK(parsed != NULL);
		CHECK(fmn_canon_envelope(parsed, raw, strlen(raw), &b,
		    &cause) == 0);
		CHECK_STR(b.data, json_string_value(json_object_get(vec,
		    "signed_bytes_utf8")));
		json_decref(parsed);
		free(raw);
	}
	CHECK(i == 18);
	fmn_buf_free(&b);
	json_decref(doc);
}

static void
envelope_as(const char *text, const char *want)
{
	json_t *env = fmn_msg_load_json(text, strlen(text), NULL);
	struct fmn_buf b;
	char *cause = NULL;

	CHECK(env != NULL);
	fmn_buf_init(&b);
	CHECK(fmn_canon_envelope(env, text, strlen(text), &b, &cause) == 0);
	CHECK_STR(b.data, want);
	fmn_buf_free(&b);
	free(cause);
	json_decref(env);
}

TEST(envelope_drops_credentials_and_fixes_datagrepper_form)
{
	/* Live form: only signature and certificate go. */
	envelope_as("{\"topic\":\"t\",\"msg\":{},\"timestamp\":1.5,"
	    "\"signature\":\"x\",\"certificate\":\"y\",\"headers\":{},"
	    "\"source_name\":\"n\",\"crypto\":\"x509\"}",
	    "{\"crypto\":\"x509\",\"headers\":{},\"msg\":{},\"source_name\":"
	    "\"n\",\"timestamp\":1.5,\"topic\":\"t\"}");
	/* Stored by datagrepper: its fields go, empty headers, int time. */
	envelope_as("{\"topic\":\"t\",\"msg\":{},\"timestamp\":1559764461.9,"
	    "\"signature\":\"x\",\"certificate\":\"y\",\"headers\":{},"
	    "\"source_name\":\"datanommer\",\"source_version\":\"0.9.0\"}",
	    "{\"msg\":{},\"timestamp\":1559764461,\"topic\":\"t\"}");
	envelope_as("{\"topic\":\"t\",\"timestamp\":-0.5,\"headers\":{\"a\":1},"
	    "\"source_name\":null,\"source_version\":null}",
	    "{\"headers\":{\"a\":1},\"timestamp\":0,\"topic\":\"t\"}");
	envelope_as("{\"timestamp\":12,\"headers\":null,\"source_name\":1,"
	    "\"source_version\":2}", "{\"timestamp\":12}");
	envelope_as("{\"timestamp\":1e20,\"headers\":[],\"source_name\":1,"
	    "\"source_version\":2}", "{\"timestamp\":100000000000000000000}");
}

TEST(integers_past_64_bits_keep_their_digits)
{
	/* fmn_msg_load_json reads this with every number as a double. */
	envelope_as("{\"i\":5,\"msg\":{\"build\":123456789012345678901234567890,"
	    "\"neg\":-9223372036854775809,\"max\":9223372036854775807,"
	    "\"f\":2.5,\"s\":\"12345678901234567890123\"},\"topic\":\"t\"}",
	    "{\"i\":5,\"msg\":{\"build\":123456789012345678901234567890,"
	    "\"f\":2.5,\"max\":9223372036854775807,"
	    "\"neg\":-9223372036854775809,\"s\":\"12345678901234567890123\"},"
	    "\"topic\":\"t\"}");
}

TEST(not_an_object_is_refused)
{
	json_t *v = json_integer(3);
	struct fmn_buf b;
	char *cause = NULL;

	fmn_buf_init(&b);
	CHECK(fmn_canon_envelope(v, NULL, 0, &b, &cause) == -1);
	CHECK(cause != NULL);
	free(cause);
	fmn_buf_free(&b);
	json_decref(v);
}
