# dynalitelib.sh: sourced by the shell tests that run dynalite (after
# fixtures/testlib.sh, with $here = tests/).
#   need_dynalite  skip (77) without node or the dynalite package (installed
#                  once with npm ci --prefix tests/npm); links the package into
#                  this test's own directory ($tmp/dynalite) and exports
#                  RESTOREDRILL_DYNALITE, so that the dynalite processes of this
#                  test (their command line names the package) can be told apart
need_dynalite() {
    command -v node >/dev/null 2>&1 || { echo "skipping: node is not installed"; exit 77; }
    if [ ! -f "$here/npm/node_modules/dynalite/index.js" ]; then
        npm ci --prefix "$here/npm" --no-audit --no-fund --silent >/dev/null 2>&1
    fi
    [ -f "$here/npm/node_modules/dynalite/index.js" ] ||
        { echo "skipping: dynalite is not installed (npm ci --prefix tests/npm failed)"; exit 77; }
    ln -s "$here/npm/node_modules/dynalite" "$tmp/dynalite"
    export RESTOREDRILL_DYNALITE="$tmp/dynalite"
}
