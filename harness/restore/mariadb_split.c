/* mariadb_split.c: the layout of a mariadb-dump stream for a parallel
 * restore (restore_int.h says what goes where): the preamble of session
 * settings, the table sections that may load side by side, and the ordered
 * rest. A state machine over the bytes as they stream by; it holds the
 * preamble (at most RD_SPLIT_PREAMBLE_MAX bytes) and the head of one line. */
#include <string.h>

#include "restore_int.h"

/* Sections that load on any connection, in any order with each other. */
static const char *const parallel_marks[] = {"-- Table structure for table `",
                                             "-- Temporary table structure for view `", NULL};
/* A section that runs alone, after every section before it has loaded and
 * before any after it starts (mariadb-dump writes sequences first: tables
 * may take their defaults from them). */
static const char *const alone_marks[] = {"-- Sequence structure for", NULL};
/* Everything from the first of these on runs in dump order on one
 * connection, after every section before it has loaded. */
static const char *const ordered_marks[] = {
    "-- Current Database: `", "-- Dumping routines for database", "-- Dumping events for database",
    "-- Final view structure for view `", NULL};

static int starts(const char *line, size_t n, const char *const *marks)
{
    for (size_t i = 0; marks[i]; i++) {
        size_t k = strlen(marks[i]);
        if (n >= k && memcmp(line, marks[i], k) == 0)
            return 1;
    }
    return 0;
}

rd_split_mark rd_split_classify(const char *line, size_t n)
{
    if (starts(line, n, parallel_marks))
        return RD_SPLIT_MARK_SECTION;
    if (starts(line, n, alone_marks))
        return RD_SPLIT_MARK_ALONE;
    if (starts(line, n, ordered_marks))
        return RD_SPLIT_MARK_ORDERED;
    return RD_SPLIT_MARK_NONE;
}

/* A line the preamble may hold: blank, a comment, or a versioned comment
 * statement such as `/ *!40101 SET NAMES utf8mb4 * /;` (session settings)
 * or mariadb-dump's `/ *M!999999\- enable the sandbox mode * /`. */
int rd_split_preamble_line(const char *line, size_t n)
{
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
        n--;
    if (n == 0 || (n >= 2 && line[0] == '-' && line[1] == '-'))
        return 1;
    if (!(n >= 3 && memcmp(line, "/*!", 3) == 0) && !(n >= 4 && memcmp(line, "/*M!", 4) == 0))
        return 0;
    if (n >= 3 && memcmp(line + n - 3, "*/;", 3) == 0)
        return memmem(line + 2, n - 5, "*/", 2) == NULL; /* one comment, nothing after it */
    if (n >= 2 && memcmp(line + n - 2, "*/", 2) == 0)
        return memmem(line + 2, n - 4, "*/", 2) == NULL;
    return 0;
}

void rd_split_init(rd_split *sp, const rd_split_sink *sink)
{
    memset(sp, 0, sizeof *sp);
    sp->sink = *sink;
    sp->at_start = 1;
    rd_strbuf_init(&sp->preamble, 0);
    rd_strbuf_init(&sp->create, 0);
    rd_strbuf_init(&sp->alter, 0);
}

void rd_split_free(rd_split *sp)
{
    if (sp) {
        rd_strbuf_free(&sp->preamble);
        rd_strbuf_free(&sp->create);
        rd_strbuf_free(&sp->alter);
    }
}

static rd_status emit(rd_split *sp, const char *buf, size_t n, rd_error *err)
{
    return n ? sp->sink.bytes(sp->sink.ud, buf, n, err) : RD_OK;
}

static rd_status sections_feed(rd_split *sp, const char *buf, size_t n, rd_error *err);

/* Leave the preamble at byte `at` of the held bytes: what follows is fed on
 * as sections (or as the ordered rest). unknown: the layout is not one we
 * know; no preamble is kept and every byte goes to the ordered rest. */
static rd_status leave_preamble(rd_split *sp, size_t at, rd_split_mark mark, int unknown,
                                rd_error *err)
{
    rd_strbuf rest;
    rd_status st;
    rd_strbuf_init(&rest, 0);
    if (unknown)
        at = 0;
    st = rd_strbuf_append_n(&rest, sp->preamble.data + at, sp->preamble.len - at, err);
    if (st != RD_OK)
        goto out;
    sp->preamble.len = at;
    sp->preamble.data[at] = '\0';
    sp->at_start = 1;
    if ((mark == RD_SPLIT_MARK_SECTION || mark == RD_SPLIT_MARK_ALONE) && !unknown) {
        sp->stage = RD_SPLIT_SECTIONS;
        st = sections_feed(sp, rest.data, rest.len, err);
        goto out;
    }
    sp->stage = RD_SPLIT_ORDERED;
    sp->unknown = unknown;
    st = sp->sink.ordered(sp->sink.ud, err);
    if (st == RD_OK)
        st = emit(sp, rest.data, rest.len, err);
out:
    rd_strbuf_free(&rest);
    return st;
}

static rd_status preamble_feed(rd_split *sp, const char *buf, size_t n, int final, rd_error *err)
{
    rd_status st = rd_strbuf_append_n(&sp->preamble, buf, n, err);
    while (st == RD_OK && sp->stage == RD_SPLIT_PREAMBLE) {
        const char *line = sp->preamble.data + sp->scan;
        size_t left = sp->preamble.len - sp->scan;
        const char *nl = memchr(line, '\n', left);
        if (!nl) {
            /* too long, or nothing but a preamble: one connection as it is */
            if (sp->preamble.len > RD_SPLIT_PREAMBLE_MAX || final)
                return leave_preamble(sp, 0, RD_SPLIT_MARK_NONE, 1, err);
            return RD_OK;
        }
        size_t len = (size_t)(nl - line) + 1;
        rd_split_mark m = rd_split_classify(line, len);
        if (m != RD_SPLIT_MARK_NONE)
            return leave_preamble(sp, sp->scan, m, 0, err);
        if (!rd_split_preamble_line(line, len) || sp->scan + len > RD_SPLIT_PREAMBLE_MAX)
            return leave_preamble(sp, 0, RD_SPLIT_MARK_NONE, 1, err);
        sp->scan += len;
    }
    return st;
}

int rd_split_lock_line(const char *line, size_t n)
{
    static const char pre[] = "LOCK TABLES `", suf[] = "` WRITE;\n";
    const size_t pl = sizeof pre - 1, sl = sizeof suf - 1;
    if (n == 15 && memcmp(line, "UNLOCK TABLES;\n", 15) == 0)
        return 1;
    if (n <= pl + sl || memcmp(line, pre, pl) != 0 || memcmp(line + n - sl, suf, sl) != 0)
        return 0;
    for (size_t i = pl; i < n - sl; i++) /* one name: every backtick inside doubled */
        if (line[i] == '`' && (i + 1 >= n - sl || line[++i] != '`'))
            return 0;
    return 1;
}

/* Lines that start with these are held whole: markers, LOCK TABLES, and
 * in a table section when indexes are deferred, CREATE TABLE. */
static int held_start(const rd_split *sp, char c)
{
    return c == '-' || c == 'L' || c == 'U' || (c == 'C' && sp->defer && sp->in_table);
}

static int begins(const char *p, size_t n, const char *s)
{
    size_t k = strlen(s);
    return n >= k && memcmp(p, s, k) == 0;
}

/* The table's rows have loaded (or its section ends): the ALTER TABLE that
 * adds its indexes back, on the same connection. */
static rd_status flush_alter(rd_split *sp, rd_error *err)
{
    rd_status st = emit(sp, sp->alter.data, sp->alter.len, err);
    rd_strbuf_reset(&sp->alter);
    return st;
}

/* The CREATE TABLE statement read whole (or given up on): rewritten when
 * rd_defer_rewrite can, else as it was. */
static rd_status create_done(rd_split *sp, int whole, rd_error *err)
{
    rd_strbuf out;
    int rewritten = 0;
    rd_status st = RD_OK;
    rd_strbuf_init(&out, 0);
    sp->collecting = 0;
    if (whole)
        st = rd_defer_rewrite(sp->create.data, sp->create.len, &out, &sp->alter, &rewritten, err);
    if (st == RD_OK && rewritten) {
        sp->deferred++;
        st = emit(sp, out.data, out.len, err);
    } else if (st == RD_OK) {
        sp->as_is++;
        st = emit(sp, sp->create.data, sp->create.len, err);
    }
    rd_strbuf_free(&out);
    rd_strbuf_reset(&sp->create);
    return st;
}

/* A line of the CREATE TABLE statement was read whole: it ends at the first
 * line that ends with ";" (SHOW CREATE TABLE ends every other line with "(",
 * "," or a definition). */
static rd_status create_line(rd_split *sp, rd_error *err)
{
    const char *l = sp->create.data + sp->line_start;
    size_t n = sp->create.len - sp->line_start;
    if (n >= 2 && l[n - 2] == ';')
        return create_done(sp, 1, err);
    if (sp->create.len > RD_DEFER_CREATE_MAX)
        return create_done(sp, 0, err); /* too long to be one we rewrite */
    sp->line_start = sp->create.len;
    return RD_OK;
}

/* A complete line that starts with a held character is in sp->hold. */
static rd_status held_line(rd_split *sp, rd_error *err)
{
    rd_status st = RD_OK;
    rd_split_mark m = rd_split_classify(sp->hold, sp->hold_len);
    if (m == RD_SPLIT_MARK_NONE && rd_split_lock_line(sp->hold, sp->hold_len)) {
        int unlock = sp->hold[0] == 'U';
        sp->locks_dropped++;
        sp->hold_len = 0;
        return unlock ? flush_alter(sp, err) : RD_OK; /* UNLOCK: the rows have loaded */
    }
    if (m == RD_SPLIT_MARK_NONE && sp->defer && sp->in_table &&
        begins(sp->hold, sp->hold_len, "CREATE TABLE `")) {
        sp->collecting = 1;
        sp->line_start = 0;
        st = rd_strbuf_append_n(&sp->create, sp->hold, sp->hold_len, err);
        sp->hold_len = 0;
        return st == RD_OK ? create_line(sp, err) : st;
    }
    if (m != RD_SPLIT_MARK_NONE) {
        st = flush_alter(sp, err); /* before another connection may take over */
        sp->in_table = m == RD_SPLIT_MARK_SECTION &&
                       begins(sp->hold, sp->hold_len, "-- Table structure for table `");
    }
    if (st != RD_OK) {
        sp->hold_len = 0;
        return st;
    }
    if (m == RD_SPLIT_MARK_SECTION) {
        sp->sections++;
        st = sp->sink.section(sp->sink.ud, err);
    } else if (m == RD_SPLIT_MARK_ALONE) {
        st = sp->sink.ordered(sp->sink.ud, err);
    } else if (m == RD_SPLIT_MARK_ORDERED) {
        sp->stage = RD_SPLIT_ORDERED;
        st = sp->sink.ordered(sp->sink.ud, err);
    }
    if (st == RD_OK)
        st = emit(sp, sp->hold, sp->hold_len, err);
    sp->hold_len = 0;
    return st;
}

static rd_status sections_feed(rd_split *sp, const char *buf, size_t n, rd_error *err)
{
    rd_status st = RD_OK;
    size_t i = 0;
    while (st == RD_OK && i < n) {
        if (sp->stage == RD_SPLIT_ORDERED)
            return emit(sp, buf + i, n - i, err);
        if (sp->collecting) { /* the CREATE TABLE statement, line by line */
            const char *nl = memchr(buf + i, '\n', n - i);
            size_t take = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
            st = rd_strbuf_append_n(&sp->create, buf + i, take, err);
            i += take;
            if (st == RD_OK && nl)
                st = create_line(sp, err);
            continue;
        }
        if (sp->at_start && sp->hold_len == 0 && !held_start(sp, buf[i]))
            sp->at_start = 0; /* an ordinary line */
        if (sp->at_start) {
            /* held until its end (a marker is short) */
            const char *nl = memchr(buf + i, '\n', n - i);
            size_t take = nl ? (size_t)(nl - (buf + i)) + 1 : n - i;
            if (sp->hold_len + take > sizeof sp->hold) {
                st = emit(sp, sp->hold, sp->hold_len, err);
                sp->hold_len = 0;
                if (st == RD_OK)
                    st = emit(sp, buf + i, take, err);
                sp->at_start = nl != NULL;
                i += take;
                continue;
            }
            memcpy(sp->hold + sp->hold_len, buf + i, take);
            sp->hold_len += take;
            i += take;
            if (nl)
                st = held_line(sp, err);
            continue;
        }
        /* a body: up to the next line that starts with a held character */
        size_t j = i;
        for (;;) {
            const char *nl = memchr(buf + j, '\n', n - j);
            j = nl ? (size_t)(nl - buf) + 1 : n;
            if (j == n || held_start(sp, buf[j]))
                break;
        }
        st = emit(sp, buf + i, j - i, err);
        i = j;
        if (buf[i - 1] == '\n')
            sp->at_start = 1;
    }
    return st;
}

rd_status rd_split_feed(rd_split *sp, const char *buf, size_t n, int final, rd_error *err)
{
    rd_status st = RD_OK;
    if (sp->stage == RD_SPLIT_PREAMBLE)
        st = preamble_feed(sp, buf, n, final, err);
    else if (sp->stage == RD_SPLIT_SECTIONS)
        st = sections_feed(sp, buf, n, err);
    else
        st = emit(sp, buf, n, err);
    if (st == RD_OK && final && sp->collecting) /* a statement cut short: as it is */
        st = create_done(sp, 0, err);
    if (st == RD_OK && final && sp->hold_len) { /* a last line without a newline */
        st = emit(sp, sp->hold, sp->hold_len, err);
        if (st == RD_OK && sp->hold[sp->hold_len - 1] != '\n' && sp->alter.len)
            st = emit(sp, "\n", 1, err);
        sp->hold_len = 0;
    }
    if (st == RD_OK && final && sp->alter.len) {
        /* the rows of the last table ran to the end of the dump (no UNLOCK
         * TABLES line): its trailer has put the session settings back, so
         * the dump's own preamble again first */
        st = emit(sp, sp->preamble.data, sp->preamble.len, err);
        if (st == RD_OK)
            st = flush_alter(sp, err);
    }
    return st;
}
