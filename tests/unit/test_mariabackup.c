/* test_mariabackup.c: the mariabackup catalog without a server: the files
 * mariadb-backup writes, local times in a zone, binlog event headers
 * (synthetic binary logs), incremental chains with a missing link, gaps,
 * windows and the pick of a backup for a target time. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/catalog.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/restore_mariabackup.h"
#include "tmpdir_fixture.h"

static void setup(void)
{
    fx_tmpdir_make("/tmp/rd-test-mb-XXXXXX");
}

static void put(const char *name, const void *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    fclose(f);
}

static void puts_file(const char *name, const char *text)
{
    put(name, text, strlen(text));
}

static void mkdir_in(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", tmpdir, name);
    ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* --- files of a backup --- */

START_TEST(checkpoints_full_and_incremental)
{
    rd_mb_backup b;
    rd_error err;
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(rd_mb_parse_checkpoints("backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = "
                                             "44420\nlast_lsn = 964275\nrecover_binlog_info = 0\n",
                                             &b, &err),
                     RD_OK);
    ck_assert_int_eq(b.incremental, 0);
    ck_assert_uint_eq(b.from_lsn, 0);
    ck_assert_uint_eq(b.to_lsn, 44420);
    ck_assert_int_eq(
        rd_mb_parse_checkpoints(
            "backup_type = incremental\r\nfrom_lsn = 44420\r\nto_lsn = 51000\r\n", &b, &err),
        RD_OK);
    ck_assert_int_eq(b.incremental, 1);
    ck_assert_uint_eq(b.from_lsn, 44420);
    ck_assert_uint_eq(b.to_lsn, 51000);
}
END_TEST

START_TEST(checkpoints_malformed)
{
    rd_mb_backup b;
    rd_error err;
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(rd_mb_parse_checkpoints("backup_type = partial\n", &b, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "line 1: backup_type: expected full-backuped, full-prepared, "
                              "log-applied or incremental, got \"partial\"");
    ck_assert_int_eq(
        rd_mb_parse_checkpoints("backup_type = full-backuped\nfrom_lsn = 0\n", &b, &err),
        RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "missing to_lsn");
    ck_assert_int_eq(
        rd_mb_parse_checkpoints("backup_type = incremental\nfrom_lsn = 12x\n", &b, &err),
        RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "line 2: from_lsn: expected a number, got \"12x\"");
    ck_assert_int_eq(rd_mb_parse_checkpoints("garbage\n", &b, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "line 1: expected \"key = value\"");
}
END_TEST

START_TEST(binlog_info_forms)
{
    rd_mb_backup b;
    rd_error err;
    memset(&b, 0, sizeof b);
    ck_assert_int_eq(rd_mb_parse_binlog_info("mysql-bin.000001\t365600\t0-1-32\n", &b, &err),
                     RD_OK);
    ck_assert_str_eq(b.binlog_file, "mysql-bin.000001");
    ck_assert_uint_eq(b.binlog_pos, 365600);
    ck_assert_str_eq(b.gtid, "0-1-32");
    ck_assert_int_eq(rd_mb_parse_binlog_info("log.000007\t4\n", &b, &err), RD_OK);
    ck_assert_str_eq(b.binlog_file, "log.000007");
    ck_assert_uint_eq(b.binlog_pos, 4);
    ck_assert_ptr_null(b.gtid);
    ck_assert_int_eq(rd_mb_parse_binlog_info("", &b, &err), RD_OK);
    ck_assert_str_eq(b.binlog_file, "log.000007");
    ck_assert_int_eq(rd_mb_parse_binlog_info("log.000007\n", &b, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "expected \"FILE<TAB>POSITION[<TAB>GTID]\" on the first line");
    ck_assert_int_eq(rd_mb_parse_binlog_info("../x.000001\t4\n", &b, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "binlog file name \"../x.000001\" holds a '/'");
    free(b.binlog_file);
    free(b.gtid);
}
END_TEST

/* 2026-12-05 14:15:12 UTC */
#define T_DEC5 INT64_C(1796480112000)

START_TEST(local_times_in_zones)
{
    int64_t ms = 0;
    rd_error err;
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 14:15:12", NULL, &ms, &err), RD_OK);
    ck_assert_int_eq(ms, T_DEC5);
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 14:15:12", "UTC", &ms, &err), RD_OK);
    ck_assert_int_eq(ms, T_DEC5);
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 16:15:12", "+02:00", &ms, &err), RD_OK);
    ck_assert_int_eq(ms, T_DEC5);
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 09:45:12", "-0430", &ms, &err), RD_OK);
    ck_assert_int_eq(ms, T_DEC5);
    if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0) {
        /* winter: CET, +01:00; summer: CEST, +02:00 */
        ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 15:15:12", "Europe/Berlin", &ms, &err),
                         RD_OK);
        ck_assert_int_eq(ms, T_DEC5);
        ck_assert_int_eq(rd_mb_local_to_utc("2026-07-01 12:00:00", "Europe/Berlin", &ms, &err),
                         RD_OK);
        ck_assert_int_eq(ms, INT64_C(1782900000000));
    }
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05 14:15:12", "Mars/Olympus", &ms, &err),
                     RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "unknown time zone \"Mars/Olympus\" (expected UTC, an offset like "
                              "\"+02:00\" or a zone name of /usr/share/zoneinfo such as "
                              "\"Europe/Berlin\")");
    ck_assert_int_eq(rd_mb_check_timezone("../../etc/passwd", &err), RD_ERR_CONFIG);
    ck_assert_int_eq(rd_mb_check_timezone("+25:00", &err), RD_ERR_CONFIG);
    ck_assert_int_eq(rd_mb_local_to_utc("2026-12-05T14:15:12", NULL, &ms, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg,
                     "expected a time like \"2026-01-30 15:00:00\", got \"2026-12-05T14:15:12\"");
}
END_TEST

START_TEST(info_times)
{
    rd_mb_backup b;
    rd_error err;
    memset(&b, 0, sizeof b);
    const char *info = "uuid = 49\nname = \ntool_command = --backup --target-dir=/x=y\n"
                       "start_time = 2026-12-05 14:15:10\nend_time = 2026-12-05 14:15:12\n";
    ck_assert_int_eq(rd_mb_parse_info(info, NULL, &b, &err), RD_OK);
    ck_assert_int_eq(b.start_ms, T_DEC5 - 2000);
    ck_assert_int_eq(b.end_ms, T_DEC5);
    ck_assert_int_eq(rd_mb_parse_info("start_time = 2026-12-05 14:15:10\n", NULL, &b, &err),
                     RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "missing end_time");
    ck_assert_int_eq(rd_mb_parse_info("end_time = yesterday\n", NULL, &b, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(err.msg, "line 1: end_time: expected a time like \"2026-01-30 15:00:00\", got "
                              "\"yesterday\"");
}
END_TEST

START_TEST(stop_second_replays_only_whole_seconds_before)
{
    /* events stamped S happened in [S, S+1): replayed only when S + 0.999 <= T */
    ck_assert_int_eq(rd_mb_stop_second(INT64_C(1796480112999)), INT64_C(1796480113));
    ck_assert_int_eq(rd_mb_stop_second(INT64_C(1796480112998)), INT64_C(1796480112));
    ck_assert_int_eq(rd_mb_stop_second(INT64_C(1796480112000)), INT64_C(1796480112));
    ck_assert_int_eq(rd_mb_stop_second(INT64_C(1796480113000)), INT64_C(1796480113));
}
END_TEST

/* --- synthetic binary logs --- */

typedef struct blog {
    unsigned char data[4096];
    size_t len;
} blog;

static void ev(blog *b, unsigned t, unsigned char type, unsigned len)
{
    unsigned char *h = b->data + b->len;
    memset(h, 0, len);
    for (int i = 0; i < 4; i++) {
        h[i] = (unsigned char)(t >> (8 * i));
        h[9 + i] = (unsigned char)(len >> (8 * i));
        h[13 + i] = (unsigned char)((b->len + len) >> (8 * i));
    }
    h[4] = type;
    b->len += len;
}

/* A binary log: format description at t0, a transaction at t0+1 .. t0+2,
 * and a rotate at t0+10 when rotated. */
static void make_binlog(blog *b, unsigned t0, int rotated)
{
    memcpy(b->data,
           "\xfe"
           "bin",
           4);
    b->len = 4;
    ev(b, t0, 15, 120);     /* format description */
    ev(b, t0, 163, 40);     /* GTID list */
    ev(b, t0 + 1, 162, 42); /* GTID */
    ev(b, t0 + 1, 30, 60);  /* write rows */
    ev(b, t0 + 2, 16, 31);  /* XID */
    if (rotated)
        ev(b, t0 + 10, 4, 48);
}

START_TEST(scan_complete_and_truncated)
{
    blog b;
    rd_mb_binlog out;
    rd_error err;
    char path[512];
    memset(&out, 0, sizeof out);
    make_binlog(&b, 1000, 1);
    put("bl.000001", b.data, b.len);
    snprintf(path, sizeof path, "%s/bl.000001", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_OK);
    ck_assert_int_eq(out.bytes, (int64_t)b.len);
    ck_assert_int_eq(out.first_ms, 1001000);
    ck_assert_int_eq(out.last_ms, 1002999);
    ck_assert_int_eq(out.rotated, 1);
    ck_assert_ptr_null(out.truncated);
    ck_assert_uint_eq(out.end_pos, b.len);

    /* cut inside the XID event: the scan stops at the last whole event */
    make_binlog(&b, 1000, 0);
    put("bl.000002", b.data, b.len - 10);
    snprintf(path, sizeof path, "%s/bl.000002", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_OK);
    ck_assert_int_eq(out.last_ms, 1001999);
    ck_assert_int_eq(out.rotated, 0);
    ck_assert_uint_eq(out.end_pos, b.len - 31);
    ck_assert_str_eq(out.truncated, "truncated at byte 266 of 287: the event there needs 31 bytes");
    free(out.truncated);
    out.truncated = NULL;

    put("bl.000003",
        "\xfe"
        "bin\x01\x02",
        6);
    snprintf(path, sizeof path, "%s/bl.000003", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_OK);
    ck_assert_str_eq(out.truncated, "truncated at byte 4 of 6: an event header is cut short");
    free(out.truncated);
}
END_TEST

START_TEST(stop_scan_follows_mariadb_binlog)
{
    blog b;
    rd_error err;
    char p1[512], p2[512];
    make_binlog(&b, 1000, 1); /* events at 1000 (fd, gtid list), 1001, 1001, 1002, rotate 1010 */
    put("bl.000001", b.data, b.len);
    make_binlog(&b, 2000, 0);
    put("bl.000002", b.data, b.len);
    snprintf(p1, sizeof p1, "%s/bl.000001", tmpdir);
    snprintf(p2, sizeof p2, "%s/bl.000002", tmpdir);
    /* stop at 1002: the XID stamped 1002 is the first event not replayed */
    rd_mb_stop_scan sc = {0};
    ck_assert_int_eq(rd_mb_binlog_stop_scan(p1, 4, 1002000, &sc, &err), RD_OK);
    ck_assert_int_eq(sc.stopped, 1);
    ck_assert_int_eq(sc.found, 1);
    ck_assert_int_eq(sc.last_ms, 1001999);
    ck_assert_uint_eq(sc.last_end, 4 + 120 + 40 + 42 + 60);
    /* no stop: both files, the last transaction event of the second */
    memset(&sc, 0, sizeof sc);
    ck_assert_int_eq(rd_mb_binlog_stop_scan(p1, 4, -1, &sc, &err), RD_OK);
    ck_assert_int_eq(sc.stopped, 0);
    ck_assert_int_eq(rd_mb_binlog_stop_scan(p2, 4, -1, &sc, &err), RD_OK);
    ck_assert_int_eq(sc.last_ms, 2002999);
    ck_assert_uint_eq(sc.last_end, b.len);
    /* from a position past the transaction: nothing replayed in the first file */
    memset(&sc, 0, sizeof sc);
    ck_assert_int_eq(rd_mb_binlog_stop_scan(p1, 4 + 120 + 40 + 42 + 60 + 31, 1500000, &sc, &err),
                     RD_OK);
    ck_assert_int_eq(sc.found, 0);
    ck_assert_int_eq(sc.stopped, 0);
}
END_TEST

START_TEST(scan_refuses)
{
    blog b;
    rd_mb_binlog out;
    rd_error err;
    char path[512];
    memset(&out, 0, sizeof out);
    put("bl.000001", "-- SQL, not a binlog\n", 21);
    snprintf(path, sizeof path, "%s/bl.000001", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(strstr(err.msg, "bl.000001"), "bl.000001: not a binary log (bad magic)");
    memcpy(b.data,
           "\xfe"
           "bin",
           4);
    b.len = 4;
    ev(&b, 5, 15, 120);
    ev(&b, 5, 164, 40); /* start encryption */
    put("bl.000002", b.data, b.len);
    snprintf(path, sizeof path, "%s/bl.000002", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_ERR_UNSUPPORTED);
    ck_assert_str_eq(strstr(err.msg, "bl.000002"),
                     "bl.000002: encrypted binary logs are not supported");
    b.len = 4;
    ev(&b, 5, 2, 40); /* a query first */
    put("bl.000003", b.data, b.len);
    snprintf(path, sizeof path, "%s/bl.000003", tmpdir);
    ck_assert_int_eq(rd_mb_scan_binlog(path, &out, &err), RD_ERR_FORMAT);
    ck_assert_str_eq(strstr(err.msg, "bl.000003"),
                     "bl.000003: not a binary log (the first event is not a format description)");
    ck_assert_int_eq(rd_mb_scan_binlog("/nonexistent/bl.000001", &out, &err), RD_ERR_IO);
}
END_TEST

/* --- a whole catalog --- */

/* 2026-01-30 15:00:00 UTC as epoch seconds */
#define T0 1769785200u

static void backup_dir(const char *name, const char *type, unsigned long from, unsigned long to,
                       const char *start, const char *end, const char *binlog)
{
    char p[256], text[512];
    mkdir_in(name);
    snprintf(p, sizeof p, "%s/xtrabackup_checkpoints", name);
    snprintf(text, sizeof text, "backup_type = %s\nfrom_lsn = %lu\nto_lsn = %lu\n", type, from, to);
    puts_file(p, text);
    snprintf(p, sizeof p, "%s/xtrabackup_info", name);
    snprintf(text, sizeof text, "start_time = %s\nend_time = %s\n", start, end);
    puts_file(p, text);
    if (binlog) {
        snprintf(p, sizeof p, "%s/xtrabackup_binlog_info", name);
        puts_file(p, binlog);
    }
    snprintf(p, sizeof p, "%s/ibdata1", name);
    puts_file(p, "0123456789");
}

static void binlog_file(const char *name, unsigned t0)
{
    blog b;
    char p[256];
    make_binlog(&b, t0, 1);
    snprintf(p, sizeof p, "binlog/%s", name);
    put(p, b.data, b.len);
}

static rd_catalog_cfg cfg_for(char *base, char *bl)
{
    rd_catalog_cfg c;
    memset(&c, 0, sizeof c);
    c.type = (char *)"mariabackup";
    snprintf(base, 300, "%s/base", tmpdir);
    snprintf(bl, 300, "%s/binlog", tmpdir);
    c.base_dir = base;
    c.binlog_dir = bl;
    return c;
}

/* full (15:00:10), inc1 on it (15:01:10), inc2 on inc1 (15:02:10), an
 * incremental from an LSN no backup ends at, and a backup in mariadb_backup_*
 * names (10.11+); binlogs 1, 2 and 4 (3 missing). */
static void make_archive(void)
{
    mkdir_in("base");
    mkdir_in("binlog");
    backup_dir("base/full", "full-backuped", 0, 100, "2026-01-30 15:00:05", "2026-01-30 15:00:10",
               "mysql-bin.000001\t300\t0-1-5\n");
    backup_dir("base/inc1", "incremental", 100, 200, "2026-01-30 15:01:05", "2026-01-30 15:01:10",
               "mysql-bin.000001\t900\t0-1-9\n");
    backup_dir("base/inc2", "incremental", 200, 300, "2026-01-30 15:02:05", "2026-01-30 15:02:10",
               "mysql-bin.000002\t400\t0-1-12\n");
    backup_dir("base/orphan", "incremental", 999, 1200, "2026-01-30 15:03:05",
               "2026-01-30 15:03:10", "mysql-bin.000002\t500\t0-1-13\n");
    mkdir_in("base/notabackup");
    mkdir_in("base/late");
    puts_file("base/late/mariadb_backup_checkpoints",
              "backup_type = full-backuped\nfrom_lsn = 0\nto_lsn = 5000\n");
    puts_file("base/late/mariadb_backup_info", "end_time = 2026-01-30 15:30:00\n");
    puts_file("base/late/mariadb_backup_binlog_info", "mysql-bin.000004\t256\n");
    binlog_file("mysql-bin.000001", T0);       /* events at +1 .. +2, rotate at +10 */
    binlog_file("mysql-bin.000002", T0 + 300); /* +301 .. +302 */
    binlog_file("mysql-bin.000004", T0 + 1800);
    puts_file("binlog/mysql-bin.index", "./mysql-bin.000001\n");
}

START_TEST(archive_chains_gaps_windows)
{
    char base[300], bl[300];
    rd_catalog_cfg c = cfg_for(base, bl);
    rd_mb_archive *a = NULL;
    rd_error err;
    make_archive();
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_OK);
    ck_assert_uint_eq(a->nbackups, 5);
    ck_assert_str_eq(a->backups[0].name, "full");
    ck_assert_str_eq(a->backups[1].name, "inc1");
    ck_assert_str_eq(a->backups[2].name, "inc2");
    ck_assert_str_eq(a->backups[3].name, "orphan");
    ck_assert_str_eq(a->backups[4].name, "late");
    ck_assert_int_eq(a->backups[0].end_ms, (int64_t)(T0 + 10) * 1000 + 999);
    ck_assert_int_eq(a->backups[0].bytes, 10 + 54 + 64 + 27); /* ibdata1 and the three files */
    ck_assert_uint_eq(a->backups[1].base, 0);
    ck_assert_uint_eq(a->backups[2].base, 1);
    ck_assert_ptr_null(a->backups[2].broken);
    ck_assert_str_eq(a->backups[3].broken,
                     "incremental from LSN 999 has no base backup ending at that LSN before it "
                     "started (a missing link of its chain)");
    ck_assert_str_eq(a->backups[4].binlog_file, "mysql-bin.000004");
    ck_assert_ptr_null(a->backups[4].gtid);

    ck_assert_str_eq(a->binlog_base, "mysql-bin");
    ck_assert_uint_eq(a->nbinlogs, 3);
    ck_assert_uint_eq(a->binlogs[2].seq, 4);
    ck_assert_uint_eq(a->ngaps, 1);
    ck_assert_str_eq(a->gaps[0].missing, "mysql-bin.000003");
    ck_assert_int_eq(a->gaps[0].from_ms, (int64_t)(T0 + 302) * 1000 + 999);
    ck_assert_int_eq(a->gaps[0].to_ms, (int64_t)(T0 + 1801) * 1000);

    size_t *order = NULL, n = 0, first = 0, last = 0, idx = 0;
    ck_assert_int_eq(rd_mb_chain(a, 2, &order, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_uint_eq(order[0], 0);
    ck_assert_uint_eq(order[1], 1);
    ck_assert_uint_eq(order[2], 2);
    free(order);
    ck_assert_int_eq(rd_mb_chain(a, 3, &order, &n, &err), RD_ERR_REFUSED);
    ck_assert_str_eq(err.msg, "backup orphan cannot be restored: incremental from LSN 999 has no "
                              "base backup ending at that LSN before it started (a missing link "
                              "of its chain)");

    int64_t end = 0;
    ck_assert_int_eq(rd_mb_reach(a, 0, &first, &last, &end, &err), RD_OK);
    ck_assert_uint_eq(first, 0);
    ck_assert_uint_eq(last, 1);
    ck_assert_int_eq(end, (int64_t)(T0 + 302) * 1000 + 999);
    ck_assert_int_eq(rd_mb_reach(a, 4, &first, &last, &end, &err), RD_OK);
    ck_assert_uint_eq(first, 2);
    ck_assert_uint_eq(last, 2);
    ck_assert_int_eq(end,
                     (int64_t)(T0 + 1802) * 1000 + 999); /* the backup ended before the events */

    /* the newest backup that ended before the target and reaches it */
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 60) * 1000, &idx, &err), RD_OK);
    ck_assert_uint_eq(idx, 0);
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 200) * 1000, &idx, &err), RD_OK);
    ck_assert_uint_eq(idx, 2);
    /* the window ends at the last event (+302, whole seconds) */
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 302) * 1000 + 999, &idx, &err), RD_OK);
    ck_assert_uint_eq(idx, 2);
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 303) * 1000, &idx, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2026-01-30T15:05:03.000Z is past the gap in the binary logs "
                              "after mysql-bin.000002 (mysql-bin.000003 missing: nothing between "
                              "2026-01-30T15:05:02.999Z and 2026-01-30T15:30:01.000Z can be "
                              "recovered)");
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 5) * 1000, &idx, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2026-01-30T15:00:05.000Z is before the oldest backup ended "
                              "(full at 2026-01-30T15:00:10.999Z)");
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 1801) * 1000, &idx, &err), RD_OK);
    ck_assert_uint_eq(idx, 4);
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 1803) * 1000, &idx, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2026-01-30T15:30:03.000Z is past the last event of the "
                              "binary logs (2026-01-30T15:30:02.999Z in mysql-bin.000004)");
    rd_mb_archive_free(a);

    /* the driver lists every backup as a physical point, the broken one with
     * its reason, and the archive */
    rd_points pts = {0};
    ck_assert_int_eq(rd_catalog_list(&c, &pts, &err), RD_OK);
    ck_assert_uint_eq(pts.n, 5);
    ck_assert_str_eq(pts.items[0].base, "full");
    ck_assert_str_eq(pts.items[0].format, "mariabackup");
    ck_assert_str_eq(pts.items[0].wal_start, "mysql-bin.000001:300");
    ck_assert_int_eq(pts.items[0].created_ms, (int64_t)(T0 + 10) * 1000 + 999);
    ck_assert_int_eq(pts.items[0].start_ms, (int64_t)(T0 + 5) * 1000);
    ck_assert_int_eq(pts.items[0].reach_ms, (int64_t)(T0 + 302) * 1000 + 999);
    ck_assert_ptr_null(pts.items[0].broken);
    ck_assert_str_eq(pts.items[3].id, "orphan");
    ck_assert_ptr_nonnull(pts.items[3].broken);
    ck_assert_str_eq(pts.items[4].id, "late");
    ck_assert_int_eq(pts.items[4].reach_ms, (int64_t)(T0 + 1802) * 1000 + 999);
    const rd_archive *ar = pts.archive;
    ck_assert_ptr_nonnull(ar);
    ck_assert_int_eq(ar->start_ms, (int64_t)(T0 + 10) * 1000 + 999);
    ck_assert_int_eq(ar->end_ms, (int64_t)(T0 + 1802) * 1000 + 999);
    ck_assert_str_eq(ar->first, "mysql-bin.000001");
    ck_assert_str_eq(ar->last, "mysql-bin.000002");
    ck_assert_str_eq(ar->newest, "mysql-bin.000004");
    ck_assert_uint_eq(ar->files, 3);
    ck_assert_uint_eq(ar->ngaps, 1);
    ck_assert_str_eq(ar->gaps[0].first, "mysql-bin.000003");
    ck_assert_str_eq(ar->gaps[0].last, "mysql-bin.000003");
    ck_assert_int_eq(ar->gaps[0].from_ms, (int64_t)(T0 + 302) * 1000 + 999);
    ck_assert_int_eq(ar->gaps[0].to_ms, (int64_t)(T0 + 1800) * 1000 + 999); /* "late" ended */
    rd_points_free(&pts);
}
END_TEST

/* A binlog that is there but cannot be replayed to its end is a gap of the
 * archive too, named with why: cut inside an event, or (not the newest
 * file) cut at an event boundary although the server had closed it. One
 * the server never closed (in use: a crash) replays and is no gap. */
START_TEST(archive_damaged_binlogs_are_gaps)
{
    char base[300], bl[300];
    rd_catalog_cfg c = cfg_for(base, bl);
    rd_error err;
    rd_points pts = {0};
    blog b;
    make_archive();
    make_binlog(&b, T0, 1);
    put("binlog/mysql-bin.000001", b.data, b.len - 10); /* inside the rotate event */
    make_binlog(&b, T0 + 300, 0);                       /* complete events, no rotate */
    put("binlog/mysql-bin.000002", b.data, b.len);
    ck_assert_int_eq(rd_catalog_list(&c, &pts, &err), RD_OK);
    const rd_archive *ar = pts.archive;
    ck_assert_uint_eq(ar->ngaps, 3);
    ck_assert_str_eq(ar->gaps[0].first, "mysql-bin.000001");
    ck_assert_str_eq(ar->gaps[0].last, "mysql-bin.000001");
    ck_assert_str_eq(ar->gaps[0].damage,
                     "truncated at byte 297 of 335: the event there needs 48 bytes");
    ck_assert_int_eq(ar->gaps[0].from_ms, (int64_t)(T0 + 2) * 1000 + 999);
    ck_assert_int_eq(ar->gaps[0].to_ms, (int64_t)(T0 + 130) * 1000 + 999); /* inc2 ended */
    ck_assert_str_eq(ar->gaps[1].first, "mysql-bin.000002");
    ck_assert_str_eq(ar->gaps[1].damage, "cut short: it ends without the Rotate or Stop event the "
                                         "server wrote when it closed it");
    ck_assert_int_eq(ar->gaps[1].from_ms, (int64_t)(T0 + 302) * 1000 + 999);
    ck_assert_int_eq(ar->gaps[1].to_ms, (int64_t)(T0 + 1800) * 1000 + 999); /* late ended */
    ck_assert_str_eq(ar->gaps[2].first, "mysql-bin.000003");
    ck_assert_ptr_null(ar->gaps[2].damage);
    rd_points_free(&pts);

    /* the same file with LOG_EVENT_BINLOG_IN_USE_F in its format description:
     * never closed (a crash), replayed as it is */
    b.data[4 + 17] = 1;
    put("binlog/mysql-bin.000002", b.data, b.len);
    ck_assert_int_eq(rd_catalog_list(&c, &pts, &err), RD_OK);
    ck_assert_uint_eq(pts.archive->ngaps, 2);
    ck_assert_str_eq(pts.archive->gaps[0].first, "mysql-bin.000001");
    ck_assert_str_eq(pts.archive->gaps[1].first, "mysql-bin.000003");
    rd_points_free(&pts);

    /* the newest file needs no Rotate: the server still writes it */
    make_binlog(&b, T0, 1);
    put("binlog/mysql-bin.000001", b.data, b.len);
    make_binlog(&b, T0 + 1800, 0);
    put("binlog/mysql-bin.000004", b.data, b.len);
    make_binlog(&b, T0 + 300, 1);
    put("binlog/mysql-bin.000002", b.data, b.len);
    ck_assert_int_eq(rd_catalog_list(&c, &pts, &err), RD_OK);
    ck_assert_uint_eq(pts.archive->ngaps, 1);
    ck_assert_ptr_null(pts.archive->gaps[0].damage);
    rd_points_free(&pts);
}
END_TEST

START_TEST(archive_missing_link_breaks_the_rest)
{
    char base[300], bl[300], p[512];
    rd_catalog_cfg c = cfg_for(base, bl);
    rd_mb_archive *a = NULL;
    rd_error err;
    make_archive();
    snprintf(p, sizeof p, "%s/base/inc1/xtrabackup_checkpoints", tmpdir);
    ck_assert_int_eq(unlink(p), 0);
    snprintf(p, sizeof p, "%s/base/full/xtrabackup_checkpoints", tmpdir);
    puts_file("base/full/xtrabackup_checkpoints", "backup_type = full-backuped\nfrom_lsn = 0\n");
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_OK);
    ck_assert_uint_eq(a->nbackups, 4); /* inc1 is no backup any more */
    ck_assert_str_eq(a->backups[0].broken, "xtrabackup_checkpoints: missing to_lsn");
    ck_assert_str_eq(a->backups[1].name, "inc2");
    ck_assert_str_eq(a->backups[1].broken,
                     "incremental from LSN 200 has no base backup ending at that LSN before it "
                     "started (a missing link of its chain)");
    size_t idx;
    ck_assert_int_eq(rd_mb_pick_for_target(a, (int64_t)(T0 + 200) * 1000, &idx, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_str_eq(err.msg, "target 2026-01-30T15:03:20.000Z is before the oldest backup ended "
                              "(late at 2026-01-30T15:30:00.999Z)");
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(archive_bad_settings)
{
    char base[300], bl[300];
    rd_catalog_cfg c = cfg_for(base, bl);
    rd_mb_archive *a = NULL;
    rd_error err;
    char want[700];
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_ERR_CONFIG);
    snprintf(want, sizeof want, "catalog.base_dir: cannot read %s/base: No such file or directory",
             tmpdir);
    ck_assert_str_eq(err.msg, want);
    mkdir_in("base");
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_ERR_CONFIG);
    snprintf(want, sizeof want,
             "catalog.binlog_dir: cannot read %s/binlog: No such file or directory", tmpdir);
    ck_assert_str_eq(err.msg, want);
    mkdir_in("binlog");
    puts_file("binlog/mysql-bin.index", "");
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_ERR_CONFIG);
    snprintf(want, sizeof want,
             "catalog.binlog_dir: %s/binlog holds no binary logs (files named like "
             "mysql-bin.000001)",
             tmpdir);
    ck_assert_str_eq(err.msg, want);
    c.timezone = (char *)"Moon/Tranquility";
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "catalog.timezone: unknown time zone \"Moon/Tranquility\" (expected "
                              "UTC, an offset like \"+02:00\" or a zone name of "
                              "/usr/share/zoneinfo such as \"Europe/Berlin\")");
    c.timezone = NULL;
    c.base_dir = NULL;
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_ERR_CONFIG);
    ck_assert_str_eq(err.msg, "catalog.base_dir: expected a directory");
}
END_TEST

START_TEST(archive_timezone_moves_times)
{
    char base[300], bl[300];
    rd_catalog_cfg c = cfg_for(base, bl);
    rd_mb_archive *a = NULL;
    rd_error err;
    make_archive();
    c.timezone = (char *)"+01:00";
    ck_assert_int_eq(rd_mb_archive_load(&c, &a, &err), RD_OK);
    ck_assert_int_eq(a->backups[0].end_ms, (int64_t)(T0 + 10 - 3600) * 1000 + 999);
    rd_mb_archive_free(a);
}
END_TEST

Suite *mariabackup_suite(void);
Suite *mariabackup_suite(void)
{
    Suite *s = suite_create("mariabackup");
    TCase *f = tcase_create("files");
    tcase_add_test(f, checkpoints_full_and_incremental);
    tcase_add_test(f, checkpoints_malformed);
    tcase_add_test(f, binlog_info_forms);
    tcase_add_test(f, local_times_in_zones);
    tcase_add_test(f, info_times);
    tcase_add_test(f, stop_second_replays_only_whole_seconds_before);
    suite_add_tcase(s, f);
    TCase *b = tcase_create("binlog");
    tcase_add_checked_fixture(b, setup, fx_tmpdir_remove);
    tcase_add_test(b, scan_complete_and_truncated);
    tcase_add_test(b, scan_refuses);
    tcase_add_test(b, stop_scan_follows_mariadb_binlog);
    suite_add_tcase(s, b);
    TCase *a = tcase_create("archive");
    tcase_add_checked_fixture(a, setup, fx_tmpdir_remove);
    tcase_add_test(a, archive_chains_gaps_windows);
    tcase_add_test(a, archive_damaged_binlogs_are_gaps);
    tcase_add_test(a, archive_missing_link_breaks_the_rest);
    tcase_add_test(a, archive_bad_settings);
    tcase_add_test(a, archive_timezone_moves_times);
    suite_add_tcase(s, a);
    return s;
}
