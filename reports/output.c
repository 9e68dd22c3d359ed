/* output.c: write every report the output config names. The history line
 * is appended before the HTML is rendered so the charts include this drill.
 * A failing writer does not stop the others. */
#include <stdlib.h>

#include "report_int.h"
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
                           rd_error *err)
{
    switch (k) {
    case K_JSON:
        return rd_report_write_json(r, path, err);
    case K_JUNIT:
        return rd_report_write_junit(r, path, err);
    case K_HISTORY:
        return rd_history_append(r, path, err);
    case K_HTML:
        return rd_report_write_html(r, history, path, err);
    case K_PROM:
        return rd_report_write_prometheus(r, path, err);
    }
    return RD_ERR(err, RD_ERR_INTERNAL, "unknown report kind");
}

rd_status rd_report_write_all(const rd_report *r, const rd_output_cfg *out, const char *dir,
                              rd_error *err)
{
    rd_status first = RD_OK;
    char *history = NULL;
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
    if (out->history && !(history = place(d, out->history)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory joining report paths");
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (!files[i].file)
            continue;
        char *path = place(d, files[i].file);
        rd_status st = path ? write_one(files[i].k, r, path, history, &e)
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
    return first;
}
