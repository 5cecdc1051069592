/*
 * fmnctl commands that report on the running daemon from its database:
 * counters, failing destinations, and what waits in the queue.
 */
#ifndef FMN_CTL_DAEMON_H
#define FMN_CTL_DAEMON_H

#include "ctl.h"

int ctl_status(struct fmn_ctl *, int, char **);
int ctl_queue(struct fmn_ctl *, int, char **);

#endif
