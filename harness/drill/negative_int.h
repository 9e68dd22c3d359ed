/* negative_int.h: what the negative control's files share (negative.c
 * runs it and judges, negative_plant.c plants the faults). Not a public
 * contract. */
#ifndef RESTOREDRILL_NEGATIVE_INT_H
#define RESTOREDRILL_NEGATIVE_INT_H

#include <stddef.h>
#include <stdint.h>

#include "drill_int.h"
#include "restoredrill/db.h"
#include "restoredrill/prng.h"

#define NC_TIMEOUT 60.0

typedef enum fault_kind { F_DELETE, F_CHANGE, F_INDEX, F_ORPHAN, F_COUNT } fault_kind;

typedef struct fault {
    int planted;   /* 1 planted, 0 nothing to plant (skipped), -1 could not plant (error) */
    char *object;  /* the object a catching result names ("public.orders", "indexes", ...) */
    char *what;    /* for the report: "public.orders: one row deleted" */
    char *why_not; /* skipped / error reason */
} fault;

typedef struct nc {
    rd_drill_target *dt;
    /* multi-database targets: the database the faults are planted in (one
     * of dt->dbs, drawn from the seed) and the instance's view of it;
     * NULL otherwise */
    const char *database;
    rd_scratch *view;
    rd_db *db;
    rd_engine engine;
    rd_prng prng;
    fault f[F_COUNT];
    char *used[3]; /* tables already holding a fault (object keys) */
    size_t nused;
} nc;

/* Run one statement in the planting session; 1 when it changed exactly
 * want rows (want < 0: when it did not fail). Failures are logged (debug). */
int rd_nc_exec(nc *c, const char *sql, int64_t want);
/* Plant each fault, in this order: *parent gets the orphaned foreign key's
 * parent table (heap), which the deleted row avoids. */
void rd_nc_plant_orphan(nc *c, char **parent);
void rd_nc_plant_delete(nc *c, const rd_db_tables *tabs, const char *parent);
void rd_nc_plant_change(nc *c, const rd_db_tables *tabs);
void rd_nc_plant_index(nc *c);

#endif
