/*
 * Configuration of fmnd and fmnctl: an INI file (parsed with libinih)
 * with documented keys and defaults, then command-line overrides.
 * docs/configuration.md lists every key.
 */
#ifndef FMN_CONFIG_H
#define FMN_CONFIG_H

#include <stddef.h>

#define FMN_CONFIG_MAX_LIST	32

struct fmn_config {
	/* [store] */
	char	*db_path;		/* db = ./fmn.db */
	long	 retention;		/* retention = 2592000 seconds (0: keep all) */

	/* [bus] */
	char	*endpoints[FMN_CONFIG_MAX_LIST];	/* endpoint = tcp://127.0.0.1:9940 (repeatable) */
	size_t	 n_endpoints;
	char	*subscriptions[FMN_CONFIG_MAX_LIST];	/* subscribe = PREFIX (repeatable; none = all) */
	size_t	 n_subscriptions;
	long	 max_message_size;	/* max_message_size = 1048576 bytes */
	int	 rcvhwm;		/* receive_hwm = 1000 messages */
	long	 max_pending_bytes;	/* max_pending_bytes = 268435456 */
	int	 validate_signatures;	/* validate_signatures = no */
	char	*ca_cert;		/* ca_cert = PEM file: the fedmsg CA */
	char	*crl;			/* crl = PEM file (optional) */
	char	*routing_policy;	/* routing_policy = JSON file: topic -> [certificate CN] */
	int	 routing_nitpicky;	/* routing_nitpicky = no (yes: refuse a topic not in the policy) */

	/* [facts] */
	char	*definitions;		/* definitions = FILE (extra, optional) */

	/* [email] */
	char	*smtp_url;		/* smtp = mbox:./fmn.mbox | smtp://HOST:PORT | smtps://... */
	char	*mail_from;		/* from = fmn@localhost */
	char	*smtp_user;		/* username = */
	char	*smtp_password;		/* password = */
	char	*starttls;		/* starttls = no | try | required */
	int	 smtp_timeout;		/* timeout = 30 seconds */
	char	*smtp_ca_file;		/* ca_file = (CA certificates for TLS; default: the system's) */
	int	 smtp_connections;	/* connections = 4 (mails in flight at once) */

	/* [irc] */
	char	*irc_server;		/* server = HOST:PORT (empty: no IRC) */
	char	*irc_nick;		/* nick = fmn */
	char	*irc_password;		/* password = (server password) */
	char	*irc_nickserv;		/* nickserv_password = */
	double	 irc_line_interval;	/* line_interval = 0.6 seconds */
	int	 irc_burst;		/* burst = 4 lines */
	int	 irc_digest_lines;	/* digest_lines = 10 entries shown in a digest */
	int	 irc_max_age;		/* max_age = 86400 seconds a notification waits for an offline nick (0 = forever) */
	int	 irc_reconnect_max;	/* reconnect_max = 300 seconds (reconnection backoff cap) */

	/* [delivery] */
	int	 retry_initial;		/* retry_initial = 1 second */
	int	 retry_max;		/* retry_max = 60 seconds (backoff cap) */
	int	 max_attempts;		/* max_attempts = 0 (0 = retry temporary failures forever) */
	int	 digest_max_entries;	/* digest_max_entries = 50 */
	long	 digest_max_bytes;	/* digest_max_bytes = 262144 */
	int	 confirm_expiry;	/* confirm_expiry = 86400 seconds */
	char	*base_url;		/* base_url = (links in footers; optional) */

	/* [log] */
	char	*log_level;		/* level = info */

	/* [http] */
	char	*http_listen;		/* listen = ADDR:PORT (none: no HTTP server) */
	int	 http_threads;		/* threads = 2 (requests served at once) */
	char	*http_base_url;		/* base_url = where people reach it (confirmation links) */
	char	*http_allow_insecure;	/* allow_insecure = no | yes (tokens over plain HTTP from afar) */

	/* [catchup] */
	char	*catchup_url;		/* url = BASE of a datagrepper (none: no catch-up) */
	int	 catchup_margin;	/* margin = 60 seconds asked for before what was missed */
	long	 catchup_max_age;	/* max_age = 86400 seconds: never asked further back */
};

/* Defaults for every key. */
void fmn_config_init(struct fmn_config *c);
/* Read an INI file over the current values; -1 with file:line: reason. */
int fmn_config_load(struct fmn_config *c, const char *path, char **cause);
/* Set one key as if from the file ("section", "key", "value"). */
int fmn_config_set(struct fmn_config *c, const char *section,
    const char *key, const char *value, char **cause);
void fmn_config_free(struct fmn_config *c);
/* A deep copy of src into dst (fmn_config_free it). */
void fmn_config_copy(struct fmn_config *dst, const struct fmn_config *src);
/*
 * The config file to read by default: $FMN_CONFIG (set but empty: none),
 * else FMN_DEFAULT_CONFIG (/etc/fmn/fmn.conf) if it exists, else NULL.
 */
const char *fmn_config_default_path(void);

#endif
