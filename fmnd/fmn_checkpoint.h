/*
 * WAL checkpoints off the daemon's loop. The loop's connection never
 * checkpoints; a thread with a connection of its own copies the WAL
 * back into the database file when the loop reports that it has grown,
 * or every second, so the loop never waits for that copy and its fsync.
 */
#ifndef FMN_CHECKPOINT_H
#define FMN_CHECKPOINT_H

#include <sqlite3.h>

struct fmn_checkpointer;

/* Start the thread for the database at path, and hook db's commits. */
struct fmn_checkpointer *fmn_checkpointer_new(sqlite3 *db, const char *path,
    char **cause);
/* Stop the thread (after one last checkpoint) and unhook. */
void fmn_checkpointer_destroy(struct fmn_checkpointer **cp);

#endif
