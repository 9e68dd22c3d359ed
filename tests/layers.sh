#!/bin/sh
# layers.sh [ROOT]: the include graph follows the documented layers
# (docs/ARCHITECTURE.md). Reads every #include "..." of the C sources and
# public headers and fails, naming file and line, when
#   - a folder includes a header of a folder above it in LAYERS,
#   - two folders include each other,
#   - a file outside harness/db/ includes libpq-fe.h or mysql.h (only pg.c
#     and mariadb.c may),
#   - a folder's *_int.h (or other private header) is included from another
#     folder (tests excepted),
#   - a public header is in no folder's list below (a new header must be
#     given an owner), or a source file lies outside every layer.
# Exit 0 when clean, 1 with one line per violation, 2 on usage errors.
set -u
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
[ -d "$root/harness" ] || { echo "layers.sh: $root has no harness/" >&2; exit 2; }

# Lowest first. A folder may include headers of its own layer and below.
LAYERS="core config result db s3 artifact dynamo catalog scratch restore tablehash manifest checks
source drill reports cli main"

# Public headers (include/restoredrill/NAME.h) and the folder that owns them.
owner_of() {
    case $1 in
    error | log | strbuf | clock | proc | fs | sha256 | prng | sign | spans) echo core ;;
    config) echo config ;;
    result) echo result ;;
    db) echo db ;;
    s3 | s3set | loc) echo s3 ;;
    artifact) echo artifact ;;
    dynamo) echo dynamo ;;
    catalog | mariabackup) echo catalog ;;
    scratch) echo scratch ;;
    restore | restore_mariabackup) echo restore ;;
    tablehash | tablediff) echo tablehash ;;
    manifest) echo manifest ;;
    check) echo checks ;;
    source) echo source ;;
    drill | sample) echo drill ;;
    report | evidence) echo reports ;;
    cli) echo cli ;;
    *) echo "" ;;
    esac
}

# The layer of a source file from its path.
folder_of() {
    case $1 in
    harness/main.c) echo main ;;
    harness/*/*) f=${1#harness/}; echo "${f%%/*}" ;;
    checks/*) echo checks ;;
    reports/*) echo reports ;;
    include/restoredrill/*.h) n=${1##*/}; owner_of "${n%.h}" ;;
    *) echo "" ;;
    esac
}

rank_of() {
    i=0
    for l in $LAYERS; do
        [ "$l" = "$1" ] && { echo $i; return; }
        i=$((i + 1))
    done
    echo ""
}

cd "$root" || exit 2
out=$(mktemp)
edges=$(mktemp)
trap 'rm -f "$out" "$edges"' EXIT

files=$(find harness checks reports include/restoredrill -name '*.[ch]' 2>/dev/null | sort)
for f in $files; do
    from=$(folder_of "$f")
    if [ -z "$from" ]; then
        echo "$f: in no layer (add its folder to tests/layers.sh and docs/ARCHITECTURE.md)" >>"$out"
        continue
    fi
    rfrom=$(rank_of "$from")
    if [ -z "$rfrom" ]; then
        echo "$f: folder $from is in no layer (add it to LAYERS in tests/layers.sh)" >>"$out"
        continue
    fi
    grep -n '^[[:space:]]*#[[:space:]]*include' "$f" | while IFS= read -r line; do
        ln=${line%%:*}
        inc=$(printf '%s\n' "$line" | sed -n 's/.*#[[:space:]]*include[[:space:]]*[<"]\([^>"]*\)[>"].*/\1/p')
        case $line in
        *'#'*include*'<'*) # a system or library header
            case $inc in libpq-fe.h | */libpq-fe.h | mysql.h | */mysql.h) ;; *) continue ;; esac ;;
        esac
        case $inc in
        libpq-fe.h | */libpq-fe.h | mysql.h | */mysql.h)
            case $f in
            harness/db/pg.c | harness/db/mariadb.c) ;;
            *) echo "$f:$ln: includes $inc: only harness/db/pg.c and harness/db/mariadb.c may" ;;
            esac
            continue ;;
        restoredrill/*.h)
            name=${inc#restoredrill/}
            to=$(owner_of "${name%.h}")
            if [ -z "$to" ]; then
                echo "$f:$ln: includes $inc, which no folder owns (give it an owner in tests/layers.sh)"
                continue
            fi ;;
        */*) # a relative path into another folder
            echo "$f:$ln: includes $inc: include another folder's header through include/restoredrill/"
            continue ;;
        *.h)
            # a private header: must sit beside the including file
            if [ -f "$(dirname "$f")/$inc" ]; then continue; fi
            case $inc in
            *_int.h) echo "$f:$ln: includes $inc, which is not in its own folder" ;;
            esac
            continue ;;
        *) continue ;;
        esac
        [ "$to" = "$from" ] && continue
        rto=$(rank_of "$to")
        echo "$from $to $f:$ln" >>"$edges"
        if [ "$rto" -gt "$rfrom" ]; then
            echo "$f:$ln: $from includes $inc of $to, a layer above it (order: $(echo $LAYERS | tr '\n' ' '))"
        fi
    done >>"$out"
done

# Two folders that include each other (reported once per pair).
sort -u -k1,2 "$edges" | while read -r a b where; do
    back=$(awk -v a="$a" -v b="$b" '$1 == b && $2 == a { print $3; exit }' "$edges")
    if [ -n "$back" ] && [ "$a" \< "$b" ]; then
        echo "folders $a and $b include each other: $where and $back"
    fi
done >>"$out"

if [ -s "$out" ]; then
    cat "$out"
    echo "layers: $(wc -l <"$out") violations"
    exit 1
fi
echo "layers: $(echo "$files" | wc -l) files, include graph follows the layers"
exit 0
