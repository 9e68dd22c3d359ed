/* catalog_int.h: what the file catalogs (dir.c, s3.c) share: sidecar
 * manifests and the choice of a point's creation time. Included only inside
 * harness/catalog. */
#ifndef RESTOREDRILL_CATALOG_INT_H
#define RESTOREDRILL_CATALOG_INT_H

#include <stddef.h>
#include <stdint.h>

#include "restoredrill/catalog.h"

#define RD_CAT_SIDECAR_SUFFIX ".manifest.json"

typedef enum time_src { SRC_AUTO = 0, SRC_MANIFEST, SRC_NAME, SRC_MTIME } time_src;

/* catalog.time_from: NULL (auto) | manifest | name | mtime. */
rd_status rd_cat_time_from(const char *s, time_src *out, rd_error *err);

/* Take captured_at and the "artifact" facts (sha256, format) of a sidecar
 * manifest's text into pt; *has_time is 0 without captured_at. name is used
 * in messages. */
rd_status rd_cat_sidecar_parse(const char *text, size_t len, const char *name, rd_point *pt,
                               int *has_time, int64_t *ms, rd_error *err);

/* Set pt->created_ms and pt->time_basis from the manifest's time (when
 * have_manifest), a timestamp in name, else mtime_ms ("mtime": the file's
 * mtime, or an object's LastModified), as src allows. RD_ERR_NOTFOUND when
 * time_from forces a source the point lacks. */
rd_status rd_cat_choose_time(time_src src, int have_manifest, int64_t manifest_ms, const char *name,
                             int64_t mtime_ms, rd_point *pt, rd_error *err);

/* The s3 listing behind both the s3 catalog and dir on s3://bucket/prefix. */
rd_status rd_cat_s3_list(const rd_catalog_cfg *cfg, const char *bucket, const char *prefix,
                         rd_points *out, rd_error *err);

#endif
