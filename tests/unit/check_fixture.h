/* check_fixture.h: one check configured and run the way a drill runs it, but
 * alone: a report with one target "t" of the engine, the check's config
 * object at a given path, its results in r->t->checks. Shared by the unit
 * tests of the exec and smoke checks and the integration tests
 * test_checks_*.c. Header-only (static inline) so each test file stands
 * alone. */
#ifndef RD_TEST_CHECK_FIXTURE_H
#define RD_TEST_CHECK_FIXTURE_H

#include <check.h>
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/check.h"
#include "restoredrill/config.h"
#include "restoredrill/result.h"
#include "restoredrill/scratch.h"

typedef struct fx_run {
    rd_report *rep;
    rd_target_result *t;
    rd_target_cfg tc;
    rd_check_cfg cc;
    rd_check_ctx ctx;
    cJSON *params;
    rd_scratch scratch; /* a stand-in instance, when the test points ctx.instance at it */
    rd_strlist vars;    /* template variables the test builds, when it does */
    const char **tvars; /* their argv (heap), freed with the run */
} fx_run;

/* Configure the check json describes ("type"; "name" and "timeout" when it
 * has them, else timeout seconds) on a target of engine e, its config at
 * path. ctx's target, check and result are set; the test sets the rest
 * (scratch, reference, manifest, ...) before fx_run_check. fx_run_free
 * afterwards, also on failure. */
static inline rd_status fx_configure(fx_run *r, rd_engine e, const char *path, double timeout,
                                     const char *json, rd_error *err)
{
    memset(r, 0, sizeof *r);
    r->rep = rd_report_new();
    r->t = rd_report_add_target(r->rep, "t", rd_engine_name(e));
    r->params = cJSON_Parse(json);
    ck_assert_msg(r->params != NULL, "bad json: %s", json);
    r->tc.engine = e;
    r->tc.name = (char *)"t";
    r->cc.type = cJSON_GetObjectItem(r->params, "type")->valuestring;
    const cJSON *name = cJSON_GetObjectItem(r->params, "name");
    r->cc.name = name ? name->valuestring : NULL;
    r->cc.path = (char *)path;
    r->cc.ct = rd_check_find(r->cc.type);
    ck_assert_msg(r->cc.ct != NULL, "no check type %s", r->cc.type);
    const cJSON *to = cJSON_GetObjectItem(r->params, "timeout");
    r->cc.timeout = to ? to->valuedouble : timeout;
    r->ctx.target = &r->tc;
    r->ctx.check = &r->cc;
    r->ctx.result = r->t;
    return r->cc.ct->configure(r->params, r->cc.path, e, &r->cc.state, err);
}

/* fx_configure, which must succeed. */
static inline void fx_start(fx_run *r, rd_engine e, const char *path, double timeout,
                            const char *json)
{
    rd_error err = {0};
    rd_status st = fx_configure(r, e, path, timeout, json, &err);
    ck_assert_msg(st == RD_OK, "configure: %s", err.msg);
}

static inline void fx_run_check(fx_run *r)
{
    rd_check_run_one(&r->ctx);
}

static inline void fx_run_free(fx_run *r)
{
    if (r->cc.ct && r->cc.ct->free)
        r->cc.ct->free(r->cc.state);
    cJSON_Delete(r->params);
    rd_report_free(r->rep);
    free(r->tvars);
    rd_strlist_free(&r->vars);
}

/* json must not configure: RD_ERR_CONFIG with message msg, or (msg NULL) a
 * message starting with prefix; no state is left behind. */
static inline void fx_config_error(rd_engine e, const char *path, const char *json, const char *msg,
                                   const char *prefix)
{
    fx_run r;
    rd_error err = {0};
    rd_status st = fx_configure(&r, e, path, 60, json, &err);
    ck_assert_msg(st == RD_ERR_CONFIG, "%s: status %d, want a config error (%s)", json, (int)st,
                  err.msg);
    if (msg) {
        ck_assert_str_eq(err.msg, msg);
    } else {
        const char *want = prefix ? prefix : "";
        ck_assert_msg(prefix != NULL, "%s: neither a message nor a prefix to expect", json);
        ck_assert_msg(strncmp(err.msg, want, strlen(want)) == 0, "%s: %s", json, err.msg);
    }
    ck_assert_msg(r.cc.state == NULL, "%s: state left behind", json);
    fx_run_free(&r);
}

/* The result for object; the test fails without one. */
static inline const rd_check_result *fx_result(const fx_run *r, const char *object)
{
    for (size_t i = 0; i < r->t->nchecks; i++)
        if (strcmp(r->t->checks[i].object, object) == 0)
            return &r->t->checks[i];
    ck_abort_msg("no result for %s", object);
    return NULL;
}

/* The result for object has verdict v and (unless msg is NULL) message msg. */
static inline const rd_check_result *fx_expect(const fx_run *r, const char *object, rd_verdict v,
                                               const char *msg)
{
    const rd_check_result *c = fx_result(r, object);
    ck_assert_msg(c->status == v, "%s: %s (%s)", object, rd_verdict_name(c->status), c->message);
    if (msg)
        ck_assert_str_eq(c->message, msg);
    return c;
}

/* The one result has verdict v and (unless msg is NULL) message msg. */
static inline const rd_check_result *fx_only(const fx_run *r, rd_verdict v, const char *msg)
{
    ck_assert_uint_eq(r->t->nchecks, 1);
    const rd_check_result *c = &r->t->checks[0];
    ck_assert_msg(c->status == v, "%s (%s)", rd_verdict_name(c->status), c->message);
    if (msg)
        ck_assert_str_eq(c->message, msg);
    return c;
}

/* The value of the result's property name, NULL without one. */
static inline const char *fx_prop(const rd_check_result *c, const char *name)
{
    for (size_t i = 0; i < c->nprops; i++)
        if (strcmp(c->props[i].name, name) == 0)
            return c->props[i].value;
    return NULL;
}

#endif
