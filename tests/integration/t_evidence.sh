#!/bin/sh
# t_evidence.sh: signed evidence and the auditor's record from REAL drills
# (a PostgreSQL and a MariaDB target, keys made with the openssl CLI):
# drill.json.sig and the signed history line verify with the public key
# (`evidence verify`, and independently with `openssl pkeyutl`); a one-byte
# edit and a wrong key fail (exit 1); bad usage exits 2; a `report`
# re-rendering or merge is unsigned unless re-signed with --sign; the
# record's fields (who, config sha256, CI URL, controls, isolation, phase
# timestamps) are in the JSON and pass the schema; `evidence pack` holds
# every file, verifies after extraction and carries no secret.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
command -v openssl >/dev/null 2>&1 || { echo "skipping: openssl is not installed"; exit 77; }
validate="$(cd "$(dirname "$0")/.." && pwd)/validate-reports.sh"
make_backups
CANARY="rd-ev-canary-81c2"
export RD_CANARY="$CANARY" CI_JOB_URL="https://ci.example/jobs/4711"
unset GITHUB_RUN_ID BUILD_URL CIRCLE_BUILD_URL BUILDKITE_BUILD_URL
cd "$tmp" || exit 1
openssl genpkey -algorithm ed25519 -out k.pem 2>/dev/null &&
    openssl pkey -in k.pem -pubout -out k.pub &&
    openssl genpkey -algorithm ed25519 -out other.pem 2>/dev/null &&
    openssl pkey -in other.pem -pubout -out other.pub || { echo "openssl cannot make ed25519 keys"; exit 1; }
fp="sha256:$(openssl pkey -pubin -in k.pub -outform DER | tail -c 32 | sha256sum | cut -c1-64)"
cat >"$tmp/drill.json" <<EOF
// evidence drill
{ "version": 1, "name": "evidence-drill", "parallel": 2,
  "controls": ["SOC2 A1.3", "ISO27001 A.8.13"],
  "output": { "dir": "$tmp/out", "sign": { "key": "$tmp/k.pem" } },
  "notify": { "webhook": "http://127.0.0.1:9/hook?token=$CANARY", "on": "never" },
  "targets": [
    { "name": "pg", "engine": "postgres", "objectives": { "rto": "10m", "rpo": "2d" },
      "controls": ["PCI 12.10.2"],
      "catalog": { "type": "dir", "path": "\${RD_EV_BACKUPS:-$tmp/backups}/pg-custom",
                   "pattern": "shop-*.dump", "time_from": "name" } },
    { "name": "my", "engine": "mariadb", "objectives": { "rto": "10m" },
      "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql", "pattern": "shop-*.sql",
                   "time_from": "name" } }
  ] }
EOF
run "$RD_BIN" run "$tmp/drill.json"
expect_rc 0 "signed drill"
[ -s out/drill.json.sig ] || fail "drill.json.sig was not written"

# the record
expect_eq "$(jqr '.drill.signing_key')" "$fp" "signing key fingerprint (as openssl computes it)"
expect_eq "$(jqr '.drill.config_sha256')" "$(sha256sum drill.json | cut -c1-64)" "config sha256"
expect_eq "$(jqr '.drill.ci_job_url')" "https://ci.example/jobs/4711" "CI job URL"
expect_eq "$(jqr '.drill.user')" "$(id -un)" "who ran it"
expect_eq "$(jqr '.drill.host')" "$(hostname)" "host"
expect_eq "$(jqr '.drill.controls | join(",")')" "SOC2 A1.3,ISO27001 A.8.13" "drill controls"
expect_eq "$(jqr '.targets[] | select(.name == "pg") | .controls | join(",")')" "PCI 12.10.2" \
    "a target's own controls"
expect_eq "$(jqr '.targets[] | select(.name == "my") | .controls | join(",")')" \
    "SOC2 A1.3,ISO27001 A.8.13" "a target without controls carries the drill's"
expect_eq "$(jqr '[.targets[].isolation.scratch_type] | join(",")')" "ephemeral,ephemeral" \
    "isolation scratch type"
expect_has "$report" "it cannot be the reference server" "isolation statement"
expect_eq "$(jqr '.targets[] | select(.name == "pg") | .sampling.reason')" \
    "latest: the newest of 3 recovery points created before the drill started" "how the point was chosen"
expect_eq "$(jqr '[.targets[].phases[] | select(.status != "skipped") | select(.started_at == null or .finished_at == null)] | length')" \
    0 "every phase that ran has timestamps"
"$validate" out >validate.txt 2>&1 ||
    { cat validate.txt; fail "external validators rejected a signed drill's reports"; }
# (the junit XSD lives in ../shared, absent from a worktree: t_drill_reports.sh is strict about it)
grep "^skip" validate.txt | grep -v "junit-10.xsd is absent" | grep -q . &&
    { cat validate.txt; fail "a validator was skipped"; }

# the HTML prints to PDF: a summary page first, then a page (or more) per target
if command -v chromium >/dev/null 2>&1 && command -v pdftotext >/dev/null 2>&1; then
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$tmp/chromium" --no-pdf-header-footer --print-to-pdf="$tmp/evidence.pdf" \
        "file://$tmp/out/evidence.html" >/dev/null 2>&1
    [ -s evidence.pdf ] || fail "chromium did not print evidence.html to PDF"
    pages=$(pdfinfo evidence.pdf | sed -n 's/^Pages: *//p')
    [ "${pages:-0}" -ge 3 ] || fail "the PDF has ${pages:-0} pages, want a summary page and one per target"
    pdftotext -f 1 -l 1 -layout evidence.pdf page1.txt
    expect_has page1.txt "Summary" "page 1 holds the summary"
    expect_has page1.txt "$fp" "page 1 names the signing key"
    grep -q "Target: pg" page1.txt && fail "a target section starts on the summary page"
    pdftotext -f 2 -l 2 evidence.pdf page2.txt
    grep -q "^Target: \(pg\|my\)" page2.txt || fail "page 2 does not open with a target"
else
    echo "note: chromium or pdftotext is not installed: the PDF print is not checked"
fi

# verify: valid, independently with openssl, edited, wrong key, usage
run "$RD_BIN" evidence verify out/drill.json --pub k.pub
expect_rc 0 "verify the report"
expect_eq "$(cat "$tmp/out.txt")" "out/drill.json: valid signature by $fp" "verify output"
jq -r .signature out/drill.json.sig | base64 -d >sig.bin
openssl pkeyutl -verify -pubin -inkey k.pub -rawin -in out/drill.json -sigfile sig.bin \
    >/dev/null 2>&1 || fail "openssl does not verify drill.json.sig"
run "$RD_BIN" evidence verify out/history.jsonl --pub k.pub
expect_rc 0 "verify the history"
expect_eq "$(cat "$tmp/out.txt")" "out/history.jsonl: 1 line, chain intact, last line signed by $fp" \
    "history verify output"
run "$RD_BIN" history verify out/history.jsonl
expect_rc 0 "history verify keeps working on signed lines"
run "$RD_BIN" evidence verify out/drill.json --pub other.pub
expect_rc 1 "a wrong key"
expect_has "$tmp/out.txt" "out/drill.json: INVALID: out/drill.json was signed by key $fp, not by sha256:" \
    "wrong key message"
cp out/drill.json edited.json
cp out/drill.json.sig edited.json.sig
# one byte: the drill name's first letter
sed -i '0,/"evidence-drill"/s//"Evidence-drill"/' edited.json
cmp -s out/drill.json edited.json && fail "the edit did not change the file"
expect_eq "$(($(wc -c <edited.json) - $(wc -c <out/drill.json)))" 0 "the edit kept the size"
run "$RD_BIN" evidence verify edited.json --pub k.pub
expect_rc 1 "a one-byte edit"
expect_has "$tmp/out.txt" "edited.json: INVALID: edited.json changed after it was signed" "edit message"
run "$RD_BIN" evidence verify out/drill.json
expect_rc 2 "no --pub"
run "$RD_BIN" evidence verify out/drill.json --pub k.nope
expect_rc 2 "unreadable public key"
run "$RD_BIN" evidence verify nope.json --pub k.pub
expect_rc 2 "missing file"

# report: re-rendered or merged reports are signed only when signed again
mkdir -p merged
run "$RD_BIN" report out/drill.json out/drill.json --json merged/drill.json
expect_rc 0 "merge"
expect_eq "$(jq -r .drill.signing_key merged/drill.json)" null "a merged report claims no signer"
run "$RD_BIN" evidence verify merged/drill.json --pub k.pub
expect_rc 1 "the merged report is not signed"
expect_has "$tmp/out.txt" "merged/drill.json is not signed: merged/drill.json.sig does not exist" \
    "unsigned message"
cp out/drill.json.sig merged/drill.json.sig
run "$RD_BIN" evidence verify merged/drill.json --pub k.pub
expect_rc 1 "the old signature does not cover the merged report"
run "$RD_BIN" report out/drill.json out/drill.json --json merged/drill.json --sign k.pem \
    --append-history merged/history.jsonl
expect_rc 0 "merge and re-sign"
expect_eq "$(jq -r .drill.signing_key merged/drill.json)" "$fp" "the re-signed report names its key"
run "$RD_BIN" evidence verify merged/drill.json --pub k.pub
expect_rc 0 "the re-signed merged report verifies"
run "$RD_BIN" evidence verify merged/history.jsonl --pub k.pub
expect_rc 0 "the re-signed appended history line verifies"
run "$RD_BIN" report out/drill.json --json merged/x.json --sign k.pub
expect_rc 2 "--sign with a public key"

# pack
run "$RD_BIN" evidence pack out -o evidence.tar.gz
expect_rc 0 "evidence pack"
id=$(jqr .drill.id)
tar -tzf evidence.tar.gz | sort >list.txt || fail "tar cannot list the pack"
for f in README.txt SHA256SUMS config.redacted.json drill.json drill.json.sig evidence.html \
    history.jsonl junit.xml restoredrill.prom; do
    grep -qx "restoredrill-evidence-$id/$f" list.txt || { cat list.txt; fail "the pack lacks $f"; }
done
grep -q 'lock$' list.txt && fail "the pack holds a lock file"
mkdir x && tar -xzf evidence.tar.gz -C x || fail "tar cannot extract the pack"
p="x/restoredrill-evidence-$id"
(cd "$p" && sha256sum -c --quiet SHA256SUMS) || fail "SHA256SUMS does not match the packed files"
cmp -s "$p/drill.json" out/drill.json || fail "the packed report differs from the original"
run "$RD_BIN" evidence verify "$p/drill.json" --pub k.pub
expect_rc 0 "the packed report verifies"
grep -rqF "$CANARY" "$p" && fail "the pack contains the planted secret"
expect_has "$p/config.redacted.json" '"webhook":	"[redacted]"' "webhook redacted"
expect_has "$p/config.redacted.json" '${RD_EV_BACKUPS:-[redacted]}/pg-custom' "env default redacted"
expect_has "$p/README.txt" "restoredrill evidence verify drill.json --pub KEY.pub" "README says how to verify"
expect_has "$p/README.txt" "$fp" "README names the key"
run "$RD_BIN" evidence pack "$tmp/no-such-dir" -o e.tar.gz
expect_rc 2 "pack of a missing directory"
mkdir empty2
run "$RD_BIN" evidence pack empty2 -o e.tar.gz
expect_rc 1 "pack of a directory without a report"
expect_has "$tmp/err.txt" "empty2 holds no restoredrill json report" "empty pack message"
# RTO forecast from real drills of three plain dumps of growing size
mkdir big
gen() { # ROWS FILE: a plain pg_dump-like file with ROWS rows
    {
        printf -- '--\n-- PostgreSQL database dump\n--\n\n'
        echo "CREATE TABLE big (id int PRIMARY KEY, v text);"
        echo "COPY big (id, v) FROM stdin;"
        awk -v n="$1" 'BEGIN { for (i = 1; i <= n; i++) printf "%d\tsome padding text for row %d\n", i, i }'
        echo '\.'
        echo "-- PostgreSQL database dump complete"
    } >"$2"
}
gen 50000 big/big-20261201T000000Z.sql
gen 200000 big/big-20261202T000000Z.sql
gen 400000 big/big-20261203T000000Z.sql
cat >big.json <<EOF
{ "version": 1, "output": { "dir": "$tmp/bigout" },
  "targets": [ { "name": "big", "engine": "postgres", "objectives": { "rto": "10m" },
    "catalog": { "type": "dir", "path": "$tmp/big", "pattern": "big-*.sql", "time_from": "name" },
    "sample": { "strategy": "id", "id": "\${RD_POINT}" },
    "checks": [ { "type": "sql", "query": "SELECT count(*) FROM big", "expect": ">= 50000" } ] } ] }
EOF
n=0
for p in big-20261201T000000Z.sql big-20261202T000000Z.sql big-20261203T000000Z.sql; do
    n=$((n + 1))
    RD_POINT=$p run "$RD_BIN" run big.json
    expect_rc 0 "forecast drill $n"
    if [ $n -lt 3 ]; then
        grep -q rto_forecast bigout/restoredrill.prom && fail "a forecast metric after $n drills"
        expect_has bigout/evidence.html "history too short for a fit: $n passed drill" \
            "the HTML says the history is too short ($n drills)"
    fi
done
expect_has bigout/evidence.html "Fitted over 3 drills: RTO = " "the HTML shows the fit"
# the same fit, computed independently from the history with awk
want=$(jq -r '.targets[0] | "\(.point_bytes) \(.restore_seconds) \(.rto_seconds) \(.rto_target_seconds)"' \
    bigout/history.jsonl | awk '{ x[NR] = $1; y[NR] = $2; rest += $3 - $2; t = $4 }
    END { n = NR; for (i = 1; i <= n; i++) { sx += x[i]; sy += y[i]; sxx += x[i] * x[i]; sxy += x[i] * y[i] }
          b = (sxy - sx * sy / n) / (sxx - sx * sx / n); a = (sy - b * sx) / n + rest / n
          if (b <= 0) print "none"; else { v = (t - a) / b; if (v < 0) v = 0; printf "%.0f\n", v } }')
got=$(sed -n 's/^restoredrill_rto_forecast_bytes{target="big"} //p' bigout/restoredrill.prom)
if [ "$want" = none ]; then
    [ -z "$got" ] || fail "a forecast metric ($got) though the restore time does not grow with size"
    expect_has bigout/evidence.html "the RTO does not grow with size" "no-growth note"
else
    [ -n "$got" ] || fail "no restoredrill_rto_forecast_bytes after 3 drills"
    awk -v a="$got" -v b="$want" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= 1 + b * 1e-9) }' ||
        fail "forecast $got bytes, the history gives $want"
fi
"$validate" bigout >validate.txt 2>&1 || { cat validate.txt; fail "validators rejected the forecast drill"; }
# coverage and least-verified over real drills: three points in the window,
# three drills, each picks a point no drill verified yet
cat >cov.json <<EOF
{ "version": 1, "output": { "dir": "$tmp/covout" },
  "targets": [ { "name": "pg", "engine": "postgres",
    "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump",
                 "time_from": "name" },
    "sample": { "strategy": "least-verified", "window": "7d" } } ] }
EOF
run "$RD_BIN" coverage cov.json
expect_rc 0 "coverage before any drill"
expect_has "$tmp/out.txt" "pg: 0 of 3 recovery points in the 7d window verified (0.0%)" "empty coverage"
expect_has "$tmp/err.txt" "does not exist: nothing verified yet" "no history yet"
for i in 1 2 3; do
    run "$RD_BIN" run cov.json --seed "$i"
    expect_rc 0 "least-verified drill $i"
    expect_eq "$(jq -r '.targets[0].coverage | "\(.verified_points)/\(.window_points)"' covout/drill.json)" \
        "$i/3" "coverage in the report after drill $i"
done
expect_eq "$(jq -r '.targets[0].coverage.map' covout/drill.json | tr -d 'V')" "T" \
    "the third drill took the one point not verified yet"
run "$RD_BIN" coverage cov.json
expect_has "$tmp/out.txt" "pg: 3 of 3 recovery points in the 7d window verified (100.0%)" "full coverage"
[ "$(grep -c '^  VERIFIED .*, 1 drill, last ' "$tmp/out.txt")" -eq 3 ] ||
    { cat "$tmp/out.txt"; fail "each point should be verified by exactly one drill"; }
run "$RD_BIN" coverage cov.json --json --history covout/history.jsonl
expect_eq "$(jq -r '.targets[0] | "\(.verified_points) \(.share) \(.points | length)"' "$tmp/out.txt")" \
    "3 1 3" "coverage --json"
expect_has covout/evidence.html "3 of 3 recovery points in the window proven restorable (100%)" \
    "the HTML shows the coverage"
run "$RD_BIN" coverage cov.json --target nope
expect_rc 2 "coverage of an unknown target"
# keep_scratch on-failure: the failing target keeps its instance (the report
# says how to connect, without the password) until its time to live is over,
# then gc removes it; the passing target is torn down
cat >keep.json <<EOF
{ "version": 1, "output": { "dir": "$tmp/keepout" },
  "targets": [
    { "name": "bad", "engine": "mariadb", "keep_scratch": "on-failure", "keep_scratch_ttl": "15s",
      "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql", "pattern": "shop-*.sql",
                   "time_from": "name" },
      "checks": [ { "type": "sql", "name": "wrong", "query": "SELECT count(*) FROM orders",
                    "expect": "= 1" } ] },
    { "name": "good", "engine": "postgres", "keep_scratch": "on-failure",
      "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump",
                   "time_from": "name" } } ] }
EOF
run "$RD_BIN" run keep.json
expect_rc 1 "a failing drill with keep_scratch on-failure"
run "$RD_BIN" gc keep.json # at once: well within the time to live
expect_rc 0 "gc within the time to live"
ls -A "$RESTOREDRILL_RUNDIR" | grep -q '^mariadb-' || fail "gc removed the kept instance before its time"
connect=$(jq -r '.targets[] | select(.name == "bad") | .kept_scratch.connect' keepout/drill.json)
case $connect in
"mariadb --socket="*"; the password is in "*"/password (mode 0600): put it in MYSQL_PWD") ;;
*) fail "kept_scratch.connect is [$connect]" ;;
esac
expect_eq "$(jq -r '.targets[] | select(.name == "good") | .kept_scratch' keepout/drill.json)" null \
    "the passing target was not kept"
pwfile=$(printf '%s' "$connect" | sed 's/.*the password is in \(.*\) (mode 0600).*/\1/')
[ -s "$pwfile" ] || fail "no password file at [$pwfile]"
grep -qF "$(cat "$pwfile")" keepout/drill.json keepout/evidence.html keepout/junit.xml &&
    fail "a report contains the kept instance's password"
expect_has keepout/evidence.html "Scratch instance kept" "the HTML says the instance was kept"
"$validate" keepout >validate.txt 2>&1 || { cat validate.txt; fail "validators rejected the kept drill"; }
sock=$(printf '%s' "$connect" | sed 's/^mariadb --socket=\([^ ]*\) .*/\1/')
ls -A "$RESTOREDRILL_RUNDIR" | grep -q '^mariadb-' || fail "the kept instance's directory is gone"
ls -A "$RESTOREDRILL_RUNDIR" | grep -q '^postgres-' && fail "the passing target's instance was kept"
if command -v mariadb >/dev/null 2>&1; then
    got=$(MYSQL_PWD=$(cat "$pwfile") mariadb --socket="$sock" -u root -N -e 'SELECT 40 + 2' 2>&1)
    expect_eq "$got" 42 "the kept instance answers with the password from the file"
fi
until=$(jq -r '.targets[] | select(.name == "bad") | .kept_scratch.until' keepout/drill.json)
until_s=$(date -d "$until" +%s) || fail "kept_scratch.until is [$until]"
now=$(date +%s)
[ "$((until_s - now))" -le 16 ] || fail "kept until $until, more than the 15s time to live away"
[ "$until_s" -ge "$now" ] && sleep $((until_s - now + 1))
run "$RD_BIN" gc keep.json
expect_rc 0 "gc after the time to live"
expect_has "$tmp/out.txt" "time to live over" "gc says why it removes the kept instance"
no_leftovers "evidence drill"
finish
