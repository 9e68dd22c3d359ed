#!/bin/sh
# t_dynamodb_s3.sh: dynamodb drills on exports read from S3 (a local
# moto_server that verifies SigV4 signatures, tests/s3/s3server.py) into an
# ephemeral dynalite:
# - clean: an export whose manifests name its files under "exports/orders"
#   is stored under "orders" (a copy): the keys resolve against the export's
#   own prefix; list shows the point at its exportTime; verification (MD5 of
#   each stored .json.gz computed while streaming), restore, rowcount and
#   checksum pass;
# - flipped: one flipped byte in a data file: the MD5 mismatch is named
#   (the corrupt gzip stream too), nothing is restored;
# - scan: a gzipped scan file at the top of a bucket (no prefix) restores;
# - missing: a data file absent from the bucket is named "missing";
# - a wrong secret fails the listing with S3's own message, never the secret;
# - awkward: a catalog prefix with '/', a space and "é" (moto refuses such
#   prefixes; s3rver, when installed, verifies signatures too) drills clean.
# Skips when moto or dynalite is not installed. (moto 5.2.1 refuses prefixes
# with '/': the catalog prefixes here have none, the keys do.)
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/dynalitelib.sh"
need_dynalite
s3dir="$tmp/s3"
. "$here/s3/s3lib.sh"
s3_start
s3_isolate
gen="$fixtures/dynamodb/gen-export.py"
python3 "$gen" "$tmp/clean" --items 20000 --files 4 --id 01700000000000-aaaa1111 || fail "generate clean"
python3 "$gen" "$tmp/flipped" --items 20000 --files 4 --id 01700000000000-bbbb2222 --flip-byte ||
    fail "generate flipped"
python3 "$gen" "$tmp/missing" --items 3000 --files 2 --id 01700000000000-cccc3333 || fail "generate missing"
rm "$tmp/missing/AWSDynamoDB/01700000000000-cccc3333/data/0001-"*.json.gz
python3 "$gen" "$tmp/scan" --items 3000 --scan orders-20260130T150000Z.json.gz || fail "generate scan"
# upload DIR to BUCKET under PREFIX (one boto3 client for all files)
upload() {
    PYTHONPATH="$here/s3" python3 -c '
import os, sys, s3server
s3 = s3server.client(s3server.load_env(sys.argv[1]), "s3")
root = sys.argv[2]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, sys.argv[3], sys.argv[4] + "/" + os.path.relpath(p, root))
' "$s3dir" "$1" "$2" "$3" || fail "upload $1"
}
python3 "$here/s3/s3server.py" mb "$s3dir" exports broken scans || { echo "mb failed"; exit 1; }
python3 "$here/s3/s3server.py" put "$s3dir" scans orders-20260130T150000Z.json.gz \
    "$tmp/scan/orders-20260130T150000Z.json.gz" || fail "upload scan"
upload "$tmp/clean" exports orders
upload "$tmp/flipped" broken flipped
upload "$tmp/missing" broken missing

target() { # NAME BUCKET PREFIX
    cat <<EOF
    { "name": "$1", "engine": "dynamodb", "key": ["pk", "sk"],
      "catalog": { "type": "dynamodb-export", "bucket": "$2", "prefix": "$3",
                   "endpoint": "$RD_S3_ENDPOINT", "region": "us-east-1" },
      "checks": [ { "type": "rowcount" }, { "type": "checksum" } ] }
EOF
}
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "dynamodb-s3", "parallel": 1,
  "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [
$(target clean exports orders),
$(target flipped broken flipped),
$(target missing broken missing),
$(target scan scans "")
  ] }
EOF
run "$RD_BIN" validate "$tmp/drill.json"
expect_rc 0 "validate"
expect_has "$tmp/out.txt" "bucket exports, prefix \"orders\", endpoint $RD_S3_ENDPOINT, region us-east-1" \
    "validate shows the bucket"
run "$RD_BIN" list "$tmp/drill.json" --target clean --json
expect_rc 0 "list"
cp "$tmp/out.txt" "$tmp/list.json"
expect_eq "$(jq -r '.targets[0].points | length' "$tmp/list.json")" 1 "one export listed"
expect_eq "$(jq -r '.targets[0].points[0].location' "$tmp/list.json")" \
    "s3://exports/orders/AWSDynamoDB/01700000000000-aaaa1111" "export location"
expect_eq "$(jq -r '.targets[0].points[0].id' "$tmp/list.json")" "01700000000000-aaaa1111" "export id"
expect_eq "$(jq -r '.targets[0].points[0].time_basis' "$tmp/list.json")" manifest "time from exportTime"

run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run (flipped and missing fail)"
st() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\" and .object == \"$3\") | .status"; }
msg() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\" and .object == \"$3\") | .message"; }
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .status')" passed "clean status"
expect_eq "$(msg clean export files)" "4 data files: MD5 and item counts match manifest-files.json" "clean files"
expect_eq "$(msg clean export keys)" "20000 keys (pk, sk) unique" "clean keys"
expect_eq "$(msg clean rowcount rd_scratch_clean)" "20000 items, as manifest-summary.json says" "clean rowcount"
expect_eq "$(st clean checksum rd_scratch_clean)" passed "clean checksum"
expect_eq "$(jqr '.targets[] | select(.name == "clean") | .recovery_point.created_at' | cut -c1-19)" \
    "2026-01-30T15:00:00" "the point is the export's exportTime"

expect_eq "$(jqr '.targets[] | select(.name == "flipped") | .status')" failed "flipped status"
flipped_file=$(cd "$tmp/flipped/AWSDynamoDB/01700000000000-bbbb2222" && ls data | head -n 1)
stored=$(openssl md5 -binary "$tmp/flipped/AWSDynamoDB/01700000000000-bbbb2222/data/$flipped_file" | base64)
msg flipped export files | grep -qF "1 of 4 data files differ from manifest-files.json: data/$flipped_file: md5 mismatch: manifest " ||
    fail "flipped message names the file: $(msg flipped export files)"
msg flipped export files | grep -qF ", file $stored" || fail "flipped: the stored file's MD5 $stored: $(msg flipped export files)"
expect_eq "$(jqr '[.targets[] | select(.name == "flipped") | .checks[] | select(.type == "restore")] | length')" \
    0 "nothing restored from a point that failed verification"

missing_file=$(jq -r .dataFileS3Key "$tmp/missing/AWSDynamoDB/01700000000000-cccc3333/manifest-files.json" | sed -n 2p | sed 's#.*/data/#data/#')
expect_eq "$(msg missing export files)" \
    "1 of 2 data files differ from manifest-files.json: $missing_file: missing" "missing file named"
expect_eq "$(st missing export items)" failed "missing items"

expect_eq "$(jqr '.targets[] | select(.name == "scan") | .status')" passed "scan file in S3"
expect_eq "$(jqr '.targets[] | select(.name == "scan") | .recovery_point.location')" \
    "s3://scans/orders-20260130T150000Z.json.gz" "scan location"
expect_eq "$(msg scan rowcount rd_scratch_scan)" "3000 items, as the scan file says" "scan rowcount"
expect_eq "$(st scan checksum rd_scratch_scan)" passed "scan checksum"

# a wrong secret: S3's own message, the secret never shown
AWS_SECRET_ACCESS_KEY=wrong-secret-value run "$RD_BIN" list "$tmp/drill.json" --target clean
expect_rc 1 "list with a wrong secret"
expect_has "$tmp/out.txt" "error: s3 GET s3://exports/: 403 SignatureDoesNotMatch: The request signature we calculated does not match the signature you provided." "S3's message"
grep -q "wrong-secret-value" "$tmp/err.txt" "$tmp/out.txt" && fail "the secret is printed"
# a catalog prefix with '/', a space and a non-ASCII letter (what moto 5.2.1
# refuses): against @20minutes/s3rver, which verifies signatures too
if [ -d "$here/s3/npm/node_modules/@20minutes/s3rver" ]; then
    mkdir -p "$tmp/s3rver"
    node --openssl-legacy-provider "$here/s3/s3rver.js" "$tmp/s3rver" awkward >/dev/null 2>&1 &
    s3rver_pid=$!
    trap 'kill "$s3rver_pid" 2>/dev/null; python3 "$here/s3/s3server.py" stop "$s3dir"; cleanup' EXIT
    for i in $(seq 1 50); do [ -s "$tmp/s3rver/s3rver.port" ] && break; sleep 0.2; done
    ep2="http://127.0.0.1:$(cat "$tmp/s3rver/s3rver.port")"
    python3 -c '
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="S3RVER", aws_secret_access_key="S3RVER")
root = sys.argv[2]
for d, _, files in os.walk(root):
    for f in files:
        p = os.path.join(d, f)
        s3.upload_file(p, "awkward", sys.argv[3] + "/" + os.path.relpath(p, root))
' "$ep2" "$tmp/clean" "exports/orders dé" || fail "upload to s3rver"
    cat >"$tmp/awkward.json" <<EOF
{ "version": 1, "name": "dynamodb-s3-awkward", "parallel": 1,
  "output": { "dir": "$tmp/out2", "json": "drill.json" },
  "targets": [
    { "name": "awkward", "engine": "dynamodb", "key": ["pk", "sk"],
      "catalog": { "type": "dynamodb-export", "bucket": "awkward", "prefix": "exports/orders dé",
                   "endpoint": "$ep2", "region": "us-east-1" },
      "checks": [ { "type": "rowcount" }, { "type": "checksum" } ] } ] }
EOF
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER run "$RD_BIN" run "$tmp/awkward.json" --no-progress
    expect_rc 0 "drill of an export under an awkward prefix"
    expect_eq "$(jq -r '.targets[0].recovery_point.location' "$tmp/out2/drill.json")" \
        "s3://awkward/exports/orders dé/AWSDynamoDB/01700000000000-aaaa1111" "awkward location"
    expect_eq "$(jq -r '.targets[0].checks[] | select(.type == "export" and .object == "files") | .message' "$tmp/out2/drill.json")" \
        "4 data files: MD5 and item counts match manifest-files.json" "awkward files"
    expect_eq "$(jq -r '.targets[0].checks[] | select(.type == "checksum") | .status' "$tmp/out2/drill.json")" \
        passed "awkward checksum"
    kill "$s3rver_pid" 2>/dev/null
else
    echo "note: @20minutes/s3rver is not installed (npm ci --prefix tests/s3/npm): awkward prefix untested"
fi
left=$(pgrep -f "$tmp/dynalite" || true)
[ -z "$left" ] || fail "dynalite left running: $left"
no_leftovers "dynamodb s3 drill"
finish
