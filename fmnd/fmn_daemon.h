/*
 * fmnd/: the daemon only (the program, its loop, its intake thread,
 * the queue, digests and the scheduler), on every layer below; nothing
 * includes from it.
 *
 * fmnd's daemon: the configuration it runs with, its state (database,
 * bus, filter engine, queue, batcher, scheduler) and its one loop.
 */
#ifndef FMN_DAEMON_H
#define FMN_DAEMON_H

#include <signal.h>
#include <stddef.h>

#include "fmn_config.h"

/* One command-line setting, applied over the config file. */
struct fmn_override {
	const char	*section;
	const char	*key;
	const char	*value;
};

/* How the configuration is built: the file, then the overrides. */
struct fmn_daemon_args {
	const char		*config_path;	/* NULL: defaults only */
	const struct fmn_override *overrides;
	size_t			 n_overrides;
};

/*
 * Build a configuration: defaults, the file, the overrides (the first
 * [bus] endpoint override replaces the file's endpoints), then the
 * values resolved at run time (database path, default endpoint).
 */
int fmn_daemon_configure(const struct fmn_daemon_args *a,
    struct fmn_config *c, char **cause);

/* Signals the loop reacts to; set by the handlers fmn_daemon_run installs. */
extern volatile sig_atomic_t fmn_daemon_signal_stop;
extern volatile sig_atomic_t fmn_daemon_signal_reload;

struct fmn_daemon;

/* Open everything; cfg stays the caller's but is updated by a reload. */
struct fmn_daemon *fmn_daemon_new(const struct fmn_daemon_args *a,
    struct fmn_config *cfg, char **cause);
/* Run until SIGTERM/SIGINT; 0 on a clean stop. */
int fmn_daemon_run(struct fmn_daemon *d);
void fmn_daemon_destroy(struct fmn_daemon **dp);

#endif
