#!/bin/sh
# t_drill_sampling.sh: sampling is reproducible from the seed: `run --dry-run`
# and `list` name the same point for a seed, on every run, and it is the one
# the documented generator (SplitMix64-seeded xoshiro256**, Lemire's bounded
# draw, include/restoredrill/prng.h) picks, computed here independently.
# list shows the RPO exposure; a dry run touches nothing (no scratch, no
# reports). No servers needed: the catalog files are never opened.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }

d="$tmp/points"
mkdir -p "$d"
now=$(date -u +%s)
stamp() { date -u -d "@$((now - $1 * 3600))" +%Y%m%dT%H%M%SZ; }
# five points: 73h, 49h, 29h, 5h and 1h old; the largest gap is 24h (29h -> 5h)
for h in 73 49 29 5 1; do echo "x" >"$d/shop-$(stamp $h).dump"; done
ids=$(ls "$d" | sort)

cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "sampling",
  "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [
    {"name": "orders", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$d", "pattern": "shop-*.dump", "time_from": "name"},
     "sample": {"strategy": "random", "window": "30d"}},
    {"name": "newest", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$d", "pattern": "shop-*.dump", "time_from": "name"},
     "sample": {"strategy": "latest"}}
  ] }
JSON

# expected pick: index below(5) of the documented generator for a seed
expected() {
    python3 - "$1" <<'PY'
import sys
M = (1 << 64) - 1
x = int(sys.argv[1])
def splitmix():
    global x
    x = (x + 0x9e3779b97f4a7c15) & M
    z = x
    z = ((z ^ (z >> 30)) * 0xbf58476d1ce4e5b9) & M
    z = ((z ^ (z >> 27)) * 0x94d049bb133111eb) & M
    return z ^ (z >> 31)
s = [splitmix() for _ in range(4)]
rotl = lambda v, k: ((v << k) | (v >> (64 - k))) & M
def nxt():
    r = (rotl((s[1] * 5) & M, 7) * 9) & M
    t = (s[1] << 17) & M
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t
    s[3] = rotl(s[3], 45)
    return r
n = 5
m = nxt() * n
if (m & M) < n:
    t = ((1 << 64) - n) % n
    while (m & M) < t:
        m = nxt() * n
print(m >> 64)
PY
}

picks=""
for seed in 1 2 3 1234 987654321; do
    want=$(echo "$ids" | sed -n "$(($(expected $seed) + 1))p")
    run "$RD_BIN" run "$tmp/drill.json" --dry-run --seed $seed --target orders
    expect_rc 0 "dry-run seed $seed"
    got=$(awk -F'\t' '$1 == "orders" {print $2}' "$tmp/out.txt")
    expect_eq "$got" "$want" "dry-run pick for seed $seed"
    run "$RD_BIN" run "$tmp/drill.json" --dry-run --seed $seed --target orders
    expect_eq "$(awk -F'\t' '$1 == "orders" {print $2}' "$tmp/out.txt")" "$want" \
        "second dry-run pick for seed $seed"
    run "$RD_BIN" list "$tmp/drill.json" --json --seed $seed
    expect_rc 0 "list seed $seed"
    expect_eq "$(jq -r '.targets[0].sampling.would_sample' "$tmp/out.txt")" "$want" \
        "list pick for seed $seed"
    picks="$picks $got"
done
[ "$(echo $picks | tr ' ' '\n' | sort -u | wc -l)" -ge 2 ] || fail "five seeds all picked one point"

# list: the table, the exposure, and no seed -> says sampling is seeded per run
run "$RD_BIN" list "$tmp/drill.json" --json
expect_rc 0 "list --json"
expect_eq "$(jq -r '.targets[0].rpo_exposure_seconds' "$tmp/out.txt")" 86400 "rpo exposure"
expect_eq "$(jq -r '.targets[0].points | length' "$tmp/out.txt")" 5 "points listed"
expect_eq "$(jq -r '.targets[0].sampling.seeded' "$tmp/out.txt")" false "unseeded"
expect_eq "$(jq -r '.targets[0].sampling.would_sample' "$tmp/out.txt")" null "no pick without a seed"
expect_eq "$(jq -r '.targets[1].sampling.would_sample' "$tmp/out.txt")" "$(echo "$ids" | tail -n 1)" \
    "latest needs no seed"
expect_eq "$(jq -r '[.targets[0].points[].time_basis] | unique | join(",")' "$tmp/out.txt")" name \
    "time basis"
run "$RD_BIN" list "$tmp/drill.json" --target orders
expect_rc 0 "list table"
expect_has "$tmp/out.txt" "RPO exposure: 1d 00h 00m 00s (the largest gap between points in the window, or since the newest)" "list exposure"
expect_has "$tmp/out.txt" "random sampling is seeded per run" "list seed note"
run "$RD_BIN" list "$tmp/drill.json" --target nope
expect_rc 2 "list unknown target"
expect_has "$tmp/err.txt" 'list: no target named "nope"' "list unknown target message"

# the dry run touched nothing
[ ! -e "$tmp/out" ] || fail "dry run wrote reports"
[ -z "$(ls -A "$RESTOREDRILL_RUNDIR")" ] || fail "dry run created scratch dirs"
run "$RD_BIN" run "$tmp/drill.json" --dry-run --target nope
expect_rc 2 "run unknown target"
run "$RD_BIN" run "$tmp/drill.json" --dry-run --shard 3/2
expect_rc 2 "bad shard"
# shards split the targets: 1/2 gets orders, 2/2 gets newest
run "$RD_BIN" run "$tmp/drill.json" --dry-run --seed 1 --shard 2/2
expect_eq "$(awk -F'\t' 'NR > 1 {print $1}' "$tmp/out.txt")" newest "shard 2/2"
finish
