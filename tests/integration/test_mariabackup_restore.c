/* test_mariabackup.c: the MariaDB physical restore pieces against a real
 * source: fixtures/make-mariabackup.sh makes a source with binary logging,
 * a full and two incremental mariadb-backup backups and archived binlogs;
 * the tests lay backups into data directories (rd_mb_lay), start mariadbd
 * on them, replay binlogs to target times (rd_mb_replay) and read the rows
 * back. Failures: a damaged redo log or tablespace fails the prepare with
 * mariadb-backup's own line, a truncated or corrupt binlog fails the replay
 * with mariadb-binlog's, a replay error with the server's. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/mariabackup.h"
#include "restoredrill/proc.h"
#include "restoredrill/restore_mariabackup.h"
#include "restoredrill/strbuf.h"

#define TEST_USER "rd_itest"
#define TEST_PW "itest-pw-7"

static char fixdir[256]; /* the fixture: base/, binlog/, fixture.env */
static int have_fixture;
static double marks[16];
static int nmarks;
static long full_end, inc2_end, last_event;

static double env_num(const char *text, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\n%s=", key);
    const char *p = strstr(text, k);
    return p ? strtod(p + strlen(k), NULL) : -1;
}

static void make_fixture(void)
{
    const char *bin = getenv("RD_BIN");
    if (!bin || access(bin, X_OK) != 0) {
        printf("skipping: RD_BIN is not set to the built binary\n");
        return;
    }
    snprintf(fixdir, sizeof fixdir, "/tmp/rd-itest-mb-XXXXXX");
    if (!mkdtemp(fixdir))
        return;
    chmod(fixdir, 0711);
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "fixtures/make-mariabackup.sh %s/fx %s >%s/fixture.log 2>&1", fixdir,
             bin, fixdir);
    int rc = system(cmd);
    if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77) {
        printf("skipping: no mariadbd / mariadb-backup\n");
        return;
    }
    if (rc != 0) {
        snprintf(cmd, sizeof cmd, "cat %s/fixture.log", fixdir);
        if (system(cmd) != 0)
            printf("make-mariabackup.sh failed\n");
        return;
    }
    char path[512], *text = NULL;
    rd_error err;
    snprintf(path, sizeof path, "%s/fx/fixture.env", fixdir);
    if (rd_fs_read_file(path, 0, &text, NULL, &err) != RD_OK)
        return;
    char *t = rd_asprintf("\n%s", text);
    free(text);
    nmarks = (int)env_num(t, "MARKS");
    for (int i = 1; i <= nmarks && i < 16; i++) {
        char k[32];
        snprintf(k, sizeof k, "MARK_%d", i);
        marks[i] = env_num(t, k);
    }
    full_end = (long)env_num(t, "FULL_END");
    inc2_end = (long)env_num(t, "INC2_END");
    last_event = (long)env_num(t, "LAST_EVENT");
    free(t);
    have_fixture = nmarks >= 4;
}

/* A test that fails stops where it is, maybe with its mariadbd still
 * running: kill every process whose command line names the fixture's dir. */
static void kill_leftovers(void)
{
    DIR *d = opendir("/proc");
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        char path[300], cmd[4096];
        if (de->d_name[0] < '1' || de->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/cmdline", de->d_name);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        size_t n = fread(cmd, 1, sizeof cmd - 1, f);
        fclose(f);
        for (size_t i = 0; i < n; i++)
            if (cmd[i] == '\0')
                cmd[i] = ' ';
        cmd[n] = '\0';
        if (strstr(cmd, fixdir))
            kill((pid_t)strtol(de->d_name, NULL, 10), SIGKILL);
    }
    if (d)
        closedir(d);
}

static void remove_fixture(void)
{
    if (fixdir[0])
        kill_leftovers();
    if (fixdir[0]) {
        char cmd[600];
        snprintf(cmd, sizeof cmd, "rm -rf %s", fixdir);
        if (system(cmd) != 0)
            fprintf(stderr, "cannot remove %s\n", fixdir);
    }
}

#define NEED_FIXTURE()                                                                             \
    do {                                                                                           \
        if (!have_fixture) {                                                                       \
            printf("skipping: no fixture\n");                                                      \
            return;                                                                                \
        }                                                                                          \
    } while (0)

/* A copy of the fixture's archive (tests that damage it work on their own). */
static void copy_archive(const char *dst)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cp -a %s/fx/base %s/fx/binlog %s/", fixdir, fixdir, dst);
    ck_assert_int_eq(system(cmd), 0);
}

static rd_mb_archive *load(const char *root)
{
    char base[512], bl[512];
    rd_catalog_cfg c;
    rd_mb_archive *a = NULL;
    rd_error err;
    memset(&c, 0, sizeof c);
    snprintf(base, sizeof base, "%s/base", root);
    snprintf(bl, sizeof bl, "%s/binlog", root);
    c.base_dir = base;
    c.binlog_dir = bl;
    if (rd_mb_archive_load(&c, &a, &err) != RD_OK)
        ck_abort_msg("archive load: %s", err.msg);
    return a;
}

static size_t backup_named(const rd_mb_archive *a, const char *name)
{
    for (size_t i = 0; i < a->nbackups; i++)
        if (strcmp(a->backups[i].name, name) == 0)
            return i;
    ck_abort_msg("no backup %s", name);
    return 0;
}

typedef struct server {
    char dir[300];
    char sock[400];
    rd_proc *proc;
} server;

static void give_to_mysql(const char *path)
{
    struct passwd *pw = getpwnam("mysql");
    if (geteuid() == 0 && pw)
        ck_assert_int_eq(chown(path, pw->pw_uid, pw->pw_gid), 0);
}

static void lay(const rd_mb_archive *a, size_t idx, const char *dir, rd_status want, rd_error *err)
{
    char work[400], data[400];
    rd_mb_lay_opts o;
    struct passwd *pw = getpwnam("mysql");
    memset(&o, 0, sizeof o);
    snprintf(work, sizeof work, "%s/work", dir);
    snprintf(data, sizeof data, "%s/data", dir);
    o.work_dir = work;
    o.datadir = data;
    o.use_memory = "128M";
    o.chown_to = geteuid() == 0 && pw;
    o.uid = pw ? pw->pw_uid : 0;
    o.gid = pw ? pw->pw_gid : 0;
    o.deadline = rd_mono_now() + 120;
    rd_strbuf log;
    rd_strbuf_init(&log, 0);
    rd_status st = rd_mb_lay(a, idx, &o, &log, err);
    if (st != want)
        ck_abort_msg("lay: status %d, want %d: %s\n%s", st, want, err->msg,
                     log.len > 1500 ? log.data + log.len - 1500
                     : log.data     ? log.data
                                    : "");
    rd_strbuf_free(&log);
    ck_assert_int_eq(rd_fs_exists(work), 0); /* the work copy is gone */
}

/* mariadbd --no-defaults on dir/data, an init file creating our account. */
static void start(server *s, const char *dir)
{
    char initf[400], a_data[400], a_sock[420], a_init[420], a_log[420], a_pid[420], a_tmp[420];
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->sock, sizeof s->sock, "%s/mysqld.sock", dir);
    snprintf(initf, sizeof initf, "%s/init.sql", dir);
    FILE *f = fopen(initf, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "CREATE USER '" TEST_USER "'@'localhost' IDENTIFIED BY '" TEST_PW "';\n"
               "GRANT ALL PRIVILEGES ON *.* TO '" TEST_USER "'@'localhost' WITH GRANT OPTION;\n");
    fclose(f);
    give_to_mysql(initf);
    snprintf(a_tmp, sizeof a_tmp, "%s/tmp", dir);
    ck_assert_int_eq(mkdir(a_tmp, 0700), 0);
    give_to_mysql(a_tmp);
    give_to_mysql(dir);
    snprintf(a_data, sizeof a_data, "--datadir=%s/data", dir);
    snprintf(a_sock, sizeof a_sock, "--socket=%s", s->sock);
    snprintf(a_init, sizeof a_init, "--init-file=%s", initf);
    snprintf(a_log, sizeof a_log, "--log-error=%s/error.log", dir);
    snprintf(a_pid, sizeof a_pid, "--pid-file=%s/mariadbd.pid", dir);
    char tmpopt[440];
    snprintf(tmpopt, sizeof tmpopt, "--tmpdir=%s", a_tmp);
    const char *argv[] = {"/usr/sbin/mariadbd",
                          "--no-defaults",
                          a_data,
                          a_sock,
                          a_init,
                          a_log,
                          a_pid,
                          tmpopt,
                          "--skip-networking",
                          "--skip-log-bin",
                          "--innodb-buffer-pool-size=64M",
                          NULL};
    rd_proc_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.argv = argv;
    spec.term_grace = 30;
    if (geteuid() == 0) {
        rd_error e;
        ck_assert_int_eq(rd_proc_lookup_user("mysql", &spec.uid, &spec.gid, &e), RD_OK);
        spec.run_as = 1;
    }
    rd_error err;
    ck_assert_int_eq(rd_proc_start(&spec, &s->proc, &err), RD_OK);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "MYSQL_PWD=" TEST_PW " mariadb --no-defaults --socket=%s -u" TEST_USER
             " -e 'SELECT 1' >/dev/null 2>&1",
             s->sock);
    for (int i = 0; i < 600; i++) {
        if (system(cmd) == 0)
            return;
        if (kill(rd_proc_pid(s->proc), 0) != 0)
            break;
        usleep(100000);
    }
    snprintf(cmd, sizeof cmd, "tail -n 30 %s/error.log", dir);
    if (system(cmd) != 0)
        printf("no error log\n");
    ck_abort_msg("mariadbd did not start on the restored data");
}

static void stop(server *s)
{
    int code;
    rd_error err;
    kill(rd_proc_pid(s->proc), SIGTERM);
    rd_proc_wait(s->proc, rd_mono_now() + 60, &code, &err);
    rd_proc_free(s->proc);
    s->proc = NULL;
}

/* First output line of a query, trimmed (static buffer). */
static const char *q(const server *s, const char *sql)
{
    static char out[4096];
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "MYSQL_PWD=" TEST_PW " mariadb --no-defaults --socket=%s -u" TEST_USER
             " -N --batch -e \"%s\" 2>&1",
             s->sock, sql);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    pclose(p);
    out[n] = '\0';
    while (n > 0 && (out[n - 1] == '\n' || out[n - 1] == '\r'))
        out[--n] = '\0';
    return out;
}

static rd_status replay(const server *s, const rd_mb_archive *a, size_t idx, int64_t stop_ms,
                        rd_mb_replay_result *res, rd_strbuf *log, rd_error *err)
{
    rd_mb_replay_opts o;
    memset(&o, 0, sizeof o);
    o.socket = s->sock;
    o.user = TEST_USER;
    o.password = TEST_PW;
    o.stop_ms = stop_ms;
    o.deadline = rd_mono_now() + 120;
    return rd_mb_replay(a, idx, &o, log, res, err);
}

static char *test_dir(void)
{
    static char d[300];
    snprintf(d, sizeof d, "%s/t-XXXXXX", fixdir);
    ck_assert_ptr_nonnull(mkdtemp(d));
    chmod(d, 0711);
    return d;
}

/* The time that reaches mark n but not n+1: the second after its own, plus
 * half a second (targets have millisecond resolution, replays whole seconds). */
static int64_t target_after_mark(int n)
{
    return ((int64_t)marks[n] + 1) * 1000 + 500;
}

START_TEST(full_backup_to_a_mark)
{
    NEED_FIXTURE();
    char *dir = test_dir(), root[300];
    snprintf(root, sizeof root, "%s/fx", fixdir);
    rd_mb_archive *a = load(root);
    rd_error err;
    size_t full = backup_named(a, "full");
    ck_assert_ptr_null(a->backups[full].broken);
    lay(a, full, dir, RD_OK, &err);
    server s;
    start(&s, dir);
    /* the backup itself: no mark yet, the CREATE USER came later */
    ck_assert_str_eq(q(&s, "SELECT COUNT(*) FROM shop.marks"), "0");
    ck_assert_str_eq(q(&s, "SELECT COUNT(*) FROM mysql.user WHERE User = 'rd_app'"), "0");
    rd_mb_replay_result res;
    rd_strbuf log;
    rd_strbuf_init(&log, 0);
    rd_status st = replay(&s, a, full, target_after_mark(2), &res, &log, &err);
    if (st != RD_OK)
        ck_abort_msg("replay: %s\n%s", err.msg, log.data ? log.data : "");
    ck_assert_str_eq(q(&s, "SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.marks"), "1,2");
    /* CREATE USER and GRANT events replayed */
    ck_assert_str_eq(q(&s, "SHOW GRANTS FOR 'rd_app'@'localhost'"),
                     "GRANT USAGE ON *.* TO `rd_app`@`localhost` IDENTIFIED BY PASSWORD "
                     "'*885F5BC9B924EED796E65E13D13041DB9A0F893B'\n"
                     "GRANT SELECT ON `shop`.* TO `rd_app`@`localhost`");
    ck_assert_int_eq(res.stop_second, (int64_t)marks[2] + 1);
    ck_assert_uint_eq(res.start_pos, a->backups[full].binlog_pos);
    rd_strbuf_free(&log);
    stop(&s);
    rd_mb_archive_free(a);
}
END_TEST

/* sha256 of every file of a tree, for "the archive is only read" */
static void tree_digest(const char *dir, char *out, size_t outsz)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "cd %s && find . -type f -print0 | sort -z | xargs -0 sha256sum | sha256sum", dir);
    FILE *p = popen(cmd, "r");
    ck_assert_ptr_nonnull(p);
    size_t n = fread(out, 1, outsz - 1, p);
    pclose(p);
    out[n] = '\0';
    ck_assert_uint_gt(n, 64);
}

START_TEST(incrementals_then_latest)
{
    NEED_FIXTURE();
    char *dir = test_dir(), root[300], base[320], before[200], after[200];
    snprintf(root, sizeof root, "%s/fx", fixdir);
    snprintf(base, sizeof base, "%s/base", root);
    tree_digest(base, before, sizeof before);
    rd_mb_archive *a = load(root);
    rd_error err;
    size_t inc2 = backup_named(a, "inc2");
    size_t *chain = NULL, n = 0;
    ck_assert_int_eq(rd_mb_chain(a, inc2, &chain, &n, &err), RD_OK);
    ck_assert_uint_eq(n, 3);
    ck_assert_str_eq(a->backups[chain[0]].name, "full");
    ck_assert_str_eq(a->backups[chain[1]].name, "inc1");
    free(chain);
    lay(a, inc2, dir, RD_OK, &err);
    tree_digest(base, after, sizeof after);
    ck_assert_str_eq(after, before); /* prepare worked on a copy, incrementals only read */
    server s;
    start(&s, dir);
    /* inc2 was taken after mark 2 */
    ck_assert_str_eq(q(&s, "SELECT GROUP_CONCAT(id ORDER BY id) FROM shop.marks"), "1,2");
    rd_mb_replay_result res;
    rd_strbuf log;
    rd_strbuf_init(&log, 0);
    rd_status st = replay(&s, a, inc2, -1, &res, &log, &err);
    if (st != RD_OK)
        ck_abort_msg("replay: %s\n%s", err.msg, log.data ? log.data : "");
    ck_assert_int_eq(res.stop_second, -1);
    ck_assert_uint_eq(res.last, a->nbinlogs - 1);
    char want[64];
    snprintf(want, sizeof want, "%d", nmarks);
    ck_assert_str_eq(q(&s, "SELECT MAX(id) FROM shop.marks"), want);
    ck_assert_str_eq(q(&s, "SHOW GRANTS FOR 'rd_app'@'localhost'"),
                     "GRANT USAGE ON *.* TO `rd_app`@`localhost` IDENTIFIED BY PASSWORD "
                     "'*885F5BC9B924EED796E65E13D13041DB9A0F893B'\n"
                     "GRANT SELECT ON `shop`.* TO `rd_app`@`localhost`\n"
                     "GRANT INSERT ON `shop`.`marks` TO `rd_app`@`localhost`");
    /* the heartbeat ran until the end */
    long hb = atol(q(&s, "SELECT UNIX_TIMESTAMP(MAX(ts)) FROM shop.restoredrill_heartbeat"));
    ck_assert_int_ge(hb, (long)marks[nmarks]);
    ck_assert_int_le(hb, last_event);
    rd_strbuf_free(&log);
    stop(&s);
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(damaged_redo_log_fails_the_prepare)
{
    NEED_FIXTURE();
    char *dir = test_dir(), cmd[1024];
    copy_archive(dir);
    snprintf(cmd, sizeof cmd,
             "dd if=/dev/zero of=%s/base/full/ib_logfile0 bs=4096 seek=3 count=1 conv=notrunc "
             "2>/dev/null",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    rd_mb_archive *a = load(dir);
    rd_error err;
    lay(a, backup_named(a, "full"), dir, RD_ERR_PROC, &err);
    ck_assert_msg(strncmp(err.msg, "mariadb-backup --prepare of full failed (exit 1): ", 50) == 0,
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "[ERROR] InnoDB: "), "%s", err.msg);
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(damaged_tablespace_fails_the_prepare)
{
    NEED_FIXTURE();
    char *dir = test_dir(), cmd[1024];
    copy_archive(dir);
    /* shop.churn changed all through the full backup: its page 3 has redo
     * records after the backup's checkpoint (fixtures/make-mariabackup.sh) */
    snprintf(cmd, sizeof cmd,
             "dd if=/dev/urandom of=%s/base/full/shop/churn.ibd bs=1 seek=49252 count=2000 "
             "conv=notrunc 2>/dev/null",
             dir);
    ck_assert_int_eq(system(cmd), 0);
    rd_mb_archive *a = load(dir);
    rd_error err;
    lay(a, backup_named(a, "inc2"), dir, RD_ERR_PROC, &err);
    ck_assert_msg(strstr(err.msg, "mariadb-backup --prepare of full failed (exit 1): ") == err.msg,
                  "%s", err.msg);
    ck_assert_msg(strstr(err.msg, "[ERROR] InnoDB: Unable to apply log to corrupted page 3 in "
                                  "file shop/churn.ibd"),
                  "%s", err.msg);
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(incremental_without_its_base)
{
    NEED_FIXTURE();
    char *dir = test_dir(), cmd[1024];
    copy_archive(dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s/base/full", dir);
    ck_assert_int_eq(system(cmd), 0);
    rd_mb_archive *a = load(dir);
    rd_error err;
    ck_assert_uint_eq(a->nbackups, 2);
    const char *why = "incremental from LSN";
    ck_assert_ptr_nonnull(a->backups[0].broken);
    ck_assert_msg(strstr(a->backups[0].broken, why), "%s", a->backups[0].broken);
    ck_assert_int_eq(rd_mb_chain(a, backup_named(a, "inc2"), NULL, NULL, &err), RD_ERR_REFUSED);
    ck_assert_msg(strncmp(err.msg, "backup inc2 cannot be restored: ", 32) == 0, "%s", err.msg);
    rd_points pts = {0};
    rd_catalog_cfg c;
    char b[400], bl[400];
    memset(&c, 0, sizeof c);
    snprintf(b, sizeof b, "%s/base", dir);
    snprintf(bl, sizeof bl, "%s/binlog", dir);
    c.type = (char *)"mariabackup";
    c.base_dir = b;
    c.binlog_dir = bl;
    ck_assert_int_eq(rd_catalog_list(&c, &pts, &err), RD_OK);
    ck_assert_uint_eq(pts.n, 2); /* listed with the reason, never sampled */
    ck_assert_ptr_nonnull(pts.items[0].broken);
    ck_assert_ptr_nonnull(pts.items[1].broken);
    rd_points_free(&pts);
    rd_mb_archive_free(a);
}
END_TEST

/* Lay the full backup of a (damaged) copy of the archive and start a server on it. */
static rd_mb_archive *laid_full(const char *root, const char *dir, server *s)
{
    rd_error err;
    rd_mb_archive *a = load(root);
    lay(a, backup_named(a, "full"), dir, RD_OK, &err);
    start(s, dir);
    return a;
}

START_TEST(truncated_binlog_fails_the_replay)
{
    NEED_FIXTURE();
    char *dir = test_dir(), cmd[1024];
    copy_archive(dir);
    /* cut the first binlog after the full backup's position */
    snprintf(cmd, sizeof cmd, "truncate -s -3000 %s/binlog/mysql-bin.000001", dir);
    ck_assert_int_eq(system(cmd), 0);
    server s;
    rd_mb_archive *a = laid_full(dir, dir, &s);
    ck_assert_ptr_nonnull(a->binlogs[0].truncated);
    ck_assert_msg(strstr(a->binlogs[0].truncated, "truncated at byte "), "%s",
                  a->binlogs[0].truncated);
    rd_mb_replay_result res;
    rd_error err;
    ck_assert_int_eq(replay(&s, a, backup_named(a, "full"), -1, &res, NULL, &err), RD_ERR_PROC);
    ck_assert_msg(strncmp(err.msg, "mariadb-binlog failed (exit 1): ERROR: ", 39) == 0, "%s",
                  err.msg);
    stop(&s);
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(corrupt_binlog_fails_the_replay)
{
    NEED_FIXTURE();
    char *dir = test_dir(), cmd[1024];
    copy_archive(dir);
    /* one byte inside an event body after the full backup's position: the
     * event's CRC32 no longer matches */
    rd_mb_archive *a0 = load(dir);
    unsigned long long at = a0->backups[backup_named(a0, "full")].binlog_pos + 40;
    rd_mb_archive_free(a0);
    snprintf(cmd, sizeof cmd,
             "printf '\\377' | dd of=%s/binlog/mysql-bin.000001 bs=1 seek=%llu conv=notrunc "
             "2>/dev/null",
             dir, at);
    ck_assert_int_eq(system(cmd), 0);
    server s;
    rd_mb_archive *a = laid_full(dir, dir, &s);
    rd_mb_replay_result res;
    rd_error err;
    ck_assert_int_eq(replay(&s, a, backup_named(a, "full"), -1, &res, NULL, &err), RD_ERR_PROC);
    ck_assert_msg(strncmp(err.msg, "mariadb-binlog failed (exit 1): ERROR: ", 39) == 0, "%s",
                  err.msg);
    ck_assert_str_eq(q(&s, "SELECT COUNT(*) FROM shop.marks"), "0");
    stop(&s);
    rd_mb_archive_free(a);
}
END_TEST

START_TEST(replay_error_and_unreachable_targets)
{
    NEED_FIXTURE();
    char *dir = test_dir(), root[300];
    snprintf(root, sizeof root, "%s/fx", fixdir);
    server s;
    rd_mb_archive *a = laid_full(root, dir, &s);
    size_t full = backup_named(a, "full");
    rd_mb_replay_result res;
    rd_error err;
    /* before the backup ended */
    ck_assert_int_eq(replay(&s, a, full, (int64_t)(full_end - 5) * 1000, &res, NULL, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_msg(strstr(err.msg, "is before the oldest backup ended (full at "), "%s", err.msg);
    /* past the last event */
    ck_assert_int_eq(replay(&s, a, full, (int64_t)(last_event + 30) * 1000, &res, NULL, &err),
                     RD_ERR_NOTFOUND);
    ck_assert_msg(strstr(err.msg, "is past the last event of the binary logs ("), "%s", err.msg);
    /* the same events twice: the server refuses the duplicate rows */
    ck_assert_int_eq(replay(&s, a, full, target_after_mark(1), &res, NULL, &err), RD_OK);
    ck_assert_int_eq(replay(&s, a, full, target_after_mark(1), &res, NULL, &err), RD_ERR_PROC);
    ck_assert_msg(strstr(err.msg, "replay into the scratch server failed (exit 1): ERROR 1") ==
                      err.msg,
                  "%s", err.msg);
    stop(&s);
    rd_mb_archive_free(a);
}
END_TEST

Suite *mariabackup_restore_suite(void);
Suite *mariabackup_restore_suite(void)
{
    Suite *s = suite_create("mariabackup_restore");
    TCase *t = tcase_create("restore");
    tcase_add_unchecked_fixture(t, make_fixture, remove_fixture);
    tcase_set_timeout(t, 300);
    tcase_add_test(t, full_backup_to_a_mark);
    tcase_add_test(t, incrementals_then_latest);
    tcase_add_test(t, damaged_redo_log_fails_the_prepare);
    tcase_add_test(t, damaged_tablespace_fails_the_prepare);
    tcase_add_test(t, incremental_without_its_base);
    tcase_add_test(t, truncated_binlog_fails_the_replay);
    tcase_add_test(t, corrupt_binlog_fails_the_replay);
    tcase_add_test(t, replay_error_and_unreachable_targets);
    suite_add_tcase(s, t);
    return s;
}
