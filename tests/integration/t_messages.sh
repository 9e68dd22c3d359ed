#!/bin/sh
# t_messages.sh: the common mistakes of a new user, each with its exact
# message (naming the setting or file, saying what to do) and exit code:
# a misspelled key, an objective that is not a duration, a DSN to a server
# that is not running (both engines, TCP and socket), a catalog directory
# that does not exist, a pattern that matches nothing, a manifest without
# chunk digests given to `checksum --manifest`. No servers.
[ -n "$RD_BIN" ] && [ -x "$RD_BIN" ] || { echo "RD_BIN is not set to the built binary"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp" || exit 1
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
run() {
    "$@" >"$tmp/out" 2>"$tmp/err"
    rc=$?
}
# expect RC NAME LINE: exit RC and the first stderr line is exactly LINE
expect() {
    [ "$rc" -eq "$1" ] || fail "$2: exit $rc, want $1 (stderr: $(cat "$tmp/err"))"
    first=$(head -n 1 "$tmp/err")
    [ "$first" = "$3" ] || fail "$2: stderr line 1 is [$first], want [$3]"
}
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p "$tmp/dumps"

# a misspelled key: the key it most likely meant (exit 2, nothing touched)
printf '{"version": 1, "targets": [{"name": "a", "engine": "postgres",\n "catalog": {"type": "dir", "path": "%s/dumps", "patern": "*.dump"}}]}\n' "$tmp" >typo.json
run "$RD_BIN" run typo.json --out "$tmp/o"
expect 2 "misspelled key" 'restoredrill: typo.json: targets[0].catalog.patern: unknown key, did you mean "pattern"? (expected one of: type, path, pattern, time_from, endpoint, region, path_style)'
[ ! -e "$tmp/o" ] || fail "misspelled key: an output directory was made"

# an objective that is not a duration (exit 2)
printf '{"version": 1, "targets": [{"name": "a", "engine": "postgres", "objectives": {"rto": "10 minutes"},\n "catalog": {"type": "dir", "path": "%s/dumps"}}]}\n' "$tmp" >obj.json
run "$RD_BIN" run obj.json --out "$tmp/o"
expect 2 "objective" 'restoredrill: obj.json: targets[0].objectives.rto: expected a duration like "90s", "15m", "2h" or "1d", got "10 minutes"'

# a DSN to a server that is not running (exit 1: the command ran and failed)
run "$RD_BIN" manifest --engine postgres --dsn "host=127.0.0.1 port=$port dbname=shop" -o m.json
expect 1 "postgres tcp" "restoredrill: manifest: cannot connect to postgres at 127.0.0.1:$port: Connection refused (is the server running on that host and accepting TCP/IP connections?)"
run "$RD_BIN" manifest --engine postgres --dsn "host=$tmp/nosock dbname=shop" -o m.json
expect 1 "postgres socket" "restoredrill: manifest: cannot connect to postgres at $tmp/nosock:5432: No such file or directory (is the server running locally and accepting connections on that socket?)"
run "$RD_BIN" checksum --engine mariadb --dsn "mariadb://app@127.0.0.1:$port/shop"
[ "$rc" -eq 1 ] || fail "mariadb tcp: exit $rc, want 1"
# Connector/C's own text ends in an errno that depends on its connect mode
case "$(head -n 1 "$tmp/err")" in
"restoredrill: checksum: cannot connect to mariadb at 127.0.0.1:$port: Can't connect to server on '127.0.0.1' ("*") (is the server running on that host and accepting TCP/IP connections?)") ;;
*) fail "mariadb tcp: $(head -n 1 "$tmp/err")" ;;
esac
run "$RD_BIN" backup --engine mariadb --dsn "mariadb://app@localhost/shop?socket=$tmp/my.sock" -o d.sql
expect 1 "mariadb socket" "restoredrill: backup: cannot connect to mariadb at $tmp/my.sock: Can't connect to local server through socket '$tmp/my.sock' (2) (is the server running locally and accepting connections on that socket?)"
[ ! -e d.sql ] || fail "mariadb socket: a dump file was left behind"

# a catalog directory that does not exist, a pattern that matches nothing:
# the drill runs and fails (exit 1), the console names the setting
cat >cat.json <<EOF
{ "version": 1, "output": { "dir": "$tmp/o" }, "targets": [
  { "name": "nodir", "engine": "postgres", "catalog": { "type": "dir", "path": "$tmp/nope" } },
  { "name": "nomatch", "engine": "postgres",
    "catalog": { "type": "dir", "path": "$tmp/dumps", "pattern": "orders-*.dump" } } ] }
EOF
run "$RD_BIN" run cat.json --no-progress
[ "$rc" -eq 1 ] || fail "catalog mistakes: exit $rc, want 1"
grep -qxF "error: nodir: sample: catalog.path: directory $tmp/nope does not exist (create it or correct the path)" "$tmp/err" ||
    fail "nodir line: $(grep nodir "$tmp/err")"
grep -qxF "error: nomatch: sample: no recovery points in the catalog: catalog.pattern \"orders-*.dump\" matches no file in $tmp/dumps" "$tmp/err" ||
    fail "nomatch line: $(grep nomatch "$tmp/err")"
# validate says the same before any run (exit 2)
run "$RD_BIN" validate cat.json
expect 2 "validate catalog" "restoredrill: cat.json: targets[0].catalog.path: directory $tmp/nope does not exist (create it or correct the path)"
[ "$(sed -n 2p "$tmp/err")" = "restoredrill: cat.json: targets[1].catalog.pattern: \"orders-*.dump\" matches no file in $tmp/dumps" ] ||
    fail "validate pattern line: $(sed -n 2p "$tmp/err")"

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "messages: all cases passed"
