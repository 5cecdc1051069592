/*
 * The literal runs a regex requires (fmn_literal.h). The pattern is read
 * at its top level only, as a sequence of atoms: a literal character
 * (plain, or a non-alphanumeric one escaped) extends the current run;
 * anything else ends it, and its extent is skipped (a group to its
 * closing parenthesis, a class to its bracket, an escape to its end).
 * A quantifier that allows zero takes its character out of the run; one
 * that does not keeps the character and ends the run. Alternation at the
 * top level, or any construct this reading does not know, gives up.
 *
 * Giving up is always safe (the engine then does without the index);
 * naming a run a match could lack is not, so every doubt gives up.
 */
#include "fmn_literal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "fmn_util.h"

struct lscan {
	struct fmn_literal	*out;
	struct fmn_buf		 run;
	int			 prefix_open;	/* the run is the anchored one */
};

static void
run_end(struct lscan *s)
{
	struct fmn_literal *l = s->out;
	int prefix = s->prefix_open;

	s->prefix_open = 0;
	if (s->run.len == 0)
		return;
	l->runs = xreallocarray(l->runs, l->nruns + 1, sizeof(*l->runs));
	l->runs[l->nruns].len = s->run.len;
	l->runs[l->nruns].text = xstrndup(s->run.data, s->run.len);
	if (prefix)
		l->prefix = (const struct fmn_literal_run *)(uintptr_t)l->nruns;
	l->nruns++;
	fmn_buf_reset(&s->run);
}

/* Bytes of the UTF-8 character at p (valid UTF-8), 0 at a cut one. */
static size_t
utf8_len(const char *p)
{
	unsigned char c = (unsigned char)*p;
	size_t n, i;

	n = c < 0x80 ? 1 : c < 0xe0 ? 2 : c < 0xf0 ? 3 : 4;
	for (i = 1; i < n; i++)
		if (p[i] == '\0')
			return 0;
	return n;
}

/*
 * A counted quantifier at p ('{'): {n}, {n,}, {n,m}, {,m}, spaces
 * allowed, at least one digit. Sets *min and returns its length, or 0
 * when p does not read as one.
 */
static size_t
brace_quantifier(const char *p, long *min)
{
	const char *q = p + 1;
	int digits = 0;

	*min = 0;
	while (*q == ' ')
		q++;
	if (isdigit((unsigned char)*q)) {
		*min = strtol(q, (char **)&q, 10);
		digits = 1;
	}
	while (*q == ' ')
		q++;
	if (*q == ',') {
		q++;
		while (*q == ' ')
			q++;
		while (isdigit((unsigned char)*q)) {
			q++;
			digits = 1;
		}
		while (*q == ' ')
			q++;
	}
	if (*q != '}' || !digits)
		return 0;
	return (size_t)(q + 1 - p);
}

/* Could '{' at p be read as a quantifier by some PCRE2 version? */
static int
brace_doubtful(const char *p)
{
	return p[1] == ' ' || p[1] == ',' || p[1] == '}' ||
	    isdigit((unsigned char)p[1]);
}

/*
 * The quantifier at *p, if any, skipped with its lazy or possessive
 * mark: 1 with *min set, 0 when there is none, -1 when in doubt.
 */
static int
quantifier(const char **p, long *min)
{
	const char *q = *p;
	size_t n;

	switch (*q) {
	case '*':
	case '?':
		*min = 0;
		q++;
		break;
	case '+':
		*min = 1;
		q++;
		break;
	case '{':
		if ((n = brace_quantifier(q, min)) == 0)
			return brace_doubtful(q) ? -1 : 0;
		q += n;
		break;
	default:
		return 0;
	}
	if (*q == '?' || *q == '+')
		q++;
	*p = q;
	return 1;
}

/* Is the group at p one whose kind this reading knows? */
static int
group_known(const char *p)
{
	if (p[1] == '*')
		return 0;		/* a verb: (*UTF), (*ACCEPT), ... */
	if (p[1] != '?')
		return 1;		/* capturing */
	switch (p[2]) {
	case ':':			/* non-capturing */
	case '=':			/* lookahead */
	case '!':
	case '>':			/* atomic */
	case '|':			/* branch reset */
	case '\'':			/* named */
		return 1;
	case '<':			/* lookbehind or named */
		return 1;
	case 'P':
		return p[3] == '<';
	default:			/* options, conditionals, recursion, ... */
		return 0;
	}
}

/*
 * Is the escape at p (a backslash) two bytes long, as the class and
 * group skippers read it? Not \Q...\E, and not \c, which takes the
 * byte after it too (\c) is one character).
 */
static int
escape_plain(const char *p)
{
	return p[1] != '\0' && p[1] != 'Q' && p[1] != 'E' && p[1] != 'c';
}

/* Skip a class at *p ('['); -1 when it does not end. */
static int
skip_class(const char **p)
{
	const char *q = *p + 1;

	if (*q == '^')
		q++;
	if (*q == ']')
		q++;
	for (;;) {
		switch (*q) {
		case '\0':
			return -1;
		case '\\':
			if (!escape_plain(q))
				return -1;
			q += 2;
			break;
		case '[':
			if (q[1] == ':' || q[1] == '.' || q[1] == '=') {
				/* Only a well-formed [:name:] or [:^name:]. */
				const char *r = q + 2;

				if (q[1] != ':')
					return -1;
				if (*r == '^')
					r++;
				if (!islower((unsigned char)*r))
					return -1;
				while (islower((unsigned char)*r))
					r++;
				if (r[0] != ':' || r[1] != ']')
					return -1;
				q = r + 2;
			} else
				q++;
			break;
		case ']':
			*p = q + 1;
			return 0;
		default:
			q++;
		}
	}
}

/* Skip a group at *p ('('), nested ones included; -1 on doubt. */
static int
skip_group(const char **p)
{
	const char *q = *p;
	int depth = 0;

	for (;;) {
		switch (*q) {
		case '\0':
			return -1;
		case '\\':
			if (!escape_plain(q))
				return -1;
			q += 2;
			break;
		case '[':
			if (skip_class(&q) == -1)
				return -1;
			break;
		case '(':
			/*
			 * Only groups whose extent the parentheses give: not a
			 * comment, a callout's string, a verb such as (*ACCEPT)
			 * (a match may end there) or options such as (?x)
			 * (after which # starts a comment).
			 */
			if (!group_known(q))
				return -1;
			depth++;
			q++;
			break;
		case ')':
			q++;
			if (--depth == 0) {
				*p = q;
				return 0;
			}
			break;
		default:
			q++;
		}
	}
}

/* Skip an escape that is not a literal character (p at the backslash). */
static int
skip_escape(const char **p)
{
	const char *q = *p + 1, *close;
	char d = *q++;

	switch (d) {
	case 'Q':
	case 'E':
		return -1;
	case 'x':
	case 'o':
		if (*q == '{') {
			if ((close = strchr(q, '}')) == NULL)
				return -1;
			q = close + 1;
		} else if (d == 'o')
			return -1;
		else
			while (isxdigit((unsigned char)*q) && q - *p < 4)
				q++;
		break;
	case 'c':
		if (*q == '\0')
			return -1;
		q++;
		break;
	case 'p':
	case 'P':
	case 'N':
		if (*q == '{') {
			if ((close = strchr(q, '}')) == NULL)
				return -1;
			q = close + 1;
		} else if (d != 'N') {
			if (*q == '\0')
				return -1;
			q++;
		}
		break;
	case 'g':
	case 'k':
		if (*q == '{' || *q == '<' || *q == '\'') {
			char end = *q == '{' ? '}' : *q == '<' ? '>' : '\'';

			if ((close = strchr(q + 1, end)) == NULL)
				return -1;
			q = close + 1;
		} else {
			if (*q == '+' || *q == '-')
				q++;
			while (isdigit((unsigned char)*q))
				q++;
		}
		break;
	default:
		if (isdigit((unsigned char)d))
			while (isdigit((unsigned char)*q))
				q++;
		break;
	}
	*p = q;
	return 0;
}

static int
scan(struct lscan *s, const char *p)
{
	const char *atom;
	size_t alen;
	long min;
	int q;

	if (*p == '^') {
		s->prefix_open = 1;
		p++;
	}
	while (*p != '\0') {
		switch (*p) {
		case '|':
		case '*':
		case '+':
		case '?':
			return -1;
		case '(':
			if (!group_known(p) || skip_group(&p) == -1)
				return -1;
			run_end(s);
			if (quantifier(&p, &min) == -1)
				return -1;
			continue;
		case '[':
			if (skip_class(&p) == -1)
				return -1;
			run_end(s);
			if (quantifier(&p, &min) == -1)
				return -1;
			continue;
		case '.':
		case '^':
		case '$':
			p++;
			run_end(s);
			if (quantifier(&p, &min) == -1)
				return -1;
			continue;
		case '\\':
			if (p[1] == '\0')
				return -1;
			if ((unsigned char)p[1] < 0x80 &&
			    isalnum((unsigned char)p[1])) {
				if (skip_escape(&p) == -1)
					return -1;
				run_end(s);
				if (quantifier(&p, &min) == -1)
					return -1;
				continue;
			}
			atom = p + 1;
			break;
		case '{':
			if (brace_doubtful(p))
				return -1;
			atom = p;
			break;
		default:
			atom = p;
			break;
		}
		/* A literal character, perhaps quantified. */
		if ((alen = utf8_len(atom)) == 0)
			return -1;
		p = atom + alen;
		if ((q = quantifier(&p, &min)) == -1)
			return -1;
		if (q == 1 && min == 0) {
			run_end(s);
			continue;
		}
		fmn_buf_add(&s->run, atom, alen);
		if (q == 1)
			run_end(s);
	}
	run_end(s);
	return 0;
}

int
fmn_literal_regex(const char *pattern, struct fmn_literal *out)
{
	struct lscan s;
	uintptr_t prefix;
	int ret;

	memset(out, 0, sizeof(*out));
	memset(&s, 0, sizeof(s));
	s.out = out;
	fmn_buf_init(&s.run);
	/* The prefix is noted as an index until the array stops moving. */
	out->prefix = (const struct fmn_literal_run *)(uintptr_t)-1;
	ret = scan(&s, pattern);
	fmn_buf_free(&s.run);
	prefix = (uintptr_t)out->prefix;
	out->prefix = NULL;
	if (ret == -1) {
		fmn_literal_clear(out);
		return -1;
	}
	if (prefix != (uintptr_t)-1)
		out->prefix = &out->runs[prefix];
	return 0;
}

void
fmn_literal_clear(struct fmn_literal *l)
{
	size_t i;

	for (i = 0; i < l->nruns; i++)
		free(l->runs[i].text);
	free(l->runs);
	memset(l, 0, sizeof(*l));
}
