/* mariadb_filter.c: the mariadb-dump dialect of the section filter
 * (section_filter.c): "-- Current Database: `NAME`" headers, backticks
 * inside NAME doubled; the "-- Dump completed" trailer. */
#include <string.h>

#include "restore_int.h"

int rd_mdb_is_system_db(const char *name)
{
    static const char *const sys[] = {"mysql", "information_schema", "performance_schema", "sys",
                                      NULL};
    for (size_t i = 0; sys[i]; i++)
        if (strcmp(name, sys[i]) == 0)
            return 1;
    return 0;
}

#define HDR "-- Current Database: `"

static rd_status parse(const char *head, size_t n, char *name, size_t cap, rd_error *err)
{
    const size_t hl = sizeof(HDR) - 1;
    size_t end = n;
    while (end > hl && (head[end - 1] == '\n' || head[end - 1] == '\r'))
        end--;
    if (end <= hl || head[end - 1] != '`')
        return RD_ERR(err, RD_ERR_FORMAT, "malformed: no closing backtick");
    size_t k = 0;
    for (size_t i = hl; i < end - 1 && k + 1 < cap; i++) {
        if (head[i] == '`') {
            if (i + 1 >= end - 1 || head[i + 1] != '`')
                return RD_ERR(err, RD_ERR_FORMAT, "malformed: a lone backtick inside the name");
            i++;
        }
        name[k++] = head[i];
    }
    name[k] = '\0';
    if (k == 0 || memchr(name, '\0', k))
        return RD_ERR(err, RD_ERR_FORMAT, "malformed: empty name");
    return RD_OK;
}

const rd_section_dialect rd_section_mariadb = {
    .name = "mariadb-dump",
    .header = HDR,
    .trailer = "-- Dump completed",
    .parse = parse,
    .is_system = rd_mdb_is_system_db,
};
