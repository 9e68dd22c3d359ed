/* test_dynamo_keys.c: key uniqueness with flat memory (dynamo_keys.c): with
 * fingerprints cut to 4 bits (16 values: every key collides with hundreds of
 * others) and runs of 7 records (so 150 runs, merged in two passes), exactly
 * the planted duplicates are reported, with where they were seen, and never
 * a collision between different keys; the same with 64-bit fingerprints;
 * the private directory is removed by free. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../harness/dynamo/dynamo_int.h"
#include "restoredrill/fs.h"
#include "restoredrill/strbuf.h"

static char dir[64];

static void setup_dir(void)
{
    snprintf(dir, sizeof dir, "/tmp/rd-dynkeys-test.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown_dir(void)
{
    rd_error e;
    ck_assert_int_eq(rd_fs_rmtree(dir, "/tmp", &e), RD_OK);
}

static void on_dup(void *ud, const char *where, const char *key)
{
    rd_error e;
    (void)rd_strbuf_appendf(ud, &e, "%s: %s\n", where, key);
}

static int entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    ck_assert_ptr_nonnull(d);
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* 1050 keys: 1000 distinct, then a repeat of keys 17, 503 and 999 (twice) */
static void run(unsigned fp_bits, size_t run_items, rd_strbuf *out)
{
    rd_dyn_keyset *k = NULL;
    rd_error err;
    char key[64], where[64];
    ck_assert_int_eq(rd_dyn_keyset_new(dir, run_items, fp_bits, &k, &err), RD_OK);
    ck_assert_int_eq(entries(dir), 1);
    for (int i = 0; i < 1000 + 4; i++) {
        int id = i < 1000 ? i : (int[]){17, 503, 999, 999}[i - 1000];
        snprintf(key, sizeof key, "pk=S\"user#%d\"", id);
        snprintf(where, sizeof where, "item %d", i + 1);
        ck_assert_int_eq(rd_dyn_keyset_add(k, key, strlen(key), where, &err), RD_OK);
    }
    rd_strbuf_reset(out);
    ck_assert_int_eq(rd_dyn_keyset_finish(k, on_dup, out, &err), RD_OK);
    rd_dyn_keyset_free(k);
    ck_assert_int_eq(entries(dir), 0);
}

/* the reported lines, sorted (they come in fingerprint order) */
static char *sorted(const char *text)
{
    char *copy = strdup(text), *lines[16];
    size_t n = 0;
    for (char *l = copy; *l && n < 16;) {
        char *nl = strchr(l, '\n');
        lines[n++] = l;
        if (!nl)
            break;
        *nl = '\0';
        l = nl + 1;
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
            char *t = lines[j];
            lines[j] = lines[j - 1];
            lines[j - 1] = t;
        }
    rd_strbuf b;
    rd_error e;
    rd_strbuf_init(&b, 0);
    for (size_t i = 0; i < n; i++)
        (void)rd_strbuf_appendf(&b, &e, "%s\n", lines[i]);
    free(copy);
    return b.data ? b.data : strdup("");
}

START_TEST(collisions_are_checked_exactly)
{
    static const char *want = "item 1001: pk=S\"user#17\"\n"
                              "item 1002: pk=S\"user#503\"\n"
                              "item 1003: pk=S\"user#999\"\n"
                              "item 1004: pk=S\"user#999\"\n";
    rd_strbuf b;
    rd_strbuf_init(&b, 0);
    run(4, 7, &b); /* 150 runs: a first pass merges 64 of them */
    char *s = sorted(b.data ? b.data : "");
    ck_assert_str_eq(s, want);
    free(s);
    run(0, 0, &b); /* 64-bit fingerprints, one run */
    s = sorted(b.data ? b.data : "");
    ck_assert_str_eq(s, want);
    free(s);
    run(1, 1000, &b); /* two fingerprint values, two runs */
    s = sorted(b.data ? b.data : "");
    ck_assert_str_eq(s, want);
    free(s);
    rd_strbuf_free(&b);
}
END_TEST

START_TEST(no_keys)
{
    rd_dyn_keyset *k = NULL;
    rd_error err;
    rd_strbuf b;
    rd_strbuf_init(&b, 0);
    ck_assert_int_eq(rd_dyn_keyset_new(dir, 0, 0, &k, &err), RD_OK);
    ck_assert_int_eq(rd_dyn_keyset_finish(k, on_dup, &b, &err), RD_OK);
    ck_assert_uint_eq(b.len, 0);
    rd_dyn_keyset_free(k);
    ck_assert_int_eq(entries(dir), 0);
    ck_assert_int_eq(rd_dyn_keyset_new("/nonexistent/dir", 0, 0, &k, &err), RD_ERR_IO);
    ck_assert_str_eq(err.msg, "cannot create a directory for the key runs in /nonexistent/dir: No "
                              "such file or directory");
    rd_strbuf_free(&b);
}
END_TEST

Suite *dynamo_keys_suite(void);
Suite *dynamo_keys_suite(void)
{
    Suite *s = suite_create("dynamo_keys");
    TCase *tc = tcase_create("keys");
    tcase_add_checked_fixture(tc, setup_dir, teardown_dir);
    tcase_add_test(tc, collisions_are_checked_exactly);
    tcase_add_test(tc, no_keys);
    suite_add_tcase(s, tc);
    return s;
}
