/*
 * What a person does to their own notifications, as operations on a
 * database handle: show a user, add or remove a destination, confirm
 * it, set a preference, add, list, show, move, enable, disable or
 * remove a filter, list the rule kinds, match a stored message, list
 * recent notifications. fmnctl runs them on its database and prints
 * the result; fmnd's API (/api/v1/) runs the same ones for a request
 * and answers the result, so that a command gives the same output and
 * the same refusals either way.
 *
 * An operation takes its arguments as one JSON object (what fmnctl
 * makes of its command line, what the API makes of a request's path,
 * query and body), checks them against its table entry, and gives back
 * JSON, or a status and a message for a person. Each operation is one
 * short transaction at most.
 */
#ifndef FMN_OPS_H
#define FMN_OPS_H

#include <jansson.h>
#include <sqlite3.h>

struct fmn_recipients;

enum fmn_op {
	FMN_OP_USER_SHOW,
	FMN_OP_DEST_LIST,
	FMN_OP_DEST_ADD,
	FMN_OP_DEST_CONFIRM,
	FMN_OP_DEST_RM,
	FMN_OP_PREF_SET,
	FMN_OP_PREF_LIST,
	FMN_OP_FILTER_ADD,
	FMN_OP_FILTER_LIST,
	FMN_OP_FILTER_SHOW,
	FMN_OP_FILTER_SET,	/* enable, disable, move */
	FMN_OP_FILTER_RM,
	FMN_OP_RULES,
	FMN_OP_MATCH,
	FMN_OP_NOTIFICATIONS,
	FMN_OP__COUNT
};

/* How an operation ended; the API answers the HTTP status beside each. */
enum fmn_ops_status {
	FMN_OPS_OK,		/* 200 */
	FMN_OPS_INVALID,	/* 400: an argument or a value refused */
	FMN_OPS_DENIED,		/* 403: not with this token */
	FMN_OPS_NOT_FOUND,	/* 404: no such user, destination, filter... */
	FMN_OPS_CONFLICT,	/* 409: it exists already */
	FMN_OPS_STORE,		/* 500: the database failed */
	FMN_OPS_BUSY,		/* 503: the database stayed locked, or too slow */
};

/* Who asks, and with what. */
struct fmn_ops_ctx {
	sqlite3		*db;		/* read-write */
	const char	*definitions;	/* extra fact definitions, or NULL */
	int		 confirm_expiry; /* seconds: dest add without "expires" */
	/*
	 * An admin (fmnctl on the server's database, an admin token) may
	 * add a destination already confirmed and is shown the secret of a
	 * pending one; a user's token may not and is not, or it could send
	 * notifications to an address that never agreed to receive them.
	 */
	int		 admin;
	double		 now;
};

struct fmn_ops_result {
	enum fmn_ops_status	 status;
	json_t			*out;	/* FMN_OPS_OK: the answer (owned) */
	char			*error;	/* otherwise: why, for a person (owned) */
};

/* An argument's kind, in the table and in the API's documentation. */
enum fmn_ops_type {
	FMN_OPS_STR,
	FMN_OPS_BOOL,
	FMN_OPS_INT,
	FMN_OPS_INT_NULL,	/* a whole number, or null to clear it */
	FMN_OPS_STR_LIST,
};

#define FMN_OPS_MAX_PARAMS	8

struct fmn_ops_param {
	const char		*name;
	enum fmn_ops_type	 type;
	int			 required;
};

struct fmn_ops_desc {
	const char		*command;	/* fmnctl's: "dest add" */
	const char		*method;	/* the API's: GET, POST, PATCH, DELETE */
	/*
	 * The API's paths under /api/v1, each {NAME} one argument; a
	 * request uses the first whose arguments are all given (a list of
	 * every user's rows has a path without {user}).
	 */
	const char		*path[2];
	struct fmn_ops_param	 params[FMN_OPS_MAX_PARAMS];
	void			(*run)(const struct fmn_ops_ctx *, json_t *,
				    struct fmn_ops_result *);
};

/* The table entry of op. */
const struct fmn_ops_desc *fmn_ops_desc(enum fmn_op op);

/*
 * Check args against op's parameters (unknown, missing or mistyped
 * ones are refused; "true" and "12" as the query of a URL gives them
 * are taken for true and 12), then run it. res is filled either way;
 * free it with fmn_ops_result_clear. args is not kept.
 */
void fmn_ops_run(const struct fmn_ops_ctx *ctx, enum fmn_op op, json_t *args,
    struct fmn_ops_result *res);
void fmn_ops_result_clear(struct fmn_ops_result *res);
/* The HTTP status of a result. */
unsigned fmn_ops_http_status(enum fmn_ops_status st);

/*
 * The API's side of the paths (fmn_ops_url.c). From a request's method
 * and target as sent ("/users/al%2Fice/filters?context=email", the
 * /api/v1 prefix taken off) and its body (a JSON object, or NULL), find
 * the operation and gather its arguments: the path's, the query's and
 * the body's, each given once. Returns 0, or the HTTP status to answer
 * (404: no such path, 405: not with that method, and *allow names the
 * methods that are; 400: a malformed target or an argument given
 * twice) with *cause.
 */
int fmn_ops_route(const char *method, const char *target, json_t *body,
    enum fmn_op *op, json_t **args, const char **allow, char **cause);
/*
 * The client's side: the target of op for args ("/users/alice/
 * destinations"), the arguments of the path taken out of args, and for
 * GET and DELETE the others put in the query (also taken out). NULL
 * and *cause when no path of op can be made of args.
 */
char *fmn_ops_target(enum fmn_op op, json_t *args, char **cause);

/*
 * Helpers fmnctl's other commands share with the operations; each
 * returns 0 (or an id) on success, -1 and *cause (for a person) on
 * failure.
 */
/* The id of user name; -1 when there is none, -2 on a database error. */
long long fmn_ops_user_id(sqlite3 *db, const char *name, char **cause);
/* A user or account name: printable, no spaces, at most 255 bytes. */
int fmn_ops_check_name(const char *what, const char *name, char **cause);
/* "email" or "irc". */
int fmn_ops_check_context(const char *context, char **cause);
/*
 * The batch thresholds of a preference. pref set and import check them
 * with the same function, so that a document can hold nothing pref set
 * would refuse.
 */
enum fmn_ops_batch {
	FMN_OPS_BATCH_DELTA,	/* "batch_delta", seconds */
	FMN_OPS_BATCH_COUNT,	/* "batch_count", notifications */
};
int fmn_ops_check_batch(enum fmn_ops_batch which, long long v, char **cause);
/* Its name in a preference and in export/import: "batch_delta"... */
const char *fmn_ops_batch_field(enum fmn_ops_batch which);

/* Who a match notifies, as `fmnctl match` prints it: [{user, context, destination, filter}]. */
json_t *fmn_ops_recipients_json(const struct fmn_recipients *r);

#endif
