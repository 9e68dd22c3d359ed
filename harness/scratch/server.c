/* server.c: the `server` scratch driver: a fresh database named
 * <prefix><target>_<YYYYMMDDTHHMMSSZ>_<random> on an existing server reached
 * through admin_dsn, and for a multi-database target one name
 * <prefix><database>_<YYYYMMDDTHHMMSSZ>_<random> per database the restore
 * creates. Teardown drops exactly those names; gc drops prefixed databases
 * whose embedded timestamp is older than --older-than. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/clock.h"
#include "restoredrill/db.h"
#include "restoredrill/prng.h"
#include "restoredrill/strbuf.h"
#include "scratch_int.h"

#define DEFAULT_PREFIX "rd_scratch_"
#define TS_LEN 16 /* 20260130T150000Z */
#define SUFFIX_LEN 6
#define MAX_NAME 63

typedef struct server_priv {
    char *admin_dsn;
    char *password_env;
    char *name;
} server_priv;

typedef struct dsn_parts {
    char *host, *port, *user, *password, *socket;
    rd_strbuf params; /* other key=value pairs */
} dsn_parts;

static void parts_free(dsn_parts *d)
{
    free(d->host);
    free(d->port);
    free(d->user);
    free(d->password);
    free(d->socket);
    rd_strbuf_free(&d->params);
}

static char *pct_decode(const char *s, size_t n)
{
    char *out = malloc(n + 1);
    size_t j = 0;
    if (!out)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 1 && rd_hex_value(s[i + 1]) >= 0 &&
            rd_hex_value(s[i + 2]) >= 0) {
            out[j++] = (char)(rd_hex_value(s[i + 1]) * 16 + rd_hex_value(s[i + 2]));
            i += 2;
        } else {
            out[j++] = s[i];
        }
    }
    out[j] = '\0';
    return out;
}

/* Store one key/value: the connection keys we rebuild, the rest kept as is. */
static rd_status put(dsn_parts *d, rd_engine engine, const char *key, const char *val,
                     rd_error *err)
{
    char **slot = NULL;
    if (strcmp(key, "host") == 0)
        slot = &d->host;
    else if (strcmp(key, "port") == 0)
        slot = &d->port;
    else if (strcmp(key, "user") == 0)
        slot = &d->user;
    else if (strcmp(key, "password") == 0)
        slot = &d->password;
    else if (strcmp(key, "socket") == 0 && engine == RD_ENGINE_MARIADB)
        slot = &d->socket;
    else if (strcmp(key, "dbname") == 0 || strcmp(key, "database") == 0 || strcmp(key, "db") == 0)
        return RD_OK; /* replaced by the scratch database */
    if (slot) {
        free(*slot);
        *slot = rd_strdup(val);
        return *slot ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    if (strpbrk(val, " '\\") || !*val) {
        rd_status st = rd_strbuf_appendf(&d->params, err, "%s%s='", d->params.len ? " " : "", key);
        for (const char *p = val; *p && st == RD_OK; p++) {
            if (*p == '\'' || *p == '\\')
                st = rd_strbuf_append_char(&d->params, '\\', err);
            if (st == RD_OK)
                st = rd_strbuf_append_char(&d->params, *p, err);
        }
        return st == RD_OK ? rd_strbuf_append_char(&d->params, '\'', err) : st;
    }
    return rd_strbuf_appendf(&d->params, err, "%s%s=%s", d->params.len ? " " : "", key, val);
}

static rd_status parse_uri(const char *dsn, const char *rest, rd_engine engine, dsn_parts *d,
                           rd_error *err)
{
    const char *auth_end = strpbrk(rest, "/?");
    size_t alen = auth_end ? (size_t)(auth_end - rest) : strlen(rest);
    const char *at = memrchr(rest, '@', alen);
    const char *hp = rest;
    rd_status st = RD_OK;

    (void)dsn;
    if (at) {
        const char *colon = memchr(rest, ':', (size_t)(at - rest));
        d->user = pct_decode(rest, (size_t)((colon ? colon : at) - rest));
        if (colon)
            d->password = pct_decode(colon + 1, (size_t)(at - colon - 1));
        hp = at + 1;
    }
    size_t hlen = (size_t)(rest + alen - hp);
    const char *pc = hlen && hp[0] != '[' ? memrchr(hp, ':', hlen) : NULL;
    if (pc && !memchr(hp, ',', hlen)) {
        d->host = pct_decode(hp, (size_t)(pc - hp));
        d->port = pct_decode(pc + 1, (size_t)(hp + hlen - pc - 1));
    } else if (hlen) {
        d->host = pct_decode(hp, hlen);
    }
    const char *q = strchr(rest + alen, '?');
    while (q && st == RD_OK) {
        const char *k = q + 1;
        const char *amp = strchr(k, '&');
        size_t len = amp ? (size_t)(amp - k) : strlen(k);
        const char *eq = memchr(k, '=', len);
        if (eq) {
            char *key = pct_decode(k, (size_t)(eq - k));
            char *val = pct_decode(eq + 1, (size_t)(k + len - eq - 1));
            st = key && val ? put(d, engine, key, val, err)
                            : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            free(key);
            free(val);
        }
        q = amp;
    }
    return st;
}

/* key=value pairs, values optionally single-quoted with backslash escapes. */
static rd_status parse_kv(const char *s, rd_engine engine, dsn_parts *d, rd_error *err)
{
    rd_strbuf key, val;
    rd_status st = RD_OK;

    rd_strbuf_init(&key, 0);
    rd_strbuf_init(&val, 0);
    while (*s && st == RD_OK) {
        while (*s == ' ' || *s == '\t' || *s == '\n')
            s++;
        if (!*s)
            break;
        rd_strbuf_reset(&key);
        rd_strbuf_reset(&val);
        while (*s && *s != '=' && *s != ' ')
            rd_strbuf_append_char(&key, *s++, NULL);
        while (*s == ' ')
            s++;
        if (*s != '=') {
            st = RD_ERR(err, RD_ERR_CONFIG, "scratch.admin_dsn: expected key=value, got \"%s\"",
                        key.data);
            break;
        }
        s++;
        while (*s == ' ')
            s++;
        if (*s == '\'') {
            for (s++; *s && *s != '\''; s++) {
                if (*s == '\\' && s[1])
                    s++;
                rd_strbuf_append_char(&val, *s, NULL);
            }
            if (*s != '\'') {
                st = RD_ERR(err, RD_ERR_CONFIG, "scratch.admin_dsn: unterminated quoted value");
                break;
            }
            s++;
        } else {
            while (*s && *s != ' ' && *s != '\t')
                rd_strbuf_append_char(&val, *s++, NULL);
        }
        st = put(d, engine, key.data, val.data, err);
    }
    rd_strbuf_free(&key);
    rd_strbuf_free(&val);
    return st;
}

static rd_status parse_dsn(const char *dsn, rd_engine engine, dsn_parts *d, rd_error *err)
{
    static const char *const schemes[] = {"postgresql://", "postgres://", "mariadb://", "mysql://",
                                          NULL};
    memset(d, 0, sizeof *d);
    rd_strbuf_init(&d->params, 0);
    for (size_t i = 0; schemes[i]; i++)
        if (strncmp(dsn, schemes[i], strlen(schemes[i])) == 0)
            return parse_uri(dsn, dsn + strlen(schemes[i]), engine, d, err);
    return parse_kv(dsn, engine, d, err);
}

/* prefix + target + _YYYYMMDDTHHMMSSZ_ + random, at most MAX_NAME bytes. */
static rd_status make_name(const char *prefix, const char *target, char **out, rd_error *err)
{
    char ts[TS_LEN + 1], suffix[SUFFIX_LEN + 1];
    time_t now = time(NULL);
    struct tm tm;
    size_t room = MAX_NAME - strlen(prefix) - TS_LEN - SUFFIX_LEN - 2;

    if (strlen(prefix) + TS_LEN + SUFFIX_LEN + 3 > MAX_NAME)
        return RD_ERR(err, RD_ERR_CONFIG, "scratch.prefix \"%s\" is too long (at most %d bytes)",
                      prefix, MAX_NAME - TS_LEN - SUFFIX_LEN - 3);
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y%m%dT%H%M%SZ", &tm);
    rd_random_token(suffix, SUFFIX_LEN);
    char *t = rd_scratch_sanitize(target ? target : "db", room);
    *out = t ? rd_asprintf("%s%s_%s_%s", prefix, t, ts, suffix) : NULL;
    free(t);
    return *out ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

static rd_status admin_connect(rd_engine engine, const char *dsn, const char *password_env,
                               rd_db **db, rd_error *err)
{
    rd_db_opts opts = {0};
    opts.password_env = password_env;
    opts.connect_timeout = 15;
    rd_status st = rd_db_connect(engine, dsn, &opts, db, err);
    if (st != RD_OK)
        rd_error_prefix(err, "scratch server: ");
    return st;
}

static rd_status drop_db(rd_db *db, const char *name, rd_error *err)
{
    rd_strbuf sql;
    rd_status st;
    int major = 0;

    rd_strbuf_init(&sql, 0);
    if (rd_db_engine(db) == RD_ENGINE_PG) {
        if ((st = rd_strbuf_append(&sql,
                                   "SELECT count(pg_terminate_backend(pid)) FROM "
                                   "pg_stat_activity WHERE pid <> pg_backend_pid() AND "
                                   "datname = ",
                                   err)) != RD_OK ||
            (st = rd_db_quote_literal(db, name, &sql, err)) != RD_OK ||
            (st = rd_db_exec(db, sql.data, 60, NULL, err)) != RD_OK ||
            (st = rd_db_server_major(db, &major, err)) != RD_OK)
            goto out;
        rd_strbuf_reset(&sql);
    }
    if ((st = rd_strbuf_append(&sql, "DROP DATABASE IF EXISTS ", err)) != RD_OK ||
        (st = rd_db_quote_ident(db, name, &sql, err)) != RD_OK)
        goto out;
    if (major >= 13 && (st = rd_strbuf_append(&sql, " WITH (FORCE)", err)) != RD_OK)
        goto out;
    st = rd_db_exec(db, sql.data, 300, NULL, err);
out:
    rd_strbuf_free(&sql);
    return st;
}

/* 1 when a database of that name exists on the server (or cannot tell). */
static rd_status db_exists(rd_db *db, const char *name, int *exists, rd_error *err)
{
    rd_strbuf sql;
    char *v = NULL;
    rd_strbuf_init(&sql, 0);
    rd_status st = rd_strbuf_append(&sql,
                                    rd_db_engine(db) == RD_ENGINE_PG
                                        ? "SELECT count(*) FROM pg_database WHERE datname = "
                                        : "SELECT COUNT(*) FROM information_schema.SCHEMATA WHERE "
                                          "SCHEMA_NAME = ",
                                    err);
    if (st == RD_OK)
        st = rd_db_quote_literal(db, name, &sql, err);
    if (st == RD_OK)
        st = rd_db_scalar(db, sql.data, 60, &v, NULL, err);
    if (st == RD_OK)
        *exists = !v || strcmp(v, "0") != 0;
    free(v);
    rd_strbuf_free(&sql);
    return st;
}

/* A scratch name of its own for each database the restore will create
 * (prefix + the database + time + random, within MAX_NAME), none of which
 * exists yet: the restore creates them (never "IF NOT EXISTS"), teardown
 * drops them, gc knows their shape. */
static rd_status name_databases(rd_scratch *s, rd_db *db, const char *prefix, const rd_strlist *dbs,
                                rd_error *err)
{
    rd_status st = RD_OK;
    for (size_t i = 0; st == RD_OK && dbs && i < dbs->n; i++) {
        char *name = NULL;
        int exists = 1;
        st = make_name(prefix, dbs->items[i], &name, err);
        if (st == RD_OK)
            st = db_exists(db, name, &exists, err);
        if (st == RD_OK && exists)
            st = RD_ERR(err, RD_ERR_REFUSED,
                        "scratch server: the scratch name %s for database %s exists already", name,
                        dbs->items[i]);
        if (st == RD_OK)
            st = rd_strlist_push(&s->db_from, dbs->items[i], err);
        if (st == RD_OK)
            st = rd_strlist_push(&s->db_to, name, err);
        free(name);
    }
    return st;
}

static void priv_free(server_priv *p)
{
    if (!p)
        return;
    free(p->admin_dsn);
    free(p->password_env);
    free(p->name);
    free(p);
}

static rd_status srv_provision(const rd_scratch_cfg *cfg, rd_engine engine,
                               const rd_scratch_req *req, rd_scratch **out, rd_error *err)
{
    const char *prefix = cfg->prefix ? cfg->prefix : DEFAULT_PREFIX;
    rd_scratch *s = calloc(1, sizeof *s);
    server_priv *p = calloc(1, sizeof *p);
    dsn_parts d;
    rd_db *db = NULL;
    rd_strbuf sql;
    rd_status st;

    memset(&d, 0, sizeof d);
    rd_strbuf_init(&d.params, 0);
    rd_strbuf_init(&sql, 0);
    if (!s || !p) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto fail;
    }
    s->type = &rd_scratch_server;
    s->conn.engine = engine;
    s->priv = p;
    if (!cfg->admin_dsn || !*cfg->admin_dsn) {
        st = RD_ERR(err, RD_ERR_CONFIG, "scratch.admin_dsn is required for scratch type server");
        goto fail;
    }
    if (!*prefix) {
        st = RD_ERR(err, RD_ERR_CONFIG, "scratch.prefix must not be empty");
        goto fail;
    }
    if ((st = parse_dsn(cfg->admin_dsn, engine, &d, err)) != RD_OK ||
        (st = admin_connect(engine, cfg->admin_dsn, cfg->password_env, &db, err)) != RD_OK ||
        (st = rd_scratch_check_same_server(db, req ? req->reference_identity : NULL,
                                           cfg->allow_same_server, err)) != RD_OK ||
        (st = make_name(prefix, req ? req->target : NULL, &p->name, err)) != RD_OK ||
        (st = name_databases(s, db, prefix, req ? req->databases : NULL, err)) != RD_OK)
        goto fail;
    p->admin_dsn = rd_strdup(cfg->admin_dsn);
    p->password_env = rd_strdup(cfg->password_env);
    if ((st = rd_strbuf_append(&sql, "CREATE DATABASE ", err)) != RD_OK ||
        (st = rd_db_quote_ident(db, p->name, &sql, err)) != RD_OK ||
        (st = rd_db_exec(db, sql.data, 300, NULL, err)) != RD_OK) {
        rd_error_prefix(err, "scratch server: cannot create database %s: ", p->name);
        goto fail;
    }
    rd_db_server_version(db, &s->server_version, NULL);
    /* connection info: the admin DSN's server and user, the new database */
    if (d.host && d.host[0] == '/') {
        s->conn.socket = d.host;
        d.host = NULL;
    } else {
        s->conn.host = d.host;
        d.host = NULL;
        s->conn.socket = d.socket;
        d.socket = NULL;
    }
    s->conn.port = d.port ? (int)strtol(d.port, NULL, 10) : 0;
    s->conn.user = d.user;
    d.user = NULL;
    {
        const char *pw = cfg->password_env ? getenv(cfg->password_env) : NULL;
        s->conn.password = pw ? rd_strdup(pw) : d.password;
        if (pw)
            free(d.password);
        d.password = NULL;
    }
    s->conn.database = rd_strdup(p->name);
    s->conn.dsn_params = d.params.len ? rd_strbuf_detach(&d.params) : NULL;
    if ((st = rd_scratch_finish_conn(s, err)) != RD_OK) {
        rd_error e;
        drop_db(db, p->name, &e);
        goto fail;
    }
    *out = s;
    goto out;
fail:
    priv_free(p);
    if (s)
        s->priv = NULL;
    rd_scratch_destroy(s);
out:
    rd_db_free(db);
    parts_free(&d);
    rd_strbuf_free(&sql);
    return st;
}

static rd_status srv_teardown(rd_scratch *s, rd_error *err)
{
    server_priv *p = s->priv;
    rd_db *db = NULL;
    rd_status st;

    if (!p)
        return RD_OK;
    if ((st = admin_connect(s->conn.engine, p->admin_dsn, p->password_env, &db, err)) != RD_OK)
        return st;
    /* the databases the restore created under their scratch names first */
    for (size_t i = 0; st == RD_OK && i < s->db_to.n; i++)
        if ((st = drop_db(db, s->db_to.items[i], err)) != RD_OK)
            rd_error_prefix(err, "scratch server: cannot drop database %s: ", s->db_to.items[i]);
    if (st == RD_OK && (st = drop_db(db, p->name, err)) != RD_OK)
        rd_error_prefix(err, "scratch server: cannot drop database %s: ", p->name);
    rd_db_free(db);
    if (st == RD_OK) {
        priv_free(p);
        s->priv = NULL;
    }
    return st;
}

/* The creation time embedded in a scratch database name; -1 when the name
 * does not have the shape prefix..._YYYYMMDDTHHMMSSZ_xxxxxx. */
static double name_time(const char *name, const char *prefix)
{
    size_t n = strlen(name), pl = strlen(prefix);
    struct tm tm;

    if (strncmp(name, prefix, pl) != 0 || n < pl + TS_LEN + SUFFIX_LEN + 2)
        return -1;
    const char *suf = name + n - SUFFIX_LEN;
    const char *ts = suf - 1 - TS_LEN;
    if (suf[-1] != '_' || ts[-1] != '_')
        return -1;
    for (int i = 0; i < SUFFIX_LEN; i++)
        if (!((suf[i] >= 'a' && suf[i] <= 'z') || (suf[i] >= '0' && suf[i] <= '9')))
            return -1;
    for (int i = 0; i < TS_LEN; i++) {
        int digit = ts[i] >= '0' && ts[i] <= '9';
        if ((i == 8 && ts[i] != 'T') || (i == 15 && ts[i] != 'Z') || (i != 8 && i != 15 && !digit))
            return -1;
    }
    memset(&tm, 0, sizeof tm);
    if (sscanf(ts, "%4d%2d%2dT%2d%2d%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
               &tm.tm_min, &tm.tm_sec) != 6)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (double)timegm(&tm);
}

static rd_status srv_gc(const rd_scratch_cfg *cfg, rd_engine engine, double older_than, int dry_run,
                        void (*report)(void *ud, const char *what), void *ud, rd_error *err)
{
    const char *prefix = cfg->prefix ? cfg->prefix : DEFAULT_PREFIX;
    const char *list = engine == RD_ENGINE_PG
                           ? "SELECT datname FROM pg_database ORDER BY 1"
                           : "SELECT schema_name FROM information_schema.schemata ORDER BY 1";
    rd_db *db = NULL;
    rd_db_result *r = NULL;
    rd_status st;
    double now = (double)time(NULL);

    if (!cfg->admin_dsn || !*prefix)
        return RD_ERR(err, RD_ERR_CONFIG, "scratch.admin_dsn and a non-empty prefix are required");
    if ((st = admin_connect(engine, cfg->admin_dsn, cfg->password_env, &db, err)) != RD_OK ||
        (st = rd_db_query(db, list, 60, 0, &r, err)) != RD_OK)
        goto out;
    for (size_t i = 0; i < r->nrows; i++) {
        const char *name = rd_db_cell(r, i, 0);
        double t = name ? name_time(name, prefix) : -1;
        char msg[512], when[RD_TIME_BUFSZ];
        if (t < 0 || now - t < older_than)
            continue;
        rd_time_format((int64_t)t * 1000, when, sizeof when);
        snprintf(msg, sizeof msg, "%s scratch database %s (created %s)",
                 dry_run ? "would drop" : "dropped", name, when);
        if (!dry_run && (st = drop_db(db, name, err)) != RD_OK) {
            rd_error_prefix(err, "cannot drop %s: ", name);
            goto out;
        }
        report(ud, msg);
    }
out:
    rd_db_result_free(r);
    rd_db_free(db);
    return st;
}

const rd_scratch_type rd_scratch_server = {
    .name = "server",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB,
    .provision = srv_provision,
    .teardown = srv_teardown,
    .gc = srv_gc,
};
