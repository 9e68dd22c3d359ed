/* fuzz_history.c: a history file as `history verify` reads it
 * (rd_history_verify): JSON lines chained by SHA-256. The input is handed
 * over as a file in memory (memfd). */
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz_util.h"
#include "restoredrill/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[64];
    size_t lines = 0, bad = 0;
    rd_error err;
    int fd = memfd_create("history", MFD_CLOEXEC);
    if (fd < 0)
        return 0;
    if (size == 0 || write(fd, data, size) == (ssize_t)size) {
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        rd_error_clear(&err);
        (void)rd_history_verify(path, &lines, &bad, &err);
    }
    close(fd);
    return 0;
}
