#!/bin/sh
# bench/s3.sh S3_FETCH [MB] [BASE_FETCH]: streaming an S3 object through the
# artifact pipeline against curl, in one run. Starts moto_server
# (tests/s3/s3server.py, signatures verified), uploads a MB-megabyte (default
# 1024) object of random bytes, then alternates, REPS times (default 3):
# curl with SigV4 to /dev/null, S3_FETCH (bench/s3_fetch.c: rd_artifact with
# its S3 GET thread, sha256 verified, format/wrap detection) and, when given,
# BASE_FETCH (the same program built from another commit: before/after in
# the same run). Each under /usr/bin/time -v for wall time, CPU time
# (user+sys) and peak RSS. Prints a markdown table (best of the rounds, CPU
# seconds per GiB), every round's ratio of throughputs, and the load average.
set -u
FETCH=${1:?usage: bench/s3.sh S3_FETCH [MB]}
MB=${2:-1024}
BASE=${3:-}
REPS=${BENCH_REPS:-3}
here=$(cd "$(dirname "$0")" && pwd)
[ -x /usr/bin/time ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-bench-s3.XXXXXX")
cleanup() { python3 "$here/../tests/s3/s3server.py" stop "$tmp/s3"; rm -rf "$tmp"; }
trap cleanup EXIT INT TERM
python3 "$here/../tests/s3/s3server.py" start "$tmp/s3" || exit 1
set -a
. "$tmp/s3/env"
set +a
export AWS_ENDPOINT_URL_S3=$RD_S3_ENDPOINT AWS_EC2_METADATA_DISABLED=true
python3 "$here/../tests/s3/s3server.py" mb "$tmp/s3" bench || exit 1
head -c "$((MB * 1024 * 1024))" /dev/urandom >"$tmp/obj"
sha=$(sha256sum "$tmp/obj" | cut -d' ' -f1)
python3 "$here/../tests/s3/s3server.py" put "$tmp/s3" bench obj.bin "$tmp/obj" || exit 1
rm -f "$tmp/obj"
empty=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855

measure() { # NAME CMD...: seconds and peak RSS (KiB) into $tmp/NAME.runs
    name=$1; shift
    /usr/bin/time -v "$@" >"$tmp/out" 2>"$tmp/time" || { cat "$tmp/out" "$tmp/time"; exit 1; }
    secs=$(awk -F': ' '/Elapsed \(wall clock\)/ {n=split($2,a,":"); s=0; for(i=1;i<=n;i++) s=s*60+a[i]; print s}' "$tmp/time")
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$tmp/time")
    cpu=$(awk -F': ' '/User time|System time/ {s += $2} END {print s}' "$tmp/time")
    echo "$secs $rss $cpu" >>"$tmp/$name.runs"
}
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$REPS"); do
    measure curl curl -sS -f -o /dev/null --aws-sigv4 "aws:amz:us-east-1:s3" \
        -u "$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY" -H "x-amz-content-sha256: $empty" \
        "$RD_S3_ENDPOINT/bench/obj.bin"
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
