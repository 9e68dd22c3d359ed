#!/bin/sh
# t_first_contact.sh: what a new user meets on a first real drill, each with
# its exact text: a PostgreSQL custom dump restored under the database it was
# dumped from, by a tool named as the user knows it (pg_restore), --verbose
# showing the restore command line without the password; a reference that
# cannot be reached reported as the reference (host and port, no secret,
# nothing restored), not as a restore failure, and the summary saying that
# the drill did not complete instead of "RTO ... NOT MET"; a catalog
# directory that does not exist and a pattern that matches nothing, each
# naming the setting. Nothing is left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups postgres
CANARY="rd-canary-7c1d20"
export PGPASSWORD="$CANARY" REF_PW="$CANARY"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
b="$tmp/backups/pg-custom"
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "first-contact", "parallel": 1,
  "output": { "dir": "$tmp/out" },
  "targets": [
    { "name": "pg", "engine": "postgres", "objectives": { "rto": "10m" },
      "catalog": { "type": "dir", "path": "$b", "pattern": "shop-*.dump", "time_from": "name" },
      "checks": [ { "type": "rowcount" } ] },
    { "name": "ref", "engine": "postgres", "objectives": { "rto": "10m" },
      "catalog": { "type": "dir", "path": "$b", "pattern": "shop-*.dump", "time_from": "name" },
      "reference": { "dsn": "host=127.0.0.1 port=$port dbname=shop user=app", "password_env": "REF_PW" } },
    { "name": "nodir", "engine": "postgres",
      "catalog": { "type": "dir", "path": "$tmp/nope" } },
    { "name": "nomatch", "engine": "postgres",
      "catalog": { "type": "dir", "path": "$b", "pattern": "orders-*.dump" } } ] }
EOF
run "$RD_BIN" --verbose run "$tmp/drill.json"
expect_rc 1 "drill"
sel() { echo ".targets[] | select(.name == \"$1\")"; }
# pg: restored under "shop" (the database of the dump) by pg_restore
expect_eq "$(jqr "$(sel pg) | .status")" passed "pg status"
expect_has "$tmp/err.txt" "pg: restoring $(jqr "$(sel pg) | .recovery_point.id") with pg_restore" "tool named"
grep -E "^debug: restore command: [^ ]*pg_restore .*--dbname shop " "$tmp/err.txt" >/dev/null ||
    fail "--verbose: no pg_restore command line restoring into shop: $(grep 'restore command' "$tmp/err.txt")"
expect_eq "$(jqr "[$(sel pg) | .checks[] | select(.type == \"restore\") | .properties.tool] | join(\",\")")" \
    "pg_restore" "restore tool property"
expect_eq "$(jqr "[$(sel pg) | .checks[] | select(.type == \"restore\") | .properties | has(\"decoded_bytes\")] | join(\",\")")" \
    "false" "no decoded_bytes when pg_restore read the file itself"
case "$(jqr "$(sel pg) | .checks[] | select(.type == \"restore\") | .message")" in
"restored shop-"*".dump (pg-custom) with pg_restore in "*) ;;
*) fail "restore message: $(jqr "$(sel pg) | .checks[] | select(.type == \"restore\") | .message")" ;;
esac
# ref: the reference is named, host and port, and nothing was restored
refmsg="reference.dsn: cannot connect to postgres at 127.0.0.1:$port: Connection refused (is the server running on that host and accepting TCP/IP connections?)"
expect_eq "$(jqr "$(sel ref) | .status")" error "ref status"
expect_eq "$(jqr "[$(sel ref) | .checks[] | .type + \"/\" + .object + \"/\" + .status] | join(\",\")")" \
    "reference/reference.dsn/error,objective/rto/failed" "ref results (no restore result)"
expect_eq "$(jqr "$(sel ref) | .checks[] | select(.type == \"reference\") | .message")" \
    "provision: $refmsg" "ref message"
expect_eq "$(jqr "$(sel ref) | .error")" "provision: $refmsg" "ref error"
expect_has "$tmp/err.txt" "error: ref: nothing was restored: the reference database is needed first" "ref log"
grep -E "^  ERROR +ref: point shop-[0-9TZ]+\.dump, RTO not measured: the drill did not complete \(stopped after [0-9.hms ]+; objective 10m\), " \
    "$tmp/err.txt" >/dev/null || fail "summary line of ref: $(grep '  ERROR  *ref:' "$tmp/err.txt")"
grep -q "NOT MET" "$tmp/err.txt" && fail "the summary says NOT MET: $(grep 'NOT MET' "$tmp/err.txt")"
# catalog mistakes, each naming the setting
expect_eq "$(jqr "$(sel nodir) | .error")" \
    "sample: catalog.path: directory $tmp/nope does not exist (create it or correct the path)" "nodir error"
expect_eq "$(jqr "$(sel nomatch) | .error")" \
    "sample: no recovery points in the catalog: catalog.pattern \"orders-*.dump\" matches no file in $b" "nomatch error"
# no secret anywhere, nothing left
for f in "$tmp/err.txt" "$tmp/out.txt" "$tmp/out"/*; do
    grep -qF "$CANARY" "$f" && fail "$f contains the planted password"
done
no_leftovers "first contact"
finish
