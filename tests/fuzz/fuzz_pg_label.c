/* fuzz_pg_label.c: what the pg-archive catalog reads from backups and WAL
 * tools: backup_label and .backup history files (rd_pg_label_parse), their
 * times with zone abbreviations (rd_pg_label_time), and pg_waldump output
 * (rd_pg_waldump_last_commit). */
#include "../../harness/catalog/pg_wal.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    if (!s)
        return 0;
    rd_pg_label l;
    int64_t ms = 0;
    rd_error err;
    rd_error_clear(&err);
    (void)rd_pg_label_parse(s, &l, &err);
    (void)rd_pg_label_time(s, &ms, &err);
    (void)rd_pg_waldump_last_commit(s);
    free(s);
    return 0;
}
