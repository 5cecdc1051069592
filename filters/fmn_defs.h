/*
 * Compiled fact definitions and their topic index, shared by the loader
 * (fmn_defs.c) and the engine that applies them (fmn_facts.c).
 */
#ifndef FMN_DEFS_H
#define FMN_DEFS_H

#include "fmn_expr.h"

/* One definition: where each fact of the matching topics comes from. */
struct fmn_def {
	const char		*where;		/* "file: defs[3]" for messages */
	struct fmn_items	*usernames;	/* NULL when not defined */
	struct fmn_items	*packages;
	struct fmn_cases	*agent;
	struct fmn_cases	*link;
	struct fmn_cases	*subtitle;
	struct fmn_cases	*long_form;
	struct fmn_cases	*guard;		/* the body's shape; NULL: any */
};

/*
 * The definition that applies to a message, or NULL: the first (by
 * precedence) whose glob matches the topic and whose guard, if it has
 * one, holds for the envelope in ev. With ev NULL, guarded definitions
 * are passed over. The answer for a topic no guard was asked about is
 * remembered: like the definitions' regexes, which keep their match
 * data, d serves one thread at a time.
 */
const struct fmn_def *fmn_defs_lookup(const struct fmn_defs *d,
    const char *topic, struct fmn_eval *ev);
/* Load definitions from text; name is used in error messages. */
int fmn_defs_load_text(struct fmn_defs *d, const char *name, const char *text,
    size_t len, char **cause);
/* Empty definitions (no shipped ones). */
struct fmn_defs *fmn_defs_new_empty(void);

#endif
