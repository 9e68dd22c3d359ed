/* fuzz_exec_catalog.c: the exec catalog's JSON (rd_catalog_exec_parse):
 * recovery points with ids, times, locations, sizes, sha256, formats. */
#include "fuzz_util.h"
#include "restoredrill/catalog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_points pts = {0};
    rd_error err;
    rd_error_clear(&err);
    if (rd_catalog_exec_parse((const char *)data, size, &pts, &err) == RD_OK) {
        rd_points_sort(&pts);
        rd_points_free(&pts);
    }
    return 0;
}
