/* dynamo_item.c: DynamoDB JSON items in canonical form (attributes sorted,
 * numbers normalised as DynamoDB compares them, set members sorted) and the
 * order-independent digest of a set of items. */
#include <cjson/cJSON.h>
#include <ctype.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/dynamo.h"

rd_status rd_dyn_number_canon(const char *in, rd_strbuf *out, rd_error *err)
{
    const char *p = in;
    int neg = 0;
    long long exp = 0;
    char digits[64];
    size_t nd = 0, frac = 0;
    int seen = 0, overflow = 0;
    while (*p == ' ')
        p++;
    if (*p == '-' || *p == '+')
        neg = *p++ == '-';
    for (int in_frac = 0;; p++) {
        if (isdigit((unsigned char)*p)) {
            seen = 1;
            if (nd == 0 && *p == '0') {
                if (in_frac)
                    frac++;
                continue; /* leading zero */
            }
            if (nd < sizeof(digits) - 1)
                digits[nd++] = *p;
            else
                overflow = 1;
            if (in_frac)
                frac++;
        } else if (*p == '.' && !in_frac) {
            in_frac = 1;
        } else {
            break;
        }
    }
    if (seen && (*p == 'e' || *p == 'E')) {
        int eneg = 0;
        long long e = 0;
        p++;
        if (*p == '-' || *p == '+')
            eneg = *p++ == '-';
        if (!isdigit((unsigned char)*p))
            seen = 0;
        for (; isdigit((unsigned char)*p); p++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        exp = eneg ? -e : e;
    }
    if (!seen || *p != '\0' || overflow)
        return RD_ERR(err, RD_ERR_FORMAT, "invalid number \"%.40s\"", in);
    /* value = digits * 10^(exp - frac); drop trailing zeros into the exponent */
    exp -= (long long)frac;
    while (nd > 0 && digits[nd - 1] == '0') {
        nd--;
        exp++;
    }
    if (nd == 0)
        return rd_strbuf_append_char(out, '0', err);
    digits[nd] = '\0';
    return rd_strbuf_appendf(out, err, "%s%se%lld", neg ? "-" : "", digits, exp);
}

static rd_status append_quoted(rd_strbuf *out, const char *s, rd_error *err)
{
    rd_status st = rd_strbuf_append_char(out, '"', err);
    for (const char *p = s; st == RD_OK && *p; p++) {
        if (*p == '"' || *p == '\\')
            st = rd_strbuf_append_char(out, '\\', err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(out, *p, err);
    }
    return st == RD_OK ? rd_strbuf_append_char(out, '"', err) : st;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static rd_status value_canon(const char *name, const cJSON *v, rd_strbuf *out, rd_error *err);

/* The members of a set, each canonical, sorted, as T[m,m,...]. */
static rd_status set_canon(const char *name, const char *type, const cJSON *arr, rd_strbuf *out,
                           rd_error *err)
{
    int n = cJSON_GetArraySize(arr);
    char **m = calloc(n > 0 ? (size_t)n : 1, sizeof *m);
    rd_strbuf one;
    rd_status st = RD_OK;
    int i = 0;
    rd_strbuf_init(&one, 0);
    if (!m)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (const cJSON *e = arr->child; e && st == RD_OK; e = e->next, i++) {
        rd_strbuf_reset(&one);
        if (!cJSON_IsString(e))
            st = RD_ERR(err, RD_ERR_FORMAT, "attribute \"%s\": %s member is not a string", name,
                        type);
        else if (strcmp(type, "NS") == 0)
            st = rd_dyn_number_canon(e->valuestring, &one, err);
        else if (strcmp(type, "SS") == 0)
            st = append_quoted(&one, e->valuestring, err);
        else
            st = rd_strbuf_append(&one, e->valuestring, err);
        if (st == RD_OK && !(m[i] = rd_strdup(one.data ? one.data : "")))
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    if (st == RD_OK) {
        qsort(m, (size_t)n, sizeof *m, cmp_str);
        st = rd_strbuf_appendf(out, err, "%s[", type);
        for (i = 0; st == RD_OK && i < n; i++) {
            if (i)
                st = rd_strbuf_append_char(out, ',', err);
            if (st == RD_OK)
                st = rd_strbuf_append(out, m[i], err);
        }
        if (st == RD_OK)
            st = rd_strbuf_append_char(out, ']', err);
    }
    for (i = 0; i < n; i++)
        free(m[i]);
    free(m);
    rd_strbuf_free(&one);
    return st;
}

/* {"S": "x"} and friends: exactly one type descriptor. */
static rd_status value_canon(const char *name, const cJSON *v, rd_strbuf *out, rd_error *err)
{
    const cJSON *d = cJSON_IsObject(v) ? v->child : NULL;
    if (!d || d->next || !d->string)
        return RD_ERR(err, RD_ERR_FORMAT,
                      "attribute \"%s\": expected one type descriptor like {\"S\": ...}", name);
    const char *t = d->string;
    if (strcmp(t, "S") == 0 && cJSON_IsString(d)) {
        rd_status st = rd_strbuf_append_char(out, 'S', err);
        return st == RD_OK ? append_quoted(out, d->valuestring, err) : st;
    }
    if (strcmp(t, "N") == 0 && cJSON_IsString(d)) {
        rd_status st = rd_strbuf_append_char(out, 'N', err);
        return st == RD_OK ? rd_dyn_number_canon(d->valuestring, out, err) : st;
    }
    if (strcmp(t, "B") == 0 && cJSON_IsString(d))
        return rd_strbuf_appendf(out, err, "B%s", d->valuestring);
    if (strcmp(t, "BOOL") == 0 && cJSON_IsBool(d))
        return rd_strbuf_append(out, cJSON_IsTrue(d) ? "T" : "F", err);
    if (strcmp(t, "NULL") == 0 && cJSON_IsTrue(d))
        return rd_strbuf_append(out, "0", err);
    if ((strcmp(t, "SS") == 0 || strcmp(t, "NS") == 0 || strcmp(t, "BS") == 0) && cJSON_IsArray(d))
        return set_canon(name, t, d, out, err);
    if (strcmp(t, "M") == 0 && cJSON_IsObject(d)) {
        rd_status st = rd_strbuf_append_char(out, 'M', err);
        return st == RD_OK ? rd_dyn_item_canon(d, out, err) : st;
    }
    if (strcmp(t, "L") == 0 && cJSON_IsArray(d)) {
        rd_status st = rd_strbuf_append(out, "L[", err);
        for (const cJSON *e = d->child; e && st == RD_OK; e = e->next) {
            if (e != d->child)
                st = rd_strbuf_append_char(out, ',', err);
            if (st == RD_OK)
                st = value_canon(name, e, out, err);
        }
        return st == RD_OK ? rd_strbuf_append_char(out, ']', err) : st;
    }
    return RD_ERR(err, RD_ERR_FORMAT, "attribute \"%s\": unknown type descriptor \"%.16s\"", name,
                  t);
}

rd_status rd_dyn_item_canon(const cJSON *item, rd_strbuf *out, rd_error *err)
{
    const cJSON *small[16];
    const cJSON **attrs = small;
    size_t n = 0;
    rd_status st = RD_OK;
    if (!cJSON_IsObject(item))
        return RD_ERR(err, RD_ERR_FORMAT, "an item is not an object");
    for (const cJSON *a = item->child; a; a = a->next)
        n++;
    if (n > 16 && !(attrs = malloc(n * sizeof *attrs)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    n = 0;
    for (const cJSON *a = item->child; a; a = a->next)
        attrs[n++] = a;
    /* insertion sort by name: items have few attributes */
    for (size_t i = 1; i < n; i++) {
        const cJSON *x = attrs[i];
        size_t j = i;
        for (; j > 0 && strcmp(attrs[j - 1]->string, x->string) > 0; j--)
            attrs[j] = attrs[j - 1];
        attrs[j] = x;
    }
    st = rd_strbuf_append_char(out, '{', err);
    for (size_t i = 0; st == RD_OK && i < n; i++) {
        if (i)
            st = rd_strbuf_append_char(out, ',', err);
        if (st == RD_OK)
            st = append_quoted(out, attrs[i]->string, err);
        if (st == RD_OK)
            st = rd_strbuf_append_char(out, ':', err);
        if (st == RD_OK)
            st = value_canon(attrs[i]->string, attrs[i], out, err);
    }
    if (st == RD_OK)
        st = rd_strbuf_append_char(out, '}', err);
    if (attrs != small)
        free(attrs);
    return st;
}

void rd_dyn_digest_add(rd_dyn_digest *d, const char *canon, size_t n)
{
    unsigned char h[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)canon, n, h);
    for (int l = 0; l < 4; l++) {
        uint64_t v = 0;
        for (int b = 0; b < 8; b++)
            v = (v << 8) | h[l * 8 + b];
        d->lane[l] += v;
    }
    d->items++;
}

void rd_dyn_digest_merge(rd_dyn_digest *d, const rd_dyn_digest *o)
{
    for (int l = 0; l < 4; l++)
        d->lane[l] += o->lane[l];
    d->items += o->items;
}

void rd_dyn_digest_hex(const rd_dyn_digest *d, char out[65])
{
    for (int l = 0; l < 4; l++)
        snprintf(out + l * 16, 17, "%016llx", (unsigned long long)d->lane[l]);
}
