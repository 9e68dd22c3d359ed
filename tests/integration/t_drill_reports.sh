#!/bin/sh
# t_drill_reports.sh: every report of REAL drills (a passing PostgreSQL
# target, a MariaDB target with a failing check, a target whose catalog is
# empty) through the external validators (tests/validate-reports.sh: xmllint
# + our reports/schema/junit.xsd, and the Jenkins XSD where present, ajv +
# our JSON Schema, promtool, history verify, HTML
# self-containment), two drills so the history chain has two lines and the
# HTML charts have points, the webhook failing without failing or hanging the
# drill, and a planted canary secret (in the environment, a password variable
# and the webhook URL) absent from every output file and from the console.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
CANARY="rd-canary-5f3e9a"
export RD_CANARY="$CANARY" PGPASSWORD="$CANARY" MYSQL_PWD="$CANARY" HOOK_TOKEN="$CANARY"
mkdir -p "$tmp/empty"
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "reports-drill", "parallel": 2,
  "output": { "dir": "$tmp/out" },
  "notify": { "webhook": "http://hook:\${HOOK_TOKEN}@127.0.0.1:9/hook?token=\${HOOK_TOKEN}",
              "on": "failure", "timeout": "3s" },
  "targets": [
    { "name": "pg", "engine": "postgres", "objectives": { "rto": "10m", "rpo": "2d" },
      "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump",
                   "time_from": "name" },
      "sample": { "strategy": "latest", "max_age": "1d" } },
    { "name": "my", "engine": "mariadb", "objectives": { "rto": "10m" },
      "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql", "pattern": "shop-*.sql",
                   "time_from": "name" },
      "checks": [ { "type": "rowcount" },
                  { "type": "sql", "name": "a <failing> & \"quoted\" check",
                    "query": "SELECT count(*) FROM orders", "expect": "= 1" } ] },
    { "name": "none", "engine": "postgres",
      "catalog": { "type": "dir", "path": "$tmp/empty" } }
  ] }
EOF
for i in 1 2; do
    run "$RD_BIN" run "$tmp/drill.json"
    expect_rc 1 "drill $i"
done
grep -qF "$CANARY" "$tmp/err.txt" "$tmp/out.txt" && fail "the console output contains the planted secret"
expect_has "$tmp/err.txt" "notify: post to http://127.0.0.1:9 failed" "the failing webhook is logged, redacted"
for f in junit.xml drill.json evidence.html restoredrill.prom history.jsonl; do
    [ -s "$tmp/out/$f" ] || fail "$f was not written"
done
expect_eq "$(wc -l <"$tmp/out/history.jsonl" | tr -d ' ')" 2 "history lines"
expect_eq "$(jqr '.targets[] | select(.name == "pg") | .status')" passed "pg status"
expect_eq "$(jqr '.targets[] | select(.name == "my") | .status')" failed "my status"
expect_eq "$(jqr '.targets[] | select(.name == "none") | .status')" failed "empty catalog status"
expect_eq "$(jqr '.drill.status')" failed "drill status"
grep -q '<failure' "$tmp/out/junit.xml" || fail "junit has no <failure> for the failing check"
grep -q 'a &lt;failing&gt; &amp; &quot;quoted&quot; check' "$tmp/out/junit.xml" ||
    fail "junit does not carry the escaped check name"
"$(dirname "$0")/../validate-reports.sh" "$tmp/out" >"$tmp/validate.txt" 2>&1 ||
    { cat "$tmp/validate.txt"; fail "external validators rejected a report"; }
# every validator really ran (a skip is not a pass)
grep -q "^skip" "$tmp/validate.txt" && { cat "$tmp/validate.txt"; fail "a validator was skipped"; }
expect_has "$tmp/validate.txt" "validated 5 file(s)" "all five reports validated"
# the HTML renders (headless chromium), when installed
if command -v chromium >/dev/null 2>&1; then
    chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
        --disable-background-networking --disable-component-update --disable-sync \
        --user-data-dir="$tmp/chromium" --screenshot="$tmp/evidence.png" --window-size=1280,2000 \
        "file://$tmp/out/evidence.html" >/dev/null 2>&1
    [ -s "$tmp/evidence.png" ] || fail "chromium did not render evidence.html"
fi
no_leftovers "reports drill"
finish
