/* config.c: the drill configuration file -> the typed model of config.h.
 *
 * Two passes: the whole document is validated first (keys, types, values,
 * mostly through field tables), then drivers are looked up and each check
 * validates its own parameters. Every error reads `FILE: PATH: ...`. This
 * file holds the top level (version, name, seed, output, notify), loading,
 * parsing and freeing; the targets are read in config_target.c. */
#include "restoredrill/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/sha256.h"
#include "restoredrill/sign.h"
#include "restoredrill/strbuf.h"

#define CONFIG_MAX_BYTES ((size_t)4 * 1024 * 1024)
#define SEED_MAX_EXACT 9007199254740992.0 /* 2^53 */

/* ---- top level ---- */

/* output.sign: {"key": PATH}. The key is loaded now, so a run never starts
 * with a key it cannot sign with (the key's text is never echoed). */
static rd_status parse_sign(const cJSON *output, rd_output_cfg *o, rd_error *err)
{
    static const char *const keys[] = {"key", NULL};
    const cJSON *obj = NULL;
    rd_sign_key *k = NULL;
    rd_error e;
    rd_status st = rd_cfg_object(output, "output", "sign", 0, &obj, err);
    if (st != RD_OK || !obj)
        return st;
    if ((st = rd_cfg_check_keys(obj, "output.sign", keys, err)) != RD_OK ||
        (st = rd_cfg_string(obj, "output.sign", "key", 1, &o->sign_key, err)) != RD_OK)
        return st;
    if ((st = rd_sign_load_private(o->sign_key, &k, &e)) != RD_OK)
        return RD_ERR(err, RD_ERR_CONFIG, "output.sign.key: %s", e.msg);
    rd_sign_key_free(k);
    return RD_OK;
}

static rd_status parse_output(const cJSON *root, rd_output_cfg *o, rd_error *err)
{
    static const char *const keys[] = {"dir",        "junit",   "json", "html",
                                       "prometheus", "history", "sign", NULL};
    char **slots[] = {&o->junit, &o->json, &o->html, &o->prometheus, &o->history};
    static const char *const defaults[] = {"junit.xml", "drill.json", "evidence.html",
                                           "restoredrill.prom", "history.jsonl"};
    const cJSON *obj = NULL;
    rd_status st = rd_cfg_object(root, "", "output", 0, &obj, err);
    if (st == RD_OK)
        st = rd_cfg_check_keys(obj, "output", keys, err);
    if (st == RD_OK)
        st = rd_cfg_string(obj, "output", "dir", 0, &o->dir, err);
    if (st == RD_OK && o->dir && !*o->dir)
        st = RD_ERR(err, RD_ERR_CONFIG, "output.dir: expected a directory, got \"\"");
    if (st == RD_OK)
        st = rd_config_dupstr(&o->dir, "out", err);
    for (size_t i = 0; st == RD_OK && i < 5; i++) {
        const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, keys[i + 1]);
        if (cJSON_IsNull(it))
            continue; /* null disables this report */
        if (it && (!cJSON_IsString(it) || !*it->valuestring)) {
            st = rd_cfg_expected(err, "output", keys[i + 1], it, "a file name or null");
        } else {
            st = rd_config_dupstr(slots[i], it ? it->valuestring : defaults[i], err);
        }
    }
    if (st == RD_OK)
        st = parse_sign(obj, o, err);
    return st;
}

static rd_status parse_notify(const cJSON *root, rd_notify_cfg *n, rd_error *err)
{
    static const char *const on[] = {"failure", "always", "never", NULL};
    static const rd_cfg_field fields[] = {
        RD_FLD("webhook", RD_CFG_STRING, rd_notify_cfg, webhook),
        RD_FENUM("on", rd_notify_cfg, on, on),
        RD_FLD("timeout", RD_CFG_DURATION, rd_notify_cfg, timeout), RD_FEND};
    n->timeout = 10;
    const cJSON *obj = NULL;
    rd_status st = rd_cfg_object(root, "", "notify", 0, &obj, err);
    if (st == RD_OK)
        st = rd_config_read_fields(obj, "notify", fields, n, err);
    if (st == RD_OK && n->webhook && !*n->webhook) {
        free(n->webhook); /* "${DRILL_WEBHOOK_URL:-}" unset: no webhook */
        n->webhook = NULL;
    }
    if (st == RD_OK && n->webhook && strncmp(n->webhook, "http://", 7) != 0 &&
        strncmp(n->webhook, "https://", 8) != 0)
        st = RD_ERR(err, RD_ERR_CONFIG,
                    "notify.webhook: expected an http:// or https:// URL, got a value that is "
                    "not shown (secret)");
    if (st == RD_OK)
        st = rd_config_dupstr(&n->on, "failure", err);
    return st;
}

static rd_status parse_seed(const cJSON *root, rd_config *cfg, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(root, "seed");
    if (!it)
        return RD_OK;
    if (cJSON_IsNumber(it) && it->valuedouble >= 0 && it->valuedouble <= SEED_MAX_EXACT &&
        it->valuedouble == (double)(uint64_t)it->valuedouble) {
        cfg->seed = (uint64_t)it->valuedouble;
        cfg->has_seed = 1;
        return RD_OK;
    }
    if (cJSON_IsString(it) && isdigit((unsigned char)it->valuestring[0])) {
        errno = 0;
        char *end = NULL;
        unsigned long long v = strtoull(it->valuestring, &end, 10);
        if (errno == 0 && *end == '\0') {
            cfg->seed = (uint64_t)v;
            cfg->has_seed = 1;
            return RD_OK;
        }
    }
    return rd_cfg_expected(err, "", "seed", it,
                           "an integer from 0 to 2^53 (or a string of digits up to 2^64-1)");
}

static rd_status default_name(rd_config *cfg, const char *file, rd_error *err)
{
    const char *base = strrchr(file, '/');
    base = base ? base + 1 : file;
    const char *dot = strrchr(base, '.');
    size_t n = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    cfg->name = n ? rd_asprintf("%.*s", (int)n, base) : rd_strdup("drill");
    return cfg->name ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
}

static rd_status parse_root(const cJSON *root, rd_config *cfg, rd_cfg_errors *errs)
{
    static const char *const keys[] = {"version", "name",    "seed",     "parallel", "output",
                                       "notify",  "targets", "controls", NULL};
    long long version = 0, parallel = 1;
    rd_error e;
    size_t before = errs->n;
    rd_cfg_errors_add(errs, rd_cfg_check_keys(root, "", keys, &e), &e);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "version");
    if (!v)
        rd_cfg_errors_add(errs, RD_ERR(&e, RD_ERR_CONFIG, "version: required key is missing"), &e);
    else if (rd_cfg_int(root, "", "version", 1, 1, &version, NULL) != RD_OK)
        return rd_cfg_errors_add(errs, rd_cfg_expected(&e, "", "version", v, "1"),
                                 &e); /* another version: its keys mean other things; stop here */
    cfg->version = (int)version;
    rd_status st = rd_cfg_string(root, "", "name", 0, &cfg->name, &e);
    if (st == RD_OK && !cfg->name)
        st = default_name(cfg, cfg->file, &e);
    rd_cfg_errors_add(errs, st, &e);
    rd_cfg_errors_add(errs, parse_seed(root, cfg, &e), &e);
    if (rd_cfg_errors_add(errs, rd_cfg_int(root, "", "parallel", 1, 64, &parallel, &e), &e) ==
        RD_OK)
        cfg->parallel = (int)parallel;
    rd_cfg_errors_add(errs, parse_output(root, &cfg->output, &e), &e);
    rd_cfg_errors_add(errs, parse_notify(root, &cfg->notify, &e), &e);
    rd_cfg_errors_add(errs, rd_cfg_strlist(root, "", "controls", 1, &cfg->controls, &e), &e);

    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "targets");
    if (!arr)
        return rd_cfg_errors_add(errs,
                                 RD_ERR(&e, RD_ERR_CONFIG, "targets: required key is missing"), &e);
    if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
        return rd_cfg_errors_add(
            errs, rd_cfg_expected(&e, "", "targets", arr, "an array of one or more targets"), &e);
    size_t n = (size_t)cJSON_GetArraySize(arr);
    cfg->targets = calloc(n, sizeof *cfg->targets);
    if (!cfg->targets)
        return rd_cfg_errors_add(errs, RD_ERR(&e, RD_ERR_NOMEM, "out of memory"), &e);
    size_t i = 0;
    for (const cJSON *t = arr->child; t; t = t->next, i++) {
        cfg->ntargets = i + 1;
        rd_config_parse_target(t, i, &cfg->targets[i], errs);
        for (size_t j = 0; cfg->targets[i].name && j < i; j++)
            if (cfg->targets[j].name && strcmp(cfg->targets[j].name, cfg->targets[i].name) == 0)
                rd_cfg_errors_add(errs,
                                  RD_ERR(&e, RD_ERR_CONFIG,
                                         "targets[%zu].name: duplicate target name \"%s\" (also "
                                         "targets[%zu])",
                                         i, cfg->targets[i].name, j),
                                  &e);
    }
    return errs->n > before ? errs->first.code : RD_OK;
}

/* The error for the caller: the first error's code, and every message, one
 * per line, each prefixed with the file name (as many as fit). */
static rd_status report_errors(const rd_cfg_errors *c, const char *file, rd_error *err)
{
    if (!err)
        return c->first.code;
    err->code = c->first.code;
    err->sys_errno = c->first.sys_errno;
    size_t used = 0, shown = 0;
    err->msg[0] = '\0';
    const char *line = c->all.data;
    while (line && *line) {
        const char *nl = strchr(line, '\n');
        size_t len = nl ? (size_t)(nl - line) : strlen(line);
        char more[64];
        snprintf(more, sizeof more, "\n%s: and %zu more errors", file, c->n - shown);
        size_t need = strlen(file) + 2 + len + (shown ? 1 : 0);
        /* keep room for the "and N more" line unless this is the last one */
        size_t room = sizeof err->msg - 1 - used - (nl ? strlen(more) : 0);
        if (need > room) {
            if (shown == 0) { /* at least the first error, shortened */
                snprintf(err->msg, sizeof err->msg, "%s: %.*s", file, (int)len, line);
                used = strlen(err->msg);
                shown = 1;
                snprintf(more, sizeof more, "\n%s: and %zu more errors", file, c->n - shown);
            }
            if (shown < c->n && used + strlen(more) < sizeof err->msg)
                memcpy(err->msg + used, more, strlen(more) + 1);
            break;
        }
        used += (size_t)snprintf(err->msg + used, sizeof err->msg - used, "%s%s: %.*s",
                                 shown ? "\n" : "", file, (int)len, line);
        shown++;
        line = nl ? nl + 1 : NULL;
    }
    return c->first.code;
}

rd_status rd_config_parse(const char *text, const char *file_name, const rd_config_drivers *drivers,
                          rd_config **out, rd_error *err)
{
    const char *file = file_name && *file_name ? file_name : "config";
    rd_status st = RD_OK;
    rd_cfg_errors errs = {0};
    rd_strbuf_init(&errs.all, 64 * 1024);
    rd_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg || !(cfg->file = rd_strdup(file))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    cfg->parallel = 1;
    rd_sha256_hex(text ? text : "", text ? strlen(text) : 0, cfg->sha256);
    st = rd_cfg_parse_text(text ? text : "", &cfg->root, err);
    if (st == RD_OK)
        st = rd_cfg_expand_tree(cfg->root, "", err);
    if (st != RD_OK) { /* not a document we can walk */
        rd_error_prefix(err, "%s: ", file);
        goto out;
    }
    parse_root(cfg->root, cfg, &errs);
    if (errs.n == 0 || errs.first.code == RD_ERR_CONFIG)
        for (size_t i = 0; drivers && i < cfg->ntargets; i++)
            rd_config_resolve_drivers(&cfg->targets[i], drivers, &errs);
    if (errs.n)
        st = report_errors(&errs, file, err);
out:
    rd_strbuf_free(&errs.all);
    if (st != RD_OK) {
        rd_config_free(cfg);
        return st;
    }
    *out = cfg;
    return RD_OK;
}

rd_status rd_config_load(const char *path, const rd_config_drivers *drivers, rd_config **out,
                         rd_error *err)
{
    rd_status st = RD_OK;
    rd_strbuf sb;
    rd_strbuf_init(&sb, CONFIG_MAX_BYTES);
    FILE *f = fopen(path, "rb");
    if (!f) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
        goto out;
    }
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
        if (memchr(buf, '\0', n)) {
            st = RD_ERR(err, RD_ERR_CONFIG, "%s: not a text file (contains a NUL byte)", path);
            goto out;
        }
        if (rd_strbuf_append_n(&sb, buf, n, NULL) != RD_OK) {
            st = RD_ERR(err, RD_ERR_CONFIG, "%s: file is too large (more than 4 MiB)", path);
            goto out;
        }
    }
    if (ferror(f)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read %s", path);
        goto out;
    }
    st = rd_config_parse(sb.data, path, drivers, out, err);
out:
    if (f)
        fclose(f);
    rd_strbuf_free(&sb);
    return st;
}

static void free_target(rd_target_cfg *t)
{
    free(t->name);
    free(t->path);
    rd_catalog_cfg *c = &t->catalog;
    free(c->type);
    free(c->path);
    free(c->pattern);
    free(c->time_from);
    rd_strlist_free(&c->command);
    free(c->endpoint);
    free(c->bucket);
    free(c->prefix);
    free(c->region);
    free(c->stanza);
    free(c->base_dir);
    free(c->binlog_dir);
    free(c->timezone);
    free(c->wal_dir);
    free(c->config);
    free(t->sample.strategy);
    free(t->sample.id);
    free(t->sample.time);
    rd_strlist_free(&t->recovery.settings);
    free(t->database);
    rd_scratch_cfg *s = &t->scratch;
    free(s->type);
    free(s->run_as);
    free(s->bin_dir);
    free(s->base_dir);
    free(s->admin_dsn);
    free(s->endpoint);
    free(s->bucket);
    free(s->region);
    free(s->password_env);
    free(s->prefix);
    rd_strlist_free(&s->create);
    rd_strlist_free(&s->destroy);
    free(t->restore.roles);
    free(t->restore.read);
    rd_strlist_free(&t->restore.decrypt);
    rd_strlist_free(&t->restore.extra_args);
    free(t->reference.manifest);
    free(t->reference.dsn);
    free(t->reference.description);
    free(t->reference.password_env);
    free(t->reference.listing);
    rd_strlist_free(&t->databases);
    rd_strlist_free(&t->key);
    for (size_t i = 0; i < t->nchecks; i++) {
        rd_check_cfg *k = &t->checks[i];
        if (k->state_free && k->state)
            k->state_free(k->state);
        free(k->type);
        free(k->name);
        free(k->path);
    }
    free(t->checks);
    rd_strlist_free(&t->controls);
    free(t->keep_scratch);
}

void rd_config_free(rd_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->ntargets; i++)
        free_target(&cfg->targets[i]);
    free(cfg->targets);
    free(cfg->file);
    free(cfg->name);
    rd_output_cfg *o = &cfg->output;
    free(o->dir);
    free(o->junit);
    free(o->json);
    free(o->html);
    free(o->prometheus);
    free(o->history);
    free(o->sign_key);
    rd_strlist_free(&cfg->controls);
    free(cfg->notify.webhook);
    free(cfg->notify.on);
    cJSON_Delete(cfg->root);
    free(cfg);
}

const rd_target_cfg *rd_config_target(const rd_config *cfg, const char *name)
{
    for (size_t i = 0; cfg && name && i < cfg->ntargets; i++)
        if (cfg->targets[i].name && strcmp(cfg->targets[i].name, name) == 0)
            return &cfg->targets[i];
    return NULL;
}
