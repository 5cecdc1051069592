/*
 * The operations as the API's URLs (fmn_ops.h): the client makes a
 * target from an operation and its arguments, the server finds the
 * operation and the arguments again in the target, from the same table
 * of paths. Each path segment is percent-encoded on its own, so that a
 * name holding "/" (an e-mail address may) stays one segment; the query
 * is form-encoded.
 */
#include "fmn_ops_int.h"

#include <stdlib.h>
#include <string.h>

#include "fmn_utf8.h"

#define URL_MAX_SEGMENTS	8

static void
url_encode(struct fmn_buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' ||
		    *p == '_' || *p == '~')
			fmn_buf_addc(b, (char)*p);
		else {
			fmn_buf_addc(b, '%');
			fmn_buf_addc(b, hex[*p >> 4]);
			fmn_buf_addc(b, hex[*p & 15]);
		}
	}
}

static int
url_hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n bytes of s decoded (with form, '+' is a space); NULL if malformed. */
static char *
url_decode(const char *s, size_t n, int form)
{
	char *out = xmalloc(n + 1), *o = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n ||
			    (hi = url_hexval(s[i + 1])) < 0 ||
			    (lo = url_hexval(s[i + 2])) < 0)
				goto bad;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+' && form)
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	/* A NUL would cut the value short; names are UTF-8 text. */
	if (strlen(out) != (size_t)(o - out) ||
	    !fmn_utf8_valid(out, (size_t)(o - out)))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

/* Is every {NAME} of tpl a string of args? */
static int
url_fits(const char *tpl, json_t *args)
{
	const char *p = tpl, *end;
	char name[32];

	while ((p = strchr(p, '{')) != NULL) {
		end = strchr(p, '}');
		if (end == NULL || (size_t)(end - p - 1) >= sizeof(name))
			return 0;
		memcpy(name, p + 1, (size_t)(end - p - 1));
		name[end - p - 1] = '\0';
		if (!json_is_string(json_object_get(args, name)))
			return 0;
		p = end + 1;
	}
	return 1;
}

char *
fmn_ops_target(enum fmn_op op, json_t *args, char **cause)
{
	const struct fmn_ops_desc *d = fmn_ops_desc(op);
	const char *tpl = NULL, *p, *key;
	struct fmn_buf b;
	char name[32], sep = '?';
	json_t *v;
	size_t i, n;
	void *tmp;

	for (i = 0; d != NULL && i < FMN_NELEM(d->path) && tpl == NULL; i++)
		if (d->path[i] != NULL && url_fits(d->path[i], args))
			tpl = d->path[i];
	if (tpl == NULL) {
		fmn_set_cause(cause, "%s: no path of the API fits these "
		    "arguments", d != NULL ? d->command : "?");
		return NULL;
	}
	fmn_buf_init(&b);
	for (p = tpl; *p != '\0'; p++) {
		if (*p != '{') {
			fmn_buf_addc(&b, *p);
			continue;
		}
		n = strcspn(p + 1, "}");
		memcpy(name, p + 1, n);
		name[n] = '\0';
		url_encode(&b, json_string_value(json_object_get(args, name)));
		json_object_del(args, name);
		p += n + 1;
	}
	if (strcmp(d->method, "GET") != 0 && strcmp(d->method, "DELETE") != 0)
		return fmn_buf_steal(&b);
	json_object_foreach_safe(args, tmp, key, v) {
		fmn_buf_addc(&b, sep);
		sep = '&';
		url_encode(&b, key);
		fmn_buf_addc(&b, '=');
		if (json_is_string(v))
			url_encode(&b, json_string_value(v));
		else if (json_is_boolean(v))
			fmn_buf_adds(&b, json_is_true(v) ? "true" : "false");
		else if (json_is_integer(v))
			fmn_buf_printf(&b, "%lld", (long long)json_integer_value(v));
		else if (json_is_null(v))
			fmn_buf_adds(&b, "null");
		else {
			fmn_set_cause(cause, "%s: %s cannot go in a URL's query",
			    d->command, key);
			fmn_buf_free(&b);
			return NULL;
		}
		json_object_del(args, key);
	}
	return fmn_buf_steal(&b);
}

/* Set key once; -1 (and *cause) when it is there already. */
static int
route_set(json_t *args, const char *key, const char *value, char **cause)
{
	if (json_object_get(args, key) != NULL) {
		fmn_set_cause(cause, "\"%.100s\" is given twice", key);
		return -1;
	}
	json_object_set_new(args, key, json_string(value));
	return 0;
}

/* Does the path template tpl match the segments? Fills args if so. */
static int
route_match(const char *tpl, char **seg, size_t nseg, json_t *vars)
{
	const char *p = tpl + 1, *q;
	char name[32];
	size_t i = 0, n;

	json_object_clear(vars);
	while (*p != '\0') {
		q = strchr(p, '/');
		n = q != NULL ? (size_t)(q - p) : strlen(p);
		if (i >= nseg)
			return 0;
		if (*p == '{' && n >= 2 && n - 2 < sizeof(name)) {
			memcpy(name, p + 1, n - 2);
			name[n - 2] = '\0';
			/* A name is never empty. */
			if (*seg[i] == '\0')
				return 0;
			json_object_set_new(vars, name, json_string(seg[i]));
		} else if (strlen(seg[i]) != n || strncmp(seg[i], p, n) != 0)
			return 0;
		i++;
		p += n;
		if (*p == '/')
			p++;
	}
	return i == nseg;
}

/* The query's key=value pairs into args; 0, or -1 and *cause. */
static int
route_query(const char *q, json_t *args, char **cause)
{
	const char *p = q, *amp, *eq;
	char *k, *v;
	int rc;

	while (*p != '\0') {
		amp = p + strcspn(p, "&");
		if (amp == p) {
			p++;
			continue;
		}
		eq = memchr(p, '=', (size_t)(amp - p));
		k = url_decode(p, (size_t)((eq != NULL ? eq : amp) - p), 1);
		v = eq != NULL ? url_decode(eq + 1, (size_t)(amp - eq - 1), 1) :
		    xstrdup("");
		if (k == NULL || v == NULL || *k == '\0') {
			free(k);
			free(v);
			fmn_set_cause(cause, "the query is malformed (an empty "
			    "name, a bad %%-escape, a NUL or not UTF-8)");
			return -1;
		}
		rc = route_set(args, k, v, cause);
		free(k);
		free(v);
		if (rc != 0)
			return -1;
		p = *amp != '\0' ? amp + 1 : amp;
	}
	return 0;
}

int
fmn_ops_route(const char *method, const char *target, json_t *body,
    enum fmn_op *op, json_t **args, const char **allow, char **cause)
{
	static const char *const methods[] = {
		"GET", "POST", "PATCH", "DELETE",
	};
	/* The Allow header for each set of methods (bit k: methods[k]). */
	static const char *const allowed[1 << 4] = {
		"", "GET", "POST", "GET, POST", "PATCH", "GET, PATCH",
		"POST, PATCH", "GET, POST, PATCH", "DELETE", "GET, DELETE",
		"POST, DELETE", "GET, POST, DELETE", "PATCH, DELETE",
		"GET, PATCH, DELETE", "POST, PATCH, DELETE",
		"GET, POST, PATCH, DELETE",
	};
	char *seg[URL_MAX_SEGMENTS];
	size_t nseg = 0, plen, i, j, k;
	const char *p, *q, *key;
	json_t *vars = json_object(), *v;
	unsigned set = 0;
	int found = -1, rc = 404;

	*args = NULL;
	*allow = NULL;
	if (*target != '/') {
		fmn_set_cause(cause, "a path starts with /");
		json_decref(vars);
		return 400;
	}
	plen = strcspn(target, "?");
	/* "/rules/" as "/rules". */
	if (plen > 1 && target[plen - 1] == '/')
		plen--;
	for (p = target + 1; p < target + plen && nseg < URL_MAX_SEGMENTS;) {
		q = memchr(p, '/', (size_t)(target + plen - p));
		if (q == NULL)
			q = target + plen;
		if ((seg[nseg] = url_decode(p, (size_t)(q - p), 0)) == NULL) {
			fmn_set_cause(cause, "the path is malformed (a bad "
			    "%%-escape, a NUL or not UTF-8)");
			rc = 400;
			goto out;
		}
		nseg++;
		p = q + 1;
	}
	if (p < target + plen) {
		fmn_set_cause(cause, "no such path");
		goto out;
	}
	for (i = 0; i < FMN_OP__COUNT; i++) {
		const struct fmn_ops_desc *d = fmn_ops_desc((enum fmn_op)i);

		for (k = 0; k < FMN_NELEM(d->path) && d->path[k] != NULL; k++) {
			if (!route_match(d->path[k], seg, nseg, vars))
				continue;
			if (strcmp(d->method, method) == 0) {
				found = (int)i;
				break;
			}
			for (j = 0; j < FMN_NELEM(methods); j++)
				if (strcmp(methods[j], d->method) == 0)
					set |= 1u << j;
			break;
		}
		if (found >= 0)
			break;
	}
	if (found < 0) {
		if (set == 0) {
			fmn_set_cause(cause, "no such path");
			goto out;
		}
		*allow = allowed[set];
		fmn_set_cause(cause, "%s is not allowed here (allowed: %s)",
		    method, *allow);
		rc = 405;
		goto out;
	}
	rc = 400;
	if (body != NULL && !json_is_object(body)) {
		fmn_set_cause(cause, "the body must be a JSON object");
		goto out;
	}
	*args = body != NULL ? json_deep_copy(body) : json_object();
	if (target[strcspn(target, "?")] == '?' &&
	    route_query(target + strcspn(target, "?") + 1, *args, cause) != 0)
		goto out;
	json_object_foreach(vars, key, v)
		if (route_set(*args, key, json_string_value(v), cause) != 0)
			goto out;
	*op = (enum fmn_op)found;
	rc = 0;
out:
	if (rc != 0) {
		json_decref(*args);
		*args = NULL;
	}
	for (i = 0; i < nseg; i++)
		free(seg[i]);
	json_decref(vars);
	return rc;
}
