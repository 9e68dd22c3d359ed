/* json_build.c: the cJSON builders the JSON writers share (json.c,
 * history.c, notify.c). A builder records an allocation failure in *oom
 * instead of each call checking it; the writer checks *oom once. */
#include <stdlib.h>

#include "report_int.h"
#include "restoredrill/clock.h"

void rd_json_put(cJSON *obj, const char *key, cJSON *item, int *oom)
{
    if (!item || !obj || !cJSON_AddItemToObject(obj, key, item)) {
        cJSON_Delete(item);
        *oom = 1;
    }
}

void rd_json_push(cJSON *arr, cJSON *item, int *oom)
{
    if (!item || !arr || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        *oom = 1;
    }
}

cJSON *rd_json_str_or_null(const char *s)
{
    if (!s)
        return cJSON_CreateNull();
    char *clean = rd_text_utf8_dup(s);
    if (!clean)
        return NULL;
    cJSON *item = cJSON_CreateString(clean);
    free(clean);
    return item;
}

void rd_json_put_str(cJSON *obj, const char *key, const char *s, int *oom)
{
    rd_json_put(obj, key, rd_json_str_or_null(s), oom);
}

void rd_json_put_secs(cJSON *obj, const char *key, double secs, int *oom)
{
    rd_json_put(obj, key,
                secs < 0 ? cJSON_CreateNull() : cJSON_CreateNumber(rd_text_round_ms(secs)), oom);
}

void rd_json_put_time(cJSON *obj, const char *key, int64_t ms, int *oom)
{
    char buf[RD_TIME_BUFSZ];
    rd_json_put(obj, key,
                ms == 0 ? cJSON_CreateNull()
                        : cJSON_CreateString(rd_time_format(ms, buf, sizeof buf)),
                oom);
}
