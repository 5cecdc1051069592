/*
 * The INI configuration: defaults, the file (libinih, a small parser
 * Debian keeps), and single-key overrides from the command line.
 */
#include "fmn_config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_util.h"
#include "fmn_version.h"

enum key_type { K_STR, K_LIST, K_INT, K_LONG, K_DOUBLE, K_BOOL };

/* A string key's own check: NULL when value is fine, else why not. */
typedef const char *(*key_check)(const char *value);

struct key {
	const char	*section;
	const char	*name;
	enum key_type	 type;
	size_t		 off;		/* of the field in struct fmn_config */
	size_t		 count_off;	/* K_LIST: of the count */
	double		 min, max;	/* numeric bounds */
	const char	*words;		/* K_STR: the only values allowed, "a|b|c" */
	key_check	 check;		/* K_STR: or this check */
};

static const char *
check_smtp(const char *v)
{
	if (strncmp(v, "smtp://", 7) == 0 || strncmp(v, "smtps://", 8) == 0) {
		if (v[strcspn(v, ":") + 3] == '\0')
			return "expected smtp://HOST:PORT: no host";
		return NULL;
	}
	if ((strncmp(v, "mbox:", 5) == 0 && v[5] != '\0') ||
	    (strncmp(v, "capture:", 8) == 0 && v[8] != '\0'))
		return NULL;
	return "expected smtp://HOST:PORT, smtps://HOST:PORT, mbox:PATH or "
	    "capture:PATH";
}

static const char *
check_irc(const char *v)
{
	if (strncmp(v, "capture:", 8) == 0)
		return v[8] != '\0' ? NULL : "capture: needs a PATH";
	if (strstr(v, "://") != NULL || strchr(v, ' ') != NULL)
		return "expected HOST:PORT (or capture:PATH)";
	return NULL;
}

/* ADDR:PORT, [ADDR6]:PORT or :PORT (every address). */
static const char *
check_listen(const char *v)
{
	const char *colon = strrchr(v, ':');
	char *end;
	long port;

	if (colon == NULL)
		return "expected ADDR:PORT";
	if (*v == '[' && (colon == v || colon[-1] != ']'))
		return "expected [ADDR]:PORT for an IPv6 address";
	port = strtol(colon + 1, &end, 10);
	if (colon[1] == '\0' || *end != '\0' || port < 0 || port > 65535)
		return "the port is not a number from 0 to 65535";
	return NULL;
}

static const char *
check_http_url(const char *v)
{
	if ((strncmp(v, "http://", 7) == 0 && v[7] != '\0') ||
	    (strncmp(v, "https://", 8) == 0 && v[8] != '\0'))
		return NULL;
	return "expected http://HOST[:PORT][/PATH] or https://...";
}

#define F(f) offsetof(struct fmn_config, f)
static const struct key keys[] = {
	{ "store", "db", K_STR, F(db_path), 0, 0, 0, NULL, NULL },
	{ "store", "retention", K_LONG, F(retention), 0, 0, 3650.0 * 86400, NULL, NULL },
	{ "bus", "endpoint", K_LIST, F(endpoints), F(n_endpoints), 0, 0, NULL, NULL },
	{ "bus", "subscribe", K_LIST, F(subscriptions), F(n_subscriptions), 0, 0, NULL, NULL },
	{ "bus", "max_message_size", K_LONG, F(max_message_size), 0, 1024, 1 << 30, NULL, NULL },
	{ "bus", "receive_hwm", K_INT, F(rcvhwm), 0, 0, INT_MAX, NULL, NULL },
	{ "bus", "max_pending_bytes", K_LONG, F(max_pending_bytes), 0, 1 << 20, 1099511627776.0, NULL, NULL },
	{ "bus", "validate_signatures", K_BOOL, F(validate_signatures), 0, 0, 0, NULL, NULL },
	{ "bus", "ca_cert", K_STR, F(ca_cert), 0, 0, 0, NULL, NULL },
	{ "bus", "crl", K_STR, F(crl), 0, 0, 0, NULL, NULL },
	{ "bus", "routing_policy", K_STR, F(routing_policy), 0, 0, 0, NULL, NULL },
	{ "bus", "routing_nitpicky", K_BOOL, F(routing_nitpicky), 0, 0, 0, NULL, NULL },
	{ "facts", "definitions", K_STR, F(definitions), 0, 0, 0, NULL, NULL },
	{ "email", "smtp", K_STR, F(smtp_url), 0, 0, 0, NULL, check_smtp },
	{ "email", "from", K_STR, F(mail_from), 0, 0, 0, NULL, NULL },
	{ "email", "username", K_STR, F(smtp_user), 0, 0, 0, NULL, NULL },
	{ "email", "password", K_STR, F(smtp_password), 0, 0, 0, NULL, NULL },
	{ "email", "starttls", K_STR, F(starttls), 0, 0, 0, "no|try|required", NULL },
	{ "email", "timeout", K_INT, F(smtp_timeout), 0, 1, 3600, NULL, NULL },
	{ "email", "ca_file", K_STR, F(smtp_ca_file), 0, 0, 0, NULL, NULL },
	{ "email", "connections", K_INT, F(smtp_connections), 0, 1, 64, NULL, NULL },
	{ "irc", "server", K_STR, F(irc_server), 0, 0, 0, NULL, check_irc },
	{ "irc", "nick", K_STR, F(irc_nick), 0, 0, 0, NULL, NULL },
	{ "irc", "password", K_STR, F(irc_password), 0, 0, 0, NULL, NULL },
	{ "irc", "nickserv_password", K_STR, F(irc_nickserv), 0, 0, 0, NULL, NULL },
	{ "irc", "line_interval", K_DOUBLE, F(irc_line_interval), 0, 0, 60, NULL, NULL },
	{ "irc", "burst", K_INT, F(irc_burst), 0, 1, 1000, NULL, NULL },
	{ "irc", "digest_lines", K_INT, F(irc_digest_lines), 0, 1, 1000, NULL, NULL },
	{ "irc", "max_age", K_INT, F(irc_max_age), 0, 0, 365 * 86400, NULL, NULL },
	{ "irc", "reconnect_max", K_INT, F(irc_reconnect_max), 0, 1, 86400, NULL, NULL },
	{ "delivery", "retry_initial", K_INT, F(retry_initial), 0, 0, 86400, NULL, NULL },
	{ "delivery", "retry_max", K_INT, F(retry_max), 0, 1, 86400, NULL, NULL },
	{ "delivery", "max_attempts", K_INT, F(max_attempts), 0, 0, INT_MAX, NULL, NULL },
	{ "delivery", "digest_max_entries", K_INT, F(digest_max_entries), 0, 1, 100000, NULL, NULL },
	{ "delivery", "digest_max_bytes", K_LONG, F(digest_max_bytes), 0, 1024, 1 << 30, NULL, NULL },
	{ "delivery", "confirm_expiry", K_INT, F(confirm_expiry), 0, 60, 365 * 86400, NULL, NULL },
	{ "delivery", "base_url", K_STR, F(base_url), 0, 0, 0, NULL, NULL },
	{ "log", "level", K_STR, F(log_level), 0, 0, 0, "error|warning|info|debug", NULL },
	{ "http", "listen", K_STR, F(http_listen), 0, 0, 0, NULL, check_listen },
	{ "http", "threads", K_INT, F(http_threads), 0, 1, 64, NULL, NULL },
	{ "http", "base_url", K_STR, F(http_base_url), 0, 0, 0, NULL, check_http_url },
	{ "http", "allow_insecure", K_STR, F(http_allow_insecure), 0, 0, 0, "no|yes", NULL },
	{ "catchup", "url", K_STR, F(catchup_url), 0, 0, 0, NULL, check_http_url },
	{ "catchup", "margin", K_INT, F(catchup_margin), 0, 0, 86400, NULL, NULL },
	{ "catchup", "max_age", K_LONG, F(catchup_max_age), 0, 60, 3650.0 * 86400, NULL, NULL },
};
#undef F

void
fmn_config_init(struct fmn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->db_path = NULL;	/* resolved by the caller: $FMN_DB, ./fmn.db */
	c->retention = 30L * 86400;
	c->max_message_size = 1048576;
	c->rcvhwm = 1000;
	c->max_pending_bytes = 256L << 20;
	/* Off for the demo's embedded bus; production turns it on. */
	c->validate_signatures = 0;
	c->routing_nitpicky = 0;
	c->smtp_url = xstrdup("mbox:fmn.mbox");
	c->mail_from = xstrdup("fmn@localhost");
	c->starttls = xstrdup("try");
	c->smtp_timeout = 30;
	c->smtp_connections = 4;
	c->irc_nick = xstrdup("fmn");
	c->irc_line_interval = 0.6;
	c->irc_burst = 4;
	c->irc_digest_lines = 10;
	c->irc_max_age = 86400;
	c->irc_reconnect_max = 300;
	c->retry_initial = 1;
	c->retry_max = 60;
	c->max_attempts = 0;
	c->digest_max_entries = 50;
	c->digest_max_bytes = 262144;
	c->confirm_expiry = 86400;
	c->log_level = xstrdup("info");
	c->http_threads = 2;
	c->http_allow_insecure = xstrdup("no");
	c->catchup_margin = 60;
	c->catchup_max_age = 86400;
}

/* Is value one of the words "a|b|c"? */
static int
config_word_in(const char *value, const char *words)
{
	size_t n = strlen(value);
	const char *w = words;

	for (;;) {
		size_t wl = strcspn(w, "|");

		if (wl == n && strncmp(w, value, n) == 0)
			return 1;
		if (w[wl] == '\0')
			return 0;
		w += wl + 1;
	}
}

int
fmn_config_set(struct fmn_config *c, const char *section, const char *name,
    const char *value, char **cause)
{
	const struct key *k = NULL;
	char *base = (char *)c, *end;
	size_t i;
	double d;

	for (i = 0; i < FMN_NELEM(keys); i++) {
		if (strcmp(keys[i].section, section) == 0 &&
		    strcmp(keys[i].name, name) == 0) {
			k = &keys[i];
			break;
		}
	}
	if (k == NULL) {
		fmn_set_cause(cause, "unknown key [%s] %s", section, name);
		return -1;
	}
	switch (k->type) {
	case K_STR: {
		char **p = (char **)(base + k->off);
		const char *why = NULL;

		if (*value != '\0' && k->words != NULL &&
		    !config_word_in(value, k->words)) {
			fmn_set_cause(cause, "[%s] %s: \"%s\" is not one of "
			    "%s", section, name, value, k->words);
			return -1;
		}
		if (*value != '\0' && k->check != NULL &&
		    (why = k->check(value)) != NULL) {
			fmn_set_cause(cause, "[%s] %s: \"%s\": %s", section,
			    name, value, why);
			return -1;
		}
		free(*p);
		*p = *value != '\0' ? xstrdup(value) : NULL;
		return 0;
	}
	case K_LIST: {
		char **v = (char **)(base + k->off);
		size_t *n = (size_t *)(base + k->count_off);

		if (*n >= FMN_CONFIG_MAX_LIST) {
			fmn_set_cause(cause, "[%s] %s: at most %d values",
			    section, name, FMN_CONFIG_MAX_LIST);
			return -1;
		}
		v[(*n)++] = xstrdup(value);
		return 0;
	}
	case K_BOOL: {
		int *p = (int *)(base + k->off);

		if (config_word_in(value, "yes|true|on|1"))
			*p = 1;
		else if (config_word_in(value, "no|false|off|0"))
			*p = 0;
		else {
			fmn_set_cause(cause, "[%s] %s: \"%s\" is not yes or "
			    "no", section, name, value);
			return -1;
		}
		return 0;
	}
	default:
		break;
	}
	errno = 0;
	d = strtod(value, &end);
	/* !(d >= min) also refuses NaN, which compares false to anything. */
	if (errno != 0 || end == value || *end != '\0' || !isfinite(d) ||
	    !(d >= k->min) || !(d <= k->max) ||
	    (k->type != K_DOUBLE && d != (double)(long)d)) {
		fmn_set_cause(cause, "[%s] %s: \"%s\" is not a %s between "
		    "%.15g and %.15g", section, name, value,
		    k->type == K_DOUBLE ? "number" : "whole number", k->min,
		    k->max);
		return -1;
	}
	if (k->type == K_INT)
		*(int *)(base + k->off) = (int)d;
	else if (k->type == K_LONG)
		*(long *)(base + k->off) = (long)d;
	else
		*(double *)(base + k->off) = d;
	return 0;
}

struct load_state {
	struct fmn_config	*c;
	FILE			*f;
	int			 line;	/* read so far */
	char			*error;	/* the first thing refused */
	int			 error_line;
};

static int
config_section_known(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < FMN_NELEM(keys); i++)
		if (strlen(keys[i].section) == len &&
		    strncmp(keys[i].section, name, len) == 0)
			return 1;
	return 0;
}

/*
 * inih's line reader, which also sees section lines: inih itself only
 * reports keys, so an unknown section with no key in it would pass.
 */
static char *
config_reader(char *buf, int size, void *arg)
{
	struct load_state *ls = arg;
	char *p, *end;

	if (fgets(buf, size, ls->f) == NULL)
		return NULL;
	ls->line++;
	for (p = buf; isspace((unsigned char)*p); p++)
		;
	if (*p != '[' || ls->error != NULL)
		return buf;
	p++;
	if ((end = strchr(p, ']')) == NULL)
		return buf;	/* inih reports the syntax error */
	while (p < end && isspace((unsigned char)*p))
		p++;
	while (end > p && isspace((unsigned char)end[-1]))
		end--;
	if (!config_section_known(p, (size_t)(end - p))) {
		ls->error = xasprintf("unknown section [%.*s]",
		    (int)(end - p), p);
		ls->error_line = ls->line;
	}
	return buf;
}

/* Returning 0 makes inih report this line as the first error. */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct load_state *ls = arg;

	if (ls->error != NULL)
		return 1;
	if (fmn_config_set(ls->c, section, name, value, &ls->error) != 0) {
		ls->error_line = ls->line;
		return 0;
	}
	return 1;
}

int
fmn_config_load(struct fmn_config *c, const char *path, char **cause)
{
	struct load_state ls;
	int rc;

	memset(&ls, 0, sizeof(ls));
	ls.c = c;
	if ((ls.f = fopen(path, "r")) == NULL) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = ini_parse_stream(config_reader, &ls, config_handler, &ls);
	if (ferror(ls.f) && ls.error == NULL && rc == 0) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		fclose(ls.f);
		return -1;
	}
	fclose(ls.f);
	if (ls.error != NULL) {
		fmn_set_cause(cause, "%s:%d: %s", path, ls.error_line,
		    ls.error);
		free(ls.error);
		return -1;
	}
	if (rc != 0) {
		fmn_set_cause(cause, "%s:%d: syntax error", path, rc);
		return -1;
	}
	return 0;
}

void
fmn_config_free(struct fmn_config *c)
{
	size_t i, j;
	char *base = (char *)c;

	for (i = 0; i < FMN_NELEM(keys); i++) {
		if (keys[i].type == K_STR) {
			char **p = (char **)(base + keys[i].off);

			free(*p);
			*p = NULL;
		} else if (keys[i].type == K_LIST) {
			char **v = (char **)(base + keys[i].off);
			size_t *n = (size_t *)(base + keys[i].count_off);

			for (j = 0; j < *n; j++)
				free(v[j]);
			*n = 0;
		}
	}
}

void
fmn_config_copy(struct fmn_config *dst, const struct fmn_config *src)
{
	const char *sbase = (const char *)src;
	char *dbase = (char *)dst;
	size_t i, j;

	*dst = *src;	/* numbers; the strings are duplicated below */
	for (i = 0; i < FMN_NELEM(keys); i++) {
		if (keys[i].type == K_STR) {
			const char *v = *(char *const *)(sbase + keys[i].off);

			*(char **)(dbase + keys[i].off) = v != NULL ?
			    xstrdup(v) : NULL;
		} else if (keys[i].type == K_LIST) {
			char *const *v = (char *const *)(sbase + keys[i].off);
			char **w = (char **)(dbase + keys[i].off);
			size_t n = *(const size_t *)(sbase +
			    keys[i].count_off);

			for (j = 0; j < n; j++)
				w[j] = xstrdup(v[j]);
		}
	}
}

const char *
fmn_config_default_path(void)
{
	const char *p = getenv("FMN_CONFIG");

	if (p != NULL)
		return *p != '\0' ? p : NULL;
	return access(FMN_DEFAULT_CONFIG, F_OK) == 0 ? FMN_DEFAULT_CONFIG :
	    NULL;
}
