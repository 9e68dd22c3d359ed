/* schema.c: the restored schema equals the reference.
 *
 *   { "type": "schema",
 *     "tables": ["public.*"],        optional: limit table-level kinds to these (globs)
 *     "allow_extra": false,          optional: objects only in the restore pass
 *     "require_same_major": false }  optional: fail "environment" when majors differ
 *
 * The reference is the manifest, else the live reference database (captured
 * the same way as the restore, without row counts). One result per object
 * kind: tables, columns (type as the engine prints it, nullability),
 * indexes (definition), constraints (kind + definition, and the primary key),
 * sequences (restored value must not be behind the reference's), views,
 * routines, triggers. The message lists what is missing / extra / changed
 * (five of each at most); the output carries the full list. Objects are
 * matched by name: on MariaDB without the database name, since the restore
 * lands in a database of another name. A last result "environment" notes
 * the server versions and extensions (passed unless require_same_major and
 * the majors differ). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_util.h"
#include "restoredrill/check.h"
#include "restoredrill/clock.h"

typedef struct schema_state {
    rd_strlist tables;
    int allow_extra;
    int require_same_major;
} schema_state;

static void schema_free(void *p)
{
    schema_state *s = p;
    if (!s)
        return;
    rd_strlist_free(&s->tables);
    free(s);
}

static rd_status schema_configure(const cJSON *params, const char *path, rd_engine engine,
                                  void **state, rd_error *err)
{
    static const char *const keys[] = {RD_CHECK_COMMON_KEYS, "tables", "allow_extra",
                                       "require_same_major", NULL};
    rd_status st;
    if (engine == RD_ENGINE_DYNAMODB) /* the table against reference.description */
        return rd_check_dyn_configure(params, path, state, err);
    schema_state *s = calloc(1, sizeof *s);
    if (!s)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if ((st = rd_cfg_check_keys(params, path, keys, err)) != RD_OK ||
        (st = rd_cfg_strlist(params, path, "tables", 1, &s->tables, err)) != RD_OK ||
        (st = rd_cfg_bool(params, path, "allow_extra", &s->allow_extra, err)) != RD_OK ||
        (st = rd_cfg_bool(params, path, "require_same_major", &s->require_same_major, err)) !=
            RD_OK) {
        schema_free(s);
        return st;
    }
    *state = s;
    return RD_OK;
}

/* Findings of one kind. */
typedef struct finding {
    rd_cku_list missing, extra, changed;
    size_t nref, nrestore;
} finding;

static void finding_init(finding *f)
{
    rd_cku_list_init(&f->missing, 5);
    rd_cku_list_init(&f->extra, 5);
    rd_cku_list_init(&f->changed, 5);
    f->nref = f->nrestore = 0;
}

static void finding_free(finding *f)
{
    rd_cku_list_free(&f->missing);
    rd_cku_list_free(&f->extra);
    rd_cku_list_free(&f->changed);
}

typedef struct cmp {
    rd_check_ctx *ctx;
    const schema_state *s;
    const rd_manifest *ref, *rst;
    rd_engine engine;
    rd_error *err;
} cmp;

static void record_kind(cmp *c, const char *kind, finding *f, double secs)
{
    rd_strbuf msg, out;
    rd_strbuf_init(&msg, 8192);
    rd_strbuf_init(&out, 0);
    int fail = f->missing.n || f->changed.n || (f->extra.n && !c->s->allow_extra);
    struct {
        const char *label;
        rd_cku_list *l;
    } parts[] = {{"missing", &f->missing}, {"extra", &f->extra}, {"changed", &f->changed}};
    for (size_t i = 0; i < 3; i++) {
        if (!parts[i].l->n)
            continue;
        rd_strbuf_appendf(&msg, NULL, "%s%s %s: %s", msg.len ? "; " : "", parts[i].label, kind,
                          rd_cku_list_text(parts[i].l));
        rd_strbuf_appendf(&out, NULL, "%s:\n%s", parts[i].label, parts[i].l->full.data);
    }
    if (!msg.len)
        rd_strbuf_appendf(&msg, NULL, "%zu %s match the %s", f->nref, kind,
                          c->ctx->manifest ? "manifest" : "reference");
    rd_check_result *r =
        rd_check_record(c->ctx, kind, fail ? RD_FAILED : RD_PASSED, secs, "%s", msg.data);
    if (r) {
        rd_check_set_expected(r, "%zu %s", f->nref, kind);
        rd_check_set_actual(r, "%zu %s", f->nrestore, kind);
        rd_check_add_prop(r, "missing", "%zu", f->missing.n);
        rd_check_add_prop(r, "extra", "%zu", f->extra.n);
        rd_check_add_prop(r, "changed", "%zu", f->changed.n);
        if (out.len)
            rd_check_set_output(r, out.data);
    }
    rd_strbuf_free(&msg);
    rd_strbuf_free(&out);
}

static int selected(const cmp *c, const rd_manifest_table *t)
{
    return rd_cku_table_selected(&c->s->tables, t->schema, t->name);
}

/* The table of `other` that matches t (by schema+name, by name on MariaDB). */
static const rd_manifest_table *peer(const cmp *c, const rd_manifest *other,
                                     const rd_manifest_table *t)
{
    return rd_manifest_find_table(other, c->engine == RD_ENGINE_MARIADB ? NULL : t->schema,
                                  t->name);
}

static char *tkey(const cmp *c, const rd_manifest_table *t)
{
    return rd_cku_table_key(c->engine, t->schema, t->name);
}

/* The selected tables of from (counted in *n) that other lacks, into out. */
static rd_status unmatched_tables(cmp *c, const rd_manifest *from, const rd_manifest *other,
                                  size_t *n, rd_cku_list *out)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < from->ntables && st == RD_OK; i++) {
        const rd_manifest_table *t = &from->tables[i];
        if (!selected(c, t))
            continue;
        (*n)++;
        if (!peer(c, other, t)) {
            char *k = tkey(c, t);
            st = rd_cku_list_add(out, c->err, "%s", k ? k : t->name);
            free(k);
        }
    }
    return st;
}

static rd_status cmp_tables(cmp *c, finding *f)
{
    rd_status st = unmatched_tables(c, c->ref, c->rst, &f->nref, &f->missing);
    if (st == RD_OK)
        st = unmatched_tables(c, c->rst, c->ref, &f->nrestore, &f->extra);
    return st;
}

static const rd_manifest_column *find_col(const rd_manifest_table *t, const char *name)
{
    for (size_t i = 0; i < t->ncolumns; i++)
        if (strcmp(t->columns[i].name, name) == 0)
            return &t->columns[i];
    return NULL;
}

static rd_status cmp_columns(cmp *c, finding *f)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < c->ref->ntables && st == RD_OK; i++) {
        const rd_manifest_table *a = &c->ref->tables[i];
        const rd_manifest_table *b = peer(c, c->rst, a);
        if (!selected(c, a))
            continue;
        f->nref += a->ncolumns;
        char *k = tkey(c, a);
        const char *tk = k ? k : a->name;
        for (size_t j = 0; j < a->ncolumns && st == RD_OK; j++) {
            const rd_manifest_column *x = &a->columns[j], *y = b ? find_col(b, x->name) : NULL;
            if (!y)
                st = rd_cku_list_add(&f->missing, c->err, "%s.%s", tk, x->name);
            else if (strcmp(x->type, y->type) != 0)
                st = rd_cku_list_add(&f->changed, c->err, "%s.%s: %s -> %s", tk, x->name, x->type,
                                     y->type);
            else if (x->nullable != y->nullable)
                st = rd_cku_list_add(&f->changed, c->err, "%s.%s: %s -> %s", tk, x->name,
                                     x->nullable ? "NULL" : "NOT NULL",
                                     y->nullable ? "NULL" : "NOT NULL");
        }
        for (size_t j = 0; b && j < b->ncolumns && st == RD_OK; j++)
            if (!find_col(a, b->columns[j].name))
                st = rd_cku_list_add(&f->extra, c->err, "%s.%s", tk, b->columns[j].name);
        free(k);
    }
    for (size_t i = 0; i < c->rst->ntables; i++)
        if (selected(c, &c->rst->tables[i]))
            f->nrestore += c->rst->tables[i].ncolumns;
    return st;
}

static const rd_manifest_named *find_named(const rd_manifest_named *v, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].name, name) == 0)
            return &v[i];
    return NULL;
}

static int str_eq(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* indexes (constraints = 0) or constraints (1) of tables in both. */
static rd_status cmp_named(cmp *c, finding *f, int constraints)
{
    rd_status st = RD_OK;
    for (size_t i = 0; i < c->ref->ntables && st == RD_OK; i++) {
        const rd_manifest_table *a = &c->ref->tables[i];
        const rd_manifest_table *b = peer(c, c->rst, a);
        if (!selected(c, a))
            continue;
        const rd_manifest_named *av = constraints ? a->constraints : a->indexes;
        size_t an = constraints ? a->nconstraints : a->nindexes;
        f->nref += an;
        const rd_manifest_named *bv = !b ? NULL : constraints ? b->constraints : b->indexes;
        size_t bn = !b ? 0 : constraints ? b->nconstraints : b->nindexes;
        char *k = tkey(c, a);
        const char *tk = k ? k : a->name;
        for (size_t j = 0; j < an && st == RD_OK; j++) {
            const rd_manifest_named *y = find_named(bv, bn, av[j].name);
            if (!y)
                st = rd_cku_list_add(&f->missing, c->err, "%s.%s", tk, av[j].name);
            else if (!str_eq(av[j].definition, y->definition) || !str_eq(av[j].kind, y->kind))
                st = rd_cku_list_add(&f->changed, c->err, "%s.%s: %s -> %s", tk, av[j].name,
                                     av[j].definition ? av[j].definition : "?",
                                     y->definition ? y->definition : "?");
        }
        for (size_t j = 0; j < bn && st == RD_OK; j++)
            if (!find_named(av, an, bv[j].name))
                st = rd_cku_list_add(&f->extra, c->err, "%s.%s", tk, bv[j].name);
        if (constraints && b && st == RD_OK) {
            int same = a->npk == b->npk;
            for (size_t j = 0; same && j < a->npk; j++)
                same = strcmp(a->primary_key[j], b->primary_key[j]) == 0;
            if (!same)
                st = rd_cku_list_add(&f->changed, c->err,
                                     "%s: primary key (%zu columns) -> (%zu columns)", tk, a->npk,
                                     b->npk);
        }
        free(k);
    }
    for (size_t i = 0; i < c->rst->ntables; i++)
        if (selected(c, &c->rst->tables[i]))
            f->nrestore +=
                constraints ? c->rst->tables[i].nconstraints : c->rst->tables[i].nindexes;
    return st;
}

static const rd_manifest_sequence *find_seq(const cmp *c, const rd_manifest *m,
                                            const rd_manifest_sequence *s)
{
    for (size_t i = 0; i < m->nsequences; i++) {
        const rd_manifest_sequence *x = &m->sequences[i];
        if (strcmp(x->name, s->name) == 0 &&
            (c->engine == RD_ENGINE_MARIADB || str_eq(x->schema, s->schema)))
            return x;
    }
    return NULL;
}

static rd_status cmp_sequences(cmp *c, finding *f)
{
    rd_status st = RD_OK;
    f->nref = c->ref->nsequences;
    f->nrestore = c->rst->nsequences;
    for (size_t i = 0; i < c->ref->nsequences && st == RD_OK; i++) {
        const rd_manifest_sequence *a = &c->ref->sequences[i], *b = find_seq(c, c->rst, a);
        char *k = rd_cku_table_key(c->engine, a->schema, a->name);
        const char *sk = k ? k : a->name;
        if (!b)
            st = rd_cku_list_add(&f->missing, c->err, "%s", sk);
        else if (b->value < a->value)
            st = rd_cku_list_add(&f->changed, c->err, "%s: %lld, behind %lld", sk,
                                 (long long)b->value, (long long)a->value);
        free(k);
    }
    for (size_t i = 0; i < c->rst->nsequences && st == RD_OK; i++) {
        const rd_manifest_sequence *b = &c->rst->sequences[i];
        if (!find_seq(c, c->ref, b)) {
            char *k = rd_cku_table_key(c->engine, b->schema, b->name);
            st = rd_cku_list_add(&f->extra, c->err, "%s", k ? k : b->name);
            free(k);
        }
    }
    return st;
}

static int in_list(const cmp *c, const rd_manifest *m, char **v, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(rd_cku_strip_db(c->engine, m->database, v[i]), key) == 0)
            return 1;
    return 0;
}

static rd_status cmp_strs(cmp *c, finding *f, char **av, size_t an, char **bv, size_t bn)
{
    rd_status st = RD_OK;
    f->nref = an;
    f->nrestore = bn;
    for (size_t i = 0; i < an && st == RD_OK; i++) {
        const char *k = rd_cku_strip_db(c->engine, c->ref->database, av[i]);
        if (!in_list(c, c->rst, bv, bn, k))
            st = rd_cku_list_add(&f->missing, c->err, "%s", k);
    }
    for (size_t i = 0; i < bn && st == RD_OK; i++) {
        const char *k = rd_cku_strip_db(c->engine, c->rst->database, bv[i]);
        if (!in_list(c, c->ref, av, an, k))
            st = rd_cku_list_add(&f->extra, c->err, "%s", k);
    }
    return st;
}

static void environment(cmp *c)
{
    rd_strbuf ext;
    rd_strbuf_init(&ext, 4096);
    int ra = rd_manifest_major(c->engine, c->ref->server_version);
    int rb = rd_manifest_major(c->engine, c->rst->server_version);
    for (size_t i = 0; i < c->ref->nextensions; i++) {
        const rd_manifest_named *e = &c->ref->extensions[i];
        const rd_manifest_named *o = find_named(c->rst->extensions, c->rst->nextensions, e->name);
        if (!o)
            rd_strbuf_appendf(&ext, NULL, "%s%s missing", ext.len ? ", " : "", e->name);
        else if (!str_eq(e->definition, o->definition))
            rd_strbuf_appendf(&ext, NULL, "%s%s %s -> %s", ext.len ? ", " : "", e->name,
                              e->definition ? e->definition : "?",
                              o->definition ? o->definition : "?");
    }
    for (size_t i = 0; i < c->rst->nextensions; i++)
        if (!find_named(c->ref->extensions, c->ref->nextensions, c->rst->extensions[i].name))
            rd_strbuf_appendf(&ext, NULL, "%s%s extra", ext.len ? ", " : "",
                              c->rst->extensions[i].name);
    const char *va = c->ref->server_version ? c->ref->server_version : "unknown";
    const char *vb = c->rst->server_version ? c->rst->server_version : "unknown";
    int fail = c->s->require_same_major && (ra < 0 || ra != rb);
    rd_check_result *r = rd_check_record(c->ctx, "environment", fail ? RD_FAILED : RD_PASSED, 0,
                                         "server %s, restored on %s%s; extensions %s%s", va, vb,
                                         ra == rb ? "" : " (another major version)",
                                         ext.len ? "differ: " : "equal", ext.len ? ext.data : "");
    if (r) {
        rd_check_set_expected(r, "%s", va);
        rd_check_set_actual(r, "%s", vb);
        rd_check_add_prop(r, "reference_server_version", "%s", va);
        rd_check_add_prop(r, "restore_server_version", "%s", vb);
        rd_check_add_prop(r, "same_major", "%s", ra == rb && ra >= 0 ? "true" : "false");
        for (size_t i = 0; i < c->ref->nextensions; i++)
            rd_check_add_prop(r, "reference_extension", "%s %s", c->ref->extensions[i].name,
                              c->ref->extensions[i].definition ? c->ref->extensions[i].definition
                                                               : "");
        for (size_t i = 0; i < c->rst->nextensions; i++)
            rd_check_add_prop(r, "restore_extension", "%s %s", c->rst->extensions[i].name,
                              c->rst->extensions[i].definition ? c->rst->extensions[i].definition
                                                               : "");
    }
    rd_strbuf_free(&ext);
}

static rd_status schema_run(rd_check_ctx *ctx, void *state, rd_error *err)
{
    schema_state none = {0};
    const schema_state *s = state ? state : &none;
    if (ctx->target && ctx->target->engine == RD_ENGINE_DYNAMODB)
        return rd_check_dyn_schema(ctx, err);
    const rd_manifest *ref = NULL;
    rd_manifest *owned = NULL, *rst = NULL;
    const char *basis = NULL;
    rd_status st = RD_OK;
    if (!ctx->scratch)
        return RD_ERR(err, RD_ERR_INTERNAL, "schema has no scratch connection");
    if (!ctx->manifest && !ctx->reference)
        return RD_ERR(err, RD_ERR_CONFIG, "schema needs a manifest or a reference");
    double t0 = rd_mono_now();
    if ((st = rd_cku_reference(ctx, 1, &ref, &owned, &basis, err)) != RD_OK)
        goto out;
    rd_manifest_opts opts = {0};
    opts.skip_rows = 1;
    if ((st = rd_manifest_capture(ctx->scratch, &opts, &rst, err)) != RD_OK) {
        rd_error_prefix(err, "reading the restored schema: ");
        goto out;
    }
    if (ref->engine != rd_db_engine(ctx->scratch)) {
        st = RD_ERR(err, RD_ERR_CONFIG, "the %s is for %s, the restore is %s", basis,
                    rd_engine_name(ref->engine), rd_engine_name(rd_db_engine(ctx->scratch)));
        goto out;
    }
    double secs = (rd_mono_now() - t0) / 9.0; /* the capture serves nine results */
    cmp c = {ctx, s, ref, rst, rd_db_engine(ctx->scratch), err};
    static const char *const kinds[] = {"tables",    "columns", "indexes",  "constraints",
                                        "sequences", "views",   "routines", "triggers"};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0] && st == RD_OK; k++) {
        finding f;
        finding_init(&f);
        switch (k) {
        case 0:
            st = cmp_tables(&c, &f);
            break;
        case 1:
            st = cmp_columns(&c, &f);
            break;
        case 2:
            st = cmp_named(&c, &f, 0);
            break;
        case 3:
            st = cmp_named(&c, &f, 1);
            break;
        case 4:
            st = cmp_sequences(&c, &f);
            break;
        case 5:
            st = cmp_strs(&c, &f, ref->views, ref->nviews, rst->views, rst->nviews);
            break;
        case 6:
            st = cmp_strs(&c, &f, ref->routines, ref->nroutines, rst->routines, rst->nroutines);
            break;
        default:
            st = cmp_strs(&c, &f, ref->triggers, ref->ntriggers, rst->triggers, rst->ntriggers);
            break;
        }
        if (st == RD_OK)
            record_kind(&c, kinds[k], &f, secs);
        finding_free(&f);
    }
    if (st == RD_OK)
        environment(&c);
out:
    rd_manifest_free(owned);
    rd_manifest_free(rst);
    return st;
}

const rd_check_type rd_check_schema = {
    .name = "schema",
    .engines = RD_ENGINE_PG | RD_ENGINE_MARIADB | RD_ENGINE_DYNAMODB,
    .skips = RD_ENGINE_S3,
    .configure = schema_configure,
    .run = schema_run,
    .free = schema_free,
};
