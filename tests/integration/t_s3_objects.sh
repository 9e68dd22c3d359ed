#!/bin/sh
# t_s3_objects.sh: engine s3 (object sets) against a local moto_server that
# verifies SigV4 signatures and keeps versions (tests/s3/s3server.py):
# backup prefixes checked against listings captured with `restoredrill
# manifest --engine s3` (a clean prefix passes; a missing and a changed
# object fail checksum naming the object), a versioned bucket restored to a
# seeded random time with a delete marker in the window (exactly the set an
# independent oracle computes from the versions), and to fixed times on both
# sides of the delete marker; teardown leaves no scratch object or version
# and the sources untouched; gc removes a dead run's prefix; bad configs exit
# 2 with the setting named. Skips when moto is not installed.
# (moto 5.2.1 refuses listings whose prefix holds '/': the drill lists a
# backup prefix "NAME/" as "NAME" and keeps the keys under "NAME/".)
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
s3dir="$tmp/s3"
. "$here/s3/s3lib.sh"
s3_start
s3_isolate
export AWS_ENDPOINT_URL_S3="$RD_S3_ENDPOINT"

s3cmd mb attachments vers scratch
# three backups of an attachments folder, one prefix each
for d in 20260128T020000Z 20260129T020000Z 20260130T020000Z; do
    s3cmd putb attachments "$d/a.txt" "alpha of $d"
    s3cmd putb attachments "$d/photos/b.jpg" "jpeg bytes of $d"
    head -c 70000 /dev/urandom >"$tmp/c.bin"
    s3cmd put attachments "$d/c.bin" "$tmp/c.bin"
    run "$RD_BIN" manifest --engine s3 --bucket attachments --prefix "$d/" -o "$tmp/listing-$d.jsonl"
    expect_rc 0 "manifest of $d"
done
expect_has "$tmp/err.txt" "restoredrill: manifest: 3 objects (" "manifest summary"
expect_eq "$(wc -l <"$tmp/listing-20260130T020000Z.jsonl")" 3 "listing lines"
expect_eq "$(jq -r .key "$tmp/listing-20260130T020000Z.jsonl" | tr '\n' ' ')" "a.txt c.bin photos/b.jpg " "listing keys, relative"
expect_eq "$(jq -r 'select(.key == "a.txt") | .sha256' "$tmp/listing-20260130T020000Z.jsonl")" \
    "$(printf 'alpha of 20260130T020000Z' | sha256sum | cut -d' ' -f1)" "listing sha256"
expect_eq "$(jq -r 'select(.key == "a.txt") | .size' "$tmp/listing-20260130T020000Z.jsonl")" 25 "listing size"
# the same listing without the MD5s: the digests are settled by sha256 alone
jq -c 'del(.md5)' "$tmp/listing-20260130T020000Z.jsonl" >"$tmp/nomd5-20260130T020000Z.jsonl"
# after the listings: one object lost, one changed (same size, other bytes)
s3cmd rm attachments 20260129T020000Z/photos/b.jpg
s3cmd putb attachments 20260128T020000Z/a.txt "ALPHA of 20260128T020000Z"

# a versioned bucket: v1 of k1..k3, k1 rewritten, k2 deleted (a delete marker), k4 added
s3cmd versioning vers
s3cmd putb vers k1 "k1 version one"
s3cmd putb vers k2 "k2 version one"
s3cmd putb vers k3 "k3 version one"
sleep 1.5
s3cmd putb vers k1 "k1 version two, longer"
sleep 1.5
s3cmd rm vers k2
sleep 1.5
s3cmd putb vers k4 "k4 version one"
s3cmd lsv vers >"$tmp/vers-before.txt"
s3cmd lsv attachments >"$tmp/att-before.txt"
ms() { awk -v k="$1" -v m="$2" '$1 == k && $4 == m { print $3 }' "$tmp/vers-before.txt" | sort -n | tail -n 1; }
marker_ms=$(ms k2 1)
k4_ms=$(ms k4 0)
iso() { python3 -c "import datetime,sys; print(datetime.datetime.fromtimestamp(int(sys.argv[1])/1000, datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%S.%f')[:-3] + 'Z')" "$1"; }
before_marker=$(iso $((marker_ms - 700)))
after_marker=$(iso $((marker_ms + 700)))

cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "s3objects", "seed": 11, "parallel": 1,
  "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [
    {"name": "clean", "engine": "s3", "objectives": {"rpo": "100d"},
     "catalog": {"type": "s3-objects", "bucket": "attachments", "pattern": "2026*",
                 "endpoint": "$RD_S3_ENDPOINT"},
     "scratch": {"type": "server", "bucket": "scratch"},
     "reference": {"listing": "$tmp/listing-{point}.jsonl"}},
    {"name": "no-md5", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "attachments", "pattern": "2026*",
                 "endpoint": "$RD_S3_ENDPOINT"},
     "scratch": {"type": "server", "bucket": "scratch"},
     "reference": {"listing": "$tmp/nomd5-{point}.jsonl"}},
    {"name": "missing", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "attachments", "endpoint": "$RD_S3_ENDPOINT"},
     "sample": {"strategy": "id", "id": "20260129T020000Z"},
     "scratch": {"type": "server", "bucket": "scratch"},
     "reference": {"listing": "$tmp/listing-{point}.jsonl"},
     "checks": [{"type": "rowcount"}, {"type": "checksum"}, {"type": "sql", "query": "select 1"}]},
    {"name": "changed", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "attachments", "endpoint": "$RD_S3_ENDPOINT"},
     "sample": {"strategy": "oldest"},
     "scratch": {"type": "server", "bucket": "scratch"},
     "reference": {"listing": "$tmp/listing-{point}.jsonl"}},
    {"name": "vers-random", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "vers", "versions": true, "endpoint": "$RD_S3_ENDPOINT"},
     "sample": {"strategy": "pitr-random"},
     "scratch": {"type": "server", "bucket": "scratch", "prefix": "rd_vers_"}},
    {"name": "vers-before", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "vers", "versions": true, "endpoint": "$RD_S3_ENDPOINT"},
     "sample": {"strategy": "pitr", "time": "$before_marker"},
     "scratch": {"type": "server", "bucket": "scratch"}},
    {"name": "vers-after", "engine": "s3",
     "catalog": {"type": "s3-objects", "bucket": "vers", "versions": true, "endpoint": "$RD_S3_ENDPOINT"},
     "sample": {"strategy": "pitr", "time": "$after_marker"},
     "scratch": {"type": "server", "bucket": "scratch"}}
  ] }
JSON

run "$RD_BIN" list "$tmp/drill.json" --target clean --target vers-random --json
expect_rc 0 "list"
cp "$tmp/out.txt" "$tmp/list.json"
expect_eq "$(jq -r '[.targets[0].points[].id] | join(",")' "$tmp/list.json")" \
    "20260128T020000Z,20260129T020000Z,20260130T020000Z" "backup prefixes listed"
expect_eq "$(jq -r '.targets[0].points[2].location' "$tmp/list.json")" "s3://attachments/20260130T020000Z/" "point location"
expect_eq "$(jq -r '.targets[0].points[2].time_basis' "$tmp/list.json")" name "time from the prefix's name"
expect_eq "$(jq -r '.targets[1].points | length' "$tmp/list.json")" 1 "a versioned bucket is one point"
run "$RD_BIN" list "$tmp/drill.json" --target vers-random --seed 11
expect_rc 0 "list vers-random"
expect_has "$tmp/out.txt" "  versioning window: $(iso "$(sort -k3n "$tmp/vers-before.txt" | head -n 1 | awk '{print $3}')") to $(iso "$k4_ms") ($(wc -l <"$tmp/vers-before.txt" | tr -d " ") versions and delete markers)" "list: the versioning window"

run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run (missing and changed fail)"
chk() { jqr "[.targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"$2\")][0].$3"; }
tgt() { jqr ".targets[] | select(.name == \"$1\") | $2"; }
expect_eq "$(tgt clean .status)" passed "clean prefix drill"
expect_eq "$(tgt clean .recovery_point.id)" 20260130T020000Z "clean: the newest prefix"
expect_eq "$(chk clean restore message | cut -c1-20)" "copied 3 objects (70" "clean: restore"
expect_eq "$(chk clean rowcount status)" passed "clean rowcount"
expect_eq "$(chk clean rowcount message)" "3 objects, as the listing $tmp/listing-20260130T020000Z.jsonl says" "clean rowcount message"
expect_eq "$(chk clean checksum status)" passed "clean checksum"
expect_eq "$(chk clean checksum message)" "3 objects: keys, sizes and digests equal to the listing $tmp/listing-20260130T020000Z.jsonl" "clean checksum message"
expect_eq "$(chk clean checksum properties.equal_by_etag_md5)" 3 "clean: settled by the MD5 ETags"
expect_eq "$(tgt no-md5 .status)" passed "listing without MD5s"
expect_eq "$(chk no-md5 checksum properties.equal_by_etag_md5)" 0 "no-md5: no ETag used"
expect_eq "$(( $(chk no-md5 checksum properties.equal_by_checksum_sha256) + $(chk no-md5 checksum properties.equal_by_streamed_sha256) ))" 3 "no-md5: settled by sha256"
expect_eq "$(tgt clean .rpo.basis)" LastModified "RPO from LastModified"
expect_eq "$(tgt clean '.checks[] | select(.type == "integrity") | .status' | head -n 1)" "" "no default integrity"

expect_eq "$(tgt missing .status)" failed "missing object drill"
expect_eq "$(chk missing checksum status)" failed "missing: checksum"
expect_eq "$(chk missing checksum message)" "the restored objects differ from the listing $tmp/listing-20260129T020000Z.jsonl: 1 missing, 0 extra, 0 changed: missing: photos/b.jpg" "missing: object named"
expect_eq "$(chk missing rowcount message)" "2 objects restored, the listing $tmp/listing-20260129T020000Z.jsonl says 3" "missing: rowcount"
expect_eq "$(chk missing sql status)" skipped "sql skipped"
expect_eq "$(chk missing sql message)" "not supported for s3" "sql: not supported for s3"

expect_eq "$(tgt changed .status)" failed "changed object drill"
expect_eq "$(tgt changed .recovery_point.id)" 20260128T020000Z "changed: the oldest prefix"
expect_eq "$(chk changed rowcount status)" passed "changed: rowcount still equal"
want_old=$(jq -r 'select(.key == "a.txt") | .sha256' "$tmp/listing-20260128T020000Z.jsonl" | cut -c1-16)
got_new=$(printf 'ALPHA of 20260128T020000Z' | sha256sum | cut -c1-16)
expect_eq "$(chk changed checksum message)" "the restored objects differ from the listing $tmp/listing-20260128T020000Z.jsonl: 0 missing, 0 extra, 1 changed: changed: a.txt: sha256 $got_new..., expected $want_old..." "changed: object named"

# the versioned bucket at a seeded random time: exactly the oracle's set
expect_eq "$(tgt vers-random .status)" passed "versioned random drill"
target=$(tgt vers-random .sampling.pitr_target)
target_ms=$(python3 -c "import datetime,sys; print(round(datetime.datetime.fromisoformat(sys.argv[1].replace('Z', '+00:00')).timestamp() * 1000))" "$target")
s3cmd asof vers "$target_ms" >"$tmp/oracle.txt"
[ -s "$tmp/oracle.txt" ] || fail "the oracle is empty at $target"
expect_eq "$(chk vers-random restore output | awk 'NF {print $1}' | tr '\n' ' ')" "$(awk '{print $1}' "$tmp/oracle.txt" | tr '\n' ' ')" "random time $target: the oracle's keys"
expect_eq "$(chk vers-random rowcount properties.actual)" "$(wc -l <"$tmp/oracle.txt" | tr -d ' ')" "random time: rowcount"
expect_eq "$(chk vers-random checksum status)" passed "random time: checksum"
[ "$target_ms" -gt "$(sort -k3n "$tmp/vers-before.txt" | head -n 1 | awk '{print $3}')" ] || fail "target before the window"
[ "$target_ms" -le "$k4_ms" ] || fail "target after the window"
# the same seed picks the same time
run "$RD_BIN" run "$tmp/drill.json" --target vers-random --no-progress
expect_rc 0 "run vers-random again"
expect_eq "$(tgt vers-random .sampling.pitr_target)" "$target" "same seed, same target"
expect_eq "$(tgt vers-random .rpo.basis)" LastModified "versioned RPO basis"

run "$RD_BIN" run "$tmp/drill.json" --target vers-before --target vers-after --no-progress
expect_rc 0 "run vers-before/after"
expect_eq "$(chk vers-before restore output | awk 'NF {print $1}' | tr '\n' ' ')" "k1 k2 k3 " "before the delete marker: k2 is there"
expect_eq "$(chk vers-after restore output | awk 'NF {print $1}' | tr '\n' ' ')" "k1 k3 " "after the delete marker: k2 is gone"
expect_eq "$(chk vers-after checksum status)" passed "after: checksum"
expect_eq "$(chk vers-after restore output | head -n 1 | awk '{print $3}')" \
    "$(awk '$1 == "k1" && $4 == 0 { print $3, $2 }' "$tmp/vers-before.txt" | sort -n | tail -n 1 | cut -d' ' -f2)" \
    "after: k1's second version"
expect_eq "$(tgt vers-after .rpo.seconds)" "$(python3 -c "print(round(($marker_ms + 700 - $marker_ms) / 1000, 3))")" "RPO: target - the delete marker's LastModified"

# teardown: no scratch object, version or delete marker left; the sources untouched
expect_eq "$(s3cmd lsv scratch)" "" "nothing left in the scratch bucket"
s3cmd lsv vers >"$tmp/vers-after.txt"
s3cmd lsv attachments >"$tmp/att-after.txt"
cmp -s "$tmp/vers-before.txt" "$tmp/vers-after.txt" || fail "the versioned source changed"
cmp -s "$tmp/att-before.txt" "$tmp/att-after.txt" || fail "the attachments source changed"

# gc: a dead run's prefix older than --older-than goes, a fresh one stays
s3cmd putb scratch "rd_scratch_clean_20200101T000000Z_abcdef/a.txt" "left behind"
s3cmd putb scratch "rd_scratch_clean_29990101T000000Z_ghijkl/a.txt" "not old"
run "$RD_BIN" gc "$tmp/drill.json" --older-than 1h
expect_rc 0 "gc"
expect_has "$tmp/out.txt" "removed s3://scratch/rd_scratch_clean_20200101T000000Z_abcdef/ (1 objects)" "gc removed the dead prefix"
expect_eq "$(s3cmd lsv scratch | awk '{print $1}')" "rd_scratch_clean_29990101T000000Z_ghijkl/a.txt" "gc left the fresh prefix"

# bad configurations: exit 2, the setting named
bad() { # NAME JQ-EDIT MESSAGE
    jq "$2" "$tmp/drill.json" >"$tmp/bad.json"
    run "$RD_BIN" run "$tmp/bad.json" --target clean --no-progress
    expect_rc 2 "$1"
    expect_has "$tmp/err.txt" "$3" "$1 message"
}
bad "no scratch bucket" 'del(.targets[0].scratch.bucket)' \
    'targets[0].scratch.bucket: required key is missing'
bad "no listing" 'del(.targets[0].reference)' \
    'targets[0].reference.listing: required key is missing (the listing captured at backup time: restoredrill manifest --engine s3 --bucket B --prefix P -o FILE)'
bad "no catalog bucket" 'del(.targets[0].catalog.bucket)' \
    'targets[0].catalog.bucket: required key is missing'
bad "pitr on prefixes" '.targets[0].sample = {"strategy": "pitr-random"}' \
    'targets[0].sample.strategy: "pitr-random" needs a versioned bucket ("versions": true in the catalog)'
bad "scratch under the catalog prefix" '.targets[0].scratch.bucket = "attachments"' \
    'targets[0].scratch.prefix: "rd_scratch_" lies under the catalog'"'"'s prefix "" of bucket attachments'
run "$RD_BIN" manifest --engine s3 -o "$tmp/x.jsonl"
expect_rc 2 "manifest without --bucket"
expect_has "$tmp/err.txt" "--bucket is required with --engine s3" "manifest usage"
finish
