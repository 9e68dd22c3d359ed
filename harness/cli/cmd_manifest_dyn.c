/* cmd_manifest_dyn.c: `restoredrill manifest --engine dynamodb --endpoint
 * URL --table T -o FILE [--region R]`: capture a table's description
 * (DescribeTable: key schema, attribute definitions, secondary indexes) at
 * backup time, for reference.description of a dynamodb target. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/cli.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/fs.h"
#include "restoredrill/log.h"

#define DESCRIBE_TIMEOUT 30

int rd_cli_manifest_dynamodb(int argc, char **argv)
{
    const char *endpoint = NULL, *table = NULL, *out = NULL, *region = NULL, *engine = NULL;
    struct {
        const char *name;
        const char **slot;
    } opts[] = {{"--engine", &engine}, {"--endpoint", &endpoint},
                {"--table", &table},   {"--region", &region},
                {"-o", &out},          {"--output", &out}};
    for (int i = 1; i < argc; i++) {
        size_t k = 0;
        for (; k < sizeof opts / sizeof opts[0]; k++) {
            const char *v = NULL;
            if (rd_cli_opt_value(argc, argv, &i, opts[k].name, &v)) {
                if (!v)
                    return rd_cli_usage_error("manifest", "%s needs a value", opts[k].name);
                *opts[k].slot = v;
                break;
            }
        }
        if (k == sizeof opts / sizeof opts[0])
            return rd_cli_usage_error(
                "manifest",
                argv[i][0] == '-' ? "unknown option \"%s\" (with --engine dynamodb: --endpoint, "
                                    "--table, --region, -o)"
                                  : "unexpected argument \"%s\"",
                argv[i]);
    }
    if (!endpoint)
        return rd_cli_usage_error("manifest", "--endpoint is required with --engine dynamodb");
    if (!table)
        return rd_cli_usage_error("manifest", "--table is required with --engine dynamodb");
    if (!out)
        return rd_cli_usage_error("manifest", "-o FILE is required");
    const char *access, *secret;
    rd_dyn_client *cl = NULL;
    cJSON *t = NULL, *doc = NULL;
    char *text = NULL;
    rd_error err;
    rd_error_clear(&err);
    rd_dyn_credentials(&access, &secret);
    rd_status st = rd_dyn_client_new(endpoint, region, access, secret, &cl, &err);
    if (st == RD_OK)
        st = rd_dyn_describe_table(cl, table, DESCRIBE_TIMEOUT, &t, &err);
    if (st == RD_OK)
        st = rd_dyn_description_check(t, "the table's description", &err);
    if (st == RD_OK) {
        doc = cJSON_CreateObject();
        if (doc && cJSON_AddItemToObject(doc, "Table", t))
            t = NULL;
        text = doc ? cJSON_Print(doc) : NULL;
        if (!text)
            st = RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    }
    if (st == RD_OK)
        st = rd_fs_write_atomic(out, text, strlen(text), 0644, &err);
    cJSON_free(text);
    cJSON_Delete(doc);
    cJSON_Delete(t);
    rd_dyn_client_free(cl);
    if (st != RD_OK) {
        fprintf(stderr, "restoredrill: manifest: %s\n", err.msg);
        return st == RD_ERR_ABORTED ? RD_EXIT_ABORTED : RD_EXIT_FAILED;
    }
    rd_log_info("manifest: wrote the description of table %s to %s", table, out);
    return RD_EXIT_OK;
}
