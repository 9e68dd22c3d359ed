/* tmpdir_fixture.h: a private directory under /tmp (tmpdir) for each test of
 * the unit suites that write files, removed with all it holds after the
 * test: setup calls fx_tmpdir_make, teardown is fx_tmpdir_remove.
 * Header-only (static) so each test file stands alone. */
#ifndef RD_TEST_TMPDIR_FIXTURE_H
#define RD_TEST_TMPDIR_FIXTURE_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

static char tmpdir[256];

static inline int fx_rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    return remove(path);
}

/* tmpdir from a mkdtemp template ("/tmp/rd-test-NAME-XXXXXX"). */
static inline void fx_tmpdir_make(const char *tmpl)
{
    snprintf(tmpdir, sizeof tmpdir, "%s", tmpl);
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static inline void fx_tmpdir_remove(void)
{
    nftw(tmpdir, fx_rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

#endif
