/* backup_mariadb_dsn.c: a MariaDB DSN split into mariadb-dump's client
 * options. */
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"
#include "source_int.h"

void rd_bk_mdsn_free(rd_bk_mdsn *d)
{
    free(d->host);
    free(d->port);
    free(d->user);
    free(d->password);
    free(d->socket);
    free(d->database);
    memset(d, 0, sizeof *d);
}

static int set_key(rd_bk_mdsn *d, const char *k, size_t kn, const char *v, size_t vn)
{
    char **slot = NULL;
#define KEY(name) (kn == strlen(name) && strncmp(k, name, kn) == 0)
    if (KEY("host"))
        slot = &d->host;
    else if (KEY("port"))
        slot = &d->port;
    else if (KEY("user"))
        slot = &d->user;
    else if (KEY("password"))
        slot = &d->password;
    else if (KEY("socket") || KEY("unix_socket"))
        slot = &d->socket;
    else if (KEY("database") || KEY("dbname") || KEY("db"))
        slot = &d->database;
    else
        return 1; /* other client options are not needed by mariadb-dump */
#undef KEY
    free(*slot);
    *slot = strndup(v, vn);
    return *slot != NULL;
}

rd_status rd_bk_parse_mariadb_dsn(const char *dsn, rd_bk_mdsn *out, rd_error *err)
{
    rd_bk_mdsn d = {0};
    const char *p = NULL;
    int ok = 1;
    if (strncmp(dsn, "mariadb://", 10) == 0)
        p = dsn + 10;
    else if (strncmp(dsn, "mysql://", 8) == 0)
        p = dsn + 8;
    if (p) {
        const char *slash = strchr(p, '/'), *q = strchr(p, '?');
        const char *auth_end = slash ? slash : q ? q : p + strlen(p);
        const char *at = memchr(p, '@', (size_t)(auth_end - p));
        if (at) {
            const char *colon = memchr(p, ':', (size_t)(at - p));
            ok = ok && set_key(&d, "user", 4, p, (size_t)((colon ? colon : at) - p));
            if (colon)
                ok = ok && set_key(&d, "password", 8, colon + 1, (size_t)(at - colon - 1));
            p = at + 1;
        }
        const char *hp_end = auth_end;
        const char *colon = memchr(p, ':', (size_t)(hp_end - p));
        if (hp_end > p)
            ok = ok && set_key(&d, "host", 4, p, (size_t)((colon ? colon : hp_end) - p));
        if (colon)
            ok = ok && set_key(&d, "port", 4, colon + 1, (size_t)(hp_end - colon - 1));
        if (slash) {
            const char *db_end = q && q > slash ? q : slash + strlen(slash);
            if (db_end > slash + 1)
                ok = ok && set_key(&d, "database", 8, slash + 1, (size_t)(db_end - slash - 1));
        }
        for (const char *kv = q ? q + 1 : NULL; ok && kv && *kv;) {
            const char *amp = strchr(kv, '&'), *end = amp ? amp : kv + strlen(kv);
            const char *eq = memchr(kv, '=', (size_t)(end - kv));
            if (eq)
                ok = set_key(&d, kv, (size_t)(eq - kv), eq + 1, (size_t)(end - eq - 1));
            kv = amp ? amp + 1 : NULL;
        }
    } else {
        for (const char *s = dsn; ok && *s;) {
            while (*s == ' ')
                s++;
            const char *end = strchr(s, ' ');
            end = end ? end : s + strlen(s);
            const char *eq = memchr(s, '=', (size_t)(end - s));
            if (!eq && end > s) {
                rd_bk_mdsn_free(&d);
                return RD_ERR(err, RD_ERR_USAGE,
                              "cannot parse the mariadb dsn: expected "
                              "key=value pairs or a mariadb:// url");
            }
            if (eq)
                ok = set_key(&d, s, (size_t)(eq - s), eq + 1, (size_t)(end - eq - 1));
            s = end;
        }
    }
    if (!ok) {
        rd_bk_mdsn_free(&d);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    *out = d;
    return RD_OK;
}
