/* registry.c: the check types. Adding one is one file and one line. */
#include "restoredrill/check.h"

#include <string.h>

extern const rd_check_type rd_check_rowcount;
extern const rd_check_type rd_check_schema;
extern const rd_check_type rd_check_integrity;
extern const rd_check_type rd_check_sql;
extern const rd_check_type rd_check_freshness;
extern const rd_check_type rd_check_smoke;
extern const rd_check_type rd_check_exec;
extern const rd_check_type rd_check_checksum;
extern const rd_check_type rd_check_diff;
extern const rd_check_type rd_check_page_checksums;

const rd_check_type *const rd_check_registry[] = {
    &rd_check_rowcount,
    &rd_check_schema,
    &rd_check_integrity,
    &rd_check_sql,
    &rd_check_freshness,
    &rd_check_smoke,
    &rd_check_exec,
    &rd_check_checksum,
    &rd_check_diff,
    &rd_check_page_checksums,
    NULL,
};

const rd_check_type *rd_check_find(const char *name)
{
    for (size_t i = 0; name && rd_check_registry[i]; i++)
        if (strcmp(rd_check_registry[i]->name, name) == 0)
            return rd_check_registry[i];
    return NULL;
}
