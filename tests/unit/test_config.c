/*
 * The configuration file: defaults, keys, bounds, and errors that name
 * the file and line.
 */
#include <stdlib.h>
#include <unistd.h>

#include "fmn_test.h"
#include "fmn_config.h"
#include "fmn_util.h"

static char *
write_tmp(const char *text)
{
	char tmpl[] = "/tmp/fmn-conf-XXXXXX";
	int fd = mkstemp(tmpl);

	CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
	close(fd);
	return xstrdup(tmpl);
}

TEST(defaults)
{
	struct fmn_config c;

	fmn_config_init(&c);
	CHECK_STR(c.smtp_url, "mbox:fmn.mbox");
	CHECK_INT(c.retry_max, 60);
	CHECK(c.db_path == NULL);
	CHECK_INT(c.n_endpoints, 0);
	fmn_config_free(&c);
}

TEST(file_sets_keys_and_lists)
{
	struct fmn_config c;
	char *cause = NULL;
	char *path = write_tmp("; comment\n[store]\ndb = /tmp/x.db\n"
	    "[bus]\nendpoint = tcp://127.0.0.1:1\nendpoint = tcp://127.0.0.1:2\n"
	    "[delivery]\nretry_max = 30\n[irc]\nline_interval = 0.25\n");

	fmn_config_init(&c);
	CHECK_INT(fmn_config_load(&c, path, &cause), 0);
	CHECK_STR(c.db_path, "/tmp/x.db");
	CHECK_INT(c.n_endpoints, 2);
	CHECK_STR(c.endpoints[1], "tcp://127.0.0.1:2");
	CHECK_INT(c.retry_max, 30);
	CHECK(c.irc_line_interval > 0.24 && c.irc_line_interval < 0.26);
	fmn_config_free(&c);
	unlink(path);
	free(path);
}

TEST(unknown_key_names_file_and_line)
{
	struct fmn_config c;
	char *cause = NULL;
	char *path = write_tmp("[store]\ndb = x\n\n[bus]\nendpointz = y\n");

	fmn_config_init(&c);
	CHECK_INT(fmn_config_load(&c, path, &cause), -1);
	CHECK(cause != NULL && strstr(cause, path) != NULL);
	CHECK(cause != NULL && strstr(cause, ":5:") != NULL);
	CHECK(cause != NULL && strstr(cause, "endpointz") != NULL);
	free(cause);
	fmn_config_free(&c);
	unlink(path);
	free(path);
}

TEST(out_of_range_number_is_refused)
{
	struct fmn_config c;
	char *cause = NULL;

	fmn_config_init(&c);
	CHECK_INT(fmn_config_set(&c, "delivery", "retry_max", "-3", &cause), -1);
	CHECK(cause != NULL && strstr(cause, "retry_max") != NULL);
	free(cause);
	cause = NULL;
	CHECK_INT(fmn_config_set(&c, "delivery", "retry_max", "ten", &cause), -1);
	free(cause);
	cause = NULL;
	CHECK_INT(fmn_config_set(&c, "delivery", "retry_max", "1.5", &cause), -1);
	free(cause);
	CHECK_INT(c.retry_max, 60);
	fmn_config_free(&c);
}

TEST(missing_file_is_an_error)
{
	struct fmn_config c;
	char *cause = NULL;

	fmn_config_init(&c);
	CHECK_INT(fmn_config_load(&c, "/nonexistent/fmn.conf", &cause), -1);
	CHECK(cause != NULL && strstr(cause, "/nonexistent/fmn.conf") != NULL);
	free(cause);
	fmn_config_free(&c);
}

TEST(signature_keys_and_booleans)
{
	struct fmn_config c, d;
	char *cause = NULL;
	char *path = write_tmp("[bus]\nvalidate_signatures = yes\n"
	    "ca_cert = /etc/pki/fedmsg/ca.crt\ncrl = /etc/pki/fedmsg/crl.pem\n"
	    "routing_policy = /etc/fmn/policy.json\nrouting_nitpicky = true\n");

	fmn_config_init(&c);
	CHECK_INT(c.validate_signatures, 0);
	CHECK_INT(c.routing_nitpicky, 0);
	CHECK(c.ca_cert == NULL && c.crl == NULL && c.routing_policy == NULL);
	CHECK_INT(fmn_config_load(&c, path, &cause), 0);
	CHECK_INT(c.validate_signatures, 1);
	CHECK_INT(c.routing_nitpicky, 1);
	CHECK_STR(c.ca_cert, "/etc/pki/fedmsg/ca.crt");
	CHECK_STR(c.crl, "/etc/pki/fedmsg/crl.pem");
	CHECK_STR(c.routing_policy, "/etc/fmn/policy.json");
	fmn_config_copy(&d, &c);
	CHECK_STR(d.ca_cert, c.ca_cert);
	CHECK(d.ca_cert != c.ca_cert);
	CHECK_INT(d.validate_signatures, 1);
	fmn_config_free(&d);
	CHECK_INT(fmn_config_set(&c, "bus", "validate_signatures", "off",
	    &cause), 0);
	CHECK_INT(c.validate_signatures, 0);
	CHECK_INT(fmn_config_set(&c, "bus", "routing_nitpicky", "maybe",
	    &cause), -1);
	CHECK(cause != NULL && strstr(cause, "yes or no") != NULL);
	free(cause);
	fmn_config_free(&c);
	unlink(path);
	free(path);
}
