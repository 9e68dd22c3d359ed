#!/bin/sh
# bench/s3.sh S3_FETCH [MB] [BASE_FETCH]: streaming an S3 object through the
# artifact pipeline against curl, in one run. Starts a local S3 server that
# verifies SigV4 signatures (BENCH_S3_SERVER: "moto" = moto_server through
# tests/s3/s3server.py, the default; "s3rver" = @20minutes/s3rver through
# tests/s3/s3rver.js), uploads a MB-megabyte (default 1024) object of random
# bytes, then alternates, REPS times (default 3): curl with SigV4 to
# /dev/null, S3_FETCH (bench/s3_fetch.c: rd_artifact with its S3 GET thread,
# sha256 verified, format/wrap detection) and, when given, BASE_FETCH (the
# same program built from another commit: before/after in the same run).
# Each under /usr/bin/time -v for wall time, CPU time (user+sys) and peak
# RSS. Prints a markdown table (best of the rounds, CPU seconds per GiB),
# every round's ratio of throughputs, and the load average.
#
# It also prints, every round, the ceiling of any reader that verifies the
# object's sha256 as one stream: curl's time to the first byte (the server's
# own delay, which every client waits) plus MB at the rate of OpenSSL's
# sha256 on this machine (`openssl speed`, measured in the same run), and the
# ratio to curl that such a reader could reach at best. moto_server builds the
# whole object in memory before its first byte and then sends faster than the
# sha256 runs, so that ceiling is below 0.9 there; s3rver streams the file.
set -u
FETCH=${1:?usage: bench/s3.sh S3_FETCH [MB] [BASE_FETCH]}
MB=${2:-1024}
BASE=${3:-}
REPS=${BENCH_REPS:-3}
SERVER=${BENCH_S3_SERVER:-moto}
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 2; }
command -v openssl >/dev/null || { echo "bench: openssl missing (apt-get install openssl)"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench-s3.XXXXXX")
srv_pid=
cleanup() {
    [ -n "$srv_pid" ] && kill "$srv_pid" 2>/dev/null && wait "$srv_pid" 2>/dev/null
    [ -f "$tmp/s3/env" ] && python3 "$here/../tests/s3/s3server.py" stop "$tmp/s3"
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$tmp/obj"
sha=$(sha256sum "$tmp/obj" | cut -d' ' -f1)
empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855
case $SERVER in
moto)
    python3 "$here/../tests/s3/s3server.py" start "$tmp/s3" || exit 1
    set -a
    . "$tmp/s3/env"
    set +a
    python3 "$here/../tests/s3/s3server.py" mb "$tmp/s3" bench || exit 1
    python3 "$here/../tests/s3/s3server.py" put "$tmp/s3" bench obj.bin "$tmp/obj" || exit 1
    ;;
s3rver)
    command -v node >/dev/null || { echo "bench: node missing (apt-get install nodejs npm)"; exit 2; }
    npmdir=$here/../tests/s3/npm
    [ -d "$npmdir/node_modules/@20minutes/s3rver" ] ||
        npm ci --prefix "$npmdir" --no-audit --no-fund --silent >/dev/null 2>&1 ||
        { echo "bench: cannot install s3rver (npm ci --prefix tests/s3/npm)"; exit 2; }
    mkdir -p "$tmp/srv"
    node --openssl-legacy-provider "$here/../tests/s3/s3rver.js" "$tmp/srv" bench >"$tmp/srv.log" 2>&1 &
    srv_pid=$!
    for i in $(seq 1 100); do [ -s "$tmp/srv/s3rver.port" ] && break; sleep 0.1; done
    [ -s "$tmp/srv/s3rver.port" ] || { echo "bench: s3rver did not start"; cat "$tmp/srv.log"; exit 1; }
    RD_S3_ENDPOINT="http://127.0.0.1:$(cat "$tmp/srv/s3rver.port")"
    AWS_ACCESS_KEY_ID=S3RVER AWS_SECRET_ACCESS_KEY=S3RVER AWS_REGION=us-east-1
    export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_REGION
    curl -sS -f -T "$tmp/obj" --aws-sigv4 "aws:amz:us-east-1:s3" -u S3RVER:S3RVER \
        -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$RD_S3_ENDPOINT/bench/obj.bin" || exit 1
    ;;
*) echo "bench: BENCH_S3_SERVER is moto or s3rver, not $SERVER"; exit 2 ;;
esac
export AWS_ENDPOINT_URL_S3=$RD_S3_ENDPOINT AWS_EC2_METADATA_DISABLED=true
rm -f "$tmp/obj"
# OpenSSL's sha256 on 256 KiB buffers (libcurl's buffer), bytes per second
sha_rate() {
    openssl speed -evp sha256 -bytes 262144 -seconds 1 2>/dev/null |
        awk '/^sha256 / {v=$2; sub(/k$/, "", v); print v * 1000}'
}

measure() { # NAME CMD...: seconds and peak RSS (KiB) into $tmp/NAME.runs
    name=$1; shift
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time" || { cat "$tmp/out" "$tmp/time"; exit 1; }
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$tmp/time")
    echo "$secs $rss $cpu" >>"$tmp/$name.runs"
}
echo "server: $SERVER; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
    measure curl curl -sS -f -o /dev/null -w '%{time_starttransfer}\n' --aws-sigv4 "aws:amz:us-east-1:s3" \
        -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $empty" \
        "$RD_S3_ENDPOINT/bench/obj.bin"
    echo "$(cat "$tmp/out") $(sha_rate)" >>"$tmp/ceiling.runs"
    measure ours "$FETCH" s3://bench/obj.bin "$sha"
    grep -q "sha256 $sha" "$tmp/out" || { echo "bench: s3_fetch did not verify the sha256"; exit 1; }
    if [ -n "$BASE" ]; then
        measure base "$BASE" s3://bench/obj.bin "$sha"
        grep -q "sha256 $sha" "$tmp/out" || { echo "bench: base did not verify the sha256"; exit 1; }
    fi
done
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
names="curl ours"
[ -n "$BASE" ] && names="curl ours base"

best() { sort -n "$tmp/$1.runs" | head -n 1; }
cb=$(best curl); ob=$(best ours)
echo "| measure | best s | MB/s | peak RSS KiB (max of runs) | CPU s (user+sys, best run) | CPU s per GiB (every run) | runs (s) |"
echo "|---|---:|---:|---:|---:|---|---|"
for m in $names; do
    b=$(best $m)
    s=${b%% *}
    cpu=${b##* }
    rssmax=$(awk '{print $2}' "$tmp/$m.runs" | sort -n | tail -n 1)
    runs=$(awk '{printf "%s ", $1}' "$tmp/$m.runs")
    pergib=$(awk -v mb="$MB" '{printf "%.2f ", $3 * 1024 / mb}' "$tmp/$m.runs")
    echo "| $m | $s | $(awk -v s="$s" -v mb="$MB" 'BEGIN {printf "%.1f", mb / s}') | $rssmax | $cpu | $pergib| $runs|"
done
awk -v c="${cb%% *}" -v o="${ob%% *}" 'BEGIN {printf "ratio (ours / curl throughput, best of each): %.3f\n", c / o}'
for m in $names; do
    [ "$m" = curl ] && continue
    printf 'ratio %s / curl, every round:' "$m"
    paste -d' ' "$tmp/curl.runs" "$tmp/$m.runs" | awk '{printf " %.3f", $1 / $4}'
    echo
done
# the ceiling of a reader that hashes one stream: curl's first byte + MB at
# the sha256 rate of the same round; its throughput / curl's
printf 'ceiling of a sha256-verifying reader / curl, every round (first byte s, sha256 MB/s):'
paste -d' ' "$tmp/curl.runs" "$tmp/ceiling.runs" | awk -v mb="$MB" '{
    b = $4 + mb * 1048576 / $5; printf " %.3f (%.2f, %.0f)", $1 / b, $4, $5 / 1e6 }'
echo
