/* pg_roles.c: the roles a pg_dump SQL stream references (ALTER ... OWNER TO,
 * GRANT ... TO, REVOKE ... FROM, ALTER DEFAULT PRIVILEGES FOR ROLE), and the
 * line filter that drops or pre-creates them for restore.roles. */
#include "restore_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

int rd_pg_roles_mode_parse(const char *s)
{
    if (!s || strcmp(s, "no-owner") == 0)
        return RD_PG_ROLES_NO_OWNER;
    if (strcmp(s, "create") == 0)
        return RD_PG_ROLES_CREATE;
    if (strcmp(s, "strict") == 0)
        return RD_PG_ROLES_STRICT;
    return -1;
}

void rd_pg_roles_init(rd_pg_roles *r, rd_pg_roles_mode mode)
{
    memset(r, 0, sizeof(*r));
    r->mode = mode;
}

void rd_pg_roles_free(rd_pg_roles *r)
{
    if (r)
        rd_strlist_free(&r->seen);
}

static int starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

/* Position just after the last `word` (" TO ") outside double quotes, or NULL. */
static const char *after_last(const char *s, size_t n, const char *word)
{
    size_t k = strlen(word);
    const char *found = NULL;
    int quoted = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            quoted = !quoted;
        else if (!quoted && i + k <= n && memcmp(s + i, word, k) == 0)
            found = s + i + k;
    }
    return found;
}

static int is_pseudo_role(const char *name)
{
    static const char *const pseudo[] = {"public", "current_user", "session_user", "current_role",
                                         NULL};
    for (size_t i = 0; pseudo[i]; i++)
        if (strcmp(name, pseudo[i]) == 0)
            return 1;
    return 0;
}

static rd_status add_role(rd_pg_roles *r, const char *name, int *added, rd_error *err)
{
    *added = 0;
    for (size_t i = 0; i < r->seen.n; i++)
        if (strcmp(r->seen.items[i], name) == 0)
            return RD_OK;
    *added = 1;
    return rd_strlist_push(&r->seen, name, err);
}

/* Parse a comma-separated list of identifiers at p (bare names are folded to
 * lower case as the server does; "quoted" ones keep their case) up to ';',
 * the end, or a keyword (WITH, GRANTED, IN, GRANT, REVOKE). */
static rd_status collect_list(rd_pg_roles *r, const char *p, const char *end, int single,
                              rd_error *err)
{
    char name[256];
    while (p < end) {
        while (p < end && (*p == ' ' || *p == ','))
            p++;
        if (p >= end || *p == ';' || *p == '\n')
            break;
        size_t k = 0;
        int quoted = *p == '"';
        if (quoted) {
            p++;
            while (p < end && k < sizeof(name) - 1) {
                if (*p == '"') {
                    if (p + 1 < end && p[1] == '"') {
                        name[k++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                name[k++] = *p++;
            }
        } else {
            while (p < end && (isalnum((unsigned char)*p) || *p == '_' || *p == '$') &&
                   k < sizeof(name) - 1)
                name[k++] = (char)tolower((unsigned char)*p++);
        }
        name[k] = '\0';
        if (!k)
            break;
        if (!quoted &&
            (strcmp(name, "with") == 0 || strcmp(name, "granted") == 0 || strcmp(name, "in") == 0 ||
             strcmp(name, "grant") == 0 || strcmp(name, "revoke") == 0))
            break;
        if (quoted || !is_pseudo_role(name)) {
            int added;
            rd_status st = add_role(r, name, &added, err);
            if (st != RD_OK)
                return st;
        }
        if (single)
            break;
    }
    return RD_OK;
}

/* 1 when the line is about ownership or privileges; collects its roles. */
static int role_line(rd_pg_roles *r, const char *s, size_t n, rd_status *st, rd_error *err)
{
    const char *end = s + n;
    const char *p;
    *st = RD_OK;
    if (starts(s, n, "ALTER DEFAULT PRIVILEGES ")) {
        if ((p = after_last(s, n, " FOR ROLE ")) != NULL)
            *st = collect_list(r, p, end, 0, err);
        if (*st == RD_OK && (p = after_last(s, n, " TO ")) != NULL)
            *st = collect_list(r, p, end, 0, err);
        if (*st == RD_OK && (p = after_last(s, n, " FROM ")) != NULL)
            *st = collect_list(r, p, end, 0, err);
        return 1;
    }
    if (starts(s, n, "ALTER ") && (p = after_last(s, n, " OWNER TO ")) != NULL) {
        *st = collect_list(r, p, end, 1, err);
        return 1;
    }
    if (starts(s, n, "GRANT ")) {
        if ((p = after_last(s, n, " TO ")) != NULL)
            *st = collect_list(r, p, end, 0, err);
        if (*st == RD_OK && (p = after_last(s, n, " GRANTED BY ")) != NULL)
            *st = collect_list(r, p, end, 1, err);
        return 1;
    }
    if (starts(s, n, "REVOKE ")) {
        if ((p = after_last(s, n, " FROM ")) != NULL)
            *st = collect_list(r, p, end, 0, err);
        return 1;
    }
    if (starts(s, n, "SET SESSION AUTHORIZATION "))
        return 1;
    return 0;
}

static rd_status create_one(const char *name, rd_strbuf *out, rd_error *err)
{
    rd_status st = rd_strbuf_append(out, "DO $rd_role$ BEGIN CREATE ROLE \"", err);
    for (const char *c = name; st == RD_OK && *c; c++)
        st = *c == '"' ? rd_strbuf_append(out, "\"\"", err) : rd_strbuf_append_char(out, *c, err);
    if (st == RD_OK)
        st = rd_strbuf_append(out,
                              "\" NOLOGIN; EXCEPTION WHEN duplicate_object THEN NULL; "
                              "END $rd_role$;\n",
                              err);
    return st;
}

static rd_status check_name(const char *name, rd_error *err)
{
    if (strstr(name, "$rd_role$") || strchr(name, '\n'))
        return RD_ERR(err, RD_ERR_FORMAT, "refusing a role name with \"$rd_role$\" or a newline");
    return RD_OK;
}

rd_status rd_pg_roles_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err)
{
    rd_pg_roles *r = ud;
    rd_status st = RD_OK;
    if (r->in_copy) {
        if ((n == 3 && memcmp(line, "\\.\n", 3) == 0) || (n == 2 && memcmp(line, "\\.", 2) == 0))
            r->in_copy = 0;
        return rd_strbuf_append_n(emit, line, n, err);
    }
    if (starts(line, n, "COPY ") && n >= 12 &&
        (memcmp(line + n - 12, "FROM stdin;\n", 12) == 0 ||
         memcmp(line + n - 11, "FROM stdin;", 11) == 0)) {
        r->in_copy = 1;
        return rd_strbuf_append_n(emit, line, n, err);
    }
    if (r->mode == RD_PG_ROLES_STRICT)
        return rd_strbuf_append_n(emit, line, n, err);
    size_t before = r->seen.n;
    if (!role_line(r, line, n, &st, err))
        return rd_strbuf_append_n(emit, line, n, err);
    if (st != RD_OK || r->mode == RD_PG_ROLES_NO_OWNER)
        return st;
    for (size_t i = before; i < r->seen.n && st == RD_OK; i++) {
        st = check_name(r->seen.items[i], err);
        if (st == RD_OK)
            st = create_one(r->seen.items[i], emit, err);
    }
    return st == RD_OK ? rd_strbuf_append_n(emit, line, n, err) : st;
}

rd_status rd_pg_roles_long(void *ud, const char *head, size_t n, int *stream, rd_strbuf *emit,
                           rd_error *err)
{
    static const char *const gathered[] = {"ALTER ", "GRANT ", "REVOKE ",
                                           "SET SESSION AUTHORIZATION ", NULL};
    rd_pg_roles *r = ud;
    /* COPY data: never the end marker (a short line); a COPY line: whether
     * data follows is at its end */
    *stream = r->in_copy || !starts(head, n, "COPY ");
    for (size_t i = 0; *stream && !r->in_copy && r->mode != RD_PG_ROLES_STRICT && gathered[i]; i++)
        if (starts(head, n, gathered[i]))
            *stream = 0;
    return *stream ? rd_strbuf_append_n(emit, head, n, err) : RD_OK;
}

rd_status rd_pg_roles_scan(rd_pg_roles *r, const char *sql, rd_error *err)
{
    rd_status st = RD_OK;
    for (const char *p = sql; p && *p && st == RD_OK;) {
        const char *nl = strchr(p, '\n');
        size_t n = nl ? (size_t)(nl - p) : strlen(p);
        (void)role_line(r, p, n, &st, err);
        p = nl ? nl + 1 : p + n;
    }
    return st;
}

rd_status rd_pg_roles_create_sql(const rd_pg_roles *r, rd_strbuf *out, rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < r->seen.n && st == RD_OK; i++) {
        st = check_name(r->seen.items[i], err);
        if (st == RD_OK)
            st = create_one(r->seen.items[i], out, err);
    }
    return st;
}

char *rd_pg_roles_note(const rd_pg_roles *r)
{
    if (r->seen.n == 0)
        return rd_strdup("the dump references no roles");
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_status st = rd_strbuf_append(&sb, "created roles: ", NULL);
    for (size_t i = 0; i < r->seen.n && st == RD_OK; i++)
        st = rd_strbuf_appendf(&sb, NULL, "%s%s", i ? ", " : "", r->seen.items[i]);
    if (st != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}
