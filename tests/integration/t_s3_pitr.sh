#!/bin/sh
# t_s3_pitr.sh: a pg-archive catalog whose base_dir and wal_dir are s3://
# locations on a local moto_server with authentication on (the same trees as
# t_pitr.sh, uploaded as they are): list (base backups, window, gaps) as from
# the directories, a PITR drill to a random time and to the latest commit
# (the tar backup streamed into tar -x), the plain backup to its consistency
# point with pg_verifybackup, a missing segment named as a gap, and a wrong
# secret failing with S3's message without printing it. The server never
# holds AWS credentials: its restore_command reads a private copy of the WAL.
# Each bucket is used at its root (moto 5.2.1 refuses listing prefixes with '/').
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$(dirname "$0")/../pitrlib.sh"
need_bin
expect_not_has() { if grep -qF -- "$2" "$1"; then fail "$3: $(basename "$1") has [$2]"; fi; }
here=$(cd "$(dirname "$0")/.." && pwd)
s3dir="$tmp/s3"
. "$here/s3/s3lib.sh"
s3_start
s3_isolate


A="$tmp/a"
env "$fixtures/make-pitr.sh" "$A" "$RD_BIN" >"$tmp/make-pitr.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then echo "skipping: no PostgreSQL server binaries"; exit 77; fi
[ $mrc -eq 0 ] || { cat "$tmp/make-pitr.log"; echo "make-pitr.sh failed ($mrc)"; exit 1; }
s3cmd mb pgbase pgwal gapwal
s3cmd puttree pgbase "$A/base"
s3cmd puttree pgwal "$A/wal"

default_checks='[{"type": "integrity"}, {"type": "sql", "query": "SELECT count(*) FROM orders", "expect": ">= 100"}]'
config() { # config NAME BASE WAL SAMPLE [CHECKS]
    checks=${5:-$default_checks}
    cat >"$tmp/$1.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out-$1"},
  "targets": [ { "name": "shop", "engine": "postgres",
     "catalog": {"type": "pg-archive", "base_dir": "$2", "wal_dir": "$3",
                 "endpoint": "$RD_S3_ENDPOINT", "region": "us-east-1"},
     "sample": $4,
     "checks": $checks } ] }
JSON
}

# --- list: the same points, window and gaps as from the directories ---
config local "$A/base" "$A/wal" '{"strategy": "pitr-random"}'
config list s3://pgbase s3://pgwal '{"strategy": "pitr-random"}'
run "$RD_BIN" list "$tmp/local.json" --json --seed 3
expect_rc 0 "list local"
jq 'del(.targets[0].catalog_seconds, .config) | walk(if type == "object" then del(.location, .generated_at, .age_seconds, .rpo_exposure_seconds, .newest_age_seconds) else . end)' "$tmp/out.txt" >"$tmp/list-local.json"
run "$RD_BIN" list "$tmp/list.json" --json --seed 3
expect_rc 0 "list s3"
jq 'del(.targets[0].catalog_seconds, .config) | walk(if type == "object" then del(.location, .generated_at, .age_seconds, .rpo_exposure_seconds, .newest_age_seconds) else . end)' "$tmp/out.txt" >"$tmp/list-s3.json"
diff "$tmp/list-local.json" "$tmp/list-s3.json" >"$tmp/list.diff" || { cat "$tmp/list.diff"; fail "list: S3 differs from the directories"; }
expect_eq "$(jq -r '.targets[0].points | length' "$tmp/list-s3.json")" 2 "list: two base backups"
expect_eq "$(jq -r '[.targets[0].points[].location] | sort | join(" ")' "$tmp/out.txt")" \
    "s3://pgbase/b1-plain s3://pgbase/b2-tar" "list: locations"
run "$RD_BIN" list "$tmp/list.json"
expect_has "$tmp/out.txt" "gaps: none" "list: gaps"
expect_has "$tmp/out.txt" "restorable window: " "list: window"

# --- pitr-random: the restored state is the source's state at the target ---
seed=2
run "$RD_BIN" list "$tmp/list.json" --seed $seed --json
target=$(jq -r '.targets[0].archive.target_time' "$tmp/out.txt")
tms=$(ms_of "$target")
present=$(awk -v t="$tms" '$2 <= t - 200 {n++} END {print n + 0}' "$A/orders")
config seed s3://pgbase s3://pgwal '{"strategy": "pitr-random"}' "[{\"type\": \"integrity\"},
    {\"type\": \"sql\", \"name\": \"after\", \"query\": \"SELECT count(*) FROM orders WHERE at > '$target'\", \"expect\": \"= 0\"},
    {\"type\": \"sql\", \"name\": \"before\", \"query\": \"SELECT count(*) FROM orders WHERE at <= timestamptz '$target' - interval '200 ms'\", \"expect\": \"= $present\"}]"
run "$RD_BIN" run "$tmp/seed.json" --seed $seed
expect_rc 0 "pitr-random from S3"
expect_eq "$(rep seed '.targets[0].sampling.pitr_target')" "$target" "seed: target as listed"
expect_eq "$(rep seed '[.targets[0].checks[] | select(.status != "passed")] | length')" 0 "seed: every check passed"
expect_has "$tmp/err.txt" "fetched base backup s3://pgbase/" "seed: base backup fetched"
expect_has "$tmp/err.txt" "WAL files (" "seed: WAL fetched ahead"
expect_not_has "$tmp/err.txt" "$AWS_SECRET_ACCESS_KEY" "seed: the secret is never printed"
no_leftovers "pitr-random from S3"

# --- latest: the tar backup streamed into tar -x ---
config latest s3://pgbase s3://pgwal '{"strategy": "pitr", "time": "latest"}'
# tar (the label's head at listing, the streamed extraction) never sees the secret
mkdir -p "$tmp/wrap"
cat >"$tmp/wrap/tar" <<WRAP
#!/bin/sh
env | grep -c '^AWS_SECRET_ACCESS_KEY=' >>"$tmp/tar-env"
exec $(command -v tar) "\$@"
WRAP
chmod +x "$tmp/wrap/tar"
PATH="$tmp/wrap:$PATH" run "$RD_BIN" --quiet run "$tmp/latest.json"
expect_rc 0 "pitr latest from S3"
[ "$(wc -l <"$tmp/tar-env")" -ge 2 ] || fail "latest: tar ran $(wc -l <"$tmp/tar-env") times"
expect_eq "$(sort -u "$tmp/tar-env")" 0 "latest: no AWS secret in tar's environment"
expect_eq "$(rep latest '.targets[0].recovery_point.id')" b2-tar "latest: the tar backup"
expect_eq "$(rep latest '.targets[0].recovery_point.reached_time')" \
    "$(jq -r '.targets[0].archive.window_end' "$tmp/list-s3.json")" "latest: reached the window's end"

# --- oldest: the plain backup file by file, verified by pg_verifybackup ---
config cons s3://pgbase s3://pgwal '{"strategy": "oldest"}'
run "$RD_BIN" --quiet run "$tmp/cons.json"
expect_rc 0 "oldest from S3"
expect_eq "$(rep cons '.targets[0].recovery_point.id')" b1-plain "oldest: plain backup"
expect_eq "$(rep cons '.targets[0].checks[] | select(.type == "basebackup") | .message')" \
    "pg_verifybackup: backup successfully verified" "oldest: pg_verifybackup"
no_leftovers "latest/oldest from S3"

# --- a segment missing from the S3 archive is a gap ---
s3cmd puttree gapwal "$A/wal"
b2seg=$(ls "$A/wal" | grep '\.backup$' | tail -n 1 | cut -c1-24)
gapseg=$(ls "$A/wal" | grep -E '^[0-9A-F]{24}$' | awk -v b="$b2seg" '$1 "" < b ""' | tail -n 1)
s3cmd rm gapwal "$gapseg"
config gap s3://pgbase s3://gapwal '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" list "$tmp/gap.json"
expect_rc 0 "gap: list"
expect_has "$tmp/out.txt" "GAP: $gapseg missing: " "gap: named"

# --- failures: the target's error names the setting and carries S3's message ---
config nobucket s3://pgbase s3://nosuchbucket '{"strategy": "latest"}'
run "$RD_BIN" list "$tmp/nobucket.json"
expect_rc 1 "missing bucket"
expect_has "$tmp/out.txt" "error: catalog.wal_dir: s3 GET s3://nosuchbucket/: 404 NoSuchBucket: The specified bucket does not exist" "missing bucket: message"
AWS_SECRET_ACCESS_KEY=wrong-secret-value run "$RD_BIN" list "$tmp/list.json"
expect_rc 1 "wrong secret"
expect_has "$tmp/out.txt" "error: catalog.wal_dir: s3 GET s3://pgwal/: 403 SignatureDoesNotMatch" "wrong secret: S3's message"
if grep -q "wrong-secret-value" "$tmp/out.txt" "$tmp/err.txt"; then fail "wrong secret: printed"; fi
finish
