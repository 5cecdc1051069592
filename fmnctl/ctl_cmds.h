/*
 * Every fmnctl command handler, for the table in ctl.c. A handler that
 * is declared weak here and missing from a build makes its command say
 * so instead of failing the link.
 */
#ifndef FMN_CTL_CMDS_H
#define FMN_CTL_CMDS_H

#include "ctl.h"

#define CTL_HANDLER(name) int name(struct fmn_ctl *, int, char **)
#define CTL_OPTIONAL(name) \
	int name(struct fmn_ctl *, int, char **) __attribute__((weak))

/* ctl_user.c */
CTL_HANDLER(ctl_init);
CTL_HANDLER(ctl_user_add);
CTL_HANDLER(ctl_user_list);
CTL_HANDLER(ctl_user_show);
CTL_HANDLER(ctl_user_rm);
CTL_HANDLER(ctl_alias_add);
CTL_HANDLER(ctl_alias_rm);
CTL_HANDLER(ctl_alias_list);
/* ctl_dest.c */
CTL_HANDLER(ctl_dest_add);
CTL_HANDLER(ctl_dest_confirm);
CTL_HANDLER(ctl_dest_list);
CTL_HANDLER(ctl_dest_rm);
CTL_HANDLER(ctl_dest_reset);
/* ctl_pref.c */
CTL_HANDLER(ctl_pref_set);
CTL_HANDLER(ctl_pref_list);
/* ctl_filter.c */
CTL_HANDLER(ctl_filter_add);
CTL_HANDLER(ctl_filter_list);
CTL_HANDLER(ctl_filter_show);
CTL_HANDLER(ctl_filter_rm);
CTL_HANDLER(ctl_filter_enable);
CTL_HANDLER(ctl_filter_disable);
CTL_HANDLER(ctl_filter_move);
CTL_HANDLER(ctl_rules);
/*
 * ctl_defaults.c, ctl_meta.c, ctl_match.c, ctl_owners.c, ctl_export.c,
 * ctl_import.c, ctl_status.c
 */
CTL_OPTIONAL(ctl_filter_defaults);
CTL_OPTIONAL(ctl_meta);
CTL_OPTIONAL(ctl_match);
CTL_OPTIONAL(ctl_owners_import);
CTL_OPTIONAL(ctl_owners_list);
CTL_OPTIONAL(ctl_groups_import);
CTL_OPTIONAL(ctl_groups_list);
CTL_OPTIONAL(ctl_export);
CTL_OPTIONAL(ctl_import);
CTL_OPTIONAL(ctl_status);
CTL_OPTIONAL(ctl_queue);
/* ctl_history.c */
CTL_OPTIONAL(ctl_history);
/* ctl_verify.c */
CTL_OPTIONAL(ctl_verify);
/* ctl_token.c, ctl_recent.c */
CTL_HANDLER(ctl_token_create);
CTL_HANDLER(ctl_token_list);
CTL_HANDLER(ctl_token_rm);
CTL_HANDLER(ctl_notifications);

#endif
