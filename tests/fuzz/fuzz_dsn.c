/* fuzz_dsn.c: DSNs of both engines (rd_db_dsn_display): the first byte
 * picks the engine (even: PostgreSQL conninfo/URI through libpq's parser
 * and our display form; odd: MariaDB URL or key=value pairs). */
#include "fuzz_util.h"
#include "restoredrill/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    rd_engine e = data[0] % 2 ? RD_ENGINE_MARIADB : RD_ENGINE_PG;
    char *dsn = fuzz_str(data + 1, size - 1);
    char *disp = NULL;
    rd_error err;
    if (!dsn)
        return 0;
    rd_error_clear(&err);
    if (rd_db_dsn_display(e, dsn, &disp, &err) == RD_OK)
        free(disp);
    free(dsn);
    return 0;
}
