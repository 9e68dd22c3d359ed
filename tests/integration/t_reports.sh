#!/bin/sh
# t_reports.sh: `restoredrill report` and `history verify` end to end, from
# JSON fixtures generated here (hostile strings, a planted secret): every
# output validated by the external validators (xmllint + reports/schema/
# junit.xsd, and junit-10.xsd where present; ajv, promtool), the HTML rendered by headless Chromium, exit codes and exact
# messages checked, no output containing the secret.
set -u
[ -n "${RD_BIN:-}" ] && [ -x "$RD_BIN" ] || { echo "skip: RD_BIN is not set"; exit 77; }
here=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d /tmp/rd-t-reports-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work" || exit 1
CANARY="s3cr3t-CANARY-7d1c"
export RD_CANARY="$CANARY"

fail() {
    echo "FAIL: $*"
    exit 1
}

# expect CODE CMD...: run, keep stdout+stderr in $work/out.txt, check the code
expect() {
    want=$1
    shift
    "$@" >"$work/out.txt" 2>&1
    got=$?
    [ "$got" -eq "$want" ] || { cat "$work/out.txt"; fail "$* exited $got, expected $want"; }
}

# A report of one drill: $1 file, $2 drill id, $3 drill status, $4 started_at,
# $5 orders rto seconds, $6 target name of the second target
fixture() {
    printf '%s' '{"schema":"restoredrill/report/v1","tool":{"name":"restoredrill","version":"0.1.0"},
"drill":{"id":"'"$2"'","name":"quarterly <dr> & \"drill\" ]]> \u0001 ' >"$1"
    printf '\377\376' >>"$1" # invalid UTF-8
    printf '%s' '","seed":"18446744073709551615","started_at":"'"$4"'","finished_at":"'"$4"'",
"host":"ci-1","user":"ops","status":"'"$3"'","config":"/etc/drill.json"},
"targets":[{"name":"orders","engine":"postgres","status":"'"$3"'","started_at":"'"$4"'","finished_at":null,
 "recovery_point":{"id":"orders-20260130.dump","created_at":"2026-01-30T03:00:00.000Z",
  "location":"s3://backup:'"$CANARY"'@bucket/orders-20260130.dump","bytes":123456,"sha256":null,"format":"pg-custom"},
 "sampling":{"strategy":"random","candidates":12,"seed":"42","pitr_target":null},
 "phases":[{"name":"sample","seconds":0.01,"status":"passed"},{"name":"restore","seconds":60.2,"status":"passed"},
  {"name":"verify","seconds":20,"status":"failed"}],
 "rto":{"seconds":'"$5"',"target_seconds":7200,"met":true,"data_ready_seconds":61.7},
 "rpo":{"seconds":43200,"target_seconds":86400,"met":true,"basis":"catalog","exposure_seconds":86400,
  "newest_age_seconds":null,"data_lag_seconds":null},
 "checks":[{"id":"rowcount:public.orders","type":"rowcount","name":"rowcount","object":"public.orders",
   "status":"failed","seconds":0.1234,"message":"row count differs","expected":"100","actual":"99",
   "properties":{"chunks":"4"},"output":"pg_restore: error ]]> <x> & \u0002 done"},
  {"id":"rowcount:public.customers","type":"rowcount","name":"rowcount","object":"public.customers",
   "status":"passed","seconds":0.05,"message":null,"expected":"10","actual":"10","properties":{},"output":null}],
 "error":"1 check failed (host=db password='"$CANARY"')","notes":"default checks: rowcount"},
 {"name":"'"$6"'","engine":"mariadb","status":"passed","started_at":null,"finished_at":null,
  "recovery_point":null,"sampling":{"strategy":"latest","candidates":1,"seed":"7","pitr_target":null},
  "phases":[],"rto":{"seconds":null,"target_seconds":null,"met":null,"data_ready_seconds":null},
  "rpo":{"seconds":null,"target_seconds":null,"met":null,"basis":null,"exposure_seconds":null,
  "newest_age_seconds":null,"data_lag_seconds":null},"checks":[],"error":null,"notes":null}],
"summary":{"targets":2,"targets_passed":1,"targets_failed":1,"checks":2,"passed":1,"failed":1,"errors":0,"skipped":0}}' >>"$1"
}

fixture d1.json d-1 failed 2026-01-27T15:00:00.000Z 70.5 billing
fixture d2.json d-2 failed 2026-01-28T15:00:00.000Z 95.25 billing
fixture d3.json d-3 failed 2026-01-29T15:00:00.000Z 82 billing
fixture shard.json d-3 passed 2026-01-29T14:00:00.000Z 10 'tenant \"b\"'

mkdir out
# three drills into the history, the last one rendered into every format
expect 1 "$RD_BIN" report d1.json --append-history out/history.jsonl
expect 1 "$RD_BIN" report d2.json --append-history out/history.jsonl
expect 1 "$RD_BIN" report d3.json --append-history out/history.jsonl --junit out/junit.xml \
    --json out/drill.json --html out/evidence.html --prometheus out/restoredrill.prom
grep -q "^  FAILED  orders: point orders-20260130.dump, RTO 1m 22s (objective 2h, met), RPO 12h 00m 00s (objective 1d, met)$" out.txt ||
    { cat out.txt; fail "console summary missing the failed target line"; }
grep -q "FAILED rowcount public.orders: row count differs (expected 100, actual 99)" out.txt ||
    { cat out.txt; fail "console summary missing the failed check line"; }

# the re-rendered JSON equals the input's content (round trip of the model)
expect 1 "$RD_BIN" report out/drill.json --json again.json
cmp -s out/drill.json again.json || fail "re-rendering drill.json changed it"

# merging shards: targets concatenated, earliest start, worst status
mkdir merged
expect 1 "$RD_BIN" report d3.json shard.json --json merged/merged.json --junit merged/junit.xml
node -e '
const r = JSON.parse(require("fs").readFileSync("merged/merged.json", "utf8"));
const names = r.targets.map(t => t.name).join("|");
if (names !== "orders|billing|orders|tenant \"b\"") { console.error("targets: " + names); process.exit(1); }
if (r.drill.started_at !== "2026-01-29T14:00:00.000Z") { console.error("start " + r.drill.started_at); process.exit(1); }
if (r.drill.status !== "failed" || r.drill.id !== "d-3" || r.summary.checks !== 4) { console.error("drill " + JSON.stringify(r.drill)); process.exit(1); }
' || fail "merged report is wrong"

# exit codes: passed 0, aborted 3, usage 2
expect 0 "$RD_BIN" report shard.json --json passed.json
sed 's/"status":"failed","config"/"status":"aborted","config"/' d1.json >aborted.json
expect 3 "$RD_BIN" report aborted.json --json aborted-out.json
expect 2 "$RD_BIN" report d1.json
grep -q "nothing to write: give at least one of --junit, --json, --html, --prometheus" out.txt ||
    fail "missing usage message: $(cat out.txt)"
expect 2 "$RD_BIN" report --json x.json
expect 2 "$RD_BIN" report d1.json --bogus x
echo '{"schema":"restoredrill/report/v1","drill":{"status":"passed"},"targets":[{"name":"t","status":"green"}]}' >bad.json
expect 2 "$RD_BIN" report bad.json --json x.json
grep -qF "restoredrill: report: bad.json: targets[0].status: expected one of passed, failed, error, skipped, aborted" out.txt ||
    fail "bad input message: $(cat out.txt)"
[ ! -e x.json ] || fail "an output was written for a bad input"

# external validators (and the canary grep) over every output
sh "$here/validate-reports.sh" out || fail "validate-reports.sh out"
sh "$here/validate-reports.sh" merged || fail "validate-reports.sh merged"
# and they do catch a broken file
printf '<testsuites><testcase/></testsuites>\n' >merged/broken.xml
sh "$here/validate-reports.sh" merged >/dev/null 2>&1 && fail "validate-reports.sh accepted a broken junit file"
rm -f merged/broken.xml
for f in out/* merged/* again.json; do
    if grep -qF "$CANARY" "$f"; then fail "$f contains the planted secret"; fi
done
grep -q 'password=\*\*\*' out/evidence.html || fail "redacted error missing from the html"
grep -q 'restoredrill_success{target="orders"} 0' out/restoredrill.prom || fail "success metric"

# history verify: intact, tampered (edited line 2 breaks at line 3), missing
expect 0 "$RD_BIN" history verify out/history.jsonl
[ "$(cat out.txt)" = "out/history.jsonl: 3 lines, chain intact" ] || fail "verify said: $(cat out.txt)"
sed '2s/"rto_seconds":95.25/"rto_seconds":9.25/' out/history.jsonl >tampered.jsonl
cmp -s out/history.jsonl tampered.jsonl && fail "the tampering did not change the file"
expect 1 "$RD_BIN" history verify tampered.jsonl
[ "$(cat out.txt)" = "tampered.jsonl: line 3: prev_sha256 does not match line 2 (edited or removed)" ] ||
    fail "verify of the tampered file said: $(cat out.txt)"
sed '1d' out/history.jsonl >headless.jsonl
expect 1 "$RD_BIN" history verify headless.jsonl
[ "$(cat out.txt)" = "headless.jsonl: line 1: prev_sha256 is not 64 zeros (lines before it were removed)" ] ||
    fail "verify of the file without its first line said: $(cat out.txt)"
expect 2 "$RD_BIN" history verify missing.jsonl
grep -q "cannot open missing.jsonl" out.txt || fail "missing history message: $(cat out.txt)"
expect 2 "$RD_BIN" history check out/history.jsonl

# the HTML renders in a real browser (look at the PNG when changing html.c)
if command -v chromium >/dev/null 2>&1; then
    prof=$(mktemp -d "$work/chromium-XXXXXX")
    timeout 90 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$prof" --screenshot="$work/evidence.png" --window-size=1280,2000 \
        "file://$work/out/evidence.html" >/dev/null 2>&1
    size=$(wc -c <"$work/evidence.png" 2>/dev/null || echo 0)
    [ "$size" -gt 20000 ] || fail "chromium rendered no screenshot (size $size)"
    [ -n "${RD_KEEP_PNG:-}" ] && cp "$work/evidence.png" "$RD_KEEP_PNG"
    echo "chromium: rendered evidence.html to a ${size}-byte png"
else
    echo "skip: chromium is not installed: html not rendered"
fi
echo "t_reports: ok"
