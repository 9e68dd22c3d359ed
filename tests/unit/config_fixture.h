/* config_fixture.h: what a drill configuration of given targets makes of
 * them, with the real drivers (rd_drill_drivers). Header-only (static
 * inline) so each test file stands alone. */
#ifndef RD_TEST_CONFIG_FIXTURE_H
#define RD_TEST_CONFIG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>

#include "restoredrill/config.h"
#include "restoredrill/drill.h"
#include "restoredrill/strbuf.h"

/* The error of {"version": 1, "targets": [targets]} as drill.json, or
 * "(loaded)" when it loads. The message lives until the next call. */
static inline const char *fx_targets_error(const char *targets)
{
    static char msg[RD_ERROR_MSG_MAX];
    char *text = rd_asprintf("{\"version\": 1, \"targets\": [%s]}", targets);
    rd_config *cfg = NULL;
    rd_error err;
    rd_status st = rd_config_parse(text, "drill.json", &rd_drill_drivers, &cfg, &err);
    free(text);
    rd_config_free(cfg);
    snprintf(msg, sizeof msg, "%s", st == RD_OK ? "(loaded)" : err.msg);
    return msg;
}

#endif
