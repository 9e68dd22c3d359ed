/* split_fixture.h: the MariaDB dump split (harness/restore/mariadb_split.c)
 * run over a text with a sink that records what it saw: "[S]" at a
 * section, "[O]" at an ordered part, the bytes as they came. Shared by
 * test_mariadb_split.c and test_mariadb_defer.c; header-only (static
 * inline) so each test file stands alone. Include it after
 * harness/restore/restore_int.h (which has no include guard). */
#ifndef RD_TEST_SPLIT_FIXTURE_H
#define RD_TEST_SPLIT_FIXTURE_H

#include <check.h>
#include <string.h>

static inline rd_status fx_rec_section(void *ud, rd_error *err)
{
    return rd_strbuf_append(ud, "[S]", err);
}

static inline rd_status fx_rec_ordered(void *ud, rd_error *err)
{
    return rd_strbuf_append(ud, "[O]", err);
}

static inline rd_status fx_rec_bytes(void *ud, const char *buf, size_t n, rd_error *err)
{
    return rd_strbuf_append_n(ud, buf, n, err);
}

/* Feed text to a fresh *sp (rd_split.defer = defer) in chunks of step bytes
 * (the last may be shorter), then the end; every feed must succeed. *out
 * gets the record (the caller frees it); *sp is left for the caller to read
 * and rd_split_free. */
static inline void fx_split_run(rd_split *sp, const char *text, size_t step, int defer,
                                rd_strbuf *out)
{
    rd_error err;
    rd_strbuf_init(out, 0);
    rd_split_sink sink = {
        .ud = out, .section = fx_rec_section, .ordered = fx_rec_ordered, .bytes = fx_rec_bytes};
    rd_split_init(sp, &sink);
    sp->defer = defer;
    size_t n = strlen(text);
    for (size_t i = 0; i < n; i += step) {
        size_t k = n - i < step ? n - i : step;
        ck_assert_int_eq(rd_split_feed(sp, text + i, k, 0, &err), RD_OK);
    }
    ck_assert_int_eq(rd_split_feed(sp, "", 0, 1, &err), RD_OK);
}

#endif
