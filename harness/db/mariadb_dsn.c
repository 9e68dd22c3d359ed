/* mariadb_dsn.c: MariaDB DSNs ("mariadb://user@host:port/db?socket=/p" and
 * "key=value" pairs) parsed into rd_db_my_dsn, and their display form. No
 * client library here: mariadb.c connects with the parsed fields. */
#include "db_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"

static const char *const no_password_msg =
    "a password in the dsn is not allowed: use MYSQL_PWD or password_env";

/* %XX-decode [p, p+n) into a heap string (NULL for an empty part). */
static rd_status url_part(const char *p, size_t n, char **out, rd_error *err)
{
    char *s = NULL;
    size_t o = 0;
    *out = NULL;
    if (n == 0)
        return RD_OK;
    s = malloc(n + 1);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '%') {
            int hi = i + 2 < n ? rd_hex_value((unsigned char)p[i + 1]) : -1;
            int lo = i + 2 < n ? rd_hex_value((unsigned char)p[i + 2]) : -1;
            if (hi < 0 || lo < 0) {
                free(s);
                return RD_ERR(err, RD_ERR_CONFIG, "invalid %%-escape in mariadb dsn");
            }
            s[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            s[o++] = p[i];
        }
    }
    s[o] = '\0';
    *out = s;
    return RD_OK;
}

static rd_status parse_port(const char *p, size_t n, unsigned *out, rd_error *err)
{
    unsigned v = 0;
    if (n == 0 || n > 5)
        goto bad;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            goto bad;
        v = v * 10 + (unsigned)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        goto bad;
    *out = v;
    return RD_OK;
bad:
    return RD_ERR(err, RD_ERR_CONFIG, "invalid port \"%.*s\" in mariadb dsn",
                  (int)(n > 16 ? 16 : n), p);
}

static rd_status set_field(rd_db_my_dsn *d, const char *key, size_t klen, char *val, rd_error *err)
{
    char **slot = NULL;
    rd_status st = RD_OK;
#define KEY_IS(k) (klen == strlen(k) && strncmp(key, k, klen) == 0)
    if (KEY_IS("password") || KEY_IS("pass") || KEY_IS("pwd") || KEY_IS("passwd")) {
        st = RD_ERR(err, RD_ERR_CONFIG, "%s", no_password_msg);
    } else if (KEY_IS("port")) {
        st = parse_port(val ? val : "", val ? strlen(val) : 0, &d->port, err);
    } else if (KEY_IS("host")) {
        slot = &d->host;
    } else if (KEY_IS("user")) {
        slot = &d->user;
    } else if (KEY_IS("database") || KEY_IS("dbname") || KEY_IS("db")) {
        slot = &d->database;
    } else if (KEY_IS("socket")) {
        slot = &d->socket;
    } else {
        st = RD_ERR(err, RD_ERR_CONFIG, "unknown mariadb dsn key \"%.*s\"", (int)klen, key);
    }
#undef KEY_IS
    if (slot) {
        free(*slot);
        *slot = val;
        val = NULL;
    }
    free(val);
    return st;
}

static rd_status parse_url(const char *dsn, rd_db_my_dsn *d, rd_error *err)
{
    rd_status st = RD_OK;
    const char *p = strstr(dsn, "://") + 3;
    size_t alen = strcspn(p, "/?");
    const char *at = NULL;
    char *v = NULL;
    for (const char *q = p; q < p + alen; q++)
        if (*q == '@')
            at = q;
    if (at) {
        if (memchr(p, ':', (size_t)(at - p)))
            return RD_ERR(err, RD_ERR_CONFIG, "%s", no_password_msg);
        st = url_part(p, (size_t)(at - p), &d->user, err);
        if (st != RD_OK)
            return st;
        alen -= (size_t)(at + 1 - p);
        p = at + 1;
    }
    const char *hend = p + alen, *colon = NULL;
    if (alen && p[0] == '[') { /* [::1]:3306 */
        const char *rb = memchr(p, ']', alen);
        if (!rb)
            return RD_ERR(err, RD_ERR_CONFIG, "invalid host in mariadb dsn");
        st = url_part(p + 1, (size_t)(rb - p - 1), &d->host, err);
        colon = rb + 1 < hend && rb[1] == ':' ? rb + 1 : NULL;
    } else {
        colon = memchr(p, ':', alen);
        st = url_part(p, colon ? (size_t)(colon - p) : alen, &d->host, err);
    }
    if (st == RD_OK && colon)
        st = parse_port(colon + 1, (size_t)(hend - colon - 1), &d->port, err);
    if (st != RD_OK)
        return st;
    p = hend;
    if (*p == '/') {
        size_t n = strcspn(p + 1, "?");
        st = url_part(p + 1, n, &d->database, err);
        if (st != RD_OK)
            return st;
        p += 1 + n;
    }
    if (*p == '?')
        p++;
    while (*p && st == RD_OK) {
        size_t n = strcspn(p, "&");
        const char *eq = memchr(p, '=', n);
        if (!eq)
            return RD_ERR(err, RD_ERR_CONFIG,
                          "expected key=value in mariadb dsn query, got \"%.*s\"",
                          (int)(n > 32 ? 32 : n), p);
        st = url_part(eq + 1, (size_t)(p + n - eq - 1), &v, err);
        if (st == RD_OK)
            st = set_field(d, p, (size_t)(eq - p), v, err);
        v = NULL;
        p += n;
        if (*p == '&')
            p++;
    }
    return st;
}

static rd_status parse_pairs(const char *p, rd_db_my_dsn *d, rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf val;
    rd_strbuf_init(&val, 4096);
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!*p)
            break;
        const char *key = p;
        while (*p && *p != '=' && !isspace((unsigned char)*p))
            p++;
        size_t klen = (size_t)(p - key);
        while (isspace((unsigned char)*p))
            p++;
        if (*p != '=' || klen == 0) {
            st = RD_ERR(err, RD_ERR_CONFIG, "expected key=value in mariadb dsn near \"%.*s\"",
                        (int)(klen > 32 ? 32 : klen), key);
            goto out;
        }
        p++;
        while (isspace((unsigned char)*p))
            p++;
        rd_strbuf_reset(&val);
        int quoted = *p == '\'';
        if (quoted)
            p++;
        while (*p && (quoted ? *p != '\'' : !isspace((unsigned char)*p))) {
            if (*p == '\\' && p[1])
                p++;
            st = rd_strbuf_append_char(&val, *p++, err);
            if (st != RD_OK)
                goto out;
        }
        if (quoted) {
            if (*p != '\'') {
                st = RD_ERR(err, RD_ERR_CONFIG, "unterminated quoted value in mariadb dsn");
                goto out;
            }
            p++;
        }
        char *v = val.len || quoted ? rd_strdup(val.data) : NULL;
        if ((val.len || quoted) && !v) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        if (v && !v[0] && !(klen == 4 && strncmp(key, "port", 4) == 0)) {
            free(v); /* key='' means unset */
            v = NULL;
        }
        st = set_field(d, key, klen, v, err);
        if (st != RD_OK)
            goto out;
    }
out:
    rd_strbuf_free(&val);
    return st;
}

rd_status rd_db_my_dsn_parse(const char *dsn, rd_db_my_dsn *out, rd_error *err)
{
    rd_db_my_dsn d = {0};
    rd_status st;
    if (!dsn)
        dsn = "";
    if (strncasecmp(dsn, "mariadb://", 10) == 0 || strncasecmp(dsn, "mysql://", 8) == 0)
        st = parse_url(dsn, &d, err);
    else if (strstr(dsn, "://"))
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "mariadb dsn must start with mariadb:// or mysql:// or be key=value pairs");
    else
        st = parse_pairs(dsn, &d, err);
    if (st != RD_OK) {
        rd_db_my_dsn_free(&d);
        return st;
    }
    *out = d;
    return RD_OK;
}

void rd_db_my_dsn_free(rd_db_my_dsn *d)
{
    if (!d)
        return;
    free(d->host);
    free(d->user);
    free(d->database);
    free(d->socket);
    memset(d, 0, sizeof *d);
}

char *rd_db_my_dsn_display(const rd_db_my_dsn *d)
{
    rd_strbuf sb;
    rd_status st = RD_OK;
    rd_strbuf_init(&sb, 0);
    st = rd_strbuf_append(&sb, "mariadb://", NULL);
    if (st == RD_OK && d->user)
        st = rd_strbuf_appendf(&sb, NULL, "%s@", d->user);
    if (st == RD_OK && d->host)
        st = rd_strbuf_appendf(&sb, NULL, strchr(d->host, ':') ? "[%s]" : "%s", d->host);
    if (st == RD_OK && d->port)
        st = rd_strbuf_appendf(&sb, NULL, ":%u", d->port);
    if (st == RD_OK && d->database)
        st = rd_strbuf_appendf(&sb, NULL, "/%s", d->database);
    if (st == RD_OK && d->socket)
        st = rd_strbuf_appendf(&sb, NULL, "?socket=%s", d->socket);
    if (st != RD_OK) {
        rd_strbuf_free(&sb);
        return NULL;
    }
    return rd_strbuf_detach(&sb);
}

/* ---- connections ---- */

rd_status rd_db_my_display(const char *dsn, char **out, rd_error *err)
{
    rd_db_my_dsn d = {0};
    rd_status st = rd_db_my_dsn_parse(dsn, &d, err);
    if (st != RD_OK)
        return st;
    char *s = rd_db_my_dsn_display(&d);
    rd_db_my_dsn_free(&d);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *out = s;
    return RD_OK;
}

/* ' value' quoted as parse_pairs reads it: ' and \ escaped with \. */
static rd_status append_pair(rd_strbuf *sb, const char *key, const char *val, rd_error *err)
{
    rd_status st = rd_strbuf_appendf(sb, err, "%s%s=", sb->len ? " " : "", key);
    return st == RD_OK ? rd_db_append_quoted(sb, val, err) : st;
}

rd_status rd_db_my_with_database(const char *dsn, const char *database, char **out, rd_error *err)
{
    rd_db_my_dsn d = {0};
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    rd_status st = rd_db_my_dsn_parse(dsn, &d, err);
    if (st == RD_OK && d.host)
        st = append_pair(&sb, "host", d.host, err);
    if (st == RD_OK && d.port)
        st = rd_strbuf_appendf(&sb, err, "%sport=%u", sb.len ? " " : "", d.port);
    if (st == RD_OK && d.user)
        st = append_pair(&sb, "user", d.user, err);
    if (st == RD_OK)
        st = append_pair(&sb, "database", database, err);
    if (st == RD_OK && d.socket)
        st = append_pair(&sb, "socket", d.socket, err);
    rd_db_my_dsn_free(&d);
    if (st != RD_OK) {
        rd_strbuf_free(&sb);
        return st;
    }
    *out = rd_strbuf_detach(&sb);
    return RD_OK;
}
