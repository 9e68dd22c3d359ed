/* fuzz_dynamo_item.c: DynamoDB JSON as exports and scans hold it: an item's
 * attribute map put in canonical form (rd_dyn_item_canon: type descriptors
 * S N B BOOL NULL M L SS NS BS, nesting), and numbers normalised as
 * DynamoDB compares them (rd_dyn_number_canon). */
#include <cjson/cJSON.h>

#include "fuzz_util.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/strbuf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_str(data, size);
    if (!s)
        return 0;
    rd_strbuf out;
    rd_error err;
    rd_error_clear(&err);
    rd_strbuf_init(&out, 1 << 20);
    (void)rd_dyn_number_canon(s, &out, &err);
    rd_strbuf_reset(&out);
    cJSON *item = cJSON_Parse(s);
    if (item)
        (void)rd_dyn_item_canon(item, &out, &err);
    cJSON_Delete(item);
    rd_strbuf_free(&out);
    free(s);
    return 0;
}
