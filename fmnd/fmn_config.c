/*
 * The INI configuration: defaults, the file (libinih, a small parser
 * Debian keeps), and single-key overrides from the command line.
 */
#include "fmn_config.h"

#include <errno.h>
#include <ini.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_util.h"
#include "fmn_version.h"

enum key_type { K_STR, K_LIST, K_INT, K_LONG, K_DOUBLE };

struct key {
	const char	*section;
	const char	*name;
	enum key_type	 type;
	size_t		 off;		/* of the field in struct fmn_config */
	size_t		 count_off;	/* K_LIST: of the count */
	double		 min, max;	/* numeric bounds */
};

#define F(f) offsetof(struct fmn_config, f)
static const struct key keys[] = {
	{ "store", "db", K_STR, F(db_path), 0, 0, 0 },
	{ "store", "retention", K_LONG, F(retention), 0, 0, 3650.0 * 86400 },
	{ "bus", "endpoint", K_LIST, F(endpoints), F(n_endpoints), 0, 0 },
	{ "bus", "subscribe", K_LIST, F(subscriptions), F(n_subscriptions), 0, 0 },
	{ "bus", "max_message_size", K_LONG, F(max_message_size), 0, 1024, 1 << 30 },
	{ "bus", "receive_hwm", K_INT, F(rcvhwm), 0, 0, INT_MAX },
	{ "facts", "definitions", K_STR, F(definitions), 0, 0, 0 },
	{ "email", "smtp", K_STR, F(smtp_url), 0, 0, 0 },
	{ "email", "from", K_STR, F(mail_from), 0, 0, 0 },
	{ "email", "username", K_STR, F(smtp_user), 0, 0, 0 },
	{ "email", "password", K_STR, F(smtp_password), 0, 0, 0 },
	{ "email", "starttls", K_STR, F(starttls), 0, 0, 0 },
	{ "email", "timeout", K_INT, F(smtp_timeout), 0, 1, 3600 },
	{ "email", "ca_file", K_STR, F(smtp_ca_file), 0, 0, 0 },
	{ "email", "connections", K_INT, F(smtp_connections), 0, 1, 64 },
	{ "irc", "server", K_STR, F(irc_server), 0, 0, 0 },
	{ "irc", "nick", K_STR, F(irc_nick), 0, 0, 0 },
	{ "irc", "password", K_STR, F(irc_password), 0, 0, 0 },
	{ "irc", "nickserv_password", K_STR, F(irc_nickserv), 0, 0, 0 },
	{ "irc", "line_interval", K_DOUBLE, F(irc_line_interval), 0, 0, 60 },
	{ "irc", "burst", K_INT, F(irc_burst), 0, 1, 1000 },
	{ "irc", "digest_lines", K_INT, F(irc_digest_lines), 0, 1, 1000 },
	{ "irc", "max_age", K_INT, F(irc_max_age), 0, 0, 365 * 86400 },
	{ "irc", "reconnect_max", K_INT, F(irc_reconnect_max), 0, 1, 86400 },
	{ "delivery", "retry_initial", K_INT, F(retry_initial), 0, 0, 86400 },
	{ "delivery", "retry_max", K_INT, F(retry_max), 0, 1, 86400 },
	{ "delivery", "max_attempts", K_INT, F(max_attempts), 0, 0, INT_MAX },
	{ "delivery", "digest_max_entries", K_INT, F(digest_max_entries), 0, 1, 100000 },
	{ "delivery", "digest_max_bytes", K_LONG, F(digest_max_bytes), 0, 1024, 1 << 30 },
	{ "delivery", "confirm_expiry", K_INT, F(confirm_expiry), 0, 60, 365 * 86400 },
	{ "delivery", "base_url", K_STR, F(base_url), 0, 0, 0 },
	{ "log", "level", K_STR, F(log_level), 0, 0, 0 },
};
#undef F

void
fmn_config_init(struct fmn_config *c)
{
	memset(c, 0, sizeof(*c));
	c->db_path = NULL;	/* resolved by the caller: $FMN_DB, ./fmn.db */
	c->retention = 30L * 86400;
	c->max_message_size = 1048576;
	c->rcvhwm = 100000;
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
	default:
		break;
	}
	errno = 0;
	d = strtod(value, &end);
	if (errno != 0 || end == value || *end != '\0' || d < k->min ||
	    d > k->max || (k->type != K_DOUBLE && d != (double)(long)d)) {
		fmn_set_cause(cause, "[%s] %s: \"%s\" is not a %s between "
		    "%g and %g", section, name, value,
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
	char			*error;	/* the first key that was refused */
};

/* Returning 0 makes inih report this line as the first error. */
static int
config_handler(void *arg, const char *section, const char *name,
    const char *value)
{
	struct load_state *ls = arg;

	if (ls->error != NULL)
		return 1;
	return fmn_config_set(ls->c, section, name, value, &ls->error) == 0;
}

int
fmn_config_load(struct fmn_config *c, const char *path, char **cause)
{
	struct load_state ls = { c, NULL };
	FILE *f;
	int rc;

	if ((f = fopen(path, "r")) == NULL) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		return -1;
	}
	rc = ini_parse_file(f, config_handler, &ls);
	fclose(f);
	if (ls.error != NULL) {
		fmn_set_cause(cause, "%s:%d: %s", path, rc, ls.error);
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

const char *
fmn_config_default_path(void)
{
	const char *p = getenv("FMN_CONFIG");

	if (p != NULL)
		return *p != '\0' ? p : NULL;
	return access(FMN_DEFAULT_CONFIG, F_OK) == 0 ? FMN_DEFAULT_CONFIG :
	    NULL;
}
