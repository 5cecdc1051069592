/*
 * One daemon per database: an exclusive POSIX record lock on a file
 * beside it (DB.lock) that holds the owner's pid. The kernel drops the
 * lock when the process ends, however it ends, so a crash never leaves
 * a stale lock behind; fmnctl asks the kernel who holds it to tell a
 * running daemon from a stopped one.
 */
#ifndef FMN_LOCK_H
#define FMN_LOCK_H

#include <sys/types.h>

/* The lock file's path for a database path; the caller frees it. */
char *fmn_lock_path(const char *db_path);

/*
 * Take the lock for db_path and write our pid into the file. Returns the
 * file descriptor to keep open for as long as the lock is wanted, or -1
 * with *cause set (naming the pid of the holder when another process
 * has it).
 */
int fmn_lock_take(const char *db_path, char **cause);
/* Release: truncate the pid away and close. */
void fmn_lock_release(int *fdp);

/*
 * Is db_path's lock held? 1 (and *pid: the holder, or 0 if it cannot be
 * told), 0 when nobody holds it or there is no lock file, -1 when that
 * cannot be told (*cause).
 */
int fmn_lock_holder(const char *db_path, pid_t *pid, char **cause);

#endif
