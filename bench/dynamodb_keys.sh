#!/bin/sh
# bench/dynamodb_keys.sh: peak RSS and CPU of the verification pass of a
# dynamodb export (MD5s, counts, parse, digest, key uniqueness) at N and
# 10 x N items, for two binaries, rounds interleaved. Each export's
# manifest-summary.json claims one item more (gen-export.py --bad-count), so
# the whole point is read and verified, then the drill stops before any
# scratch exists: the process's peak is the verification's.
#   bench/dynamodb_keys.sh NEW_BINARY BASE_BINARY [N] [ROUNDS]   (defaults 100000, 2)
# Prints one line per measure: binary items round wall_s cpu_s maxrss_kib.
set -eu
new=${1:?usage: bench/dynamodb_keys.sh NEW BASE [N] [ROUNDS]}
base=${2:?usage: bench/dynamodb_keys.sh NEW BASE [N] [ROUNDS]}
n=${3:-100000}
rounds=${4:-2}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench-keys.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
gen="$root/fixtures/dynamodb/gen-export.py"
for items in "$n" $((n * 10)); do
    python3 "$gen" "$tmp/e$items" --items "$items" --files 16 --bad-count
    cat >"$tmp/d$items.json" <<JSON
{ "version": 1, "name": "bench-keys", "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [ { "name": "k", "engine": "dynamodb", "key": ["pk", "sk"],
    "catalog": { "type": "dynamodb-export", "path": "$tmp/e$items" }, "checks": [] } ] }
JSON
done
echo "# load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "binary items round wall_s cpu_s maxrss_kib"
for r in $(seq 1 "$rounds"); do
    for items in "$n" $((n * 10)); do
        for which in new base; do
            bin=$new
            [ "$which" = base ] && bin=$base
            RESTOREDRILL_RUNDIR="$tmp/run" /usr/bin/time -f "%e %U %S %M" -o "$tmp/time" \
                "$bin" run "$tmp/d$items.json" >/dev/null 2>"$tmp/log" || true
            grep -q "manifest-summary.json says $((items + 1))" "$tmp/out/drill.json" ||
                { echo "unexpected drill result:"; tail -n 5 "$tmp/log"; exit 1; }
            # the last line (GNU time first notes the drill's exit status 1)
            read -r wall user sys rss <<T
$(tail -n 1 "$tmp/time")
T
            echo "$which $items $r $wall $(echo "$user + $sys" | bc) $rss"
        done
    done
done
echo "# load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
