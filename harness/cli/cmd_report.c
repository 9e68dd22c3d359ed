/* cmd_report.c: `restoredrill report` (re-render JSON reports, merge shards)
 * and `restoredrill history verify`.
 *
 *   report FILE.json... [--junit F] [--json F] [--html F] [--prometheus F]
 *          [--history H] [--append-history H] [--sign KEY]
 * --history feeds the HTML charts; --append-history appends the (merged)
 * drill to H once (for sharded runs) and charts it. --sign KEY signs the
 * written JSON (F.sig) and the appended history line; without it the output
 * is unsigned (a re-rendered or merged report is not what was signed).
 * Exit: the merged drill status (0 passed, 1 failed/error, 3 aborted); 2
 * bad arguments or an input that does not load; 3 when an output could not
 * be written. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/cli.h"
#include "restoredrill/evidence.h"
#include "restoredrill/report.h"
#include "restoredrill/sign.h"
#include "restoredrill/strbuf.h"

typedef struct report_args {
    const char *junit, *json, *html, *prometheus, *history, *append_history, *sign;
    const char **inputs;
    size_t ninputs;
} report_args;

/* Match "--name VALUE" or "--name=VALUE"; 1 matched, -1 value missing. */
static int option(const char *name, int argc, char **argv, int *i, const char **value)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) != 0)
        return 0;
    if (argv[*i][n] == '=') {
        *value = argv[*i] + n + 1;
        return 1;
    }
    if (argv[*i][n] != '\0')
        return 0;
    if (*i + 1 >= argc)
        return -1;
    *value = argv[++*i];
    return 1;
}

static int parse_args(int argc, char **argv, report_args *a)
{
    static const char *const names[] = {"--junit",   "--json",           "--html", "--prometheus",
                                        "--history", "--append-history", "--sign"};
    const char **slots[] = {&a->junit,   &a->json,           &a->html, &a->prometheus,
                            &a->history, &a->append_history, &a->sign};
    for (int i = 1; i < argc; i++) {
        int matched = 0;
        if (strcmp(argv[i], "--") == 0) {
            while (++i < argc)
                a->inputs[a->ninputs++] = argv[i];
            break;
        }
        for (size_t k = 0; k < sizeof names / sizeof names[0] && !matched; k++) {
            int m = option(names[k], argc, argv, &i, slots[k]);
            if (m < 0)
                return rd_cli_usage_error("report", "%s needs a file name", names[k]);
            matched = m;
        }
        if (matched)
            continue;
        if (argv[i][0] == '-' && argv[i][1] != '\0')
            return rd_cli_usage_error("report", "unknown option \"%s\"", argv[i]);
        a->inputs[a->ninputs++] = argv[i];
    }
    if (a->ninputs == 0)
        return rd_cli_usage_error("report", "%s", "no input report given");
    if (!a->junit && !a->json && !a->html && !a->prometheus && !a->append_history)
        return rd_cli_usage_error("report", "%s",
                                  "nothing to write: give at least one of --junit, --json, --html, "
                                  "--prometheus, --append-history");
    if (a->append_history && !a->history)
        a->history = a->append_history; /* the charts include the appended drill */
    return RD_EXIT_OK;
}

static int exit_for(rd_verdict v)
{
    switch (v) {
    case RD_PASSED:
    case RD_SKIPPED:
        return RD_EXIT_OK;
    case RD_FAILED:
    case RD_ERROR:
        return RD_EXIT_FAILED;
    case RD_ABORTED:
        return RD_EXIT_ABORTED;
    }
    return RD_EXIT_ABORTED;
}

int rd_cmd_report(int argc, char **argv)
{
    int rc = RD_EXIT_OK;
    report_args a;
    rd_report **in = NULL, *merged = NULL;
    rd_report *r;
    rd_sign_key *key = NULL;
    rd_error err;
    memset(&a, 0, sizeof a);
    a.inputs = calloc((size_t)(argc > 0 ? argc : 1), sizeof *a.inputs);
    in = calloc((size_t)(argc > 0 ? argc : 1), sizeof *in);
    if (!a.inputs || !in) {
        fprintf(stderr, "restoredrill: report: out of memory\n");
        rc = RD_EXIT_ABORTED;
        goto out;
    }
    if ((rc = parse_args(argc, argv, &a)) != RD_EXIT_OK)
        goto out;
    for (size_t i = 0; i < a.ninputs; i++) {
        if (rd_report_load_json(a.inputs[i], &in[i], &err) != RD_OK) {
            fprintf(stderr, "restoredrill: report: %s\n", err.msg);
            rc = RD_EXIT_USAGE;
            goto out;
        }
    }
    if (a.ninputs > 1) {
        if (rd_report_merge(in, a.ninputs, &merged, &err) != RD_OK) {
            fprintf(stderr, "restoredrill: report: %s\n", err.msg);
            rc = RD_EXIT_ABORTED;
            goto out;
        }
        r = merged;
    } else {
        r = in[0];
    }
    /* a re-rendered or merged report is signed only when signed again */
    free(r->signing_key);
    r->signing_key = NULL;
    if (a.sign) {
        if (rd_sign_load_private(a.sign, &key, &err) != RD_OK) {
            fprintf(stderr, "restoredrill: report: --sign %s\n", err.msg);
            rc = RD_EXIT_USAGE;
            goto out;
        }
        r->signing_key = rd_strdup(rd_sign_fingerprint(key));
    }
    struct {
        const char *path;
        rd_status (*fn)(const rd_report *, const char *, rd_error *);
    } plain[] = {{a.json, rd_report_write_json},
                 {a.junit, rd_report_write_junit},
                 {NULL, rd_report_write_prometheus}};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (plain[i].path && plain[i].fn(r, plain[i].path, &err) != RD_OK) {
            fprintf(stderr, "restoredrill: report: %s\n", err.msg);
            rc = RD_EXIT_ABORTED;
        }
    }
    if (a.json && key && rd_evidence_sign_file(a.json, key, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: report: %s\n", err.msg);
        rc = RD_EXIT_ABORTED;
    }
    if (a.append_history && rd_history_append_signed(r, a.append_history, key, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: report: %s\n", err.msg);
        rc = RD_EXIT_ABORTED;
    }
    /* after the append: the forecast includes the appended drill */
    if (a.prometheus &&
        rd_report_write_prometheus_history(r, a.history, a.prometheus, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: report: %s\n", err.msg);
        rc = RD_EXIT_ABORTED;
    }
    if (a.html && rd_report_write_html(r, a.history, a.html, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: report: %s\n", err.msg);
        rc = RD_EXIT_ABORTED;
    }
    rd_report_print_console(r);
    if (rc == RD_EXIT_OK)
        rc = exit_for(r->status);
out:
    for (size_t i = 0; in && i < a.ninputs; i++)
        rd_report_free(in[i]);
    rd_report_free(merged);
    rd_sign_key_free(key);
    free(in);
    free(a.inputs);
    return rc;
}

int rd_cmd_history(int argc, char **argv)
{
    size_t lines = 0, bad = 0;
    rd_error err;
    if (argc < 2 || strcmp(argv[1], "verify") != 0)
        return rd_cli_usage_error("history", "%s", "expected \"verify FILE.jsonl\"");
    if (argc != 3)
        return rd_cli_usage_error("history", "history verify: %s",
                                  "expected exactly one history file");
    const char *path = argv[2];
    rd_status st = rd_history_verify(path, &lines, &bad, &err);
    if (st == RD_OK) {
        printf("%s: %zu line%s, chain intact\n", path, lines, lines == 1 ? "" : "s");
        return RD_EXIT_OK;
    }
    if (st == RD_ERR_INTEGRITY) {
        printf("%s: %s\n", path, err.msg);
        return RD_EXIT_FAILED;
    }
    fprintf(stderr, "restoredrill: history verify: %s\n", err.msg);
    return RD_EXIT_USAGE;
}
