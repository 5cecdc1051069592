/*
 * fmnctl commands of the filter engine: matching, ownership and groups,
 * default filters, and the whole configuration as one JSON document.
 */
#ifndef FMN_CTL_ENGINE_H
#define FMN_CTL_ENGINE_H

#include "ctl.h"

/* ctl_owners.c */
int ctl_owners_import(struct fmn_ctl *, int, char **);
int ctl_owners_list(struct fmn_ctl *, int, char **);
int ctl_groups_import(struct fmn_ctl *, int, char **);
int ctl_groups_list(struct fmn_ctl *, int, char **);
/*
 * The owners and groups documents (DESIGN.md), shared with import:
 * check validates the whole value; store writes it inside the caller's
 * transaction, replacing the namespaces / groups it lists.
 */
int ctl_owners_check(json_t *owners, char **cause);
int ctl_owners_store(sqlite3 *db, json_t *owners, char **cause);
int ctl_groups_check(json_t *groups, char **cause);
int ctl_groups_store(sqlite3 *db, json_t *groups, char **cause);
/* ctl_defaults.c */
int ctl_filter_defaults(struct fmn_ctl *, int, char **);
/* ctl_export.c */
int ctl_export(struct fmn_ctl *, int, char **);
/* ctl_import.c */
int ctl_import(struct fmn_ctl *, int, char **);

#endif
