/* fuzz_exec_scratch.c: the JSON an exec scratch's create command prints
 * (rd_scratch_exec_parse_conn): host, port, socket, database, user,
 * password, dsn. */
#include "../../harness/scratch/scratch_int.h"
#include "fuzz_util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = fuzz_str(data, size);
    char *dsn = NULL;
    rd_error err;
    if (!text)
        return 0;
    rd_scratch *s = calloc(1, sizeof *s);
    if (s) {
        s->conn.engine = size % 2 ? RD_ENGINE_MARIADB : RD_ENGINE_PG;
        rd_error_clear(&err);
        (void)rd_scratch_exec_parse_conn(text, s, &dsn, &err);
        free(dsn);
        rd_scratch_destroy(s);
    }
    free(text);
    return 0;
}
