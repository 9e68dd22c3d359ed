#!/bin/sh
# t_dynamodb_schema.sh: a table description captured at backup time and
# the schema check, against dynalite:
# - `restoredrill manifest --engine dynamodb --endpoint URL --table T -o FILE`
#   writes DescribeTable's answer (key schema, attribute definitions, a GSI
#   with an INCLUDE projection, an LSI); an unknown table fails with
#   DynamoDB's own message and writes nothing;
# - described: no `key`, reference.description gives it; the scratch table
#   is created with the same key schema and indexes; schema passes (and
#   names what it compared), rowcount and checksum pass;
# - nodesc: schema without a description is skipped with the reason;
# - validate reads the description (one without a key schema is a problem);
# - wrongkey: `key` that contradicts the description fails the fetch with
#   both keys named; nothing is restored.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/dynalitelib.sh"
need_dynalite
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$here/npm/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" --createTableMs 0 \
    --deleteTableMs 0 --tag "$RESTOREDRILL_RUNDIR" >/dev/null 2>&1 &
endpoint_pid=$!
ep="http://127.0.0.1:$port"
ddb() { # OPERATION BODY
    curl -s -X POST -H "X-Amz-Target: DynamoDB_20120810.$1" -H 'Content-Type: application/x-amz-json-1.0' \
        --aws-sigv4 "aws:amz:us-east-1:dynamodb" -u k:s "$ep/" -d "$2"
}
for i in 1 2 3 4 5 6 7 8 9 10; do ddb ListTables '{}' >/dev/null 2>&1 && break; sleep 0.3; done
ddb CreateTable '{"TableName": "orders", "BillingMode": "PAY_PER_REQUEST",
  "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
  "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "N"},
                           {"AttributeName": "age", "AttributeType": "N"}, {"AttributeName": "updated_at", "AttributeType": "S"}],
  "GlobalSecondaryIndexes": [{"IndexName": "by_age",
      "KeySchema": [{"AttributeName": "age", "KeyType": "HASH"}, {"AttributeName": "updated_at", "KeyType": "RANGE"}],
      "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["score", "name"]}}],
  "LocalSecondaryIndexes": [{"IndexName": "by_updated",
      "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "updated_at", "KeyType": "RANGE"}],
      "Projection": {"ProjectionType": "KEYS_ONLY"}}]}' >"$tmp/create.json"
grep -q '"TableStatus"' "$tmp/create.json" || fail "CreateTable: $(cat "$tmp/create.json")"

run "$RD_BIN" manifest --engine dynamodb --endpoint "$ep" --table orders -o "$tmp/desc.json"
expect_rc 0 "manifest --engine dynamodb"
expect_eq "$(jq -c '[.Table.KeySchema[] | [.AttributeName, .KeyType]]' "$tmp/desc.json")" \
    '[["pk","HASH"],["sk","RANGE"]]' "captured key schema"
expect_eq "$(jq -r '.Table.GlobalSecondaryIndexes[0].IndexName' "$tmp/desc.json")" by_age "captured GSI"
expect_eq "$(jq -r '.Table.LocalSecondaryIndexes[0].Projection.ProjectionType' "$tmp/desc.json")" KEYS_ONLY "captured LSI"
run "$RD_BIN" manifest --engine dynamodb --endpoint "$ep" --table nope -o "$tmp/nope.json"
expect_rc 1 "manifest of an unknown table"
expect_has "$tmp/err.txt" "restoredrill: manifest: dynamodb DescribeTable: ResourceNotFoundException: Requested resource not found: Table: nope not found" \
    "DynamoDB's message"
[ -e "$tmp/nope.json" ] && fail "a file was written for an unknown table"
run "$RD_BIN" manifest --engine dynamodb --table orders -o "$tmp/x.json"
expect_rc 2 "manifest without --endpoint"
expect_has "$tmp/err.txt" "--endpoint is required with --engine dynamodb" "usage message"

python3 "$fixtures/dynamodb/gen-export.py" "$tmp/exp" --items 2000 --files 2 || fail "generate"
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "dynamodb-schema", "parallel": 1,
  "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [
    { "name": "described", "engine": "dynamodb",
      "catalog": { "type": "dynamodb-export", "path": "$tmp/exp" },
      "reference": { "description": "$tmp/desc.json" },
      "checks": [ { "type": "schema" }, { "type": "rowcount" }, { "type": "checksum" } ] },
    { "name": "nodesc", "engine": "dynamodb", "key": ["pk", "sk"],
      "catalog": { "type": "dynamodb-export", "path": "$tmp/exp" },
      "checks": [ { "type": "schema" }, { "type": "rowcount" } ] },
    { "name": "wrongkey", "engine": "dynamodb", "key": ["pk"],
      "catalog": { "type": "dynamodb-export", "path": "$tmp/exp" },
      "reference": { "description": "$tmp/desc.json" } }
  ] }
EOF
run "$RD_BIN" validate "$tmp/drill.json"
expect_rc 0 "validate"
expect_has "$tmp/out.txt" "  key:        the key schema of $tmp/desc.json" "validate: the key from the description"
expect_has "$tmp/out.txt" "  description: $tmp/desc.json (scratch table created like it; schema compares)" "validate: the description"
# validate reads the description: one without a key schema is a problem
echo '{"Table": {"TableName": "x"}}' >"$tmp/bad-desc.json"
sed "s#\"description\": \"$tmp/desc.json\"#\"description\": \"$tmp/bad-desc.json\"#" "$tmp/drill.json" >"$tmp/bad.json"
run "$RD_BIN" validate "$tmp/bad.json"
expect_rc 2 "validate with a description without a key schema"
expect_has "$tmp/err.txt" "restoredrill: $tmp/bad.json: targets[0].reference.description: $tmp/bad-desc.json: no \"KeySchema\" with a HASH key" \
    "validate names the description's problem"
run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run (wrongkey fails)"
st() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\") | .status"; }
msg() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\" and .object == \"$3\") | .message"; }
expect_eq "$(jqr '.targets[] | select(.name == "described") | .status')" passed "described status"
expect_eq "$(msg described export keys)" "2000 keys (pk, sk) unique" "the key from the description"
expect_eq "$(msg described schema rd_scratch_described)" \
    "key schema, attribute definitions and indexes as described" "schema passes"
expect_eq "$(st described rowcount)" passed "described rowcount"
expect_eq "$(st described checksum)" passed "described checksum"
expect_eq "$(st nodesc schema)" skipped "schema without a description"
expect_eq "$(msg nodesc schema rd_scratch_nodesc)" \
    "no table description to compare with (give reference.description, written by \`restoredrill manifest --engine dynamodb\`)" \
    "the reason"
expect_eq "$(jqr '.targets[] | select(.name == "wrongkey") | .status')" failed "wrongkey status"
jqr '.targets[] | select(.name == "wrongkey") | .error' | grep -qF "key [pk] differs from the key schema of $tmp/desc.json [pk, sk]" ||
    fail "wrongkey error: $(jqr '.targets[] | select(.name == "wrongkey") | .error')"
expect_eq "$(jqr '[.targets[] | select(.name == "wrongkey") | .checks[] | select(.type == "restore" and .status == "passed")] | length')" \
    0 "nothing restored for wrongkey"
kill "$endpoint_pid" 2>/dev/null
left=$(pgrep -f "$tmp/dynalite" || true)
[ -z "$left" ] || fail "dynalite left running: $left"
no_leftovers "dynamodb schema drill"
finish
