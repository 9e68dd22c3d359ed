/* pg_dumpall_filter.c: the pg_dumpall dialect of the section filter
 * (section_filter.c): "-- Database \"NAME\" dump" headers with NAME as is
 * (pg_dumpall refuses names with a newline or a carriage return), the
 * globals (roles, tablespaces) in the preamble; the "-- PostgreSQL database
 * cluster dump complete" trailer. */
#include <string.h>

#include "restore_int.h"

int rd_pgda_is_system_db(const char *name)
{
    static const char *const sys[] = {"postgres", "template0", "template1", NULL};
    for (size_t i = 0; sys[i]; i++)
        if (strcmp(name, sys[i]) == 0)
            return 1;
    return 0;
}

#define HDR "-- Database \""
#define TAIL "\" dump"

static rd_status parse(const char *head, size_t n, char *name, size_t cap, rd_error *err)
{
    const size_t hl = sizeof(HDR) - 1, tl = sizeof(TAIL) - 1;
    size_t end = n;
    while (end > hl && (head[end - 1] == '\n' || head[end - 1] == '\r'))
        end--;
    if (end < hl + tl + 1 || memcmp(head + end - tl, TAIL, tl) != 0)
        return RD_ERR(err, RD_ERR_FORMAT, "malformed: it does not end with \"\\\" dump\"");
    size_t k = end - tl - hl;
    if (k + 1 > cap)
        return RD_ERR(err, RD_ERR_FORMAT, "malformed: the name is too long");
    memcpy(name, head + hl, k);
    name[k] = '\0';
    if (memchr(name, '\0', k))
        return RD_ERR(err, RD_ERR_FORMAT, "malformed: a NUL byte in the name");
    return RD_OK;
}

const rd_section_dialect rd_section_pgdumpall = {
    .name = "pg_dumpall",
    .header = HDR,
    .trailer = "-- PostgreSQL database cluster dump complete",
    .parse = parse,
    .is_system = rd_pgda_is_system_db,
};

static int starts(const char *line, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(line, p, k) == 0;
}

/* "ALTER ROLE <user> " with the user plain or double-quoted. */
static int alters_user(const char *line, size_t n, const char *user)
{
    static const char A[] = "ALTER ROLE ";
    size_t al = sizeof(A) - 1, ul = user ? strlen(user) : 0;
    if (!ul || !starts(line, n, A))
        return 0;
    line += al;
    n -= al;
    if (n > ul && memcmp(line, user, ul) == 0 && (line[ul] == ' ' || line[ul] == ';'))
        return 1;
    return n > ul + 2 && line[0] == '"' && memcmp(line + 1, user, ul) == 0 && line[ul + 1] == '"';
}

static const char *const globals[] = {"CREATE ROLE ",
                                      "ALTER ROLE ",
                                      "COMMENT ON ROLE ",
                                      "SECURITY LABEL ",
                                      "CREATE TABLESPACE ",
                                      "ALTER TABLESPACE ",
                                      "GRANT ",
                                      "REVOKE ",
                                      NULL};

rd_status rd_pgda_lines_long(void *ud, const char *head, size_t n, int *stream, rd_strbuf *emit,
                             rd_error *err)
{
    rd_pgda_lines *g = ud;
    if (!g->in_sections && starts(head, n, rd_section_pgdumpall.header))
        g->in_sections = 1;
    for (size_t k = 0; !g->in_sections && globals[k]; k++)
        if (starts(head, n, globals[k])) {
            *stream = 0;
            return RD_OK;
        }
    return rd_pg_roles_long(g->roles, head, n, stream, emit, err);
}

rd_status rd_pgda_lines_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err)
{
    rd_pgda_lines *g = ud;
    if (!g->in_sections && starts(line, n, rd_section_pgdumpall.header))
        g->in_sections = 1;
    if (g->in_sections)
        return rd_pg_roles_filter(g->roles, line, n, emit, err);
    size_t k = 0;
    while (globals[k] && !starts(line, n, globals[k]))
        k++;
    if (!globals[k])
        return rd_pg_roles_filter(g->roles, line, n, emit, err);
    if (g->roles->mode != RD_PG_ROLES_STRICT || alters_user(line, n, g->scratch_user))
        return RD_OK; /* dropped */
    if (k == 0) {     /* CREATE ROLE x; -> created unless it exists */
        size_t m = n;
        while (m && (line[m - 1] == '\n' || line[m - 1] == '\r' || line[m - 1] == ';'))
            m--;
        return rd_strbuf_appendf(emit, err,
                                 "DO $rd$ BEGIN %.*s; EXCEPTION WHEN duplicate_object THEN NULL; "
                                 "END $rd$;\n",
                                 (int)m, line);
    }
    return rd_strbuf_append_n(emit, line, n, err);
}
