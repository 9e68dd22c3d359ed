#!/bin/sh
# t_validate.sh: the command line (help, version, usage errors and their exit
# codes) and `restoredrill validate` on good and bad configs. No servers.
# Env: RD_BIN = absolute path of the built binary.
[ -n "$RD_BIN" ] && [ -x "$RD_BIN" ] || { echo "RD_BIN is not set to the built binary"; exit 77; }
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

# run CMD...: sets rc, out (stdout), err (stderr)
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
    out=$(cat "$tmp/out")
    err=$(cat "$tmp/err")
}

# expect_rc WANT NAME
expect_rc() { [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1 (stderr: $err)"; }
# expect_err_line LINE NAME: the first stderr line is exactly LINE
expect_err_line() {
    first=$(head -n 1 "$tmp/err")
    [ "$first" = "$1" ] || fail "$2: stderr line 1 is [$first], want [$1]"
}
expect_out_has() { grep -qF -- "$1" "$tmp/out" || fail "$2: stdout lacks [$1]"; }
expect_no_stdout() { [ ! -s "$tmp/out" ] || fail "$1: unexpected stdout: $out"; }

# --- help, version, usage errors ---
run "$RD_BIN" version
expect_rc 0 version
[ "$(head -n 1 "$tmp/out")" = "restoredrill 0.1.0" ] || fail "version: first line [$(head -n 1 "$tmp/out")]"
expect_out_has "cJSON/" version
expect_out_has "  checksum algorithms: pg-hre64-v1 mariadb-crc64-v2" "version: checksum algorithms"
expect_out_has "libcurl/" version

run "$RD_BIN" --help
expect_rc 0 --help
expect_out_has "usage: restoredrill [--quiet | --verbose] [--no-progress] COMMAND [ARGS]" --help
for c in run list validate backup manifest checksum diff heartbeat report history gc version help; do
    grep -q "^  $c " "$tmp/out" || fail "--help: command $c missing"
done
[ ! -s "$tmp/err" ] || fail "--help wrote to stderr"

run "$RD_BIN" help validate
expect_rc 0 "help validate"
expect_out_has "usage: restoredrill validate CONFIG" "help validate"
run "$RD_BIN" run --help
expect_rc 0 "run --help"
expect_out_has "[--shard K/N] [--out DIR] [--keep-scratch] [--dry-run]" "run --help"
run "$RD_BIN" --verbose gc -h
expect_rc 0 "gc -h"
expect_out_has "usage: restoredrill gc CONFIG [--older-than 6h] [--dry-run]" "gc -h"

run "$RD_BIN"
expect_rc 2 "no command"
expect_err_line "restoredrill: missing command" "no command"
expect_no_stdout "no command"

run "$RD_BIN" frob
expect_rc 2 "unknown command"
expect_err_line 'restoredrill: unknown command "frob"' "unknown command"
grep -q "^usage: restoredrill" "$tmp/err" || fail "unknown command: no short usage on stderr"
expect_no_stdout "unknown command"

run "$RD_BIN" --frob validate x
expect_rc 2 "unknown global option"
expect_err_line 'restoredrill: unknown option "--frob"' "unknown global option"

run "$RD_BIN" help frob
expect_rc 2 "help frob"
expect_err_line 'restoredrill: help: unknown command "frob"' "help frob"

run "$RD_BIN" validate
expect_rc 2 "validate without CONFIG"
expect_err_line "restoredrill: validate: missing CONFIG" "validate without CONFIG"
grep -q "^usage: restoredrill validate CONFIG" "$tmp/err" || fail "validate: no usage on stderr"

run "$RD_BIN" validate a.json b.json
expect_rc 2 "validate two files"
expect_err_line 'restoredrill: validate: unexpected argument "b.json"' "validate two files"

run "$RD_BIN" validate --frob a.json
expect_rc 2 "validate bad option"
expect_err_line 'restoredrill: validate: unknown option "--frob"' "validate bad option"

run "$RD_BIN" validate /nonexistent/drill.json
expect_rc 2 "validate missing file"
expect_err_line "restoredrill: cannot read /nonexistent/drill.json: No such file or directory" \
    "validate missing file"

# --- bad configs: exit 2, the exact message, nothing on stdout ---
mkdir -p "$tmp/backups"
good_target='"name": "orders", "engine": "postgres", "catalog": {"type": "dir", "path": "'"$tmp"'/backups"}'

cat >drill.json <<EOF
{ "version": 1, "targets": [ { $good_target, "sampel": {} } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "unknown key"
expect_err_line "restoredrill: drill.json: targets[0].sampel: unknown key, did you mean \"sample\"? (expected one of: name, engine, objectives, catalog, sample, scratch, restore, reference, databases, timeouts, checks, controls, keep_scratch, keep_scratch_ttl, negative_control, key, recovery, database, verify_parallel)" "unknown key"
expect_no_stdout "unknown key"

cat >drill.json <<EOF
{ "version": 1, "parallel": "two", "targets": [ { $good_target } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "wrong type"
expect_err_line 'restoredrill: drill.json: parallel: expected an integer from 1 to 64, got "two"' "wrong type"

cat >drill.json <<EOF
{ "version": 1, "targets": [ { $good_target, "objectives": {"rto": "soon"} } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "bad duration"
expect_err_line 'restoredrill: drill.json: targets[0].objectives.rto: expected a duration like "90s", "15m", "2h" or "1d", got "soon"' "bad duration"

cat >drill.json <<EOF
{ "version": 1, "targets": [ { "name": "orders", "catalog": {"type": "dir", "path": "/x"} } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "missing key"
expect_err_line "restoredrill: drill.json: targets[0].engine: required key is missing" "missing key"

cat >drill.json <<EOF
{ "version": 1, "targets": [ { $good_target }, { $good_target } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "duplicate target"
expect_err_line 'restoredrill: drill.json: targets[1].name: duplicate target name "orders" (also targets[0])' "duplicate target"

cat >drill.json <<EOF
{ "version": 1, "notify": {"webhook": "\${DRILL_WEBHOOK_URL}"}, "targets": [ { $good_target } ] }
EOF
run env -u DRILL_WEBHOOK_URL "$RD_BIN" validate drill.json
expect_rc 2 "unset variable"
expect_err_line "restoredrill: drill.json: notify.webhook: environment variable DRILL_WEBHOOK_URL is not set" "unset variable"

cat >drill.json <<EOF
{ "version": 1, "targets": [ { $good_target, "restore": {"jobs": "\${RD_JOBS}"} } ] }
EOF
run env RD_JOBS=s3cr3t-value "$RD_BIN" validate drill.json
expect_rc 2 "env value not echoed"
expect_err_line "restoredrill: drill.json: targets[0].restore.jobs: expected an integer from 0 to 64, got a value from the environment" "env value not echoed"
grep -q "s3cr3t" "$tmp/err" "$tmp/out" && fail "env value echoed"

# --- a good config ---
cat >drill.json <<EOF
// comments are allowed
{
  "version": 1, "name": "nightly", "seed": 42,
  "notify": { "webhook": "https://user:hunter2@hooks.example.com//drill" },
  "targets": [ {
    "name": "orders", "engine": "postgres",
    "objectives": { "rto": "2h", "rpo": "24h" },
    "catalog": { "type": "dir", "path": "\${RD_T_BACKUPS}", "pattern": "orders-*.dump" }, /* ok */
    "sample": { "strategy": "random", "window": "30d", "max_age": "26h" },
    "restore": { "jobs": 2 },
    "reference": { "manifest": "sidecar", "dsn": "postgresql://app:topsecret@replica/orders" }
  } ]
}
EOF
run env RD_T_BACKUPS="$tmp/backups" "$RD_BIN" validate drill.json --no-progress --offline
expect_rc 0 "good config"
expect_out_has 'drill "nightly" from drill.json (version 1): 1 target, 1 at a time' "good config"
expect_out_has "  seed:       42" "good config"
expect_out_has "target orders (postgres)" "good config"
expect_out_has "  catalog:    dir $tmp/backups, pattern \"orders-*.dump\"" "good config"
expect_out_has "  sample:     random within the last 30d, max_age 26h" "good config"
expect_out_has "  scratch:    ephemeral" "good config"
expect_out_has "  restore:    jobs 2, timeout 2h, roles no-owner" "good config"
expect_out_has "  checks:     the default checks" "good config"
expect_out_has "  objectives: rto 2h, rpo 1d" "good config"
expect_out_has "  evidence:   negative control off, keep scratch never" "good config"
expect_out_has "  signed:     no" "good config"
expect_out_has "configuration OK" "good config"
grep -q "hunter2\|topsecret" "$tmp/out" "$tmp/err" && fail "good config: a secret was printed"
# global options after the subcommand; --quiet with --verbose is a usage error
run env RD_T_BACKUPS="$tmp/backups" "$RD_BIN" validate drill.json --quiet --offline
expect_rc 0 "validate --quiet"
run env RD_T_BACKUPS="$tmp/backups" "$RD_BIN" --quiet validate drill.json --verbose
expect_rc 2 "--quiet --verbose"
expect_err_line "restoredrill: --quiet and --verbose cannot be used together" "--quiet --verbose"

# --- every error of a config in one run: an unknown key, a bad duration and
# a bad expectation (the sql check's own parameter) ---
cat >drill.json <<EOF
{ "version": 1, "targets": [ { $good_target,
  "sampel": { "strategy": "random" },
  "objectives": { "rto": "soon" },
  "checks": [ { "type": "sql", "query": "SELECT count(*) FROM customers", "expect": "lots" } ] } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "three errors"
expect_no_stdout "three errors"
want='restoredrill: drill.json: targets[0].sampel: unknown key, did you mean "sample"? (expected one of: name, engine, objectives, catalog, sample, scratch, restore, reference, databases, timeouts, checks, controls, keep_scratch, keep_scratch_ttl, negative_control, key, recovery, database, verify_parallel)
restoredrill: drill.json: targets[0].objectives.rto: expected a duration like "90s", "15m", "2h" or "1d", got "soon"
restoredrill: drill.json: targets[0].checks[0].expect: expected an operator and a value like ">= 100", got "lots"'
[ "$(cat "$tmp/err")" = "$want" ] || fail "three errors: stderr is [$(cat "$tmp/err")], want [$want]"

# --- what validate checks beyond the file: a catalog directory that does not
# exist, a pattern that matches nothing, a reference that is not running
# (a port nothing listens on: bound, then closed), each named by its setting ---
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/dumps" && : >"$tmp/dumps/shop-20260101.sql"
cat >drill.json <<EOF
{ "version": 1, "targets": [
  { "name": "a", "engine": "postgres", "catalog": { "type": "dir", "path": "$tmp/nope" },
    "reference": { "dsn": "host=127.0.0.1 port=$port dbname=shop user=app" } },
  { "name": "b", "engine": "mariadb",
    "catalog": { "type": "dir", "path": "$tmp/dumps", "pattern": "orders-*.sql" } },
  { "name": "c", "engine": "mariadb",
    "catalog": { "type": "dir", "path": "$tmp/dumps", "pattern": "shop-*.sql" } } ] }
EOF
run "$RD_BIN" validate drill.json
expect_rc 2 "validate probes"
want="restoredrill: drill.json: targets[0].catalog.path: directory $tmp/nope does not exist (create it or correct the path)
restoredrill: drill.json: targets[0].reference.dsn: cannot connect to postgres at 127.0.0.1:$port: Connection refused (is the server running on that host and accepting TCP/IP connections?)
restoredrill: drill.json: targets[1].catalog.pattern: \"orders-*.sql\" matches no file in $tmp/dumps"
[ "$(cat "$tmp/err")" = "$want" ] || fail "validate probes: stderr is [$(cat "$tmp/err")], want [$want]"
expect_out_has "configuration has 3 problems (on stderr)" "validate probes"
grep -q "configuration OK" "$tmp/out" && fail "validate probes: said configuration OK"
expect_out_has "  databases:  the dump's database, under its own name (a plain SQL dump names none: then a database named after the target)" "pg databases line"
expect_out_has "  databases:  those in the dump, restored under their own names" "mariadb databases line"
expect_out_has "  restore:    one mariadb client (a SQL dump restores through one connection), timeout 2h" "mariadb restore line"
expect_out_has "  reference:  the recovery point's sidecar manifest (<artifact>.manifest.json) when it has one, else none" "default reference line"
run "$RD_BIN" validate drill.json --offline
expect_rc 0 "validate --offline"
expect_out_has "configuration OK" "validate --offline"

# --- the shipped examples ---
for f in full.jsonc minimal.json dynamodb.jsonc; do
    run env -u DRILL_WEBHOOK_URL "$RD_BIN" validate --offline "$here/fixtures/examples/$f"
    expect_rc 0 "example $f"
    expect_out_has "configuration OK" "example $f"
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "validate: all cases passed"
exit 0
