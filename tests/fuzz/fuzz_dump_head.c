/* fuzz_dump_head.c: the first bytes of a recovery point: wrapping and
 * format detection (rd_wrap_detect, rd_format_detect) and the database
 * name in a pg_dump archive header (rd_pg_archive_dbname). */
#include "fuzz_util.h"
#include "restoredrill/artifact.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *name = NULL;
    rd_error err;
    rd_error_clear(&err);
    (void)rd_wrap_detect(data, size);
    (void)rd_format_detect(data, size);
    if (rd_pg_archive_dbname(data, size, &name, &err) == RD_OK)
        free(name);
    return 0;
}
