/* fuzz_mariabackup.c: the files mariadb-backup writes beside a backup, as
 * the mariabackup catalog reads them: xtrabackup_checkpoints
 * (rd_mb_parse_checkpoints), xtrabackup_binlog_info
 * (rd_mb_parse_binlog_info) and xtrabackup_info's local times in a fixed
 * offset and in UTC (rd_mb_parse_info). */
#include "fuzz_util.h"
#include "restoredrill/mariabackup.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    if (!s)
        return 0;
    rd_mb_backup b;
    rd_error err;
    memset(&b, 0, sizeof b);
    rd_error_clear(&err);
    (void)rd_mb_parse_checkpoints(s, &b, &err);
    (void)rd_mb_parse_binlog_info(s, &b, &err);
    (void)rd_mb_parse_info(s, "UTC", &b, &err);
    (void)rd_mb_parse_info(s, "+02:00", &b, &err);
    free(b.binlog_file);
    free(b.gtid);
    free(s);
    return 0;
}
