/*
 * The input side of `fmnctl meta` and `fmnctl match`: envelopes, one
 * per line, parsed and given their facts exactly as fmnd would (the
 * shipped definitions plus the deployment's, the aliases of the
 * database). A line that is not a valid envelope prints
 * {"error": ..., "line": N}, so that output lines still pair with input
 * lines, and the rest go on; stderr names the input, line and column of
 * the first few such lines, as a compiler would, and the exit status
 * says that some failed.
 */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "fmn_utf8.h"
#include "fmn_facts.h"

/* Bad lines described on stderr; the count at the end covers them all. */
#define ENVELOPE_MAX_ERRORS	10

static int
blank(const char *s)
{
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			return 0;
	return 1;
}

static int
json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int
json_delim(char c)
{
	return json_space(c) || c == '{' || c == '}' || c == '[' ||
	    c == ']' || c == ':' || c == ',' || c == '"';
}

/*
 * Where the last token that starts before pos starts, walking the line
 * as JSON's lexer would. Only needed when jansson does not quote the
 * token (it quotes up to 20 bytes); everything before that token was
 * valid, so its strings are terminated.
 */
static size_t
token_start(const char *line, size_t pos)
{
	size_t i = 0, start = 0;

	while (i < pos) {
		if (json_space(line[i])) {
			i++;
			continue;
		}
		start = i;
		if (line[i] == '"') {
			for (i++; i < pos && line[i] != '"'; i++)
				if (line[i] == '\\')
					i++;
			i++;
		} else if (json_delim(line[i]))
			i++;
		else
			while (i < pos && !json_delim(line[i]))
				i++;
	}
	return start;
}

/*
 * The 1-based column, in characters as jansson counts them, of the
 * token jansson stopped at. Its position is the byte just past that
 * token, which its text quotes as "near 'TOKEN'"; at "near end of file"
 * the point is where the line ends.
 */
static int
token_column(const char *line, size_t len, const json_error_t *e)
{
	const char *near, *tok;
	size_t pos, start, tl;

	pos = e->position > 0 && (size_t)e->position < len ?
	    (size_t)e->position : len;
	near = strstr(e->text, " near '");
	tok = near != NULL ? near + 7 : NULL;
	tl = tok != NULL ? strlen(tok) : 0;
	if (tl > 1 && tok[tl - 1] == '\'' && tl - 1 <= pos &&
	    memcmp(line + pos - (tl - 1), tok, tl - 1) == 0)
		start = pos - (tl - 1);
	else if (strstr(e->text, " near end of file") != NULL)
		start = pos;
	else
		start = token_start(line, pos);
	return 1 + (int)fmn_utf8_chars(line, start);
}

/*
 * The advice for an input that is one JSON document (an array of
 * envelopes, or one envelope spread over lines) rather than one
 * envelope per line, judged from its first line; NULL if it is not one.
 */
static const char *
document_filter(const char *line)
{
	while (json_space(*line))
		line++;
	if (*line == '[')
		return "'.[]'";
	if (*line == '{' && blank(line + 1))
		return ".";
	return NULL;
}

int
ctl_each_envelope(struct fmn_ctl *ctl, const char *path,
    const char *defs_path, int match_only, ctl_envelope_fn fn, void *arg)
{
	struct fmn_aliases *aliases = NULL;
	struct fmn_defs *defs;
	struct fmn_msg *m;
	json_error_t jerr;
	json_t *out, *env;
	FILE *in = NULL;
	const char *name, *filter = NULL;
	char *line = NULL, *cause = NULL;
	size_t cap = 0, len;
	ssize_t n;
	long lineno = 0, lines = 0, failed = 0;
	int ret = CTL_OK, column, printed;

	if ((defs = fmn_defs_new(defs_path, &cause)) == NULL) {
		ret = ctl_error(ctl, "definitions: %s", cause);
		goto out;
	}
	aliases = fmn_aliases_new();
	if (fmn_aliases_load(aliases, ctl_db(ctl), &cause) != 0) {
		ret = ctl_error(ctl, "%s", cause);
		goto out;
	}
	if ((in = ctl_open_input(ctl, path)) == NULL) {
		ret = CTL_EDATA;
		goto out;
	}
	name = in == stdin ? "<stdin>" : path;
	while ((n = getline(&line, &cap, in)) != -1) {
		lineno++;
		if (blank(line))
			continue;
		/* Without its newline, jansson's column is on this line. */
		len = (size_t)n;
		if (len > 0 && line[len - 1] == '\n')
			line[--len] = '\0';
		if (len > 0 && line[len - 1] == '\r')
			line[--len] = '\0';
		lines++;
		out = json_object();
		m = NULL;
		printed = 0;
		if ((env = fmn_msg_load_json(line, len, &jerr)) == NULL) {
			column = token_column(line, len, &jerr);
			cause = xasprintf("invalid JSON at line %ld column %d: "
			    "%s", lineno, column, jerr.text);
			if (failed < ENVELOPE_MAX_ERRORS)
				ctl_error(ctl, "%s:%ld:%d: invalid JSON: %s",
				    name, lineno, column, jerr.text);
		} else {
			m = fmn_msg_from_json(env, NULL, &cause);
			json_decref(env);
			if (m == NULL && failed < ENVELOPE_MAX_ERRORS)
				ctl_error(ctl, "%s:%ld: not an envelope: %s",
				    name, lineno, cause ? cause : "invalid");
		}
		if (m == NULL) {
			if (lines == 1)
				filter = document_filter(line);
			failed++;
			json_object_set_new(out, "error",
			    json_string(cause ? cause : "invalid envelope"));
			json_object_set_new(out, "line", json_integer(lineno));
			free(cause);
			cause = NULL;
		} else {
			if (match_only)
				fmn_facts_derive_match(defs, aliases, m);
			else
				fmn_facts_derive(defs, aliases, m);
			printed = fn(arg, m, out);
			fmn_msg_destroy(&m);
		}
		if (printed)
			json_decref(out);
		else
			ctl_print_json(out);
	}
	if (ferror(in))
		ret = ctl_error(ctl, "reading input failed");
	if (filter != NULL)
		ctl_error(ctl, "the input looks like one JSON document, not one "
		    "envelope per line; try: %sjq -c %s%s%s | fmnctl %s -",
		    in == stdin ? "... | " : "", filter, in == stdin ? "" : " ",
		    in == stdin ? "" : path, ctl->cmd->name);
	if (failed > 0) {
		ctl_error(ctl, "%ld of %ld lines were not valid envelopes",
		    failed, lines);
		ret = CTL_EDATA;
	}
out:
	if (in != NULL && in != stdin)
		fclose(in);
	free(line);
	free(cause);
	fmn_aliases_destroy(&aliases);
	fmn_defs_destroy(&defs);
	return ret;
}
