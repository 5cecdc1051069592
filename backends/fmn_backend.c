/*
 * The backend registry: every delivery backend fmn knows, looked up by
 * name, each module exporting one ops table. References are strong on
 * purpose: in a static library a weak reference would not pull the
 * module in, and the backend would silently be missing.
 */
#include <stddef.h>
#include <string.h>

#include "fmn_backend.h"
#include "fmn_util.h"

extern const struct fmn_backend_ops fmn_backend_mbox;
extern const struct fmn_backend_ops fmn_backend_capture;
extern const struct fmn_backend_ops fmn_backend_smtp;
extern const struct fmn_backend_ops fmn_backend_irc;

static const struct fmn_backend_ops *const backend_table[] = {
	&fmn_backend_mbox,
	&fmn_backend_capture,
	&fmn_backend_smtp,
	&fmn_backend_irc,
};

/* The table, NULL-terminated (built once). */
static const struct fmn_backend_ops *backend_list[FMN_NELEM(backend_table) + 1];

const struct fmn_backend_ops *const *
fmn_backend_all(void)
{
	size_t i, n = 0;

	if (backend_list[0] != NULL)
		return backend_list;
	for (i = 0; i < FMN_NELEM(backend_table); i++)
		if (backend_table[i] != NULL)
			backend_list[n++] = backend_table[i];
	backend_list[n] = NULL;
	return backend_list;
}

const struct fmn_backend_ops *
fmn_backend_lookup(const char *name)
{
	const struct fmn_backend_ops *const *o;

	for (o = fmn_backend_all(); *o != NULL; o++)
		if (strcmp((*o)->name, name) == 0)
			return *o;
	return NULL;
}
