/* cmd_version.c: `restoredrill version`: the version, the linked libraries
 * and the checksum algorithms (manifests' digests compare only within one). */
#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

#include "restoredrill/cli.h"
#include "restoredrill/tablehash.h"

#ifndef RD_VERSION
#define RD_VERSION "0.0.0"
#endif

int rd_cmd_version(int argc, char **argv)
{
    if (argc > 1)
        return rd_cli_usage_error("version", "unexpected argument \"%s\"", argv[1]);
    printf("restoredrill %s\n", RD_VERSION);
    printf("  %s\n", curl_version());
    printf("  cJSON/%s\n", cJSON_Version());
    printf("  %s\n", OpenSSL_version(OPENSSL_VERSION));
    printf("  zlib/%s zstd/%s\n", zlibVersion(), ZSTD_versionString());
    /* manifests' chunk digests are comparable only within an algorithm */
    printf("  checksum algorithms: %s %s\n", RD_TH_ALGO_PG, RD_TH_ALGO_MARIADB);
    return RD_EXIT_OK;
}
