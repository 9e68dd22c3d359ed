#!/bin/sh
# t_pitr_timeline.sh: PostgreSQL point-in-time drills across a failover, with
# real servers, a real promotion and one archive that holds timeline 1 up to
# the promotion and timeline 2 after it (fixtures/make-pitr-timeline.sh):
#   - list: timelines "1->2 at <switch LSN>", no gap, the window from the
#     timeline-1 base backup to the last timeline-2 commit, and the old
#     primary's base backup taken after the fork broken (its WAL is not on
#     timeline 2's history);
#   - pitr at instants on timeline 1 before the switch, between the fork and
#     the end of the abandoned timeline-1 WAL, on timeline 2 (from the
#     timeline-1 base backup: the restore follows 00000002.history), after
#     the timeline-2 base backup, and `latest`: each restored orders table is
#     exactly the rows committed at or before the target on the surviving
#     history (none of the old primary's lost rows), and the recovery result
#     names the timeline replay ended on;
#   - the same over a standby that streamed (a fork inside a segment, the
#     old timeline's part archived as .partial);
#   - 00000002.history removed: the catalog reports the inconsistent
#     timelines as a gap, a target on timeline 1 is refused naming it, and a
#     `latest` drill fails on the archive result;
#   - the old primary's base backup named by id is refused as broken.
. "$(dirname "$0")/../../fixtures/testlib.sh"
. "$(dirname "$0")/../pitrlib.sh"
need_bin

tl_fixture() { # tl_fixture DIR [ENV=VALUE...]
    d=$1; shift
    env "$@" "$fixtures/make-pitr-timeline.sh" "$d" >"$tmp/make-pitr-timeline.log" 2>&1
    mrc=$?
    if [ $mrc -eq 77 ]; then echo "skipping: no PostgreSQL server binaries"; exit 77; fi
    [ $mrc -eq 0 ] || { cat "$tmp/make-pitr-timeline.log"; echo "make-pitr-timeline.sh failed ($mrc)"; exit 1; }
}
default_checks='[{"type": "integrity"}]'
config() { # config NAME ARCHIVE SAMPLE [CHECKS]
    checks=${4:-$default_checks}
    cat >"$tmp/$1.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out-$1"},
  "targets": [ { "name": "shop", "engine": "postgres",
     "catalog": {"type": "pg-archive", "base_dir": "$2/base", "wal_dir": "$2/wal"},
     "sample": $3,
     "checks": $checks } ] }
JSON
}
recovery() { rep "$1" ".targets[0].checks[] | select(.type == \"recovery\") | $2"; }

# drill NAME DIR TARGET POINT TIMELINE [SEGTLI]: a pitr drill to TARGET
# ("latest" or a mark's name) restores POINT and ends replay on TIMELINE,
# with exactly the orders committed at or before the target (the marks fall
# between commits) and none of the old primary's lost rows; its last
# restored segment is on SEGTLI (default TIMELINE: a fork inside a segment
# makes the new timeline's copy of it hold the old one's WAL up to the fork)
drill() {
    name=$1 d=$2
    if [ "$3" = latest ]; then
        time=latest
        n=$(wc -l <"$d/orders")
    else
        tms=$(mark "$d" "$3")
        time=$(iso "$tms")
        n=$(awk -v t="$tms" '$2 <= t {n++} END {print n + 0}' "$d/orders")
    fi
    config "$name" "$d" "{\"strategy\": \"pitr\", \"time\": \"$time\"}" "[{\"type\": \"integrity\"},
        {\"type\": \"sql\", \"name\": \"rows\", \"query\": \"SELECT count(*) FROM orders\", \"expect\": \"= $n\"},
        {\"type\": \"sql\", \"name\": \"lost\", \"query\": \"SELECT count(*) FROM orders WHERE note LIKE 'lost%'\", \"expect\": \"= 0\"}]"
    run "$RD_BIN" --quiet run "$tmp/$name.json"
    expect_rc 0 "$name"
    expect_eq "$(rep "$name" '.targets[0].recovery_point.id')" "$4" "$name: base backup"
    expect_eq "$(rep "$name" '[.targets[0].checks[] | select(.type == "sql") | .status] | join(",")')" \
        "passed,passed" "$name: $n rows, no lost row"
    expect_eq "$(rep "$name" '.targets[0].checks[] | select(.type == "archive") | .status')" passed "$name: archive"
    expect_eq "$(recovery "$name" .status)" passed "$name: recovery"
    expect_eq "$(recovery "$name" .properties.timeline)" "$5" "$name: replay ended on timeline $5"
    expect_eq "$(recovery "$name" .properties.new_timeline)" 3 "$name: promoted to timeline 3"
    lsn=$(recovery "$name" .properties.lsn)
    case $(recovery "$name" .message) in
    *"; replay ended on timeline $5 at $lsn (promoted to timeline 3)") ;;
    *) fail "$name: recovery message [$(recovery "$name" .message)]" ;;
    esac
    wl=$(rep "$name" '.targets[0].recovery_point.wal_range.last')
    expect_eq "$(echo "$wl" | cut -c1-8)" "0000000${6:-$5}" "$name: last segment $wl on timeline ${6:-$5}"
    if [ "$time" != latest ]; then
        reached=$(rep "$name" '.targets[0].recovery_point.reached_time')
        [ "$(ms_of "$reached")" -le "$tms" ] || fail "$name: reached $reached after the target $time"
    fi
}

A="$tmp/a"
tl_fixture "$A"
sw=$(cat "$A/switch")
[ "$sw" = 0/5000000 ] || fail "fixture: switch at [$sw], want 0/5000000 (the standby replayed whole archived segments)"
[ -s "$A/lost" ] || fail "fixture: no lost rows"
# the old primary's backup after the fork: its .backup file on timeline 1, past the switch
lostbk=$(ls "$A/wal" | grep -E '^00000001[0-9A-F]{16}\.[0-9A-F]{8}\.backup$' | tail -n 1)
lostend=$(awk '/^STOP WAL LOCATION/ {print $4}' "$A/wal/$lostbk")
lostwhy="it ends at $lostend on timeline 1, past the point where timeline 2 forked from it (0/5000000): the archive's newest timeline 2 does not descend from it"
newest=$(ls "$A/wal" | grep -E '^00000002[0-9A-F]{16}$' | tail -n 1)

# --- list: the timelines, no gap, the window, the old primary's backup broken ---
config list "$A" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" list "$tmp/list.json"
expect_rc 0 "list"
expect_has "$tmp/out.txt" ", timelines 1->2 at 0/5000000" "list: timelines"
expect_has "$tmp/out.txt" "gaps: none" "list: gaps"
expect_has "$tmp/out.txt" "b-lost                                 BROKEN: $lostwhy" "list: b-lost broken"
run "$RD_BIN" list "$tmp/list.json" --json
jl() { jq -r "$1" "$tmp/out.txt"; }
expect_eq "$(jl '[.targets[0].archive.base_backups[] | select(.broken == null) | .id] | join(",")')" "b1-plain,b2-tar" "list: usable backups"
expect_eq "$(jl '.targets[0].archive.first')" 000000010000000000000002 "list: first segment (timeline 1)"
expect_eq "$(jl '.targets[0].archive.newest')" "$newest" "list: newest segment (timeline 2)"
wend=$(jl '.targets[0].archive.window_end')
[ "$(ms_of "$wend")" -gt "$(mark "$A" late)" ] || fail "list: window end $wend before mark late"
[ "$(ms_of "$wend")" -le "$(mark "$A" end)" ] || fail "list: window end $wend after mark end"

# --- drills across the switch ---
drill tl1 "$A" tl1 b1-plain 1      # timeline 1, before the switch
drill lost "$A" lost b1-plain 2    # between the fork and the end of the abandoned timeline-1 WAL
drill tl2 "$A" tl2 b1-plain 2      # timeline 2 from the timeline-1 base backup
drill late "$A" late b2-tar 2      # after the timeline-2 base backup
drill latest "$A" latest b2-tar 2
expect_eq "$(rep latest '.targets[0].recovery_point.reached_time')" "$wend" "latest: reached the window's end"
no_leftovers "drills"

# --- the old primary's base backup, named ---
config lostid "$A" '{"strategy": "id", "id": "b-lost"}'
run "$RD_BIN" --quiet run "$tmp/lostid.json"
expect_rc 1 "b-lost by id"
expect_eq "$(rep lostid '.targets[0].error')" "sample: recovery point b-lost is broken: $lostwhy" "b-lost by id: reason"

# --- 00000002.history missing: inconsistent timelines are a gap ---
H="$tmp/h"
cp -a "$A" "$H"
rm "$H/wal/00000002.history"
config nohist "$H" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" list "$tmp/nohist.json" --json
from=$(jl '.targets[0].archive.gaps[0].from')
to=$(jl '.targets[0].archive.gaps[0].to')
hfirst=$(jl '.targets[0].archive.first')
run "$RD_BIN" list "$tmp/nohist.json"
expect_has "$tmp/out.txt" "b1-plain                               BROKEN: it is on timeline 1 and the archive's timelines are inconsistent: timeline 2 has segments but 00000002.history is missing" "nohist: b1 broken"
expect_has "$tmp/out.txt" "GAP: 00000002.history missing: $from to $to cannot be recovered" "nohist: gap"
case $(grep -o 'b2-tar .*consistent at [^,]*' "$tmp/out.txt") in
*"consistent at "*) b2end=$(grep -o 'b2-tar .*consistent at [^,]*' "$tmp/out.txt" | sed 's/.*consistent at //') ;;
*) b2end=""; fail "nohist: b2-tar not usable" ;;
esac
expect_eq "$(ms_of "$to")" "$(($(ms_of "$b2end") + 1000))" "nohist: the gap ends 1s after b2-tar"
[ "$(ms_of "$from")" -le "$(mark "$A" after-b1)" ] || fail "nohist: the gap starts at $from, after b1"
config nohist1 "$H" "{\"strategy\": \"pitr\", \"time\": \"$(iso "$(mark "$A" tl1)")\"}"
run "$RD_BIN" --quiet run "$tmp/nohist1.json"
expect_rc 1 "nohist: a target on timeline 1"
expect_eq "$(rep nohist1 '.targets[0].error')" \
    "sample: target $(iso "$(mark "$A" tl1)") lies past a gap in the archive: 00000002.history to 00000002.history missing, $from to $to cannot be recovered" "nohist: refused"
run "$RD_BIN" --quiet run "$tmp/nohist.json"
expect_rc 1 "nohist: latest"
expect_eq "$(rep nohist '.targets[0].checks[] | select(.type == "archive") | .message')" \
    "1 gap in the archive after $hfirst: 00000002.history missing ($from to $to cannot be recovered)" "nohist: archive result"
expect_eq "$(rep nohist '.targets[0].status')" failed "nohist: target fails"
no_leftovers "nohist"

# --- a streaming standby: the fork inside a segment, .partial archived ---
B="$tmp/b"
tl_fixture "$B" RD_PITR_TL_STREAM=1
ls "$B/wal" | grep -q '\.partial$' || fail "stream: no .partial segment archived"
case $(cat "$B/switch") in */*000) fail "stream: the fork is at a segment boundary ($(cat "$B/switch"))" ;; esac
config slist "$B" '{"strategy": "pitr", "time": "latest"}'
run "$RD_BIN" list "$tmp/slist.json"
expect_has "$tmp/out.txt" ", timelines 1->2 at $(cat "$B/switch")" "stream: timelines"
expect_has "$tmp/out.txt" "gaps: none" "stream: gaps"
drill stl1 "$B" tl1 b1-plain 1 2
drill slost "$B" lost b1-plain 2
drill slatest "$B" latest b2-tar 2
no_leftovers "stream"
finish
