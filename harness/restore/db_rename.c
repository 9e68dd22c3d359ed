/* db_rename.c: restore the chosen databases of a cluster-wide dump each
 * under its scratch name on a shared server (scratch type server): a line
 * filter after the section filter that rewrites exactly the statements that
 * name the section's database, and refuses a dump whose other statements
 * name it (restoring those under another name would act on the wrong
 * database). restore_int.h says which statements. */
#include <stdlib.h>
#include <string.h>

#include "restore_int.h"

enum { MODE_HEAD = 0, MODE_PASS, MODE_SCAN };
enum { KIND_OTHER = 0, KIND_COPY, KIND_GRANT };

void rd_db_rename_init(rd_db_rename *r, const rd_scratch *s, int pg, rd_section_filter *sections)
{
    memset(r, 0, sizeof *r);
    r->s = s;
    r->pg = pg;
    r->sections = sections;
    r->cap = RD_DB_RENAME_LINE;
    rd_strbuf_init(&r->mid, 0);
}

static void free_names(rd_db_rename *r)
{
    free(r->current);
    free(r->quoted);
    free(r->plain);
    r->current = r->quoted = r->plain = NULL;
}

void rd_db_rename_free(rd_db_rename *r)
{
    if (!r)
        return;
    free_names(r);
    free(r->buf);
    r->buf = NULL;
    rd_strbuf_free(&r->mid);
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
    free_names(r);
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

/* At p (before end) a qualified name of the section's database (`db`.x,
 * db.x); prev: the byte before p, -1 at the start of the line. */
static int names_itself_at(const rd_db_rename *r, int prev, const char *p, const char *end)
{
    if (!r->pg && prev == '`')
        return 0; /* inside a doubled backtick */
    size_t k = names_current(r, p, end);
    if (!k)
        return 0;
    char before = prev < 0 ? ' ' : (char)prev;
    int word = (before >= 'a' && before <= 'z') || (before >= 'A' && before <= 'Z') ||
               (before >= '0' && before <= '9') || before == '_' || before == '$';
    return !word && p + k < end && p[k] == '.';
}

/* The line names the section's database anywhere outside what was rewritten:
 * a qualified name (`db`.x, db.x) or a DATABASE clause. */
static int self_reference(const rd_db_rename *r, const char *line, size_t n)
{
    const char *end = line + n;
    for (const char *p = line; p < end; p++)
        if (names_itself_at(r, p > line ? (unsigned char)p[-1] : -1, p, end))
            return 1;
    return 0;
}

/* The head of a long line (whole = 0) needs the rest scanned (scan()). */
static rd_status scan_rest(rd_db_rename *r, int kind)
{
    r->mode = MODE_SCAN;
    r->kind = kind;
    return RD_OK;
}

/* The line functions: whole = 1, line[0..n) is a whole line; 0, the head
 * of a longer one (its rest then passes, or scan_rest says what to scan
 * for, the head included). */
static rd_status mariadb_line(rd_db_rename *r, const char *line, size_t n, int whole,
                              rd_strbuf *out, rd_error *err)
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
    if (!whole)
        return scan_rest(r, KIND_OTHER);
    if (self_reference(r, line, n))
        return refuse(r, line, n, 1, err);
    return rd_strbuf_append_n(out, line, n, err);
}

/* The PostgreSQL statements that name a database: at line + at the name. */
static rd_status pg_line(rd_db_rename *r, const char *line, size_t n, int whole, rd_strbuf *out,
                         rd_error *err)
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
    if (!whole && starts(line, n, "COPY "))
        return scan_rest(r, KIND_COPY);
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
    if (!whole && (starts(line, n, "GRANT ") || starts(line, n, "REVOKE ") ||
                   starts(line, n, "SECURITY LABEL ")))
        return scan_rest(r, KIND_GRANT);
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
    if (!whole)
        return scan_rest(r, KIND_OTHER);
    const char *d = find(line, n, "DATABASE ");
    if (self_reference(r, line, n) || (d && names_current(r, d + strlen("DATABASE "), end)))
        return refuse(r, line, n, 1, err);
    return rd_strbuf_append_n(out, line, n, err);
}

static rd_status one_line(rd_db_rename *r, const char *line, size_t n, int whole, rd_strbuf *out,
                          rd_error *err)
{
    return r->pg ? pg_line(r, line, n, whole, out, err) : mariadb_line(r, line, n, whole, out, err);
}

rd_status rd_db_rename_filter(void *ud, const char *line, size_t n, rd_strbuf *emit, rd_error *err)
{
    return one_line(ud, line, n, 1, emit, err);
}

/* --- the byte stream --- */

static int at(const char *p, const char *end, const char *s)
{
    size_t k = strlen(s);
    return (size_t)(end - p) >= k && memcmp(p, s, k) == 0;
}

/* The window from `from` on passes as it is; the rest of the line too. */
static rd_status pass_rest(rd_db_rename *r, size_t from, int eol, rd_strbuf *emit, rd_error *err)
{
    rd_status st = rd_strbuf_append_n(emit, r->buf + from, r->len - from, err);
    r->len = 0;
    r->mode = eol ? MODE_HEAD : MODE_PASS;
    return st;
}

/* A long line's window (buf: line bytes from r->off; eol: up to its end):
 * each position from r->next examined for what the line functions search
 * the whole line for, as soon as the bytes it needs are in; what no later
 * position can change is emitted. A statement that may still turn out to be
 * COPY ... FROM stdin or GRANT ... ON DATABASE is refused at its end. */
static rd_status scan(rd_db_rename *r, int eol, rd_strbuf *emit, rd_error *err)
{
    const char *w = r->buf, *end = r->buf + r->len;
    const size_t look = strlen(" ON DATABASE ") + strlen(r->quoted) + 1;
    for (; r->next < r->off + r->len; r->next++) {
        size_t i = r->next - r->off;
        if (!eol && i + look > r->len)
            break;
        const char *p = w + i;
        if (r->kind == KIND_COPY && at(p, end, " FROM stdin;")) {
            r->in_copy = 1;
            return pass_rest(r, 0, eol, emit, err);
        }
        if (r->kind == KIND_GRANT && at(p, end, " ON DATABASE ")) {
            size_t a = i + strlen(" ON DATABASE ");
            size_t k = names_current(r, w + a, end);
            if (!k)
                return refuse(r, r->show, sizeof r->show, 0, err);
            rd_status st = rd_strbuf_append_n(emit, w, a, err);
            if (st == RD_OK)
                st = rewrite(r, w, r->len, a, k, "", emit, err);
            if (st == RD_OK)
                st = pass_rest(r, r->len, eol, emit, err);
            return st;
        }
        if (r->pg && !r->db_seen && at(p, end, "DATABASE ")) {
            r->db_seen = 1;
            r->pending |= names_current(r, p + strlen("DATABASE "), end) > 0;
        }
        r->pending |= names_itself_at(r, r->next ? (unsigned char)p[-1] : -1, p, end);
        if (r->pending && r->kind == KIND_OTHER)
            return refuse(r, r->show, sizeof r->show, 1, err);
    }
    if (eol)
        return r->pending ? refuse(r, r->show, sizeof r->show, 1, err)
                          : pass_rest(r, 0, 1, emit, err);
    size_t done = r->next - r->off; /* the byte before r->next stays: it is looked at */
    if (done > 1) {
        rd_status st = rd_strbuf_append_n(emit, w, done - 1, err);
        if (st != RD_OK)
            return st;
        memmove(r->buf, w + done - 1, r->len - (done - 1));
        r->len -= done - 1;
        r->off += done - 1;
    }
    return RD_OK;
}

/* buf holds r->cap bytes of a line and no newline: the line is long. */
static rd_status long_head(rd_db_rename *r, rd_strbuf *emit, rd_error *err)
{
    memcpy(r->show, r->buf, sizeof r->show);
    r->mode = MODE_PASS;
    r->off = r->next = 0;
    r->db_seen = r->pending = 0;
    rd_status st = one_line(r, r->buf, r->len, 0, emit, err);
    if (st == RD_OK && r->mode == MODE_SCAN)
        return scan(r, 0, emit, err);
    r->len = 0;
    return st;
}

/* Takes the bytes of buf[0..n) it can (*used): up to a line's end. */
static rd_status take(rd_db_rename *r, const char *buf, size_t n, size_t *used, rd_strbuf *emit,
                      rd_error *err)
{
    const char *nl;
    if (r->mode == MODE_PASS) {
        nl = memchr(buf, '\n', n);
        *used = nl ? (size_t)(nl - buf) + 1 : n;
        if (nl)
            r->mode = MODE_HEAD;
        return rd_strbuf_append_n(emit, buf, *used, err);
    }
    size_t k = r->cap - r->len < n ? r->cap - r->len : n;
    nl = memchr(buf, '\n', k);
    *used = nl ? (size_t)(nl - buf) + 1 : k;
    if (r->mode == MODE_HEAD && nl && r->len == 0) /* a whole line in buf */
        return one_line(r, buf, *used, 1, emit, err);
    memcpy(r->buf + r->len, buf, *used);
    r->len += *used;
    if (r->mode == MODE_SCAN)
        return scan(r, nl != NULL, emit, err);
    if (!nl)
        return r->len == r->cap ? long_head(r, emit, err) : RD_OK;
    size_t len = r->len;
    r->len = 0;
    return one_line(r, r->buf, len, 1, emit, err);
}

rd_status rd_db_rename_feed(void *ud, const char *buf, size_t n, int final, rd_strbuf *emit,
                            rd_error *err)
{
    rd_db_rename *r = ud;
    rd_status st = RD_OK;
    if (r->sections) {
        rd_strbuf_reset(&r->mid);
        st = rd_section_feed(r->sections, buf, n, final, &r->mid, err);
        buf = r->mid.data;
        n = r->mid.len;
    }
    if (st == RD_OK && !r->buf && !(r->buf = malloc(r->cap)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    while (st == RD_OK && n > 0) {
        size_t used = 0;
        st = take(r, buf, n, &used, emit, err);
        buf += used;
        n -= used;
    }
    if (st != RD_OK || !final)
        return st;
    if (r->mode == MODE_SCAN) /* the last line, without a newline */
        return scan(r, 1, emit, err);
    if (r->mode == MODE_HEAD && r->len) {
        size_t len = r->len;
        r->len = 0;
        return one_line(r, r->buf, len, 1, emit, err);
    }
    return RD_OK;
}
