#!/bin/sh
# t_dynamodb_smoke.sh: the smoke check on engine dynamodb: a tiny node app
# (fixtures/dynamodb/smoke-app.js) is started against the ephemeral dynalite
# with AWS_ENDPOINT_URL(_DYNAMODB), AWS_REGION, RD_DYNAMODB_TABLE and a
# placeholder key pair in its environment, reads an item of the restored
# table with GetItem and answers over HTTP; the probes pass on the item's
# attributes; a probe for a key the export does not hold fails with the
# exact message; the check's own "env" adds to (and may override) what the
# drill gives; the app is stopped afterwards.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/dynalitelib.sh"
need_dynalite
python3 "$fixtures/dynamodb/gen-export.py" "$tmp/exp" --items 400 --files 1 || fail "generate"
cp "$fixtures/dynamodb/smoke-app.js" "$tmp/smoke-app.js"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
app="http://127.0.0.1:$port"
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "dynamodb-smoke", "parallel": 1,
  "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [
    { "name": "orders", "engine": "dynamodb", "key": ["pk", "sk"],
      "catalog": { "type": "dynamodb-export", "path": "$tmp/exp" },
      "checks": [ { "type": "rowcount" },
        { "type": "smoke",
          "app": { "command": ["node", "$tmp/smoke-app.js", "$port"],
                   "env": { "APP_MARKER": "from-config", "AWS_DEFAULT_REGION": "eu-north-1" } },
          "ready_url": "$app/health", "ready_timeout": "20s",
          "probes": [
            { "url": "$app/item?pk=user%230&sk=1", "expect_status": 200,
              "expect_json": ["Item.pk.S=user#0", "Item.sk.N=1", "Item.name.S=name 1 \u00e9\"q"] },
            { "url": "$app/env", "expect_json": ["table=rd_scratch_orders", "region=us-east-1",
                                                 "default_region=eu-north-1", "marker=from-config"] },
            { "url": "$app/item?pk=user%23999999&sk=0", "expect_json": ["Item.pk.S=user#999999"] } ] } ] }
  ] }
EOF
run "$RD_BIN" validate "$tmp/drill.json"
expect_rc 0 "validate (smoke accepted for dynamodb)"
run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run (the missing item's probe fails)"
msg() { jqr ".targets[0].checks[] | select(.type == \"smoke\" and .object == \"$1\") | .message"; }
st() { jqr ".targets[0].checks[] | select(.type == \"smoke\" and .object == \"$1\") | .status"; }
expect_eq "$(st "GET $app/item?pk=user%230&sk=1")" passed "the app read the item from the scratch table"
expect_eq "$(st "GET $app/env")" passed "the app got the endpoint, table, region; env from the config wins"
expect_eq "$(st "GET $app/item?pk=user%23999999&sk=0")" failed "a key not in the export"
expect_eq "$(msg "GET $app/item?pk=user%23999999&sk=0")" "body has no Item.pk.S" "the probe's message"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "rowcount") | .status')" passed "rowcount"
# the endpoint the app got is the scratch dynalite's (gone now): from the app's own answer
curl -s "$app/env" >/dev/null 2>&1 && fail "the app is still running after the drill"
left=$(pgrep -f "$tmp/dynalite" || true)
[ -z "$left" ] || fail "dynalite left running: $left"
no_leftovers "dynamodb smoke drill"
finish
