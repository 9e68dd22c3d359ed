#!/bin/sh
# t_junit_schema.sh: the project's own JUnit schema (reports/schema/junit.xsd)
# is what tests/validate-reports.sh checks every .xml report against, with
# nothing beside the clone: a document shaped like restoredrill's output
# passes, and each deliberately bad one (a `file` attribute on a testcase,
# 4 decimals in a time, a missing required attribute, a negative count, a
# <testsuite> root) is rejected by our schema, named in the FAIL line.
# Where ../shared/validators/junit-10.xsd exists, the good document is also
# checked against it (validate-reports.sh prints "ok: ...: junit-10.xsd").
here=$(cd "$(dirname "$0")/.." && pwd)
top=$(cd "$here/.." && pwd)
command -v xmllint >/dev/null 2>&1 || { echo "FAIL: xmllint is not installed"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-junit.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }

good() {
    cat <<'X'
<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="nightly" tests="2" failures="1" errors="0" time="12.5">
  <testsuite name="orders" tests="2" failures="1" errors="0" skipped="0" time="12.345" timestamp="2026-01-01T00:00:00" hostname="h" id="0" package="restoredrill.orders">
    <properties>
      <property name="engine" value="postgres"/>
    </properties>
    <testcase name="public.orders" classname="restoredrill.orders.rowcount" time="0.001"/>
    <testcase name="public.items" classname="restoredrill.orders.rowcount" time="3">
      <failure message="row count differs" type="rowcount">expected: 3
actual: 2
</failure>
      <system-out>out</system-out>
    </testcase>
    <system-err>err</system-err>
  </testsuite>
</testsuites>
X
}

# validate FILE: runs validate-reports.sh on a directory holding FILE alone
validate() {
    rm -rf "$tmp/d"
    mkdir "$tmp/d"
    cp "$1" "$tmp/d/"
    sh "$here/validate-reports.sh" "$tmp/d" >"$tmp/v.txt" 2>&1
}

good >"$tmp/good.xml"
if ! validate "$tmp/good.xml"; then
    cat "$tmp/v.txt"
    fail "the good document was rejected"
fi
grep -qF "ok: $tmp/d/good.xml: reports/schema/junit.xsd" "$tmp/v.txt" || fail "own schema not named: $(cat "$tmp/v.txt")"
if [ -f "$top/../shared/validators/junit-10.xsd" ]; then
    grep -qF "ok: $tmp/d/good.xml: junit-10.xsd" "$tmp/v.txt" || fail "junit-10.xsd present but not used"
else
    grep -q "junit-10.xsd" "$tmp/v.txt" && fail "junit-10.xsd absent but reported as used"
fi

# reject NAME SED-EXPRESSION XMLLINT-TEXT
reject() {
    good | sed "$2" >"$tmp/$1.xml"
    cmp -s "$tmp/$1.xml" "$tmp/good.xml" && { fail "$1: the edit changed nothing"; return; }
    if validate "$tmp/$1.xml"; then
        fail "$1: accepted"
        return
    fi
    grep -qF "FAIL: $tmp/d/$1.xml: reports/schema/junit.xsd: " "$tmp/v.txt" ||
        fail "$1: not rejected by our own schema: $(cat "$tmp/v.txt")"
    grep -qF -- "$3" "$tmp/v.txt" || fail "$1: lacks [$3]: $(cat "$tmp/v.txt")"
}

reject file-attr 's|classname="restoredrill.orders.rowcount" time="3"|& file="a.c"|' \
    "Element 'testcase', attribute 'file': The attribute 'file' is not allowed."
reject case-4-decimals 's|time="0.001"|time="0.0001"|' \
    "Element 'testcase', attribute 'time': [facet 'pattern'] The value '0.0001' is not accepted"
reject suite-4-decimals 's|time="12.345"|time="12.3456"|' \
    "Element 'testsuite', attribute 'time': [facet 'pattern'] The value '12.3456' is not accepted"
reject suites-comma-time 's|time="12.5"|time="12,5"|' \
    "Element 'testsuites', attribute 'time': [facet 'pattern'] The value '12,5' is not accepted"
reject no-errors 's| errors="0" skipped| skipped|' \
    "Element 'testsuite': The attribute 'errors' is required but missing."
reject no-case-name 's|<testcase name="public.orders"|<testcase|' \
    "Element 'testcase': The attribute 'name' is required but missing."
reject no-prop-value 's|name="engine" value="postgres"|name="engine"|' \
    "Element 'property': The attribute 'value' is required but missing."
reject negative-count 's|skipped="0"|skipped="-1"|' \
    "Element 'testsuite', attribute 'skipped': '-1' is not a valid value"
reject suite-root '/<testsuites /d; /<\/testsuites>/d' \
    "No matching global declaration available for the validation root."

# without xmllint an .xml report is a failure, never a skip
mkdir "$tmp/bin"
for t in sh grep cat sed dirname basename pwd mkdir cp rm command; do
    p=$(command -v "$t") && [ -x "$p" ] && ln -s "$p" "$tmp/bin/$t"
done
rm -rf "$tmp/d" && mkdir "$tmp/d" && cp "$tmp/good.xml" "$tmp/d/"
if PATH="$tmp/bin" sh "$here/validate-reports.sh" "$tmp/d" >"$tmp/v.txt" 2>&1; then
    fail "validated without xmllint: $(cat "$tmp/v.txt")"
fi
grep -qF "FAIL: $tmp/d/good.xml: xmllint is not installed (apt-get install libxml2-utils)" "$tmp/v.txt" ||
    fail "no xmllint message: $(cat "$tmp/v.txt")"

[ "$fails" -eq 0 ] || exit 1
echo "junit schema: ok"
