/* test_disk_full.c: rd_scratch_disk_full_text (harness/scratch/scratch_util.c),
 * which tells a full scratch disk (an operator's problem, an `error`) from a
 * failed restore (the recovery point's problem): the messages PostgreSQL and
 * MariaDB really write when their disk fills. */
#include <check.h>
#include <stddef.h>

#include "restoredrill/scratch.h"

START_TEST(disk_full_messages)
{
    static const char *full[] = {
        /* the errno text, from any tool */
        "psql: ERROR:  could not extend file \"base/16384/16385\": No space left on device",
        /* PostgreSQL's short write: the errno text is not logged, the hint is */
        "2026-12-05 23:40:01 UTC ERROR:  could not extend file \"base/5/16390\": wrote only 4096 "
        "of 8192 bytes at block 1210\n2026-12-05 23:40:01 UTC HINT:  Check free disk space.\n",
        /* mariadbd's log line when a write finds the disk full */
        "[ERROR] mariadbd: Disk full (/tmp/#sql-temptable-1.MAI); waiting for someone to free "
        "some space... (errno: 28 \"No space left on device\")",
        "[Warning] mariadbd: Disk full (./shop/orders.ibd); waiting for someone to free space",
    };
    static const char *not_full[] = {
        "psql: ERROR:  relation \"orders\" does not exist",
        "ERROR 1062 (23000) at line 12: Duplicate entry '1' for key 'PRIMARY'",
        "could not extend file: wrote only 4096 of 8192 bytes", /* no hint: not enough to say */
        "",
    };
    for (size_t i = 0; i < sizeof full / sizeof *full; i++)
        ck_assert_msg(rd_scratch_disk_full_text(full[i]), "not seen as disk full: %s", full[i]);
    for (size_t i = 0; i < sizeof not_full / sizeof *not_full; i++)
        ck_assert_msg(!rd_scratch_disk_full_text(not_full[i]), "seen as disk full: %s",
                      not_full[i]);
    ck_assert(!rd_scratch_disk_full_text(NULL));
}
END_TEST

Suite *disk_full_suite(void);
Suite *disk_full_suite(void)
{
    Suite *s = suite_create("disk_full");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, disk_full_messages);
    suite_add_tcase(s, tc);
    return s;
}
