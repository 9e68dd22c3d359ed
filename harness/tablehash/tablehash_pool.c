/* tablehash_pool.c: the worker pool of the chunked checksums: digest
 * queries queued (at most QUEUE_PER_WORKER per worker) to threads that each
 * hold their own connection per side, sharing the main connection's
 * snapshot; a progress line. Without a DSN for a side everything runs
 * serially on its main connection. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "restoredrill/log.h"
#include "restoredrill/tablehash.h"

#define DEFAULT_TIMEOUT 3600.0
#define QUEUE_PER_WORKER 4 /* queued digests per worker before the producer waits */

static rd_status nomem(rd_error *err)
{
    return RD_ERR(err, RD_ERR_NOMEM, "out of memory computing checksums");
}

/* ---------- running one digest query ---------- */

/* The ordered digest's second statement (rd_th_sql_ordered_tail):
 * "crc32:crc32c" from the first's CRC32 and this CRC32C, "" for an empty
 * chunk, "!" when the concatenation may have been cut. */
static rd_status ordered_tail(rd_db *db, double timeout, const char *crc32, char **digest,
                              rd_error *err)
{
    char *d = NULL;
    if (!crc32) { /* no rows: GROUP_CONCAT is NULL */
        d = rd_strdup("");
        if (!d)
            return nomem(err);
        free(*digest);
        *digest = d;
        return RD_OK;
    }
    char *sql = rd_th_sql_ordered_tail(crc32);
    if (!sql)
        return RD_ERR(err, RD_ERR_FORMAT, "ordered digest: bad CRC32 \"%.20s\"", crc32);
    rd_db_result *r = NULL;
    rd_status st = rd_db_query(db, sql, timeout, 2, &r, err);
    free(sql);
    if (st != RD_OK)
        return st;
    const char *crc32c = r->nrows == 1 && r->ncols == 3 ? rd_db_cell(r, 0, 0) : NULL;
    const char *whole = crc32c ? rd_db_cell(r, 0, 1) : NULL;
    const char *same = crc32c ? rd_db_cell(r, 0, 2) : NULL;
    if (!crc32c || !whole || !same || strcmp(same, "1") != 0)
        st = RD_ERR(err, RD_ERR_INTERNAL,
                    "ordered digest: the session lost the rows it hashed (a connection pooler?)");
    else if (!(d = strcmp(whole, "1") == 0 ? rd_asprintf("%s:%s", crc32, crc32c) : rd_strdup("!")))
        st = nomem(err);
    if (st == RD_OK) {
        free(*digest);
        *digest = d;
    }
    rd_db_result_free(r);
    return st;
}

rd_status rd_th_run_digest(rd_db *db, const char *sql, int ordered, double timeout, int64_t *rows,
                           char **digest, rd_error *err)
{
    rd_db_result *r = NULL;
    rd_status st = rd_db_query(db, sql, timeout > 0 ? timeout : DEFAULT_TIMEOUT, 2, &r, err);
    if (st != RD_OK)
        return st;
    if (r->nrows != 1 || r->ncols < 2) {
        st = RD_ERR(err, RD_ERR_INTERNAL, "digest query returned %zu rows", r->nrows);
        goto out;
    }
    char *end = NULL;
    const char *cnt = rd_db_cell(r, 0, 0);
    long long n = cnt ? strtoll(cnt, &end, 10) : -1;
    if (!cnt || *end || n < 0) {
        st = RD_ERR(err, RD_ERR_FORMAT, "digest query returned a bad row count");
        goto out;
    }
    if (ordered) {
        st = ordered_tail(db, timeout > 0 ? timeout : DEFAULT_TIMEOUT, rd_db_cell(r, 0, 1), digest,
                          err);
        if (st == RD_OK)
            *rows = n;
        goto out;
    }
    rd_strbuf sb;
    rd_strbuf_init(&sb, 0);
    for (size_t i = 1; st == RD_OK && i < r->ncols; i++) {
        const char *v = rd_db_cell(r, 0, i);
        st = rd_strbuf_appendf(&sb, err, "%s%s", i > 1 ? ":" : "", v ? v : "0");
    }
    if (st == RD_OK) {
        char *d = rd_strbuf_detach(&sb);
        if (!d) {
            st = nomem(err);
        } else {
            *rows = n;
            free(*digest);
            *digest = d;
        }
    }
    rd_strbuf_free(&sb);
out:
    rd_db_result_free(r);
    return st;
}

/* ---------- the worker pool ---------- */

typedef struct task {
    int side;
    int ordered; /* sql is an ordered digest's first statement */
    char *sql;
    rd_th_chunk *chunk; /* stable pointer; results go to chunk->rows/digest[side] */
} task;

struct rd_th_pool {
    rd_th_side *sides;
    int nsides;
    int nworkers; /* 0: serial on the main connections */
    double timeout;
    int ordered; /* rd_th_opts.ordered */
    char *snapshot[2];
    pthread_t *threads;
    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_done, cv_space;
    task *q;
    size_t qhead, qlen, qcap;
    size_t running;
    int closing;
    rd_status st;
    rd_error err;
    size_t submitted, finished; /* digests, for the progress line */
    int64_t rows_done;
    int shown;
};

/* The progress line: digests done of those queued so far, and rows. */
static void pool_progress(size_t finished, size_t submitted, int64_t rows)
{
    rd_progress("checksums: %zu of %zu chunk digests, %lld rows", finished, submitted,
                (long long)rows);
}

static void pool_fail(rd_th_pool *p, rd_status st, const rd_error *e)
{
    if (p->st == RD_OK) {
        p->st = st;
        p->err = *e;
    }
}

static rd_status worker_connect(rd_th_pool *p, int side, rd_db **out, rd_error *err)
{
    const rd_th_side *s = &p->sides[side];
    rd_db *db = NULL;
    rd_status st = rd_db_connect(rd_db_engine(s->db), s->dsn, s->opts, &db, err);
    if (st == RD_OK)
        st = rd_db_pin_session(db, err);
    if (st == RD_OK && s->snapshot) {
        if (p->snapshot[side]) {
            char sql[160];
            st = rd_db_exec(db, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, err);
            if (st == RD_OK &&
                strspn(p->snapshot[side], "0123456789ABCDEFabcdef-") != strlen(p->snapshot[side]))
                st = RD_ERR(err, RD_ERR_INTERNAL, "unexpected snapshot id");
            snprintf(sql, sizeof sql, "SET TRANSACTION SNAPSHOT '%s'", p->snapshot[side]);
            if (st == RD_OK)
                st = rd_db_exec(db, sql, 0, NULL, err);
        } else {
            st = rd_db_begin_readonly(db, err);
        }
    }
    if (st != RD_OK) {
        rd_error_prefix(err, "worker connection to %s: ", rd_db_display(s->db));
        rd_db_free(db);
        return st;
    }
    *out = db;
    return RD_OK;
}

static void *worker_main(void *arg)
{
    rd_th_pool *p = arg;
    rd_db *conns[2] = {NULL, NULL};
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->qlen == 0 && !p->closing)
            pthread_cond_wait(&p->cv_work, &p->mu);
        if (p->qlen == 0 && p->closing)
            break;
        task t = p->q[p->qhead];
        p->qhead = (p->qhead + 1) % p->qcap;
        p->qlen--;
        pthread_cond_signal(&p->cv_space);
        p->running++;
        int skip = p->st != RD_OK;
        pthread_mutex_unlock(&p->mu);
        rd_error err;
        rd_error_clear(&err);
        rd_status st = RD_OK;
        int64_t rows = -1;
        char *digest = NULL;
        if (!skip && !conns[t.side])
            st = worker_connect(p, t.side, &conns[t.side], &err);
        if (!skip && st == RD_OK)
            st =
                rd_th_run_digest(conns[t.side], t.sql, t.ordered, p->timeout, &rows, &digest, &err);
        free(t.sql);
        pthread_mutex_lock(&p->mu);
        if (!skip && st == RD_OK) {
            t.chunk->rows[t.side] = rows;
            t.chunk->digest[t.side] = digest;
            p->rows_done += rows;
        } else {
            free(digest);
            if (!skip)
                pool_fail(p, st, &err);
        }
        p->finished++;
        p->shown = 1;
        size_t fin = p->finished, sub = p->submitted;
        int64_t rd = p->rows_done;
        p->running--;
        if (p->qlen == 0 && p->running == 0)
            pthread_cond_broadcast(&p->cv_done);
        pthread_mutex_unlock(&p->mu);
        pool_progress(fin, sub, rd); /* throttled by rd_progress */
        pthread_mutex_lock(&p->mu);
    }
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < 2; i++) {
        if (conns[i] && p->sides[i].snapshot)
            rd_db_commit(conns[i], NULL);
        rd_db_free(conns[i]);
    }
    return NULL;
}

int rd_th_default_parallel(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 64 ? 64 : (int)n;
}

rd_status rd_th_pool_new(rd_th_side *sides, int nsides, const rd_th_opts *o, rd_th_pool **out,
                         rd_error *err)
{
    rd_th_pool *p = calloc(1, sizeof *p);
    rd_status st = RD_OK;
    if (!p)
        return nomem(err);
    p->sides = sides;
    p->nsides = nsides;
    p->timeout = o && o->timeout > 0 ? o->timeout : DEFAULT_TIMEOUT;
    p->ordered = o && o->ordered && nsides == 2;
    int par = o && o->parallel > 0 ? o->parallel : rd_th_default_parallel();
    int have_dsn = 1;
    for (int i = 0; i < nsides; i++)
        have_dsn = have_dsn && sides[i].dsn;
    p->nworkers = have_dsn ? par : 0;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    pthread_cond_init(&p->cv_space, NULL);
    for (int i = 0; p->nworkers && i < nsides; i++) {
        if (!sides[i].snapshot || rd_db_engine(sides[i].db) != RD_ENGINE_PG)
            continue;
        int found = 0;
        st = rd_db_scalar(sides[i].db, "SELECT pg_export_snapshot()", 60, &p->snapshot[i], &found,
                          err);
        if (st != RD_OK) {
            rd_error_prefix(err, "exporting the snapshot: ");
            goto out;
        }
    }
    if (p->nworkers) {
        p->threads = calloc((size_t)p->nworkers, sizeof *p->threads);
        if (!p->threads) {
            st = nomem(err);
            goto out;
        }
        for (int i = 0; i < p->nworkers; i++) {
            if (pthread_create(&p->threads[i], NULL, worker_main, p) != 0) {
                p->nworkers = i;
                st = RD_ERR(err, RD_ERR_INTERNAL, "cannot start a checksum worker thread");
                goto out;
            }
        }
    }
out:
    if (st != RD_OK) {
        rd_th_pool_free(p);
        return st;
    }
    *out = p;
    return RD_OK;
}

/* Takes sql (heap) in every case. */
rd_status rd_th_pool_submit(rd_th_pool *p, int side, char *sql, int ordered, rd_th_chunk *chunk,
                            rd_error *err)
{
    rd_status st = RD_OK;
    if (p->nworkers == 0) {
        rd_error e;
        rd_error_clear(&e);
        if (p->st == RD_OK) {
            st = rd_th_run_digest(p->sides[side].db, sql, ordered, p->timeout, &chunk->rows[side],
                                  &chunk->digest[side], &e);
            if (st != RD_OK)
                pool_fail(p, st, &e);
            p->submitted++;
            p->finished++;
            p->rows_done += st == RD_OK ? chunk->rows[side] : 0;
            p->shown = 1;
            pool_progress(p->finished, p->submitted, p->rows_done);
        }
        free(sql);
        if (p->st != RD_OK && err)
            *err = p->err;
        return p->st;
    }
    pthread_mutex_lock(&p->mu);
    /* a bounded queue: value ranges are cut faster than they are digested,
     * and queued SQL must not grow with the table */
    while (p->qlen >= QUEUE_PER_WORKER * (size_t)p->nworkers && p->st == RD_OK)
        pthread_cond_wait(&p->cv_space, &p->mu);
    if (p->st != RD_OK) {
        st = p->st;
        if (err)
            *err = p->err;
        free(sql);
        goto out;
    }
    if (p->qlen == p->qcap) {
        size_t ncap = p->qcap ? p->qcap * 2 : 64;
        task *nq = malloc(ncap * sizeof *nq);
        if (!nq) {
            free(sql);
            st = nomem(err);
            goto out;
        }
        for (size_t i = 0; i < p->qlen; i++)
            nq[i] = p->q[(p->qhead + i) % p->qcap];
        free(p->q);
        p->q = nq;
        p->qcap = ncap;
        p->qhead = 0;
    }
    p->q[(p->qhead + p->qlen) % p->qcap] = (task){side, ordered, sql, chunk};
    p->qlen++;
    p->submitted++;
    pthread_cond_signal(&p->cv_work);
out:
    pthread_mutex_unlock(&p->mu);
    return st;
}

rd_status rd_th_pool_wait(rd_th_pool *p, rd_error *err)
{
    pthread_mutex_lock(&p->mu);
    while (p->nworkers && (p->qlen > 0 || p->running > 0))
        pthread_cond_wait(&p->cv_done, &p->mu);
    rd_status st = p->st;
    if (st != RD_OK && err)
        *err = p->err;
    pthread_mutex_unlock(&p->mu);
    return st;
}

void rd_th_pool_free(rd_th_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->closing = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nworkers; i++)
        pthread_join(p->threads[i], NULL);
    if (p->shown)
        rd_progress_done();
    for (size_t i = 0; i < p->qlen; i++)
        free(p->q[(p->qhead + i) % p->qcap].sql);
    free(p->q);
    free(p->threads);
    free(p->snapshot[0]);
    free(p->snapshot[1]);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    pthread_cond_destroy(&p->cv_space);
    free(p);
}

int rd_th_pool_ordered(const rd_th_pool *p, const rd_th_table *t)
{
    return p->ordered && rd_th_ordered_ok(t);
}

rd_status rd_th_pool_digest(rd_th_pool *p, const rd_th_table *t, int side, rd_th_chunk *c,
                            const char *where, rd_error *err)
{
    rd_strbuf sql;
    rd_strbuf_init(&sql, 0);
    int ordered = rd_th_pool_ordered(p, t);
    rd_status st =
        ordered
            ? rd_th_sql_digest_ordered(p->sides[side].db, t, side, c->lo, c->hi, where, &sql, err)
            : rd_th_sql_digest(p->sides[side].db, t, side, c->lo, c->hi, where, &sql, err);
    if (st != RD_OK) {
        rd_strbuf_free(&sql);
        return st;
    }
    char *s = rd_strbuf_detach(&sql);
    if (!s)
        return nomem(err);
    c->rows[side] = -1;
    return rd_th_pool_submit(p, side, s, ordered, c, err);
}

void rd_th_pool_lock(rd_th_pool *p)
{
    pthread_mutex_lock(&p->mu);
}

void rd_th_pool_unlock(rd_th_pool *p)
{
    pthread_mutex_unlock(&p->mu);
}

rd_db *rd_th_pool_db(rd_th_pool *p, int side)
{
    return p->sides[side].db;
}
