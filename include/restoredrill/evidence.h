/* evidence.h: evidence an auditor can trust (DESIGN section 12): detached
 * signatures of report files, signed history lines, and the evidence pack.
 *
 * A detached signature FILE.sig is one JSON object (docs/evidence.md):
 *   {"schema": "restoredrill/signature/v1", "algorithm": "ed25519",
 *    "key_fingerprint": "sha256:<hex>", "file": "<base name>",
 *    "bytes": N, "sha256": "<hex of the file>", "signature": "<base64>"}
 * where signature is the Ed25519 signature of the file's exact bytes.
 * A signed history line ends with the member
 *   ,"signature":{"key_fingerprint":"sha256:<hex>","ed25519":"<base64>"}}
 * and its signature covers the line without that member (the bytes before
 * `,"signature":` followed by `}`). */
#ifndef RESTOREDRILL_EVIDENCE_H
#define RESTOREDRILL_EVIDENCE_H

#include <stddef.h>

#include "restoredrill/error.h"
#include "restoredrill/result.h"
#include "restoredrill/sign.h"
#include "restoredrill/spans.h"

#define RD_SIGNATURE_SCHEMA "restoredrill/signature/v1"

/* Sign the exact bytes of the file at path; write the signature to
 * path + ".sig" (atomically). */
rd_status rd_evidence_sign_file(const char *path, const rd_sign_key *key, rd_error *err);

/* Verify the file at path against sig_path (NULL: path + ".sig") with pub.
 * RD_OK when valid. RD_ERR_INTEGRITY when not, the message saying why:
 * "F was signed by key sha256:A, not by sha256:B", "F changed after it was
 * signed (sha256 X, signed Y)", "signature does not match"; RD_ERR_NOTFOUND
 * "F is not signed: F.sig does not exist"; RD_ERR_FORMAT for a malformed
 * signature file. */
rd_status rd_evidence_verify_file(const char *path, const char *sig_path, const rd_sign_key *pub,
                                  rd_error *err);

/* Append the signature member to a compact JSON object line (no newline):
 * *out is a heap copy of line with `,"signature":{...}` before its final
 * `}`. */
rd_status rd_evidence_sign_line(const char *line, const rd_sign_key *key, char **out,
                                rd_error *err);
/* Verify one line (no newline). RD_OK valid; RD_ERR_NOTFOUND "not signed";
 * RD_ERR_INTEGRITY "signed by key sha256:A, not by sha256:B" or
 * "signature does not match"; RD_ERR_FORMAT for a malformed member. */
rd_status rd_evidence_verify_line(const char *line, size_t len, const rd_sign_key *pub,
                                  rd_error *err);

/* Verify every line of a history file: the chain (as rd_history_verify) and
 * each line's signature with pub. *lines gets the number of lines, *bad_line
 * the first bad one (1-based, 0 when none). RD_ERR_NOTFOUND when the file
 * does not exist. An unsigned line is RD_ERR_INTEGRITY "line K: not signed". */
rd_status rd_evidence_verify_history(const char *path, const rd_sign_key *pub, size_t *lines,
                                     size_t *bad_line, rd_error *err);

/* The configuration text with secrets removed, as pretty JSON (comments
 * dropped): values of keys named like password, passwd, secret, token,
 * webhook, credential or api_key become "[redacted]"; in values that came
 * from ${VAR} expansion the variable references stay and their defaults
 * become "[redacted]" (`${DB_URL:-[redacted]}`), never an environment
 * value; DSN and URL passwords are masked. *redacted gets the number of
 * values changed. RD_ERR_FORMAT when text is not JSON with comments. */
rd_status rd_evidence_redact_config(const char *text, char **out, size_t *redacted, rd_error *err);

/* Write the evidence pack: a gzip-compressed ustar archive at out_path
 * (replaced atomically) holding, under "restoredrill-evidence-<drill id>/",
 * every regular file of outdir (reports, signatures, history; not *.lock,
 * hidden files or *.tar.gz), the configuration with secrets removed
 * (config.redacted.json; config_path NULL: the one the report names),
 * SHA256SUMS and README.txt for the auditor. RD_ERR_NOTFOUND when outdir
 * holds no restoredrill JSON report or the configuration is missing. */
rd_status rd_evidence_pack(const char *outdir, const char *config_path, const char *out_path,
                           rd_error *err);

/* Which recovery points passed drills verified, from a history file (for
 * `coverage`, strategy least-verified and the report's coverage). */
typedef struct rd_coverage rd_coverage; /* opaque */
/* Load the history at path; a missing file gives an empty index. Lines
 * that do not parse are skipped (`history verify` reports damage).
 * *out is the caller's. */
rd_status rd_coverage_load(const char *path, rd_coverage **out, rd_error *err);
void rd_coverage_free(rd_coverage *c);
/* Passed drills of target that restored point_id; cov is an rd_coverage
 * (void * so that it fits rd_drill_opts.verified). Thread-safe (reads). */
size_t rd_coverage_verified(void *cov, const char *target, const char *point_id);
/* started_at of the newest passed drill of that point; 0 none. */
int64_t rd_coverage_last(const rd_coverage *c, const char *target, const char *point_id);
/* The stretches of a PITR window that passed drills of target proved
 * restorable, one per drill (unmerged): a drill that recovered base backup B
 * (ended at point_created_at) to target_time T proves [B's end, T] (the
 * spans are half-open: [B's end, T + 1ms)). *out heap (free), NULL when
 * none; returns the count. Thread-safe (reads); cov as above. */
size_t rd_coverage_proven(void *cov, const char *target, rd_span **out);

/* rd_history_append with the new line signed by key (NULL: unsigned). */
rd_status rd_history_append_signed(const rd_report *r, const char *path, const rd_sign_key *key,
                                   rd_error *err);

#endif
