/* cmd_evidence.c: `restoredrill evidence verify` (a report's detached
 * signature, or every signed line of a history) and `restoredrill evidence
 * pack` (one archive for the auditor). See docs/evidence.md.
 *
 *   evidence verify FILE --pub KEY.pub [--sig FILE.sig]
 *       exit 0 valid, 1 invalid (edited, another key, not signed), 2 usage
 *   evidence pack OUTDIR -o FILE.tar.gz [--config CONFIG]
 *       exit 0 written, 1 nothing to pack, 2 usage */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/cli.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "restoredrill/sign.h"
#include "restoredrill/strbuf.h"

/* 1 when the file's first line is a restoredrill history line. */
static int is_history(const char *path)
{
    char buf[128];
    size_t n = 0;
    FILE *f = fopen(path, "rb");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return strstr(buf, "\"schema\":\"" RD_HISTORY_SCHEMA "\"") != NULL;
}

static int verify(int argc, char **argv)
{
    const char *file = NULL, *pub = NULL, *sig = NULL, *v;
    rd_sign_key *key = NULL;
    rd_error err;
    rd_status st;
    int rc;
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        if (rd_cli_opt_value(argc, argv, &i, "--pub", &v) ||
            rd_cli_opt_value(argc, argv, &i, "--sig", &v)) {
            int is_pub = strncmp(opt, "--pub", 5) == 0;
            if (!v)
                return rd_cli_usage_error("evidence", "evidence verify: %s needs a file name",
                                          is_pub ? "--pub" : "--sig");
            *(is_pub ? &pub : &sig) = v;
        } else if (opt[0] == '-' && opt[1]) {
            return rd_cli_usage_error("evidence", "evidence verify: unknown option \"%s\"", opt);
        } else if (file) {
            return rd_cli_usage_error("evidence", "%s", "evidence verify: expected one file");
        } else {
            file = opt;
        }
    }
    if (!file || !pub)
        return rd_cli_usage_error("evidence", "%s",
                                  "evidence verify: expected FILE and --pub KEY.pub");
    if (!rd_fs_exists(file)) {
        fprintf(stderr, "restoredrill: evidence verify: %s does not exist\n", file);
        return RD_EXIT_USAGE;
    }
    if (rd_sign_load_public(pub, &key, &err) != RD_OK) {
        fprintf(stderr, "restoredrill: evidence verify: --pub %s\n", err.msg);
        return RD_EXIT_USAGE;
    }
    char *default_sig = rd_asprintf("%s.sig", file);
    if (!sig && default_sig && !rd_fs_exists(default_sig) && is_history(file)) {
        size_t lines = 0, bad = 0;
        st = rd_evidence_verify_history(file, key, &lines, &bad, &err);
        if (st == RD_OK)
            printf("%s: %zu line%s, chain intact, last line signed by %s\n", file, lines,
                   lines == 1 ? "" : "s", rd_sign_fingerprint(key));
    } else {
        st = rd_evidence_verify_file(file, sig, key, &err);
        if (st == RD_OK)
            printf("%s: valid signature by %s\n", file, rd_sign_fingerprint(key));
    }
    if (st == RD_OK) {
        rc = RD_EXIT_OK;
    } else if (st == RD_ERR_INTEGRITY || st == RD_ERR_NOTFOUND || st == RD_ERR_FORMAT) {
        printf("%s: INVALID: %s\n", file, err.msg);
        rc = RD_EXIT_FAILED;
    } else {
        fprintf(stderr, "restoredrill: evidence verify: %s\n", err.msg);
        rc = RD_EXIT_USAGE;
    }
    free(default_sig);
    rd_sign_key_free(key);
    return rc;
}

static int pack(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL, *config = NULL, *v;
    rd_error err;
    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        if (strcmp(opt, "-o") == 0) {
            if (i + 1 >= argc)
                return rd_cli_usage_error("evidence", "%s", "evidence pack: -o needs a file name");
            out = argv[++i];
        } else if (rd_cli_opt_value(argc, argv, &i, "--config", &v)) {
            if (!v)
                return rd_cli_usage_error("evidence", "%s",
                                          "evidence pack: --config needs a file name");
            config = v;
        } else if (opt[0] == '-' && opt[1]) {
            return rd_cli_usage_error("evidence", "evidence pack: unknown option \"%s\"", opt);
        } else if (dir) {
            return rd_cli_usage_error("evidence", "%s",
                                      "evidence pack: expected one report directory");
        } else {
            dir = opt;
        }
    }
    if (!dir || !out)
        return rd_cli_usage_error("evidence", "%s",
                                  "evidence pack: expected OUTDIR and -o FILE.tar.gz");
    rd_status st = rd_evidence_pack(dir, config, out, &err);
    if (st != RD_OK) {
        fprintf(stderr, "restoredrill: evidence pack: %s\n", err.msg);
        return st == RD_ERR_NOTFOUND ? RD_EXIT_FAILED : RD_EXIT_USAGE;
    }
    printf("%s\n", out);
    return RD_EXIT_OK;
}

int rd_cmd_evidence(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "verify") == 0)
        return verify(argc, argv);
    if (argc >= 2 && strcmp(argv[1], "pack") == 0)
        return pack(argc, argv);
    return rd_cli_usage_error("evidence", "%s", "expected \"verify\" or \"pack\"");
}
