/*
 * The e-mail formatter: headers a mail client and a Sieve script rely
 * on, RFC 2047 subjects, folding, digests and their limits, stable
 * Message-IDs, and text from the bus that tries to add headers.
 */
#include <stdlib.h>
#include <string.h>

#include "fmn_config.h"
#include "fmn_mail.h"
#include "fmn_msg.h"
#include "fmn_test.h"
#include "fmn_util.h"
#include "fmn_valid.h"

#define T0 1709633472.0		/* 2024-03-05 10:11:12 UTC */

static struct fmn_strset users, pkgs;

static struct fmn_notice
notice(long long id, const char *subtitle)
{
	struct fmn_notice n;

	memset(&n, 0, sizeof(n));
	n.notification_id = id;
	n.msg_id = "2024-0f4e6c62-1d2b-4b4e-9f3a-7d1c9a0b1234";
	n.topic = "org.fedoraproject.prod.buildsys.build.state.change";
	n.category = "buildsys";
	n.timestamp = T0;
	n.subtitle = subtitle;
	n.link = "https://koji.fedoraproject.org/koji/buildinfo?buildID=1";
	n.filter = "my packages";
	n.usernames = &users;
	n.packages = &pkgs;
	return n;
}

static struct fmn_delivery
delivery(enum fmn_delivery_kind kind, const struct fmn_notice *nv, size_t n)
{
	struct fmn_delivery d;

	memset(&d, 0, sizeof(d));
	d.id = 1;
	d.kind = kind;
	d.context = "email";
	d.user = "alice";
	d.destination_id = 7;
	d.address = "alice@example.org";
	d.verbose = 1;
	d.notices = nv;
	d.n_notices = n;
	return d;
}

static void
setup(struct fmn_config *cfg)
{
	fmn_config_init(cfg);
	free(cfg->mail_from);
	cfg->mail_from = xstrdup("Fedora Notifications <notifications@fedoraproject.org>");
	fmn_strset_clear(&users);
	fmn_strset_clear(&pkgs);
	fmn_strset_add(&users, "kevin");
	fmn_strset_add(&users, "alice");
	fmn_strset_finish(&users);
	fmn_strset_add(&pkgs, "ansible");
	fmn_strset_finish(&pkgs);
}

static char *
render(const struct fmn_delivery *d, const struct fmn_config *cfg)
{
	struct fmn_buf b;
	char *cause = NULL;

	fmn_buf_init(&b);
	if (fmn_mail_format(d, cfg, T0 + 5, &b, &cause) != 0) {
		fprintf(stderr, "format: %s\n", cause);
		free(cause);
		fmn_buf_free(&b);
		return NULL;
	}
	return fmn_buf_steal(&b);
}

/* The header block (up to the blank line), or NULL. */
static char *
headers_of(const char *mail)
{
	const char *end = strstr(mail, "\r\n\r\n");

	return end != NULL ? xstrndup(mail, (size_t)(end - mail) + 2) : NULL;
}

/* Count header fields (lines that do not start with white space). */
static int
count_fields(const char *hdrs, const char *name)
{
	const char *p = hdrs;
	size_t nlen = name != NULL ? strlen(name) : 0;
	int n = 0;

	while (*p != '\0') {
		if (*p != ' ' && *p != '\t' && (name == NULL ||
		    (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':')))
			n++;
		p = strstr(p, "\r\n");
		if (p == NULL)
			break;
		p += 2;
	}
	return n;
}

/* The unfolded value of the first field called name, or NULL. */
static char *
field(const char *hdrs, const char *name)
{
	const char *p = hdrs;
	size_t nlen = strlen(name);
	struct fmn_buf b;

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			p += nlen + 1;
			fmn_buf_init(&b);
			for (;;) {
				const char *e = strstr(p, "\r\n");

				fmn_buf_add(&b, p, (size_t)(e - p));
				p = e + 2;
				if (*p != ' ' && *p != '\t')
					break;
			}
			char *v = fmn_buf_steal(&b), *s = v;

			while (*s == ' ')
				s++;
			memmove(v, s, strlen(s) + 1);
			return v;
		}
		p = strstr(p, "\r\n");
		if (p != NULL)
			p += 2;
	}
	return NULL;
}

/* Every line ends in CRLF, no bare CR or LF, none over 998 bytes. */
static int
lines_ok(const char *mail)
{
	const char *p = mail;
	size_t col = 0;

	for (; *p != '\0'; p++) {
		if (*p == '\r') {
			if (p[1] != '\n')
				return 0;
			p++;
			col = 0;
			continue;
		}
		if (*p == '\n' || ++col > 998)
			return 0;
	}
	return col == 0;
}

TEST(headers_present)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	char *m, *h, *v;
	static const char *const names[] = {
		"Date", "From", "To", "Subject", "Message-ID", "MIME-Version",
		"Content-Type", "Content-Transfer-Encoding", "Precedence",
		"Auto-Submitted", "X-Fedmsg-Id", "X-Fedmsg-Topic",
		"X-Fedmsg-Category", "X-Fedmsg-Username", "X-Fedmsg-Package",
	};
	size_t i;

	setup(&cfg);
	n = notice(42, "kevin's ansible-1.8.3-1.el7 completed");
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(lines_ok(m));
	h = headers_of(m);
	CHECK(h != NULL);
	for (i = 0; i < FMN_NELEM(names); i++) {
		if (count_fields(h, names[i]) < 1)
			fprintf(stderr, "missing %s\n", names[i]);
		CHECK(count_fields(h, names[i]) >= 1);
	}
	CHECK_INT(count_fields(h, "X-Fedmsg-Username"), 2);
	CHECK_INT(count_fields(h, "Subject"), 1);
	v = field(h, "Subject");
	CHECK_STR(v, "kevin's ansible-1.8.3-1.el7 completed");
	free(v);
	v = field(h, "Date");
	CHECK_STR(v, "Tue, 05 Mar 2024 10:11:17 +0000");
	free(v);
	v = field(h, "From");
	CHECK_STR(v, "Fedora Notifications <notifications@fedoraproject.org>");
	free(v);
	v = field(h, "To");
	CHECK_STR(v, "alice@example.org");
	free(v);
	v = field(h, "Message-ID");
	CHECK_STR(v, "<fmn.42.7@fedoraproject.org>");
	free(v);
	v = field(h, "Content-Type");
	CHECK_STR(v, "text/plain; charset=utf-8");
	free(v);
	v = field(h, "Content-Transfer-Encoding");
	CHECK_STR(v, "7bit");
	free(v);
	v = field(h, "Precedence");
	CHECK_STR(v, "bulk");
	free(v);
	v = field(h, "Auto-Submitted");
	CHECK_STR(v, "auto-generated");
	free(v);
	v = field(h, "X-Fedmsg-Category");
	CHECK_STR(v, "buildsys");
	free(v);
	CHECK(strstr(m, "\r\n\r\n") != NULL);
	CHECK(strstr(m, "When:     2024-03-05 10:11:12 UTC\r\n") != NULL);
	CHECK(strstr(m, "Link:     https://koji.fedoraproject.org/koji/"
	    "buildinfo?buildID=1\r\n") != NULL);
	CHECK(strstr(m, "fmnctl filter disable alice email \"my packages\"\r\n")
	    != NULL);
	CHECK(strstr(m, "fmnctl pref set alice email --disable\r\n") != NULL);
	free(h);
	free(m);
	fmn_config_free(&cfg);
}

TEST(long_form_when_verbose)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	char *m;

	setup(&cfg);
	n = notice(1, "short");
	n.long_form = "The long\nstory\r\nof this build";
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && strstr(m, "\r\n\r\nThe long\r\nstory\r\nof this "
	    "build\r\n") != NULL);
	free(m);
	d.verbose = 0;
	m = render(&d, &cfg);
	CHECK(m != NULL && strstr(m, "\r\n\r\nshort\r\n") != NULL);
	CHECK(m != NULL && strstr(m, "long") == NULL);
	free(m);
	fmn_config_free(&cfg);
}

TEST(rfc2047_subject)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	char *m, *h, *v;
	const char *p;

	setup(&cfg);
	n = notice(5, "Zbyněk Jędrzejewski-Szmek commented on FEDORA-2024-"
	    "1234: “Works for me” ✓ — ünïcödé text that is long enough to be "
	    "folded over several lines of encoded words");
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(lines_ok(m));
	h = headers_of(m);
	v = field(h, "Subject");
	CHECK(v != NULL && strncmp(v, "=?UTF-8?B?", 10) == 0);
	/* Folded: several encoded words, each on its own line, <= 75. */
	CHECK(v != NULL && strstr(v, "?= =?UTF-8?B?") != NULL);
	for (p = strstr(h, "Subject:"); p != NULL && *p != '\0';) {
		const char *e = strstr(p, "\r\n");

		CHECK(e - p <= 82);
		p = e + 2;
		if (*p != ' ')
			break;
	}
	/* Nothing but ASCII in the header block. */
	for (p = h; *p != '\0'; p++)
		CHECK((unsigned char)*p < 0x80);
	/* The body is quoted-printable and has no 8-bit byte either. */
	free(v);
	v = field(h, "Content-Transfer-Encoding");
	CHECK_STR(v, "quoted-printable");
	for (p = m; *p != '\0'; p++)
		CHECK((unsigned char)*p < 0x80);
	CHECK(strstr(m, "Zbyn=C4=9Bk") != NULL);
	free(v);
	free(h);
	free(m);

	/* ASCII that looks like an encoded word is encoded itself. */
	n = notice(6, "=?UTF-8?B?SGk=?= trick");
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	h = headers_of(m);
	v = field(h, "Subject");
	CHECK(v != NULL && strncmp(v, "=?UTF-8?B?", 10) == 0);
	CHECK(v != NULL && strstr(v, "SGk=?= trick") == NULL);
	free(v);
	free(h);
	free(m);
	fmn_config_free(&cfg);
}

TEST(ascii_subject_folded)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	struct fmn_buf s;
	char *m, *h, *v;
	int i;

	setup(&cfg);
	fmn_buf_init(&s);
	for (i = 0; i < 60; i++)
		fmn_buf_printf(&s, "word%d ", i);
	n = notice(5, s.data);
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	h = headers_of(m);
	v = field(h, "Subject");
	s.data[s.len - 1] = '\0';
	CHECK_STR(v, s.data);
	CHECK(strstr(h, "\r\n word") != NULL);
	free(v);
	free(h);
	free(m);

	/* A single 5000-byte word cannot be folded: it is encoded. */
	fmn_buf_reset(&s);
	for (i = 0; i < 5000; i++)
		fmn_buf_addc(&s, 'x');
	n = notice(5, s.data);
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	free(m);
	fmn_buf_free(&s);
	fmn_config_free(&cfg);
}

TEST(no_header_injection)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	struct fmn_strset evil_users = { 0 }, evil_pkgs = { 0 };
	char *m, *h, *clean, *hc;
	int before, i;
	const char *p;

	setup(&cfg);
	n = notice(9, "ok");
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	clean = render(&d, &cfg);
	hc = headers_of(clean);
	before = count_fields(hc, NULL);

	fmn_strset_add(&evil_users, "mallory\r\nBcc: victim@example.com");
	fmn_strset_add(&evil_users, "eve\nX-Injected: 1");
	fmn_strset_add(&evil_users, "trudy\rTo: other@example.com");
	fmn_strset_finish(&evil_users);
	fmn_strset_add(&evil_pkgs, "pkg\r\n\r\nbody-start");
	fmn_strset_add(&evil_pkgs, "nul\x01\x0b\x0c\x1b[31m\x7f");
	fmn_strset_finish(&evil_pkgs);
	n.subtitle = "hello\r\nBcc: victim@example.com\r\n\r\nfake body";
	n.topic = "org.fedoraproject.prod.x\r\nX-Evil: topic";
	n.category = "cat\nX-Evil: cat";
	n.msg_id = "2024-1\r\nX-Evil: id";
	n.link = "https://x/\r\nX-Evil: link";
	n.filter = "filter\r\nX-Evil: filter";
	n.usernames = &evil_users;
	n.packages = &evil_pkgs;
	d.user = "alice\r\nX-Evil: user";
	m = render(&d, &cfg);
	CHECK(m != NULL);
	if (m == NULL)
		return;
	CHECK(lines_ok(m));
	h = headers_of(m);
	/* Same fields as a clean mail, plus one Username and one Package. */
	CHECK_INT(count_fields(h, NULL), before + 2);
	CHECK_INT(count_fields(h, "Bcc"), 0);
	CHECK_INT(count_fields(h, "X-Evil"), 0);
	CHECK_INT(count_fields(h, "X-Injected"), 0);
	CHECK_INT(count_fields(h, "To"), 1);
	CHECK_INT(count_fields(h, "Subject"), 1);
	CHECK_INT(count_fields(h, "X-Fedmsg-Username"), 3);
	CHECK_INT(count_fields(h, "X-Fedmsg-Package"), 2);
	for (p = h; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		CHECK(c >= 0x20 || c == '\r' || c == '\n');
		if (c < 0x20 && c != '\r' && c != '\n')
			break;
	}
	/* The text is still there, on one line. */
	CHECK(strstr(h, "Subject: hello Bcc: victim@example.com fake body\r\n")
	    != NULL);
	/* The body has no control characters but CR LF and tab. */
	for (p = m; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c < 0x20 && c != '\r' && c != '\n' && c != '\t') {
			CHECK(!"control character in the mail");
			break;
		}
	}

	/* An address with CR/LF or spaces is refused, not written. */
	{
		static const char *const bad[] = {
			"a@b.org\r\nBcc: c@d.org", "a@b.org>", "a b@c.org",
			"", "noat", "a@b.org,c@d.org", "<a@b.org>",
		};
		struct fmn_buf b;
		char *cause = NULL;

		for (i = 0; i < (int)FMN_NELEM(bad); i++) {
			d.address = bad[i];
			fmn_buf_init(&b);
			CHECK(fmn_mail_format(&d, &cfg, T0, &b, &cause) == -1);
			CHECK(cause != NULL);
			free(cause);
			cause = NULL;
			fmn_buf_free(&b);
		}
	}
	fmn_strset_clear(&evil_users);
	fmn_strset_clear(&evil_pkgs);
	free(h);
	free(m);
	free(hc);
	free(clean);
	fmn_config_free(&cfg);
}

TEST(many_packages_counted)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	struct fmn_strset many = { 0 };
	char name[32], *m, *h, *v;
	int i;

	setup(&cfg);
	for (i = 0; i < 300; i++) {
		snprintf(name, sizeof(name), "package-%03d", i);
		fmn_strset_add(&many, name);
	}
	fmn_strset_finish(&many);
	n = notice(3, "mass rebuild");
	n.packages = &many;
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	h = headers_of(m);
	CHECK_INT(count_fields(h, "X-Fedmsg-Package"), 20);
	v = field(h, "X-Fedmsg-Num-Packages");
	CHECK_STR(v, "300");
	free(v);
	CHECK_INT(count_fields(h, "X-Fedmsg-Num-Usernames"), 0);
	fmn_strset_clear(&many);
	free(h);
	free(m);
	fmn_config_free(&cfg);
}

/*
 * The formatter refuses exactly what fmnctl refuses (one check), so an
 * address stored by dest add or import never fails at delivery for its
 * form.
 */
TEST(address_check_is_the_cli_check)
{
	static const char *const addrs[] = {
		"alice@example.org", "o'brien@example.org", "alice@localhost",
		"\"quoted\"@example.org", "alice(c)@example.org",
		".alice@example.org", "al..ice@example.org",
		"alice@-example.org", "alice@mailhost", "j\xc3\xb6rg@example.org",
	};
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	struct fmn_buf b;
	char *cause = NULL;
	size_t i;
	int rc;

	setup(&cfg);
	n = notice(1, "x");
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	for (i = 0; i < FMN_NELEM(addrs); i++) {
		d.address = addrs[i];
		fmn_buf_init(&b);
		rc = fmn_mail_format(&d, &cfg, T0, &b, &cause);
		if ((rc == 0) != fmn_valid_email(addrs[i], NULL))
			fprintf(stderr, "%s: formatter %d, check %d\n", addrs[i],
			    rc, fmn_valid_email(addrs[i], NULL));
		CHECK((rc == 0) == fmn_valid_email(addrs[i], NULL));
		CHECK(rc == 0 || (cause != NULL &&
		    strstr(cause, "e-mail address") != NULL));
		fmn_buf_free(&b);
		free(cause);
		cause = NULL;
	}
	CHECK(!fmn_valid_email("\"quoted\"@example.org", NULL));
	fmn_config_free(&cfg);
}

/* The longest line of a header block, in bytes without CRLF. */
static size_t
longest_line(const char *h)
{
	size_t max = 0, n;
	const char *e;

	for (; *h != '\0'; h = e + 2) {
		if ((e = strstr(h, "\r\n")) == NULL)
			e = h + strlen(h) - 2;
		n = (size_t)(e - h);
		if (n > max)
			max = n;
	}
	return max;
}

/*
 * A 500 KB msg_id (or topic, name, subtitle) from the bus must not make
 * a 670 KB header: every header value built from bus data is cut, the
 * body shows the id cut as well, and no line passes 998 bytes.
 */
TEST(huge_bus_values_keep_headers_bounded)
{
	struct fmn_config cfg;
	struct fmn_notice n[2];
	struct fmn_delivery d;
	struct fmn_buf big, bigu;
	struct fmn_strset names = { 0 };
	char *m, *h, *v, *body;
	size_t i;
	int k;

	setup(&cfg);
	fmn_buf_init(&big);
	fmn_buf_adds(&big, "2024-");
	for (i = 0; i < 500 * 1024; i++)
		fmn_buf_addc(&big, (char)('a' + i % 26));
	fmn_buf_init(&bigu);
	for (i = 0; i < 100 * 1024; i++)
		fmn_buf_adds(&bigu, "\xc3\xa9");
	fmn_strset_add(&names, big.data);
	fmn_strset_add(&names, bigu.data);
	fmn_strset_finish(&names);
	for (k = 0; k < 3; k++) {
		n[0] = notice(300, "ok");
		n[0].msg_id = big.data;
		n[1] = notice(301, "also ok");
		n[1].msg_id = bigu.data;
		if (k == 2) {
			/* Every value from the bus at once. */
			n[0].topic = big.data;
			n[0].category = bigu.data;
			n[0].subtitle = big.data;
			n[0].filter = bigu.data;
			n[0].usernames = &names;
			n[0].packages = &names;
		}
		d = delivery(k == 0 ? FMN_DELIVERY_SINGLE : FMN_DELIVERY_DIGEST,
		    n, k == 0 ? 1 : 2);
		m = render(&d, &cfg);
		CHECK(m != NULL);
		if (m == NULL)
			continue;
		CHECK(lines_ok(m));
		h = headers_of(m);
		CHECK(h != NULL);
		if (h == NULL) {
			free(m);
			continue;
		}
		CHECK(longest_line(h) <= 998);
		if (strlen(h) >= 8192)
			fprintf(stderr, "case %d: header block of %zu bytes\n", k,
			    strlen(h));
		CHECK(strlen(h) < 8192);
		v = field(h, "X-Fedmsg-Id");
		CHECK(v != NULL && strlen(v) <= 256);
		CHECK(v != NULL && strncmp(v, big.data, 200) == 0);
		CHECK(v != NULL && strcmp(v + strlen(v) - 3, "...") == 0);
		free(v);
		/*
		 * The body shows the id, cut too. (Case 2's 500 KB text makes
		 * the digest size limit cut its entry, Id line and all.)
		 */
		body = strstr(m, "\r\n\r\n");
		CHECK(body != NULL && (k == 2 || strlen(body) < 16 * 1024));
		CHECK(k == 2 || strstr(body, "Id:       2024-abcdefghij") != NULL);
		free(h);
		free(m);
	}
	fmn_strset_clear(&names);
	fmn_buf_free(&big);
	fmn_buf_free(&bigu);
	fmn_config_free(&cfg);
}

TEST(message_id_stable)
{
	struct fmn_config cfg;
	struct fmn_notice n[3];
	struct fmn_delivery d;
	char *m1, *m2, *h1, *h2, *v1, *v2;

	setup(&cfg);
	n[0] = notice(100, "one");
	n[1] = notice(101, "two");
	n[2] = notice(102, "three");
	d = delivery(FMN_DELIVERY_SINGLE, n, 1);
	m1 = render(&d, &cfg);
	d.id = 99;			/* a retry: another attempt, later */
	m2 = render(&d, &cfg);
	h1 = headers_of(m1);
	h2 = headers_of(m2);
	v1 = field(h1, "Message-ID");
	v2 = field(h2, "Message-ID");
	CHECK_STR(v1, v2);
	free(v2);
	free(h2);
	free(m2);
	/* Another notification: another id. */
	d.notices = &n[1];
	m2 = render(&d, &cfg);
	h2 = headers_of(m2);
	v2 = field(h2, "Message-ID");
	CHECK(v1 != NULL && v2 != NULL && strcmp(v1, v2) != 0);
	free(v1);
	free(v2);
	free(h1);
	free(h2);
	free(m1);
	free(m2);

	/* Digests: the same set gives the same id, another set another. */
	d = delivery(FMN_DELIVERY_DIGEST, n, 3);
	m1 = render(&d, &cfg);
	m2 = render(&d, &cfg);
	h1 = headers_of(m1);
	h2 = headers_of(m2);
	v1 = field(h1, "Message-ID");
	v2 = field(h2, "Message-ID");
	CHECK_STR(v1, v2);
	CHECK(v1 != NULL && strncmp(v1, "<fmn.digest.100.", 16) == 0);
	free(v2);
	free(h2);
	free(m2);
	d.n_notices = 2;
	m2 = render(&d, &cfg);
	h2 = headers_of(m2);
	v2 = field(h2, "Message-ID");
	CHECK(v1 != NULL && v2 != NULL && strcmp(v1, v2) != 0);
	free(v1);
	free(v2);
	free(h1);
	free(h2);
	free(m1);
	free(m2);
	fmn_config_free(&cfg);
}

TEST(digest_numbering)
{
	struct fmn_config cfg;
	struct fmn_notice n[12];
	struct fmn_delivery d;
	char subtitle[12][64], *m, *h, *v, line[128];
	const char *p, *q;
	int i;

	setup(&cfg);
	for (i = 0; i < 12; i++) {
		snprintf(subtitle[i], sizeof(subtitle[i]), "event number %d",
		    i + 1);
		n[i] = notice(200 + i, subtitle[i]);
	}
	n[3].filter = "other filter";
	d = delivery(FMN_DELIVERY_DIGEST, n, 12);
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	if (m == NULL)
		return;
	h = headers_of(m);
	v = field(h, "Subject");
	CHECK_STR(v, "fmn: 12 notifications");
	free(v);
	/* The summary, numbered in order, then each entry in order. */
	p = m;
	for (i = 0; i < 12; i++) {
		snprintf(line, sizeof(line), "%3d. event number %d\r\n", i + 1,
		    i + 1);
		q = strstr(p, line);
		CHECK(q != NULL);
		if (q != NULL)
			p = q;
	}
	for (i = 0; i < 12; i++) {
		snprintf(line, sizeof(line), "\r\n%d. event number %d\r\n",
		    i + 1, i + 1);
		q = strstr(p, line);
		CHECK(q != NULL);
		if (q != NULL)
			p = q;
	}
	CHECK(strstr(m, "left out") == NULL);
	CHECK(strstr(m, "fmnctl filter disable alice email \"my packages\"")
	    != NULL);
	CHECK(strstr(m, "fmnctl filter disable alice email \"other filter\"")
	    != NULL);
	CHECK_INT(count_fields(h, "X-Fedmsg-Id"), 1);	/* all the same id */
	free(h);
	free(m);
	fmn_config_free(&cfg);
}

TEST(digest_cut_note)
{
	struct fmn_config cfg;
	struct fmn_notice n[30];
	struct fmn_delivery d;
	char subtitle[30][64], *m, *h, *v;
	struct fmn_buf big;
	int i;

	setup(&cfg);
	cfg.digest_max_entries = 10;
	for (i = 0; i < 30; i++) {
		snprintf(subtitle[i], sizeof(subtitle[i]), "event number %d",
		    i + 1);
		n[i] = notice(300 + i, subtitle[i]);
	}
	/* 30 handed over, 10 fit; the scheduler had already cut 5. */
	d = delivery(FMN_DELIVERY_DIGEST, n, 30);
	d.n_omitted = 5;
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	h = headers_of(m);
	v = field(h, "Subject");
	CHECK_STR(v, "fmn: 35 notifications");
	free(v);
	CHECK(strstr(m, " 10. event number 10\r\n") != NULL);
	CHECK(strstr(m, " 11. event number 11") == NULL);
	CHECK(strstr(m, "[25 more notifications were left out of this "
	    "digest]") != NULL);
	CHECK(strstr(m, "because of the digest limits (at most 10 entries")
	    != NULL);
	free(h);
	free(m);

	/* The size limit: big entries, a small limit. */
	cfg.digest_max_entries = 50;
	cfg.digest_max_bytes = 4096;
	fmn_buf_init(&big);
	for (i = 0; i < 150; i++)
		fmn_buf_adds(&big, "lorem ipsum dolor sit amet\n");
	for (i = 0; i < 30; i++)
		n[i].long_form = big.data;
	d.n_omitted = 0;
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	CHECK(m != NULL && strlen(m) < 4096 + 4096);
	CHECK(strstr(m, "  1. event number 1\r\n") != NULL);
	CHECK(strstr(m, "  2. event number 2\r\n") == NULL);
	CHECK(strstr(m, "[29 more notifications were left out") != NULL);
	CHECK(strstr(m, "[... cut: too long]") != NULL);
	free(m);
	fmn_buf_free(&big);
	fmn_config_free(&cfg);
}

TEST(confirmation)
{
	struct fmn_config cfg;
	struct fmn_delivery d;
	char *m, *h, *v;

	setup(&cfg);
	d = delivery(FMN_DELIVERY_CONFIRM, NULL, 0);
	d.secret = "3f2a9c0d5e6b7a8f";
	d.expires = T0 + 86400;
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	if (m == NULL)
		return;
	h = headers_of(m);
	CHECK(strstr(m, "fmnctl dest confirm 3f2a9c0d5e6b7a8f\r\n") != NULL);
	CHECK(strstr(m, "2024-03-06 10:11:12 UTC") != NULL);
	v = field(h, "Subject");
	CHECK_STR(v, "fmn: confirm notifications for alice");
	free(v);
	v = field(h, "Message-ID");
	CHECK(v != NULL && strncmp(v, "<fmn.confirm.7.", 15) == 0);
	free(v);
	CHECK_INT(count_fields(h, "X-Fedmsg-Topic"), 0);
	CHECK_INT(count_fields(h, "Auto-Submitted"), 1);
	free(h);
	free(m);
	d.secret = NULL;
	CHECK(render(&d, &cfg) == NULL);
	fmn_config_free(&cfg);
}

TEST(quoted_printable_long_lines)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	struct fmn_buf lf;
	char *m, *v, *h;
	int i;

	setup(&cfg);
	fmn_buf_init(&lf);
	fmn_buf_adds(&lf, "From the start\n");
	for (i = 0; i < 1500; i++)
		fmn_buf_addc(&lf, 'a' + i % 26);
	fmn_buf_adds(&lf, "= trailing space \n");
	n = notice(1, "s");
	n.long_form = lf.data;
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	h = headers_of(m);
	v = field(h, "Content-Transfer-Encoding");
	CHECK_STR(v, "quoted-printable");
	CHECK(strstr(m, "\r\nFrom ") == NULL);
	CHECK(strstr(m, "=46rom the start") != NULL);
	CHECK(strstr(m, "=3D trailing space=20\r\n") != NULL);
	{
		/* No encoded line longer than 76. */
		const char *p = strstr(m, "\r\n\r\n") + 4, *e;

		for (; (e = strstr(p, "\r\n")) != NULL; p = e + 2)
			CHECK(e - p <= 76);
	}
	free(v);
	free(h);
	free(m);
	fmn_buf_free(&lf);
	fmn_config_free(&cfg);
}

TEST(shell_quoting_in_footer)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	char *m;

	setup(&cfg);
	n = notice(1, "s");
	n.filter = "it's $HOME";
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && strstr(m, "fmnctl filter disable alice email "
	    "'it'\\''s $HOME'\r\n") != NULL);
	free(m);
	fmn_config_free(&cfg);
}

/*
 * With fmnd's API ([http] base_url), the confirmation carries the link
 * to its page and the footer says the commands work from the reader's
 * machine.
 */
TEST(confirmation_link_and_footer_with_the_api)
{
	struct fmn_config cfg;
	struct fmn_notice n;
	struct fmn_delivery d;
	char *m;

	setup(&cfg);
	cfg.http_base_url = xstrdup("https://fmn.example.org/");
	d = delivery(FMN_DELIVERY_CONFIRM, NULL, 0);
	d.secret = "3f2a9c0d5e6b7a8f";
	d.expires = T0 + 86400;
	m = render(&d, &cfg);
	CHECK(m != NULL && lines_ok(m));
	CHECK(m != NULL && strstr(m, "\r\n    https://fmn.example.org/confirm/"
	    "3f2a9c0d5e6b7a8f\r\n") != NULL);
	CHECK(m != NULL && strstr(m, "fmnctl dest confirm 3f2a9c0d5e6b7a8f"
	    "\r\n") != NULL);
	free(m);
	n = notice(1, "s");
	n.filter = "mine";
	d = delivery(FMN_DELIVERY_SINGLE, &n, 1);
	m = render(&d, &cfg);
	CHECK(m != NULL && strstr(m, "fmnctl filter disable alice email "
	    "\"mine\"\r\n") != NULL);
	CHECK(m != NULL && strstr(m, "(from your machine: fmnctl --server "
	    "https://fmn.example.org/ ...; how: https://fmn.example.org/)\r\n")
	    != NULL);
	free(m);
	fmn_config_free(&cfg);
}
