/* tablehash_json.c: a table's chunk digests as the JSON a manifest stores
 * (rd_tablehash_manifest_json), for `manifest --checksums` and `backup`. */
#include <cjson/cJSON.h>
#include <string.h>

#include "restoredrill/tablehash.h"

static cJSON *keys_json(char *const *k, size_t n)
{
    if (!k)
        return cJSON_CreateNull();
    cJSON *a = cJSON_CreateArray();
    for (size_t i = 0; a && i < n; i++)
        cJSON_AddItemToArray(a, cJSON_CreateString(k[i]));
    return a;
}

rd_status rd_tablehash_manifest_json(rd_db *db, const char *schema, const char *name,
                                     int64_t chunk_rows, cJSON **out, rd_error *err)
{
    rd_th_table *t = NULL;
    rd_th_sum sum;
    rd_th_side side = {db, NULL, NULL, 0};
    rd_th_opts o = {.chunk_rows = chunk_rows > 0 ? chunk_rows : RD_TH_CHUNK_ROWS_DEFAULT,
                    .parallel = 1};
    cJSON *j = NULL;
    rd_status st;
    memset(&sum, 0, sizeof sum);
    if ((st = rd_th_describe(db, schema, name, NULL, &t, err)) != RD_OK)
        return st;
    rd_th_table *const tabs[1] = {t};
    if ((st = rd_th_checksum(&side, 1, tabs, 1, &o, &sum, err)) != RD_OK)
        goto out;
    j = cJSON_CreateObject();
    cJSON *cols = j ? cJSON_AddArrayToObject(j, "columns") : NULL;
    cJSON *key = j ? cJSON_AddArrayToObject(j, "key") : NULL;
    cJSON *chunks = NULL;
    if (!cols || !key || !cJSON_AddStringToObject(j, "algorithm", rd_th_algorithm(t)) ||
        !cJSON_AddNumberToObject(j, "chunk_rows", (double)o.chunk_rows) ||
        !cJSON_AddNumberToObject(j, "rows", (double)sum.rows[0]) ||
        !(chunks = cJSON_AddArrayToObject(j, "chunks"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    for (size_t i = 0; i < t->ncols; i++)
        cJSON_AddItemToArray(cols, cJSON_CreateString(t->cols[i].name));
    for (size_t i = 0; i < t->nkey; i++)
        cJSON_AddItemToArray(key, cJSON_CreateString(t->cols[t->key[i]].name));
    for (size_t i = 0; i < sum.nchunks; i++) {
        const rd_th_chunk *c = &sum.chunks[i];
        cJSON *o2 = cJSON_CreateObject();
        if (!o2) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        cJSON_AddItemToObject(o2, "lo", keys_json(c->lo, t->nkey));
        cJSON_AddItemToObject(o2, "hi", keys_json(c->hi, t->nkey));
        cJSON_AddNumberToObject(o2, "rows", (double)c->rows[0]);
        cJSON_AddStringToObject(o2, "digest", c->digest[0] ? c->digest[0] : "0");
        cJSON_AddItemToArray(chunks, o2);
    }
out:
    rd_th_sum_clear(&sum);
    rd_th_table_free(t);
    if (st != RD_OK) {
        cJSON_Delete(j);
        return st;
    }
    *out = j;
    return RD_OK;
}
