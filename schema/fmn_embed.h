/*
 * Data files compiled into the binaries (migrations, shipped fact
 * definitions), so that fmnd and fmnctl need nothing installed beside them.
 */
#ifndef FMN_EMBED_H
#define FMN_EMBED_H

#include <stddef.h>

struct fmn_embedded {
	const char	*name;	/* file name, without directory */
	const char	*data;	/* NUL-terminated contents */
	size_t		 len;
};

/* schema/[0-9]*.sql, sorted by name. */
extern const struct fmn_embedded fmn_embedded_migrations[];
/* filters/defs/[name].json, sorted by name. */
extern const struct fmn_embedded fmn_embedded_defs[];

#endif
