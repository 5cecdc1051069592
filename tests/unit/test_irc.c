/*
 * The IRC backend's pure parts: sanitising, splitting and formatting
 * text, nick rules, the token bucket and its fair queue, the bot's
 * commands against a real (temporary) database.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_irc_cmd.h"
#include "fmn_irc_flood.h"
#include "fmn_irc_text.h"
#include "fmn_store.h"
#include "fmn_test.h"
#include "fmn_utf8.h"
#include "fmn_util.h"

static char *
sanitized(const char *s)
{
	struct fmn_buf b;

	fmn_buf_init(&b);
	fmn_irc_sanitize(&b, s);
	fmn_buf_addc(&b, '\0');
	return fmn_buf_steal(&b);
}

/* No byte below 0x20 but the formatter's own bold, colour and reset. */
static int
only_own_codes(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c < 0x20 && c != 0x02 && c != 0x03 && c != 0x0f) ||
		    c == 0x7f)
			return 0;
	}
	return 1;
}

static void
join_lines(const struct fmn_irc_lines *l, struct fmn_buf *out, const char *sep)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			fmn_buf_adds(out, sep);
		fmn_buf_adds(out, l->v[i]);
	}
}

TEST(split_at_utf8_boundaries)
{
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf in, joined;
	size_t i, max;

	fmn_buf_init(&in);
	fmn_buf_init(&joined);
	/* 2-, 3- and 4-byte characters, no spaces: every cut is a hard one. */
	for (i = 0; i < 200; i++)
		fmn_buf_adds(&in, i % 3 == 0 ? "\xc3\xa9" : i % 3 == 1 ?
		    "\xe6\x97\xa5" : "\xf0\x9f\x98\x80");
	for (max = 16; max <= 64; max += 7) {
		fmn_irc_lines_free(&l);
		fmn_buf_reset(&joined);
		fmn_irc_split(in.data, max, &l);
		CHECK(l.n > 1);
		for (i = 0; i < l.n; i++) {
			CHECK(strlen(l.v[i]) <= max);
			CHECK(strlen(l.v[i]) > 0);
			CHECK(fmn_utf8_valid(l.v[i], strlen(l.v[i])));
		}
		join_lines(&l, &joined, "");
		CHECK_STR(joined.data, in.data);
	}
	fmn_irc_lines_free(&l);
	fmn_buf_free(&in);
	fmn_buf_free(&joined);
}

TEST(split_prefers_spaces_and_fits_protocol)
{
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf in, joined;
	size_t i, max = fmn_irc_text_max(9, 16), relay;

	fmn_buf_init(&in);
	fmn_buf_init(&joined);
	for (i = 0; i < 300; i++)
		fmn_buf_printf(&in, "%sw\xc3\xb6rd%zu", i ? " " : "", i);
	fmn_irc_split(in.data, max, &l);
	CHECK(l.n >= 4);
	for (i = 0; i < l.n; i++) {
		/* ":nick!~user@host PRIVMSG target :text\r\n", worst case. */
		relay = 1 + 9 + 1 + 11 + 1 + 63 + 9 + 16 + 2 + strlen(l.v[i]) + 2;
		CHECK(relay <= 512);
		CHECK(l.v[i][0] != ' ');
		CHECK(l.v[i][strlen(l.v[i]) - 1] != ' ');
		CHECK(fmn_utf8_valid(l.v[i], strlen(l.v[i])));
	}
	join_lines(&l, &joined, " ");
	CHECK_STR(joined.data, in.data);	/* cut only at spaces */
	CHECK(fmn_irc_text_max(9, 16) >= 350);
	CHECK(fmn_irc_text_max(200, 200) == 64);
	fmn_irc_lines_free(&l);
	fmn_buf_free(&in);
	fmn_buf_free(&joined);
}

TEST(sanitize_removes_crlf_nul_and_controls)
{
	char *s;

	s = sanitized("hi\r\nQUIT :bye\rPRIVMSG #x :y\n");
	CHECK_STR(s, "hi  QUIT :bye PRIVMSG #x :y ");
	free(s);
	s = sanitized("\001ACTION x\001 \002b\003" "04c\017\026\037\x7f\ttab");
	CHECK_STR(s, "ACTION x b04c tab");
	free(s);
	/* C1 controls go, invalid UTF-8 becomes U+FFFD, the rest stays. */
	s = sanitized("a\xc2\x85" "b\xff" "c\xe2\x82\xac\xc0\xaf");
	CHECK_STR(s, "ab\xef\xbf\xbd" "c\xe2\x82\xac\xef\xbf\xbd\xef\xbf\xbd");
	free(s);
	s = sanitized("");
	CHECK_STR(s, "");
	free(s);
}

/* The code point cp as UTF-8 (cp is at most U+FFFF here). */
static void
utf8_of(uint32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		out[1] = '\0';
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		out[2] = '\0';
	} else {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		out[3] = '\0';
	}
}

/* Code points that must never reach a PRIVMSG line, and what they become. */
static const struct {
	uint32_t	 cp;
	const char	*as;
} hostile[] = {
	{ 0x202a, "" }, { 0x202b, "" }, { 0x202c, "" }, { 0x202d, "" },
	{ 0x202e, "" },			/* embeddings, PDF, overrides */
	{ 0x2066, "" }, { 0x2067, "" }, { 0x2068, "" }, { 0x2069, "" },
	{ 0x200e, "" }, { 0x200f, "" }, { 0x061c, "" },	/* marks */
	{ 0x2028, " " }, { 0x2029, " " },	/* line, paragraph separator */
	{ 0x200b, "" }, { 0x2060, "" }, { 0xfeff, "" },	/* zero width */
	{ 0x206a, "" }, { 0x206f, "" }, { 0xfff9, "" }, { 0xfffb, "" },
};

/* Does s hold any of the hostile code points as UTF-8? */
static int
has_hostile(const char *s)
{
	char u[8];
	size_t i;

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		utf8_of(hostile[i].cp, u);
		if (strstr(s, u) != NULL)
			return 1;
	}
	return 0;
}

TEST(sanitize_drops_bidi_controls_and_separators)
{
	char u[8], in[32], want[32], *s;
	size_t i;
	/* Neighbours and joiners that are ordinary text and stay. */
	static const uint32_t kept[] = { 0x061b, 0x200c, 0x200d, 0x2027,
	    0x202f, 0x2065, 0x2070, 0xfefe, 0xfffc, 0xfffd, 0x05d0 };

	for (i = 0; i < sizeof(hostile) / sizeof(*hostile); i++) {
		utf8_of(hostile[i].cp, u);
		snprintf(in, sizeof(in), "evil%stxt.exe", u);
		snprintf(want, sizeof(want), "evil%stxt.exe", hostile[i].as);
		s = sanitized(in);
		if (strcmp(s, want) != 0)
			fprintf(stderr, "U+%04X\n", (unsigned)hostile[i].cp);
		CHECK_STR(s, want);
		CHECK(!has_hostile(s));
		free(s);
	}
	for (i = 0; i < sizeof(kept) / sizeof(*kept); i++) {
		utf8_of(kept[i], u);
		snprintf(in, sizeof(in), "a%sb", u);
		s = sanitized(in);
		CHECK_STR(s, in);
		free(s);
	}
	/* All of them at once, around a classic spoof. */
	s = sanitized("\xe2\x80\xaeinvoice\xe2\x81\xa6\xe2\x80\xa8"
	    "fdp.exe\xef\xbb\xbf\xe2\x80\x8b\xd8\x9c");
	CHECK_STR(s, "invoice fdp.exe");
	free(s);
}

TEST(format_drops_bidi_controls_from_every_field)
{
	struct fmn_notice n = { 0 };
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf all;
	size_t i;

	n.topic = "org.fedoraproject.prod.wiki.article.edit";
	n.category = "wi\xe2\x80\xaeki";
	n.subtitle = "kevin\xe2\x80\xae made\xe2\x80\xa8" "an edit"
	    "\xe2\x80\xa9\xe2\x81\xa7to \xe2\x80\x8f\"x\"\xef\xbb\xbf";
	n.link = "https://example.org/\xe2\x80\xaeTest\xe2\x80\xa8";
	d.kind = FMN_DELIVERY_SINGLE;
	d.address = "alice";
	d.verbose = 1;
	d.notices = &n;
	d.n_notices = 1;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.v[0], "[wiki] kevin made an edit to \"x\" "
	    "https://example.org/Test ");
	fmn_irc_lines_free(&l);

	/* With colours, and in a digest. */
	d.markup = 1;
	d.kind = FMN_DELIVERY_DIGEST;
	d.n_omitted = 1;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 3);
	fmn_buf_init(&all);
	join_lines(&l, &all, "|");
	CHECK(!has_hostile(all.data));
	CHECK(strstr(all.data, "kevin made an edit") != NULL);
	fmn_buf_free(&all);
	fmn_irc_lines_free(&l);

	/* A confirmation: the account name and the secret. */
	memset(&d, 0, sizeof(d));
	d.kind = FMN_DELIVERY_CONFIRM;
	d.user = "ali\xe2\x80\xae" "ce";
	d.address = "alice";
	d.secret = "s3c\xe2\x80\xa8r3t\xe2\x81\xa9";
	fmn_irc_format(&d, 10, NULL, 400, &l);
	fmn_buf_init(&all);
	join_lines(&l, &all, "|");
	CHECK(!has_hostile(all.data));
	CHECK(strstr(all.data, "account alice asked") != NULL);
	CHECK(strstr(all.data, "confirm s3c r3t") != NULL);
	for (i = 0; i < l.n; i++)
		CHECK(only_own_codes(l.v[i]));
	fmn_buf_free(&all);
	fmn_irc_lines_free(&l);
}

TEST(format_keeps_commands_as_text)
{
	struct fmn_notice n = { 0 };
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };
	char nul[] = "before\0\r\nQUIT :after";
	size_t i;

	n.topic = "org.fedoraproject.prod.bodhi.update.comment";
	n.category = "bodhi";
	n.subtitle = "x\r\nQUIT :pwned\r\nPRIVMSG victim :hello\n\001VERSION\001";
	n.link = "https://example.org/\r\nJOIN #evil";
	d.kind = FMN_DELIVERY_SINGLE;
	d.address = "alice";
	d.verbose = 1;
	d.notices = &n;
	d.n_notices = 1;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 1);
	for (i = 0; i < l.n; i++) {
		CHECK(strchr(l.v[i], '\r') == NULL);
		CHECK(strchr(l.v[i], '\n') == NULL);
		CHECK(strchr(l.v[i], '\001') == NULL);
		CHECK(only_own_codes(l.v[i]));
	}
	CHECK_STR(l.v[0], "[bodhi] x  QUIT :pwned  PRIVMSG victim :hello "
	    "VERSION https://example.org/  JOIN #evil");
	fmn_irc_lines_free(&l);

	/* A NUL ends the C string: nothing after it can be sent. */
	n.subtitle = nul;
	n.link = NULL;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_STR(l.v[0], "[bodhi] before");
	fmn_irc_lines_free(&l);
}

TEST(format_colour_markup)
{
	struct fmn_notice n = { 0 };
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };

	n.topic = "org.fedoraproject.prod.buildsys.build.state.change";
	n.category = "buildsys";
	n.subtitle = "kevin's ansible-1.8.3-1.el7 completed";
	n.link = "https://koji.example/b/1";
	d.kind = FMN_DELIVERY_SINGLE;
	d.verbose = 1;
	d.notices = &n;
	d.n_notices = 1;

	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_STR(l.v[0], "[buildsys] kevin's ansible-1.8.3-1.el7 completed "
	    "https://koji.example/b/1");
	CHECK(only_own_codes(l.v[0]));
	CHECK(strchr(l.v[0], 0x03) == NULL);
	fmn_irc_lines_free(&l);

	d.markup = 1;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_STR(l.v[0], "\003" "06[buildsys]\017 kevin's ansible-1.8.3-1.el7 "
	    "completed \003" "12https://koji.example/b/1\017");
	fmn_irc_lines_free(&l);

	/* Not verbose: no category tag; no subtitle: the topic. */
	d.verbose = 0;
	d.markup = 0;
	n.subtitle = NULL;
	n.link = NULL;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_STR(l.v[0], n.topic);
	fmn_irc_lines_free(&l);
}

TEST(split_carries_colour_over)
{
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf in;
	size_t i;

	fmn_buf_init(&in);
	fmn_buf_adds(&in, "\002\003" "12");
	for (i = 0; i < 40; i++)
		fmn_buf_adds(&in, "abcdefghij");
	fmn_buf_adds(&in, "\017 plain");
	fmn_irc_split(in.data, 100, &l);
	CHECK(l.n >= 5);
	for (i = 0; i < l.n; i++) {
		CHECK(strlen(l.v[i]) <= 100);
		if (i + 1 < l.n)
			CHECK(strncmp(l.v[i], "\002\003" "12", 4) == 0);
	}
	/* A colour code is never cut: no line ends in \003 or \0031. */
	for (i = 0; i < l.n; i++) {
		size_t n = strlen(l.v[i]);

		CHECK(l.v[i][n - 1] != 0x03);
		CHECK(!(n >= 2 && l.v[i][n - 2] == 0x03));
	}
	fmn_irc_lines_free(&l);
	fmn_buf_free(&in);
}

static struct fmn_notice *
make_notices(size_t n)
{
	struct fmn_notice *v = xcalloc(n, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++) {
		v[i].topic = "org.fedoraproject.prod.git.receive";
		v[i].category = "git";
		v[i].subtitle = xasprintf("push number %zu", i + 1);
		v[i].link = NULL;
	}
	return v;
}

static void
free_notices(struct fmn_notice *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free((char *)v[i].subtitle);
	free(v);
}

TEST(digest_and_k_more)
{
	struct fmn_notice *v = make_notices(25);
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };

	d.kind = FMN_DELIVERY_DIGEST;
	d.verbose = 0;
	d.notices = v;
	d.n_notices = 25;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 12);
	CHECK_STR(l.v[0], "fmn digest: 25 notifications");
	CHECK_STR(l.v[1], "- push number 1");
	CHECK_STR(l.v[10], "- push number 10");
	CHECK_STR(l.v[11], "and 15 more");
	fmn_irc_lines_free(&l);

	/* Entries the daemon already cut count as more. */
	d.n_omitted = 5;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_STR(l.v[0], "fmn digest: 30 notifications");
	CHECK_STR(l.v[11], "and 20 more");
	fmn_irc_lines_free(&l);

	/* Within the limit: no "more" line. */
	d.n_notices = 3;
	d.n_omitted = 0;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 4);
	CHECK_STR(l.v[3], "- push number 3");
	fmn_irc_lines_free(&l);

	/* A digest of one reads as a single notification. */
	d.n_notices = 1;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK_INT(l.n, 1);
	CHECK_STR(l.v[0], "push number 1");
	fmn_irc_lines_free(&l);
	free_notices(v, 25);
}

TEST(digest_entry_is_one_line)
{
	struct fmn_notice *v = make_notices(2);
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf big;
	size_t i;

	fmn_buf_init(&big);
	for (i = 0; i < 100; i++)
		fmn_buf_adds(&big, "\xe2\x82\xac long ");
	free((char *)v[0].subtitle);
	v[0].subtitle = fmn_buf_steal(&big);
	d.kind = FMN_DELIVERY_DIGEST;
	d.notices = v;
	d.n_notices = 2;
	fmn_irc_format(&d, 10, NULL, 120, &l);
	CHECK_INT(l.n, 3);
	CHECK(strlen(l.v[1]) <= 120);
	CHECK(strcmp(l.v[1] + strlen(l.v[1]) - 3, "...") == 0);
	CHECK(fmn_utf8_valid(l.v[1], strlen(l.v[1])));
	fmn_irc_lines_free(&l);
	free_notices(v, 2);
}

TEST(confirm_message)
{
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf all;

	d.kind = FMN_DELIVERY_CONFIRM;
	d.user = "alice";
	d.address = "alice";
	d.secret = "s3cr3t\r\nQUIT";
	d.expires = 1700000000;
	fmn_irc_format(&d, 10, NULL, 400, &l);
	CHECK(l.n >= 2);
	fmn_buf_init(&all);
	join_lines(&l, &all, "|");
	CHECK(strstr(all.data, "account alice") != NULL);
	CHECK(strstr(all.data, "confirm s3cr3t  QUIT") != NULL);
	CHECK(strstr(all.data, "fmnctl dest confirm s3cr3t  QUIT") != NULL);
	CHECK(strstr(all.data, "2023-11-14 22:13 UTC") != NULL);
	CHECK(only_own_codes(all.data));
	fmn_buf_free(&all);
	fmn_irc_lines_free(&l);
}

TEST(nick_rules)
{
	CHECK(fmn_irc_nick_valid("alice"));
	CHECK(fmn_irc_nick_valid("[m]ark_-1"));
	CHECK(fmn_irc_nick_valid("`x{}|^\\"));
	CHECK(!fmn_irc_nick_valid(""));
	CHECK(!fmn_irc_nick_valid("#fedora"));
	CHECK(!fmn_irc_nick_valid("a b"));
	CHECK(!fmn_irc_nick_valid("a,b"));
	CHECK(!fmn_irc_nick_valid("a\r\nQUIT"));
	CHECK(!fmn_irc_nick_valid("1abc"));
	CHECK(!fmn_irc_nick_valid("-abc"));
	CHECK(!fmn_irc_nick_valid("a:b"));
	CHECK(fmn_irc_casecmp("Alice[]\\~", "alice{}|^",
	    FMN_IRC_CASEMAP_RFC1459) == 0);
	CHECK(fmn_irc_casecmp("Alice[]\\", "alice{}|",
	    FMN_IRC_CASEMAP_STRICT) == 0);
	CHECK(fmn_irc_casecmp("a~", "a^", FMN_IRC_CASEMAP_STRICT) != 0);
	CHECK(fmn_irc_casecmp("Alice", "aLICE", FMN_IRC_CASEMAP_ASCII) == 0);
	CHECK(fmn_irc_casecmp("a[", "a{", FMN_IRC_CASEMAP_ASCII) != 0);
	CHECK(fmn_irc_casemap_parse("ascii") == FMN_IRC_CASEMAP_ASCII);
	CHECK(fmn_irc_casemap_parse("weird") == FMN_IRC_CASEMAP_RFC1459);
}

TEST(token_bucket_burst_then_interval)
{
	struct fmn_irc_bucket b;
	int i;

	fmn_irc_bucket_init(&b, 4, 0.6, 1000);
	for (i = 0; i < 4; i++)
		CHECK(fmn_irc_bucket_take(&b, 1000));
	CHECK(!fmn_irc_bucket_take(&b, 1000));
	CHECK_INT(fmn_irc_bucket_wait(&b, 1000), 601);
	CHECK(!fmn_irc_bucket_take(&b, 1599));
	CHECK(fmn_irc_bucket_take(&b, 1600));
	CHECK(!fmn_irc_bucket_take(&b, 1600));
	/* Idle time refills up to the burst, no more. */
	for (i = 0; i < 4; i++)
		CHECK(fmn_irc_bucket_take(&b, 100000));
	CHECK(!fmn_irc_bucket_take(&b, 100000));
	fmn_irc_bucket_refund(&b);
	CHECK(fmn_irc_bucket_take(&b, 100000));
	/* 0 s: unlimited. */
	fmn_irc_bucket_init(&b, 1, 0, 0);
	for (i = 0; i < 100; i++)
		CHECK(fmn_irc_bucket_take(&b, 0));
}

TEST(token_bucket_fair_across_targets)
{
	struct fmn_irc_queue *q = fmn_irc_queue_new();
	struct fmn_irc_bucket b;
	struct fmn_irc_line *l;
	int64_t now = 0;
	int i, sent = 0, first_a = -1, first_b = -1, busy_before = 0;
	char text[32];

	for (i = 0; i < 100; i++) {
		snprintf(text, sizeof(text), "busy %d", i);
		fmn_irc_queue_push(q, "Busy", "busy", text, 1);
	}
	fmn_irc_queue_push(q, "Ann", "ann", "for ann", 2);
	fmn_irc_queue_push(q, "Bob", "bob", "for bob 1", 3);
	fmn_irc_queue_push(q, "bob", "bob", "for bob 2", 3);
	CHECK_INT(fmn_irc_queue_targets(q), 3);
	CHECK_INT(fmn_irc_queue_lines(q), 103);
	CHECK_INT(fmn_irc_queue_target_lines(q, "bob"), 2);

	/* Drain through the bucket as the backend does, 100 ms steps. */
	fmn_irc_bucket_init(&b, 4, 0.6, now);
	while (fmn_irc_queue_lines(q) > 0 && now < 120000) {
		while (fmn_irc_queue_lines(q) > 0 &&
		    fmn_irc_bucket_take(&b, now)) {
			l = fmn_irc_queue_pop(q);
			if (l->tag == 2 && first_a < 0)
				first_a = sent;
			if (l->tag == 3 && first_b < 0)
				first_b = sent;
			if (l->tag == 1 && first_b < 0)
				busy_before++;
			sent++;
			fmn_irc_line_free(l);
		}
		now += 100;
	}
	CHECK_INT(sent, 103);
	CHECK(first_a >= 0 && first_a < 3);
	CHECK(first_b >= 0 && first_b < 3);
	CHECK(busy_before <= 1);
	/* 103 lines: 4 at once, then one per 600 ms. */
	CHECK(now >= 99 * 600 && now <= 99 * 600 + 200);
	fmn_irc_queue_destroy(&q);
	CHECK(q == NULL);
}

TEST(reply_budget_counts_lines_per_window)
{
	struct fmn_irc_budget b;
	int64_t t;
	int i;

	/* A stranger: 3 one-line replies, then nothing till the window ends. */
	memset(&b, 0, sizeof(b));
	CHECK(fmn_irc_budget_idle(&b, 0, 60000));
	for (i = 0; i < 3; i++)
		CHECK(fmn_irc_budget_take(&b, 1000 + i, 60000, 3, 1));
	for (t = 1003; t < 61000; t += 997)
		CHECK(!fmn_irc_budget_take(&b, t, 60000, 3, 1));
	CHECK(!fmn_irc_budget_idle(&b, 60999, 60000));
	CHECK(!fmn_irc_budget_take(&b, 60999, 60000, 3, 1));
	/* Silence does not move the window: it ends a minute after it began. */
	CHECK(fmn_irc_budget_idle(&b, 61000, 60000));
	CHECK(fmn_irc_budget_take(&b, 61000, 60000, 3, 1));
	CHECK(fmn_irc_budget_take(&b, 61001, 60000, 3, 2));
	CHECK(!fmn_irc_budget_take(&b, 61002, 60000, 3, 1));

	/* A window may begin at time 0 of the clock. */
	memset(&b, 0, sizeof(b));
	CHECK(fmn_irc_budget_take(&b, 0, 60000, 3, 3));
	CHECK(!fmn_irc_budget_take(&b, 1, 60000, 3, 1));

	/* An owner: a long first answer goes whole, later ones if they fit. */
	memset(&b, 0, sizeof(b));
	CHECK(fmn_irc_budget_take(&b, 5000, 60000, 30, 45));
	CHECK(!fmn_irc_budget_take(&b, 5001, 60000, 30, 1));
	memset(&b, 0, sizeof(b));
	CHECK(fmn_irc_budget_take(&b, 5000, 60000, 30, 22));
	CHECK(fmn_irc_budget_take(&b, 5001, 60000, 30, 3));
	CHECK(!fmn_irc_budget_take(&b, 5002, 60000, 30, 22));
	CHECK(fmn_irc_budget_take(&b, 5003, 60000, 30, 5));
	CHECK(!fmn_irc_budget_take(&b, 5004, 60000, 30, 1));
	CHECK(fmn_irc_budget_take(&b, 65000, 60000, 30, 22));
}

TEST(queue_drop_and_unpop)
{
	struct fmn_irc_queue *q = fmn_irc_queue_new();
	struct fmn_irc_line *l;

	fmn_irc_queue_push(q, "a", "a", "a1", 1);
	fmn_irc_queue_push(q, "a", "a", "a2", 2);
	fmn_irc_queue_push(q, "b", "b", "b1", 1);
	fmn_irc_queue_push(q, "c", "c", "c1", 3);
	CHECK_INT(fmn_irc_queue_drop_tag(q, 1), 2);
	CHECK_INT(fmn_irc_queue_lines(q), 2);
	CHECK_INT(fmn_irc_queue_targets(q), 2);
	l = fmn_irc_queue_pop(q);
	CHECK_STR(l->text, "a2");
	fmn_irc_queue_unpop(q, "a", l);
	l = fmn_irc_queue_pop(q);
	CHECK_STR(l->text, "a2");
	fmn_irc_line_free(l);
	l = fmn_irc_queue_pop(q);
	CHECK_STR(l->text, "c1");
	fmn_irc_line_free(l);
	CHECK(fmn_irc_queue_pop(q) == NULL);
	fmn_irc_queue_push(q, "d", "d", "d1", 4);
	fmn_irc_queue_clear(q);
	CHECK_INT(fmn_irc_queue_lines(q), 0);
	fmn_irc_queue_destroy(&q);
}

/* A database with alice (irc nick Alice[m], preference, a filter) and bob pending. */
static sqlite3 *
cmd_db(char *path, size_t size)
{
	sqlite3 *db;
	char *cause = NULL;
	int fd;

	snprintf(path, size, "/tmp/fmn-test-irc-XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	close(fd);
	unlink(path);
	db = fmn_store_open(path, &cause);
	if (db == NULL) {
		fprintf(stderr, "store: %s\n", cause);
		abort();
	}
	CHECK(fmn_store_exec(db,
	    "INSERT INTO users (id, name, created) VALUES (1, 'alice', 0), "
	    "(2, 'bob', 0);"
	    "INSERT INTO destinations (user_id, context, address, confirmed, "
	    "created) VALUES (1, 'irc', 'Alice[m]', 1, 0);"
	    "INSERT INTO destinations (user_id, context, address, confirmed, "
	    "secret, expires, created) VALUES "
	    "(2, 'irc', 'bob', 0, 'good-secret', 4000000000, 0);"
	    "INSERT INTO preferences (id, user_id, context, enabled) VALUES "
	    "(1, 1, 'irc', 1);"
	    "INSERT INTO filters (id, preference_id, name, position) VALUES "
	    "(1, 1, 'my packages', 1);"
	    "INSERT INTO rules (filter_id, position, kind, argument, negated) "
	    "VALUES (1, 1, 'owned', 'alice', 0), (1, 2, 'user', 'alice', 1);",
	    &cause) == 0);
	return db;
}

static int
pref_enabled(sqlite3 *db)
{
	sqlite3_stmt *st;
	int v = -1;

	sqlite3_prepare_v2(db, "SELECT enabled FROM preferences WHERE id = 1",
	    -1, &st, NULL);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static char *
cmd(sqlite3 *db, const char *nick, const char *text,
    enum fmn_irc_cmd_who *who)
{
	struct fmn_irc_lines l = { NULL, 0, 0 };
	struct fmn_buf b;
	char *cause = NULL;
	enum fmn_irc_cmd_who w;

	CHECK_INT(fmn_irc_cmd_handle(db, FMN_IRC_CASEMAP_RFC1459, nick, text,
	    NULL, 1000, &l, &w, &cause), 0);
	free(cause);
	/* A stranger's reply is one line: its budget counts lines. */
	if (w == FMN_IRC_CMD_STRANGER || w == FMN_IRC_CMD_CONFIRMED)
		CHECK_INT(l.n, 1);
	if (who != NULL)
		*who = w;
	fmn_buf_init(&b);
	join_lines(&l, &b, "|");
	fmn_buf_addc(&b, '\0');
	fmn_irc_lines_free(&l);
	return fmn_buf_steal(&b);
}

TEST(commands_from_owner)
{
	char path[64], *r;
	sqlite3 *db = cmd_db(path, sizeof(path));
	enum fmn_irc_cmd_who who;

	r = cmd(db, "alice{M}", "help", &who);	/* rfc1459 folding */
	CHECK(who == FMN_IRC_CMD_OWNER);
	CHECK(strstr(r, "stop") != NULL && strstr(r, "confirm") != NULL);
	free(r);
	r = cmd(db, "Alice[m]", "  STOP ", &who);
	CHECK(strstr(r, "stopped") != NULL);
	CHECK_INT(pref_enabled(db), 0);
	free(r);
	r = cmd(db, "Alice[m]", "\002start\017", &who);
	CHECK(strstr(r, "on again") != NULL);
	CHECK_INT(pref_enabled(db), 1);
	free(r);
	r = cmd(db, "Alice[m]", "list filters", &who);
	CHECK_STR(r, "IRC filters of alice:|1. my packages: owned:alice "
	    "!user:alice");
	free(r);
	r = cmd(db, "Alice[m]", "frobnicate", &who);
	CHECK(strstr(r, "help") != NULL && who == FMN_IRC_CMD_OWNER);
	free(r);
	sqlite3_close(db);
	unlink(path);
}

TEST(commands_refused_from_others)
{
	char path[64], *r, *r2;
	sqlite3 *db = cmd_db(path, sizeof(path));
	enum fmn_irc_cmd_who who;

	r = cmd(db, "mallory", "stop", &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK(strstr(r, "Sorry") != NULL);
	CHECK(strstr(r, "alice") == NULL);
	CHECK_INT(pref_enabled(db), 1);
	r2 = cmd(db, "mallory", "list filters", &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK_STR(r2, r);	/* the same answer whatever was asked */
	free(r2);
	/* A pending (unconfirmed) nick may confirm, nothing else. */
	r2 = cmd(db, "bob", "help", &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK_STR(r2, r);
	free(r2);
	/* Whatever a stranger sends, it is answered as one, in a line. */
	r2 = cmd(db, "mallory", "frobnicate \xe2\x80\xae now", &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK_STR(r2, r);
	free(r2);
	r2 = cmd(db, "mallory", "confirm 00112233445566778899aabbccddeeff",
	    &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK(strstr(r2, "not valid") != NULL);
	free(r2);
	r2 = cmd(db, "mallory", "confirm", &who);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	free(r2);
	/* An owner's wrong code is an owner's reply. */
	r2 = cmd(db, "alice[m]", "confirm nope", &who);
	CHECK(who == FMN_IRC_CMD_OWNER);
	CHECK(strstr(r2, "not valid") != NULL);
	free(r2);
	free(r);
	sqlite3_close(db);
	unlink(path);
}

TEST(confirm_by_secret)
{
	char path[64], *r, *wrong;
	sqlite3 *db = cmd_db(path, sizeof(path));
	sqlite3_stmt *st;
	enum fmn_irc_cmd_who who;

	wrong = cmd(db, "bob", "confirm bad-secret", &who);
	CHECK(strstr(wrong, "not valid") != NULL);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	/* Another nick with the right secret: the same answer, no effect. */
	r = cmd(db, "mallory", "confirm good-secret", &who);
	CHECK_STR(r, wrong);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	free(r);
	r = cmd(db, "BOB", "confirm  good-secret ", &who);
	CHECK(strstr(r, "Confirmed") != NULL);
	CHECK(who == FMN_IRC_CMD_CONFIRMED);
	CHECK(strstr(r, "bob") != NULL);
	free(r);
	sqlite3_prepare_v2(db, "SELECT confirmed, secret IS NULL FROM "
	    "destinations WHERE user_id = 2", -1, &st, NULL);
	CHECK(sqlite3_step(st) == SQLITE_ROW);
	CHECK_INT(sqlite3_column_int(st, 0), 1);
	CHECK_INT(sqlite3_column_int(st, 1), 1);
	sqlite3_finalize(st);
	/* Now bob owns the nick. */
	r = cmd(db, "bob", "help", &who);
	CHECK(who == FMN_IRC_CMD_OWNER);
	free(r);
	/* Expired secrets do not work. */
	CHECK(fmn_store_exec(db, "UPDATE destinations SET confirmed = 0, "
	    "secret = 'old', expires = 10 WHERE user_id = 2", NULL) == 0);
	r = cmd(db, "bob", "confirm old", &who);
	CHECK_STR(r, wrong);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	free(r);
	free(wrong);
	sqlite3_close(db);
	unlink(path);
}

/*
 * With fmnd's API ([http] base_url): the confirmation carries its link,
 * a stranger's one line says how to get started, an owner's help where
 * to edit filters.
 */
TEST(api_links_in_confirmation_and_replies)
{
	struct fmn_delivery d = { 0 };
	struct fmn_irc_lines l = { NULL, 0, 0 };
	const char *base = "https://fmn.example.org";
	struct fmn_buf all;
	char path[64], *cause = NULL;
	sqlite3 *db = cmd_db(path, sizeof(path));
	enum fmn_irc_cmd_who who;

	d.kind = FMN_DELIVERY_CONFIRM;
	d.user = "alice";
	d.address = "alice";
	d.secret = "0123abcd";
	d.expires = 1700000000;
	fmn_irc_format(&d, 10, "https://fmn.example.org/", 400, &l);
	fmn_buf_init(&all);
	join_lines(&l, &all, "|");
	CHECK(strstr(all.data, "confirm 0123abcd (or open "
	    "https://fmn.example.org/confirm/0123abcd)") != NULL);
	fmn_irc_lines_free(&l);
	CHECK_INT(fmn_irc_cmd_handle(db, FMN_IRC_CASEMAP_RFC1459, "mallory",
	    "help", base, 1000, &l, &who, &cause), 0);
	CHECK(who == FMN_IRC_CMD_STRANGER);
	CHECK_INT(l.n, 1);
	CHECK(l.n == 1 && strstr(l.v[0], "fmnctl --server "
	    "https://fmn.example.org dest add YOURNAME irc YOURNICK") != NULL);
	CHECK(l.n == 1 && strlen(l.v[0]) < 300);
	fmn_irc_lines_free(&l);
	CHECK_INT(fmn_irc_cmd_handle(db, FMN_IRC_CASEMAP_RFC1459, "alice{M}",
	    "help", base, 1000, &l, &who, &cause), 0);
	CHECK(who == FMN_IRC_CMD_OWNER);
	fmn_buf_reset(&all);
	join_lines(&l, &all, "|");
	CHECK(strstr(all.data, "fmnctl --server https://fmn.example.org") !=
	    NULL);
	fmn_irc_lines_free(&l);
	fmn_buf_free(&all);
	free(cause);
	sqlite3_close(db);
	unlink(path);
}
