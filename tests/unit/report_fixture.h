/* report_fixture.h: a synthetic rd_report for the report writer tests, with
 * hostile strings (quotes, &, ]]>, control characters, invalid UTF-8) and a
 * 100 KiB output. Header-only (static) so each test file stands alone. */
#ifndef RD_TEST_REPORT_FIXTURE_H
#define RD_TEST_REPORT_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "restoredrill/result.h"
#include "restoredrill/strbuf.h"

#define FX_CANARY "s3cr3t-CANARY-9f2e"
#define FX_BIG_OUTPUT (100 * 1024)

/* 2026-01-30T15:00:00.000Z */
#define FX_T0 1769785200000LL

static inline rd_report *fx_report(void)
{
    rd_report *r = rd_report_new();
    r->tool_version = rd_strdup("0.1.0");
    r->drill_id = rd_strdup("d-0001");
    r->name = rd_strdup("q<1> & \"dr\" 'x' ]]> \x01\x1b end \xff\xfe bad");
    r->seed = 18446744073709551615ULL;
    r->started_at_ms = FX_T0;
    r->finished_at_ms = FX_T0 + 123456;
    r->host = rd_strdup("ci-host");
    r->user = rd_strdup("ops");
    r->config_path = rd_strdup("/etc/drill.json");

    rd_target_result *t = rd_report_add_target(r, "orders", "postgres");
    t->started_at_ms = FX_T0;
    t->finished_at_ms = FX_T0 + 120000;
    t->point.id = rd_strdup("orders-20260130T030000Z.dump");
    t->point.created_at_ms = FX_T0 - 12 * 3600 * 1000LL;
    t->point.location =
        rd_strdup("s3://backup:" FX_CANARY "@bucket/orders?x=1&password=" FX_CANARY);
    t->point.bytes = 123456;
    t->point.format = rd_strdup("pg-custom");
    t->sampling_strategy = rd_strdup("random");
    t->sampling_candidates = 12;
    t->sampling_seed = 42;
    rd_target_add_phase(t, "sample", 0.012, RD_PASSED);
    rd_target_add_phase(t, "restore", 60.25, RD_PASSED);
    rd_target_add_phase(t, "verify", 20.0, RD_FAILED);
    t->rto.seconds = 82.5;
    t->rto.target_seconds = 60;
    t->rto.met = 0;
    t->data_ready_seconds = 61.7;
    t->rpo.seconds = 43200;
    t->rpo.target_seconds = 86400;
    t->rpo.met = 1;
    t->rpo_basis = rd_strdup("catalog");

    rd_check_result *c =
        rd_target_add_check(t, "rowcount", NULL, "public.orders", RD_FAILED, "row count differs");
    c->seconds = 0.12345;
    rd_check_set_expected(c, "%d", 100);
    rd_check_set_actual(c, "%d", 99);
    rd_check_add_prop(c, "chunks", "%d", 4);
    char *big = malloc(FX_BIG_OUTPUT + 64);
    memset(big, 'x', FX_BIG_OUTPUT);
    static const char tail[] = "<tail> & ]]> \x02 \xc3\x28 END";
    memcpy(big + FX_BIG_OUTPUT, tail, sizeof tail);
    rd_check_set_output(c, big);
    free(big);

    c = rd_target_add_check(t, "rowcount", NULL, "public.\"we&ird\" <t>", RD_PASSED, NULL);
    c->seconds = 0.05;
    c = rd_target_add_check(t, "integrity", NULL, "public.orders", RD_ERROR,
                            "amcheck is not installed");
    c = rd_target_add_check(t, "sql", "customers present", "customers present", RD_SKIPPED,
                            "no reference database");
    c = rd_target_add_check(t, "objective", "rto", "rto", RD_FAILED, "rto objective not met");
    rd_check_set_expected(c, "<= 60s");
    rd_check_set_actual(c, "82.5s");
    rd_target_set_error(t, "2 checks failed, 1 error (dsn host=db password=%s)", FX_CANARY);
    t->status = RD_FAILED;

    rd_target_result *m = rd_report_add_target(r, "billing \"eu\"\\x\nline", "mariadb");
    m->started_at_ms = FX_T0 + 1000;
    m->finished_at_ms = FX_T0 + 30000;
    rd_target_add_check(m, "rowcount", NULL, "billing.invoices", RD_PASSED, NULL);
    m->status = RD_PASSED;
    r->status = RD_FAILED;
    return r;
}

#endif
