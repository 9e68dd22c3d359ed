/* config_fields.c: the pieces every section parser of the configuration
 * uses: engine names, the table-driven field reader (unknown keys refused,
 * each value validated into its struct member) and the error list that lets
 * one validate run name every error. */
#include "restoredrill/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/strbuf.h"

const char *rd_engine_name(rd_engine e)
{
    switch (e) {
    case RD_ENGINE_PG:
        return "postgres";
    case RD_ENGINE_MARIADB:
        return "mariadb";
    case RD_ENGINE_DYNAMODB:
        return "dynamodb";
    case RD_ENGINE_S3:
        return "s3";
    }
    return "unknown";
}

rd_engine rd_engine_parse(const char *s)
{
    if (!s)
        return (rd_engine)0;
    if (strcmp(s, "postgres") == 0 || strcmp(s, "postgresql") == 0 || strcmp(s, "pg") == 0)
        return RD_ENGINE_PG;
    if (strcmp(s, "mariadb") == 0 || strcmp(s, "mysql") == 0)
        return RD_ENGINE_MARIADB;
    if (strcmp(s, "dynamodb") == 0)
        return RD_ENGINE_DYNAMODB;
    if (strcmp(s, "s3") == 0)
        return RD_ENGINE_S3;
    return (rd_engine)0;
}

rd_status rd_config_dupstr(char **dst, const char *s, rd_error *err)
{
    if (*dst)
        return RD_OK;
    *dst = rd_strdup(s);
    return *dst ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

/* ---- table-driven sections ---- */

static rd_status read_field(const cJSON *o, const char *path, const rd_cfg_field *f, char *base,
                            rd_error *err)
{
    void *p = base + f->off;
    long long v = 0;
    rd_status st = RD_OK;
    switch (f->kind) {
    case RD_CFG_SKIP:
        return RD_OK;
    case RD_CFG_STRING:
        return rd_cfg_string(o, path, f->key, 0, (char **)p, err);
    case RD_CFG_REQUIRED:
        return rd_cfg_string(o, path, f->key, 1, (char **)p, err);
    case RD_CFG_ENUM:
        return rd_cfg_enum(o, path, f->key, f->values, (char **)p, err);
    case RD_CFG_BOOL:
        return rd_cfg_bool(o, path, f->key, (int *)p, err);
    case RD_CFG_DURATION:
        return rd_cfg_duration(o, path, f->key, (double *)p, err);
    case RD_CFG_LIST:
        return rd_cfg_strlist(o, path, f->key, 1, (rd_strlist *)p, err);
    case RD_CFG_MAP:
        return rd_cfg_strmap(o, path, f->key, (rd_strlist *)p, err);
    case RD_CFG_INT:
        st = rd_cfg_int(o, path, f->key, f->min, f->max, &v, err);
        if (st == RD_OK && cJSON_GetObjectItemCaseSensitive(o, f->key))
            *(int *)p = (int)v;
        return st;
    case RD_CFG_ENVNAME: {
        char **out = (char **)p;
        st = rd_cfg_string(o, path, f->key, 0, out, err);
        int ok = !*out || isalpha((unsigned char)**out) || **out == '_';
        for (const char *s = *out; s && *s && ok; s++)
            ok = isalnum((unsigned char)*s) || *s == '_';
        if (st == RD_OK && !ok)
            return rd_cfg_expected(err, path, f->key, cJSON_GetObjectItemCaseSensitive(o, f->key),
                                   "an environment variable name");
        return st;
    }
    case RD_CFG_COMMAND: {
        rd_strlist *l = (rd_strlist *)p;
        if (!cJSON_GetObjectItemCaseSensitive(o, f->key))
            return RD_ERR(err, RD_ERR_CONFIG, "%s.%s: required key is missing", path, f->key);
        st = rd_cfg_strlist(o, path, f->key, 1, l, err);
        if (st == RD_OK && l->n == 0)
            return RD_ERR(err, RD_ERR_CONFIG, "%s.%s: expected a command, got []", path, f->key);
        return st;
    }
    }
    return st;
}

/* Refuse keys not in the table, then read every field into base. */
rd_status rd_config_read_fields(const cJSON *o, const char *path, const rd_cfg_field *fields,
                                void *base, rd_error *err)
{
    const char *keys[24];
    size_t n = 0;
    for (; fields[n].key && n < 23; n++)
        keys[n] = fields[n].key;
    keys[n] = NULL;
    rd_status st = rd_cfg_check_keys(o, path, keys, err);
    for (size_t i = 0; st == RD_OK && fields[i].key; i++)
        st = read_field(o, path, &fields[i], base, err);
    return st;
}

rd_status rd_cfg_errors_add(rd_cfg_errors *c, rd_status st, const rd_error *e)
{
    if (st == RD_OK)
        return RD_OK;
    if (c->n++ == 0)
        c->first = *e;
    if (c->all.len)
        rd_strbuf_append_char(&c->all, '\n', NULL);
    rd_strbuf_append(&c->all, e->msg, NULL);
    return st;
}
