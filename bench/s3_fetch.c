/* s3_fetch.c URL SHA256: the benchmark's reader: streams an s3:// object
 * through the artifact pipeline (rd_artifact: S3 GET thread, ring, sha256
 * thread, wrap detection, decoder) to the end with rd_artifact_read_view as
 * the restore's pump does, verifying the sha256, and prints
 * "BYTES bytes in SECONDS s". Endpoint and credentials from the
 * environment (AWS_ENDPOINT_URL_S3, AWS_ACCESS_KEY_ID, ...). */
#include <stdio.h>
#include <stdlib.h>

#include "restoredrill/artifact.h"
#include "restoredrill/clock.h"

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: s3_fetch s3://bucket/key SHA256\n");
        return 2;
    }
    rd_error err;
    rd_artifact *a = NULL;
    rd_artifact_opts o = {.expected_sha256 = argv[2]};
    double t0 = rd_mono_now();
    if (rd_artifact_open(argv[1], &o, &a, &err) != RD_OK) {
        fprintf(stderr, "s3_fetch: %s\n", err.msg);
        return 1;
    }
    size_t n = 0;
    rd_status st;
    const void *view = NULL; /* as the restore's pump reads: no copy where it can */
    while ((st = rd_artifact_read_view(a, &view, 256 * 1024, &n, &err)) == RD_OK && n > 0)
        ;
    double secs = rd_mono_now() - t0;
    if (st != RD_OK) {
        fprintf(stderr, "s3_fetch: %s\n", err.msg);
        rd_artifact_free(a);
        return 1;
    }
    printf("%llu bytes in %.3f s, sha256 %s\n", (unsigned long long)rd_artifact_raw_bytes(a), secs,
           rd_artifact_sha256(a));
    rd_artifact_free(a);
    return 0;
}
