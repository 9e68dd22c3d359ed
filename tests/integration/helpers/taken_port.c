/* taken_port.c: an LD_PRELOAD shim for t_faults.sh. In a process named
 * restoredrill only, the first RD_TAKEN_TIMES answers of getsockname() on an
 * IPv4 socket report port RD_TAKEN_PORT (a port the test holds open), so
 * that the scratch server is started on a port another process has taken.
 * Other processes (the database servers inherit the environment) are left
 * alone. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

int getsockname(int fd, struct sockaddr *sa, socklen_t *len);

static int in_restoredrill(void)
{
    char comm[32] = "";
    FILE *f = fopen("/proc/self/comm", "r");
    if (f) {
        if (!fgets(comm, sizeof comm, f))
            comm[0] = '\0';
        fclose(f);
    }
    return strncmp(comm, "restoredrill", 12) == 0;
}

int getsockname(int fd, struct sockaddr *sa, socklen_t *len)
{
    static int (*real)(int, struct sockaddr *, socklen_t *);
    static int used;
    if (!real)
        real = (int (*)(int, struct sockaddr *, socklen_t *))dlsym(RTLD_NEXT, "getsockname");
    int rc = real(fd, sa, len);
    const char *port = getenv("RD_TAKEN_PORT"), *times = getenv("RD_TAKEN_TIMES");
    if (rc == 0 && port && sa->sa_family == AF_INET && used < (times ? atoi(times) : 1) &&
        in_restoredrill()) {
        ((struct sockaddr_in *)sa)->sin_port = htons((unsigned short)atoi(port));
        used++;
    }
    return rc;
}
