/* ranges.c: a drill of a few databases of a cluster-wide dump reads only
 * their pieces (docs/tenants.md, "Section ranges"): the cluster manifest
 * written by `backup` lists the stored file's pieces (artifact.sections,
 * each a gzip member / zstd frame / plain run of its own); the shared ones
 * (preamble or globals, trailer) and the chosen databases' ones, in file
 * order, decode into a valid dump of those databases, which the section
 * filters restore as they would the whole file. Each piece is checked by
 * its sha256; the whole file's sha256 is not (it is not read). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "drill_int.h"
#include "restoredrill/log.h"
#include "restoredrill/manifest.h"
#include "restoredrill/strbuf.h"

static int chosen(const rd_strlist *dbs, const char *name)
{
    for (size_t i = 0; i < dbs->n; i++)
        if (strcmp(dbs->items[i], name) == 0)
            return 1;
    return 0;
}

void rd_drill_ranges_free(rd_drill_target *dt)
{
    for (size_t i = 0; dt->range_names && i < dt->nranges; i++)
        free(dt->range_names[i]);
    free(dt->range_names);
    free(dt->ranges);
    dt->range_names = NULL;
    dt->ranges = NULL;
    dt->nranges = 0;
    dt->ranges_bytes = 0;
}

rd_status rd_drill_plan_ranges(rd_drill_target *dt, rd_error *err)
{
    const rd_target_cfg *t = dt->t;
    rd_status st = RD_OK;
    if (!t->databases.n || t->restore.decrypt.n ||
        (t->restore.read && strcmp(t->restore.read, "whole") == 0))
        return RD_OK;
    /* the databases first, from the manifest alone (no read of the dump) */
    if ((st = rd_drill_choose_databases(dt, NULL, NULL, err)) != RD_OK)
        return st;
    const rd_manifest *c = dt->cluster;
    if (!c || c->nsections == 0 || c->artifact_bytes < 0)
        return RD_OK; /* an older manifest, or one made by `manifest`: the whole dump */
    dt->ranges = calloc(c->nsections, sizeof *dt->ranges);
    dt->range_names = calloc(c->nsections, sizeof *dt->range_names);
    if (!dt->ranges || !dt->range_names) {
        rd_drill_ranges_free(dt);
        return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
    }
    for (size_t i = 0; i < c->nsections; i++) {
        const rd_manifest_section *s = &c->sections[i];
        if (s->database && !chosen(&dt->dbs, s->database))
            continue;
        char *name =
            s->database ? rd_asprintf("section %s", s->database) : rd_strdup("shared section");
        if (!name) {
            rd_drill_ranges_free(dt);
            return RD_ERR(err, RD_ERR_NOMEM, "out of memory");
        }
        rd_artifact_range *r = &dt->ranges[dt->nranges];
        dt->range_names[dt->nranges++] = name;
        r->offset = (uint64_t)s->offset;
        r->length = (uint64_t)s->length;
        r->sha256 = s->sha256;
        r->name = name;
        dt->ranges_bytes += r->length;
    }
    if (dt->nranges == 0) /* cannot be: the tiling holds shared pieces; be safe */
        rd_drill_ranges_free(dt);
    else
        rd_log_info("%s: reading %zu of the %zu pieces of %s (%llu of %lld bytes)", t->name,
                    dt->nranges, c->nsections, dt->point->id, (unsigned long long)dt->ranges_bytes,
                    (long long)c->artifact_bytes);
    return RD_OK;
}

static void bytes_human(uint64_t b, char *buf, size_t n)
{
    if (b >= 1000000000ULL)
        snprintf(buf, n, "%.2f GB", (double)b / 1e9);
    else if (b >= 1000000ULL)
        snprintf(buf, n, "%.1f MB", (double)b / 1e6);
    else if (b >= 1000ULL)
        snprintf(buf, n, "%.1f kB", (double)b / 1e3);
    else
        snprintf(buf, n, "%llu bytes", (unsigned long long)b);
}

char *rd_drill_ranges_note(const rd_drill_target *dt)
{
    char rd[32], all[32];
    if (!dt->nranges || !dt->cluster)
        return NULL;
    bytes_human(dt->ranges_bytes, rd, sizeof rd);
    bytes_human((uint64_t)dt->cluster->artifact_bytes, all, sizeof all);
    return rd_asprintf("read %zu of %zu databases' sections, %s of %s, each piece verified by its "
                       "sha256 in the cluster manifest; the rest of the dump was not read (its "
                       "whole-file sha256 was not verified; restore.read \"whole\" reads and "
                       "verifies all of it)",
                       dt->dbs.n, dt->cluster->ndatabases, rd, all);
}
