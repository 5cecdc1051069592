/*
 * fmnctl's commands over the stored messages (ctl_history.c).
 */
#ifndef FMN_CTL_HISTORY_H
#define FMN_CTL_HISTORY_H

#include "ctl.h"

int ctl_history(struct fmn_ctl *, int, char **);
/*
 * fmnctl match --history: the messages stored since `since` (a
 * duration; NULL: one day) that user's filters would have notified.
 */
int ctl_match_history(struct fmn_ctl *ctl, const char *user,
    const char *since);

#endif
