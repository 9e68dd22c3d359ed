#!/bin/sh
# t_drill_failures.sh: a drill fails what must fail, with the reason named:
# a corrupt gzip, a truncated custom dump, plain dumps (pg and mariadb) cut
# short at a statement boundary (they load "successfully": the completion
# trailer catches them), a sha256 mismatch from an exec catalog, an empty
# catalog, a newest point older than sample.max_age, and decrypt filters
# that stop producing (before the head: the fetch deadline; mid-stream: the
# restore deadline). One target's failure never stops the others; exit
# status 1; nothing is left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
b="$tmp/backups"
f="$tmp/bad"
mkdir -p "$f/gz" "$f/custom" "$f/plain" "$f/my" "$f/empty" "$f/stale" "$f/sha"
ts=20261101T000000Z

# corrupt gzip: flip bytes in the middle of the deflate stream
gz=$(ls "$b"/pg-plain-gz/*.sql.gz)
size=$(wc -c <"$gz")
head -c $((size / 2)) "$gz" >"$f/gz/shop-$ts.sql.gz"
head -c 64 /dev/zero | tr '\0' '\377' >>"$f/gz/shop-$ts.sql.gz"
tail -c $((size - size / 2 - 64)) "$gz" >>"$f/gz/shop-$ts.sql.gz"
# truncated custom archive
custom=$(ls "$b"/pg-custom/*.dump | tail -n 1)
head -c 30000 "$custom" >"$f/custom/shop-$ts.dump"
# plain dumps cut at a statement boundary (before the trailer)
plain=$(ls "$b"/pg-plain/*.sql)
head -n $(($(grep -n '^-- PostgreSQL database dump complete' "$plain" | cut -d: -f1) - 12)) \
    "$plain" >"$f/plain/shop-$ts.sql"
my=$(ls "$b"/mariadb-sql/*.sql | tail -n 1)
head -n $(($(grep -n '^-- Dump completed' "$my" | cut -d: -f1) - 4)) "$my" >"$f/my/shop-$ts.sql"
# a stale point (older than max_age), itself restorable
cp "$custom" "$f/stale/shop-$ts.dump"
# exec catalog claiming a wrong sha256
cp "$custom" "$f/sha/shop.dump"
wrong=0000000000000000000000000000000000000000000000000000000000000000
real=$(sha256sum "$f/sha/shop.dump" | cut -d' ' -f1)
cat >"$f/sha/catalog.sh" <<SH
#!/bin/sh
echo '[{"id": "shop-sha", "created_at": "2026-11-01T00:00:00Z", "location": "$f/sha/shop.dump", "sha256": "$wrong"}]'
SH
chmod +x "$f/sha/catalog.sh"
# the same for a plain SQL dump, which is streamed into psql: the sha256 is
# checked as the stream is read (the file is read once), and still fails it
mkdir -p "$f/shaplain"
cp "$plain" "$f/shaplain/shop.sql"
realplain=$(sha256sum "$f/shaplain/shop.sql" | cut -d' ' -f1)
cat >"$f/shaplain/catalog.sh" <<SH
#!/bin/sh
echo '[{"id": "shop-shaplain", "created_at": "2026-11-01T00:00:00Z", "location": "$f/shaplain/shop.sql", "sha256": "$wrong"}]'
SH
chmod +x "$f/shaplain/catalog.sh"

target() { # NAME ENGINE DIR PATTERN [EXTRA]
    cat <<JSON
    {"name": "$1", "engine": "$2",
     "catalog": {"type": "dir", "path": "$f/$3", "pattern": "$4", "time_from": "name"},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]$5}
JSON
}
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "failures", "seed": 5, "parallel": 2,
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [
$(target corrupt-gz postgres gz '*.sql.gz'),
$(target trunc-custom postgres custom '*.dump'),
$(target trunc-plain postgres plain '*.sql'),
$(target trunc-mariadb mariadb my '*.sql'),
$(target empty postgres empty '*.dump'),
$(target stale postgres stale '*.dump' ', "sample": {"strategy": "latest", "max_age": "26h"}'),
    {"name": "sha", "engine": "postgres",
     "catalog": {"type": "exec", "command": ["$f/sha/catalog.sh"]},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]},
    {"name": "shaplain", "engine": "postgres",
     "catalog": {"type": "exec", "command": ["$f/shaplain/catalog.sh"]},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]},
$(target stall-fetch postgres plain '*.sql' ', "restore": {"decrypt": ["sh", "-c", "exec sleep 600"]}, "timeouts": {"fetch": "2s"}'),
$(target stall-restore postgres plain '*.sql' ', "restore": {"decrypt": ["sh", "-c", "head -c 20000; exec sleep 600"]}, "timeouts": {"restore": "3s"}')
  ] }
JSON

run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run"
expect_eq "$(jqr '.drill.status')" failed "drill status"
sel() { echo ".targets[] | select(.name == \"$1\")"; }
restore_msg() { jqr "$(sel "$1") | .checks[] | select(.type == \"restore\") | .message"; }
restore_status() { jqr "$(sel "$1") | .checks[] | select(.type == \"restore\") | .status"; }
for t in corrupt-gz trunc-custom trunc-plain trunc-mariadb empty sha shaplain stall-fetch stall-restore; do
    expect_eq "$(jqr "$(sel $t) | .status")" failed "$t target status"
    expect_eq "$(restore_status $t)" failed "$t restore result"
done
case "$(restore_msg corrupt-gz)" in
"fetch: corrupt gzip stream in $f/gz/shop-$ts.sql.gz: "* | "corrupt gzip stream in $f/gz/shop-$ts.sql.gz: "*) ;;
*) fail "corrupt-gz message: $(restore_msg corrupt-gz)" ;;
esac
# pg_restore -j: its workers share stderr, so the last line may carry another
# worker's "pg_restore:" prefix in front ("pg_restore:pg_restore: error: ...")
case "$(restore_msg trunc-custom)" in
"pg_restore exited with status 1: "*"pg_restore: error: "*) ;;
*) fail "trunc-custom message: $(restore_msg trunc-custom)" ;;
esac
expect_eq "$(restore_msg trunc-plain)" \
    "plain SQL dump is truncated: the completion trailer is missing" "trunc-plain message"
expect_eq "$(restore_msg trunc-mariadb)" \
    "plain SQL dump is truncated: the completion trailer is missing" "trunc-mariadb message"
expect_eq "$(restore_msg empty)" "sample: no recovery points in the catalog: catalog.pattern \"*.dump\" matches no file in $f/empty" "empty message"
expect_eq "$(jqr "$(sel empty) | .error")" "sample: no recovery points in the catalog: catalog.pattern \"*.dump\" matches no file in $f/empty" "empty error"
expect_eq "$(restore_msg sha)" "fetch: sha256 mismatch: expected $wrong, got $real" "sha message"
case "$(restore_msg shaplain)" in
*"sha256 mismatch: expected $wrong, got $realplain") ;;
*) fail "shaplain message: $(restore_msg shaplain)" ;;
esac
expect_eq "$(restore_msg stall-fetch)" \
    "fetch: reading $f/plain/shop-$ts.sql timed out: the decrypt command produced no output before the deadline" \
    "stall-fetch message"
case "$(restore_msg stall-restore)" in
*"timed out"*) ;;
*) fail "stall-restore message: $(restore_msg stall-restore)" ;;
esac
pgrep -f "exec sleep 600|^sleep 600" >/dev/null && fail "a stalled decrypt filter is still running"
# the stale point restores and verifies, but max_age fails the target
expect_eq "$(jqr "$(sel stale) | .status")" failed "stale target status"
expect_eq "$(restore_status stale)" passed "stale restore"
expect_eq "$(jqr "$(sel stale) | .checks[] | select(.object == \"max_age\") | .status")" failed \
    "stale max_age result"
expect_eq "$(jqr "$(sel stale) | .checks[] | select(.object == \"max_age\") | .expected")" "<= 26h" \
    "stale max_age expected"
case "$(jqr "$(sel stale) | .checks[] | select(.object == \"max_age\") | .message")" in
"the newest recovery point is "*" old, older than max_age 1d 02h 00m 00s") ;;
*) fail "stale max_age message" ;;
esac
# the truncated plain dump's tool output is kept for the report
expect_eq "$(jqr "$(sel trunc-custom) | .checks[] | select(.type == \"restore\") | .output | test(\"pg_restore: error:\")")" \
    true "trunc-custom output tail"
expect_has "$tmp/out/junit.xml" '<testsuite name="trunc-plain"' "junit suite"
no_leftovers "after the drill"
finish
