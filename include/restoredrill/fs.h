/* fs.h: file system helpers: private temp dirs, guarded recursive delete,
 * atomic writes, whole-file reads, locks, tree copies. */
#ifndef RESTOREDRILL_FS_H
#define RESTOREDRILL_FS_H

#include <stddef.h>
#include <sys/types.h>

#include "restoredrill/error.h"

/* Create base/prefixXXXXXX with mode 0700, owned by uid:gid when chown is
 * true (as root, for run_as users). base NULL means $TMPDIR or /tmp. *out is
 * a heap path owned by the caller. */
rd_status rd_fs_mkdtemp(const char *base, const char *prefix, int chown_to, uid_t uid, gid_t gid,
                        char **out, rd_error *err);

/* Recursively delete `path` (not following symlinks), refusing with
 * RD_ERR_REFUSED unless the real path of `path` lies strictly inside the real
 * path of `base`. A missing path is RD_OK. Refusal message:
 * "refusing to delete PATH: it is not inside BASE" (also for PATH == BASE, a
 * base of "/", and a symlink whose target is outside BASE; a symlink inside
 * BASE is removed itself, never its target). Never crosses into another
 * file system. */
rd_status rd_fs_rmtree(const char *path, const char *base, rd_error *err);

/* Write data to path atomically: temp file in the same directory, fsync,
 * rename. mode is used for a new file (e.g. 0644, not reduced by the umask);
 * a replaced file keeps its mode. */
rd_status rd_fs_write_atomic(const char *path, const void *data, size_t len, int mode,
                             rd_error *err);

/* Read a whole file (at most max bytes, else RD_ERR_NOMEM "FILE is larger
 * than N bytes"; max 0 means 64 MiB). *data is heap, NUL-terminated, owned by
 * the caller; *len (len may be NULL) excludes the NUL. */
rd_status rd_fs_read_file(const char *path, size_t max, char **data, size_t *len, rd_error *err);

/* mkdir -p with mode for created directories. */
rd_status rd_fs_mkdir_p(const char *path, int mode, rd_error *err);

/* 1 when path exists (any type), 0 otherwise. */
int rd_fs_exists(const char *path);
/* 1 when another process has path open for writing (it is still being
 * written), with its pid and command name (comm, may be NULL); 0 when none
 * is seen (/proc shows other users' processes to root only). */
int rd_fs_writer(const char *path, long *pid, char *comm, size_t commsz);
/* 1 when path is a directory. */
int rd_fs_is_dir(const char *path);

/* Join two path parts with one '/'. Heap result; NULL on allocation failure. */
char *rd_fs_join(const char *a, const char *b);

/* Take a flock on lock_path (created 0600 when missing), shared when shared
 * is true, else exclusive, waiting up to wait_s seconds (polling, resumed
 * after signals; 0: one try). *fd is the lock's
 * descriptor for rd_fs_unlock. RD_ERR_TIMEOUT "LOCK stayed locked by another
 * process" when the wait runs out; RD_ERR_IO "cannot open lock LOCK: ..."
 * when it cannot be opened (a symlink is refused), "cannot lock LOCK: ..."
 * when flock fails otherwise (err->sys_errno holds the errno). */
rd_status rd_fs_lock(const char *lock_path, double wait_s, int shared, int *fd, rd_error *err);
/* Release and close a lock from rd_fs_lock; fd < 0 is a no-op. */
void rd_fs_unlock(int fd);

/* Copy the tree at src to dst (which must not exist): directories and
 * regular files with their modes (copy_file_range, so the kernel copies the
 * bytes), symlinks as symlinks; everything created is owned by uid:gid when
 * chown_to. The files of different directories are copied by up to four
 * threads at once (the walk that makes the directories is one thread). On
 * failure the partial dst stays for the caller to remove.
 * "disk full: " starts the message when the device is full. */
rd_status rd_fs_copy_tree(const char *src, const char *dst, int chown_to, uid_t uid, gid_t gid,
                          rd_error *err);

#endif
