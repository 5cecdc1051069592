/*
 * The database lock (see fmn_lock.h). fcntl() record locks rather than
 * flock(): F_GETLK names the holder's pid, which is what an admin wants
 * to read. A record lock belongs to the process and is released by any
 * close() of the file in that process, so nothing else here opens it.
 */
#include "fmn_lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmn_log.h"
#include "fmn_util.h"

char *
fmn_lock_path(const char *db_path)
{
	return xasprintf("%s.lock", db_path);
}

static void
lock_whole(struct flock *fl, short type)
{
	memset(fl, 0, sizeof(*fl));
	fl->l_type = type;
	fl->l_whence = SEEK_SET;
	fl->l_start = 0;
	fl->l_len = 0;	/* to the end, however long the file gets */
}

/* The pid written in the file, for when F_GETLK cannot say (0: none). */
static pid_t
lock_read_pid(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return (pid_t)strtol(buf, NULL, 10);
}

int
fmn_lock_take(const char *db_path, char **cause)
{
	char *path = fmn_lock_path(db_path), pid[32];
	struct flock fl;
	pid_t holder;
	int fd, n;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		fmn_set_cause(cause, "cannot open the lock file %s: %s", path,
		    strerror(errno));
		free(path);
		return -1;
	}
	lock_whole(&fl, F_WRLCK);
	if (fcntl(fd, F_SETLK, &fl) == -1) {
		if (errno != EACCES && errno != EAGAIN) {
			fmn_set_cause(cause, "cannot lock %s: %s", path,
			    strerror(errno));
		} else {
			lock_whole(&fl, F_WRLCK);
			holder = fcntl(fd, F_GETLK, &fl) == 0 &&
			    fl.l_type != F_UNLCK && fl.l_pid > 0 ? fl.l_pid :
			    lock_read_pid(fd);
			if (holder > 0)
				fmn_set_cause(cause, "another fmnd (pid %ld) "
				    "runs on the database %s (lock %s)",
				    (long)holder, db_path, path);
			else
				fmn_set_cause(cause, "another fmnd runs on the "
				    "database %s (lock %s)", db_path, path);
		}
		close(fd);
		free(path);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		fmn_set_cause(cause, "cannot write the lock file %s: %s", path,
		    strerror(errno));
		close(fd);
		free(path);
		return -1;
	}
	free(path);
	return fd;
}

void
fmn_lock_release(int *fdp)
{
	if (*fdp < 0)
		return;
	/* A file left behind says nothing: the lock, not the file, counts. */
	if (ftruncate(*fdp, 0) == -1)
		log_debug("lock file: %s", strerror(errno));
	close(*fdp);
	*fdp = -1;
}

int
fmn_lock_holder(const char *db_path, pid_t *pid, char **cause)
{
	char *path = fmn_lock_path(db_path);
	struct flock fl;
	int fd, held;

	*pid = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		held = errno == ENOENT ? 0 : -1;
		if (held < 0)
			fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		free(path);
		return held;
	}
	lock_whole(&fl, F_WRLCK);
	if (fcntl(fd, F_GETLK, &fl) == -1) {
		fmn_set_cause(cause, "%s: %s", path, strerror(errno));
		held = -1;
	} else if ((held = fl.l_type != F_UNLCK))
		*pid = fl.l_pid > 0 ? fl.l_pid : lock_read_pid(fd);
	close(fd);
	free(path);
	return held;
}
