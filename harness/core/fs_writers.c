/* fs_writers.c: which process, if any, has a file open for writing (a dump
 * that pg_dump or a copy is still writing), read from /proc: every
 * /proc/PID/fd link that resolves to the file, with the access mode of
 * /proc/PID/fdinfo/FD. Processes of other users are visible to root only. */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/fs.h"

/* 1 when /proc/pid/fdinfo/fd says the descriptor was opened for writing. */
static int fd_writes(const char *pid, const char *fd)
{
    char path[PATH_MAX], line[128];
    int w = 0;
    snprintf(path, sizeof path, "/proc/%s/fdinfo/%s", pid, fd);
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags:", 6) == 0) {
            unsigned long flags = strtoul(line + 6, NULL, 8);
            w = (flags & O_ACCMODE) == O_WRONLY || (flags & O_ACCMODE) == O_RDWR;
            break;
        }
    }
    fclose(f);
    return w;
}

static void comm_of(const char *pid, char *buf, size_t bufsz)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "/proc/%s/comm", pid);
    buf[0] = '\0';
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    if (fgets(buf, (int)bufsz, f))
        buf[strcspn(buf, "\n")] = '\0';
    fclose(f);
}

int rd_fs_writer(const char *path, long *pid_out, char *comm, size_t commsz)
{
    char want[PATH_MAX], link[PATH_MAX], fdpath[PATH_MAX];
    int found = 0;
    if (!realpath(path, want))
        return 0;
    DIR *proc = opendir("/proc");
    if (!proc)
        return 0;
    long self = (long)getpid();
    struct dirent *p;
    while (!found && (p = readdir(proc)) != NULL) {
        char *end;
        long pid = strtol(p->d_name, &end, 10);
        if (*end || pid <= 0 || pid == self)
            continue;
        snprintf(fdpath, sizeof fdpath, "/proc/%s/fd", p->d_name);
        DIR *fds = opendir(fdpath);
        if (!fds)
            continue;
        struct dirent *f;
        while (!found && (f = readdir(fds)) != NULL) {
            if (f->d_name[0] == '.')
                continue;
            snprintf(fdpath, sizeof fdpath, "/proc/%s/fd/%s", p->d_name, f->d_name);
            ssize_t n = readlink(fdpath, link, sizeof link - 1);
            if (n <= 0)
                continue;
            link[n] = '\0';
            if (strcmp(link, want) == 0 && fd_writes(p->d_name, f->d_name)) {
                found = 1;
                if (pid_out)
                    *pid_out = pid;
                if (comm && commsz)
                    comm_of(p->d_name, comm, commsz);
            }
        }
        closedir(fds);
    }
    closedir(proc);
    return found;
}
