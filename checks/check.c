/* check.c: recording results and running one configured check. A check that
 * could not run becomes an `error` result (object "*"), never a pass; a check
 * that returned RD_OK without recording anything is an error too. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "restoredrill/check.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/strbuf.h"

static const char *check_type_name(const rd_check_ctx *ctx)
{
    if (ctx->check && ctx->check->type)
        return ctx->check->type;
    if (ctx->check && ctx->check->ct)
        return ctx->check->ct->name;
    return "check";
}

rd_check_result *rd_check_record(rd_check_ctx *ctx, const char *object, rd_verdict v,
                                 double seconds, const char *fmt, ...)
{
    char msg[2048];
    msg[0] = '\0';
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        if (n < 0)
            msg[0] = '\0';
    }
    const char *type = check_type_name(ctx);
    const char *name = ctx->check && ctx->check->name ? ctx->check->name : type;
    rd_check_result *c = rd_target_add_check(ctx->result, type, name, object, v, msg);
    if (!c)
        return NULL;
    c->seconds = seconds < 0 ? 0 : seconds;
    return c;
}

void rd_check_run_one(rd_check_ctx *ctx)
{
    rd_error err = {0};
    const rd_check_type *ct = ctx->check ? ctx->check->ct : NULL;
    size_t before = ctx->result ? ctx->result->nchecks : 0;
    double t0 = rd_mono_now();
    rd_status st;

    if (ct && ctx->target && (ct->skips & (unsigned)ctx->target->engine) &&
        !(ct->engines & (unsigned)ctx->target->engine)) {
        if (!rd_check_record(ctx, "*", RD_SKIPPED, 0, "not supported for %s",
                             rd_engine_name(ctx->target->engine)))
            rd_log_error("check %s: out of memory recording a skip", ct->name);
        return;
    }
    if (!ct) {
        st = RD_ERR(&err, RD_ERR_INTERNAL, "unknown check type \"%s\"", check_type_name(ctx));
    } else if (ctx->target && !(ct->engines & (unsigned)ctx->target->engine)) {
        st = RD_ERR(&err, RD_ERR_UNSUPPORTED, "check %s does not support %s", ct->name,
                    rd_engine_name(ctx->target->engine));
    } else {
        st = ct->run(ctx, ctx->check->state, &err);
        if (st == RD_OK && ctx->result && ctx->result->nchecks == before)
            st = RD_ERR(&err, RD_ERR_INTERNAL, "check %s recorded no result", ct->name);
    }
    if (st != RD_OK) {
        double secs = rd_mono_now() - t0;
        const char *msg = err.msg[0] ? err.msg : rd_strerror(st);
        rd_log_debug("check %s: %s", check_type_name(ctx), msg);
        if (!rd_check_record(ctx, "*", RD_ERROR, secs, "%s", msg))
            rd_log_error("check %s: %s (and out of memory recording it)", check_type_name(ctx),
                         msg);
    }
}
