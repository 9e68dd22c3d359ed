/* fuzz_report_json.c: the JSON report loader of `restoredrill report`
 * (rd_report_parse_json), and every writer on what it loaded: JUnit, JSON,
 * Prometheus, HTML, and a merge of the report with itself (shards). */
#include "fuzz_util.h"
#include "restoredrill/log.h"
#include "restoredrill/report.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    rd_log_set_level(RD_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    rd_report *r = NULL, *merged = NULL;
    rd_error err;
    char *out = NULL;
    if (!text)
        return 0;
    rd_error_clear(&err);
    if (rd_report_parse_json(text, "fuzz.json", &r, &err) == RD_OK) {
        if (rd_report_to_junit(r, &out, &err) == RD_OK)
            free(out);
        out = NULL;
        if (rd_report_to_json(r, &out, &err) == RD_OK)
            free(out);
        out = NULL;
        if (rd_report_to_prometheus(r, NULL, &out, &err) == RD_OK)
            free(out);
        out = NULL;
        if (rd_report_to_html(r, NULL, &out, &err) == RD_OK)
            free(out);
        rd_report *const two[2] = {r, r};
        if (rd_report_merge(two, 2, &merged, &err) == RD_OK)
            rd_report_free(merged);
        rd_report_free(r);
    }
    free(text);
    return 0;
}
