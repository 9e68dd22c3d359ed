/* config_util.c: the rd_cfg_* helpers that validate one JSON value with a
 * path-precise message, string lists, and ${VAR} expansion. */
#include "restoredrill/config.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/strbuf.h"

/* A spare bit of cJSON's type word (cJSON tests types with & 0xFF and uses
 * 256 and 512 itself): set on string values produced by ${VAR} expansion. */
#define ENV_BIT (1 << 12)

#define GOT_MAX 96
#define GOT_STR_MAX 60

static void key_path(char *buf, size_t n, const char *path, const char *key)
{
    if (path && *path)
        snprintf(buf, n, "%s.%s", path, key);
    else
        snprintf(buf, n, "%s", key);
}

int rd_cfg_from_env(const cJSON *item)
{
    return item && (item->type & ENV_BIT) != 0;
}

char *rd_cfg_got(const cJSON *item, char *buf, size_t bufsz)
{
    if (!buf || bufsz == 0)
        return buf;
    if (!item) {
        snprintf(buf, bufsz, "nothing");
    } else if (rd_cfg_from_env(item)) {
        snprintf(buf, bufsz, "a value from the environment");
    } else if (cJSON_IsString(item)) {
        char tmp[GOT_STR_MAX + 4];
        size_t j = 0;
        const char *s = item->valuestring;
        for (size_t i = 0; s[i] && j < GOT_STR_MAX; i++)
            tmp[j++] = (unsigned char)s[i] < 0x20 ? '?' : s[i];
        tmp[j] = '\0';
        snprintf(buf, bufsz, "\"%s%s\"", tmp, strlen(s) > GOT_STR_MAX ? "..." : "");
    } else if (cJSON_IsNumber(item)) {
        snprintf(buf, bufsz, "%.15g", item->valuedouble);
    } else if (cJSON_IsTrue(item)) {
        snprintf(buf, bufsz, "true");
    } else if (cJSON_IsFalse(item)) {
        snprintf(buf, bufsz, "false");
    } else if (cJSON_IsNull(item)) {
        snprintf(buf, bufsz, "null");
    } else if (cJSON_IsArray(item)) {
        snprintf(buf, bufsz, cJSON_GetArraySize(item) == 0 ? "[]" : "an array");
    } else if (cJSON_IsObject(item)) {
        snprintf(buf, bufsz, item->child ? "an object" : "{}");
    } else {
        snprintf(buf, bufsz, "an invalid value");
    }
    return buf;
}

/* "KEYPATH: expected WHAT, got GOT" */
rd_status rd_cfg_expected_at(rd_error *err, const char *kp, const cJSON *item, const char *what)
{
    char got[GOT_MAX];
    return RD_ERR(err, RD_ERR_CONFIG, "%s: expected %s, got %s", kp, what,
                  rd_cfg_got(item, got, sizeof got));
}

/* "PATH.KEY: expected WHAT, got GOT" */
rd_status rd_cfg_expected(rd_error *err, const char *path, const char *key, const cJSON *item,
                          const char *what)
{
    char kp[512];
    key_path(kp, sizeof kp, path, key);
    return rd_cfg_expected_at(err, kp, item, what);
}

static rd_status missing(rd_error *err, const char *path, const char *key)
{
    char kp[512];
    key_path(kp, sizeof kp, path, key);
    return RD_ERR(err, RD_ERR_CONFIG, "%s: required key is missing", kp);
}

/* Edit distance (optimal string alignment: insert, delete, substitute,
 * swap two neighbours) of a and b ignoring case, capped at 3; keys are
 * short. */
static int lc(char c)
{
    return tolower((unsigned char)c);
}

static size_t key_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    size_t d[33][33];
    if (la > 32 || lb > 32)
        return 3;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t best = d[i - 1][j - 1] + (lc(a[i - 1]) != lc(b[j - 1]));
            if (d[i - 1][j] + 1 < best)
                best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && lc(a[i - 1]) == lc(b[j - 2]) && lc(a[i - 2]) == lc(b[j - 1]) &&
                d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb] < 3 ? d[la][lb] : 3;
}

/* The allowed key a misspelled one most likely meant (one or two edits,
 * fewer than half its letters), or NULL. */
static const char *likely_key(const char *k, const char *const *allowed)
{
    const char *best = NULL;
    size_t bestd = 3;
    for (size_t i = 0; allowed && allowed[i]; i++) {
        size_t dist = key_distance(k, allowed[i]);
        if (dist < bestd && dist * 2 < strlen(allowed[i])) {
            best = allowed[i];
            bestd = dist;
        }
    }
    return best;
}

rd_status rd_cfg_check_keys(const cJSON *obj, const char *path, const char *const *allowed,
                            rd_error *err)
{
    if (!cJSON_IsObject(obj))
        return RD_OK;
    for (const cJSON *it = obj->child; it; it = it->next) {
        const char *k = it->string ? it->string : "";
        int known = 0;
        for (size_t i = 0; allowed && allowed[i]; i++)
            if (strcmp(allowed[i], k) == 0)
                known = 1;
        char kp[512];
        key_path(kp, sizeof kp, path, k);
        if (!known) {
            char list[RD_ERROR_MSG_MAX / 2];
            size_t len = 0;
            list[0] = '\0';
            for (size_t i = 0; allowed && allowed[i] && len < sizeof list; i++) {
                int n = snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", allowed[i]);
                if (n < 0)
                    break;
                len += (size_t)n;
            }
            const char *guess = likely_key(k, allowed);
            if (guess)
                return RD_ERR(err, RD_ERR_CONFIG,
                              "%s: unknown key, did you mean \"%s\"? (expected one of: %s)", kp,
                              guess, list);
            return RD_ERR(err, RD_ERR_CONFIG, "%s: unknown key (expected one of: %s)", kp, list);
        }
        for (const cJSON *prev = obj->child; prev != it; prev = prev->next)
            if (prev->string && strcmp(prev->string, k) == 0)
                return RD_ERR(err, RD_ERR_CONFIG, "%s: duplicate key", kp);
    }
    return RD_OK;
}

rd_status rd_cfg_string(const cJSON *obj, const char *path, const char *key, int required,
                        char **out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return required ? missing(err, path, key) : RD_OK;
    if (!cJSON_IsString(it) || !it->valuestring)
        return rd_cfg_expected(err, path, key, it, "a string");
    if (required && it->valuestring[0] == '\0')
        return rd_cfg_expected(err, path, key, it, "a non-empty string");
    char *s = rd_strdup(it->valuestring);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    *out = s;
    return RD_OK;
}

rd_status rd_cfg_bool(const cJSON *obj, const char *path, const char *key, int *out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    if (cJSON_IsBool(it)) {
        *out = cJSON_IsTrue(it) ? 1 : 0;
        return RD_OK;
    }
    /* "${FLAG:-false}" arrives as a string */
    if (cJSON_IsString(it) && strcmp(it->valuestring, "true") == 0) {
        *out = 1;
        return RD_OK;
    }
    if (cJSON_IsString(it) && strcmp(it->valuestring, "false") == 0) {
        *out = 0;
        return RD_OK;
    }
    return rd_cfg_expected(err, path, key, it, "true or false");
}

/* Full-string integer; 0 when s is not one. */
static int parse_ll(const char *s, long long *v)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return 0;
    errno = 0;
    char *end = NULL;
    long long x = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0')
        return 0;
    *v = x;
    return 1;
}

rd_status rd_cfg_int(const cJSON *obj, const char *path, const char *key, long long min,
                     long long max, long long *out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    long long v = 0;
    int ok = 0;
    if (cJSON_IsNumber(it)) {
        double d = it->valuedouble;
        if (isfinite(d) && d == floor(d) && d >= -9007199254740992.0 && d <= 9007199254740992.0) {
            v = (long long)d;
            ok = 1;
        }
    } else if (cJSON_IsString(it)) {
        ok = parse_ll(it->valuestring, &v);
    }
    if (!ok || v < min || v > max) {
        char what[128];
        snprintf(what, sizeof what, "an integer from %lld to %lld", min, max);
        return rd_cfg_expected(err, path, key, it, what);
    }
    *out = v;
    return RD_OK;
}

rd_status rd_cfg_duration(const cJSON *obj, const char *path, const char *key, double *out,
                          rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    double v = -1;
    int ok = 0;
    if (cJSON_IsNumber(it)) {
        v = it->valuedouble;
        ok = isfinite(v) && v >= 0;
    } else if (cJSON_IsString(it)) {
        rd_error e;
        ok = rd_duration_parse(it->valuestring, &v, &e) == RD_OK && v >= 0;
    }
    if (!ok)
        return rd_cfg_expected(err, path, key, it,
                               "a duration like \"90s\", \"15m\", \"2h\" or \"1d\"");
    *out = v;
    return RD_OK;
}

rd_status rd_cfg_strlist(const cJSON *obj, const char *path, const char *key, int allow_single,
                         rd_strlist *out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    rd_strlist l = {NULL, 0};
    rd_status st = RD_OK;
    if (allow_single && cJSON_IsString(it)) {
        st = rd_strlist_push(&l, it->valuestring, err);
        goto out;
    }
    if (!cJSON_IsArray(it)) {
        st = rd_cfg_expected(err, path, key, it,
                             allow_single ? "a string or an array of strings"
                                          : "an array of strings");
        goto out;
    }
    size_t i = 0;
    for (const cJSON *e = it->child; e; e = e->next, i++) {
        if (!cJSON_IsString(e)) {
            char kp[512];
            key_path(kp, sizeof kp, path, key);
            size_t kl = strlen(kp);
            snprintf(kp + kl, sizeof kp - kl, "[%zu]", i);
            st = rd_cfg_expected_at(err, kp, e, "a string");
            goto out;
        }
        st = rd_strlist_push(&l, e->valuestring, err);
        if (st != RD_OK)
            goto out;
    }
out:
    if (st == RD_OK) {
        rd_strlist_free(out);
        *out = l;
    } else {
        rd_strlist_free(&l);
    }
    return st;
}

rd_status rd_cfg_strmap(const cJSON *obj, const char *path, const char *key, rd_strlist *out,
                        rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    rd_strlist l = {NULL, 0};
    rd_status st = RD_OK;
    char kp[512];
    key_path(kp, sizeof kp, path, key);
    if (!cJSON_IsObject(it)) {
        st = rd_cfg_expected(err, path, key, it, "an object of strings");
        goto out;
    }
    for (const cJSON *e = it->child; e; e = e->next) {
        const char *name = e->string ? e->string : "";
        if (!*name || strchr(name, '=')) {
            st = RD_ERR(err, RD_ERR_CONFIG, "%s: \"%s\" is not a valid variable name", kp, name);
            goto out;
        }
        if (!cJSON_IsString(e)) {
            st = rd_cfg_expected(err, kp, name, e, "a string");
            goto out;
        }
        char *kv = rd_asprintf("%s=%s", name, e->valuestring);
        if (!kv) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        st = rd_strlist_push(&l, kv, err);
        free(kv);
        if (st != RD_OK)
            goto out;
    }
out:
    if (st == RD_OK) {
        rd_strlist_free(out);
        *out = l;
    } else {
        rd_strlist_free(&l);
    }
    return st;
}

rd_status rd_cfg_enum(const cJSON *obj, const char *path, const char *key,
                      const char *const *allowed, char **out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return RD_OK;
    if (cJSON_IsString(it))
        for (size_t i = 0; allowed[i]; i++)
            if (strcmp(allowed[i], it->valuestring) == 0)
                return rd_cfg_string(obj, path, key, 0, out, err);
    char what[RD_ERROR_MSG_MAX / 2];
    size_t len = 0;
    len += (size_t)snprintf(what, sizeof what, "one of ");
    for (size_t i = 0; allowed[i] && len < sizeof what; i++) {
        int n = snprintf(what + len, sizeof what - len, "%s\"%s\"", i ? ", " : "", allowed[i]);
        if (n < 0)
            break;
        len += (size_t)n;
    }
    return rd_cfg_expected(err, path, key, it, what);
}

rd_status rd_cfg_object(const cJSON *obj, const char *path, const char *key, int required,
                        const cJSON **out, rd_error *err)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!it)
        return required ? missing(err, path, key) : RD_OK;
    if (!cJSON_IsObject(it))
        return rd_cfg_expected(err, path, key, it, "an object");
    *out = it;
    return RD_OK;
}

void rd_strlist_free(rd_strlist *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

rd_status rd_strlist_push(rd_strlist *l, const char *s, rd_error *err)
{
    char *copy = rd_strdup(s ? s : "");
    char **items = copy ? realloc(l->items, (l->n + 1) * sizeof *items) : NULL;
    if (!items) {
        free(copy);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    items[l->n++] = copy;
    l->items = items;
    return RD_OK;
}

const char **rd_strlist_argv(const rd_strlist *l)
{
    size_t n = l ? l->n : 0;
    const char **v = malloc((n + 1) * sizeof *v);
    if (!v)
        return NULL;
    for (size_t i = 0; i < n; i++)
        v[i] = l->items[i];
    v[n] = NULL;
    return v;
}

/* Expand into sb; *refs counts ${...} references seen. */
static rd_status expand(const char *in, rd_strbuf *sb, int *refs, rd_error *err)
{
    rd_status st = RD_OK;
    const char *p = in;
    while (*p) {
        if (p[0] == '$' && p[1] == '$') {
            st = rd_strbuf_append_n(sb, p, 2, err);
            p += 2;
        } else if (p[0] == '$' && p[1] == '{') {
            const char *name = p + 2;
            const char *q = name;
            if (isalpha((unsigned char)*q) || *q == '_')
                while (isalnum((unsigned char)*q) || *q == '_')
                    q++;
            size_t nlen = (size_t)(q - name);
            const char *def = NULL;
            size_t dlen = 0;
            const char *close = NULL;
            if (nlen > 0 && *q == '}') {
                close = q;
            } else if (nlen > 0 && q[0] == ':' && q[1] == '-') {
                def = q + 2;
                close = strchr(def, '}');
                if (close)
                    dlen = (size_t)(close - def);
            }
            if (!close) {
                const char *end = strchr(p, '}');
                int shown = end ? (int)(end - p + 1) : (int)strlen(p);
                if (shown > 60)
                    shown = 60;
                return RD_ERR(err, RD_ERR_CONFIG,
                              "expected ${NAME} or ${NAME:-default}, got \"%.*s\"", shown, p);
            }
            char var[256];
            if (nlen >= sizeof var)
                return RD_ERR(err, RD_ERR_CONFIG, "environment variable name too long");
            memcpy(var, name, nlen);
            var[nlen] = '\0';
            const char *val = getenv(var);
            (*refs)++;
            if (def && (!val || !*val))
                st = rd_strbuf_append_n(sb, def, dlen, err);
            else if (!val)
                return RD_ERR(err, RD_ERR_CONFIG, "environment variable %s is not set", var);
            else
                st = rd_strbuf_append(sb, val, err);
            p = close + 1;
        } else {
            st = rd_strbuf_append_char(sb, *p, err);
            p++;
        }
        if (st != RD_OK)
            return st;
    }
    return RD_OK;
}

rd_status rd_config_expand_env(const char *in, char **out, rd_error *err)
{
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    int refs = 0;
    rd_status st = expand(in ? in : "", &sb, &refs, err);
    if (st == RD_OK) {
        char *s = rd_strbuf_detach(&sb);
        if (!s)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        else
            *out = s;
    }
    rd_strbuf_free(&sb);
    return st;
}

static rd_status expand_string(cJSON *item, const char *path, rd_error *err)
{
    if (!strchr(item->valuestring, '$'))
        return RD_OK;
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    int refs = 0;
    rd_status st = expand(item->valuestring, &sb, &refs, err);
    if (st != RD_OK) {
        rd_error_prefix(err, "%s: ", path);
        goto out;
    }
    if (refs > 0) {
        char *copy = cJSON_malloc(sb.len + 1);
        if (!copy) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        memcpy(copy, sb.data, sb.len + 1);
        cJSON_free(item->valuestring);
        item->valuestring = copy;
        item->type |= ENV_BIT;
    }
out:
    rd_strbuf_free(&sb);
    return st;
}

rd_status rd_cfg_expand_tree(cJSON *node, const char *path, rd_error *err)
{
    if (!node)
        return RD_OK;
    if (cJSON_IsString(node) && node->valuestring)
        return expand_string(node, path && *path ? path : "(top level)", err);
    if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
        return RD_OK;
    size_t i = 0;
    for (cJSON *c = node->child; c; c = c->next, i++) {
        char sub[768];
        if (cJSON_IsArray(node))
            snprintf(sub, sizeof sub, "%s[%zu]", path ? path : "", i);
        else
            key_path(sub, sizeof sub, path, c->string ? c->string : "");
        rd_status st = rd_cfg_expand_tree(c, sub, err);
        if (st != RD_OK)
            return st;
    }
    return RD_OK;
}

/* ---- text -> cJSON ----
 * Comments are stripped with cJSON_Minify; a scanner that follows the same
 * rules maps parse errors back to line and column and refuses two tokens
 * that only whitespace or a comment kept apart (minify would glue `[1 2]`
 * into `[12]`). */

static int word_char(char c)
{
    return isalnum((unsigned char)c) || c == '.' || c == '+' || c == '-';
}

/* Mirror of cJSON_Minify's rules. off[k] = offset in text of the k-th kept
 * byte. *glued = offset of a kept byte that minify would glue to the one
 * before it, or (size_t)-1. Returns the number of kept bytes. */
static size_t scan(const char *text, size_t *off, size_t *glued)
{
    size_t k = 0, i = 0;
    int gap = 0;
    char prev = '\0';
    *glued = (size_t)-1;
    while (text[i]) {
        char c = text[i];
        if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
            i++;
            gap = 1;
        } else if (c == '/' && text[i + 1] == '/') {
            while (text[i] && text[i] != '\n')
                i++;
            if (text[i])
                i++;
            gap = 1;
        } else if (c == '/' && text[i + 1] == '*') {
            i += 2;
            while (text[i] && !(text[i] == '*' && text[i + 1] == '/'))
                i++;
            if (text[i])
                i += 2;
            gap = 1;
        } else if (c == '/') {
            i++; /* minify drops a lone slash */
            gap = 1;
        } else if (c == '"') {
            off[k++] = i++;
            while (text[i] && text[i] != '"') {
                if (text[i] == '\\' && text[i + 1])
                    off[k++] = i++;
                off[k++] = i++;
            }
            if (text[i])
                off[k++] = i++;
            prev = '"';
            gap = 0;
        } else {
            if (gap && word_char(prev) && word_char(c) && *glued == (size_t)-1)
                *glued = i;
            off[k++] = i++;
            prev = c;
            gap = 0;
        }
    }
    return k;
}

static rd_status json_error(const char *text, size_t at, rd_error *err)
{
    size_t line = 1, col = 1;
    for (size_t i = 0; i < at && text[i]; i++) {
        if (text[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char near[32];
    size_t n = 0;
    for (size_t i = at; text[i] && text[i] != '\n' && text[i] != '\r' && n < 20; i++)
        near[n++] = (unsigned char)text[i] < 0x20 ? ' ' : text[i];
    near[n] = '\0';
    if (n == 0)
        return RD_ERR(err, RD_ERR_CONFIG, "line %zu, column %zu: invalid JSON (unexpected end)",
                      line, col);
    return RD_ERR(err, RD_ERR_CONFIG, "line %zu, column %zu: invalid JSON near \"%s\"", line, col,
                  near);
}

rd_status rd_cfg_parse_text(const char *text, cJSON **root, rd_error *err)
{
    rd_status st = RD_OK;
    size_t len = strlen(text);
    char *min = malloc(len + 1);
    size_t *off = malloc((len + 1) * sizeof *off);
    if (!min || !off) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    size_t glued;
    size_t kept = scan(text, off, &glued);
    off[kept] = len;
    if (glued != (size_t)-1) {
        st = json_error(text, glued, err);
        goto out;
    }
    memcpy(min, text, len + 1);
    cJSON_Minify(min);
    if (kept == 0) {
        st = RD_ERR(err, RD_ERR_CONFIG, "empty file, expected a JSON object");
        goto out;
    }
    const char *end = NULL;
    cJSON *doc = cJSON_ParseWithOpts(min, &end, 1);
    if (!doc) {
        size_t at = end && end >= min ? (size_t)(end - min) : 0;
        /* the scanner and minify agree unless cJSON changes its rules */
        st = json_error(text, at <= kept && strlen(min) == kept ? off[at] : len, err);
        goto out;
    }
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        st = RD_ERR(err, RD_ERR_CONFIG, "expected a JSON object at the top level");
        goto out;
    }
    *root = doc;
out:
    free(min);
    free(off);
    return st;
}

/* ---- small helpers ---- */
