/*
 * Globs, as topic rules and fact definitions write them: '*' is any run
 * of characters (dots included), '?' one character, anything else
 * itself. No character classes, no escapes: topics have no use for them.
 */
#ifndef FMN_GLOB_H
#define FMN_GLOB_H

/* Does the whole of s match glob g? */
int fmn_glob_match(const char *g, const char *s);

#endif
