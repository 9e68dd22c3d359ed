/* fuzz_config.c: the configuration parser (rd_config_parse): comments,
 * ${VAR} / ${VAR:-default} expansion, the typed model with every driver's
 * and check's keys, path-precise errors. */
#include "fuzz_util.h"
#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/log.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    setenv("RD_FUZZ_DIR", "/tmp", 1);
    setenv("RD_FUZZ_EMPTY", "", 1);
    setenv("RD_FUZZ_DSN", "host=/tmp dbname=x", 1);
    rd_log_set_level(RD_LOG_ERROR);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    rd_config *cfg = NULL;
    rd_error err;
    if (!text)
        return 0;
    rd_error_clear(&err);
    if (rd_config_parse(text, "fuzz.json", &rd_drill_drivers, &cfg, &err) == RD_OK)
        rd_config_free(cfg);
    free(text);
    return 0;
}
