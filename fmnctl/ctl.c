/*
 * fmnctl: the command table, global options and the helpers every
 * command handler shares. Usage and --help come from the table; a unique
 * prefix of a command word is enough ("fmnctl fil ls" is not: "ls" is
 * not a prefix of "list"; "fmnctl fil li" is).
 */
#include "ctl.h"

#include <errno.h>
#include <stdint.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_cmds.h"
#include "fmn_config.h"
#include "fmn_show.h"
#include "fmn_store.h"
#include "fmn_utf8.h"
#include "fmn_version.h"

static const struct ctl_cmd cmds[] = {
	{ "init", "", "create the database or bring its schema up to date",
	  NULL, ctl_init, CTL_CREATES },
	{ "user add", "USER", "add a user", NULL, ctl_user_add, CTL_CREATES },
	{ "user list", "", "list users", NULL, ctl_user_list, 0 },
	{ "user show", "USER", "show a user's destinations, preferences and "
	  "filters", NULL, ctl_user_show, CTL_REMOTE },
	{ "user rm", "USER", "remove a user and everything that is theirs",
	  NULL, ctl_user_rm, 0 },
	{ "alias add", "ALIAS ACCOUNT", "map a name seen on the bus (an e-mail "
	  "address, another nick) to an account",
	  "ACCOUNT need not be a user of this service. Adding an alias that\n"
	  "exists replaces its account.", ctl_alias_add, CTL_CREATES },
	{ "alias rm", "ALIAS", "remove an alias", NULL, ctl_alias_rm, 0 },
	{ "alias list", "", "list aliases", NULL, ctl_alias_list,
	  0 },
	{ "dest add", "USER CONTEXT ADDRESS [--confirmed] [--expires SECONDS]",
	  "add a destination (CONTEXT is email or irc)",
	  "Without --confirmed the destination is pending: fmnd sends it a\n"
	  "secret, and it receives nothing else until `fmnctl dest confirm\n"
	  "SECRET` (or, on IRC, `confirm SECRET` to the bot). The secret\n"
	  "expires after --expires seconds (default 86400). Through the API,\n"
	  "only an admin token may use --confirmed, and only it is shown the\n"
	  "secret: the confirmation (a link, or the bot's code) goes to the\n"
	  "address.", ctl_dest_add, CTL_REMOTE },
	{ "dest confirm", "SECRET", "confirm a pending destination", NULL,
	  ctl_dest_confirm, CTL_REMOTE },
	{ "dest list", "[USER]", "list destinations", "Through the API with "
	  "a user's token, without USER: that user's.", ctl_dest_list,
	  CTL_REMOTE },
	{ "dest rm", "USER CONTEXT ADDRESS", "remove a destination", NULL,
	  ctl_dest_rm, CTL_REMOTE },
	{ "dest reset", "USER CONTEXT ADDRESS", "clear a destination's failing "
	  "mark so that it is delivered to again",
	  "fmnd marks a destination failing when its server refuses it for\n"
	  "good (an SMTP 5xx for the recipient, say) and stops sending to it;\n"
	  "`fmnctl status` lists those. Once the cause is fixed, this puts it\n"
	  "back: notifications that wait for it are sent; those that had\n"
	  "failed stay failed.", ctl_dest_reset, 0 },
	{ "pref set", "USER CONTEXT [--enable|--disable] [--batch-delta SECONDS] "
	  "[--batch-count N] [--verbose on|off] [--markup on|off]",
	  "create or change a user's preference for a context",
	  "--batch-delta and --batch-count hold notifications and send one\n"
	  "digest when either is reached; \"none\" turns a threshold off.",
	  ctl_pref_set, CTL_REMOTE },
	{ "pref list", "[USER]", "list preferences", "Through the API with a "
	  "user's token, without USER: that user's.", ctl_pref_list,
	  CTL_REMOTE },
	{ "filter add", "USER CONTEXT NAME RULE... [--inactive] [--oneshot]",
	  "add a filter at the end of a preference's list",
	  "Each RULE is one [!]KIND:ARGUMENT token; see `fmnctl rules`. All\n"
	  "rules are checked before anything is written. The preference is\n"
	  "created (enabled, unbatched) if the user has none for CONTEXT.",
	  ctl_filter_add, CTL_REMOTE },
	{ "filter list", "USER [CONTEXT]", "list a user's filters in order",
	  "A filter fmnd marked broken says so, with the reason.",
	  ctl_filter_list, CTL_REMOTE },
	{ "filter show", "USER CONTEXT NAME", "show a filter and its rules",
	  NULL, ctl_filter_show, CTL_REMOTE },
	{ "filter rm", "USER CONTEXT NAME", "remove a filter", NULL,
	  ctl_filter_rm, CTL_REMOTE },
	{ "filter enable", "USER CONTEXT NAME", "make a filter active and clear "
	  "its broken mark",
	  "fmnd marks a filter broken when its regexes keep going over the\n"
	  "matching budget (they reach their match limit, or the user's\n"
	  "regexes use up their allowance for a message; see docs/filters.md)\n"
	  "and no longer evaluates it. `fmnctl filter list` and `fmnctl\n"
	  "status` show the mark and the reason. Enabling the filter clears\n"
	  "the mark: fmnd tries it again, and marks it again if it keeps\n"
	  "failing. A filter removed and added anew has no mark.",
	  ctl_filter_enable, CTL_REMOTE },
	{ "filter disable", "USER CONTEXT NAME", "make a filter inactive", NULL,
	  ctl_filter_disable, CTL_REMOTE },
	{ "filter move", "USER CONTEXT NAME POSITION",
	  "move a filter to POSITION (1 is first)", NULL, ctl_filter_move,
	  CTL_REMOTE },
	{ "filter defaults", "USER CONTEXT",
	  "add the standard filters for a new user (see docs/filters.md)",
	  NULL, ctl_filter_defaults, 0 },
	{ "rules", "", "list every rule kind with its documentation", NULL,
	  ctl_rules, CTL_REMOTE },
	{ "meta", "[FILE|-]", "print the facts derived from envelopes, one "
	  "JSON object per line", NULL, ctl_meta, 0 },
	{ "match", "[--explain] [FILE|-] | --id MSG_ID [--user USER] "
	  "[--explain] | --history --user USER [--since DURATION]",
	  "print who each envelope would notify, and with --explain why",
	  "With --history, the envelopes are the messages stored since\n"
	  "DURATION (default 1d; 3600, 90m, 12h, 2d, 1w), oldest first, and\n"
	  "only USER's filters are matched: each message they would have\n"
	  "notified is printed with the destination and the filter that\n"
	  "fired (--json: one object per message, as without --history).\n"
	  "With --id, the envelope is the stored message MSG_ID (fmnctl\n"
	  "history lists them), matched against USER's filters or everyone's;\n"
	  "only this form works through the API, where a user's token\n"
	  "matches its own filters.", ctl_match, CTL_REMOTE },
	{ "notifications", "[USER] [--limit N]", "list recent notifications, "
	  "newest first, with their state",
	  "Each notification fmnd made: when, its state (batched, queued,\n"
	  "sending, delivered, failed), the destination, the filter that\n"
	  "fired and what the message was. --limit defaults to 20 (at most\n"
	  "1000). Through the API with a user's token, without USER: that\n"
	  "user's.", ctl_notifications, CTL_REMOTE },
	{ "history", "[--since DURATION] [--topic T] [--category C] "
	  "[--user U] [--package P] [--limit N]", "list stored messages, "
	  "newest first, as fmnd's /raw would",
	  "Lists the messages fmnd stored (kept for [store] retention),\n"
	  "newest first: time (UTC), topic, msg_id and subtitle. --since\n"
	  "takes a duration (3600, 90m, 12h, 2d, 1w); --limit defaults to\n"
	  "20. --json prints the envelopes as received, one per line, which\n"
	  "`fmnctl match -` reads.", ctl_history, 0 },
	{ "verify", "[--ca FILE] [--crl FILE] [--policy FILE] [--nitpicky] "
	  "[--no-check-time] [FILE|-]", "check the fedmsg signature of "
	  "envelopes, one JSON line each",
	  "Each line of input is an envelope; each line of output is\n"
	  "{\"msg_id\", \"valid\", \"signer\", \"reason\"}: signer is the CN of the\n"
	  "envelope's certificate (null without one), reason says why it is\n"
	  "not valid. The checks are fmnd's with [bus] validate_signatures:\n"
	  "the signature over fedmsg's canonical bytes, the certificate's\n"
	  "chain to the CA (--ca, default [bus] ca_cert), the CRL (--crl,\n"
	  "default [bus] crl; --crl '' for none), the routing policy\n"
	  "(--policy, default [bus] routing_policy; --nitpicky refuses a topic\n"
	  "it does not name). --no-check-time ignores validity periods, for\n"
	  "archived messages whose certificates have expired since; never for\n"
	  "live ones. Exit 0 when every envelope is valid, else 1.",
	  ctl_verify, 0 },
	{ "owners import", "FILE", "replace package ownership for the "
	  "namespaces in FILE", NULL, ctl_owners_import, CTL_CREATES },
	{ "owners list", "[PACKAGE]", "list package owners", NULL,
	  ctl_owners_list, 0 },
	{ "groups import", "FILE", "replace the members of the groups in FILE",
	  NULL, ctl_groups_import, CTL_CREATES },
	{ "groups list", "", "list groups and members", NULL,
	  ctl_groups_list, 0 },
	{ "export", "", "print the whole configuration as one JSON document",
	  NULL, ctl_export, 0 },
	{ "import", "FILE", "import a configuration document in one "
	  "transaction", NULL, ctl_import, CTL_CREATES },
	{ "status", "", "show the daemon's counters, failing destinations and "
	  "broken filters", NULL, ctl_status, 0 },
	{ "queue", "", "show what waits for delivery, per backend and user",
	  NULL, ctl_queue, 0 },
	{ "token create", "USER [--admin]", "make a token for fmnd's API and "
	  "print it, once",
	  "The token lets fmnctl --server URL --token TOKEN (or a program)\n"
	  "reach USER's destinations, preferences and filters through fmnd's\n"
	  "[http] server; with --admin, every user's. Only its SHA-256 digest\n"
	  "is kept: it cannot be shown again (make another, remove the old).",
	  ctl_token_create, 0 },
	{ "token list", "[USER]", "list tokens: id, user, admin, made, last "
	  "used (never the token)", NULL, ctl_token_list, 0 },
	{ "token rm", "ID", "remove a token: it stops working at once", NULL,
	  ctl_token_rm, 0 },
};

static void
ctl_print_cmd_usage(FILE *f, const struct ctl_cmd *c)
{
	fprintf(f, "usage: fmnctl [--db PATH] %s%s%s\n", c->name,
	    *c->args ? " " : "", c->args);
}

static void
usage_all(FILE *f)
{
	size_t i;

	fputs("usage: fmnctl [--db PATH] [-c FILE] [--json] COMMAND [ARGS]\n"
	    "       fmnctl --server URL [--token TOKEN] [--json] COMMAND [ARGS]\n\n"
	    "Edit fmn's users, destinations, preferences and filters, and ask\n"
	    "what a message would notify.\n\n"
	    "Options:\n"
	    "  --db PATH     database (default: the config file's [store] db,\n"
	    "                then $FMN_DB, then ./fmn.db)\n"
	    "  --server URL  go through the API of fmnd's [http] server at URL\n"
	    "                instead of a database (default: $FMN_SERVER, then\n"
	    "                server = in ~/.config/fmn/client.conf, unless --db)\n"
	    "  --token TOKEN the API's token (fmnctl token create on the server;\n"
	    "                default: $FMN_TOKEN, then token = in that file)\n"
	    "  -c FILE       config file (default: $FMN_CONFIG, where set but\n"
	    "                empty means none; else " FMN_DEFAULT_CONFIG "\n"
	    "                if it exists)\n"
	    "  --json        machine-readable output for list and show commands\n"
	    "  --help        this text; `fmnctl COMMAND --help` for one command\n"
	    "  --version     print the version\n\nCommands:\n", f);
	for (i = 0; i < FMN_NELEM(cmds); i++)
		fprintf(f, "  %-16s %c %s\n", cmds[i].name,
		    cmds[i].flags & CTL_REMOTE ? '*' : ' ', cmds[i].summary);
	fputs("\nWith a server, the commands marked * go through its API; the\n"
	    "others work on the server's database only.\n"
	    "\nOnly init, user add, alias add and the imports create a database\n"
	    "that does not exist; every other command refuses it, so that a\n"
	    "mistyped path is an error, not an empty answer (create it with\n"
	    "fmnctl init).\n"
	    "\nExit status: 0 success, 1 an error of data, 2 a usage error.\n",
	    f);
}

static void
help_cmd(const struct ctl_cmd *c)
{
	ctl_print_cmd_usage(stdout, c);
	printf("\n%s.\n", c->summary);
	if (c->help != NULL)
		printf("\n%s\n", c->help);
	printf("\nAll commands accept --json and --help.\n");
}

int
ctl_error(struct fmn_ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	(void)ctl;
	fputs("fmnctl: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return CTL_EDATA;
}

int
ctl_usage(struct fmn_ctl *ctl, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fmnctl %s: ", ctl->cmd ? ctl->cmd->name : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (ctl->cmd != NULL)
		ctl_print_cmd_usage(stderr, ctl->cmd);
	return CTL_EUSAGE;
}

void
ctl_print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY);

	if (s != NULL) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

/* Does the word hold a byte below 0x20, a '"' or a '\\'? */
static inline int
word_needs_escape(uint64_t w)
{
	const uint64_t ones = 0x0101010101010101ull;
	const uint64_t high = 0x8080808080808080ull;
	uint64_t q = w ^ (ones * '"'), bs = w ^ (ones * '\\');

	return (((w - ones * 0x20) & ~w) | ((q - ones) & ~q) |
	    ((bs - ones) & ~bs)) & high ? 1 : 0;
}

/*
 * s as a JSON string, escaped as jansson escapes it (ctl_print_json's
 * text): runs without anything to escape are copied eight bytes at a
 * time, since most strings (names, addresses) have none.
 */
void
ctl_json_str(struct fmn_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(s), i = 0;
	char *w = fmn_buf_reserve(b, n * 6 + 2);	/* all as \u00XX */
	uint64_t word;

	*w++ = '"';
	while (i < n) {
		unsigned char c;

		if (i + 8 <= n) {
			memcpy(&word, s + i, 8);
			if (!word_needs_escape(word)) {
				memcpy(w, &word, 8);
				w += 8;
				i += 8;
				continue;
			}
		}
		c = (unsigned char)s[i++];
		if (c >= 0x20 && c != '"' && c != '\\') {
			*w++ = (char)c;
			continue;
		}
		*w++ = '\\';
		switch (c) {
		case '"':	*w++ = '"'; break;
		case '\\':	*w++ = '\\'; break;
		case '\b':	*w++ = 'b'; break;
		case '\f':	*w++ = 'f'; break;
		case '\n':	*w++ = 'n'; break;
		case '\r':	*w++ = 'r'; break;
		case '\t':	*w++ = 't'; break;
		default:
			*w++ = 'u';
			*w++ = '0';
			*w++ = '0';
			*w++ = hex[c >> 4];
			*w++ = hex[c & 15];
		}
	}
	*w++ = '"';
	fmn_buf_commit(b, w);
}

/*
 * A command that needs data must not leave behind an empty database
 * where a path was mistyped: it would answer "nothing" (or "no user
 * named") instead of saying that it looked in the wrong place.
 */
sqlite3 *
ctl_db(struct fmn_ctl *ctl)
{
	char *cause = NULL;
	int missing = 0;

	if (ctl->db != NULL)
		return ctl->db;
	if (ctl->cmd == NULL || !(ctl->cmd->flags & CTL_CREATES))
		ctl->db = fmn_store_open_existing(ctl->db_path, &missing,
		    &cause);
	else
		ctl->db = fmn_store_open(ctl->db_path, &cause);
	if (ctl->db == NULL) {
		if (missing)
			ctl_error(ctl, "no database at %s; create it with "
			    "fmnctl init", ctl->db_path);
		else
			ctl_error(ctl, "%s", cause);
		free(cause);
		exit(CTL_EDATA);
	}
	return ctl->db;
}

int
ctl_parse(struct fmn_ctl *ctl, int argc, char **argv, struct ctl_opt *opts,
    size_t nopts)
{
	enum { O_HELP = 256, O_JSON, O_FIRST };	/* then O_FIRST + k: opts[k] */
	struct option *lo = xcalloc(nopts + 3, sizeof(*lo));
	char **av = xcalloc((size_t)argc + 2, sizeof(*av));
	int ch, npos = 0, i, rc = -1;
	size_t k;

	/* getopt_long wants a program name first; the command's will do. */
	av[0] = (char *)ctl->cmd->name;
	memcpy(av + 1, argv, (size_t)argc * sizeof(*av));
	for (k = 0; k < nopts; k++) {
		lo[k].name = opts[k].name + 2;	/* without "--" */
		lo[k].has_arg = opts[k].has_arg ? required_argument :
		    no_argument;
		lo[k].val = O_FIRST + (int)k;
	}
	lo[k++] = (struct option){ "help", no_argument, NULL, O_HELP };
	lo[k++] = (struct option){ "json", no_argument, NULL, O_JSON };
	optind = 0;	/* start afresh (GNU) */
	opterr = 0;	/* our messages, one line and the usage */
	while ((ch = getopt_long(argc + 1, av, ":", lo, NULL)) != -1) {
		if (ch == O_HELP) {
			help_cmd(ctl->cmd);
			exit(CTL_OK);
		} else if (ch == O_JSON)
			ctl->json = 1;
		else if (ch >= O_FIRST)
			opts[ch - O_FIRST].value = optarg != NULL ? optarg : "";
		else if (ch == ':') {
			ctl_usage(ctl, "%s needs a value", av[optind - 1]);
			goto out;
		} else if (optopt > ' ' && optopt < 0x7f) {
			ctl_usage(ctl, "unknown option -%c", optopt);
			goto out;
		} else if (optopt >= O_FIRST) {
			ctl_usage(ctl, "%s takes no value",
			    opts[optopt - O_FIRST].name);
			goto out;
		} else if (optopt == O_HELP || optopt == O_JSON) {
			ctl_usage(ctl, "--%s takes no value",
			    optopt == O_HELP ? "help" : "json");
			goto out;
		} else {
			ctl_usage(ctl, "unknown option %.*s",
			    (int)strcspn(av[optind - 1], "="), av[optind - 1]);
			goto out;
		}
	}
	/* What is left, in order, are the positionals: to the front. */
	for (i = optind; i < argc + 1; i++)
		argv[npos++] = av[i];
	rc = npos;
out:
	free(av);
	free(lo);
	return rc;
}

struct fmn_show *
ctl_shower(struct fmn_ctl *ctl)
{
	char *cause = NULL;

	if (ctl->show == NULL &&
	    (ctl->show = fmn_show_new(ctl_db(ctl), &cause)) == NULL) {
		ctl_error(ctl, "%s", cause);
		free(cause);
		exit(CTL_EDATA);
	}
	return ctl->show;
}

long long
ctl_user_id(struct fmn_ctl *ctl, const char *name)
{
	char *cause = NULL;
	long long id;

	if ((id = fmn_ops_user_id(ctl_db(ctl), name, &cause)) < 0) {
		ctl_error(ctl, "%s", cause);
		free(cause);
	}
	return id < 0 ? -1 : id;
}

FILE *
ctl_open_input(struct fmn_ctl *ctl, const char *path)
{
	FILE *f;

	if (path == NULL || strcmp(path, "-") == 0)
		return stdin;
	if ((f = fopen(path, "r")) == NULL)
		ctl_error(ctl, "%s: %s", path, strerror(errno));
	return f;
}

json_t *
ctl_load_json(struct fmn_ctl *ctl, const char *path)
{
	json_error_t jerr;
	json_t *doc;

	doc = strcmp(path, "-") == 0 ?
	    json_loadf(stdin, JSON_REJECT_DUPLICATES, &jerr) :
	    json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (doc == NULL)
		ctl_error(ctl, "%s: line %d: %s", path, jerr.line, jerr.text);
	return doc;
}

/* The entries whose first word is group ("user"), by unique prefix. */
static const char *
find_group(const char *word, int *ambiguous)
{
	const char *found = NULL;
	size_t i, wl = strlen(word);

	*ambiguous = 0;
	for (i = 0; i < FMN_NELEM(cmds); i++) {
		const char *n = cmds[i].name;
		size_t gl = strcspn(n, " ");

		if (gl == wl && strncmp(n, word, wl) == 0)
			return n;	/* exact */
		if (wl < gl && strncmp(n, word, wl) == 0) {
			if (found != NULL && strncmp(found, n, gl) != 0)
				*ambiguous = 1;
			found = n;
		}
	}
	return *ambiguous ? NULL : found;
}

static const struct ctl_cmd *
find_cmd(int *argc, char ***argv, struct fmn_ctl *ctl)
{
	const char *g, *sub, *sep;
	size_t i, gl, sl;
	const struct ctl_cmd *found = NULL;
	int ambiguous;

	g = find_group((*argv)[0], &ambiguous);
	if (g == NULL) {
		fprintf(stderr, "fmnctl: %s command \"%s\"; see fmnctl "
		    "--help\n", ambiguous ? "ambiguous" : "unknown",
		    (*argv)[0]);
		return NULL;
	}
	gl = strcspn(g, " ");
	if (g[gl] == '\0') {	/* a single-word command */
		for (i = 0; i < FMN_NELEM(cmds); i++)
			if (strcmp(cmds[i].name, g) == 0)
				found = &cmds[i];
		(*argc)--, (*argv)++;
		return found;
	}
	if (*argc >= 2 && strcmp((*argv)[1], "--help") == 0) {
		printf("usage: fmnctl %.*s SUBCOMMAND ...\n\n", (int)gl, g);
		for (i = 0; i < FMN_NELEM(cmds); i++)
			if (strncmp(cmds[i].name, g, gl) == 0 &&
			    cmds[i].name[gl] == ' ')
				printf("  fmnctl %s %s\n      %s\n",
				    cmds[i].name, cmds[i].args, cmds[i].summary);
		exit(CTL_OK);
	}
	/* A usage error is the reason and one line, not the listing. */
	if (*argc < 2 || (*argv)[1][0] == '-') {
		if (*argc < 2)
			fprintf(stderr, "fmnctl %.*s: expected a subcommand\n",
			    (int)gl, g);
		else
			fprintf(stderr, "fmnctl %.*s: expected a subcommand, "
			    "not %s\n", (int)gl, g, (*argv)[1]);
		fprintf(stderr, "usage: fmnctl %.*s ", (int)gl, g);
		sep = "";
		for (i = 0; i < FMN_NELEM(cmds); i++)
			if (strncmp(cmds[i].name, g, gl) == 0 &&
			    cmds[i].name[gl] == ' ') {
				fprintf(stderr, "%s%s", sep, cmds[i].name + gl + 1);
				sep = "|";
			}
		fprintf(stderr, " ... (see fmnctl %.*s --help)\n", (int)gl, g);
		return NULL;
	}
	sub = (*argv)[1];
	sl = strlen(sub);
	for (i = 0; i < FMN_NELEM(cmds); i++) {
		const char *n = cmds[i].name;

		if (strncmp(n, g, gl) != 0 || n[gl] != ' ')
			continue;
		if (strcmp(n + gl + 1, sub) == 0) {
			found = &cmds[i];
			ambiguous = 0;
			break;
		}
		if (strncmp(n + gl + 1, sub, sl) == 0) {
			if (found != NULL)
				ambiguous = 1;
			found = &cmds[i];
		}
	}
	if (found == NULL || ambiguous) {
		fprintf(stderr, "fmnctl: %s command \"%.*s %s\"; see fmnctl "
		    "%.*s --help\n", ambiguous ? "ambiguous" : "unknown",
		    (int)gl, g, sub, (int)gl, g);
		return NULL;
	}
	(void)ctl;
	*argc -= 2;
	*argv += 2;
	return found;
}

int
main(int argc, char **argv)
{
	enum { O_DB = 256, O_JSON, O_VERSION, O_SERVER, O_TOKEN };
	static const struct option global[] = {
		{ "db", required_argument, NULL, O_DB },
		{ "server", required_argument, NULL, O_SERVER },
		{ "token", required_argument, NULL, O_TOKEN },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, O_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct fmn_ctl ctl;
	struct fmn_config cfg;
	const char *db_opt = NULL, *server_opt = NULL, *token_opt = NULL;
	char *cause = NULL;
	int i, ch, rc;

	memset(&ctl, 0, sizeof(ctl));
	ctl.config_path = fmn_config_default_path();
	/* Up to the command word ("+"): what follows is the command's. */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "+:c:h", global, NULL)) != -1) {
		switch (ch) {
		case 'h':
			usage_all(stdout);
			return CTL_OK;
		case O_VERSION:
			printf("fmnctl %s\n", FMN_VERSION);
			return CTL_OK;
		case O_JSON:
			ctl.json = 1;
			break;
		case O_DB:
			/* SQLite takes "" for a temporary database, lost at exit. */
			if (*optarg == '\0') {
				fputs("fmnctl: --db needs a value\n", stderr);
				return CTL_EUSAGE;
			}
			db_opt = optarg;
			break;
		case 'c':
			ctl.config_path = optarg;
			break;
		case O_SERVER:
			server_opt = optarg;
			break;
		case O_TOKEN:
			token_opt = optarg;
			break;
		case ':':
			fprintf(stderr, "fmnctl: %s needs a value\n",
			    argv[optind - 1]);
			return CTL_EUSAGE;
		default:
			if (optopt > ' ' && optopt < 0x7f)
				fprintf(stderr, "fmnctl: unknown option -%c; see "
				    "fmnctl --help\n", optopt);
			else
				fprintf(stderr, "fmnctl: unknown option %s; see "
				    "fmnctl --help\n", argv[optind - 1]);
			return CTL_EUSAGE;
		}
	}
	i = optind;
	if (i >= argc) {
		fputs("usage: fmnctl [--db PATH] [-c FILE] [--json] COMMAND "
		    "[ARGS]\n(fmnctl --help lists the commands)\n", stderr);
		return CTL_EUSAGE;
	}
	argc -= i;
	argv += i;
	if ((ctl.cmd = find_cmd(&argc, &argv, &ctl)) == NULL)
		return CTL_EUSAGE;
	/*
	 * Names, rules and addresses become JSON text, which must be
	 * UTF-8: refuse the command whole rather than lose one of them.
	 */
	for (i = 0; i < argc; i++)
		if (!fmn_utf8_valid(argv[i], strlen(argv[i]))) {
			fprintf(stderr, "fmnctl: %s: argument %d is not valid "
			    "UTF-8 text\n", ctl.cmd->name, i + 1);
			return CTL_EUSAGE;
		}
	if (ctl.cmd->handler == NULL) {
		fprintf(stderr, "fmnctl: %s is not available in this build\n",
		    ctl.cmd->name);
		return CTL_EDATA;
	}
	if ((rc = ctl_remote_setup(&ctl, server_opt, token_opt,
	    db_opt != NULL)) != CTL_OK)
		return rc;
	if (ctl.server != NULL && !(ctl.cmd->flags & CTL_REMOTE)) {
		fprintf(stderr, "fmnctl: %s works on the server's database only: "
		    "run it there, without --server (%s)\n", ctl.cmd->name,
		    ctl.server);
		ctl_remote_cleanup(&ctl);
		return CTL_EUSAGE;
	}
	/* A client has no use for the server's configuration file. */
	if (ctl.server != NULL)
		ctl.config_path = NULL;

	fmn_config_init(&cfg);
	if (ctl.config_path != NULL &&
	    fmn_config_load(&cfg, ctl.config_path, &cause) != 0) {
		fprintf(stderr, "fmnctl: %s\n", cause);
		free(cause);
		fmn_config_free(&cfg);
		return CTL_EDATA;
	}
	if (db_opt != NULL)
		ctl.db_path = db_opt;
	else if (cfg.db_path != NULL)
		ctl.db_path = cfg.db_path;
	else if (getenv("FMN_DB") != NULL && *getenv("FMN_DB") != '\0')
		ctl.db_path = getenv("FMN_DB");
	else
		ctl.db_path = "fmn.db";
	ctl.definitions = cfg.definitions;
	ctl.cfg = &cfg;

	rc = ctl.cmd->handler(&ctl, argc, argv);
	ctl_remote_cleanup(&ctl);
	fmn_show_free(&ctl.show);
	fmn_store_close(&ctl.db);
	fmn_config_free(&cfg);
	return rc;
}

int
ctl_check_context(struct fmn_ctl *ctl, const char *context)
{
	char *cause = NULL;

	if (fmn_ops_check_context(context, &cause) == 0)
		return 0;
	ctl_error(ctl, "%s", cause);
	free(cause);
	return -1;
}
