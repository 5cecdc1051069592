/*
 * fmnctl/: the command-line tool only (this header, the command
 * table in ctl.c, one ctl_<group>.c per group of commands), on
 * filters/, schema/ and lib/; never on the daemon.
 *
 * fmnctl: shared state of one invocation and the helpers its command
 * handlers use. Each handler lives in fmnd/ctl_<group>.c and is listed
 * in the command table of fmnd/ctl.c.
 */
#ifndef FMN_CTL_H
#define FMN_CTL_H

#include <stdio.h>
#include <sqlite3.h>
#include <jansson.h>

#include "fmn_ops.h"
#include "fmn_util.h"

/* Exit codes. */
#define CTL_OK		0
#define CTL_EDATA	1	/* bad data, unknown names, I/O, database */
#define CTL_EUSAGE	2	/* bad arguments */

struct ctl_cmd;
struct fmn_show;
struct fmn_config;

struct fmn_ctl {
	const char		*db_path;	/* resolved: --db, config, $FMN_DB, ./fmn.db */
	const char		*config_path;	/* -c, $FMN_CONFIG, or NULL */
	int			 json;		/* --json: machine-readable output */
	sqlite3			*db;		/* opened by ctl_db() */
	struct fmn_show		*show;		/* made by ctl_shower() */
	/*
	 * With a server (--server, $FMN_SERVER or the client file), the
	 * commands of the API go through it with the token, not to a
	 * database; see ctl_remote.c.
	 */
	char			*server;	/* its base URL, or NULL: local */
	char			*token;
	const struct ctl_cmd	*cmd;		/* the command being run */
	const struct fmn_config	*cfg;		/* the config file's settings */
	const char		*definitions;	/* extra fact definitions file, or NULL */
};

typedef int (*ctl_handler)(struct fmn_ctl *ctl, int argc, char **argv);

struct ctl_cmd {
	const char	*name;		/* "user add" */
	const char	*args;		/* "USER" */
	const char	*summary;	/* one line */
	const char	*help;		/* more lines, or NULL */
	ctl_handler	 handler;	/* argv[0] is the first argument after the name */
	int		 flags;
#define CTL_CREATES	0x1	/* can start from nothing: creates a missing database */
#define CTL_REMOTE	0x2	/* works through fmnd's API too (--server) */
};

/*
 * Open and migrate the database, creating it only for a command that is
 * CTL_CREATES (init, user add, the imports...): any other one needs data
 * that a new database cannot hold, so a missing file is a mistyped
 * path. Exits 1 with a reason on failure.
 */
sqlite3 *ctl_db(struct fmn_ctl *ctl);
/* The configuration reader of fmn_show.h, made once; exits 1 on failure. */
struct fmn_show *ctl_shower(struct fmn_ctl *ctl);
/*
 * Run an operation of filters/fmn_ops.h with args (taken): on the
 * database, or through the API when there is a server. Returns 0 and
 * *out (the caller's), or the exit code after printing why.
 */
int ctl_call(struct fmn_ctl *ctl, enum fmn_op op, json_t *args,
    json_t **out);
/*
 * A listing of op for one USER (the only argument, optional) or for
 * everyone it may show: with --json printed here, *out NULL; else *out
 * to print as text (the caller's). Returns 0 or the exit code.
 */
int ctl_list_for_user(struct fmn_ctl *ctl, int argc, char **argv,
    enum fmn_op op, json_t **out);
/* Print "fmnctl: <reason>" and return CTL_EDATA. */
int ctl_error(struct fmn_ctl *ctl, const char *fmt, ...) FMN_PRINTF(2, 3);
/* Print "fmnctl <cmd>: <reason>" and the usage line; return CTL_EUSAGE. */
int ctl_usage(struct fmn_ctl *ctl, const char *fmt, ...) FMN_PRINTF(2, 3);
/* Print a JSON value (compact, sorted keys) and a newline; steals j. */
void ctl_print_json(json_t *j);

/*
 * Option parsing for handlers: "--name" flags and "--name VALUE" options
 * anywhere in argv, positionals collected in order. Each handler gives
 * its option specs; an unknown option is a usage error.
 */
struct ctl_opt {
	const char	*name;		/* "--batch-delta" */
	int		 has_arg;
	const char	*value;		/* set when seen: the argument, or "" for a flag */
};
/*
 * Returns the number of positionals (moved to the front of argv), or -1
 * after printing a usage error. "--help" prints the command's help and
 * exits 0.
 */
int ctl_parse(struct fmn_ctl *ctl, int argc, char **argv, struct ctl_opt *opts,
    size_t nopts);

/* Look up a user's id; prints an error and returns -1 if unknown. */
long long ctl_user_id(struct fmn_ctl *ctl, const char *name);

/* Refuse (printing why, returning -1) an empty name or one with spaces or controls. */
int ctl_check_name(struct fmn_ctl *ctl, const char *what, const char *name);
/* Refuse a context other than "email" and "irc". */
int ctl_check_context(struct fmn_ctl *ctl, const char *context);

/*
 * A JSON document from FILE or "-" (stdin); NULL after printing why. A
 * key twice in one object is an error (JSON would keep the last one
 * silently).
 */
json_t *ctl_load_json(struct fmn_ctl *ctl, const char *path);

/* Open FILE or "-" (stdin); NULL after printing an error. */
FILE *ctl_open_input(struct fmn_ctl *ctl, const char *path);

/*
 * Read envelopes from FILE or "-", one per line; derive each one's facts
 * (defs_path: extra definitions, or NULL; with match_only, only those
 * matching reads: usernames, packages, agent) and call fn, which fills
 * the JSON object printed for it and returns 0, or prints its line
 * itself and returns 1. A bad line prints {"error", "line"} instead.
 * Returns the exit code.
 */
struct fmn_msg;
typedef int (*ctl_envelope_fn)(void *arg, struct fmn_msg *m, json_t *out);
int ctl_each_envelope(struct fmn_ctl *ctl, const char *path,
    const char *defs_path, int match_only, ctl_envelope_fn fn, void *arg);
/* s as a JSON string, escaped as jansson writes it (JSON_COMPACT). */
void ctl_json_str(struct fmn_buf *b, const char *s);

/*
 * The server and token of a client (ctl_remote.c): the options' when
 * given, else $FMN_SERVER and $FMN_TOKEN, else the client file
 * (~/.config/fmn/client.conf). Nothing when --db names a database.
 * Returns 0, or the exit code after printing why.
 */
int ctl_remote_setup(struct fmn_ctl *ctl, const char *server_opt,
    const char *token_opt, int db_given);
/* An operation through the API: as ctl_call. */
int ctl_remote_call(struct fmn_ctl *ctl, enum fmn_op op, json_t *args,
    json_t **out);
void ctl_remote_cleanup(struct fmn_ctl *ctl);

/* Handlers, one per command: see ctl_cmds.h and the table in ctl.c. */
int ctl_meta(struct fmn_ctl *, int, char **);
int ctl_match(struct fmn_ctl *, int, char **);

#endif
