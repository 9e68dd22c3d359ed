#!/bin/sh
# t_pitr.sh: PostgreSQL physical restores and point-in-time drills against
# real servers, real pg_basebackup and a real archive_command archive
# (fixtures/make-pitr.sh):
#   - list shows the base backups, the restorable window and "gaps: none";
#   - pitr-random over several seeds: each restored state checked against
#     the source's rows (no row written after the target, every row written
#     200ms before it present) and its heartbeat (the recovery result);
#   - pitr "latest" reaches the archive's last commit; latest/oldest restore
#     a base backup (tar, plain) to its consistency point;
#   - gzip-compressed WAL and a zstd base.tar;
#   - the failures, each with the server's own line and nothing left behind:
#     a target before the consistency point, a postmaster that dies during
#     recovery, a recovery that pauses, the recover timeout, a corrupt WAL
#     segment inside the range (recovery ended before the target), a missing
#     segment (the archive result and the sampling name it), configuration
#     errors (exit 2), a heap page corrupted in the source (amcheck).
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$(dirname "$0")/../pitrlib.sh"
need_bin

pitr_fixture() { # pitr_fixture DIR [ENV=VALUE...]
    d=$1; shift
    env "$@" "$fixtures/make-pitr.sh" "$d" "$RD_BIN" >"$tmp/make-pitr.log" 2>&1
    mrc=$?
    if [ $mrc -eq 77 ]; then echo "skipping: no PostgreSQL server binaries"; exit 77; fi
    [ $mrc -eq 0 ] || { cat "$tmp/make-pitr.log"; echo "make-pitr.sh failed ($mrc)"; exit 1; }
}

# config NAME ARCHIVE SAMPLE [EXTRA] [CHECKS]: a drill config in $tmp/NAME.json
default_checks='[{"type": "integrity"}, {"type": "sql", "query": "SELECT count(*) FROM orders", "expect": ">= 100"}]'
config() {
    checks=${5:-$default_checks}
    cat >"$tmp/$1.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out-$1"},
  "targets": [ { "name": "shop", "engine": "postgres",
     "catalog": {"type": "pg-archive", "base_dir": "$2/base", "wal_dir": "$2/wal"},
     "sample": $3, ${4:-}
     "checks": $checks } ] }
JSON
}

A="$tmp/a"
pitr_fixture "$A"

# --- list: base backups, window, no gap ---
config list "$A" '{"strategy": "pitr-random"}'
run "$RD_BIN" list "$tmp/list.json" --seed 1
expect_rc 0 "list"
expect_has "$tmp/out.txt" "b1-plain                               label b1, consistent at" "list: b1"
expect_has "$tmp/out.txt" "restorable window: " "list: window"
expect_has "$tmp/out.txt" "gaps: none" "list: gaps"
run "$RD_BIN" list "$tmp/list.json" --json
wend=$(jq -r '.targets[0].archive.window_end' "$tmp/out.txt")
[ "$wend" != null ] || fail "list --json: no window_end"

# --- pitr-random over seeds: the restored state is the source's state at the target ---
for seed in 1 2 3 4; do
    run "$RD_BIN" list "$tmp/list.json" --seed $seed --json
    target=$(jq -r '.targets[0].archive.target_time' "$tmp/out.txt")
    tms=$(ms_of "$target")
    present=$(awk -v t="$tms" '$2 <= t - 200 {n++} END {print n + 0}' "$A/orders")
    config seed$seed "$A" '{"strategy": "pitr-random"}' "" "[{\"type\": \"integrity\"},
        {\"type\": \"sql\", \"name\": \"after\", \"query\": \"SELECT count(*) FROM orders WHERE at > '$target'\", \"expect\": \"= 0\"},
        {\"type\": \"sql\", \"name\": \"before\", \"query\": \"SELECT count(*) FROM orders WHERE at <= timestamptz '$target' - interval '200 ms'\", \"expect\": \"= $present\"}]"
    run "$RD_BIN" --quiet run "$tmp/seed$seed.json" --seed $seed
    expect_rc 0 "pitr-random seed $seed"
    expect_eq "$(rep seed$seed '.targets[0].sampling.pitr_target')" "$target" "seed $seed: target as listed"
    expect_eq "$(rep seed$seed '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "seed $seed: recovery"
    expect_eq "$(rep seed$seed '.targets[0].checks[] | select(.type == "archive") | .status')" passed "seed $seed: archive"
    expect_eq "$(rep seed$seed '.targets[0].rpo.basis')" heartbeat "seed $seed: RPO basis"
    reached=$(rep seed$seed '.targets[0].recovery_point.reached_time')
    [ "$(ms_of "$reached")" -le "$tms" ] || fail "seed $seed: reached $reached after the target $target"
    expect_eq "$(rep seed$seed '[.targets[0].phases[].name] | join(",")')" \
        "sample,fetch,provision,restore,recover,verify,teardown" "seed $seed: phases"
    expect_eq "$(rep seed$seed '.targets[0].recovery_point.wal_range.first | length')" 24 "seed $seed: wal_range"
done
no_leftovers "pitr-random"
# the reports of a PITR drill validate (JSON Schema, Jenkins XSD, promtool, HTML)
RD_BIN=$RD_BIN "$(dirname "$0")/../validate-reports.sh" "$tmp/out-seed1" >"$tmp/validate.txt" 2>&1 ||
    { cat "$tmp/validate.txt"; fail "pitr-random: reports do not validate"; }

# --- latest: the last reachable commit; consistency points ---
config latest "$A" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" --quiet run "$tmp/latest.json"
expect_rc 0 "pitr latest"
expect_eq "$(rep latest '.targets[0].recovery_point.reached_time')" "$wend" "latest: reached the window's end"
expect_eq "$(rep latest '.targets[0].recovery_point.id')" b2-tar "latest: newest base backup"
config cons "$A" '{"strategy": "oldest"}' "" '[{"type": "page_checksums"}, {"type": "integrity"},
    {"type": "sql", "query": "SELECT count(*) FROM orders", "expect": ">= 100"}]'
run "$RD_BIN" --quiet run "$tmp/cons.json"
expect_rc 0 "oldest (consistency point)"
expect_eq "$(rep cons '.targets[0].recovery_point.id')" b1-plain "oldest: plain backup"
expect_eq "$(rep cons '.targets[0].checks[] | select(.type == "recovery") | .object')" "consistency point" "oldest: recovery object"
jq -e '.targets[0].checks[] | select(.type == "sql") | select(.status == "passed")' "$tmp/out-cons/drill.json" >/dev/null \
    || fail "oldest: the sql check did not pass"
expect_eq "$(rep cons '.targets[0].checks[] | select(.type == "page_checksums") | .status')" passed "oldest: page checksums"
expect_eq "$(rep cons '.targets[0].checks[] | select(.type == "basebackup") | .message')" \
    "pg_verifybackup: backup successfully verified" "oldest: pg_verifybackup"
run "$RD_BIN" validate "$tmp/cons.json"
expect_rc 0 "validate"

# a page of the plain base backup damaged after the backup: pg_verifybackup
# and pg_checksums both name it
F="$tmp/f"
cp -a "$A" "$F"
vic=$(cat "$A/victim")
dd if=/dev/urandom of="$F/base/b1-plain/$vic" bs=1 seek=$((8192 + 100)) count=32 conv=notrunc 2>/dev/null
config damaged "$F" '{"strategy": "oldest"}' "" '[{"type": "page_checksums"}]'
run "$RD_BIN" --quiet run "$tmp/damaged.json"
expect_rc 1 "damaged base backup"
case $(rep damaged '.targets[0].checks[] | select(.type == "basebackup") | .message') in
"pg_verifybackup failed: pg_verifybackup: error: checksum mismatch for file \"$vic\"") ;;
*) fail "damaged: basebackup [$(rep damaged '.targets[0].checks[] | select(.type == "basebackup") | .message')]" ;;
esac
case $(rep damaged '.targets[0].checks[] | select(.type == "page_checksums") | .message') in
"pg_checksums --check: checksum verification failed in file \"$F/"*|"pg_checksums --check: checksum verification failed in file \""*"$vic\", block 1:"*) ;;
*) fail "damaged: page_checksums [$(rep damaged '.targets[0].checks[] | select(.type == "page_checksums") | .message')]" ;;
esac
expect_eq "$(rep damaged '.targets[0].checks[] | select(.type == "page_checksums") | .status')" failed "damaged: page checksums fail"
no_leftovers "damaged"

# --- failures, each with the server's own line ---
fails_with() { # fails_with NAME SETTINGS PATTERN: the server line matches the shell pattern
    config "$1" "$A" '{"strategy": "pitr", "time": "latest"}' "\"recovery\": $2,"
    run "$RD_BIN" --quiet run "$tmp/$1.json"
    expect_rc 1 "$1"
    expect_eq "$(rep "$1" '.targets[0].checks[] | select(.type == "recovery") | .status')" failed "$1: recovery"
    line=$(rep "$1" '.targets[0].checks[] | select(.type == "recovery") | .properties.server_line // .message')
    case $line in $3) ;; *) fail "$1: server line [$line], want [$3]" ;; esac
    expect_eq "$(rep "$1" '.targets[0].phases[] | select(.name == "recover") | .status')" failed "$1: recover phase"
    expect_eq "$(rep "$1" '.targets[0].status')" failed "$1: target"
    no_leftovers "$1"
}
# an LSN target before the base backup's consistency point
fails_with before '{"settings": {"recovery_target_lsn": "0/1"}}' \
    "requested recovery stop point is before consistent recovery point"
fails_with died '{"settings": {"restore_command": "kill -9 $PPID"}}' \
    "startup process (PID *) was terminated by signal 9: Killed"
late=$(date -u -d "@$(($(mark "$A" late) / 1000))" "+%Y-%m-%d %H:%M:%S+00")
fails_with pause "{\"settings\": {\"hot_standby\": \"on\", \"recovery_target_action\": \"pause\", \"recovery_target_time\": \"$late\"}}" \
    "pausing at the end of recovery"
RD_BIN=$RD_BIN "$(dirname "$0")/../validate-reports.sh" "$tmp/out-died" >"$tmp/validate.txt" 2>&1 ||
    { cat "$tmp/validate.txt"; fail "died: reports do not validate"; }
fails_with timeout '{"timeout": "2s", "settings": {"restore_command": "sleep 30"}}' \
    "recovery did not finish before recovery.timeout (*s of recovery; last restored segment: none)"

# corrupt segment inside the range: recovery ends before its target
C="$tmp/c"
cp -a "$A" "$C"
last=$(ls "$C/wal" | grep -E '^[0-9A-F]{24}$' | tail -n 2 | head -n 1)
# the records right after the page header of its first page (the segment may
# hold only a few kB of records)
dd if=/dev/urandom of="$C/wal/$last" bs=1 seek=64 count=16000 conv=notrunc 2>/dev/null
config corrupt "$C" "{\"strategy\": \"pitr\", \"time\": \"$(iso "$(mark "$A" late)")\"}"
run "$RD_BIN" --quiet run "$tmp/corrupt.json"
expect_rc 1 "corrupt segment"
expect_eq "$(rep corrupt '.targets[0].checks[] | select(.type == "recovery") | .properties.server_line')" \
    "recovery ended before configured recovery target was reached" "corrupt: server line"
no_leftovers "corrupt"

# missing segment: a gap in the archive, named with its span
D="$tmp/d"
cp -a "$A" "$D"
b2seg=$(ls "$D/wal" | grep '\.backup$' | tail -n 1 | cut -c1-24)
gapseg=$(ls "$D/wal" | grep -E '^[0-9A-F]{24}$' | awk -v b="$b2seg" '$1 "" < b ""' | tail -n 1)
rm "$D/wal/$gapseg"
config gap "$D" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" list "$tmp/gap.json"
expect_has "$tmp/out.txt" "GAP: $gapseg missing: " "gap: list"
run "$RD_BIN" list "$tmp/gap.json" --json
from=$(jq -r '.targets[0].archive.gaps[0].from' "$tmp/out.txt")
to=$(jq -r '.targets[0].archive.gaps[0].to' "$tmp/out.txt")
run "$RD_BIN" --quiet run "$tmp/gap.json"
expect_rc 1 "gap: latest still restores, the archive fails"
expect_eq "$(rep gap '.targets[0].checks[] | select(.type == "archive") | .message')" \
    "1 gap in the archive after $(rep gap '.targets[0].checks[] | select(.type == "archive") | .properties.first'): $gapseg missing ($from to $to cannot be recovered)" "gap: archive message"
expect_eq "$(rep gap '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "gap: recovery after the gap"
inside=$(iso $(( ($(ms_of "$from") + $(ms_of "$to")) / 2 )))
config ingap "$D" "{\"strategy\": \"pitr\", \"time\": \"$inside\"}"
run "$RD_BIN" --quiet run "$tmp/ingap.json"
expect_rc 1 "target inside the gap"
expect_eq "$(rep ingap '.targets[0].error')" \
    "sample: target $inside lies past a gap in the archive: $gapseg to $gapseg missing, $from to $to cannot be recovered" "ingap: reason"
config past "$A" "{\"strategy\": \"pitr\", \"time\": \"2099-01-01T00:00:00Z\"}"
run "$RD_BIN" --quiet run "$tmp/past.json"
expect_rc 1 "target past the last commit"
expect_eq "$(rep past '.targets[0].error')" \
    "sample: target 2099-01-01T00:00:00.000Z is past the last archived commit ($wend)" "past: reason"
no_leftovers "gap"

# configuration errors: exit 2 before anything starts, naming the setting
config nowal "$A" '{"strategy": "pitr", "time": "latest"}'
sed -i "s#$A/wal#$tmp/nowhere#" "$tmp/nowal.json"
run "$RD_BIN" run "$tmp/nowal.json"
expect_rc 2 "missing wal_dir"
expect_has "$tmp/err.txt" "targets[0].catalog.wal_dir: $tmp/nowhere is not a directory" "missing wal_dir: message"
config badtime "$A" '{"strategy": "pitr", "time": "yesterday"}'
run "$RD_BIN" run "$tmp/badtime.json"
expect_rc 2 "malformed time"
expect_has "$tmp/err.txt" 'targets[0].sample.time: expected an RFC 3339 time with a zone' "malformed time: message"

# --- compressed archive and base.tar ---
B="$tmp/b"
pitr_fixture "$B" RD_PITR_WAL_COMPRESS=gzip RD_PITR_TAR_COMPRESS=zstd
ls "$B/wal" | grep -q '\.gz$' || fail "compressed: no .gz segment"
[ -f "$B/base/b2-tar/base.tar.zst" ] || fail "compressed: no base.tar.zst"
config gz "$B" '{"strategy": "pitr-random"}'
run "$RD_BIN" --quiet run "$tmp/gz.json" --seed 5
expect_rc 0 "gzip WAL, zstd tar"
config gzlatest "$B" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" --quiet run "$tmp/gzlatest.json"
expect_rc 0 "gzip WAL latest"
no_leftovers "compressed"

# --- a heap page corrupted in the source before the base backup ---
E="$tmp/e"
pitr_fixture "$E" RD_PITR_CORRUPT_HEAP=1
config heap "$E" '{"strategy": "oldest"}' "" '[{"type": "integrity"}, {"type": "page_checksums"}]'
run "$RD_BIN" --quiet run "$tmp/heap.json"
expect_rc 1 "corrupt heap"
expect_eq "$(rep heap '.targets[0].checks[] | select(.object == "public.victim") | .status')" failed "corrupt heap: victim"
expect_eq "$(rep heap '.targets[0].checks[] | select(.object == "public.orders") | .status')" passed "corrupt heap: orders"
expect_eq "$(rep heap '.targets[0].checks[] | select(.type == "page_checksums") | .status')" skipped "corrupt heap: checksums off"
no_leftovers "heap"
finish
