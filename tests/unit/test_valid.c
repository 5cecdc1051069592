/*
 * Destination checks: the e-mail addresses fmnctl accepts are exactly
 * those the mail formatter and SMTP can deliver to, and IRC nicks.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_test.h"
#include "fmn_util.h"
#include "fmn_valid.h"

/* Accepted by dest add and import, and delivered. */
static const char *const good_addresses[] = {
	"alice@example.org",
	"Alice.Smith+fmn@Mail.Example-1.org",
	"o'brien@example.org",
	"x!#$%&*+/=?^_`{|}~-@example.org",
	"alice@localhost",
	"a@b.c",
};

/* Refused: what SMTP without extensions or a plain To: cannot carry. */
static const char *const bad_addresses[] = {
	"",
	"alice",
	"@example.org",
	"alice@",
	"\"quoted\"@example.org",
	"\"a b\"@example.org",
	"alice(comment)@example.org",
	"alice@example.org(comment)",
	"a b@example.org",
	"alice@exa mple.org",
	"alice\t@example.org",
	"alice\x01@example.org",
	"alice@example.org\r\nBcc: x@example.org",
	"j\xc3\xb6rg@example.org",
	("alice@b\xc3\xbc" "cher.example"),
	"a\\b@example.org",
	".alice@example.org",
	"alice.@example.org",
	"al..ice@example.org",
	"a@b@example.org",
	"<alice@example.org>",
	"alice@example.org,bob@example.org",
	"alice@example..org",
	"alice@.example.org",
	"alice@example.org.",
	"alice@-example.org",
	"alice@example-.org",
	"alice@exa_mple.org",
	"alice@[192.0.2.1]",
	"alice@mailhost",
};

TEST(email_accepts_plain_addresses)
{
	char *cause = NULL;
	size_t i;

	for (i = 0; i < FMN_NELEM(good_addresses); i++) {
		if (!fmn_valid_email(good_addresses[i], &cause))
			fprintf(stderr, "refused %s: %s\n", good_addresses[i],
			    cause);
		CHECK(fmn_valid_email(good_addresses[i], NULL));
	}
	free(cause);
}

TEST(email_refuses_what_mail_cannot_deliver)
{
	char *cause = NULL;
	size_t i;

	for (i = 0; i < FMN_NELEM(bad_addresses); i++) {
		if (fmn_valid_email(bad_addresses[i], &cause))
			fprintf(stderr, "accepted %s\n", bad_addresses[i]);
		else {
			CHECK(cause != NULL && *cause != '\0');
			free(cause);
			cause = NULL;
		}
		CHECK(!fmn_valid_email(bad_addresses[i], NULL));
	}
	CHECK(!fmn_valid_email(NULL, NULL));
}

TEST(email_lengths_are_bounded)
{
	char local[80], label[80], *a;

	memset(local, 'a', sizeof(local));
	memset(label, 'b', sizeof(label));
	a = xasprintf("%.64s@example.org", local);
	CHECK(fmn_valid_email(a, NULL));
	free(a);
	a = xasprintf("%.65s@example.org", local);
	CHECK(!fmn_valid_email(a, NULL));
	free(a);
	a = xasprintf("a@%.63s.org", label);
	CHECK(fmn_valid_email(a, NULL));
	free(a);
	a = xasprintf("a@%.64s.org", label);
	CHECK(!fmn_valid_email(a, NULL));
	free(a);
	/* 254 in all (RFC 5321's path limit less the angle brackets). */
	a = xasprintf("%.60s@%.60s.%.60s.%.60s.%.10s", local, label, label,
	    label, label);
	CHECK_INT(strlen(a), 254);
	CHECK(fmn_valid_email(a, NULL));
	free(a);
	a = xasprintf("%.60s@%.60s.%.60s.%.60s.%.11s", local, label, label,
	    label, label);
	CHECK(!fmn_valid_email(a, NULL));
	free(a);
}

TEST(nick)
{
	CHECK(fmn_valid_nick("alice_"));
	CHECK(fmn_valid_nick("[away]|x"));
	CHECK(!fmn_valid_nick(""));
	CHECK(!fmn_valid_nick("9lives"));
	CHECK(!fmn_valid_nick("-x"));
	CHECK(!fmn_valid_nick("bad nick"));
	CHECK(!fmn_valid_nick("nick\r\nQUIT"));
	CHECK(!fmn_valid_nick("abcdefghijabcdefghijabcdefghijk"));
}
