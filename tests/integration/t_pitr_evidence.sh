#!/bin/sh
# t_pitr_evidence.sh: the evidence of PITR drills on real archives
# (fixtures/make-pitr.sh, fixtures/make-mariabackup.sh):
#   - the negative control's PITR fault, on PostgreSQL (pg-archive, and
#     pgbackrest when installed) and MariaDB: a second
#     recovery (a second scratch instance, torn down) to recovery.tolerance
#     + 1s before the target, which the recovery result must fail: passed,
#     naming the recovery result and quoting it; its time on the result and
#     in the negative_control phase, not in the RTO;
#   - recovery.tolerance as long as the whole window: the control fails
#     (the recovery result cannot notice an early stop anywhere) and the
#     target with it;
#   - no heartbeat table: skipped with the reason, never passed;
#   - GTID conflicts: a binlog with an out-of-order GTID (gtid_strict_mode
#     off on the source) fails the target with mariadb-binlog's own message,
#     and a target before it still restores;
#   - coverage of the PITR window from a real drill's history line.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin

# with a pgBackRest repository too when pgbackrest is installed
pgbr=""
command -v pgbackrest >/dev/null 2>&1 && pgbr=1
RD_PITR_PGBACKREST=$pgbr "$fixtures/make-pitr.sh" "$tmp/pg" "$RD_BIN" >"$tmp/make-pitr.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then echo "skipping: no PostgreSQL server binaries"; exit 77; fi
[ $mrc -eq 0 ] || { cat "$tmp/make-pitr.log"; echo "make-pitr.sh failed ($mrc)"; exit 1; }
"$fixtures/make-mariabackup.sh" "$tmp/mb" "$RD_BIN" >"$tmp/make-mb.log" 2>&1
mrc=$?
if [ $mrc -eq 77 ]; then echo "skipping: no mariadbd / mariadb-backup"; exit 77; fi
[ $mrc -eq 0 ] || { cat "$tmp/make-mb.log"; echo "make-mariabackup.sh failed ($mrc)"; exit 1; }
# no heartbeat writer (no restoredrill binary), and an out-of-order GTID after mark 5
env -u RD_BIN RD_MB_GTID_CONFLICT=1 "$fixtures/make-mariabackup.sh" "$tmp/mbc" \
    >"$tmp/make-mbc.log" 2>&1 || { cat "$tmp/make-mbc.log"; echo "make-mariabackup.sh (conflict) failed"; exit 1; }

# config FILE ENGINE CATALOG SAMPLE [EXTRA]: one target "shop", negative control on
config() {
    cat >"$1" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "history": "$tmp/history.jsonl"},
  "targets": [{"name": "shop", "engine": "$2", "negative_control": true,
    "catalog": $3, "sample": $4, ${5:-}
    "checks": [{"type": "integrity"}]}]}
JSON
}
pgcat="{\"type\": \"pg-archive\", \"base_dir\": \"$tmp/pg/base\", \"wal_dir\": \"$tmp/pg/wal\"}"
mbcat="{\"type\": \"mariabackup\", \"base_dir\": \"$tmp/mb/base\", \"binlog_dir\": \"$tmp/mb/binlog\"}"
mbccat="{\"type\": \"mariabackup\", \"base_dir\": \"$tmp/mbc/base\", \"binlog_dir\": \"$tmp/mbc/binlog\"}"
drill() { rm -rf "$tmp/out"; run "$RD_BIN" --no-progress run "$1" --seed "${2:-1}"; }
early() { jqr ".targets[0].checks[] | select(.object == \"recovery to an earlier time\") | .$1"; }
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%S.500Z; }

# --- PostgreSQL, pitr latest: caught by the recovery result
config "$tmp/pg.json" postgres "$pgcat" '{"strategy": "pitr", "time": "latest"}'
drill "$tmp/pg.json"
expect_rc 1 "pg: the drill (no check catches a deleted row without a reference)"
expect_eq "$(early status)" passed "pg: early recovery caught"
case "$(early message)" in
"recovery of b"*" to "*" caught by recovery: recovery ended at "*", before the last reachable commit in the archive ("*"); the newest heartbeat row ("*") is "*" before the target "*", more than recovery.tolerance 3.00s: recovery stopped short") ;;
*) fail "pg: early recovery message [$(early message)]" ;;
esac
expect_eq "$(early expected)" "the recovery result fails a recovery to more than recovery.tolerance before the target" "pg: expected"
expect_eq "$(early actual)" "recovery failed" "pg: actual"
# E = the target - 4s (tolerance 3s + 1s)
target=$(jqr '.targets[0].sampling.pitr_target')
et=$(early properties.early_target_time)
expect_eq "$(( $(date -u -d "$target" +%s%3N) - $(date -u -d "$et" +%s%3N) ))" 4000 "pg: 4s before the target"
# timed on the result, inside the negative_control phase, not in the RTO
jq -e '.targets[0] | ([.checks[] | select(.object == "recovery to an earlier time") | .seconds][0]) as $s |
    $s > 0 and ([.phases[] | select(.name == "negative_control") | .seconds][0]) >= $s and
    .rto.seconds <= ([.phases[] | select(.name != "negative_control" and .name != "teardown") | .seconds] | add) + 0.05' \
    "$report" >/dev/null || fail "pg: the second recovery's time"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "recovery") | .status] | join(",")')" passed "pg: one recovery result, passed"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "negative_control") | "\(.status) \(.object)"' | tr '\n' ';')" \
    "failed deleted row;failed changed value;skipped dropped index;skipped orphaned row;passed recovery to an earlier time;" \
    "pg: every fault's verdict"
no_leftovers "pg early recovery"

# a time target (pitr-random), the second recovery from the base backup sampling would choose
config "$tmp/pgr.json" postgres "$pgcat" '{"strategy": "pitr-random"}'
for seed in 3 4; do
    drill "$tmp/pgr.json" $seed
    case "$(early status)" in
    passed) case "$(early message)" in
        *" caught by recovery: the newest heartbeat row ("*") is "*" before the target "*", more than recovery.tolerance 3.00s: recovery stopped short") ;;
        *) fail "pg seed $seed: message [$(early message)]" ;;
        esac ;;
    skipped) case "$(early message)" in # the target may lie less than 4s after the window's start
        "recovery to an earlier time not planted: "*" is before the restorable window ("*"): no earlier moment to recover to") ;;
        *) fail "pg seed $seed: skipped [$(early message)]" ;;
        esac ;;
    *) fail "pg seed $seed: early recovery [$(early status)]: $(early message)" ;;
    esac
done
no_leftovers "pg pitr-random"

# --- recovery.tolerance as long as the whole window: the control fails, so does the target
config "$tmp/pgtol.json" postgres "$pgcat" '{"strategy": "pitr", "time": "latest"}' '"recovery": {"tolerance": "1h"},'
drill "$tmp/pgtol.json"
expect_rc 1 "pg tolerance 1h"
expect_eq "$(early status)" failed "pg tolerance 1h: early recovery"
case "$(early message)" in
"recovery.tolerance 1h 00m 00s is as long as the whole restorable window ("*" to "*", "*"): the recovery result cannot notice a recovery that stopped short anywhere in it") ;;
*) fail "pg tolerance 1h: message [$(early message)]" ;;
esac
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "pg tolerance 1h: the recovery itself passed"
expect_eq "$(jqr '.targets[0].status')" failed "pg tolerance 1h: target"

# --- pgBackRest, pitr latest: caught the same way (its own restore, a second stanza restore)
if [ -n "$pgbr" ]; then
    config "$tmp/br.json" postgres "{\"type\": \"pgbackrest\", \"stanza\": \"main\", \"config\": \"$tmp/pg/pgbackrest/pgbackrest.conf\"}" \
        '{"strategy": "pitr", "time": "latest"}'
    drill "$tmp/br.json"
    expect_eq "$(early status)" passed "pgbackrest: early recovery caught"
    case "$(early message)" in
    "recovery of "*" to "*" caught by recovery: recovery ended at "*", before the last reachable commit in the archive ("*"); the newest heartbeat row ("*") is "*" before the target "*", more than recovery.tolerance 3.00s: recovery stopped short") ;;
    *) fail "pgbackrest: early recovery message [$(early message)]" ;;
    esac
    no_leftovers "pgbackrest early recovery"
else
    echo "note: pgbackrest is not installed: its early recovery is not tested"
fi

# --- MariaDB, pitr latest: caught
config "$tmp/mb.json" mariadb "$mbcat" '{"strategy": "pitr", "time": "latest"}'
drill "$tmp/mb.json"
expect_eq "$(early status)" passed "mariadb: early recovery caught"
case "$(early message)" in
"recovery of "*" to "*" caught by recovery: recovery ended at "*", before the last reachable commit in the archive ("*"); the newest heartbeat row ("*") is "*" before the target "*", more than recovery.tolerance 3.00s: recovery stopped short") ;;
*) fail "mariadb: early recovery message [$(early message)]" ;;
esac
no_leftovers "mariadb early recovery"

# --- no heartbeat table: skipped with the reason; a GTID conflict
. "$tmp/mbc/fixture.env"
config "$tmp/mbc.json" mariadb "$mbccat" "{\"strategy\": \"pitr\", \"time\": \"$(iso "${MARK_5%.*}")\"}"
drill "$tmp/mbc.json"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" passed "no heartbeat: a target before the conflict restores"
expect_eq "$(early status)" skipped "no heartbeat: early recovery"
expect_eq "$(early message)" "recovery to an earlier time not planted: the restored database has no restoredrill_heartbeat rows, so the recovery result can notice a recovery that went past its target but not one that stopped short (write them with \`restoredrill heartbeat\`)" "no heartbeat: reason"
config "$tmp/mbc.json" mariadb "$mbccat" '{"strategy": "pitr", "time": "latest"}'
drill "$tmp/mbc.json"
expect_rc 1 "gtid conflict"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .status')" failed "gtid conflict: recovery"
case "$(jqr '.targets[0].checks[] | select(.type == "recovery") | .message')" in
"mariadb-binlog failed (exit 1): ERROR: Found out of order GTID. Got 0-1-1 after 0-1-"*) ;;
*) fail "gtid conflict: message [$(jqr '.targets[0].checks[] | select(.type == "recovery") | .message')]" ;;
esac
case "$(jqr '.targets[0].error')" in
"recover: mariadb-binlog failed (exit 1): ERROR: Found out of order GTID. Got 0-1-1 after 0-1-"*) ;;
*) fail "gtid conflict: target error [$(jqr '.targets[0].error')]" ;;
esac
no_leftovers "gtid conflict"

# --- coverage of the PITR window from real drills: least-verified walks it
cat >"$tmp/cov.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out", "history": "$tmp/cov-history.jsonl"},
  "targets": [{"name": "shop", "engine": "postgres", "catalog": $pgcat,
    "sample": {"strategy": "least-verified"}, "checks": [{"type": "integrity"}]}]}
JSON
ms() { date -u -d "$1" +%s%3N; }
drill "$tmp/cov.json" 11
expect_rc 0 "coverage: first drill"
expect_eq "$(jqr '.targets[0].coverage.pitr.proven | length')" 0 "coverage: nothing proven before"
t1=$(jqr '.targets[0].sampling.pitr_target')
b1=$(jqr '.targets[0].recovery_point.created_at')
wstart=$(jqr '.targets[0].coverage.pitr.window_start')
case "$(jqr '.targets[0].sampling.reason')" in
"least-verified: one draw seeded with 11 over the "*" of the PITR window in the catalog (1 stretch) that passed drills in the history proved restorable the fewest times (0 before this drill)") ;;
*) fail "coverage: reason [$(jqr '.targets[0].sampling.reason')]" ;;
esac
expect_eq "$(jqr '.targets[0].coverage.pitr.this_drill.to')" "$t1" "coverage: this drill's stretch ends at its target"
RD_BIN=$RD_BIN "$(dirname "$0")/../validate-reports.sh" "$tmp/out" >"$tmp/validate.txt" 2>&1 ||
    { cat "$tmp/validate.txt"; fail "coverage: reports do not validate"; }
grep -q "PITR window $wstart to " "$tmp/out/evidence.html" || fail "coverage: the HTML shows no PITR window"
run "$RD_BIN" coverage "$tmp/cov.json" --json
expect_rc 0 "coverage --json"
cp "$tmp/out.txt" "$tmp/cov1.json"
from=$(jq -r '.targets[0].pitr.proven[0].from' "$tmp/cov1.json")
to=$(jq -r '.targets[0].pitr.proven[0].to' "$tmp/cov1.json")
expect_eq "$to" "$t1" "coverage: the proven stretch ends at the target"
# it starts at the base backup's end (or the window's start, for the oldest base backup)
[ "$(ms "$from")" -eq "$(ms "$b1")" ] || [ "$from" = "$wstart" ] || fail "coverage: proven from $from (base $b1, window $wstart)"
wsec=$(jq -r '.targets[0].pitr.window_seconds' "$tmp/cov1.json")
share=$(jq -r '.targets[0].pitr_share' "$tmp/cov1.json")
want=$(echo "$(ms "$to") $(ms "$from") $wsec" | awk '{printf "%.4f", ($1 - $2 + 1) / ($3 * 1000)}')
expect_eq "$(echo "$share" | awk '{printf "%.4f", $1}')" "$want" "coverage: share of the window"
expect_eq "$(jq -r '.targets[0].pitr.unproven | length' "$tmp/cov1.json")"     "$(if [ "$from" = "$wstart" ]; then echo 1; else echo 2; fi)" "coverage: unproven stretches"
# the second drill draws outside what the first proved
drill "$tmp/cov.json" 12
expect_rc 0 "coverage: second drill"
t2=$(jqr '.targets[0].sampling.pitr_target')
if [ "$(ms "$t2")" -ge "$(ms "$from")" ] && [ "$(ms "$t2")" -le "$(ms "$to")" ]; then
    fail "coverage: the second target $t2 lies in the proven stretch $from to $to"
fi
expect_eq "$(jqr '.targets[0].coverage.pitr.proven[0].to')" "$t1" "coverage: the report knows the first stretch"
run "$RD_BIN" coverage "$tmp/cov.json"
expect_rc 0 "coverage (text)"
expect_has "$tmp/out.txt" "proven restorable by 2 passed drills" "coverage: two drills"
expect_has "$tmp/out.txt" "  proven    " "coverage: a proven stretch"
share2=$(jq -r '.targets[0].pitr_share' "$tmp/cov1.json")
run "$RD_BIN" coverage "$tmp/cov.json" --json
[ "$(jq -r --argjson s "$share2" '.targets[0].pitr_share > $s' "$tmp/out.txt")" = true ] ||
    fail "coverage: the share did not grow ($share2 -> $(jq -r '.targets[0].pitr_share' "$tmp/out.txt"))"
no_leftovers "coverage"
finish
