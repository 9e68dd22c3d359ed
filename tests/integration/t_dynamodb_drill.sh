#!/bin/sh
# t_dynamodb_drill.sh: dynamodb drills against an ephemeral dynalite, one
# target per case, on exports made by fixtures/dynamodb/gen-export.py:
# - clean: a 100,000-item export restores; verification (files, items,
#   parse, keys), restore, rowcount and checksum pass; sql is skipped as
#   not supported for dynamodb;
# - flipped: a data file with one flipped byte fails verification before
#   anything is restored (MD5 mismatch named, restore not run);
# - badcount: manifest-summary.json claims one item more: "items" fails;
# - dupkey: the last item repeats the first item's key: "keys" fails;
#   freshness finds the newest "updated_at" one second before exportTime;
# - scan: a gzipped, gpg-encrypted scan file ({"Items": [...]}) restores
#   through the decrypt filter and passes rowcount and checksum;
# - server: scratch "server" on a DynamoDB-compatible endpoint (a dynalite
#   the test starts): a prefixed table is created, checked, and deleted.
# No dynalite process of the drill is left running, no table on the endpoint.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/dynalitelib.sh"
need_dynalite
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
gen="$fixtures/dynamodb/gen-export.py"

python3 "$gen" "$tmp/clean" --items 100000 --files 8 || fail "generate clean"
python3 "$gen" "$tmp/flipped" --items 100000 --files 8 --flip-byte || fail "generate flipped"
python3 "$gen" "$tmp/badcount" --items 20000 --bad-count || fail "generate badcount"
python3 "$gen" "$tmp/dupkey" --items 20000 --dup-key || fail "generate dupkey"
python3 "$gen" "$tmp/small" --items 3000 || fail "generate small"
# an endpoint for the server scratch (its command line names the run dir, so
# testlib's cleanup stops it whatever happens)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$here/npm/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" --createTableMs 0 \
    --deleteTableMs 0 --tag "$RESTOREDRILL_RUNDIR" >/dev/null 2>&1 &
endpoint_pid=$!
mkdir -p "$tmp/scan" "$tmp/gnupg"
chmod 0700 "$tmp/gnupg"
python3 "$gen" "$tmp/plain" --items 5000 --scan orders-20260130T150000Z.json.gz || fail "generate scan"
echo "drill-secret" >"$tmp/passphrase"
gpg --batch --quiet --homedir "$tmp/gnupg" --pinentry-mode loopback --passphrase-file "$tmp/passphrase" \
    --symmetric -o "$tmp/scan/orders-20260130T150000Z.json.gz.gpg" "$tmp/plain/orders-20260130T150000Z.json.gz" ||
    fail "gpg --symmetric"

target() { # NAME DIR [EXTRA]
    cat <<EOF
    { "name": "$1", "engine": "dynamodb", "key": ["pk", "sk"],
      "catalog": { "type": "dynamodb-export", "path": "$2" },
      $3
      "checks": [ { "type": "rowcount" }, { "type": "checksum" }, { "type": "sql", "query": "select 1" },
                  { "type": "freshness", "attribute": "updated_at", "max_lag": "1m" } ] }
EOF
}
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "dynamodb-drill", "parallel": 2,
  "output": { "dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml" },
  "targets": [
$(target clean "$tmp/clean"),
$(target flipped "$tmp/flipped"),
$(target badcount "$tmp/badcount"),
$(target dupkey "$tmp/dupkey"),
$(target server "$tmp/small" "\"scratch\": { \"type\": \"server\", \"endpoint\": \"http://127.0.0.1:$port\", \"prefix\": \"srv_\" },"),
$(target scan "$tmp/scan" "\"restore\": { \"decrypt\": [\"gpg\", \"--batch\", \"--quiet\", \"--homedir\", \"$tmp/gnupg\", \"--pinentry-mode\", \"loopback\", \"--passphrase-file\", \"$tmp/passphrase\", \"--decrypt\"] },")
  ] }
EOF
run "$RD_BIN" validate "$tmp/drill.json"
expect_rc 0 "validate"
expect_has "$tmp/out.txt" "  key:        pk, sk" "validate shows the key"
expect_has "$tmp/out.txt" "  scratch:    ephemeral (dynalite under node on 127.0.0.1, a free port; table rd_scratch_<target>)" \
    "validate shows the dynalite scratch"
# validate probes the catalog's directory: no export and no scan file is a problem
mkdir -p "$tmp/empty"
sed "s#\"path\": \"$tmp/clean\"#\"path\": \"$tmp/empty\"#" "$tmp/drill.json" >"$tmp/empty.json"
run "$RD_BIN" validate "$tmp/empty.json"
expect_rc 2 "validate with an empty catalog directory"
expect_has "$tmp/err.txt" "targets[0].catalog.path: no export (AWSDynamoDB/<id>/manifest-summary.json) and no scan file (*.json*) in $tmp/empty" \
    "validate names the empty catalog"
run "$RD_BIN" run "$tmp/drill.json"
expect_rc 1 "drill with broken exports"
st() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\" and .object == \"$3\") | .status"; }
msg() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\" and .object == \"$3\") | .message"; }

# clean
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .status')" passed "clean status"
expect_eq "$(msg clean export files)" "8 data files: MD5 and item counts match manifest-files.json" "clean files"
expect_eq "$(msg clean export items)" "100000 items, manifest-summary.json says 100000" "clean items"
expect_eq "$(msg clean export keys)" "100000 keys (pk, sk) unique" "clean keys"
expect_eq "$(msg clean rowcount rd_scratch_clean)" "100000 items, as manifest-summary.json says" "clean rowcount"
expect_eq "$(st clean checksum rd_scratch_clean)" passed "clean checksum"
expect_eq "$(msg clean sql '*')" "not supported for dynamodb" "sql skipped"
expect_eq "$(st clean sql '*')" skipped "sql status"
expect_eq "$(msg clean freshness 'newest data')" \
    "newest data 2026-01-30T14:59:59.000Z (query), 1.00s before the recovery point, within max_lag 1m" \
    "clean freshness: the newest updated_at"
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .rpo.data_lag_seconds')" 1 "clean data lag"
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .checks[] | select(.type == "restore") | .properties.items' | head -n 1)" \
    "100000" "clean restore items"
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .recovery_point.created_at' | cut -c1-19)" \
    "2026-01-30T15:00:00" "the point is the export's exportTime"

# flipped: fails at fetch, nothing restored
expect_eq "$(jqr '.targets[] | select(.name == "flipped") | .status')" failed "flipped status"
expect_eq "$(st flipped export files)" failed "flipped files"
msg flipped export files | grep -q "^1 of 8 data files differ from manifest-files.json: data/0000-b6589fc6.json.gz: md5 mismatch: manifest " ||
    fail "flipped message names the file: $(msg flipped export files)"
expect_eq "$(jqr '[.targets[] | select(.name == "flipped") | .checks[] | select(.type == "rowcount" or .type == "checksum")] | length')" \
    0 "no check runs on a point that failed verification"

# badcount
expect_eq "$(st badcount export items)" failed "badcount items"
expect_eq "$(msg badcount export items)" "20000 items, manifest-summary.json says 20001" "badcount message"
expect_eq "$(st badcount export files)" passed "badcount files"

# dupkey
expect_eq "$(st dupkey export keys)" failed "dupkey keys"
msg dupkey export keys | grep -q '^1 duplicate keys and 0 items without a valid key (pk, sk): data/0003-77de68da.json.gz line 5000: duplicate key pk=S"user#0", sk=N"0"' ||
    fail "dupkey message: $(msg dupkey export keys)"

# scan, gpg-encrypted
expect_eq "$(jqr '.targets[] | select(.name == "scan") | .status')" passed "scan status"
expect_eq "$(msg scan rowcount rd_scratch_scan)" "5000 items, as the scan file says" "scan rowcount"
expect_eq "$(st scan checksum rd_scratch_scan)" passed "scan checksum"
expect_eq "$(jqr '.targets[] | select(.name == "scan") | .recovery_point.id')" \
    "orders-20260130T150000Z.json.gz.gpg" "scan point"

# server: a prefixed table, checked, then deleted from the endpoint
expect_eq "$(jqr '.targets[] | select(.name == "server") | .status')" passed "server status"
table=$(jqr '.targets[] | select(.name == "server") | .checks[] | select(.type == "rowcount") | .object')
echo "$table" | grep -Eq '^srv_server_[0-9]{8}T[0-9]{6}Z_[a-z0-9]{6}$' || fail "server table name: $table"
expect_eq "$(msg server rowcount "$table")" "3000 items, as manifest-summary.json says" "server rowcount"
tables=$(curl -s -X POST -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
    -H 'Content-Type: application/x-amz-json-1.0' --aws-sigv4 "aws:amz:us-east-1:dynamodb" -u k:s \
    "http://127.0.0.1:$port/" -d '{}')
expect_eq "$tables" '{"TableNames":[]}' "the scratch table is deleted at teardown"
kill "$endpoint_pid" 2>/dev/null

left=$(pgrep -f "$tmp/dynalite" || true)
[ -z "$left" ] || fail "dynalite left running: $left"
no_leftovers "dynamodb drill"
finish
