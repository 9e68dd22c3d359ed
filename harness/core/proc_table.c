/* proc_table.c: the abort flag and its signal handlers, the table of live
 * children that rd_proc_kill_all stops on the abort path, and the two
 * primitives under every wait (rd_proc_nap, rd_proc_child_exited). */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "proc_int.h"
#include "restoredrill/clock.h"

#define KILL_ALL_GRACE 5.0
#define MAX_LIVE 1024

/* ---- waiting for children ---- */

void rd_proc_nap(double secs)
{
    if (secs <= 0)
        return;
    struct timespec ts;
    ts.tv_sec = (time_t)secs;
    ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* 1 when the child has exited (it stays a zombie: not reaped), 0 while it
 * runs, -1 when it is not our child any more. */
int rd_proc_child_exited(pid_t pid)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno == EINTR ? 0 : -1;
    return si.si_pid == pid ? 1 : 0;
}

/* ---- abort flag ---- */

static volatile sig_atomic_t abort_signo;

void rd_abort_request(int signo)
{
    if (!abort_signo)
        abort_signo = signo > 0 ? signo : SIGTERM;
}

int rd_abort_requested(void)
{
    return abort_signo;
}

void rd_abort_reset(void)
{
    abort_signo = 0;
}

static void on_signal(int signo)
{
    int saved = errno;
    rd_abort_request(signo);
    errno = saved;
}

void rd_abort_install_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

/* ---- table of live children ---- */

static pthread_mutex_t live_mu = PTHREAD_MUTEX_INITIALIZER;
static pid_t live[MAX_LIVE];

void rd_proc_live_add(pid_t pid)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == 0) {
            live[i] = pid;
            break;
        }
    pthread_mutex_unlock(&live_mu);
}

void rd_proc_live_remove(pid_t pid)
{
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] == pid)
            live[i] = 0;
    pthread_mutex_unlock(&live_mu);
}

void rd_proc_kill_all(void)
{
    pid_t pids[MAX_LIVE];
    int n = 0;
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0) {
            killpg(live[i], SIGTERM);
            pids[n++] = live[i];
        }
    pthread_mutex_unlock(&live_mu);
    if (n == 0)
        return;
    double end = rd_mono_now() + KILL_ALL_GRACE;
    while (rd_mono_now() < end) {
        int running = 0;
        for (int i = 0; i < n && !running; i++)
            running = rd_proc_child_exited(pids[i]) == 0;
        if (!running)
            break;
        rd_proc_nap(0.01);
    }
    /* Only groups whose leader is not reaped yet: their ids cannot be reused. */
    pthread_mutex_lock(&live_mu);
    for (int i = 0; i < MAX_LIVE; i++)
        if (live[i] > 0)
            killpg(live[i], SIGKILL);
    pthread_mutex_unlock(&live_mu);
}
