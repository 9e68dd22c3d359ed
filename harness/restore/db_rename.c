/* db_rename.c: restore the chosen databases of a cluster-wide dump each
 * under its scratch name on a shared server (scratch type server): a line
 * filter after the section filter that rewrites exactly the statements that
 * name the section's database, and refuses a dump whose other statements
 * name it (restoring those under another name would act on the wrong
 * database). restore_int.h says which statements. */
#include <stdlib.h>
#include <string.h>

#include "restore_int.h"

void rd_db_rename_init(rd_db_rename *r, const rd_scratch *s, int pg, rd_restore_line_fn next,
                       void *next_ud)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->pg = pg;
    r->next = next;
    r->next_ud = next_ud;
}

void rd_db_rename_free(rd_db_rename *r)
{
    if (!r)
        return;
    free(r->current);
    free(r->quoted);
    free(r->plain);
    r->current = r->quoted = r->plain = NULL;
}

static int starts(const char *line, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(line, p, k) == 0;
}

static const char *find(const char *line, size_t n, const char *needle)
{
    return needle && *needle ? memmem(line, n, needle, strlen(needle)) : NULL;
}

/* The identifier forms the section's database may be written in: MariaDB
 * `name` (backticks doubled), PostgreSQL "name" (quotes doubled), and name
 * as is when it needs no quotes. */
static rd_status set_current(rd_db_rename *r, const char *name, rd_error *err)
{
    rd_strbuf q;
    const char quote = r->pg ? '"' : '`';
    rd_db_rename_free(r);
    rd_strbuf_init(&q, 0);
    rd_status st = rd_strbuf_append_char(&q, quote, err);
    for (const char *p = name; st == RD_OK && *p; p++) {
        if (*p == quote)
            st = rd_strbuf_append_char(&q, quote, err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(&q, *p, err);
    }
    if (st == RD_OK)
        st = rd_strbuf_append_char(&q, quote, err);
    /* unquoted: PostgreSQL lower case, MariaDB either case (a routine body
     * may name the database without backticks) */
    int plain = name[0] && !(name[0] >= '0' && name[0] <= '9');
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
                (!r->pg && ((*p >= 'A' && *p <= 'Z') || *p == '$'));
    r->current = rd_strdup(name);
    r->quoted = st == RD_OK ? rd_strbuf_detach(&q) : NULL;
    r->plain = plain ? rd_strdup(name) : NULL;
    rd_strbuf_free(&q);
    if (st == RD_OK && (!r->current || !r->quoted || (plain && !r->plain)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    return st;
}

/* At p (inside line[0..n)) the section's database in one of its forms:
 * its length, else 0. The plain form must end the identifier. */
static size_t names_current(const rd_db_rename *r, const char *p, const char *end)
{
    size_t k = strlen(r->quoted);
    if ((size_t)(end - p) >= k && memcmp(p, r->quoted, k) == 0)
        return k;
    if (!r->plain)
        return 0;
    k = strlen(r->plain);
    if ((size_t)(end - p) < k || memcmp(p, r->plain, k) != 0)
        return 0;
    char c = p + k < end ? p[k] : ' ';
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '$' ? 0 : k;
}

/* prefix + the scratch name + what follows the name in line. */
static rd_status rewrite(rd_db_rename *r, const char *line, size_t n, size_t at, size_t len,
                         const char *prefix, rd_strbuf *out, rd_error *err)
{
    const char *to = rd_scratch_db_name(r->s, r->current);
    r->rewritten++;
    const char *q = r->pg ? "\"" : "`";
    return rd_strbuf_appendf(out, err, "%s%s%s%s%.*s", prefix, q, to, q, (int)(n - at - len),
                             line + at + len);
}

/* self: the line names the database outside a statement we rewrite; else a
 * statement that names databases does it in a form we do not rewrite */
static rd_status refuse(const rd_db_rename *r, const char *line, size_t n, int self, rd_error *err)
{
    size_t show = n;
    while (show && (line[show - 1] == '\n' || line[show - 1] == '\r'))
        show--;
    if (show > 120)
        show = 120;
    return RD_ERR(err, RD_ERR_UNSUPPORTED,
                  "database %s cannot be restored under a scratch name on a shared server: %s "
                  "(%.*s); restore it into an ephemeral scratch",
                  r->current,
                  self ? "its dump names the database itself"
                       : "its dump names a database in a statement that is not rewritten",
                  (int)show, line);
}

/* The line names the section's database anywhere outside what was rewritten:
 * a qualified name (`db`.x, db.x) or a DATABASE clause. */
static int self_reference(const rd_db_rename *r, const char *line, size_t n)
{
    const char *end = line + n;
    for (const char *p = line; p < end; p++) {
        if (p > line && !r->pg && p[-1] == '`')
            continue; /* inside a doubled backtick */
        size_t k = names_current(r, p, end);
        if (!k)
            continue;
        char before = p > line ? p[-1] : ' ';
        int word = (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
                   (before >= '0' && before <= '9') || before == '_' || before == '$';
        if (!word && p + k < end && p[k] == '.')
            return 1;
    }
    return 0;
}

static rd_status mariadb_line(rd_db_rename *r, const char *line, size_t n, rd_strbuf *out,
                              rd_error *err)
{
    char name[RD_SECTION_HEAD_MAX];
    rd_error e;
    rd_error_clear(&e);
    if (starts(line, n, rd_section_mariadb.header)) {
        if (n >= sizeof name || rd_section_mariadb.parse(line, n, name, sizeof name, &e) != RD_OK)
            return RD_ERR(err, RD_ERR_FORMAT, "a malformed section header: %s", e.msg);
        rd_status st = set_current(r, name, err);
        return st == RD_OK ? rd_strbuf_append_n(out, line, n, err) : st;
    }
    if (!r->current || starts(line, n, "INSERT INTO ") || starts(line, n, "--"))
        return rd_strbuf_append_n(out, line, n, err); /* data and comments as they are */
    const char *end = line + n;
    if (starts(line, n, "CREATE DATABASE ")) {
        size_t at = strlen("CREATE DATABASE ");
        if (starts(line + at, n - at, "/*!32312 IF NOT EXISTS*/ "))
            at += strlen("/*!32312 IF NOT EXISTS*/ "); /* never into an existing database */
        size_t k = names_current(r, line + at, end);
        if (!k)
            return refuse(r, line, n, 0, err);
        return rewrite(r, line, n, at, k, "CREATE DATABASE ", out, err);
    }
    if (starts(line, n, "USE ")) {
        size_t k = names_current(r, line + 4, end);
        if (!k)
            return refuse(r, line, n, 0, err);
        return rewrite(r, line, n, 4, k, "USE ", out, err);
    }
    if (self_reference(r, line, n))
        return refuse(r, line, n, 1, err);
    return rd_strbuf_append_n(out, line, n, err);
}

/* The PostgreSQL statements that name a database: at line + at the name. */
static rd_status pg_line(rd_db_rename *r, const char *line, size_t n, rd_strbuf *out, rd_error *err)
{
    static const char *const named[] = {"CREATE DATABASE ", "ALTER DATABASE ",
                                        "COMMENT ON DATABASE ", NULL};
    const char *end = line + n;
    char name[RD_SECTION_HEAD_MAX];
    rd_error e;
    rd_error_clear(&e);
    if (starts(line, n, rd_section_pgdumpall.header)) {
        if (n >= sizeof name || rd_section_pgdumpall.parse(line, n, name, sizeof name, &e) != RD_OK)
            return RD_ERR(err, RD_ERR_FORMAT, "a malformed section header: %s", e.msg);
        r->in_copy = 0;
        rd_status st = set_current(r, name, err);
        return st == RD_OK ? rd_strbuf_append_n(out, line, n, err) : st;
    }
    if (r->in_copy) { /* COPY data as it is, up to its end marker */
        if (n >= 2 && line[0] == '\\' && line[1] == '.' && (n == 2 || line[2] == '\n'))
            r->in_copy = 0;
        return rd_strbuf_append_n(out, line, n, err);
    }
    if (!r->current || starts(line, n, "--"))
        return rd_strbuf_append_n(out, line, n, err);
    if (starts(line, n, "COPY ") && find(line, n, " FROM stdin;")) {
        r->in_copy = 1;
        return rd_strbuf_append_n(out, line, n, err);
    }
    for (size_t i = 0; named[i]; i++) {
        size_t at = strlen(named[i]);
        if (!starts(line, n, named[i]))
            continue;
        size_t k = names_current(r, line + at, end);
        if (!k || (line + at + k < end && line[at + k] != ' ' && line[at + k] != ';'))
            return refuse(r, line, n, 0, err);
        return rewrite(r, line, n, at, k, named[i], out, err);
    }
    if (starts(line, n, "\\connect ")) {
        /* pg_dump: "\connect name" or, for a name that needs quoting,
         * "\connect -reuse-previous=on \"dbname='name'\"" */
        size_t at = strlen("\\connect ");
        size_t k = names_current(r, line + at, end);
        size_t rest = at + k;
        while (rest < n && (line[rest] == '\n' || line[rest] == '\r'))
            rest++;
        if (!k || rest != n)
            return refuse(r, line, n, 0, err);
        r->rewritten++;
        return rd_strbuf_appendf(out, err, "\\connect \"%s\"\n",
                                 rd_scratch_db_name(r->s, r->current));
    }
    const char *on = find(line, n, " ON DATABASE ");
    if (on && (starts(line, n, "GRANT ") || starts(line, n, "REVOKE ") ||
               starts(line, n, "SECURITY LABEL "))) {
        size_t at = (size_t)(on - line) + strlen(" ON DATABASE ");
        size_t k = names_current(r, line + at, end);
        if (!k)
            return refuse(r, line, n, 0, err);
        rd_strbuf head;
        rd_strbuf_init(&head, 0);
        rd_status st = rd_strbuf_append_n(&head, line, at, err);
        if (st == RD_OK)
            st = rewrite(r, line, n, at, k, head.data, out, err);
        rd_strbuf_free(&head);
        return st;
    }
    const char *d = find(line, n, "DATABASE ");
    if (self_reference(r, line, n) || (d && names_current(r, d + strlen("DATABASE "), end)))
        return refuse(r, line, n, 1, err);
    return rd_strbuf_append_n(out, line, n, err);
}

rd_status rd_db_rename_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err)
{
    rd_db_rename *r = ud;
    if (!r->next)
        return r->pg ? pg_line(r, line, n, emit, err) : mariadb_line(r, line, n, emit, err);
    rd_strbuf tmp;
    rd_strbuf_init(&tmp, 0);
    rd_status st = r->pg ? pg_line(r, line, n, &tmp, err) : mariadb_line(r, line, n, &tmp, err);
    if (st == RD_OK && tmp.len)
        st = r->next(r->next_ud, tmp.data, tmp.len, emit, err);
    rd_strbuf_free(&tmp);
    return st;
}
