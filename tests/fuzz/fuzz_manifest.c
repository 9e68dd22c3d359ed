/* fuzz_manifest.c: the manifest parser (rd_manifest_parse): tables, row
 * counts, columns, chunk digests, server facts. */
#include "fuzz_util.h"
#include "restoredrill/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    rd_manifest *m = NULL;
    rd_error err;
    rd_error_clear(&err);
    if (rd_manifest_parse((const char *)data, size, "fuzz.manifest.json", &m, &err) == RD_OK)
        rd_manifest_free(m);
    return 0;
}
