#!/bin/sh
# t_tenants_ranges.sh: section ranges (docs/tenants.md). `backup
# --all-databases` (plain, gzip, zstd) writes a dump whose gzip members /
# zstd frames end at every database section and a cluster manifest listing
# the pieces; gunzip / zstdcat read the file whole and identical to the plain
# dump's content; a drill of 3 sampled tenants reads only their pieces (and
# the shared ones), restores and checks them, and says how much it read. A
# byte flipped inside a sampled piece fails by that piece's sha256; inside an
# unsampled piece it is not read (passes) but fails with restore.read
# "whole" (which also reads the intact multi-member file whole); a truncated
# file fails naming both sizes; a manifest whose pieces do not tile the file
# is refused; a manifest database that owns no piece fails; an s3:// dump
# (moto) is read by one Range GET per piece; --no-sections reads whole. The
# same on PostgreSQL (plain, gzip, zstd): every piece decodes on its own and
# starts with its header, and the drill reads by sections.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 is not installed"; exit 77; }
out=$(RD_BIN="$RD_BIN" KEEP_SERVER=1 sh "$fixtures/tenants/make-tenants-mariadb.sh" "$tmp/t" 12 2>"$tmp/make.log")
mrc=$?
[ $mrc -eq 77 ] && { echo "skipping: no mariadb server binaries"; exit 77; }
[ $mrc -eq 0 ] || { cat "$tmp/make.log"; echo "make-tenants-mariadb.sh failed ($mrc)"; exit 1; }
sock=${out% *}
mpid=${out#* }
trap 'kill "$mpid" 2>/dev/null; cleanup' EXIT
ts=$(cat "$tmp/t/stamp")
dsn="mariadb://root@localhost/?socket=$sock"

# config FILE DIR PATTERN [READ]
config() {
    read_key=""
    [ -n "${4:-}" ] && read_key=", \"restore\": {\"read\": \"$4\"}"
    cat >"$1" <<JSON
{ "version": 1, "name": "ranges",
  "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ {
    "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "dir", "path": "$2", "pattern": "$3", "time_from": "name"},
    "databases": ["tenant_*"],
    "sample": {"strategy": "latest", "databases": 3}$read_key,
    "checks": [
      {"type": "sql", "name": "order total", "query": "SELECT sum(amount) FROM orders", "expect": "= 550.00"}
    ] } ] }
JSON
}
jq_() { python3 -c "import json,sys; d=json.load(open('$tmp/out/drill.json')); print($1)"; }
restore_check='[c for c in d["targets"][0]["checks"] if c["type"]=="restore" and c["name"]=="restore"][0]'

for w in plain gzip zstd; do
    d="$tmp/b-$w"
    e="$tmp/e-$w"
    mkdir -p "$d" "$e"
    ext=sql
    flag=""
    [ $w = gzip ] && { ext=sql.gz; flag=--gzip; }
    [ $w = zstd ] && { ext=sql.zst; flag=--zstd; }
    f="$d/all-$ts.$ext"
    run "$RD_BIN" --quiet backup --engine mariadb --dsn "$dsn" --all-databases $flag -o "$f"
    expect_rc 0 "$w: backup"
    # the pieces tile the file and each has its sha256
    python3 - "$f" <<'PY' || fail "$w: the sections do not match the file"
import hashlib, json, sys
f = sys.argv[1]
m = json.load(open(f + ".manifest.json"))
data = open(f, "rb").read()
a = m["artifact"]
assert a["bytes"] == len(data), (a["bytes"], len(data))
at = 0
for s in a["sections"]:
    assert s["offset"] == at
    piece = data[at:at + s["length"]]
    assert hashlib.sha256(piece).hexdigest() == s["sha256"], s
    at += s["length"]
assert at == len(data)
dbs = {s["database"] for s in a["sections"]}
assert all(d["database"] in dbs for d in m["databases"])
assert a["sections"][0]["database"] is None and a["sections"][-1]["database"] is None
PY
    # gunzip / zstdcat read the multi-member file whole
    case $w in
    gzip) gunzip -c "$f" >"$e/dec.sql" || fail "gunzip" ;;
    zstd) zstdcat "$f" >"$e/dec.sql" || fail "zstdcat" ;;
    plain) cp "$f" "$e/dec.sql" ;;
    esac
    # the same content as the plain backup's (but the time stamp line)
    grep -v '^-- Dump completed' "$e/dec.sql" >"$e/a.sql"
    grep -v '^-- Dump completed' "$tmp/e-plain/dec.sql" >"$e/b.sql"
    cmp -s "$e/a.sql" "$e/b.sql" || fail "$w: decoded content differs from the plain backup"
    config "$tmp/drill.json" "$d" "*.$ext"
    rm -rf "$tmp/out"
    run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
    expect_rc 0 "$w: ranged drill"
    expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]")" sections "$w: read by sections"
    msg=$(jq_ "$restore_check[\"message\"]")
    case $msg in
    *"read 3 of 17 databases' sections"*"each piece verified by its sha256"*"the rest of the dump was not read"*) ;;
    *) fail "$w: restore message: $msg" ;;
    esac
    got=$(jq_ "$restore_check[\"properties\"][\"stored_bytes_read\"]")
    want=$(python3 - "$f" "$(jq_ '" ".join(d["targets"][0]["databases"]["drilled"])')" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + ".manifest.json"))
keep = set(sys.argv[2].split())
print(sum(s["length"] for s in m["artifact"]["sections"] if s["database"] is None or s["database"] in keep))
PY
)
    expect_eq "$got" "$want" "$w: bytes read are the sampled and shared pieces"
    expect_eq "$(jq_ 'len([c for c in d["targets"][0]["checks"] if c.get("name")=="order total" and c["status"]=="passed"])')" 3 "$w: 3 databases checked"
done

# restore.read "whole": our decoder reads the multi-member file whole (every
# decoded byte, the file's sha256 checked)
config "$tmp/drill.json" "$tmp/b-gzip" "*.sql.gz" whole
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 0 "gzip, read whole"
expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]")" whole "gzip whole: read whole"
expect_eq "$(jq_ "$restore_check[\"properties\"][\"decoded_bytes\"]")" "$(wc -c <"$tmp/e-gzip/dec.sql" | tr -d ' ')" \
    "gzip whole: every decoded byte"
expect_eq "$(jq_ "$restore_check[\"properties\"][\"stored_bytes_read\"]")" "$(wc -c <"$(ls "$tmp"/b-gzip/all-*.sql.gz)" | tr -d ' ')" \
    "gzip whole: every stored byte"

# damage: copies of the gzip backup
d="$tmp/b-gzip"
f=$(ls "$d"/all-*.sql.gz)
drilled=$(jq_ '" ".join(d["targets"][0]["databases"]["drilled"])')
first=${drilled%% *}
piece() { # piece DB -> "offset length" of its first piece
    python3 - "$f" "$1" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + ".manifest.json"))
s = [s for s in m["artifact"]["sections"] if s["database"] == sys.argv[2]][0]
print(s["offset"], s["length"])
PY
}
flip() { # flip FILE OFFSET
    python3 - "$1" "$2" <<'PY'
import sys
with open(sys.argv[1], "r+b") as fh:
    fh.seek(int(sys.argv[2])); b = fh.read(1); fh.seek(int(sys.argv[2])); fh.write(bytes([b[0] ^ 0x55]))
PY
}
mk() { rm -rf "$tmp/x"; mkdir -p "$tmp/x"; cp "$f" "$f.manifest.json" "$tmp/x/"; x="$tmp/x/$(basename "$f")"; }

# a byte flipped inside a sampled piece: that piece's sha256
mk
set -- $(piece "$first")
flip "$x" $(($1 + $2 / 2))
config "$tmp/drill.json" "$tmp/x" "*.sql.gz"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 1 "flipped sampled piece"
want="section $first of $x (bytes $1-$(($1 + $2 - 1))): sha256 mismatch, expected"
grep -qF -- "$want" "$tmp/out/drill.json" ||
    fail "flipped sampled: [$want] not in the error: $(jq -r '.targets[0].error' "$tmp/out/drill.json")"

# inside an unsampled piece: not read by ranges, found with read "whole"
other=$(python3 - "$f" "$drilled" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + ".manifest.json"))
keep = set(sys.argv[2].split())
print([d["database"] for d in m["databases"] if d["database"].startswith("tenant_") and d["database"] not in keep][0])
PY
)
mk
set -- $(piece "$other")
flip "$x" $(($1 + $2 / 2))
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 0 "flipped unsampled piece: not read"
config "$tmp/drill.json" "$tmp/x" "*.sql.gz" whole
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 1 "flipped unsampled piece, read whole"
expect_has "$tmp/out/drill.json" "corrupt gzip stream in $x" "whole: the damage is read"
expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]" 2>/dev/null || echo none)" whole "whole: read whole" 

# a database of the manifest that owns no piece (its pieces renamed, the
# tiling kept): not in the dump, although it was not sampled
mk
python3 - "$x.manifest.json" "$other" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
for s in m["artifact"]["sections"]:
    if s["database"] == sys.argv[2]:
        s["database"] = "renamed"
json.dump(m, open(sys.argv[1], "w"))
PY
config "$tmp/drill.json" "$tmp/x" "*.sql.gz"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 1 "a database without a piece"
expect_has "$tmp/out/drill.json" "database $other is in the manifest but not in the dump" "no piece: message"

# truncated: both sizes named
mk
size=$(stat -c %s "$x")
truncate -s $((size - 100)) "$x"
config "$tmp/drill.json" "$tmp/x" "*.sql.gz"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 1 "truncated"
expect_has "$tmp/out/drill.json" "has $((size - 100)) bytes, its manifest says $size: the dump was cut short or replaced" "truncated: sizes"

# pieces that do not tile the file: the manifest is refused
mk
python3 - "$x.manifest.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["artifact"]["sections"][2]["offset"] += 1
json.dump(m, open(sys.argv[1], "w"))
PY
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 1 "no tiling"
expect_has "$tmp/out/drill.json" "artifact.sections[2].offset is" "no tiling: message"
expect_has "$tmp/out/drill.json" "without gap or overlap" "no tiling: why"

# s3:// : the gzip cluster dump and its sidecar in a bucket (moto), fetched
# by one Range GET per piece (counted in moto's request log)
here=$(cd "$(dirname "$0")/.." && pwd)
s3dir="$tmp/s3"
if python3 -c "import moto" 2>/dev/null; then
    . "$here/s3/s3lib.sh"
    s3_start
    trap 'kill "$mpid" 2>/dev/null; python3 "$here/s3/s3server.py" stop "$s3dir"; cleanup' EXIT
    s3_isolate
    python3 "$here/s3/s3server.py" mb "$s3dir" ranges || fail "mb"
    key=$(basename "$f")
    python3 "$here/s3/s3server.py" put "$s3dir" ranges "$key" "$f" || fail "put"
    python3 "$here/s3/s3server.py" put "$s3dir" ranges "$key.manifest.json" "$f.manifest.json" || fail "put manifest"
    cat >"$tmp/s3.json" <<JSON
{ "version": 1, "name": "ranges", "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "mariadb",
    "catalog": {"type": "s3", "bucket": "ranges", "pattern": "all-*.sql.gz",
                "endpoint": "$RD_S3_ENDPOINT", "region": "us-east-1", "time_from": "name"},
    "databases": ["tenant_*"], "sample": {"strategy": "latest", "databases": 3},
    "checks": [ {"type": "sql", "name": "order total", "query": "SELECT sum(amount) FROM orders", "expect": "= 550.00"} ] } ] }
JSON
    before=$(grep -c "GET /ranges/$key\(?[^ ]*\)\? HTTP/1.1\" 206" "$s3dir/moto.log")
    rm -rf "$tmp/out"
    run "$RD_BIN" run "$tmp/s3.json" --seed 7 --no-progress
    expect_rc 0 "s3: ranged drill"
    expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]")" sections "s3: read by sections"
    pieces=$(python3 - "$f" "$(jq_ '" ".join(d["targets"][0]["databases"]["drilled"])')" <<'PY'
import json, sys
m = json.load(open(sys.argv[1] + ".manifest.json"))
keep = set(sys.argv[2].split())
print(len([s for s in m["artifact"]["sections"] if s["database"] is None or s["database"] in keep]))
PY
)
    after=$(grep -c "GET /ranges/$key\(?[^ ]*\)\? HTTP/1.1\" 206" "$s3dir/moto.log")
    expect_eq "$((after - before))" "$pieces" "s3: one Range GET (206) per piece read"
    expect_eq "$(grep -c "GET /ranges/$key\(?[^ ]*\)\? HTTP/1.1\" 200" "$s3dir/moto.log")" 0 "s3: no whole GET"
else
    echo "note: moto is not installed: the s3:// case is skipped"
fi

# --no-sections: one stream, no sections, the whole dump is read
mkdir -p "$tmp/ns"
run "$RD_BIN" --quiet backup --engine mariadb --dsn "$dsn" --all-databases --gzip --no-sections -o "$tmp/ns/all-$ts.sql.gz"
expect_rc 0 "no-sections backup"
expect_eq "$(python3 -c "import json; print('sections' in json.load(open('$tmp/ns/all-$ts.sql.gz.manifest.json'))['artifact'])")" False "no-sections: none listed"
config "$tmp/drill.json" "$tmp/ns" "*.sql.gz"
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --seed 7 --no-progress
expect_rc 0 "no-sections drill"
expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]")" whole "no-sections: read whole"

# PostgreSQL: `backup --all-databases` writes pg_dumpall's layout itself,
# cut before every database header and the trailer
kill "$mpid" 2>/dev/null
mkdir -p "$tmp/pg/plain" "$tmp/pg/gzip" "$tmp/pg/zstd"
cat >"$tmp/hook.sh" <<HOOK
set -e
dsn="host=\$PGHOST port=\$PGPORT user=postgres dbname=postgres"
"$RD_BIN" --quiet backup --engine postgres --dsn "\$dsn" --all-databases -o "$tmp/pg/plain/all-\$ts.sql"
"$RD_BIN" --quiet backup --engine postgres --dsn "\$dsn" --all-databases --gzip -o "$tmp/pg/gzip/all-\$ts.sql.gz"
"$RD_BIN" --quiet backup --engine postgres --dsn "\$dsn" --all-databases --zstd -o "$tmp/pg/zstd/all-\$ts.sql.zst"
HOOK
TENANTS_PG_HOOK="sh $tmp/hook.sh" sh "$fixtures/tenants/make-tenants-pg.sh" "$tmp/tp" 6 >"$tmp/makepg.log" 2>&1
prc=$?
if [ $prc -eq 77 ]; then
    echo "note: no postgresql server binaries: the postgres cases are skipped"
elif [ $prc -ne 0 ]; then
    cat "$tmp/makepg.log"
    fail "make-tenants-pg.sh failed ($prc)"
else
    for w in plain gzip zstd; do
        f=$(ls "$tmp/pg/$w"/all-* | grep -v 'manifest\.json$')
        python3 - "$f" "$w" <<'PY' || fail "pg $w: the pieces do not decode on their own"
import gzip, hashlib, json, subprocess, sys
f, w = sys.argv[1], sys.argv[2]
m = json.load(open(f + ".manifest.json"))
data = open(f, "rb").read()
at, parts = 0, []
for s in m["artifact"]["sections"]:
    assert s["offset"] == at
    piece = data[at:at + s["length"]]
    assert hashlib.sha256(piece).hexdigest() == s["sha256"]
    if w == "gzip":
        parts.append(gzip.decompress(piece))
    elif w == "zstd":
        parts.append(subprocess.run(["zstd", "-dc"], input=piece, capture_output=True, check=True).stdout)
    else:
        parts.append(piece)
    at += s["length"]
assert at == len(data) == m["artifact"]["bytes"]
text = b"".join(parts)
for s, p in zip(m["artifact"]["sections"], parts):
    if s["database"]:
        assert p.startswith(b'--\n-- Database "' + s["database"].encode() + b'" dump'), p[:60]
assert parts[-1].startswith(b"--\n-- PostgreSQL database cluster dump complete"), parts[-1][:60]
PY
        cat >"$tmp/pg.json" <<JSON
{ "version": 1, "name": "ranges", "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [ { "name": "tenants", "engine": "postgres",
    "catalog": {"type": "dir", "path": "$tmp/pg/$w", "pattern": "all-*", "time_from": "name"},
    "databases": ["tenant_*"], "sample": {"strategy": "latest", "databases": 2},
    "checks": [ {"type": "rowcount"}, {"type": "schema"},
      {"type": "sql", "name": "order count", "query": "SELECT count(*) FROM orders", "expect": "= 10"} ] } ] }
JSON
        rm -rf "$tmp/out"
        run "$RD_BIN" run "$tmp/pg.json" --seed 3 --no-progress
        expect_rc 0 "pg $w: ranged drill"
        expect_eq "$(jq_ "$restore_check[\"properties\"][\"read\"]")" sections "pg $w: read by sections"
        expect_eq "$(jq_ 'len([c for c in d["targets"][0]["checks"] if c.get("name")=="order count" and c["status"]=="passed"])')" 2 "pg $w: 2 databases checked"
        case $(jq_ "$restore_check[\"message\"]") in
        *"read 2 of 11 databases' sections"*) ;;
        *) fail "pg $w: message: $(jq_ "$restore_check[\"message\"]")" ;;
        esac
    done
fi
finish
