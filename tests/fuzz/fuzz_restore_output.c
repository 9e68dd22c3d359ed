/* fuzz_restore_output.c: what restoredrill reads from the restore tools and
 * the dumps they restore: the error lines of pg_restore / psql / mariadb
 * stderr (rd_restore_scan_errors), the completion trailer of a plain dump
 * (rd_restore_has_trailer), and the plain-SQL roles filter and scan
 * (rd_pg_roles_filter, rd_pg_roles_scan) in all three modes. */
#include "../../harness/restore/restore_int.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    char first[512];
    rd_error err;
    if (!text)
        return 0;
    rd_error_clear(&err);
    (void)rd_restore_scan_errors(text, first, sizeof first);
    (void)rd_restore_has_trailer((const char *)data, size, "-- Dump completed");
    (void)rd_restore_has_trailer((const char *)data, size, "-- PostgreSQL database dump complete");
    rd_pg_roles_mode mode = (rd_pg_roles_mode)(size % 3);
    rd_pg_roles roles;
    rd_strbuf emit;
    rd_pg_roles_init(&roles, mode);
    rd_strbuf_init(&emit, 0);
    /* line by line, as the pump hands them over (with their newline) */
    const char *p = (const char *)data, *end = p + size;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
        emit.len = 0;
        if (rd_pg_roles_filter(&roles, p, n, &emit, &err) != RD_OK)
            break;
        p += n;
    }
    rd_pg_roles_free(&roles);
    rd_pg_roles_init(&roles, RD_PG_ROLES_CREATE);
    if (rd_pg_roles_scan(&roles, text, &err) == RD_OK) {
        emit.len = 0;
        (void)rd_pg_roles_create_sql(&roles, &emit, &err);
        free(rd_pg_roles_note(&roles));
    }
    rd_pg_roles_free(&roles);
    rd_strbuf_free(&emit);
    free(text);
    return 0;
}
