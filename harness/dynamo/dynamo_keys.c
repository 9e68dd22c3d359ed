/* dynamo_keys.c: key uniqueness with memory independent of the item count.
 * Each key is written once to a key file (its text and where it was seen)
 * and gets a fingerprint (the first 64 bits of its sha256); (fingerprint,
 * offset) records are sorted in runs of bounded size written to run files,
 * then merged (k-way, at most FANIN runs at a time, in passes). Records with
 * the same fingerprint are compared by their keys read back from the key
 * file, so a fingerprint collision is never reported as a duplicate. All
 * files live in a private directory removed by rd_dyn_keyset_free. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dynamo_int.h"
#include "restoredrill/fs.h"

#define FANIN 64
#define IOBUF (32u << 10)
#define KEY_MAX (64u << 10) /* a key is at most 2 KB (hash) + 1 KB (range), quoted */

typedef struct rec {
    uint64_t fp, off;
} rec;

struct rd_dyn_keyset {
    char *dir;
    FILE *keys;
    uint64_t keys_off;
    rec *buf;
    size_t n, cap;
    unsigned fp_bits;
    size_t runs, next_run; /* run files run-<i>, i < next_run; runs alive */
    size_t first_run;      /* runs below it were merged away */
    uint64_t items;
};

static char *run_path(const rd_dyn_keyset *k, size_t i)
{
    return rd_asprintf("%s/run-%zu", k->dir, i);
}

rd_status rd_dyn_keyset_new(const char *base, size_t run_items, unsigned fp_bits,
                            rd_dyn_keyset **out, rd_error *err)
{
    rd_dyn_keyset *k = calloc(1, sizeof *k);
    const char *tmp = base && *base ? base : getenv("TMPDIR");
    rd_status st = RD_OK;
    if (!k)
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    k->cap = run_items ? run_items : RD_DYN_KEYS_RUN;
    k->fp_bits = fp_bits && fp_bits < 64 ? fp_bits : 64;
    if (!(k->buf = malloc(k->cap * sizeof *k->buf)) ||
        !(k->dir = rd_asprintf("%s/dynkeys-XXXXXX", tmp && *tmp ? tmp : "/tmp"))) {
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory for the key runs");
        goto out;
    }
    if (!mkdtemp(k->dir)) {
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create a directory for the key runs in %s",
                          tmp && *tmp ? tmp : "/tmp");
        free(k->dir);
        k->dir = NULL;
        goto out;
    }
    char *kp = rd_asprintf("%s/keys", k->dir);
    if (!kp || !(k->keys = fopen(kp, "w+b")))
        st = kp ? RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", kp)
                : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    free(kp);
out:
    if (st != RD_OK) {
        rd_dyn_keyset_free(k);
        return st;
    }
    *out = k;
    return RD_OK;
}

void rd_dyn_keyset_free(rd_dyn_keyset *k)
{
    if (!k)
        return;
    if (k->keys)
        fclose(k->keys);
    if (k->dir) {
        rd_error e;
        char *parent = rd_strdup(k->dir);
        char *slash = parent ? strrchr(parent, '/') : NULL;
        if (slash)
            *slash = '\0';
        (void)rd_fs_rmtree(k->dir, parent && *parent ? parent : "/", &e);
        free(parent);
    }
    free(k->dir);
    free(k->buf);
    free(k);
}

static int rec_cmp(const void *a, const void *b)
{
    const rec *x = a, *y = b;
    if (x->fp != y->fp)
        return x->fp < y->fp ? -1 : 1;
    return x->off < y->off ? -1 : x->off > y->off;
}

static rd_status write_all(FILE *f, const void *p, size_t n, const char *what, rd_error *err)
{
    if (n && fwrite(p, 1, n, f) != n)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", what);
    return RD_OK;
}

/* The buffer, sorted, into the next run file. */
static rd_status flush_run(rd_dyn_keyset *k, rd_error *err)
{
    if (k->n == 0)
        return RD_OK;
    qsort(k->buf, k->n, sizeof *k->buf, rec_cmp);
    char *p = run_path(k, k->next_run);
    FILE *f = p ? fopen(p, "wb") : NULL;
    rd_status st = f   ? write_all(f, k->buf, k->n * sizeof *k->buf, p, err)
                   : p ? RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", p)
                       : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (f && fclose(f) != 0 && st == RD_OK)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", p);
    free(p);
    if (st == RD_OK) {
        k->next_run++;
        k->runs++;
        k->n = 0;
    }
    return st;
}

rd_status rd_dyn_keyset_add(rd_dyn_keyset *k, const char *key, size_t keylen, const char *where,
                            rd_error *err)
{
    unsigned char h[EVP_MAX_MD_SIZE];
    unsigned int hl = 0;
    uint32_t kl = (uint32_t)keylen, wl = (uint32_t)strlen(where);
    if (keylen > KEY_MAX)
        return RD_ERR(err, RD_ERR_FORMAT, "%s: key longer than %u bytes", where, KEY_MAX);
    EVP_Digest(key, keylen, h, &hl, EVP_sha256(), NULL);
    uint64_t fp = 0;
    for (int i = 0; i < 8; i++)
        fp = fp << 8 | h[i];
    if (k->fp_bits < 64)
        fp >>= 64 - k->fp_bits;
    rd_status st = write_all(k->keys, &kl, sizeof kl, "the key file", err);
    if (st == RD_OK)
        st = write_all(k->keys, key, keylen, "the key file", err);
    if (st == RD_OK)
        st = write_all(k->keys, &wl, sizeof wl, "the key file", err);
    if (st == RD_OK)
        st = write_all(k->keys, where, wl, "the key file", err);
    if (st != RD_OK)
        return st;
    k->buf[k->n].fp = fp;
    k->buf[k->n].off = k->keys_off;
    k->n++;
    k->items++;
    k->keys_off += sizeof kl + keylen + sizeof wl + wl;
    return k->n == k->cap ? flush_run(k, err) : RD_OK;
}

/* --- merging --- */

typedef struct src {
    FILE *f;
    rec cur;
} src;

typedef struct heap {
    src *s;
    size_t n;
} heap;

static int src_less(const src *a, const src *b)
{
    return rec_cmp(&a->cur, &b->cur) < 0;
}

static void sift_down(heap *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->n && src_less(&h->s[l], &h->s[m]))
            m = l;
        if (r < h->n && src_less(&h->s[r], &h->s[m]))
            m = r;
        if (m == i)
            return;
        src t = h->s[i];
        h->s[i] = h->s[m];
        h->s[m] = t;
        i = m;
    }
}

typedef rd_status (*rec_fn)(void *ud, const rec *r, rd_error *err);

/* Merge runs [from, to) in order into fn. */
static rd_status merge(rd_dyn_keyset *k, size_t from, size_t to, rec_fn fn, void *ud, rd_error *err)
{
    heap h = {calloc(to - from, sizeof(src)), 0};
    char **bufs = calloc(to - from, sizeof(char *));
    rd_status st = h.s && bufs ? RD_OK : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    for (size_t i = from; st == RD_OK && i < to; i++) {
        char *p = run_path(k, i);
        FILE *f = p ? fopen(p, "rb") : NULL;
        if (!f) {
            st = p ? RD_ERR_ERRNO(err, RD_ERR_IO, "cannot open %s", p)
                   : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        } else {
            bufs[i - from] = malloc(IOBUF);
            if (bufs[i - from])
                setvbuf(f, bufs[i - from], _IOFBF, IOBUF);
            src s = {f, {0, 0}};
            if (fread(&s.cur, sizeof s.cur, 1, f) == 1)
                h.s[h.n++] = s;
            else
                fclose(f);
        }
        free(p);
    }
    for (size_t i = h.n; i-- > 0;)
        sift_down(&h, i);
    while (st == RD_OK && h.n > 0) {
        st = fn(ud, &h.s[0].cur, err);
        if (fread(&h.s[0].cur, sizeof h.s[0].cur, 1, h.s[0].f) != 1) {
            fclose(h.s[0].f);
            h.s[0] = h.s[--h.n];
        }
        sift_down(&h, 0);
    }
    for (size_t i = 0; i < h.n; i++)
        fclose(h.s[i].f);
    for (size_t i = 0; bufs && i < to - from; i++)
        free(bufs[i]);
    free(bufs);
    free(h.s);
    for (size_t i = from; i < to; i++) {
        char *p = run_path(k, i);
        if (p)
            unlink(p);
        free(p);
    }
    return st;
}

static rd_status to_file(void *ud, const rec *r, rd_error *err)
{
    return write_all(ud, r, sizeof *r, "a merged key run", err);
}

/* The records of one fingerprint: the distinct keys met so far (their
 * bytes), to compare each later record with. */
typedef struct group {
    rd_dyn_keyset *k;
    uint64_t fp, keys_first; /* keys_first: the offset of the group's first record */
    size_t n;
    char **keys;
    uint32_t *lens;
    size_t nd, capd;
    rd_dyn_dup_fn fn;
    void *ud;
    char *kbuf, *wbuf;
} group;

static void group_reset(group *g)
{
    for (size_t i = 0; i < g->nd; i++)
        free(g->keys[i]);
    g->nd = 0;
    g->n = 0;
}

static rd_status read_at(FILE *f, uint64_t off, void *p, size_t n, rd_error *err)
{
    if (pread(fileno(f), p, n, (off_t)off) != (ssize_t)n)
        return RD_ERR_ERRNO(err, RD_ERR_IO, "cannot read the key file");
    return RD_OK;
}

static rd_status remember(group *g, const char *key, uint32_t kl, rd_error *err)
{
    if (g->nd == g->capd) {
        size_t nc = g->capd ? g->capd * 2 : 4;
        char **nk = realloc(g->keys, nc * sizeof *nk);
        if (nk)
            g->keys = nk;
        uint32_t *nl = nk ? realloc(g->lens, nc * sizeof *nl) : NULL;
        if (!nk || !nl)
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        g->lens = nl;
        g->capd = nc;
    }
    if (!(g->keys[g->nd] = malloc(kl ? kl : 1)))
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    memcpy(g->keys[g->nd], key, kl);
    g->lens[g->nd++] = kl;
    return RD_OK;
}

/* Key and where of the record at off into g's buffers. */
static rd_status load(group *g, uint64_t off, uint32_t *kl, rd_error *err)
{
    uint32_t wl = 0;
    rd_status st = read_at(g->k->keys, off, kl, sizeof *kl, err);
    if (st == RD_OK && *kl > KEY_MAX)
        st = RD_ERR(err, RD_ERR_IO, "the key file is damaged");
    if (st == RD_OK)
        st = read_at(g->k->keys, off + sizeof *kl, g->kbuf, *kl, err);
    if (st == RD_OK)
        st = read_at(g->k->keys, off + sizeof *kl + *kl, &wl, sizeof wl, err);
    if (st == RD_OK && wl >= 1024)
        st = RD_ERR(err, RD_ERR_IO, "the key file is damaged");
    if (st == RD_OK)
        st = read_at(g->k->keys, off + 2 * sizeof *kl + *kl, g->wbuf, wl, err);
    if (st == RD_OK) {
        g->kbuf[*kl] = '\0';
        g->wbuf[wl] = '\0';
    }
    return st;
}

static rd_status to_groups(void *ud, const rec *r, rd_error *err)
{
    group *g = ud;
    uint32_t kl = 0;
    rd_status st = RD_OK;
    if (g->n == 0 || r->fp != g->fp) {
        group_reset(g);
        g->fp = r->fp;
        g->n = 1;
        g->keys_first = r->off;
        return RD_OK;
    }
    /* a second record with this fingerprint: compare keys exactly */
    if (g->n == 1) {
        if ((st = load(g, g->keys_first, &kl, err)) != RD_OK ||
            (st = remember(g, g->kbuf, kl, err)) != RD_OK)
            return st;
    }
    g->n++;
    if ((st = load(g, r->off, &kl, err)) != RD_OK)
        return st;
    for (size_t i = 0; i < g->nd; i++)
        if (g->lens[i] == kl && memcmp(g->keys[i], g->kbuf, kl) == 0) {
            g->fn(g->ud, g->wbuf, g->kbuf);
            return RD_OK;
        }
    return remember(g, g->kbuf, kl, err);
}

rd_status rd_dyn_keyset_finish(rd_dyn_keyset *k, rd_dyn_dup_fn fn, void *ud, rd_error *err)
{
    rd_status st = flush_run(k, err);
    if (st == RD_OK && fflush(k->keys) != 0)
        st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write the key file");
    /* passes of FANIN runs into one until FANIN or fewer are left */
    while (st == RD_OK && k->runs > FANIN) {
        char *p = run_path(k, k->next_run);
        FILE *f = p ? fopen(p, "wb") : NULL;
        char *b = malloc(IOBUF);
        if (!f) {
            st = p ? RD_ERR_ERRNO(err, RD_ERR_IO, "cannot create %s", p)
                   : RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        } else {
            if (b)
                setvbuf(f, b, _IOFBF, IOBUF);
            st = merge(k, k->first_run, k->first_run + FANIN, to_file, f, err);
            if (fclose(f) != 0 && st == RD_OK)
                st = RD_ERR_ERRNO(err, RD_ERR_IO, "cannot write %s", p);
            k->first_run += FANIN;
            k->next_run++;
            k->runs -= FANIN - 1;
        }
        free(b);
        free(p);
    }
    group g = {.k = k, .fn = fn, .ud = ud};
    g.kbuf = malloc(KEY_MAX + 1);
    g.wbuf = malloc(1024);
    if (st == RD_OK && (!g.kbuf || !g.wbuf))
        st = RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    if (st == RD_OK)
        st = merge(k, k->first_run, k->next_run, to_groups, &g, err);
    group_reset(&g);
    free(g.keys);
    free(g.lens);
    free(g.kbuf);
    free(g.wbuf);
    return st;
}
