/* history.c: the tamper-evident drill history: one compact JSON line per
 * drill, each carrying the sha256 of the previous line's bytes (without its
 * newline; 64 zeros for the first line). Editing, removing or reordering a
 * line breaks the chain at the line after it. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_int.h"
#include "restoredrill/clock.h"
#include "restoredrill/evidence.h"
#include "restoredrill/fs.h"
#include "restoredrill/report.h"
#include "restoredrill/sha256.h"

#define HISTORY_MAX_BYTES ((size_t)1024 * 1024 * 1024)
#define HISTORY_LOCK_WAIT_S 60 /* another drill's append takes milliseconds */
static const char zeros[] = "0000000000000000000000000000000000000000000000000000000000000000";

/* Seconds of the restore and recover phases; < 0 when neither passed. */
static double restore_seconds(const rd_target_result *t)
{
    double s = -1;
    for (size_t i = 0; i < t->nphases; i++)
        if ((strcmp(t->phases[i].name, "restore") == 0 ||
             strcmp(t->phases[i].name, "recover") == 0) &&
            t->phases[i].status == RD_PASSED && t->phases[i].seconds >= 0)
            s = (s < 0 ? 0 : s) + t->phases[i].seconds;
    return s;
}

/* The line for r (compact JSON, no newline); NULL on allocation failure. */
static char *history_line(const rd_report *r, const char *prev)
{
    int oom = 0;
    char seed[32];
    char *line = NULL;
    cJSON *o = cJSON_CreateObject();
    rd_json_put(o, "schema", cJSON_CreateString(RD_HISTORY_SCHEMA), &oom);
    rd_json_put(o, "prev_sha256", cJSON_CreateString(prev), &oom);
    rd_json_put_str(o, "drill_id", r->drill_id, &oom);
    rd_json_put_str(o, "name", r->name, &oom);
    rd_json_put_time(o, "started_at", r->started_at_ms, &oom);
    rd_json_put_time(o, "finished_at", r->finished_at_ms, &oom);
    rd_json_put(o, "status", cJSON_CreateString(rd_verdict_name(r->status)), &oom);
    snprintf(seed, sizeof seed, "%" PRIu64, r->seed);
    rd_json_put(o, "seed", cJSON_CreateString(seed), &oom);
    cJSON *targets = cJSON_CreateArray();
    for (size_t i = 0; targets && i < r->ntargets; i++) {
        const rd_target_result *t = &r->targets[i];
        size_t bad = 0;
        for (size_t j = 0; j < t->nchecks; j++)
            if (t->checks[j].status != RD_PASSED && t->checks[j].status != RD_SKIPPED)
                bad++;
        cJSON *to = cJSON_CreateObject();
        rd_json_put_str(to, "name", t->name, &oom);
        rd_json_put(to, "status", cJSON_CreateString(rd_verdict_name(rd_report_target_status(t))),
                    &oom);
        rd_json_put_str(to, "point_id", t->point.id, &oom);
        rd_json_put_time(to, "point_created_at", t->point.created_at_ms, &oom);
        rd_json_put_secs(to, "rto_seconds", t->rto.seconds, &oom);
        rd_json_put_secs(to, "rto_target_seconds", t->rto.target_seconds, &oom);
        rd_json_put_secs(to, "rpo_seconds", t->rpo.seconds, &oom);
        rd_json_put_secs(to, "rpo_target_seconds", t->rpo.target_seconds, &oom);
        rd_json_put(to, "checks_failed", cJSON_CreateNumber((double)bad), &oom);
        rd_json_put(to, "point_bytes",
                    t->point.bytes < 0 ? cJSON_CreateNull()
                                       : cJSON_CreateNumber((double)t->point.bytes),
                    &oom);
        rd_json_put_secs(to, "restore_seconds", restore_seconds(t), &oom);
        /* physical points: what recovery was asked to reach and reached; a
         * passed drill proves [point_created_at, target_time] restorable */
        rd_json_put_time(to, "target_time", t->point.base ? t->point.target_time_ms : 0, &oom);
        rd_json_put_time(to, "reached_time", t->point.base ? t->point.reached_time_ms : 0, &oom);
        rd_json_push(targets, to, &oom);
    }
    rd_json_put(o, "targets", targets, &oom);
    if (!oom)
        line = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return line;
}

/* Length of the last non-empty line of text (start in *start). */
static size_t last_line(const char *text, size_t len, size_t *start)
{
    while (len > 0 && text[len - 1] == '\n')
        len--;
    size_t s = len;
    while (s > 0 && text[s - 1] != '\n')
        s--;
    *start = s;
    return len - s;
}

/* An exclusive lock on PATH.lock (rd_fs_lock: created 0600, never through
 * a symlink) for the read-modify-write of an append (the history itself is
 * replaced by rename, so its inode cannot carry the lock): waits up to
 * HISTORY_LOCK_WAIT_S for another drill's append. *fd gets the lock's
 * descriptor for rd_fs_unlock. */
static rd_status lock_history(const char *path, int *fd, rd_error *err)
{
    char *lp = rd_asprintf("%s.lock", path);
    rd_error e2;
    rd_status st;
    if (!lp)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory locking the history");
    st = rd_fs_lock(lp, HISTORY_LOCK_WAIT_S, 0, fd, &e2);
    if (st == RD_ERR_TIMEOUT)
        RD_ERR(err, st, "history %s stayed locked by another process (%s)", path, lp);
    else if (st != RD_OK && strncmp(e2.msg, "cannot open lock ", 17) == 0)
        rd_error_set(err, st, e2.sys_errno, "cannot lock history %s: cannot open %s", path, lp);
    else if (st != RD_OK)
        rd_error_set(err, st, e2.sys_errno, "cannot lock history %s", path);
    free(lp);
    return st;
}

rd_status rd_history_append(const rd_report *r, const char *path, rd_error *err)
{
    return rd_history_append_signed(r, path, NULL, err);
}

rd_status rd_history_append_signed(const rd_report *r, const char *path, const rd_sign_key *key,
                                   rd_error *err)
{
    rd_status st = RD_OK;
    char *old = NULL, *line = NULL;
    size_t len = 0, start = 0, n;
    char prev[RD_SHA256_HEX_LEN + 1];
    rd_strbuf sb;
    rd_error e2;
    int lock = -1;
    rd_strbuf_init(&sb, HISTORY_MAX_BYTES);
    memcpy(prev, zeros, sizeof prev);
    if ((st = lock_history(path, &lock, err)) != RD_OK)
        goto out;
    if (rd_fs_exists(path)) {
        if ((st = rd_fs_read_file(path, HISTORY_MAX_BYTES, &old, &len, err)) != RD_OK)
            goto out;
        n = last_line(old, len, &start);
        if (n > 0)
            rd_sha256_hex(old + start, n, prev);
    }
    if (!(line = history_line(r, prev))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory writing the history line");
        goto out;
    }
    if (key) {
        char *signed_line = NULL;
        if ((st = rd_evidence_sign_line(line, key, &signed_line, err)) != RD_OK)
            goto out;
        cJSON_free(line);
        line = signed_line; /* malloc'ed like cJSON's (default hooks) */
    }
    if (old && len > 0) {
        if ((st = rd_strbuf_append_n(&sb, old, len, err)) != RD_OK)
            goto out;
        if (old[len - 1] != '\n' && (st = rd_strbuf_append_char(&sb, '\n', err)) != RD_OK)
            goto out;
    }
    if ((st = rd_strbuf_append(&sb, line, err)) != RD_OK ||
        (st = rd_strbuf_append_char(&sb, '\n', err)) != RD_OK)
        goto out;
    st = rd_fs_write_atomic(path, sb.data, sb.len, 0644, &e2);
    if (st != RD_OK)
        st = RD_ERR(err, st, "cannot append to history %s: %s", path, e2.msg);
out:
    rd_fs_unlock(lock); /* after the rename: the next append reads this line */
    rd_strbuf_free(&sb);
    free(old);
    cJSON_free(line);
    return st;
}

/* Check one line (NUL-terminated copy) against the expected prev hash. */
static rd_status verify_line(const char *line, size_t no, const char *expect_prev, rd_error *err)
{
    rd_status st = RD_OK;
    cJSON *o = cJSON_Parse(line);
    const cJSON *schema, *prev;
    if (!o || !cJSON_IsObject(o)) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: not a json object", no);
        goto out;
    }
    schema = cJSON_GetObjectItemCaseSensitive(o, "schema");
    if (!cJSON_IsString(schema) || strcmp(schema->valuestring, RD_HISTORY_SCHEMA) != 0) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: schema is not \"%s\"", no, RD_HISTORY_SCHEMA);
        goto out;
    }
    prev = cJSON_GetObjectItemCaseSensitive(o, "prev_sha256");
    if (!cJSON_IsString(prev)) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: prev_sha256 is missing", no);
        goto out;
    }
    if (strcmp(prev->valuestring, expect_prev) != 0) {
        if (no == 1)
            st = RD_ERR(err, RD_ERR_INTEGRITY,
                        "line 1: prev_sha256 is not 64 zeros (lines before it were removed)");
        else
            st = RD_ERR(err, RD_ERR_INTEGRITY,
                        "line %zu: prev_sha256 does not match line %zu (edited or removed)", no,
                        no - 1);
    }
out:
    cJSON_Delete(o);
    return st;
}

rd_status rd_history_verify(const char *path, size_t *lines, size_t *bad_line, rd_error *err)
{
    rd_status st = RD_OK;
    char *text = NULL;
    size_t len = 0, no = 0, pos = 0;
    char prev[RD_SHA256_HEX_LEN + 1];
    memcpy(prev, zeros, sizeof prev);
    if (lines)
        *lines = 0;
    if (bad_line)
        *bad_line = 0;
    if ((st = rd_fs_read_file(path, HISTORY_MAX_BYTES, &text, &len, err)) != RD_OK) {
        if (err && err->sys_errno == ENOENT)
            err->code = st = RD_ERR_NOTFOUND;
        goto out;
    }
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        no++;
        if (lines)
            *lines = no;
        if (n == 0) {
            st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: empty line", no);
            goto bad;
        }
        if (memchr(text + pos, '\0', n)) {
            st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: not a json object", no);
            goto bad;
        }
        text[pos + n] = '\0'; /* the newline (or the final NUL) */
        if ((st = verify_line(text + pos, no, prev, err)) != RD_OK)
            goto bad;
        rd_sha256_hex(text + pos, n, prev);
        pos += n + 1;
    }
    goto out;
bad:
    if (bad_line)
        *bad_line = no;
out:
    free(text);
    return st;
}

rd_status rd_history_series(const char *path, const char *target, rd_hist_sample **out, size_t *n,
                            rd_error *err)
{
    rd_status st = RD_OK;
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, count = 0;
    rd_hist_sample *arr = NULL;
    *out = NULL;
    *n = 0;
    if (!path || !rd_fs_exists(path))
        return RD_OK;
    if ((st = rd_fs_read_file(path, HISTORY_MAX_BYTES, &text, &len, err)) != RD_OK)
        goto out;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        cJSON *o = cJSON_Parse(line);
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(o, "targets"), *t;
        const cJSON *at = cJSON_GetObjectItemCaseSensitive(o, "started_at");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(o, "drill_id");
        int64_t ms = 0;
        if (!cJSON_IsString(at) || rd_time_parse(at->valuestring, &ms, NULL) != RD_OK) {
            cJSON_Delete(o);
            continue; /* the chart shows what it can; verify reports damage */
        }
        cJSON_ArrayForEach(t, ts)
        {
            const cJSON *nm = cJSON_GetObjectItemCaseSensitive(t, "name");
            if (!cJSON_IsString(nm) || strcmp(nm->valuestring, target) != 0)
                continue;
            rd_hist_sample *grown = realloc(arr, (count + 1) * sizeof *arr);
            if (!grown) {
                cJSON_Delete(o);
                st = RD_ERR(err, RD_ERR_NOMEM, "out of memory reading history %s", path);
                goto out;
            }
            arr = grown;
            rd_hist_sample *s = &arr[count++];
            const char *keys[6] = {"rto_seconds",        "rto_target_seconds", "rpo_seconds",
                                   "rpo_target_seconds", "point_bytes",        "restore_seconds"};
            double *vals[6] = {&s->rto,        &s->rto_target, &s->rpo,
                               &s->rpo_target, &s->bytes,      &s->restore};
            for (int k = 0; k < 6; k++) {
                const cJSON *v = cJSON_GetObjectItemCaseSensitive(t, keys[k]);
                *vals[k] = cJSON_IsNumber(v) && v->valuedouble >= 0 ? v->valuedouble : -1;
            }
            const cJSON *stv = cJSON_GetObjectItemCaseSensitive(t, "status");
            int vv = cJSON_IsString(stv) ? rd_verdict_parse(stv->valuestring) : -1;
            s->status = vv < 0 ? RD_ERROR : (rd_verdict)vv;
            s->at_ms = ms;
            snprintf(s->drill_id, sizeof s->drill_id, "%s",
                     cJSON_IsString(id) ? id->valuestring : "");
            break;
        }
        cJSON_Delete(o);
    }
    *out = arr;
    *n = count;
    arr = NULL;
out:
    free(arr);
    free(text);
    return st;
}

/* The chain, then every signed line (evidence_sign.c checks one line). */
#define HISTORY_SIGNED_MAX_BYTES ((size_t)1024 * 1024 * 1024)

rd_status rd_evidence_verify_history(const char *path, const rd_sign_key *pub, size_t *lines,
                                     size_t *bad_line, rd_error *err)
{
    char *text = NULL;
    size_t len = 0, no = 0, pos = 0, last_len = 0, last_start = 0;
    rd_error e;
    rd_status st = rd_history_verify(path, lines, bad_line, err);
    if (st != RD_OK)
        return st;
    if ((st = rd_fs_read_file(path, HISTORY_SIGNED_MAX_BYTES, &text, &len, err)) != RD_OK)
        return st;
    while (pos < len) {
        char *nl = memchr(text + pos, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
        no++;
        rd_status ls = rd_evidence_verify_line(text + pos, n, pub, &e);
        if (ls != RD_OK && ls != RD_ERR_NOTFOUND) {
            st =
                RD_ERR(err, ls == RD_ERR_FORMAT ? RD_ERR_INTEGRITY : ls, "line %zu: %s", no, e.msg);
            if (bad_line)
                *bad_line = no;
            goto out;
        }
        last_start = pos;
        last_len = n;
        pos += n + 1;
    }
    /* the chain pins every earlier line to the last one: it must be signed */
    if (no > 0 &&
        rd_evidence_verify_line(text + last_start, last_len, pub, &e) == RD_ERR_NOTFOUND) {
        st = RD_ERR(err, RD_ERR_INTEGRITY, "line %zu: the last line is not signed", no);
        if (bad_line)
            *bad_line = no;
    }
out:
    free(text);
    return st;
}
