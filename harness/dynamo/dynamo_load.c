/* dynamo_load.c: loading a table with BatchWriteItem (25 items a request,
 * several requests in flight on worker threads, UnprocessedItems sent again
 * with backoff) and reading it back with a parallel Scan into a digest. */
#include <cjson/cJSON.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "restoredrill/clock.h"
#include "restoredrill/dynamo.h"
#include "restoredrill/proc.h"

#define BATCH_ITEMS 25
#define CALL_TIMEOUT 60.0
#define BACKOFF_MAX 2.0

static void sleep_s(double s)
{
    struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};
    nanosleep(&ts, NULL);
}

typedef struct batch {
    char *body;
    int items;
} batch;

typedef struct loader {
    const char *endpoint, *region, *table;
    double deadline;
    pthread_mutex_t mu;
    pthread_cond_t not_empty, not_full;
    batch *q;
    size_t cap, head, n;
    int closed, failed;
    rd_error err; /* the first failure */
    rd_dyn_load_stats stats;
    /* the producer's batch being built */
    rd_strbuf cur;
    int cur_items;
} loader;

static void fail(loader *l, const rd_error *e)
{
    pthread_mutex_lock(&l->mu);
    if (!l->failed) {
        l->failed = 1;
        l->err = *e;
    }
    pthread_cond_broadcast(&l->not_full);
    pthread_cond_broadcast(&l->not_empty);
    pthread_mutex_unlock(&l->mu);
}

static int retryable(rd_status st, const rd_error *e)
{
    return st == RD_ERR_NET || st == RD_ERR_TIMEOUT ||
           strstr(e->msg, "ProvisionedThroughputExceeded") || strstr(e->msg, "Throttling") ||
           strstr(e->msg, "RequestLimitExceeded") || strstr(e->msg, "InternalServerError");
}

/* Send one batch until every item is processed. */
static rd_status send_batch(loader *l, rd_dyn_client *c, char *body, int items, rd_error *err)
{
    double backoff = 0.05;
    char *owned = NULL;
    rd_status st = RD_OK;
    for (;;) {
        cJSON *resp = NULL;
        if (rd_abort_requested()) {
            st = RD_ERR(err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
            break;
        }
        if (l->deadline > 0 && rd_mono_now() > l->deadline) {
            st = RD_ERR(err, RD_ERR_TIMEOUT, "loading table %s timed out", l->table);
            break;
        }
        pthread_mutex_lock(&l->mu);
        l->stats.requests++;
        int stop = l->failed;
        pthread_mutex_unlock(&l->mu);
        if (stop)
            break;
        st = rd_dyn_call(c, "BatchWriteItem", body, CALL_TIMEOUT, &resp, err);
        if (st != RD_OK) {
            if (!retryable(st, err))
                break;
            sleep_s(backoff);
            backoff = backoff * 2 < BACKOFF_MAX ? backoff * 2 : BACKOFF_MAX;
            continue;
        }
        const cJSON *un = cJSON_GetObjectItemCaseSensitive(resp, "UnprocessedItems");
        const cJSON *left = cJSON_GetObjectItemCaseSensitive(un, l->table);
        int nleft = cJSON_GetArraySize(left);
        if (nleft == 0) {
            pthread_mutex_lock(&l->mu);
            l->stats.items += items;
            pthread_mutex_unlock(&l->mu);
            cJSON_Delete(resp);
            break;
        }
        /* again with what is left */
        cJSON *req = cJSON_CreateObject(), *ri = cJSON_AddObjectToObject(req, "RequestItems");
        cJSON_AddItemToObject(ri, l->table, cJSON_Duplicate(left, 1));
        char *next = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        cJSON_Delete(resp);
        if (!next) {
            st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        pthread_mutex_lock(&l->mu);
        l->stats.items += items - nleft;
        l->stats.retried += nleft;
        pthread_mutex_unlock(&l->mu);
        items = nleft;
        if (owned)
            cJSON_free(owned);
        owned = body = next;
        sleep_s(backoff);
        backoff = backoff * 2 < BACKOFF_MAX ? backoff * 2 : BACKOFF_MAX;
    }
    if (owned)
        cJSON_free(owned);
    return st;
}

static void *worker(void *arg)
{
    loader *l = arg;
    rd_dyn_client *c = NULL;
    const char *access, *secret;
    rd_error e;
    rd_error_clear(&e);
    rd_dyn_credentials(&access, &secret);
    if (rd_dyn_client_new(l->endpoint, l->region, access, secret, &c, &e) != RD_OK) {
        fail(l, &e);
        return NULL;
    }
    for (;;) {
        pthread_mutex_lock(&l->mu);
        while (l->n == 0 && !l->closed && !l->failed)
            pthread_cond_wait(&l->not_empty, &l->mu);
        if (l->failed || (l->n == 0 && l->closed)) {
            pthread_mutex_unlock(&l->mu);
            break;
        }
        batch b = l->q[l->head];
        l->head = (l->head + 1) % l->cap;
        l->n--;
        pthread_cond_signal(&l->not_full);
        pthread_mutex_unlock(&l->mu);
        rd_status st = send_batch(l, c, b.body, b.items, &e);
        free(b.body);
        if (st != RD_OK) {
            fail(l, &e);
            break;
        }
    }
    rd_dyn_client_free(c);
    return NULL;
}

/* Close the batch being built and queue it (waits while the queue is full). */
static rd_status flush(loader *l, rd_error *err)
{
    if (l->cur_items == 0)
        return RD_OK;
    rd_status st = rd_strbuf_append(&l->cur, "]}}", err);
    if (st != RD_OK)
        return st;
    char *body = rd_strbuf_detach(&l->cur);
    if (!body)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    pthread_mutex_lock(&l->mu);
    while (l->n == l->cap && !l->failed)
        pthread_cond_wait(&l->not_full, &l->mu);
    if (l->failed) {
        *err = l->err;
        st = RD_ERR_PROC;
        free(body);
    } else {
        l->q[(l->head + l->n) % l->cap] = (batch){body, l->cur_items};
        l->n++;
        pthread_cond_signal(&l->not_empty);
    }
    pthread_mutex_unlock(&l->mu);
    rd_strbuf_init(&l->cur, 0);
    l->cur_items = 0;
    return st;
}

static rd_status add_item(void *ud, const char *item, size_t n, rd_error *err)
{
    loader *l = ud;
    rd_status st = RD_OK;
    if (l->cur_items == 0)
        st = rd_strbuf_appendf(&l->cur, err, "{\"RequestItems\":{\"%s\":[", l->table);
    else
        st = rd_strbuf_append_char(&l->cur, ',', err);
    if (st == RD_OK)
        st = rd_strbuf_append(&l->cur, "{\"PutRequest\":{\"Item\":", err);
    if (st == RD_OK)
        st = rd_strbuf_append_n(&l->cur, item, n, err);
    if (st == RD_OK)
        st = rd_strbuf_append(&l->cur, "}}", err);
    if (st == RD_OK && ++l->cur_items == BATCH_ITEMS)
        st = flush(l, err);
    return st;
}

rd_status rd_dyn_load(const char *endpoint, const char *region, const char *table,
                      const char *location, const char *const *decrypt, const rd_s3_opts *s3,
                      int workers, double deadline, rd_dyn_load_stats *stats, rd_error *err)
{
    loader l;
    pthread_t th[64];
    int started = 0;
    rd_status st = RD_OK;
    if (workers < 1)
        workers = 1;
    if (workers > 64)
        workers = 64;
    memset(&l, 0, sizeof l);
    l.endpoint = endpoint;
    l.region = region;
    l.table = table;
    l.deadline = deadline;
    l.cap = (size_t)workers * 2;
    pthread_mutex_init(&l.mu, NULL);
    pthread_cond_init(&l.not_empty, NULL);
    pthread_cond_init(&l.not_full, NULL);
    rd_strbuf_init(&l.cur, 0);
    if (!(l.q = calloc(l.cap, sizeof *l.q)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (; st == RD_OK && started < workers; started++)
        if (pthread_create(&th[started], NULL, worker, &l) != 0)
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot start a loader thread");
    if (st == RD_OK)
        st = rd_dyn_each_item(location, decrypt, s3, deadline, add_item, &l, err);
    if (st == RD_OK)
        st = flush(&l, err);
    if (st != RD_OK) {
        rd_error copy = *err;
        fail(&l, &copy); /* keeps the first failure, a worker's when it came first */
    }
    pthread_mutex_lock(&l.mu);
    l.closed = 1;
    pthread_cond_broadcast(&l.not_empty);
    pthread_mutex_unlock(&l.mu);
    for (int i = 0; i < started; i++)
        pthread_join(th[i], NULL);
    if (l.failed) {
        *err = l.err;
        st = l.err.code != RD_OK ? l.err.code : RD_ERR_PROC;
    }
    for (size_t i = 0; i < l.n; i++)
        free(l.q[(l.head + i) % l.cap].body);
    free(l.q);
    rd_strbuf_free(&l.cur);
    pthread_cond_destroy(&l.not_empty);
    pthread_cond_destroy(&l.not_full);
    pthread_mutex_destroy(&l.mu);
    if (st == RD_OK && stats)
        *stats = l.stats;
    return st;
}

/* --- parallel Scan --- */

typedef struct scanner {
    const char *endpoint, *region, *table;
    const char *attr; /* newest-value mode: only this attribute is read */
    int segment, total;
    double deadline;
    rd_dyn_digest digest;
    int64_t newest_ms; /* newest-value mode */
    int found;
    rd_status st;
    rd_error err;
} scanner;

static void *scan_segment(void *arg)
{
    scanner *s = arg;
    rd_dyn_client *c = NULL;
    const char *access, *secret;
    cJSON *start = NULL;
    rd_strbuf canon;
    rd_strbuf_init(&canon, 0);
    rd_dyn_credentials(&access, &secret);
    s->st = rd_dyn_client_new(s->endpoint, s->region, access, secret, &c, &s->err);
    while (s->st == RD_OK) {
        cJSON *req = cJSON_CreateObject(), *resp = NULL;
        cJSON_AddStringToObject(req, "TableName", s->table);
        cJSON_AddNumberToObject(req, "Segment", s->segment);
        cJSON_AddNumberToObject(req, "TotalSegments", s->total);
        if (start)
            cJSON_AddItemToObject(req, "ExclusiveStartKey", start);
        if (s->attr) {
            cJSON_AddStringToObject(req, "ProjectionExpression", "#a");
            cJSON_AddStringToObject(cJSON_AddObjectToObject(req, "ExpressionAttributeNames"), "#a",
                                    s->attr);
        }
        start = NULL;
        char *body = cJSON_PrintUnformatted(req);
        cJSON_Delete(req);
        if (!body) {
            s->st = RD_ERR(&s->err, RD_ERR_NOMEM, "out of memory");
            break;
        }
        if (rd_abort_requested())
            s->st =
                RD_ERR(&s->err, RD_ERR_ABORTED, "interrupted by signal %d", rd_abort_requested());
        else if (s->deadline > 0 && rd_mono_now() > s->deadline)
            s->st = RD_ERR(&s->err, RD_ERR_TIMEOUT, "scanning table %s timed out", s->table);
        else
            s->st = rd_dyn_call(c, "Scan", body, CALL_TIMEOUT, &resp, &s->err);
        cJSON_free(body);
        if (s->st != RD_OK)
            break;
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(resp, "Items");
        for (const cJSON *it = cJSON_IsArray(items) ? items->child : NULL; it && s->st == RD_OK;
             it = it->next) {
            if (s->attr) {
                int64_t ms = 0;
                if (rd_dyn_time_value(cJSON_GetObjectItemCaseSensitive(it, s->attr), &ms) &&
                    (!s->found || ms > s->newest_ms)) {
                    s->newest_ms = ms;
                    s->found = 1;
                }
                continue;
            }
            rd_strbuf_reset(&canon);
            s->st = rd_dyn_item_canon(it, &canon, &s->err);
            if (s->st == RD_OK)
                rd_dyn_digest_add(&s->digest, canon.data, canon.len);
        }
        cJSON *last = cJSON_DetachItemFromObjectCaseSensitive(resp, "LastEvaluatedKey");
        cJSON_Delete(resp);
        if (!last)
            break;
        start = last;
    }
    cJSON_Delete(start);
    rd_strbuf_free(&canon);
    rd_dyn_client_free(c);
    return NULL;
}

#define SCAN_MAX 64

/* Scan table in segments threads of s[] (1..SCAN_MAX; attribute: the newest
 * value wanted, or NULL), all joined before it returns; the first failure
 * wins. */
static rd_status scan_all(scanner *s, int *segments, const char *endpoint, const char *region,
                          const char *table, const char *attribute, double deadline, rd_error *err)
{
    pthread_t th[SCAN_MAX];
    int started = 0, n = *segments < 1 ? 1 : *segments > SCAN_MAX ? SCAN_MAX : *segments;
    rd_status st = RD_OK;
    memset(s, 0, sizeof(scanner) * SCAN_MAX);
    for (int i = 0; i < n; i++)
        s[i] = (scanner){.endpoint = endpoint,
                         .region = region,
                         .table = table,
                         .attr = attribute,
                         .segment = i,
                         .total = n,
                         .deadline = deadline};
    for (; started < n; started++)
        if (pthread_create(&th[started], NULL, scan_segment, &s[started]) != 0) {
            st = RD_ERR(err, RD_ERR_NOMEM, "cannot start a scan thread");
            break;
        }
    for (int i = 0; i < started; i++) {
        pthread_join(th[i], NULL);
        if (st == RD_OK && s[i].st != RD_OK) {
            st = s[i].st;
            *err = s[i].err;
        }
    }
    *segments = started;
    return st;
}

rd_status rd_dyn_scan_digest(const char *endpoint, const char *region, const char *table,
                             int segments, double deadline, rd_dyn_digest *out, rd_error *err)
{
    scanner s[SCAN_MAX];
    rd_dyn_digest d;
    rd_status st = scan_all(s, &segments, endpoint, region, table, NULL, deadline, err);
    memset(&d, 0, sizeof d);
    for (int i = 0; i < segments; i++)
        rd_dyn_digest_merge(&d, &s[i].digest);
    if (st == RD_OK)
        *out = d;
    return st;
}

int rd_dyn_time_value(const cJSON *v, int64_t *ms)
{
    const cJSON *d = cJSON_IsObject(v) ? v->child : NULL;
    rd_error ignore;
    if (!d || !cJSON_IsString(d) || !d->string)
        return 0;
    if (strcmp(d->string, "S") == 0)
        return rd_time_parse_utc(d->valuestring, ms, &ignore) == RD_OK;
    if (strcmp(d->string, "N") == 0) {
        char *end = NULL;
        double x = strtod(d->valuestring, &end);
        if (!end || *end || x < 0)
            return 0;
        *ms = x < 1e11 ? (int64_t)(x * 1000.0) : (int64_t)x; /* epoch seconds, else ms */
        return 1;
    }
    return 0;
}

rd_status rd_dyn_scan_newest(const char *endpoint, const char *region, const char *table,
                             const char *attribute, int segments, double deadline, int64_t *ms,
                             int *found, rd_error *err)
{
    scanner s[SCAN_MAX];
    int any = 0;
    int64_t best = 0;
    rd_status st = scan_all(s, &segments, endpoint, region, table, attribute, deadline, err);
    for (int i = 0; i < segments; i++)
        if (s[i].found && (!any || s[i].newest_ms > best)) {
            best = s[i].newest_ms;
            any = 1;
        }
    if (st == RD_OK) {
        *ms = best;
        *found = any;
    }
    return st;
}
