#!/bin/sh
# t_s3_drill.sh: full drills from S3 on both engines against a local
# moto_server that verifies SigV4 signatures (tests/s3/s3server.py):
# PostgreSQL custom dumps from an "s3" catalog (sidecar manifests as objects,
# sha256 verified while streaming, rowcount against the manifest), MariaDB
# dumps from a "dir" catalog whose path is s3://bucket; `list` over S3 (points,
# times from the names, RPO exposure); a tampered object fails its sha256; a
# wrong secret fails with S3's own message and never prints the secret.
# Skips when moto is not installed. (moto 5.2.1 refuses prefixes with '/', so
# the prefixes here have none; keys with '/' are covered in test_s3.c.)
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
s3dir="$tmp/s3"
. "$here/s3/s3lib.sh"
s3_start
s3_isolate
put() { python3 "$here/s3/s3server.py" put "$s3dir" "$@" || fail "upload of $2"; }

python3 "$here/s3/s3server.py" mb "$s3dir" backups mariadb tampered || { echo "mb failed"; exit 1; }
# `restoredrill backup -o s3://backups/up-...` streams one dump per engine into S3
AWS_ENDPOINT_URL_S3=$RD_S3_ENDPOINT RD_FIXTURE_S3=s3://backups/up- make_backups
b="$tmp/backups"
for f in "$b"/pg-custom/shop-*; do put backups "pg-$(basename "$f")" "$f"; done
for f in "$b"/mariadb-sql/shop-*; do put mariadb "$(basename "$f")" "$f"; done
# a pg_dump directory-format dump: its files under pgdir-NAME/, the sidecar beside
for d in "$b"/pg-directory/shop-*.dir; do
    for f in "$d"/*; do put backups "pgdir-$(basename "$d")/$(basename "$f")" "$f"; done
    [ -f "$d.manifest.json" ] && put backups "pgdir-$(basename "$d").manifest.json" "$d.manifest.json"
done
pgdir=$(ls -d "$b"/pg-directory/shop-*.dir | head -n 1)
# the newest point's bytes changed after its manifest was written
newest=$(ls "$b"/pg-custom/shop-*.dump | sort | tail -n 1)
put tampered "$(basename "$newest").manifest.json" "$newest.manifest.json"
cp "$newest" "$tmp/tampered.dump"
printf 'x' | dd of="$tmp/tampered.dump" bs=1 seek=5000 conv=notrunc 2>/dev/null
put tampered "$(basename "$newest")" "$tmp/tampered.dump"

cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "s3", "seed": 5, "parallel": 1,
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [
    {"name": "pg", "engine": "postgres", "objectives": {"rpo": "26h"},
     "catalog": {"type": "s3", "bucket": "backups", "prefix": "pg-", "pattern": "shop-*.dump",
                 "endpoint": "$RD_S3_ENDPOINT", "region": "us-east-1", "time_from": "name"},
     "sample": {"strategy": "latest"}},
    {"name": "maria", "engine": "mariadb",
     "catalog": {"type": "dir", "path": "s3://mariadb", "pattern": "shop-*.sql",
                 "endpoint": "$RD_S3_ENDPOINT", "path_style": true, "time_from": "name"},
     "sample": {"strategy": "oldest"}},
    {"name": "pg-uploaded", "engine": "postgres",
     "catalog": {"type": "s3", "bucket": "backups", "prefix": "up-pg-", "pattern": "shop-*.dump",
                 "endpoint": "$RD_S3_ENDPOINT"},
     "reference": {"manifest": "sidecar"}},
    {"name": "maria-uploaded", "engine": "mariadb",
     "catalog": {"type": "s3", "bucket": "backups", "prefix": "up-maria-", "endpoint": "$RD_S3_ENDPOINT"},
     "reference": {"manifest": "sidecar"}},
    {"name": "pg-dir", "engine": "postgres",
     "catalog": {"type": "s3", "bucket": "backups", "prefix": "pgdir-", "pattern": "shop-*.dir",
                 "endpoint": "$RD_S3_ENDPOINT", "time_from": "name"},
     "restore": {"jobs": 2}},
    {"name": "tampered", "engine": "postgres",
     "catalog": {"type": "s3", "bucket": "tampered", "endpoint": "$RD_S3_ENDPOINT",
                 "time_from": "name"}}
  ] }
JSON

run "$RD_BIN" list "$tmp/drill.json" --target pg --target maria --json
expect_rc 0 "list"
cp "$tmp/out.txt" "$tmp/list.json"
expect_eq "$(jq -r '.targets[0].points | length' "$tmp/list.json")" 3 "pg points listed"
expect_eq "$(jq -r '[.targets[0].points[].time_basis] | unique | join(",")' "$tmp/list.json")" name "pg time basis"
expect_eq "$(jq -r '[.targets[0].points[].manifest] | all' "$tmp/list.json")" true "pg sidecars found"
expect_eq "$(jq -r '.targets[0].points[2].location' "$tmp/list.json")" "s3://backups/pg-$(basename "$newest")" "pg location"
expect_eq "$(jq -r '.targets[0].points[2].bytes' "$tmp/list.json")" "$(stat -c %s "$newest")" "pg bytes"
expect_eq "$(jq -r '.targets[0].rpo_exposure_seconds | floor' "$tmp/list.json")" 86400 "pg RPO exposure (24h gap)"
expect_eq "$(jq -r '.targets[1].points | length' "$tmp/list.json")" 3 "mariadb points listed"

mkdir -p "$tmp/tmpdir"
TMPDIR="$tmp/tmpdir" run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run (the tampered target fails)"
expect_eq "$(jqr '.targets[0].status')" passed "pg target"
expect_eq "$(jqr '.targets[0].recovery_point.location')" "s3://backups/pg-$(basename "$newest")" "pg point"
expect_eq "$(jqr '.targets[0].recovery_point.sha256')" "$(sha256sum "$newest" | cut -d' ' -f1)" "pg sha256"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "rowcount") | .status] | unique | join(",")')" passed "pg rowcounts"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "rowcount")] | length > 2')" true "pg rowcount per table"
expect_eq "$(jqr '.targets[1].status')" passed "mariadb target"
oldest=$(ls "$b"/mariadb-sql/shop-*.sql | sort | head -n 1)
expect_eq "$(jqr '.targets[1].recovery_point.location')" "s3://mariadb/$(basename "$oldest")" "mariadb point"
expect_eq "$(jqr '[.targets[1].checks[] | select(.type == "rowcount") | .status] | unique | join(",")')" passed "mariadb rowcounts"
expect_eq "$(jqr '.targets[5].status')" failed "tampered target"
jqr '.targets[5].error' | grep -q "sha256 mismatch: expected $(sha256sum "$newest" | cut -d' ' -f1), got $(sha256sum "$tmp/tampered.dump" | cut -d' ' -f1)" ||
    fail "tampered: $(jqr '.targets[5].error')"
for i in 2 3; do
    expect_eq "$(jqr ".targets[$i].status")" passed "uploaded target $i"
    expect_eq "$(jqr ".targets[$i].recovery_point.sha256 | length")" 64 "uploaded target $i sha256 from its manifest"
    expect_eq "$(jqr "[.targets[$i].checks[] | select(.type == \"rowcount\") | .status] | unique | join(\",\")")" passed "uploaded target $i rowcounts"
done
expect_eq "$(jqr '.targets[4].status')" passed "pg directory dump from S3"
expect_eq "$(jqr '.targets[4].recovery_point.format')" pg-directory "pg directory format"
expect_eq "$(jqr '.targets[4].recovery_point.bytes')" "$(cat "$pgdir"/* | wc -c)" "pg directory bytes"
expect_eq "$(jqr '[.targets[4].checks[] | select(.type == "rowcount") | .status] | unique | join(",")')" passed "pg directory rowcounts"
expect_has "$tmp/err.txt" "downloading the directory-format dump s3://backups/pgdir-$(basename "$pgdir")" "download logged"
expect_eq "$(ls -A "$tmp/tmpdir" | grep rd-s3dump || true)" "" "downloaded dump removed"
no_leftovers "run"
# a backup whose dump fails leaves no object behind (the multipart upload is aborted)
AWS_ENDPOINT_URL_S3=$RD_S3_ENDPOINT run "$RD_BIN" backup --engine postgres --dsn "host=/nonexistent dbname=x" -o s3://backups/failed.dump
expect_rc 1 "backup to S3 with a bad DSN"
python3 "$here/s3/s3server.py" ls "$s3dir" backups failed >"$tmp/failed.txt"
expect_eq "$(cat "$tmp/failed.txt")" "" "no failed.dump object"
AWS_ENDPOINT_URL_S3=$RD_S3_ENDPOINT run "$RD_BIN" backup --engine postgres --dsn "dbname=x" --format directory -o s3://backups/dir
expect_rc 2 "directory format to S3"
expect_has "$tmp/err.txt" "--format directory cannot be written to s3://backups/dir" "directory format refused"

# a wrong secret: S3's refusal, never the secret
AWS_SECRET_ACCESS_KEY=wrong-secret-do-not-print run "$RD_BIN" list "$tmp/drill.json" --target pg
grep -q "s3 GET s3://backups/: 403 SignatureDoesNotMatch" "$tmp/err.txt" "$tmp/out.txt" || fail "wrong secret: $(cat "$tmp/err.txt")"
grep -q "wrong-secret-do-not-print" "$tmp/err.txt" "$tmp/out.txt" && fail "the secret was printed"
finish
