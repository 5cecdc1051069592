/*
 * The small language of fact definitions: expressions (JSON paths with
 * wildcards, literals, named sub-expressions, piped through transforms),
 * templates ("{/msg/agent}'s {/msg/build/nvr} completed"), conditions
 * and lists of cases. Compiled once when a definitions file is loaded,
 * evaluated per message against the envelope. docs/definitions.md is
 * the user's description of the syntax.
 */
#ifndef FMN_EXPR_H
#define FMN_EXPR_H

#include <jansson.h>

#include "fmn_facts.h"
#include "fmn_hmap.h"
#include "fmn_util.h"

struct fmn_expr;
struct fmn_tmpl;
struct fmn_cases;
struct fmn_items;
struct fmn_pool;

/* Everything compiled is owned by a pool and freed with it. */
struct fmn_pool *fmn_pool_new(void);
void fmn_pool_destroy(struct fmn_pool **pp);
/* Hand p to the pool, which calls fn(p) when destroyed; returns p. */
void *fmn_pool_add(struct fmn_pool *pl, void *p, void (*fn)(void *));

/* What names an expression may refer to while it is compiled. */
struct fmn_scope {
	struct fmn_pool		*pool;
	struct fmn_hmap	*tables;	/* name -> struct fmn_hmap of char * */
	struct fmn_hmap	*lets;		/* name -> struct fmn_expr */
	const struct fmn_scope	*parent;	/* for lets: the file's scope */
};

/* Compile; NULL with *cause set on a syntax error. */
struct fmn_expr *fmn_expr_compile(const struct fmn_scope *sc, const char *src,
    char **cause);
/* A named value given as cases (a let that is an array). */
struct fmn_expr *fmn_expr_from_cases(const struct fmn_scope *sc,
    struct fmn_cases *cs);
struct fmn_tmpl *fmn_tmpl_compile(const struct fmn_scope *sc, const char *src,
    char **cause);
/* A text fact: a template string or an array of cases (see the docs). */
struct fmn_cases *fmn_cases_compile(const struct fmn_scope *sc, json_t *spec,
    const char *where, char **cause);
/* A list fact: an expression string or an array of them (and cases). */
struct fmn_items *fmn_items_compile(const struct fmn_scope *sc, json_t *spec,
    const char *where, char **cause);

/* Per-message evaluation context. */
struct fmn_eval {
	json_t				*env;
	const struct fmn_aliases	*aliases;
	int				 errors;	/* regex limits hit, ... */
};

/* The text of the first case whose condition holds and renders; NULL if none. */
char *fmn_cases_eval(const struct fmn_cases *c, struct fmn_eval *ev);
/* Add every string the items yield to the set; alias maps names. */
void fmn_items_eval(const struct fmn_items *it, struct fmn_eval *ev,
    struct fmn_strset *out, int alias);

#endif
