#!/bin/sh
# t_pitr_pgbackrest.sh: point-in-time drills from a real pgBackRest
# repository (fixtures/make-pitr.sh with RD_PITR_PGBACKREST=1: a full and an
# incremental backup of a source that archives through archive-push):
#   - list: both sets, the window, no gap;
#   - pitr-random over seeds (restored rows against the source's), pitr
#     latest, the full set to its consistency point;
#   - a stanza that does not exist, a config file that does not exist: exit 2;
#   - a file deleted from the repository: the restore fails with pgBackRest's
#     own error; a WAL segment deleted from the repository: a gap.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$(dirname "$0")/../pitrlib.sh"
need_bin
command -v pgbackrest >/dev/null || { echo "skipping: pgbackrest is not installed"; exit 77; }

A="$tmp/a"
RD_PITR_PGBACKREST=1 "$fixtures/make-pitr.sh" "$A" "$RD_BIN" >"$tmp/make-pitr.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then tail -n 1 "$tmp/make-pitr.log"; exit 77; fi
[ $mrc -eq 0 ] || { cat "$tmp/make-pitr.log"; echo "make-pitr.sh failed ($mrc)"; exit 1; }
conf="$A/pgbackrest/pgbackrest.conf"
repo="$A/pgbackrest/repo"

default_checks='[{"type": "integrity"}]'
config() { # config NAME SAMPLE [CHECKS] [STANZA] [CONF]
    checks=${3:-$default_checks}
    cat >"$tmp/$1.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out-$1"},
  "targets": [ { "name": "shop", "engine": "postgres",
     "catalog": {"type": "pgbackrest", "stanza": "${4:-main}", "config": "${5:-$conf}"},
     "sample": $2,
     "checks": $checks } ] }
JSON
}

config list '{"strategy": "pitr-random"}'
run "$RD_BIN" list "$tmp/list.json" --json
expect_rc 0 "list"
expect_eq "$(jq -r '[.targets[0].points[].format] | join(",")' "$tmp/out.txt")" \
    "pgbackrest-full,pgbackrest-incr" "list: full then incr"
expect_eq "$(jq -r '.targets[0].archive.gaps | length' "$tmp/out.txt")" 0 "list: no gap"
wend=$(jq -r '.targets[0].archive.window_end' "$tmp/out.txt")
full=$(jq -r '.targets[0].points[0].id' "$tmp/out.txt")
incr=$(jq -r '.targets[0].points[1].id' "$tmp/out.txt")

for seed in 1 2 3; do
    run "$RD_BIN" list "$tmp/list.json" --seed $seed --json
    target=$(jq -r '.targets[0].archive.target_time' "$tmp/out.txt")
    tms=$(ms_of "$target")
    present=$(awk -v t="$tms" '$2 <= t - 200 {n++} END {print n + 0}' "$A/orders")
    config seed$seed '{"strategy": "pitr-random"}' "[{\"type\": \"integrity\"},
        {\"type\": \"sql\", \"name\": \"after\", \"query\": \"SELECT count(*) FROM orders WHERE at > '$target'\", \"expect\": \"= 0\"},
        {\"type\": \"sql\", \"name\": \"before\", \"query\": \"SELECT count(*) FROM orders WHERE at <= timestamptz '$target' - interval '200 ms'\", \"expect\": \"= $present\"}]"
    run "$RD_BIN" --quiet run "$tmp/seed$seed.json" --seed $seed
    expect_rc 0 "pgbackrest pitr-random seed $seed"
    expect_eq "$(rep seed$seed '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "seed $seed: recovery"
    expect_eq "$(rep seed$seed '.targets[0].recovery_point.format | startswith("pgbackrest-")')" true "seed $seed: format"
done
config latest '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" --quiet run "$tmp/latest.json"
expect_rc 0 "pgbackrest latest"
expect_eq "$(rep latest '.targets[0].recovery_point.reached_time')" "$wend" "latest: reached the window's end"
expect_eq "$(rep latest '.targets[0].recovery_point.id')" "$incr" "latest: the incremental set"
config full '{"strategy": "oldest"}'
run "$RD_BIN" --quiet run "$tmp/full.json"
expect_rc 0 "full set to its consistency point"
expect_eq "$(rep full '.targets[0].recovery_point.id')" "$full" "oldest: the full set"
no_leftovers "pgbackrest drills"

# configuration errors
config nostanza '{"strategy": "latest"}' "" nope
run "$RD_BIN" run "$tmp/nostanza.json"
expect_rc 2 "missing stanza"
expect_has "$tmp/err.txt" 'targets[0].catalog.stanza: stanza "nope" does not exist in repo 1 (pgbackrest: missing stanza path)' "missing stanza: message"
config noconf '{"strategy": "latest"}' "" main "$tmp/none.conf"
run "$RD_BIN" run "$tmp/noconf.json"
expect_rc 2 "missing config"
expect_has "$tmp/err.txt" "targets[0].catalog.config: $tmp/none.conf does not exist" "missing config: message"

# a file deleted from the full set (the incremental references it)
victim=$(ls "$repo/backup/main/$full/pg_data/base/16384/" | grep -E '^[0-9]+\.gz$' | sort -n | tail -n 1)
rm "$repo/backup/main/$full/pg_data/base/16384/$victim"
config deleted '{"strategy": "latest"}'
run "$RD_BIN" --quiet run "$tmp/deleted.json"
expect_rc 1 "deleted repository file"
expect_eq "$(rep deleted '.targets[0].checks[] | select(.type == "restore") | .status')" failed "deleted: restore"
case $(rep deleted '.targets[0].checks[] | select(.type == "restore") | .message') in
*"pgbackrest restore exited with"*"${victim%.gz}"*) ;;
*) fail "deleted: message [$(rep deleted '.targets[0].checks[] | select(.type == "restore") | .message')]" ;;
esac
no_leftovers "deleted"

# a WAL segment deleted from the repository: a gap
seg=$(ls "$repo/../repo/archive/main/15-1/0000000100000000/" | grep -E '^[0-9A-F]{24}-' | sort | tail -n 3 | head -n 1)
rm "$repo/archive/main/15-1/0000000100000000/$seg"
config gap '{"strategy": "oldest"}'
run "$RD_BIN" list "$tmp/gap.json"
expect_has "$tmp/out.txt" "GAP: $(echo "$seg" | cut -c1-24) missing: " "repo gap: list"
finish
