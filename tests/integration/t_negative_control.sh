#!/bin/sh
# t_negative_control.sh: the negative control on REAL drills of the demo
# fixtures. With the demo's checks (rowcount, integrity, schema, checksum)
# every planted fault is caught on PostgreSQL and on MariaDB, for two seeds
# (other random tables); with the checksum check left out, the changed value
# is caught by nothing and the negative control fails the drill; the
# negative control's time is a phase of its own, outside the RTO; without
# the key or option nothing is planted.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
validate="$(cd "$(dirname "$0")/.." && pwd)/validate-reports.sh"
make_backups
cd "$tmp" || exit 1
config() { # FILE CHECKS-OF-BOTH-TARGETS NEGATIVE_CONTROL
    cat >"$1" <<EOF
{ "version": 1, "parallel": 2, "output": { "dir": "$tmp/out" },
  "targets": [
    { "name": "pg", "engine": "postgres", "negative_control": $3,
      "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump",
                   "time_from": "name" },
      "restore": { "roles": "create" }, "checks": $2 },
    { "name": "my", "engine": "mariadb", "negative_control": $3,
      "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql-gz", "pattern": "shop-*.sql.gz",
                   "time_from": "name" }, "checks": $2 } ] }
EOF
}
all='[ { "type": "rowcount" }, { "type": "integrity" }, { "type": "schema" }, { "type": "checksum" } ]'
nochecksum='[ { "type": "rowcount" }, { "type": "integrity" }, { "type": "schema" } ]'
nc() { # TARGET: "status fault" lines of its negative_control results
    jq -r --arg t "$1" '.targets[] | select(.name == $t) | .checks[] |
        select(.type == "negative_control") | "\(.status) \(.object)"' "$report"
}

config all.json "$all" true
for seed in 1 2; do
    run "$RD_BIN" run all.json --seed "$seed"
    expect_rc 0 "negative control, seed $seed"
    for t in pg my; do
        expect_eq "$(nc $t | tr '\n' ';')" \
            "passed deleted row;passed changed value;passed dropped index;passed orphaned row;" \
            "every fault caught on $t (seed $seed)"
        # the catching check is named, and it is one that can see the fault
        expect_eq "$(jq -r --arg t $t '.targets[] | select(.name == $t) | .checks[] |
            select(.type == "negative_control" and .object == "orphaned row") | .message' "$report" |
            grep -c ' caught by integrity: 1 orphan row')" 1 "the orphan is caught by integrity on $t"
        expect_eq "$(jq -r --arg t $t '.targets[] | select(.name == $t) | .checks[] |
            select(.type == "negative_control" and .object == "dropped index") | .message' "$report" |
            grep -c ' caught by schema: missing indexes: ')" 1 "the dropped index is caught by schema on $t"
        # its time is a phase of its own, not part of the RTO
        nct=$(jq -r --arg t $t '.targets[] | select(.name == $t) | .phases[] |
            select(.name == "negative_control") | .seconds' "$report")
        [ -n "$nct" ] || fail "no negative_control phase on $t"
        jq -e --arg t $t '.targets[] | select(.name == $t) |
            .rto.seconds <= ([.phases[] | select(.name != "negative_control" and .name != "teardown") |
            .seconds] | add) + 0.05' "$report" >/dev/null ||
            fail "the RTO of $t includes the negative control"
    done
    cp "$report" "drill-$seed.json"
done
"$validate" out >validate.txt 2>&1 || { cat validate.txt; fail "validators rejected the reports"; }

# the check that catches a changed value is left out: the negative control fails
config nochecksum.json "$nochecksum" true
run "$RD_BIN" run nochecksum.json --seed 1
expect_rc 1 "a negative control whose changed value nobody catches"
for t in pg my; do
    expect_eq "$(nc $t | tr '\n' ';')" \
        "passed deleted row;failed changed value;passed dropped index;passed orphaned row;" \
        "only the changed value escapes on $t"
    expect_eq "$(jq -r --arg t $t '.targets[] | select(.name == $t) | .status' "$report")" failed \
        "$t fails"
done
expect_has "$report" "no check caught it (re-ran: rowcount, integrity, schema; checks that can: checksum, diff)" \
    "the message names the checks that could have caught it"

# --negative-control on the command line, and nothing planted without it
config plain.json "$all" false
run "$RD_BIN" run plain.json --seed 1
expect_rc 0 "no negative control"
expect_eq "$(nc pg | wc -l | tr -d ' ')" 0 "nothing planted without the key"
run "$RD_BIN" run plain.json --seed 1 --negative-control
expect_rc 0 "--negative-control"
expect_eq "$(nc my | grep -c '^passed')" 4 "--negative-control plants the four faults"
no_leftovers "negative control"
finish
