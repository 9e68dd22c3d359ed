/* expect.c: expectations of the sql check ("= v", ">= 100", "~ regex",
 * "rows = 3") and their evaluation against a value the database returned. */
#include "restoredrill/check.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/strbuf.h"

static const struct {
    const char *text;
    rd_expect_op op;
} ops[] = {
    /* two-character operators first */
    {"!=", RD_EXPECT_NE}, {">=", RD_EXPECT_GE}, {"<=", RD_EXPECT_LE},   {"=", RD_EXPECT_EQ},
    {">", RD_EXPECT_GT},  {"<", RD_EXPECT_LT},  {"~", RD_EXPECT_MATCH},
};

#define REGEX_MAX_BOUND 100 /* largest m or n in {m,n} */
#define REGEX_MAX_BOUNDED 2 /* {m,n} repetitions per expression */

/* glibc's regcomp copies a repeated part once per repetition, and again for
 * every enclosing repetition: "a++++..." or "((a{200}){200}){200}" take
 * gigabytes to compile (found by tests/fuzz/fuzz_expect.c). Refuse a
 * repetition operator right after another (undefined in POSIX EREs anyway),
 * a bound above REGEX_MAX_BOUND and more than REGEX_MAX_BOUNDED bounded
 * repetitions; NULL when the expression is fine, else why not. */
static const char *regex_too_costly(const char *re)
{
    int prev_rep = 0, bounded = 0;
    const char *bracket = NULL; /* the first character inside an open [...] */
    for (const char *p = re; *p; p++) {
        if (bracket) {
            /* a "]" first (after "[" or "[^") is a character; [:x:] [.x.] [=x=] hold one */
            if (*p == '[' && (p[1] == ':' || p[1] == '.' || p[1] == '=')) {
                const char *end = strstr(p + 2, (char[]){p[1], ']', '\0'});
                if (end)
                    p = end + 1;
            } else if (*p == ']' && p != bracket) {
                bracket = NULL;
            }
            continue;
        }
        if (*p == '\\' && p[1]) {
            p++;
            prev_rep = 0;
            continue;
        }
        if (*p == '[') {
            bracket = p[1] == '^' ? p + 2 : p + 1;
            prev_rep = 0;
            continue;
        }
        int rep = *p == '*' || *p == '+' || *p == '?' || *p == '{';
        if (rep && prev_rep)
            return "a repetition operator follows another (write one, or group with ( ))";
        if (*p == '{') {
            long v = 0;
            for (const char *q = p + 1; *q && *q != '}'; q++) {
                v = isdigit((unsigned char)*q) ? v * 10 + (*q - '0') : 0;
                if (v > REGEX_MAX_BOUND)
                    return "a repetition bound above 100";
            }
            if (++bounded > REGEX_MAX_BOUNDED)
                return "more than 2 {m,n} repetitions";
            const char *close = strchr(p, '}');
            if (close)
                p = close;
        }
        prev_rep = rep;
    }
    return NULL;
}

/* 1 when s holds nothing but white space. */
static int only_space(const char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    return *s == '\0';
}

/* A plain decimal number (no hex, inf or nan), surrounding blanks allowed. */
static int parse_number(const char *s, double *out)
{
    if (!s)
        return 0;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return 0;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p) && !strchr("+-.eE", *p) && !isspace((unsigned char)*p))
            return 0;
    errno = 0;
    char *end = NULL;
    double d = strtod(s, &end);
    if (end == s || errno == ERANGE || !isfinite(d))
        return 0;
    if (!only_space(end))
        return 0;
    *out = d;
    return 1;
}

/* An exact integer (for bigint values beyond 2^53). */
static int parse_integer(const char *s, long long *out)
{
    while (s && isspace((unsigned char)*s))
        s++;
    if (!s || !*s)
        return 0;
    errno = 0;
    char *end = NULL;
    long long v = strtoll(s, &end, 10);
    if (end == s || errno != 0)
        return 0;
    if (!only_space(end))
        return 0;
    *out = v;
    return 1;
}

static rd_status bad(const char *text, rd_error *err)
{
    return RD_ERR(err, RD_ERR_CONFIG,
                  "expected an operator and a value like \">= 100\", got \"%s\"", text);
}

rd_status rd_expect_parse(const char *text, rd_expect *out, rd_error *err)
{
    rd_expect e = {RD_EXPECT_EQ, NULL, 0, 0, NULL};
    rd_status st = RD_OK;
    if (!text)
        return bad("", err);
    const char *p = text;
    while (isspace((unsigned char)*p))
        p++;
    int rows = 0;
    if (strncmp(p, "rows", 4) == 0 && (isspace((unsigned char)p[4]) || p[4] == '=')) {
        rows = 1;
        p += 4;
        while (isspace((unsigned char)*p))
            p++;
    }
    size_t i = 0;
    for (; i < sizeof ops / sizeof ops[0]; i++)
        if (strncmp(p, ops[i].text, strlen(ops[i].text)) == 0)
            break;
    if (i == sizeof ops / sizeof ops[0])
        return bad(text, err);
    e.op = ops[i].op;
    p += strlen(ops[i].text);
    while (isspace((unsigned char)*p))
        p++;
    size_t n = strlen(p);
    while (n > 0 && isspace((unsigned char)p[n - 1]))
        n--;
    if (n == 0)
        return bad(text, err);
    e.value = rd_asprintf("%.*s", (int)n, p);
    if (!e.value) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        goto out;
    }
    e.numeric = parse_number(e.value, &e.num);
    if (rows) {
        long long count;
        if (e.op != RD_EXPECT_EQ || !parse_integer(e.value, &count) || count < 0) {
            st = RD_ERR(err, RD_ERR_CONFIG, "expected a row count like \"rows = 3\", got \"%s\"",
                        text);
            goto out;
        }
        e.op = RD_EXPECT_ROWS;
    }
    if (e.op == RD_EXPECT_MATCH) {
        const char *why_not = regex_too_costly(e.value);
        if (why_not) {
            st = RD_ERR(err, RD_ERR_CONFIG, "invalid regular expression \"%s\": %s", e.value,
                        why_not);
            goto out;
        }
        regex_t *re = calloc(1, sizeof *re);
        if (!re) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            goto out;
        }
        int rc = regcomp(re, e.value, REG_EXTENDED | REG_NOSUB);
        if (rc != 0) {
            char why[256];
            regerror(rc, re, why, sizeof why);
            free(re);
            st = RD_ERR(err, RD_ERR_CONFIG, "invalid regular expression \"%s\": %s", e.value, why);
            goto out;
        }
        e.regex = re;
    }
out:
    if (st != RD_OK) {
        rd_expect_free(&e);
        return st;
    }
    *out = e;
    return RD_OK;
}

/* <0, 0, >0 like strcmp; *ok = 0 when the two cannot be ordered. */
static int compare(const rd_expect *e, const char *actual, int *ok)
{
    long long ai, ei;
    double ad;
    *ok = 1;
    if (parse_integer(actual, &ai) && parse_integer(e->value, &ei))
        return (ai > ei) - (ai < ei);
    if (e->numeric && parse_number(actual, &ad))
        return (ad > e->num) - (ad < e->num);
    if (e->numeric) {
        *ok = 0; /* a number expected, text found */
        return 0;
    }
    return strcmp(actual, e->value);
}

int rd_expect_eval(const rd_expect *e, const char *actual)
{
    if (!e || !e->value)
        return 0;
    if (!actual)
        return e->op == RD_EXPECT_NE;
    int ok = 1, c;
    switch (e->op) {
    case RD_EXPECT_EQ:
        c = compare(e, actual, &ok);
        return ok ? c == 0 : strcmp(actual, e->value) == 0;
    case RD_EXPECT_NE:
        c = compare(e, actual, &ok);
        return ok ? c != 0 : strcmp(actual, e->value) != 0;
    case RD_EXPECT_GE:
        c = compare(e, actual, &ok);
        return ok && c >= 0;
    case RD_EXPECT_LE:
        c = compare(e, actual, &ok);
        return ok && c <= 0;
    case RD_EXPECT_GT:
        c = compare(e, actual, &ok);
        return ok && c > 0;
    case RD_EXPECT_LT:
        c = compare(e, actual, &ok);
        return ok && c < 0;
    case RD_EXPECT_MATCH:
        return e->regex && regexec((const regex_t *)e->regex, actual, 0, NULL, 0) == 0;
    case RD_EXPECT_ROWS: {
        long long a, want;
        return parse_integer(actual, &a) && parse_integer(e->value, &want) && a == want;
    }
    }
    return 0;
}

void rd_expect_free(rd_expect *e)
{
    if (!e)
        return;
    if (e->regex) {
        regfree((regex_t *)e->regex);
        free(e->regex);
    }
    free(e->value);
    e->value = NULL;
    e->regex = NULL;
}
