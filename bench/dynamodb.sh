#!/bin/sh
# bench/dynamodb.sh: restore of a generated DynamoDB export into dynalite,
# restoredrill (a drill with "checks": [], the restore phase's items per
# second) against a plain BatchWriteItem loader written with the AWS SDK for
# JavaScript (bench/dynamodb_sdk_loader.js, 8 requests in flight) against a
# dynalite of the same version, in one run; and restoredrill's peak RSS on
# an export ten times smaller, to show memory stays flat.
#   bench/dynamodb.sh RESTOREDRILL [ITEMS]     (default 1000000)
# Needs: node, npm (npm ci --prefix bench/npm), python3, /usr/bin/time, jq.
set -eu
rd=${1:?usage: bench/dynamodb.sh RESTOREDRILL [ITEMS]}
items=${2:-1000000}
small=$((items / 10))
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
[ -f "$here/npm/node_modules/@aws-sdk/client-dynamodb/package.json" ] ||
    npm ci --prefix "$here/npm" --no-audit --no-fund --silent >/dev/null
export RESTOREDRILL_DYNALITE="$here/npm/node_modules/dynalite"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench-dyn.XXXXXX")
dl=""
cleanup() { [ -n "$dl" ] && kill "$dl" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
gen="$root/fixtures/dynamodb/gen-export.py"
python3 "$gen" "$tmp/big" --items "$items" --files 16
python3 "$gen" "$tmp/small" --items "$small" --files 16
exp=$(ls -d "$tmp"/big/AWSDynamoDB/*)

# the peak VmRSS of one process (not its children: dynalite is one), sampled
# every 0.1 s until it exits
peak_rss() {
    max=0
    # until it exits (a zombie, not yet waited for, has no VmRSS line)
    while v=$(awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null) && [ -n "$v" ]; do
        [ -n "$v" ] && [ "$v" -gt "$max" ] && max=$v
        sleep 0.1
    done
    echo "$max"
}

drill() { # NAME DIR
    cat >"$tmp/$1.json" <<EOF
{ "version": 1, "name": "bench-$1", "output": { "dir": "$tmp/out-$1", "json": "drill.json" },
  "targets": [ { "name": "$1", "engine": "dynamodb", "key": ["pk", "sk"],
    "catalog": { "type": "dynamodb-export", "path": "$2" }, "restore": { "jobs": 8 },
    "checks": [] } ] }
EOF
    "$rd" run "$tmp/$1.json" >/dev/null 2>"$tmp/$1.log" &
    pid=$!
    rss=$(peak_rss "$pid")
    wait "$pid"
    r=$(jq -r '.targets[0].checks[] | select(.type == "restore") | "\(.properties.items) \(.seconds)"' \
        "$tmp/out-$1/drill.json")
    echo "$r $rss"
}

set -- $(drill big "$tmp/big")
rd_items=$1 rd_secs=$2 rd_rss=$3
set -- $(drill small "$tmp/small")
sm_items=$1 sm_secs=$2 sm_rss=$3

# the baseline: dynalite of the same version, then the SDK loader
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
node "$here/npm/node_modules/dynalite/cli.js" --host 127.0.0.1 --port "$port" --createTableMs 0 >/dev/null 2>&1 &
dl=$!
sleep 1
NODE_NO_WARNINGS=1 NODE_PATH="$here/npm/node_modules" \
    node "$here/dynamodb_sdk_loader.js" "http://127.0.0.1:$port" bench_sdk "$exp" 8 >"$tmp/sdk.out" &
pid=$!
sdk_rss=$(peak_rss "$pid")
wait "$pid"
sdk_items=$(jq -r .items "$tmp/sdk.out")
sdk_secs=$(jq -r .load_seconds "$tmp/sdk.out")

rate() { awk -v n="$1" -v s="$2" 'BEGIN { printf "%.0f", n / s }'; }
cat <<EOF
| loader | items | restore seconds | items/s | loader's peak RSS (KiB) |
|---|---|---|---|---|
| restoredrill (BatchWriteItem, 8 in flight) | $rd_items | $rd_secs | $(rate "$rd_items" "$rd_secs") | $rd_rss |
| AWS SDK for JavaScript v3 loader (8 in flight) | $sdk_items | $sdk_secs | $(rate "$sdk_items" "$sdk_secs") | $sdk_rss |
| restoredrill, $small items | $sm_items | $sm_secs | $(rate "$sm_items" "$sm_secs") | $sm_rss |

ratio restoredrill / SDK items per second: $(awk -v a="$(rate "$rd_items" "$rd_secs")" -v b="$(rate "$sdk_items" "$sdk_secs")" 'BEGIN { printf "%.2f", a / b }')
EOF
