/*
 * Where fmnctl's operations run: on the database (--db, the usual), or
 * through fmnd's API (--server URL --token TOKEN, $FMN_SERVER and
 * $FMN_TOKEN, or ~/.config/fmn/client.conf) with libcurl. Either way a
 * command gets the same JSON back from the same operation
 * (filters/fmn_ops.h), so that it prints the same thing; a refusal of
 * the server is printed as the local refusal would be, "fmnctl: why",
 * with exit status 1.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <curl/curl.h>
#include <ini.h>

#include "ctl.h"
#include "fmn_config.h"
#include "fmn_version.h"

#define REMOTE_MAX_ANSWER	(64L << 20)	/* bytes of an answer */
#define REMOTE_TIMEOUT		120		/* seconds for a request */
#define REMOTE_CONNECT_TIMEOUT	15

/* The client file's keys, as read. */
struct remote_file {
	const char	*path;
	char		*server;
	char		*token;
	char		*error;		/* the first thing refused */
};

static int
remote_file_key(void *arg, const char *section, const char *name,
    const char *value)
{
	struct remote_file *f = arg;
	char **to;

	if (f->error != NULL)
		return 1;
	if (*section != '\0' && strcmp(section, "client") != 0) {
		f->error = xasprintf("unknown section [%s]", section);
		return 0;
	}
	if (strcmp(name, "server") == 0)
		to = &f->server;
	else if (strcmp(name, "token") == 0)
		to = &f->token;
	else {
		f->error = xasprintf("unknown key %s (server, token)", name);
		return 0;
	}
	free(*to);
	*to = xstrdup(value);
	return 1;
}

/* ~/.config/fmn/client.conf ($XDG_CONFIG_HOME too); NULL: no home. */
static char *
remote_file_path(void)
{
	const char *x = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");

	if (x != NULL && *x == '/')
		return xasprintf("%s/fmn/client.conf", x);
	if (home != NULL && *home != '\0')
		return xasprintf("%s/.config/fmn/client.conf", home);
	return NULL;
}

/*
 * Read the client file if there is one; 0, or -1 after printing why. A
 * token in a file others can read is refused, as ssh refuses such a
 * key: it is a password.
 */
static int
remote_file_read(struct remote_file *f)
{
	struct stat sb;
	FILE *fp;
	int rc;

	if (f->path == NULL || (fp = fopen(f->path, "r")) == NULL) {
		if (f->path != NULL && errno != ENOENT) {
			fprintf(stderr, "fmnctl: %s: %s\n", f->path,
			    strerror(errno));
			return -1;
		}
		return 0;
	}
	rc = ini_parse_file(fp, remote_file_key, f);
	if (rc == 0 && fstat(fileno(fp), &sb) == 0 && f->token != NULL &&
	    (sb.st_mode & (S_IRWXG | S_IRWXO)) != 0)
		f->error = xasprintf("it holds a token and others may read "
		    "it; chmod 600 %s", f->path);
	fclose(fp);
	if (rc > 0) {
		fprintf(stderr, "fmnctl: %s:%d: %s\n", f->path, rc,
		    f->error != NULL ? f->error : "syntax error");
		return -1;
	}
	if (f->error != NULL || rc != 0) {
		fprintf(stderr, "fmnctl: %s: %s\n", f->path,
		    f->error != NULL ? f->error : "cannot be read");
		return -1;
	}
	return 0;
}

int
ctl_remote_setup(struct fmn_ctl *ctl, const char *server_opt,
    const char *token_opt, int db_given)
{
	struct remote_file f = { NULL, NULL, NULL, NULL };
	const char *server = server_opt, *token = token_opt;
	char *path;
	int rc = CTL_OK;

	if (server_opt != NULL && db_given) {
		fputs("fmnctl: --db and --server together: a command works on "
		    "a database or through a server\n", stderr);
		return CTL_EUSAGE;
	}
	if (server_opt == NULL && db_given) {
		if (token_opt != NULL) {
			fputs("fmnctl: --token goes with --server\n", stderr);
			return CTL_EUSAGE;
		}
		return CTL_OK;
	}
	path = remote_file_path();
	f.path = path;
	if (server == NULL && getenv("FMN_SERVER") != NULL &&
	    *getenv("FMN_SERVER") != '\0')
		server = getenv("FMN_SERVER");
	if (token == NULL && getenv("FMN_TOKEN") != NULL &&
	    *getenv("FMN_TOKEN") != '\0')
		token = getenv("FMN_TOKEN");
	if ((server == NULL || token == NULL) && remote_file_read(&f) != 0) {
		rc = CTL_EDATA;
		goto out;
	}
	if (server == NULL)
		server = f.server;
	if (token == NULL)
		token = f.token;
	if (server == NULL) {
		if (token_opt != NULL) {
			fputs("fmnctl: --token goes with --server\n", stderr);
			rc = CTL_EUSAGE;
		}
		goto out;
	}
	if (strncmp(server, "http://", 7) != 0 &&
	    strncmp(server, "https://", 8) != 0) {
		fprintf(stderr, "fmnctl: --server %s: expected http://HOST[:PORT]"
		    "[/PATH] or https://...\n", server);
		rc = CTL_EUSAGE;
		goto out;
	}
	if (token == NULL || *token == '\0') {
		fprintf(stderr, "fmnctl: %s needs a token: --token, $FMN_TOKEN "
		    "or token = in %s (an admin makes one on the server with "
		    "fmnctl token create USER)\n", server,
		    path != NULL ? path : "~/.config/fmn/client.conf");
		rc = CTL_EUSAGE;
		goto out;
	}
	ctl->server = xstrdup(server);
	/* "https://fmn.example.org/" and without the slash alike. */
	while (strlen(ctl->server) > 8 &&
	    ctl->server[strlen(ctl->server) - 1] == '/')
		ctl->server[strlen(ctl->server) - 1] = '\0';
	ctl->token = xstrdup(token);
	curl_global_init(CURL_GLOBAL_DEFAULT);
out:
	free(f.server);
	free(f.token);
	free(f.error);
	free(path);
	return rc;
}

void
ctl_remote_cleanup(struct fmn_ctl *ctl)
{
	if (ctl->server == NULL)
		return;
	free(ctl->server);
	if (ctl->token != NULL)
		memset(ctl->token, 0, strlen(ctl->token));
	free(ctl->token);
	ctl->server = ctl->token = NULL;
	curl_global_cleanup();
}

static size_t
remote_write(char *p, size_t size, size_t n, void *arg)
{
	struct fmn_buf *b = arg;

	if (b->len + size * n > (size_t)REMOTE_MAX_ANSWER)
		return 0;
	fmn_buf_add(b, p, size * n);
	return size * n;
}

/* The refusal of the server, as a person reads it. */
static int
remote_refused(struct fmn_ctl *ctl, long status, json_t *doc)
{
	const char *why = json_string_value(json_object_get(doc, "error"));

	if (why != NULL)
		return ctl_error(ctl, "%s", why);
	return ctl_error(ctl, "%s answered HTTP %ld, not an answer of fmnd's "
	    "API (is it the right address?)", ctl->server, status);
}

int
ctl_remote_call(struct fmn_ctl *ctl, enum fmn_op op, json_t *args,
    json_t **out)
{
	const struct fmn_ops_desc *d = fmn_ops_desc(op);
	struct curl_slist *hdr = NULL;
	struct fmn_buf answer;
	char *target, *url = NULL, *auth, *body = NULL, *cause = NULL;
	char err[CURL_ERROR_SIZE] = "";
	json_t *doc = NULL;
	long status = 0;
	CURLcode cc;
	CURL *c;
	int rc;

	*out = NULL;
	fmn_buf_init(&answer);
	if ((target = fmn_ops_target(op, args, &cause)) == NULL) {
		rc = ctl_error(ctl, "%s", cause);
		free(cause);
		json_decref(args);
		return rc;
	}
	url = xasprintf("%s/api/v1%s", ctl->server, target);
	if (strcmp(d->method, "POST") == 0 || strcmp(d->method, "PATCH") == 0)
		body = json_dumps(args, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(args);
	auth = xasprintf("Authorization: Bearer %s", ctl->token);
	hdr = curl_slist_append(hdr, auth);
	hdr = curl_slist_append(hdr, "Accept: application/json");
	if (body != NULL)
		hdr = curl_slist_append(hdr, "Content-Type: application/json");
	if ((c = curl_easy_init()) == NULL) {
		rc = ctl_error(ctl, "cannot start libcurl");
		goto out;
	}
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "fmnctl/" FMN_VERSION);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, d->method);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, remote_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &answer);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)REMOTE_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, (long)REMOTE_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* A redirect would carry the token elsewhere: none is followed. */
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(c);
	if (cc != CURLE_OK) {
		rc = ctl_error(ctl, "%s: %s", ctl->server,
		    *err != '\0' ? err : curl_easy_strerror(cc));
		goto out;
	}
	doc = json_loadb(answer.data != NULL ? answer.data : "", answer.len,
	    JSON_DECODE_ANY, NULL);
	if (status < 200 || status > 299)
		rc = remote_refused(ctl, status, doc);
	else if (doc == NULL)
		rc = ctl_error(ctl, "%s: the answer is not JSON (is it fmnd's "
		    "API?)", ctl->server);
	else {
		*out = doc;
		doc = NULL;
		rc = CTL_OK;
	}
out:
	json_decref(doc);
	free(target);
	free(url);
	free(body);
	memset(auth, 0, strlen(auth));
	free(auth);
	curl_slist_free_all(hdr);
	fmn_buf_free(&answer);
	return rc;
}

int
ctl_call(struct fmn_ctl *ctl, enum fmn_op op, json_t *args, json_t **out)
{
	struct fmn_ops_ctx ctx;
	struct fmn_ops_result res;
	int rc;

	*out = NULL;
	if (ctl->server != NULL)
		return ctl_remote_call(ctl, op, args, out);
	memset(&ctx, 0, sizeof(ctx));
	/* The rule kinds are the program's, not the database's. */
	ctx.db = op == FMN_OP_RULES ? NULL : ctl_db(ctl);
	ctx.definitions = ctl->definitions;
	ctx.confirm_expiry = ctl->cfg->confirm_expiry;
	ctx.admin = 1;		/* whoever can write the database */
	ctx.now = fmn_now();
	fmn_ops_run(&ctx, op, args, &res);
	json_decref(args);
	if (res.status != FMN_OPS_OK)
		rc = ctl_error(ctl, "%s", res.error);
	else {
		*out = res.out;
		res.out = NULL;
		rc = CTL_OK;
	}
	fmn_ops_result_clear(&res);
	return rc;
}

int
ctl_list_for_user(struct fmn_ctl *ctl, int argc, char **argv,
    enum fmn_op op, json_t **out)
{
	int rc;

	*out = NULL;
	if ((argc = ctl_parse(ctl, argc, argv, NULL, 0)) < 0)
		return CTL_EUSAGE;
	if (argc > 1)
		return ctl_usage(ctl, "expected at most one USER");
	if ((rc = ctl_call(ctl, op, argc == 1 ? json_pack("{s:s}", "user",
	    argv[0]) : json_object(), out)) != CTL_OK)
		return rc;
	if (ctl->json) {
		ctl_print_json(*out);
		*out = NULL;
	}
	return CTL_OK;
}
