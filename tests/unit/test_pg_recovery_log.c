/* test_pg_recovery_log.c: what the PostgreSQL recovery watcher reads from
 * the server's log: promotion, the last replayed commit, the WAL range, and
 * the lines of each failure (ended before target, paused, FATAL). The lines
 * are verbatim PostgreSQL 15 output with log_timezone=UTC. */
#include <check.h>
#include <string.h>

#include "../../harness/restore/pg_recovery.h"

#define P "2026-12-05 14:20:31.123 UTC [4242] "

static void feed(rd_pg_recovery_log *l, const char *const *lines)
{
    memset(l, 0, sizeof *l);
    for (size_t i = 0; lines[i]; i++)
        rd_pg_recovery_line(l, lines[i]);
}

START_TEST(promoted_at_target)
{
    static const char *const lines[] = {
        P "LOG:  starting point-in-time recovery to 2026-12-05 14:10:00.5+00",
        P "LOG:  restored log file \"00000002.history\" from archive",
        P "LOG:  restored log file \"000000010000000000000003\" from archive",
        P "LOG:  redo starts at 0/3000028",
        P "LOG:  restored log file \"000000010000000000000004\" from archive",
        P "LOG:  consistent recovery state reached at 0/3000100",
        P "LOG:  recovery stopping before commit of transaction 745, time 2026-12-05 "
          "14:10:00.512345+00",
        P "LOG:  redo done at 0/4000F10 system usage: CPU: user: 0.00 s, system: 0.00 s",
        P "LOG:  last completed transaction was at log time 2026-12-05 14:10:00.498765+00",
        P "LOG:  selected new timeline ID: 2",
        P "LOG:  archive recovery complete",
        P "LOG:  database system is ready to accept connections",
        NULL};
    rd_pg_recovery_log l;
    feed(&l, lines);
    ck_assert_int_eq(l.ready, 1);
    ck_assert_int_eq(l.paused, 0);
    ck_assert_int_eq(l.ended_early, 0);
    ck_assert_str_eq(l.wal_first, "000000010000000000000003");
    ck_assert_str_eq(l.wal_last, "000000010000000000000004");
    ck_assert(l.reached_ms == INT64_C(1796479800498)); /* 2026-12-05T14:10:00.498Z */
    ck_assert(l.stopped_ms == INT64_C(1796479800512));
    ck_assert_str_eq(l.redo_done, "0/4000F10");
    ck_assert_uint_eq(l.new_tli, 2);
    ck_assert_str_eq(l.fatal, "");
}
END_TEST

/* Where replay ended, from the new timeline's history file: the timeline
 * that wrote the end point, which is an ancestor when recovery stopped
 * before the fork (verbatim PostgreSQL 15 files). */
START_TEST(history_reached)
{
    uint32_t tli = 0;
    char lsn[32];
    /* followed timeline 2 past the fork at 0/5000000 */
    ck_assert_int_eq(rd_pg_history_reached("1\t0/5000000\tno recovery target specified\n\n"
                                           "2\t0/50063E8\tbefore 2026-12-05 22:55:01.875177+00\n",
                                           &tli, lsn, sizeof lsn),
                     1);
    ck_assert_uint_eq(tli, 2);
    ck_assert_str_eq(lsn, "0/50063E8");
    /* stopped before the fork (inside timeline 2's copy of the fork's segment) */
    ck_assert_int_eq(rd_pg_history_reached("1\t0/4000A18\tno recovery target specified\n\n"
                                           "2\t0/40005B0\tbefore 2026-12-05 23:00:16.1+00\n",
                                           &tli, lsn, sizeof lsn),
                     1);
    ck_assert_uint_eq(tli, 1);
    ck_assert_str_eq(lsn, "0/40005B0");
    /* a record ending exactly at the fork was written on the old timeline */
    ck_assert_int_eq(
        rd_pg_history_reached("1\t0/4000A18\tx\n2\t0/4000A18\ty\n", &tli, lsn, sizeof lsn), 1);
    ck_assert_uint_eq(tli, 1);
    /* no failover in the archive: promoted from timeline 1 */
    ck_assert_int_eq(rd_pg_history_reached("1\t0/3000148\tno recovery target specified\n", &tli,
                                           lsn, sizeof lsn),
                     1);
    ck_assert_uint_eq(tli, 1);
    ck_assert_str_eq(lsn, "0/3000148");
    tli = 9;
    ck_assert_int_eq(rd_pg_history_reached("", &tli, lsn, sizeof lsn), 0);
    ck_assert_int_eq(rd_pg_history_reached("garbage\n", &tli, lsn, sizeof lsn), 0);
    ck_assert_uint_eq(tli, 9);
}
END_TEST

START_TEST(failures)
{
    static const char *const ended[] = {
        P "LOG:  restored log file \"000000010000000000000005\" from archive",
        P "LOG:  invalid record length at 0/5000148: wanted 24, got 0",
        P "LOG:  redo done at 0/5000110 system usage: CPU: user: 0.00 s",
        P "FATAL:  recovery ended before configured recovery target was reached",
        P "LOG:  startup process (PID 77) exited with exit code 1",
        NULL};
    rd_pg_recovery_log l;
    feed(&l, ended);
    ck_assert_int_eq(l.ended_early, 1);
    ck_assert_int_eq(l.ready, 0);
    ck_assert_str_eq(l.fatal, "recovery ended before configured recovery target was reached");
    ck_assert_str_eq(l.invalid, "invalid record length at 0/5000148: wanted 24, got 0");

    static const char *const before[] = {
        P "FATAL:  requested recovery stop point is before consistent recovery point", NULL};
    feed(&l, before);
    ck_assert_str_eq(l.fatal, "requested recovery stop point is before consistent recovery point");
    ck_assert_int_eq(l.ended_early, 0);

    static const char *const paused[] = {
        P "LOG:  recovery stopping before commit of transaction 9, time 2026-12-05 "
          "14:10:01+00",
        P "LOG:  pausing at the end of recovery",
        P "HINT:  Execute pg_wal_replay_resume() to promote.", NULL};
    feed(&l, paused);
    ck_assert_int_eq(l.paused, 1);
    ck_assert_str_eq(l.pause, "pausing at the end of recovery");

    static const char *const shut[] = {P "LOG:  shutdown at recovery target", NULL};
    feed(&l, shut);
    ck_assert_int_eq(l.shutdown_target, 1);
    ck_assert_str_eq(l.pause, "shutdown at recovery target");

    static const char *const panic[] = {P "PANIC:  could not locate a valid checkpoint record",
                                        NULL};
    feed(&l, panic);
    ck_assert_str_eq(l.fatal, "could not locate a valid checkpoint record");
}
END_TEST

START_TEST(target_time_text)
{
    char buf[64];
    ck_assert_str_eq(rd_pg_recovery_time(INT64_C(1796479800498), buf, sizeof buf),
                     "2026-12-05 14:10:00.498+00");
    ck_assert_str_eq(rd_pg_recovery_time(INT64_C(1767225600000), buf, sizeof buf),
                     "2026-01-01 00:00:00.000+00");
}
END_TEST

Suite *pg_recovery_log_suite(void);
Suite *pg_recovery_log_suite(void)
{
    Suite *s = suite_create("pg_recovery_log");
    TCase *tc = tcase_create("log");
    tcase_add_test(tc, promoted_at_target);
    tcase_add_test(tc, failures);
    tcase_add_test(tc, history_reached);
    tcase_add_test(tc, target_time_text);
    suite_add_tcase(s, tc);
    return s;
}
