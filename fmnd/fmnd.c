/*
 * fmnd: the notification daemon. Reads the configuration, applies the
 * command line over it, and runs the loop in the foreground, logging to
 * stderr as service managers expect.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_daemon.h"
#include "fmn_log.h"
#include "fmn_util.h"
#include "fmn_version.h"

static void
usage(FILE *f)
{
	fputs(
"usage: fmnd [-c FILE] [--db PATH] [--bus ENDPOINT]... [--smtp URL]\n"
"            [--mail-from ADDR] [--irc HOST:PORT] [--irc-nick NICK]\n"
"            [--defs FILE] [-v]\n"
"\n"
"Listen to a fedmsg bus, match every message against every user's\n"
"filters, queue notifications in the database and deliver them by\n"
"e-mail or IRC. Runs in the foreground and logs to stderr; prints\n"
"\"fmnd: ready\" once it listens (and tells systemd, under Type=notify).\n"
"One fmnd per database: a second one exits, naming the first one's pid.\n"
"SIGTERM or SIGINT stop it within 5 seconds (in-flight deliveries get 4, the\n"
"rest stays queued); SIGHUP re-reads the configuration file (fmn.conf(5)\n"
"says what changes live).\n"
"\n"
"  -c, --config FILE     configuration file (default: $FMN_CONFIG, else\n"
"                        " FMN_DEFAULT_CONFIG " if it exists)\n"
"      --db PATH         database (default: [store] db, $FMN_DB, ./fmn.db)\n"
"      --bus ENDPOINT    ZeroMQ endpoint to subscribe to; repeatable, replaces\n"
"                        [bus] endpoint (default tcp://127.0.0.1:9940)\n"
"      --smtp URL        where e-mail goes: smtp://HOST:PORT, smtps://HOST:PORT,\n"
"                        mbox:PATH or capture:PATH (default mbox:fmn.mbox)\n"
"      --mail-from ADDR  From address of the mail sent (default fmn@localhost)\n"
"      --irc HOST:PORT   IRC server for the irc context (default: none, IRC\n"
"                        notifications wait); capture:PATH records them\n"
"      --irc-nick NICK   the bot's nick (default fmn)\n"
"      --defs FILE       extra fact definitions, over the built-in ones\n"
"  -v, --debug           log debugging detail\n"
"  -h, --help            this text\n"
"      --version         the version\n"
"\n"
"Every setting and its default: fmn.conf(5), docs/configuration.md.\n", f);
}

/* A usage error: the reason and where to look, two lines. */
static int
usage_error(const char *fmt, const char *arg)
{
	fputs("fmnd: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nusage: fmnd [-c FILE] [--db PATH] [--bus ENDPOINT]... [OPTIONS]; "
	    "see fmnd --help\n", stderr);
	return 2;
}

int
main(int argc, char **argv)
{
	enum { O_DB = 256, O_BUS, O_SMTP, O_MAIL_FROM, O_IRC, O_IRC_NICK,
	    O_DEFS, O_VERSION };
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "db", required_argument, NULL, O_DB },
		{ "bus", required_argument, NULL, O_BUS },
		{ "smtp", required_argument, NULL, O_SMTP },
		{ "mail-from", required_argument, NULL, O_MAIL_FROM },
		{ "irc", required_argument, NULL, O_IRC },
		{ "irc-nick", required_argument, NULL, O_IRC_NICK },
		{ "defs", required_argument, NULL, O_DEFS },
		{ "debug", no_argument, NULL, 'v' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, O_VERSION },
		{ NULL, 0, NULL, 0 },
	};
	struct fmn_override *ov;
	struct fmn_daemon_args args;
	struct fmn_config cfg;
	struct fmn_daemon *d;
	char *cause = NULL, shortopt[3] = "-?";
	size_t nov = 0;
	int ch, rc;

	fmn_log_init("fmnd");
	opterr = 0;	/* our own two lines, not getopt's and the help */
	memset(&args, 0, sizeof(args));
	args.config_path = fmn_config_default_path();
	ov = xcalloc((size_t)argc + 1, sizeof(*ov));
#define OVERRIDE(s, k) do {						\
	ov[nov].section = s;						\
	ov[nov].key = k;						\
	ov[nov].value = optarg;						\
	nov++;								\
} while (0)
	while ((ch = getopt_long(argc, argv, ":c:vh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			args.config_path = optarg;
			break;
		case O_DB:
			OVERRIDE("store", "db");
			break;
		case O_BUS:
			OVERRIDE("bus", "endpoint");
			break;
		case O_SMTP:
			OVERRIDE("email", "smtp");
			break;
		case O_MAIL_FROM:
			OVERRIDE("email", "from");
			break;
		case O_IRC:
			OVERRIDE("irc", "server");
			break;
		case O_IRC_NICK:
			OVERRIDE("irc", "nick");
			break;
		case O_DEFS:
			OVERRIDE("facts", "definitions");
			break;
		case 'v':
			optarg = (char *)"debug";
			OVERRIDE("log", "level");
			break;
		case 'h':
			usage(stdout);
			free(ov);
			return 0;
		case O_VERSION:
			printf("fmnd %s\n", FMN_VERSION);
			free(ov);
			return 0;
		case ':':
			free(ov);
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			free(ov);
			if (optopt != 0) {
				shortopt[1] = (char)optopt;
				return usage_error("unknown option %s",
				    shortopt);
			}
			return usage_error("unknown option %s",
			    argv[optind - 1]);
		}
	}
#undef OVERRIDE
	if (optind != argc) {
		free(ov);
		return usage_error("unexpected argument %s", argv[optind]);
	}
	args.overrides = ov;
	args.n_overrides = nov;

	if (fmn_daemon_configure(&args, &cfg, &cause) != 0) {
		fprintf(stderr, "fmnd: %s\n", cause);
		free(cause);
		fmn_config_free(&cfg);
		free(ov);
		return 1;
	}
	if ((d = fmn_daemon_new(&args, &cfg, &cause)) == NULL) {
		log_err("%s", cause);
		free(cause);
		fmn_config_free(&cfg);
		free(ov);
		return 1;
	}
	rc = fmn_daemon_run(d);
	fmn_daemon_destroy(&d);
	fmn_config_free(&cfg);
	free(ov);
	return rc == 0 ? 0 : 1;
}
