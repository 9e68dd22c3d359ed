/* fuzz_template.c: templates ({scratch.url}, {point.id}, "{{" escapes) in
 * check queries, smoke URLs and exec commands (rd_template_expand). */
#include "fuzz_util.h"
#include "restoredrill/scratch.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const vars[] = {"scratch.host=/tmp/rd x",
                                       "scratch.port=5432",
                                       "scratch.url=postgresql://u:p@/d?host=/tmp",
                                       "point.id=shop-20260101T000000Z.dump",
                                       "point.created_at=2026-01-01T00:00:00Z",
                                       "target.name=orders",
                                       "empty=",
                                       NULL};
    char *t = fuzz_str(data, size);
    char *out = NULL;
    rd_error err;
    if (!t)
        return 0;
    rd_error_clear(&err);
    if (rd_template_expand(t, vars, &out, &err) == RD_OK)
        free(out);
    free(t);
    return 0;
}
