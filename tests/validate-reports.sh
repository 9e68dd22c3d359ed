#!/bin/sh
# Validate every report file in DIR with the external validators:
#   *.xml    xmllint against the project's own reports/schema/junit.xsd,
#            always; and against the Jenkins junit-10.xsd as well when
#            ../shared/validators/junit-10.xsd exists (CI)
#   *.json   ajv (JSON Schema 2020-12) against reports/schema/report-v1.schema.json
#            (only files whose "schema" is restoredrill/report/v1)
#   *.prom   promtool check metrics
#   *.jsonl  restoredrill history verify (when RD_BIN is set)
#   *.html   self-contained: no script, no external reference
# With RD_CANARY set, no file may contain that string (a planted secret).
#
#   tests/validate-reports.sh DIR
# Exits 0 when everything present validates, 1 with the validator's message
# otherwise, 2 on bad usage. A validator that is not installed is skipped
# with a "skip:" line (never counted as a pass of that file); the callers
# fail on any "skip:" line. The project's own JUnit schema is never skipped:
# without xmllint an .xml file is a FAIL.
set -u
dir=${1:-}
if [ -z "$dir" ] || [ ! -d "$dir" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/.." && pwd)
own_xsd="$top/reports/schema/junit.xsd"
jenkins_xsd="$top/../shared/validators/junit-10.xsd"
schema="$top/reports/schema/report-v1.schema.json"
fail=0
checked=0

bad() {
    echo "FAIL: $*" >&2
    fail=1
}

ensure_ajv() {
    [ -d "$here/npm/node_modules/ajv" ] && return 0
    command -v npm >/dev/null 2>&1 || return 1
    npm ci --prefix "$here/npm" --no-audit --no-fund --silent >/dev/null 2>&1
}

for f in "$dir"/*; do
    [ -f "$f" ] || continue
    case "$f" in
    *.xml)
        if ! command -v xmllint >/dev/null 2>&1; then
            bad "$f: xmllint is not installed (apt-get install libxml2-utils)"
        elif ! out=$(xmllint --noout --schema "$own_xsd" "$f" 2>&1); then
            bad "$f: reports/schema/junit.xsd: $out"
        else
            echo "ok: $f: reports/schema/junit.xsd"
            checked=$((checked + 1))
            if [ -f "$jenkins_xsd" ]; then
                if out=$(xmllint --noout --schema "$jenkins_xsd" "$f" 2>&1); then
                    echo "ok: $f: junit-10.xsd"
                else
                    bad "$f: junit-10.xsd: $out"
                fi
            fi
        fi
        ;;
    *.jsonl)
        if [ -z "${RD_BIN:-}" ]; then
            echo "skip: $f: RD_BIN is not set"
        elif out=$("$RD_BIN" history verify "$f" 2>&1); then
            echo "ok: $out"
            checked=$((checked + 1))
        else
            bad "$out"
        fi
        ;;
    *.json)
        grep -q '"restoredrill/report/v1"' "$f" || continue
        if ! command -v node >/dev/null 2>&1; then
            echo "skip: $f: node is not installed"
        elif ! ensure_ajv; then
            echo "skip: $f: ajv is not installed (npm ci --prefix tests/npm failed)"
        elif out=$(node "$here/npm/validate.js" "$schema" "$f" 2>&1); then
            echo "ok: $out"
            checked=$((checked + 1))
        else
            bad "$out"
        fi
        ;;
    *.prom)
        if ! command -v promtool >/dev/null 2>&1; then
            echo "skip: $f: promtool is not installed"
        elif out=$(promtool check metrics <"$f" 2>&1); then
            echo "ok: $f: promtool"
            checked=$((checked + 1))
        else
            bad "$f: $out"
        fi
        ;;
    *.html)
        if grep -qi '<script' "$f"; then
            bad "$f: contains a script"
        elif grep -Eqi '(src|href)=|url\(' "$f"; then
            bad "$f: references an external asset"
        elif ! grep -q '</html>' "$f"; then
            bad "$f: truncated (no </html>)"
        else
            echo "ok: $f: self-contained html"
            checked=$((checked + 1))
        fi
        ;;
    esac
    if [ -n "${RD_CANARY:-}" ] && grep -qF "$RD_CANARY" "$f"; then
        bad "$f: contains the planted secret"
    fi
done
echo "validated $checked file(s) in $dir"
exit $fail
