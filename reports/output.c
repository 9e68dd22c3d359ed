/* output.c: write every report the output config names (the JSON report
 * and the history line signed when output.sign.key is set). The history line
 * is appended before the HTML is rendered so the charts include this drill.
 * A failing writer does not stop the others. */
#include <stdlib.h>

#include "report_int.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"
#include "restoredrill/report.h"
#include "restoredrill/strbuf.h"

/* file relative to dir, or as is when absolute. */
static char *place(const char *dir, const char *file)
{
    return file[0] == '/' ? rd_strdup(file) : rd_fs_join(dir, file);
}

typedef enum kind { K_JSON, K_JUNIT, K_HISTORY, K_HTML, K_PROM } kind;

static rd_status write_one(kind k, const rd_report *r, const char *path, const char *history,
                           const rd_sign_key *key, rd_error *err)
{
    rd_status st;
    switch (k) {
    case K_JSON:
        st = rd_report_write_json(r, path, err);
        if (st == RD_OK && key)
            st = rd_evidence_sign_file(path, key, err); /* the exact bytes just written */
        return st;
    case K_JUNIT:
        return rd_report_write_junit(r, path, err);
    case K_HISTORY:
        return rd_history_append_signed(r, path, key, err);
    case K_HTML:
        return rd_report_write_html(r, history, path, err);
    case K_PROM:
        return rd_report_write_prometheus_history(r, history, path, err);
    }
    return RD_ERR(err, RD_ERR_INTERNAL, "unknown report kind");
}

rd_status rd_report_write_all(const rd_report *r_in, const rd_output_cfg *out, const char *dir,
                              rd_error *err)
{
    rd_status first = RD_OK;
    char *history = NULL;
    rd_sign_key *key = NULL;
    rd_report signed_copy = *r_in; /* shallow: only signing_key differs, borrowed */
    const rd_report *r = &signed_copy;
    signed_copy.signing_key = NULL;
    const char *d = dir ? dir : (out->dir ? out->dir : "out");
    const struct {
        kind k;
        const char *file;
    } files[] = {{K_JSON, out->json},
                 {K_JUNIT, out->junit},
                 {K_HISTORY, out->history},
                 {K_HTML, out->html},
                 {K_PROM, out->prometheus}};
    rd_error e;
    if (rd_fs_mkdir_p(d, 0755, &e) != RD_OK) {
        rd_log_error("reports: %s", e.msg);
        if (err)
            *err = e;
        return e.code;
    }
    if (out->sign_key) {
        if (rd_sign_load_private(out->sign_key, &key, &e) != RD_OK) {
            /* the reports are still written, unsigned, and the drill fails */
            rd_log_error("reports: output.sign.key: %s", e.msg);
            first = e.code;
            if (err)
                *err = e;
        } else {
            signed_copy.signing_key = (char *)rd_sign_fingerprint(key);
        }
    }
    if (out->history && !(history = place(d, out->history))) {
        rd_sign_key_free(key);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory joining report paths");
    }
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].file)
            continue;
        char *path = place(d, files[i].file);
        rd_status st = path ? write_one(files[i].k, r, path, history, key, &e)
                            : RD_ERR(&e, RD_ERR_NOMEM, "out of memory joining report paths");
        if (st != RD_OK) {
            rd_log_error("reports: %s", e.msg);
            if (first == RD_OK) {
                first = st;
                if (err)
                    *err = e;
            }
        } else {
            rd_log_debug("wrote %s", path);
        }
        free(path);
    }
    free(history);
    rd_sign_key_free(key);
    return first;
}
