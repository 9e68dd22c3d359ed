/* attach_database.c: which database of a restored physical instance the
 * drill attaches to (rd_scratch_choose_database), the same rule for every
 * engine: the target's "database" when set, else the database named like
 * the target, else the only user database, else the engine's fallback. */
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"
#include "scratch_int.h"

rd_status rd_scratch_choose_database(const rd_db_result *r, const rd_scratch_db_rules *rules,
                                     const char *database, const char *target, char **chosen,
                                     rd_error *err)
{
    rd_strbuf names;
    char *pick = NULL;
    size_t nuser = 0;
    rd_status st = RD_OK;

    rd_strbuf_init(&names, 4096);
    for (size_t i = 0; i < r->nrows; i++) {
        const char *n = rd_db_cell(r, i, 0);
        if (!n)
            continue;
        if (database && strcmp(n, database) == 0)
            pick = rd_strdup(n);
        if (rules->is_system(n))
            continue;
        nuser++;
        if (names.len)
            rd_strbuf_append(&names, ", ", NULL);
        rd_strbuf_append(&names, n, NULL);
    }
    if (database && !pick) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "database: the restored %s has no database \"%s\" (it holds: %s)", rules->noun,
                    database, names.len ? names.data : "no user database");
        goto out;
    }
    for (size_t i = 0; !pick && target && i < r->nrows; i++)
        if (rd_db_cell(r, i, 0) && strcmp(rd_db_cell(r, i, 0), target) == 0)
            pick = rd_strdup(target);
    for (size_t i = 0; !pick && nuser == 1 && i < r->nrows; i++)
        if (rd_db_cell(r, i, 0) && !rules->is_system(rd_db_cell(r, i, 0)))
            pick = rd_strdup(rd_db_cell(r, i, 0));
    if (!pick && nuser == 0 && rules->fallback)
        pick = rd_strdup(rules->fallback);
    if (!pick) {
        st = RD_ERR(err, RD_ERR_CONFIG,
                    nuser ? "database: the restored %s holds several databases (%s) and none is "
                            "named like the target: set the target's \"database\""
                          : "database: the restored %s holds no database of its own%s",
                    rules->noun, names.len ? names.data : "");
        goto out;
    }
    *chosen = pick;
    pick = NULL;
out:
    rd_strbuf_free(&names);
    free(pick);
    return st;
}
