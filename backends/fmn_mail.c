/*
 * The e-mail formatter: a delivery (one notification, a digest or a
 * confirmation) rendered as an RFC 5322 / MIME text/plain message.
 *
 * Every piece of text that comes from the bus or the database goes
 * through one of two cleaners before it is written: header text loses
 * every control character (CR and LF included) and is RFC 2047 encoded
 * when it is not plain ASCII; body text keeps its line breaks but loses
 * other control characters, and the body is sent 7bit when it is ASCII
 * with short lines, quoted-printable otherwise. docs/email.md describes
 * the result.
 */
#include "fmn_mail.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fmn_msg.h"
#include "fmn_utf8.h"
#include "fmn_valid.h"

/* Headers we aim to keep under (RFC 5322 2.1.1 "SHOULD"). */
#define MAIL_LINE_SOFT		78
/* Longest word an ASCII header may carry unencoded; beyond it, RFC 2047. */
#define MAIL_WORD_MAX		900
/* Longest body line we send as 7bit (RFC 5322: 998 plus CRLF). */
#define MAIL_BODY_LINE_MAX	998
/* Quoted-printable encoded line length (RFC 2045 6.7). */
#define MAIL_QP_LINE		76
/* Payload bytes per "=?UTF-8?B?...?=" word (60 base64 chars, 72 in all). */
#define MAIL_EW_BYTES		45
/* At most this many headers of one X-Fedmsg-* name; then a count. */
#define MAIL_MAX_VALUES		20
/* Digest summary lines are cut at this many bytes. */
#define MAIL_SUMMARY_MAX	160
/*
 * Bus data has no length limit, headers must have one: an X-Fedmsg-* or
 * X-Fmn-Filter value is cut at this many characters, the subject at
 * MAIL_SUBJECT_MAX, the message id in the body at the longest intake
 * takes.
 */
#define MAIL_VALUE_MAX		256
#define MAIL_SUBJECT_MAX	512
#define MAIL_BODY_ID_MAX	FMN_MSG_ID_MAX

enum clean_mode {
	CLEAN_HEADER,		/* one line: controls become spaces, collapsed */
	CLEAN_BODY,		/* lines kept ("\n"), other controls dropped */
};

/* C0, DEL, C1 and the Unicode line and paragraph separators. */
static int
is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x2028 ||
	    cp == 0x2029;
}

/*
 * Append s to out as valid UTF-8 without control characters: invalid
 * bytes become U+FFFD. In header mode every control (and any run of
 * white space) becomes one space, and the ends are trimmed; in body mode
 * CR, LF and CRLF become "\n", tabs stay and other controls go.
 */
static void
clean_text(struct fmn_buf *out, const char *s, enum clean_mode mode)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");
	size_t n = strlen((const char *)p), i = 0, len;
	size_t start = out->len;
	int space = 0;
	uint32_t cp;

	while (i < n) {
		if ((len = fmn_utf8_decode((const char *)p + i, n - i, &cp)) == 0) {
			len = 1;
			cp = 0xfffd;
		}
		if (mode == CLEAN_HEADER) {
			if (cp == ' ' || is_control(cp)) {
				space = 1;
				i += len;
				continue;
			}
			if (space && out->len > start)
				fmn_buf_addc(out, ' ');
			space = 0;
		} else if (cp == '\r' || cp == '\n') {
			if (cp == '\r' && i + 1 < n && p[i + 1] == '\n')
				len = 2;
			fmn_buf_addc(out, '\n');
			i += len;
			continue;
		} else if (cp != '\t' && is_control(cp)) {
			i += len;
			continue;
		}
		if (cp == 0xfffd && len == 1)
			fmn_buf_adds(out, "\xef\xbf\xbd");
		else
			fmn_buf_add(out, p + i, len);
		i += len;
	}
}

/* A cleaned copy of s (header mode), caller frees. */
static char *
clean_header_dup(const char *s)
{
	struct fmn_buf b;

	fmn_buf_init(&b);
	clean_text(&b, s, CLEAN_HEADER);
	return fmn_buf_steal(&b);
}

static int
is_ascii(const char *s)
{
	for (; *s != '\0'; s++) {
		if ((unsigned char)*s >= 0x80)
			return 0;
	}
	return 1;
}

static void
base64_encode(struct fmn_buf *out, const unsigned char *p, size_t n)
{
	static const char tbl[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 |
		    p[i + 2];

		fmn_buf_addc(out, tbl[v >> 18 & 63]);
		fmn_buf_addc(out, tbl[v >> 12 & 63]);
		fmn_buf_addc(out, tbl[v >> 6 & 63]);
		fmn_buf_addc(out, tbl[v & 63]);
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;

		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		fmn_buf_addc(out, tbl[v >> 18 & 63]);
		fmn_buf_addc(out, tbl[v >> 12 & 63]);
		fmn_buf_addc(out, i + 1 < n ? tbl[v >> 6 & 63] : '=');
		fmn_buf_addc(out, '=');
	}
}

/*
 * Write "Name: value" CRLF where value is unstructured text already
 * cleaned (one line, valid UTF-8, no controls). ASCII text is folded at
 * spaces; anything else (non-ASCII, something that would read as an
 * encoded word, a word too long to fold) becomes RFC 2047 encoded words,
 * one per folded line, never splitting a UTF-8 sequence.
 */
static void
header_text(struct fmn_buf *out, const char *name, const char *value)
{
	const char *p, *w;
	size_t col, wlen;
	int encode = !is_ascii(value) || strstr(value, "=?") != NULL;

	for (p = value; !encode && *p != '\0'; p += wlen) {
		while (*p == ' ')
			p++;
		wlen = strcspn(p, " ");
		if (wlen > MAIL_WORD_MAX)
			encode = 1;
	}
	fmn_buf_printf(out, "%s:", name);
	col = strlen(name) + 1;
	if (!encode) {
		for (p = value; *p != '\0'; p = w + wlen) {
			w = p + strspn(p, " ");
			if ((wlen = strcspn(w, " ")) == 0)
				break;
			if (col + 1 + wlen > MAIL_LINE_SOFT &&
			    col > strlen(name) + 1) {
				fmn_buf_adds(out, "\r\n");
				col = 0;
			}
			fmn_buf_addc(out, ' ');
			fmn_buf_add(out, w, wlen);
			col += 1 + wlen;
		}
		fmn_buf_adds(out, "\r\n");
		return;
	}
	p = value;
	while (*p != '\0') {
		size_t take = 0, n = strlen(p);
		uint32_t cp;

		while (take < n) {
			size_t len = fmn_utf8_decode(p + take, n - take, &cp);

			if (len == 0)
				len = 1;	/* cannot happen once cleaned */
			if (take + len > MAIL_EW_BYTES)
				break;
			take += len;
		}
		if (p != value)
			fmn_buf_adds(out, "\r\n");
		fmn_buf_adds(out, " =?UTF-8?B?");
		base64_encode(out, (const unsigned char *)p, take);
		fmn_buf_adds(out, "?=");
		p += take;
	}
	fmn_buf_adds(out, "\r\n");
}

/*
 * Cut what was appended to b from start on (cleaned text: valid UTF-8)
 * to at most max characters, the last three "..." when it was longer.
 */
static void
cut_chars(struct fmn_buf *b, size_t start, size_t max)
{
	const char *s = b->data + start;
	size_t n = b->len - start;

	if (fmn_utf8_chars(s, n) <= max)
		return;
	b->len = start + fmn_utf8_prefix(s, n, max - 3);
	b->data[b->len] = '\0';
	fmn_buf_adds(b, "...");
}

/* Clean, cut to MAIL_VALUE_MAX, then write an unstructured header. */
static void
header_clean(struct fmn_buf *out, const char *name, const char *text)
{
	struct fmn_buf v;

	fmn_buf_init(&v);
	clean_text(&v, text, CLEAN_HEADER);
	cut_chars(&v, 0, MAIL_VALUE_MAX);
	header_text(out, name, v.data != NULL ? v.data : "");
	fmn_buf_free(&v);
}

static const char *const mail_days[] = {
	"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
};
static const char *const mail_months[] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct",
	"Nov", "Dec"
};

/* RFC 5322 date-time in UTC, independent of the locale. */
static void
format_rfc5322_date(struct fmn_buf *out, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL) {
		tt = 0;
		gmtime_r(&tt, &tm);
	}
	fmn_buf_printf(out, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    mail_days[tm.tm_wday], tm.tm_mday, mail_months[tm.tm_mon],
	    tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/* "2024-03-05 10:11:12 UTC", for people. */
static void
format_utc(struct fmn_buf *out, double t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL) {
		fmn_buf_adds(out, "(unknown)");
		return;
	}
	fmn_buf_printf(out, "%04d-%02d-%02d %02d:%02d:%02d UTC",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec);
}

char *
fmn_mail_envelope_from(const char *from)
{
	const char *lt, *gt;
	char *addr;

	if (from == NULL)
		return NULL;
	if ((lt = strrchr(from, '<')) != NULL &&
	    (gt = strchr(lt, '>')) != NULL)
		addr = xstrndup(lt + 1, (size_t)(gt - lt - 1));
	else {
		while (*from == ' ' || *from == '\t')
			from++;
		addr = xstrndup(from, strcspn(from, " \t"));
	}
	if (!fmn_valid_email(addr, NULL)) {
		free(addr);
		return NULL;
	}
	return addr;
}

/* The domain of the From address, for Message-IDs; "localhost" if none. */
static void
from_host(struct fmn_buf *out, const char *from)
{
	const char *at = from != NULL ? strrchr(from, '@') : NULL;
	size_t start = out->len;

	if (at != NULL) {
		for (at++; *at != '\0'; at++) {
			if ((*at >= 'a' && *at <= 'z') ||
			    (*at >= 'A' && *at <= 'Z') ||
			    (*at >= '0' && *at <= '9') || *at == '.' ||
			    *at == '-')
				fmn_buf_addc(out, *at);
			else
				break;
		}
	}
	if (out->len == start)
		fmn_buf_adds(out, "localhost");
}

/* 64-bit FNV-1a, to name a digest or a confirmation in its Message-ID. */
static uint64_t
fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= 0x100000001b3ULL;
	}
	return h;
}
#define FNV_INIT 0xcbf29ce484222325ULL

static void
message_id(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_config *cfg)
{
	uint64_t h = FNV_INIT;
	size_t i;

	fmn_buf_adds(out, "Message-ID: <fmn.");
	switch (d->kind) {
	case FMN_DELIVERY_SINGLE:
		fmn_buf_printf(out, "%lld.%lld",
		    d->n_notices > 0 ? d->notices[0].notification_id : 0LL,
		    d->destination_id);
		break;
	case FMN_DELIVERY_DIGEST:
		for (i = 0; i < d->n_notices; i++) {
			long long id = d->notices[i].notification_id;

			h = fnv1a(h, &id, sizeof(id));
		}
		fmn_buf_printf(out, "digest.%lld.%lld.%016llx",
		    d->n_notices > 0 ? d->notices[0].notification_id : 0LL,
		    d->destination_id, (unsigned long long)h);
		break;
	case FMN_DELIVERY_CONFIRM:
		if (d->secret != NULL)
			h = fnv1a(h, d->secret, strlen(d->secret));
		fmn_buf_printf(out, "confirm.%lld.%016llx",
		    d->destination_id, (unsigned long long)h);
		break;
	}
	fmn_buf_addc(out, '@');
	from_host(out, cfg->mail_from);
	fmn_buf_adds(out, ">\r\n");
}

/*
 * Quote s for a POSIX shell so that the command in a footer can be
 * pasted as is: bare when it is made of safe characters, in double
 * quotes when nothing in it is special there, else in single quotes.
 */
static void
shell_quote(struct fmn_buf *out, const char *s, int always)
{
	const char *p;

	if (!always && *s != '\0' &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "0123456789_.,:/@%+=-") == strlen(s)) {
		fmn_buf_adds(out, s);
		return;
	}
	if (strpbrk(s, "\"$`\\!") == NULL) {
		fmn_buf_printf(out, "\"%s\"", s);
		return;
	}
	fmn_buf_addc(out, '\'');
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'')
			fmn_buf_adds(out, "'\\''");
		else
			fmn_buf_addc(out, *p);
	}
	fmn_buf_addc(out, '\'');
}

/* BASE_URL followed by path, without a doubled slash. */
static void
base_link(struct fmn_buf *out, const char *base, const char *path)
{
	char *b = clean_header_dup(base);
	size_t n = strlen(b);

	while (n > 0 && b[n - 1] == '/')
		b[--n] = '\0';
	fmn_buf_adds(out, b);
	fmn_buf_adds(out, path);
	free(b);
}

static const char *
ctx_of(const struct fmn_delivery *d)
{
	return d->context != NULL && *d->context != '\0' ? d->context : "email";
}

/* A sorted, deduplicated list of strings borrowed from the delivery. */
struct strlist {
	const char	**v;
	size_t		  n;
	size_t		  cap;
};

static void
strlist_add(struct strlist *l, const char *s)
{
	if (s == NULL || *s == '\0')
		return;
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n++] = s;
}

static int
strlist_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
strlist_finish(struct strlist *l)
{
	size_t i, j;

	if (l->n == 0)
		return;
	qsort(l->v, l->n, sizeof(*l->v), strlist_cmp);
	for (i = 1, j = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j - 1]) != 0)
			l->v[j++] = l->v[i];
	}
	l->n = j;
}

/*
 * One header per distinct value, at most MAIL_MAX_VALUES of them; when
 * there are more, a count header says how many there were in all.
 */
static void
header_values(struct fmn_buf *out, const char *name, const char *count_name,
    struct strlist *l)
{
	size_t i;

	strlist_finish(l);
	for (i = 0; i < l->n && i < MAIL_MAX_VALUES; i++)
		header_clean(out, name, l->v[i]);
	if (l->n > MAIL_MAX_VALUES && count_name != NULL)
		fmn_buf_printf(out, "%s: %zu\r\n", count_name, l->n);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static void
strlist_add_set(struct strlist *l, const struct fmn_strset *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		strlist_add(l, s->v[i]);
}

/* The X-Fedmsg-* headers for the notices shown in the mail. */
static void
fedmsg_headers(struct fmn_buf *out, const struct fmn_notice *nv, size_t n)
{
	struct strlist ids = { 0 }, topics = { 0 }, cats = { 0 };
	struct strlist users = { 0 }, pkgs = { 0 }, filters = { 0 };
	size_t i;

	for (i = 0; i < n; i++) {
		strlist_add(&ids, nv[i].msg_id);
		strlist_add(&topics, nv[i].topic);
		strlist_add(&cats, nv[i].category);
		strlist_add_set(&users, nv[i].usernames);
		strlist_add_set(&pkgs, nv[i].packages);
		strlist_add(&filters, nv[i].filter);
	}
	header_values(out, "X-Fedmsg-Id", "X-Fedmsg-Num-Ids", &ids);
	header_values(out, "X-Fedmsg-Topic", "X-Fedmsg-Num-Topics", &topics);
	header_values(out, "X-Fedmsg-Category", "X-Fedmsg-Num-Categories",
	    &cats);
	header_values(out, "X-Fedmsg-Username", "X-Fedmsg-Num-Usernames",
	    &users);
	header_values(out, "X-Fedmsg-Package", "X-Fedmsg-Num-Packages", &pkgs);
	header_values(out, "X-Fmn-Filter", "X-Fmn-Num-Filters", &filters);
}

/* "a, b, c" from a set, cleaned for one body line. */
static void
body_set(struct fmn_buf *out, const struct fmn_strset *s)
{
	size_t i;

	for (i = 0; s != NULL && i < s->n; i++) {
		if (i > 0)
			fmn_buf_adds(out, ", ");
		clean_text(out, s->v[i], CLEAN_HEADER);
	}
}

/* Text of a notice as a paragraph of the body, without trailing newlines. */
static void
body_text(struct fmn_buf *out, const char *text)
{
	clean_text(out, text, CLEAN_BODY);
	while (out->len > 0 && out->data[out->len - 1] == '\n')
		out->data[--out->len] = '\0';
	fmn_buf_adds(out, "\n\n");
}

/*
 * The text of one notice, then its details. A single mail has the
 * subtitle as its subject, so its body starts with the long form
 * (verbose) or the subtitle. A digest entry (in_digest) is headed by its
 * subtitle, who did what, with the long form under it.
 */
static void
body_notice(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_notice *nt, int in_digest)
{
	const char *sub = nt->subtitle != NULL && *nt->subtitle != '\0' ?
	    nt->subtitle : nt->topic;
	const char *lf = d->verbose && nt->long_form != NULL &&
	    *nt->long_form != '\0' ? nt->long_form : NULL;

	if (in_digest) {
		body_text(out, sub);
		if (lf != NULL && strcmp(lf, sub) != 0)
			body_text(out, lf);
	} else
		body_text(out, lf != NULL ? lf : sub);
	fmn_buf_adds(out, "When:     ");
	format_utc(out, nt->timestamp);
	fmn_buf_addc(out, '\n');
	if (nt->link != NULL && *nt->link != '\0') {
		fmn_buf_adds(out, "Link:     ");
		clean_text(out, nt->link, CLEAN_HEADER);
		fmn_buf_addc(out, '\n');
	}
	fmn_buf_adds(out, "Topic:    ");
	clean_text(out, nt->topic, CLEAN_HEADER);
	fmn_buf_addc(out, '\n');
	if (d->verbose) {
		if (nt->usernames != NULL && nt->usernames->n > 0) {
			fmn_buf_adds(out, "Users:    ");
			body_set(out, nt->usernames);
			fmn_buf_addc(out, '\n');
		}
		if (nt->packages != NULL && nt->packages->n > 0) {
			fmn_buf_adds(out, "Packages: ");
			body_set(out, nt->packages);
			fmn_buf_addc(out, '\n');
		}
		if (nt->msg_id != NULL) {
			size_t at;

			fmn_buf_adds(out, "Id:       ");
			at = out->len;
			clean_text(out, nt->msg_id, CLEAN_HEADER);
			cut_chars(out, at, MAIL_BODY_ID_MAX);
			fmn_buf_addc(out, '\n');
		}
	}
	if (in_digest && nt->filter != NULL) {
		fmn_buf_adds(out, "Filter:   \"");
		clean_text(out, nt->filter, CLEAN_HEADER);
		fmn_buf_adds(out, "\"\n");
	}
}

/* The footer: which filters fired, and the commands that change them. */
static void
body_footer(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_config *cfg, const struct fmn_notice *nv, size_t n)
{
	struct strlist filters = { 0 };
	char *user = clean_header_dup(d->user != NULL ? d->user : "");
	struct fmn_buf q;
	size_t i;

	fmn_buf_init(&q);
	for (i = 0; i < n; i++)
		strlist_add(&filters, nv[i].filter);
	strlist_finish(&filters);
	fmn_buf_adds(out, "\n-- \n");
	if (filters.n == 1) {
		fmn_buf_adds(out, "You received this because your filter \"");
		clean_text(out, filters.v[0], CLEAN_HEADER);
		fmn_buf_printf(out, "\" (%s) matched.\n", ctx_of(d));
	} else if (filters.n > 1) {
		fmn_buf_printf(out, "You received this because these filters "
		    "of yours (%s) matched:\n", ctx_of(d));
		for (i = 0; i < filters.n && i < MAIL_MAX_VALUES; i++) {
			fmn_buf_adds(out, "  \"");
			clean_text(out, filters.v[i], CLEAN_HEADER);
			fmn_buf_adds(out, "\"\n");
		}
	}
	for (i = 0; i < filters.n && i < MAIL_MAX_VALUES; i++) {
		char *name = clean_header_dup(filters.v[i]);

		fmn_buf_reset(&q);
		shell_quote(&q, name, 1);
		free(name);
		fmn_buf_adds(out, i == 0 ? "To stop it:          " :
		    "                     ");
		fmn_buf_adds(out, "fmnctl filter disable ");
		shell_quote(out, user, 0);
		fmn_buf_printf(out, " %s %s\n", ctx_of(d), q.data);
	}
	fmn_buf_adds(out, "To stop all of them: fmnctl pref set ");
	shell_quote(out, user, 0);
	fmn_buf_printf(out, " %s --disable\n", ctx_of(d));
	/* With the API, the same commands work from the reader's machine. */
	if (cfg->http_base_url != NULL && *cfg->http_base_url != '\0') {
		fmn_buf_adds(out, "(from your machine: fmnctl --server ");
		clean_text(out, cfg->http_base_url, CLEAN_HEADER);
		fmn_buf_adds(out, " ...; how: ");
		base_link(out, cfg->http_base_url, "/");
		fmn_buf_adds(out, ")\n");
	}
	if (cfg->base_url != NULL && *cfg->base_url != '\0') {
		fmn_buf_adds(out, "Your settings:       ");
		clean_text(out, cfg->base_url, CLEAN_HEADER);
		fmn_buf_addc(out, '\n');
	}
	fmn_buf_free(&q);
	free(filters.v);
	free(user);
}

/* Cut b to at most max bytes, at a UTF-8 character boundary. */
static void
buf_cut_utf8(struct fmn_buf *b, size_t max)
{
	b->len = fmn_utf8_cut(b->data, b->len, max);
	b->data[b->len] = '\0';
}

static void
body_digest(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_config *cfg, size_t *shown)
{
	size_t n = d->n_notices, i, total = 0, omitted;
	size_t max_entries = cfg->digest_max_entries > 0 ?
	    (size_t)cfg->digest_max_entries : n;
	size_t max_bytes = cfg->digest_max_bytes > 0 ?
	    (size_t)cfg->digest_max_bytes : (size_t)-1;
	struct fmn_buf *entries, *lines;
	int cut_bytes = 0, cut_count = 0;

	if (n > max_entries) {
		n = max_entries;
		cut_count = 1;
	}
	entries = xcalloc(n ? n : 1, sizeof(*entries));
	lines = xcalloc(n ? n : 1, sizeof(*lines));
	for (i = 0; i < n; i++) {
		const struct fmn_notice *nt = &d->notices[i];
		const char *s = nt->subtitle != NULL && *nt->subtitle != '\0' ?
		    nt->subtitle : nt->topic;

		fmn_buf_init(&lines[i]);
		clean_text(&lines[i], s, CLEAN_HEADER);
		if (lines[i].len > MAIL_SUMMARY_MAX) {
			buf_cut_utf8(&lines[i], MAIL_SUMMARY_MAX - 3);
			fmn_buf_adds(&lines[i], "...");
		}
		fmn_buf_init(&entries[i]);
		body_notice(&entries[i], d, nt, 1);
		if (total + lines[i].len + entries[i].len + 100 > max_bytes) {
			if (i > 0) {
				fmn_buf_free(&lines[i]);
				fmn_buf_free(&entries[i]);
				n = i;
				cut_bytes = 1;
				break;
			}
			/* The first entry alone is too big: cut its text. */
			buf_cut_utf8(&entries[i], max_bytes / 2);
			fmn_buf_adds(&entries[i], "\n[... cut: too long]\n");
			cut_bytes = 1;
		}
		total += lines[i].len + entries[i].len + 100;
	}
	omitted = d->n_omitted + (d->n_notices - n);
	fmn_buf_printf(out, "%zu notification%s", n + omitted,
	    n + omitted == 1 ? "" : "s");
	if (omitted > 0)
		fmn_buf_printf(out, ", %zu shown below", n);
	fmn_buf_adds(out, ":\n\n");
	for (i = 0; i < n; i++)
		fmn_buf_printf(out, "%3zu. %s\n", i + 1, lines[i].data);
	if (omitted > 0)
		fmn_buf_printf(out, "\n[%zu more notification%s left out of this "
		    "digest]\n", omitted, omitted == 1 ? " was" : "s were");
	for (i = 0; i < n; i++) {
		fmn_buf_adds(out, "\n----------------------------------------"
		    "------------------------------\n");
		fmn_buf_printf(out, "%zu. ", i + 1);
		fmn_buf_add(out, entries[i].data, entries[i].len);
		fmn_buf_free(&entries[i]);
		fmn_buf_free(&lines[i]);
	}
	if (omitted > 0) {
		fmn_buf_adds(out, "\n----------------------------------------"
		    "------------------------------\n");
		fmn_buf_printf(out, "Note: %zu more notification%s left out of "
		    "this digest", omitted, omitted == 1 ? " was" : "s were");
		if (cut_count || cut_bytes || d->n_omitted > 0)
			fmn_buf_printf(out, " because of the digest limits (at "
			    "most %d entries, %ld bytes)", cfg->digest_max_entries,
			    cfg->digest_max_bytes);
		fmn_buf_adds(out, ". They are not sent again.\n");
	}
	free(entries);
	free(lines);
	*shown = n;
}

static void
body_confirm(struct fmn_buf *out, const struct fmn_delivery *d,
    const struct fmn_config *cfg)
{
	char *secret = clean_header_dup(d->secret != NULL ? d->secret : "");

	fmn_buf_adds(out, "Someone, hopefully you, asked fmn to send the "
	    "notifications of the\naccount ");
	clean_text(out, d->user, CLEAN_HEADER);
	fmn_buf_adds(out, " to this address (");
	clean_text(out, d->address, CLEAN_HEADER);
	if (cfg->http_base_url != NULL && *cfg->http_base_url != '\0') {
		/* The secret is hex: nothing in it needs escaping in a URL. */
		fmn_buf_adds(out, ").\n\nTo confirm, open this link and press "
		    "the button on the page:\n\n    ");
		base_link(out, cfg->http_base_url, "/confirm/");
		fmn_buf_adds(out, secret);
		fmn_buf_adds(out, "\n\nor run:\n\n    fmnctl dest confirm ");
	} else
		fmn_buf_adds(out, ").\n\nTo confirm, run:\n\n    fmnctl dest "
		    "confirm ");
	shell_quote(out, secret, 0);
	fmn_buf_adds(out, "\n\nThe secret is: ");
	fmn_buf_adds(out, secret);
	fmn_buf_adds(out, "\nIt expires at ");
	format_utc(out, d->expires);
	fmn_buf_adds(out, ".\n\nUntil then nothing else is sent to this "
	    "address. If you did not ask\nfor this, ignore this message.\n");
	free(secret);
}

/* Does the body need quoted-printable (non-ASCII or a long line)? */
static int
body_needs_qp(const char *s, size_t n)
{
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		if ((unsigned char)s[i] >= 0x80)
			return 1;
		if (s[i] == '\n')
			col = 0;
		else if (++col > MAIL_BODY_LINE_MAX)
			return 1;
	}
	return 0;
}

/* Body with "\n" lines to CRLF lines, unchanged otherwise (7bit). */
static void
body_7bit(struct fmn_buf *out, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (s[i] == '\n')
			fmn_buf_adds(out, "\r\n");
		else
			fmn_buf_addc(out, s[i]);
	}
}

/*
 * Quoted-printable (RFC 2045 6.7) of a body with "\n" lines: lines of at
 * most 76 characters with soft breaks, trailing white space encoded, and
 * "From " at the start of a line encoded so mbox readers leave it alone.
 */
static void
body_qp(struct fmn_buf *out, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t i, col = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char enc[4];
		size_t len;
		int last = i + 1 == n || s[i + 1] == '\n';

		if (c == '\n') {
			fmn_buf_adds(out, "\r\n");
			col = 0;
			continue;
		}
		if ((c >= 33 && c <= 126 && c != '=') ||
		    ((c == ' ' || c == '\t') && !last)) {
			enc[0] = (char)c;
			len = 1;
		} else {
			enc[0] = '=';
			enc[1] = hex[c >> 4];
			enc[2] = hex[c & 15];
			len = 3;
		}
		if (col == 0 && c == 'F' && n - i >= 5 &&
		    memcmp(s + i, "From ", 5) == 0) {
			memcpy(enc, "=46", 3);
			len = 3;
		}
		/* Keep room for the "=" of a soft break unless the line ends. */
		if (col + len > (last ? MAIL_QP_LINE : MAIL_QP_LINE - 1)) {
			fmn_buf_adds(out, "=\r\n");
			col = 0;
		}
		fmn_buf_add(out, enc, len);
		col += len;
	}
}

int
fmn_mail_format(const struct fmn_delivery *d, const struct fmn_config *cfg,
    double now, struct fmn_buf *out, char **cause)
{
	struct fmn_buf body, subject;
	char *from, *why = NULL;
	size_t shown = d->n_notices;
	int qp;

	/*
	 * The check fmnctl applied; a row stored before it was this strict
	 * fails here, permanently, with the same reason.
	 */
	if (!fmn_valid_email(d->address, &why)) {
		fmn_set_cause(cause, "not a usable e-mail address: %s", why);
		free(why);
		return -1;
	}
	if (d->kind != FMN_DELIVERY_CONFIRM && d->n_notices == 0) {
		fmn_set_cause(cause, "nothing to send");
		return -1;
	}
	if (d->kind == FMN_DELIVERY_CONFIRM &&
	    (d->secret == NULL || *d->secret == '\0')) {
		fmn_set_cause(cause, "confirmation without a secret");
		return -1;
	}
	fmn_buf_init(&body);
	fmn_buf_init(&subject);
	switch (d->kind) {
	case FMN_DELIVERY_SINGLE:
		body_notice(&body, d, &d->notices[0], 0);
		body_footer(&body, d, cfg, d->notices, 1);
		clean_text(&subject, d->notices[0].subtitle != NULL &&
		    *d->notices[0].subtitle != '\0' ? d->notices[0].subtitle :
		    d->notices[0].topic, CLEAN_HEADER);
		shown = 1;
		break;
	case FMN_DELIVERY_DIGEST:
		body_digest(&body, d, cfg, &shown);
		body_footer(&body, d, cfg, d->notices, shown);
		fmn_buf_printf(&subject, "fmn: %zu notification%s",
		    d->n_notices + d->n_omitted,
		    d->n_notices + d->n_omitted == 1 ? "" : "s");
		break;
	case FMN_DELIVERY_CONFIRM:
		body_confirm(&body, d, cfg);
		fmn_buf_adds(&subject, "fmn: confirm notifications for ");
		clean_text(&subject, d->user, CLEAN_HEADER);
		break;
	}

	fmn_buf_adds(out, "Date: ");
	format_rfc5322_date(out, now);
	fmn_buf_adds(out, "\r\n");
	from = clean_header_dup(cfg->mail_from);
	if (is_ascii(from) && strlen(from) < MAIL_WORD_MAX)
		fmn_buf_printf(out, "From: %s\r\n", from);
	else {
		char *addr = fmn_mail_envelope_from(cfg->mail_from);

		fmn_buf_printf(out, "From: %s\r\n", addr != NULL ? addr :
		    "fmn@localhost");
		free(addr);
	}
	free(from);
	fmn_buf_printf(out, "To: %s\r\n", d->address);
	cut_chars(&subject, 0, MAIL_SUBJECT_MAX);
	header_text(out, "Subject", subject.data != NULL ? subject.data : "");
	message_id(out, d, cfg);
	fmn_buf_adds(out, "MIME-Version: 1.0\r\n");
	fmn_buf_adds(out, "Content-Type: text/plain; charset=utf-8\r\n");
	qp = body_needs_qp(body.data, body.len);
	fmn_buf_printf(out, "Content-Transfer-Encoding: %s\r\n",
	    qp ? "quoted-printable" : "7bit");
	fmn_buf_adds(out, "Precedence: bulk\r\n");
	fmn_buf_adds(out, "Auto-Submitted: auto-generated\r\n");
	fmn_buf_adds(out, "X-Auto-Response-Suppress: All\r\n");
	if (d->kind == FMN_DELIVERY_CONFIRM)
		fmn_buf_adds(out, "X-Fmn-Kind: confirm\r\n");
	else {
		fmn_buf_printf(out, "X-Fmn-Kind: %s\r\n",
		    d->kind == FMN_DELIVERY_DIGEST ? "digest" : "single");
		if (d->kind == FMN_DELIVERY_DIGEST)
			fmn_buf_printf(out, "X-Fmn-Count: %zu\r\n",
			    d->n_notices + d->n_omitted);
		fedmsg_headers(out, d->notices, shown);
	}
	fmn_buf_adds(out, "\r\n");
	if (qp)
		body_qp(out, body.data, body.len);
	else
		body_7bit(out, body.data, body.len);
	fmn_buf_free(&body);
	fmn_buf_free(&subject);
	return 0;
}
