/* cmd_list_archive.c: what `restoredrill list` adds for a physical catalog
 * (pg-archive, pgbackrest, mariabackup): each base backup's reach or why it
 * is broken, the restorable window, and every gap of the archive (RPO
 * exposure). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "cli_int.h"
#include "restoredrill/clock.h"

static const char *tf(int64_t ms, char *buf, size_t n)
{
    return ms > 0 ? rd_time_format(ms, buf, n) : "unknown";
}

void rd_cli_print_archive(const rd_points *pts, const rd_sample *smp, int picked)
{
    const rd_archive *a = pts->archive;
    char b1[RD_TIME_BUFSZ], b2[RD_TIME_BUFSZ];
    if (!a)
        return;
    printf("  base backups:\n");
    for (size_t i = 0; i < pts->n; i++) {
        const rd_point *p = &pts->items[i];
        if (p->broken)
            printf("    %-38s BROKEN: %s\n", p->id, p->broken);
        else
            printf("    %-38s label %s, consistent at %s, reaches %s (WAL from %s)\n", p->id,
                   p->base ? p->base : "?", tf(p->created_ms, b1, sizeof b1),
                   tf(p->reach_ms, b2, sizeof b2), p->wal_start ? p->wal_start : "?");
    }
    if (a->start_ms > 0)
        printf("  restorable window: %s to %s (last reachable commit)\n",
               tf(a->start_ms, b1, sizeof b1), tf(a->end_ms, b2, sizeof b2));
    else
        printf("  restorable window: none (no usable base backup)\n");
    printf("  archive: %zu segment%s, %s to %s, newest %s%s%s\n", a->files,
           a->files == 1 ? "" : "s", a->first ? a->first : "?", a->last ? a->last : "?",
           a->newest ? a->newest : "none", a->timelines ? ", timelines " : "",
           a->timelines ? a->timelines : "");
    if (a->ngaps == 0)
        printf("  gaps: none\n");
    for (size_t i = 0; i < a->ngaps; i++) {
        const rd_wal_gap *g = &a->gaps[i];
        if (g->damage) {
            printf("  GAP: %s is %s: %s to %s cannot be recovered\n", g->first, g->damage,
                   tf(g->from_ms, b1, sizeof b1),
                   g->to_ms > 0 ? tf(g->to_ms, b2, sizeof b2) : "the end of the archive");
            continue;
        }
        printf("  GAP: %s%s%s missing: %s to %s cannot be recovered\n", g->first,
               strcmp(g->first, g->last) ? " to " : "", strcmp(g->first, g->last) ? g->last : "",
               tf(g->from_ms, b1, sizeof b1),
               g->to_ms > 0 ? tf(g->to_ms, b2, sizeof b2) : "the end of the archive");
    }
    if (picked && smp->pitr != RD_PITR_NONE)
        printf("  recovery target: %s\n", smp->pitr == RD_PITR_CONSISTENT
                                              ? "the base backup's consistency point"
                                              : tf(smp->target_ms, b1, sizeof b1));
}

void rd_cli_json_archive(cJSON *o, const rd_points *pts, const rd_sample *smp, int picked)
{
    const rd_archive *a = pts->archive;
    char b[RD_TIME_BUFSZ];
    if (!a)
        return;
    cJSON *j = cJSON_AddObjectToObject(o, "archive");
    cJSON *bs = cJSON_AddArrayToObject(j, "base_backups");
    for (size_t i = 0; bs && i < pts->n; i++) {
        const rd_point *p = &pts->items[i];
        cJSON *x = cJSON_CreateObject();
        if (!x)
            break;
        cJSON_AddStringToObject(x, "id", p->id);
        cJSON_AddStringToObject(x, "label", p->base ? p->base : "");
        cJSON_AddStringToObject(x, "wal_start", p->wal_start ? p->wal_start : "");
        if (p->broken) {
            cJSON_AddStringToObject(x, "broken", p->broken);
            cJSON_AddNullToObject(x, "reaches");
        } else {
            cJSON_AddNullToObject(x, "broken");
            cJSON_AddStringToObject(x, "reaches", tf(p->reach_ms, b, sizeof b));
        }
        cJSON_AddItemToArray(bs, x);
    }
    if (a->start_ms > 0) {
        cJSON_AddStringToObject(j, "window_start", tf(a->start_ms, b, sizeof b));
        cJSON_AddStringToObject(j, "window_end", tf(a->end_ms, b, sizeof b));
    } else {
        cJSON_AddNullToObject(j, "window_start");
        cJSON_AddNullToObject(j, "window_end");
    }
    cJSON_AddNumberToObject(j, "files", (double)a->files);
    cJSON_AddStringToObject(j, "first", a->first ? a->first : "");
    cJSON_AddStringToObject(j, "last", a->last ? a->last : "");
    cJSON_AddStringToObject(j, "newest", a->newest ? a->newest : "");
    cJSON *gs = cJSON_AddArrayToObject(j, "gaps");
    for (size_t i = 0; gs && i < a->ngaps; i++) {
        cJSON *g = cJSON_CreateObject();
        if (!g)
            break;
        cJSON_AddStringToObject(g, "first", a->gaps[i].first);
        cJSON_AddStringToObject(g, "last", a->gaps[i].last);
        if (a->gaps[i].damage)
            cJSON_AddStringToObject(g, "damage", a->gaps[i].damage);
        else
            cJSON_AddNullToObject(g, "damage");
        if (a->gaps[i].from_ms > 0)
            cJSON_AddStringToObject(g, "from", tf(a->gaps[i].from_ms, b, sizeof b));
        else
            cJSON_AddNullToObject(g, "from");
        if (a->gaps[i].to_ms > 0)
            cJSON_AddStringToObject(g, "to", tf(a->gaps[i].to_ms, b, sizeof b));
        else
            cJSON_AddNullToObject(g, "to");
        cJSON_AddItemToArray(gs, g);
    }
    if (picked && (smp->pitr == RD_PITR_TIME || smp->pitr == RD_PITR_LATEST))
        cJSON_AddStringToObject(j, "target_time", tf(smp->target_ms, b, sizeof b));
    else
        cJSON_AddNullToObject(j, "target_time");
}
