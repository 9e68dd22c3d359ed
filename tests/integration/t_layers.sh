#!/bin/sh
# t_layers.sh: tests/layers.sh passes on the tree and catches each kind of
# violation planted into a copy of it, naming the file and line.
set -u
here=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

sh "$here/tests/layers.sh" "$here" >"$tmp/out" 2>&1 || { cat "$tmp/out"; fail "the tree itself violates the layers"; }

fresh() {
    rm -rf "$tmp/t"
    mkdir -p "$tmp/t"
    cp -r "$here/harness" "$here/checks" "$here/reports" "$here/include" "$tmp/t/"
}
# expect_violation FILE LINE-TEXT WANT: append LINE-TEXT to FILE, run, expect WANT in the output
expect_violation() {
    fresh
    n=$(($(wc -l <"$tmp/t/$1") + 1))
    printf '%s\n' "$2" >>"$tmp/t/$1"
    sh "$here/tests/layers.sh" "$tmp/t" >"$tmp/out" 2>&1
    rc=$?
    [ "$rc" -eq 1 ] || { cat "$tmp/out"; fail "$1: planted '$2': exit $rc, want 1"; }
    want=$(printf '%s' "$3" | sed "s/@LINE@/$n/")
    grep -qF -- "$want" "$tmp/out" || { cat "$tmp/out"; fail "$1: want '$want'"; }
}

# a lower layer including a higher one
expect_violation harness/core/strbuf.c '#include "restoredrill/drill.h"' \
    'harness/core/strbuf.c:@LINE@: core includes restoredrill/drill.h of drill, a layer above it'
# a public header including a header above its owner
expect_violation include/restoredrill/db.h '#include "restoredrill/check.h"' \
    'include/restoredrill/db.h:@LINE@: db includes restoredrill/check.h of checks, a layer above it'
# the client libraries outside their one file each
expect_violation checks/sql.c '#include <libpq-fe.h>' \
    'checks/sql.c:@LINE@: includes libpq-fe.h: only harness/db/pg.c and harness/db/mariadb.c may'
expect_violation harness/db/db.c '#include <mysql.h>' \
    'harness/db/db.c:@LINE@: includes mysql.h: only harness/db/pg.c and harness/db/mariadb.c may'
# another folder's private header
expect_violation harness/drill/drill.c '#include "../scratch/scratch_int.h"' \
    'harness/drill/drill.c:@LINE@: includes ../scratch/scratch_int.h: include another folder'
# a header no folder owns
expect_violation harness/drill/drill.c '#include "restoredrill/nowhere.h"' \
    'harness/drill/drill.c:@LINE@: includes restoredrill/nowhere.h, which no folder owns'
# two folders including each other: catalog -> scratch is below, scratch -> catalog above
fresh
n=$(($(wc -l <"$tmp/t/harness/scratch/scratch.c") + 1))
echo '#include "restoredrill/catalog.h"' >>"$tmp/t/harness/scratch/scratch.c"
m=$(($(wc -l <"$tmp/t/harness/catalog/dir.c") + 1))
echo '#include "restoredrill/scratch.h"' >>"$tmp/t/harness/catalog/dir.c"
sh "$here/tests/layers.sh" "$tmp/t" >"$tmp/out" 2>&1 && fail "mutual include: exit 0"
grep -qF "folders catalog and scratch include each other: harness/catalog/dir.c:$m and harness/scratch/scratch.c:$n" "$tmp/out" ||
    { cat "$tmp/out"; fail "mutual include not named"; }
# a source file outside every layer
fresh
mkdir -p "$tmp/t/harness/newthing"
echo 'int x;' >"$tmp/t/harness/newthing/a.c"
sh "$here/tests/layers.sh" "$tmp/t" >"$tmp/out" 2>&1 && fail "unknown folder: exit 0"
grep -qF "harness/newthing/a.c: folder newthing is in no layer" "$tmp/out" || { cat "$tmp/out"; fail "unknown folder not named"; }
echo "layers: every planted violation caught"
