/* fuzz_time.c: durations ("90s", "1h30m", "2d"), timestamps (RFC 3339 and
 * the forms the config accepts) and times embedded in file names. */
#include "fuzz_util.h"
#include "restoredrill/catalog.h"
#include "restoredrill/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    rd_error err;
    double secs;
    int64_t ms;
    char buf[64];
    if (!s)
        return 0;
    rd_error_clear(&err);
    if (rd_duration_parse(s, &secs, &err) == RD_OK) {
        rd_duration_format(secs, buf, sizeof buf);
        rd_duration_human(secs, buf, sizeof buf);
    }
    if (rd_time_parse(s, &ms, &err) == RD_OK)
        rd_time_format(ms, buf, sizeof buf);
    (void)rd_time_parse_utc(s, &ms, &err);
    if (rd_catalog_time_from_name(s, &ms))
        rd_time_format(ms, buf, sizeof buf);
    free(s);
    return 0;
}
