/* itest_util.c: placeholder until the scratch drivers land. */
#include "itest_util.h"

#include <stddef.h>

const rd_scratch *rd_itest_server(rd_engine engine)
{
    (void)engine;
    return NULL;
}

rd_db *rd_itest_connect(rd_engine engine)
{
    (void)engine;
    return NULL;
}

rd_db *rd_itest_fresh_db(rd_engine engine, char *name_out)
{
    (void)engine;
    name_out[0] = '\0';
    return NULL;
}
