/* test_pg_wal.c: what the pg-archive catalog reads from files: WAL segment
 * names and LSNs, backup_label / .backup history files with their zone
 * abbreviations (parsed exactly, an unknown one refused), and the last
 * commit in pg_waldump's output. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../harness/catalog/pg_wal.h"

#define MB16 (UINT64_C(16) << 20)

START_TEST(names_and_lsns)
{
    rd_wal_seg s;
    char buf[32];
    ck_assert(rd_wal_parse_name("00000002000000010000003F", MB16, &s, 0));
    ck_assert_uint_eq(s.tli, 2);
    ck_assert_uint_eq(s.segno, 256 + 63);
    ck_assert_str_eq(rd_wal_name(2, 256 + 63, MB16, buf, sizeof buf), "00000002000000010000003F");
    ck_assert(rd_wal_parse_name("000000010000000000000002.gz", MB16, &s, 1));
    ck_assert(!rd_wal_parse_name("000000010000000000000002.gz", MB16, &s, 0));
    ck_assert(!rd_wal_parse_name("0000000100000000000001FF", MB16, &s, 0)); /* seg >= 256 */
    ck_assert(rd_wal_parse_name("0000000100000000000001FF", UINT64_C(1) << 20, &s, 0));
    ck_assert(!rd_wal_parse_name("00000001000000000000000g", MB16, &s, 0));
    uint64_t lsn;
    ck_assert(rd_wal_parse_lsn("1/3000028", &lsn));
    ck_assert(lsn == ((UINT64_C(1) << 32) | 0x3000028));
    ck_assert(!rd_wal_parse_lsn("13000028", &lsn));
}
END_TEST

START_TEST(label_times)
{
    int64_t ms;
    rd_error err;
    ck_assert_int_eq(rd_pg_label_time("2026-12-05 14:20:31 UTC", &ms, &err), RD_OK);
    ck_assert(ms == INT64_C(1796480431000));
    ck_assert_int_eq(rd_pg_label_time("2026-12-05 15:20:31 CET", &ms, &err), RD_OK);
    ck_assert(ms == INT64_C(1796480431000));
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 16:20:31 CEST", &ms, &err), RD_OK);
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 14:20:31 UTC", &ms, &err), RD_OK);
    int64_t utc = ms;
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 16:20:31 CEST", &ms, &err), RD_OK);
    ck_assert(ms == utc);
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 19:50:31 +0530", &ms, &err), RD_OK);
    ck_assert(ms == utc);
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 11:20:31 -03", &ms, &err), RD_OK);
    ck_assert(ms == utc);
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 10:20:31 EDT", &ms, &err), RD_OK);
    ck_assert(ms == utc);
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 14:20:31 XYZ", &ms, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "time zone abbreviation \"XYZ\" is unknown (set the source's "
                              "log_timezone to UTC)");
    ck_assert_int_eq(rd_pg_label_time("2026-07-05 14:20:31", &ms, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "the time \"2026-07-05 14:20:31\" has no time zone");
}
END_TEST

START_TEST(label_files)
{
    static const char *backup = "START WAL LOCATION: 0/5000028 (file 000000010000000000000005)\n"
                                "STOP WAL LOCATION: 0/5000138 (file 000000010000000000000005)\n"
                                "CHECKPOINT LOCATION: 0/5000060\n"
                                "BACKUP METHOD: streamed\n"
                                "BACKUP FROM: primary\n"
                                "START TIME: 2026-12-05 14:26:29 UTC\n"
                                "LABEL: b2\n"
                                "START TIMELINE: 1\n"
                                "STOP TIME: 2026-12-05 14:26:30 UTC\n"
                                "STOP TIMELINE: 1\n";
    rd_pg_label l;
    rd_error err;
    ck_assert_int_eq(rd_pg_label_parse(backup, &l, &err), RD_OK);
    ck_assert(l.start_lsn == 0x5000028 && l.stop_lsn == 0x5000138);
    ck_assert_str_eq(l.start_file, "000000010000000000000005");
    ck_assert_str_eq(l.label, "b2");
    ck_assert(l.start_ms == INT64_C(1796480789000));
    ck_assert(l.stop_ms == INT64_C(1796480790000));
    ck_assert_uint_eq(l.start_tli, 1);
    ck_assert_int_eq(rd_pg_label_parse("LABEL: x\n", &l, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "START WAL LOCATION is missing");
    ck_assert_int_eq(
        rd_pg_label_parse("START WAL LOCATION: 0/5000028 (file 000000010000000000000005)\n"
                          "START TIME: 2026-12-05 14:26:29 QQQ\n",
                          &l, &err),
        RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "START TIME: time zone abbreviation \"QQQ\" is unknown (set the "
                              "source's log_timezone to UTC)");
}
END_TEST

START_TEST(waldump_commits)
{
    static const char *out =
        "rmgr: Heap        len (rec/tot):     54/    54, tx:        795, lsn: 0/06000140, prev "
        "0/060000D8, desc: INSERT off 136 flags 0x00, blkref #0: rel 1663/16384/16386 blk 0\n"
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        795, lsn: 0/06000178, prev "
        "0/06000140, desc: COMMIT 2026-12-05 14:26:31.831025 UTC\n"
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        796, lsn: 0/060001A0, prev "
        "0/06000178, desc: ABORT 2026-12-05 14:26:32.000000 UTC\n"
        "rmgr: Transaction len (rec/tot):     34/    34, tx:        797, lsn: 0/060001C8, prev "
        "0/060001A0, desc: COMMIT 2026-12-05 14:26:31.900999 UTC; inval msgs: catcache 7\n";
    ck_assert(rd_pg_waldump_last_commit(out) == INT64_C(1796480791900));
    ck_assert(rd_pg_waldump_last_commit("no records\n") == 0);
}
END_TEST

static rd_status fake_fetch(void *ud, const char *file, const char *name, const char *tmpdir,
                            char **local, rd_error *err)
{
    (void)name;
    (void)tmpdir;
    (void)err;
    char buf[512];
    snprintf(buf, sizeof buf, "%s/%s", (const char *)ud, file);
    *local = strdup(buf);
    return RD_OK;
}

/* Timeline 2 forked from 1 at 0/5000100: segment 5 is expected on timeline
 * 2 (its copy holds the switch), 4 on timeline 1; a timeline-1 segment past
 * the fork does not count; a timeline-3 file off the chain neither. */
START_TEST(timeline_chain)
{
    char dir[] = "/tmp/rd-test-tl-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/00000002.history", dir);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fputs("1\t0/5000100\tbefore 2026-12-05 14:26:31.5+00\n", f);
    fclose(f);
    rd_pg_arch a;
    rd_error err;
    memset(&a, 0, sizeof a);
    a.fetch = fake_fetch;
    a.fetch_ud = dir;
    static const char *const segs[] = {"000000010000000000000003",
                                       "000000010000000000000004",
                                       "000000010000000000000005",
                                       "000000010000000000000006",
                                       "000000020000000000000005",
                                       "000000020000000000000007",
                                       NULL};
    for (size_t i = 0; segs[i]; i++)
        ck_assert_int_eq(rd_pg_arch_add_seg(&a, segs[i], segs[i], &err), RD_OK);
    ck_assert_int_eq(rd_pg_arch_add_history(&a, "00000002.history", 2, &err), RD_OK);
    ck_assert_int_eq(rd_pg_arch_index(&a, MB16, &err), RD_OK);
    ck_assert_uint_eq(a.newest_tli, 2);
    ck_assert_uint_eq(a.nchain, 2);
    ck_assert_ptr_null(a.tl_problem);
    ck_assert_str_eq(rd_pg_arch_find(&a, 4)->file, "000000010000000000000004");
    ck_assert_str_eq(rd_pg_arch_find(&a, 5)->file, "000000020000000000000005");
    ck_assert_ptr_null(rd_pg_arch_find(&a, 6)); /* timeline 1 past the fork: not on the chain */
    ck_assert_str_eq(rd_pg_arch_find(&a, 7)->file, "000000020000000000000007");
    ck_assert_uint_eq(rd_pg_arch_tli_at(&a, 4), 1);
    ck_assert_uint_eq(rd_pg_arch_tli_at(&a, 6), 2);
    ck_assert(rd_pg_arch_in_chain(&a, 1) && rd_pg_arch_in_chain(&a, 2));
    ck_assert(!rd_pg_arch_in_chain(&a, 3));
    ck_assert(a.chain[0].switch_lsn == UINT64_C(0x5000100));
    ck_assert(a.chain[1].switch_lsn == UINT64_MAX);

    /* base backups on the chain, and off it */
    char why[512];
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 1, UINT64_C(0x4000100), why, sizeof why), 0);
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 1, UINT64_C(0x5000100), why, sizeof why), 0);
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 2, UINT64_C(0x9000100), why, sizeof why), 0);
    /* the old primary's backup after the failover: timeline 1 past the fork */
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 1, UINT64_C(0x5000101), why, sizeof why), 1);
    ck_assert_str_eq(why, "it ends at 0/5000101 on timeline 1, past the point where timeline 2 "
                          "forked from it (0/5000100): the archive's newest timeline 2 does not "
                          "descend from it");
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 3, UINT64_C(0x4000100), why, sizeof why), 1);
    ck_assert_str_eq(why,
                     "it is on timeline 3, which the archive's newest timeline 2 does not descend "
                     "from");

    /* the timelines with their switch points; no backup: no window, no gap */
    rd_archive ar;
    memset(&ar, 0, sizeof ar);
    ck_assert_int_eq(rd_pg_arch_compute(&a, NULL, 0, &ar, &err), RD_OK);
    ck_assert_str_eq(ar.timelines, "1->2 at 0/5000100");
    ck_assert_str_eq(ar.newest, "000000020000000000000007");
    ck_assert_uint_eq(ar.ngaps, 0);
    free(ar.timelines);
    free(ar.newest);
    rd_pg_arch_free(&a);

    /* a newest timeline without its history file: inconsistent timelines */
    memset(&a, 0, sizeof a);
    a.fetch = fake_fetch;
    a.fetch_ud = dir;
    ck_assert_int_eq(
        rd_pg_arch_add_seg(&a, "000000030000000000000008", "000000030000000000000008", &err),
        RD_OK);
    ck_assert_int_eq(rd_pg_arch_index(&a, MB16, &err), RD_OK);
    ck_assert_str_eq(a.tl_problem, "timeline 3 has segments but 00000003.history is missing");
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 3, UINT64_C(0x8000100), why, sizeof why), 0);
    ck_assert_int_eq(rd_pg_arch_off_chain(&a, 1, UINT64_C(0x2000100), why, sizeof why), 1);
    ck_assert_str_eq(why, "it is on timeline 1 and the archive's timelines are inconsistent: "
                          "timeline 3 has segments but 00000003.history is missing");
    /* the missing history file is a gap: from the end of the backup it leaves
     * off the chain to the end of the first usable one after it (+1s) */
    rd_pg_backup bs[2];
    memset(bs, 0, sizeof bs);
    bs[0].pt.created_ms = INT64_C(1796511297000);
    bs[0].off_chain = 1;
    bs[1].pt.created_ms = INT64_C(1796511304000);
    bs[1].usable = 1;
    bs[1].start_seg = bs[1].stop_seg = 8;
    a.waldump = strdup("true"); /* the reach of bs[1]: no commit read */
    rd_archive *ar2 = calloc(1, sizeof *ar2);
    ck_assert_ptr_nonnull(ar2);
    ck_assert_int_eq(rd_pg_arch_compute(&a, bs, 2, ar2, &err), RD_OK);
    ck_assert_uint_eq(ar2->ngaps, 1);
    ck_assert_str_eq(ar2->gaps[0].first, "00000003.history");
    ck_assert(ar2->gaps[0].from_ms == INT64_C(1796511297000));
    ck_assert(ar2->gaps[0].to_ms == INT64_C(1796511305000));
    ck_assert_str_eq(ar2->timelines, "timeline 3 has segments but 00000003.history is missing");
    ck_assert(ar2->start_ms == INT64_C(1796511304000));
    rd_archive_free(ar2);
    rd_pg_arch_free(&a);
    unlink(path);
    rmdir(dir);
}
END_TEST

Suite *pg_wal_suite(void);
Suite *pg_wal_suite(void)
{
    Suite *s = suite_create("pg_wal");
    TCase *tc = tcase_create("files");
    tcase_add_test(tc, names_and_lsns);
    tcase_add_test(tc, label_times);
    tcase_add_test(tc, label_files);
    tcase_add_test(tc, waldump_commits);
    tcase_add_test(tc, timeline_chain);
    suite_add_tcase(s, tc);
    return s;
}
