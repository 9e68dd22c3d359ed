/* drill_s3.c: the phases of an s3 target (docs/s3-objects.md). fetch lists
 * the point (a backup prefix, or a versioned bucket resolved as of the
 * target) and loads what the copy must equal (the listing captured at
 * backup time, or the versions themselves); restore copies the set
 * server-side into the scratch prefix, several copies in flight. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/log.h"
#include "restoredrill/proc.h"

#define COPY_WORKERS 4
#define MAX_WORKERS 32
#define OUTPUT_KEYS 1000 /* keys listed in the restore result's output */

static rd_status client(const rd_target_cfg *t, rd_s3 **s3, rd_error *err)
{
    rd_s3_opts o = {.endpoint = t->catalog.endpoint,
                    .region = t->catalog.region,
                    .path_style = t->catalog.path_style};
    return rd_s3_new(&o, s3, err);
}

/* reference.listing with "{point}" replaced by the point's id. Heap. */
static char *listing_path(const char *tmpl, const char *id)
{
    const char *at = strstr(tmpl, "{point}");
    if (!at)
        return rd_strdup(tmpl);
    return rd_asprintf("%.*s%s%s", (int)(at - tmpl), tmpl, id, at + 7);
}

static rd_status fetch_set(rd_drill_target *dt, rd_s3 *s3, rd_s3set_target *x, rd_s3set *source,
                           int64_t *newest, rd_error *err)
{
    const rd_target_cfg *t = dt->t;
    char *key = NULL, *path = NULL;
    char when[RD_TIME_BUFSZ];
    rd_status st = rd_s3_url_split(dt->point->location, &x->src_bucket, &key, err);
    if (st != RD_OK)
        return st;
    x->src_prefix = key;
    x->endpoint = t->catalog.endpoint;
    x->region = t->catalog.region;
    x->path_style = t->catalog.path_style;
    if (t->catalog.versions) {
        rd_s3_objects v = {NULL, 0};
        int64_t target = dt->sample.target_ms;
        st = rd_s3set_list_versions(s3, x->src_bucket, x->src_prefix, &v, err);
        if (st == RD_OK)
            st = rd_s3set_as_of(&v, x->src_prefix, target, &x->expected, newest, err);
        if (st == RD_OK) {
            rd_log_info("%s: %zu objects as of %s (%zu versions and delete markers listed)",
                        t->name, x->expected.n, rd_time_format(target, when, sizeof when), v.n);
            x->basis = rd_asprintf("the versions as of %s", when);
        }
        rd_s3_objects_free(&v);
        /* the copy's source is the expected set itself (each entry's version) */
        return st != RD_OK ? st : x->basis ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    if (!(path = listing_path(t->reference.listing, dt->point->id)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    st = rd_s3set_listing_load(path, &x->expected, err);
    if (st != RD_OK)
        rd_error_prefix(err, "reference.listing: ");
    if (st == RD_OK)
        st = rd_s3set_list(s3, x->src_bucket, x->src_prefix, source, err);
    for (size_t i = 0; st == RD_OK && i < source->n; i++)
        if (source->items[i].mtime_ms > *newest)
            *newest = source->items[i].mtime_ms;
    if (st == RD_OK && !(x->basis = rd_asprintf("the listing %s", path)))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(path);
    return st;
}

int rd_drill_s3_fetch(rd_drill_target *dt)
{
    rd_s3 *s3 = NULL;
    rd_error err;
    int64_t newest = 0;
    double start = rd_mono_now();
    rd_error_clear(&err);
    rd_s3set_target *x = calloc(1, sizeof *x);
    rd_s3set *source = calloc(1, sizeof *source);
    rd_status st =
        x && source ? client(dt->t, &s3, &err) : RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK)
        st = fetch_set(dt, s3, x, source, &newest, &err);
    for (size_t i = 0; st == RD_OK && i < (dt->t->catalog.versions ? x->expected.n : source->n);
         i++) {
        const rd_s3set_entry *e =
            dt->t->catalog.versions ? &x->expected.items[i] : &source->items[i];
        if (e->size > RD_S3_COPY_MAX)
            st = RD_ERR(&err, RD_ERR_UNSUPPORTED,
                        "s3://%s/%s%s is %lld bytes: server-side copies over 5 GiB need "
                        "UploadPartCopy, which is not implemented yet",
                        x->src_bucket, x->src_prefix, e->key, (long long)e->size);
    }
    rd_s3_free(s3);
    if (st != RD_OK) {
        rd_s3set_target_free(x);
        free(x);
        if (source)
            rd_s3set_free(source);
        free(source);
        if (st == RD_ERR_ABORTED || rd_abort_requested())
            dt->aborted = 1;
        rd_measure_phase(dt->res, "fetch", start, dt->aborted ? RD_ABORTED : RD_ERROR);
        rd_drill_target_fail(dt, "fetch", RD_ERROR, err.msg);
        return 0;
    }
    dt->s3 = x;
    dt->s3_source = source;
    /* RPO: the newest change at or before the target that the copy holds */
    if (newest > 0) {
        dt->newest_data_ms = newest;
        dt->newest_data_basis = "LastModified";
    }
    rd_measure_phase(dt->res, "fetch", start, RD_PASSED);
    return 1;
}

/* --- restore: server-side copies, several in flight --- */

typedef struct copy_job {
    rd_drill_target *dt;
    const rd_s3set *set; /* what is copied: the source listing, or the expected versions */
    pthread_mutex_t mu;
    size_t next, done;
    int64_t bytes;
    double deadline;
    rd_status st;
    rd_error err;
} copy_job;

static void *copy_worker(void *arg)
{
    copy_job *j = arg;
    const rd_s3set_target *x = j->dt->s3;
    rd_s3 *s3 = NULL;
    rd_error err;
    rd_status st = client(j->dt->t, &s3, &err);
    char *src = NULL, *dst = NULL;
    for (;;) {
        size_t i;
        pthread_mutex_lock(&j->mu);
        if (st != RD_OK && j->st == RD_OK) {
            j->st = st;
            j->err = err;
        }
        i = j->st == RD_OK ? j->next++ : j->set->n;
        pthread_mutex_unlock(&j->mu);
        if (i >= j->set->n)
            break;
        if (rd_abort_requested() || (j->deadline > 0 && rd_mono_now() > j->deadline)) {
            st = RD_ERR(&err, RD_ERR_ABORTED, "stopped after %zu of %zu objects (%s)", i, j->set->n,
                        rd_abort_requested() ? "aborted" : "restore.timeout");
            continue;
        }
        const rd_s3set_entry *e = &j->set->items[i];
        free(src);
        free(dst);
        src = rd_asprintf("%s%s", x->src_prefix, e->key);
        dst = rd_asprintf("%s%s", x->prefix, e->key);
        st = src && dst
                 ? rd_s3_copy_version(s3, x->src_bucket, src, e->version_id, x->bucket, dst, &err)
                 : RD_ERR(&err, RD_ERR_NOMEM, "out of memory");
        if (st == RD_OK) {
            pthread_mutex_lock(&j->mu);
            j->done++;
            j->bytes += e->size;
            size_t done = j->done, n = j->set->n;
            pthread_mutex_unlock(&j->mu);
            if (done % 1000 == 0 || (n >= 20 && done % (n / 10) == 0))
                rd_log_info("%s: copied %zu of %zu objects", j->dt->t->name, done, n);
        }
    }
    free(src);
    free(dst);
    rd_s3_free(s3);
    return NULL;
}

int rd_drill_s3_restore(rd_drill_target *dt)
{
    const rd_target_cfg *t = dt->t;
    rd_s3set_target *x = dt->s3;
    char human[64];
    double start = rd_mono_now();
    int workers = t->restore.jobs > 0 ? t->restore.jobs : COPY_WORKERS;
    copy_job j;
    memset(&j, 0, sizeof j);
    pthread_mutex_init(&j.mu, NULL);
    j.dt = dt;
    j.set = t->catalog.versions ? &x->expected : dt->s3_source;
    j.deadline = t->restore.timeout > 0 ? rd_mono_now() + t->restore.timeout : 0;
    char *bucket = NULL, *prefix = NULL;
    j.st = rd_s3_url_split(dt->scratch->conn.url, &bucket, &prefix, &j.err);
    if (j.st == RD_OK) {
        x->bucket = bucket;
        x->prefix = prefix;
        if (workers > MAX_WORKERS)
            workers = MAX_WORKERS;
        if ((size_t)workers > j.set->n)
            workers = j.set->n ? (int)j.set->n : 1;
        rd_log_info("%s: copying %zu objects from s3://%s/%s to %s (%d in flight)", t->name,
                    j.set->n, x->src_bucket, x->src_prefix, dt->scratch->conn.url, workers);
        pthread_t th[MAX_WORKERS];
        int started = 0;
        for (; started < workers; started++)
            if (pthread_create(&th[started], NULL, copy_worker, &j) != 0)
                break;
        if (started == 0)
            copy_worker(&j);
        for (int i = 0; i < started; i++)
            pthread_join(th[i], NULL);
    }
    pthread_mutex_destroy(&j.mu);
    double secs = rd_mono_now() - start;
    if (j.st == RD_ERR_ABORTED && rd_abort_requested())
        dt->aborted = 1;
    rd_verdict v = j.st == RD_OK ? RD_PASSED : dt->aborted ? RD_ERROR : RD_FAILED;
    rd_check_result *r = rd_target_add_check(dt->res, "restore", "restore", dt->point->id, v, "");
    if (r) {
        r->seconds = secs;
        if (j.st == RD_OK)
            rd_check_set_message(r, "copied %zu objects (%lld bytes) from s3://%s/%s to %s in %s",
                                 j.done, (long long)j.bytes, x->src_bucket, x->src_prefix,
                                 dt->scratch->conn.url,
                                 rd_duration_human(secs, human, sizeof human));
        else
            rd_check_set_message(r, "%s", j.err.msg);
        if (j.st == RD_OK && j.set->n) { /* what was copied, for the record */
            rd_strbuf sb;
            rd_strbuf_init(&sb, 0);
            for (size_t i = 0; i < j.set->n && i < OUTPUT_KEYS; i++)
                (void)rd_strbuf_appendf(&sb, NULL, "%s%s%s\n", j.set->items[i].key,
                                        j.set->items[i].version_id ? " version " : "",
                                        j.set->items[i].version_id ? j.set->items[i].version_id
                                                                   : "");
            if (j.set->n > OUTPUT_KEYS)
                (void)rd_strbuf_appendf(&sb, NULL, "... and %zu more\n", j.set->n - OUTPUT_KEYS);
            rd_check_set_output(r, sb.data ? sb.data : "");
            rd_strbuf_free(&sb);
        }
        rd_check_add_prop(r, "driver", "%s", "s3-copy");
        rd_check_add_prop(r, "objects", "%zu", j.done);
        rd_check_add_prop(r, "bytes", "%lld", (long long)j.bytes);
        rd_check_add_prop(r, "workers", "%d", workers);
    }
    rd_drill_phase_end(dt, "restore", start, j.st == RD_OK, v);
    if (j.st != RD_OK) {
        if (!dt->res->error)
            rd_target_set_error(dt->res, "restore: %s", j.err.msg);
        rd_log_error("%s: restore failed: %s", t->name, j.err.msg);
        return 0;
    }
    dt->restore_ok = 1;
    dt->restore_end = rd_mono_now();
    return 1;
}

void rd_drill_s3_free(rd_drill_target *dt)
{
    rd_s3set_target_free(dt->s3);
    free(dt->s3);
    dt->s3 = NULL;
    rd_s3set_free(dt->s3_source);
    free(dt->s3_source);
    dt->s3_source = NULL;
}
