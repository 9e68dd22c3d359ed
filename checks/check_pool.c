/* check_pool.c: parallel work units for the checks (check.h): a pool of
 * worker threads, each owning a connection to the scratch database, that
 * run the units of every rd_check_units call in flight; each unit's results
 * go to a buffer of its own and are appended in unit order, so reports read
 * the same whatever ran where (DESIGN section 10). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "restoredrill/check.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"
#include "restoredrill/strbuf.h"

#define POOL_CONNECT_TIMEOUT 30.0

typedef struct batch {
    const rd_check_ctx *base; /* the caller's context, alive until done == n */
    rd_check_unit_fn fn;
    void *ud;
    size_t n, next, done;
    rd_target_result *bufs; /* one per unit */
    struct batch *prev, *nxt;
} batch;

struct rd_check_pool {
    rd_engine engine;
    char *dsn, *password;
    pthread_mutex_t mu;
    pthread_cond_t cv_work; /* a batch was queued, or stop */
    pthread_cond_t cv_done; /* a unit finished */
    batch *head;            /* batches with units left */
    int stop;
    pthread_t *threads;
    int nthreads;
    int tried;     /* workers done trying to connect */
    int connected; /* workers holding a connection */
};

/* Run unit i of b on db (the caller holds no lock). */
static void run_unit(batch *b, size_t i, rd_db *db)
{
    if (rd_abort_requested())
        return;
    rd_check_ctx u = *b->base;
    u.scratch = db;
    u.result = &b->bufs[i];
    b->fn(&u, i, b->ud);
}

/* The first queued batch with a unit left to start, its unit claimed in
 * *i; NULL when none (p->mu held). */
static batch *claim(rd_check_pool *p, size_t *i)
{
    for (batch *b = p->head; b; b = b->nxt) {
        if (b->next < b->n) {
            *i = b->next++;
            return b;
        }
    }
    return NULL;
}

static void *worker_main(void *arg)
{
    rd_check_pool *p = arg;
    rd_db *db = NULL;
    rd_error err;
    rd_error_clear(&err);
    rd_db_opts o = {.password = p->password,
                    .connect_timeout = POOL_CONNECT_TIMEOUT,
                    .app_name = "restoredrill"};
    int ok = rd_db_connect(p->engine, p->dsn, &o, &db, &err) == RD_OK &&
             rd_db_pin_session(db, &err) == RD_OK;
    if (!ok)
        rd_log_warn("verify worker: cannot connect to the scratch database: %s", err.msg);
    pthread_mutex_lock(&p->mu);
    p->tried++;
    p->connected += ok;
    pthread_cond_broadcast(&p->cv_done);
    if (!ok) {
        pthread_mutex_unlock(&p->mu);
        rd_db_free(db);
        return NULL;
    }
    for (;;) {
        size_t i = 0;
        batch *b = claim(p, &i);
        if (!b) {
            if (p->stop)
                break;
            pthread_cond_wait(&p->cv_work, &p->mu);
            continue;
        }
        pthread_mutex_unlock(&p->mu);
        run_unit(b, i, db);
        pthread_mutex_lock(&p->mu);
        b->done++;
        pthread_cond_broadcast(&p->cv_done);
    }
    pthread_mutex_unlock(&p->mu);
    rd_db_free(db);
    return NULL;
}

rd_status rd_check_pool_new(const rd_conninfo *conn, int workers, rd_check_pool **out,
                            rd_error *err)
{
    if (workers < 1) {
        *out = NULL;
        return RD_OK;
    }
    rd_check_pool *p = calloc(1, sizeof *p);
    if (!p)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    p->engine = conn->engine;
    p->dsn = rd_strdup(conn->dsn ? conn->dsn : "");
    p->password = conn->password ? rd_strdup(conn->password) : NULL;
    p->threads = calloc((size_t)workers, sizeof *p->threads);
    if (!p->dsn || (conn->password && !p->password) || !p->threads) {
        free(p->dsn);
        free(p->password);
        free(p->threads);
        free(p);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv_work, NULL);
    pthread_cond_init(&p->cv_done, NULL);
    for (int i = 0; i < workers; i++) {
        if (pthread_create(&p->threads[p->nthreads], NULL, worker_main, p) != 0) {
            rd_log_warn("verify: cannot start worker thread %d of %d", i + 1, workers);
            break;
        }
        p->nthreads++;
    }
    /* every worker connected (or failed to) before the first unit: the
     * units then spread over the connections from the start */
    pthread_mutex_lock(&p->mu);
    while (p->tried < p->nthreads)
        pthread_cond_wait(&p->cv_done, &p->mu);
    pthread_mutex_unlock(&p->mu);
    rd_log_debug("verify: %d of %d worker connections", p->connected, workers);
    *out = p;
    return RD_OK;
}

int rd_check_pool_connections(const rd_check_pool *p)
{
    return p ? p->connected : 0;
}

void rd_check_pool_free(rd_check_pool *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->mu);
    p->stop = 1;
    pthread_cond_broadcast(&p->cv_work);
    pthread_mutex_unlock(&p->mu);
    for (int i = 0; i < p->nthreads; i++)
        pthread_join(p->threads[i], NULL);
    pthread_cond_destroy(&p->cv_work);
    pthread_cond_destroy(&p->cv_done);
    pthread_mutex_destroy(&p->mu);
    free(p->threads);
    free(p->dsn);
    if (p->password) {
        memset(p->password, 0, strlen(p->password));
        free(p->password);
    }
    free(p);
}

rd_status rd_check_units(rd_check_ctx *ctx, size_t n, rd_check_unit_fn fn, void *ud, rd_error *err)
{
    rd_check_pool *p = ctx->pool;
    if (n == 0)
        return RD_OK;
    if (!p || p->connected == 0 || n == 1) {
        for (size_t i = 0; i < n && !rd_abort_requested(); i++)
            fn(ctx, i, ud);
        return RD_OK;
    }
    batch b;
    memset(&b, 0, sizeof b);
    b.base = ctx;
    b.fn = fn;
    b.ud = ud;
    b.n = n;
    b.bufs = calloc(n, sizeof *b.bufs);
    if (!b.bufs)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&p->mu);
    b.nxt = p->head; /* newest first: nested units finish before their parents' siblings */
    if (p->head)
        p->head->prev = &b;
    p->head = &b;
    pthread_cond_broadcast(&p->cv_work);
    /* the caller runs units of its own batch on its own connection */
    while (b.next < b.n) {
        size_t i = b.next++;
        pthread_mutex_unlock(&p->mu);
        run_unit(&b, i, ctx->scratch);
        pthread_mutex_lock(&p->mu);
        b.done++;
    }
    while (b.done < b.n)
        pthread_cond_wait(&p->cv_done, &p->mu);
    if (b.prev)
        b.prev->nxt = b.nxt;
    else
        p->head = b.nxt;
    if (b.nxt)
        b.nxt->prev = b.prev;
    pthread_mutex_unlock(&p->mu);
    rd_status st = RD_OK;
    for (size_t i = 0; i < n; i++) {
        rd_error e;
        if (rd_target_take_checks(ctx->result, &b.bufs[i], &e) != RD_OK && st == RD_OK)
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory collecting the results of a unit");
    }
    free(b.bufs);
    return st;
}
