/* cmd_manifest_s3.c: `restoredrill manifest --engine s3 --bucket B
 * [--prefix P] -o FILE`: the listing an object-set drill compares with
 * (docs/s3-objects.md): every object under the prefix streamed and
 * digested, one JSON line each (key relative to the prefix, size, sha256,
 * md5, last_modified), written atomically. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/cli.h"
#include "restoredrill/clock.h"
#include "restoredrill/fs.h"
#include "restoredrill/s3set.h"

int rd_cli_is_engine_s3(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--engine=s3") == 0)
            return 1;
        if (strcmp(argv[i], "--engine") == 0 && i + 1 < argc && strcmp(argv[i + 1], "s3") == 0)
            return 1;
    }
    return 0;
}

int rd_cmd_manifest_s3(int argc, char **argv)
{
    const char *bucket = NULL, *prefix = "", *out = NULL, *endpoint = NULL, *region = NULL;
    int path_style = -1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--bucket") == 0     ? &bucket
                            : strcmp(a, "--prefix") == 0   ? &prefix
                            : strcmp(a, "-o") == 0         ? &out
                            : strcmp(a, "--endpoint") == 0 ? &endpoint
                            : strcmp(a, "--region") == 0   ? &region
                                                           : NULL;
        if (strcmp(a, "--engine") == 0 && i + 1 < argc) {
            i++;
        } else if (strcmp(a, "--engine=s3") == 0) {
            continue;
        } else if (strcmp(a, "--path-style") == 0) {
            path_style = 1;
        } else if (slot) {
            if (i + 1 >= argc)
                return rd_cli_usage_error("manifest", "%s needs a value", a);
            *slot = argv[++i];
        } else {
            return rd_cli_usage_error("manifest",
                                      a[0] == '-' ? "unknown option \"%s\" (with --engine s3)"
                                                  : "unexpected argument \"%s\"",
                                      a);
        }
    }
    if (!bucket || !*bucket)
        return rd_cli_usage_error("manifest", "--bucket is required with --engine s3");
    if (!out)
        return rd_cli_usage_error("manifest", "-o FILE is required");
    rd_s3_opts o = {.endpoint = endpoint, .region = region, .path_style = path_style};
    rd_s3 *s3 = NULL;
    rd_s3set set = {NULL, 0};
    rd_strbuf sb;
    rd_error err;
    int64_t bytes = 0;
    double t0 = rd_mono_now();
    rd_error_clear(&err);
    rd_strbuf_init(&sb, 0);
    rd_status st = rd_s3_new(&o, &s3, &err);
    if (st == RD_OK)
        st = rd_s3set_capture(s3, bucket, prefix, &set, &err);
    for (size_t i = 0; st == RD_OK && i < set.n; i++) {
        bytes += set.items[i].size;
        st = rd_s3set_listing_line(&sb, &set.items[i], &err);
    }
    if (st == RD_OK)
        st = rd_fs_write_atomic(out, sb.data ? sb.data : "", sb.len, 0644, &err);
    if (st == RD_OK) {
        char took[64];
        fprintf(stderr,
                "restoredrill: manifest: %zu objects (%lld bytes) of s3://%s/%s in %s: %s\n", set.n,
                (long long)bytes, bucket, prefix,
                rd_duration_human(rd_mono_now() - t0, took, sizeof took), out);
    } else {
        fprintf(stderr, "restoredrill: manifest: %s\n", err.msg);
    }
    rd_strbuf_free(&sb);
    rd_s3set_free(&set);
    rd_s3_free(s3);
    if (st == RD_OK)
        return RD_EXIT_OK;
    return st == RD_ERR_ABORTED  ? RD_EXIT_ABORTED
           : st == RD_ERR_CONFIG ? RD_EXIT_USAGE
                                 : RD_EXIT_FAILED;
}
