/* main.c: process-wide set-up, then the CLI. The only place a status becomes
 * an exit code (through rd_cli_main's return value). */
#include <curl/curl.h>

#include "restoredrill/cli.h"

int main(int argc, char **argv)
{
    /* libcurl's global init is not thread-safe: do it once, before any thread. */
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return RD_EXIT_ABORTED;
    int rc = rd_cli_main(argc, argv);
    curl_global_cleanup();
    return rc;
}
