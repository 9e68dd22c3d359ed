/* page_checksums.c: the data pages of a physically restored cluster carry
 * valid checksums.
 *
 *   { "type": "page_checksums" }
 *
 * A physical backup copies the source's pages as they are, corruption
 * included; pg_checksums --check reads every page of every relation file
 * and recomputes its checksum. It needs the server stopped, so it runs
 * offline (run_offline): the drill stops the recovered instance cleanly
 * after recovery, runs it, starts the instance again and only then runs the
 * online checks. One result, object "data files": passed (no bad page),
 * failed (the first bad page named), skipped (the cluster has data checksums
 * off). Only physical restores (pg-archive, pgbackrest) can run it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/config.h"

static rd_status pc_configure(const cJSON *params, const char *path, rd_engine engine, void **state,
                              rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, NULL};
    (void)engine;
    *state = NULL;
    return rd_cfg_check_keys(params, path, keys, err);
}

/* Online run: only reached for a logical restore, which has no data files
 * of the source to verify. */
static rd_status pc_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    (void)ctx;
    (void)state;
    return RD_ERR(err, RD_ERR_UNSUPPORTED,
                  "page_checksums verifies a physical restore's data files (catalog pg-archive "
                  "or pgbackrest); this restore is logical");
}

static rd_status pc_offline(rd_scratch *s, const rd_check_cfg *cc, rd_target_result *res,
                            double deadline, rd_error *err)
{
    rd_scratch_offline o;
    double start = rd_mono_now();
    memset(&o, 0, sizeof o);
    rd_strbuf_init(&o.output, 16384);
    rd_status st = rd_scratch_verify_pages(s, deadline, &o, err);
    if (st == RD_OK) {
        const char *name = cc->name ? cc->name : "page_checksums";
        rd_verdict v = !o.applies ? RD_SKIPPED : o.ok ? RD_PASSED : RD_FAILED;
        rd_check_result *c = rd_target_add_check(res, "page_checksums", name, "data files", v, "");
        if (c) {
            c->seconds = rd_mono_now() - start;
            rd_check_set_message(c, "pg_checksums --check: %s", o.summary);
            if (v == RD_FAILED && o.output.len)
                rd_check_set_output(c, o.output.data);
        }
    }
    rd_strbuf_free(&o.output);
    return st;
}

const rd_check_type rd_check_page_checksums = {
    .name = "page_checksums",
    .engines = RD_ENGINE_PG,
    .configure = pc_configure,
    .run = pc_run,
    .run_offline = pc_offline,
};
