#!/bin/sh
# t_drill_formats.sh: every dump format and wrapping restores through a real
# drill into ephemeral scratch instances and passes: PostgreSQL custom,
# directory, plain, plain.gz, custom.zst; MariaDB sql, sql.gz. The restored
# row counts are the fixture's exact figures; nothing is left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups

b="$tmp/backups"
target() { # NAME ENGINE DIR PATTERN
    cat <<JSON
    {"name": "$1", "engine": "$2",
     "catalog": {"type": "dir", "path": "$b/$3", "pattern": "$4", "time_from": "name"},
     "sample": {"strategy": "latest"},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]}
JSON
}
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "formats", "seed": 11, "parallel": 2,
  "output": {"dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml"},
  "targets": [
$(target pg-custom postgres pg-custom 'shop-*.dump'),
$(target pg-directory postgres pg-directory 'shop-*.dir'),
$(target pg-plain postgres pg-plain 'shop-*.sql'),
$(target pg-plain-gz postgres pg-plain-gz 'shop-*.sql.gz'),
$(target pg-custom-zst postgres pg-custom-zst 'shop-*.dump.zst'),
$(target mariadb-sql mariadb mariadb-sql 'shop-*.sql'),
$(target mariadb-sql-gz mariadb mariadb-sql-gz 'shop-*.sql.gz')
  ] }
JSON

run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 0 "run"
expect_eq "$(jqr '.drill.status')" passed "drill status"
expect_eq "$(jqr '.drill.seed')" 11 "drill seed"
for t in pg-custom:pg-custom pg-directory:pg-directory pg-plain:pg-plain \
    pg-plain-gz:pg-plain+gzip pg-custom-zst:pg-custom+zstd mariadb-sql:mariadb-sql \
    mariadb-sql-gz:mariadb-sql+gzip; do
    name=${t%%:*}
    fmt=${t#*:}
    sel=".targets[] | select(.name == \"$name\")"
    expect_eq "$(jqr "$sel | .status")" passed "$name status"
    expect_eq "$(jqr "$sel | .recovery_point.format")" "$fmt" "$name format"
    expect_eq "$(jqr "$sel | .checks[] | select(.type == \"restore\") | .status")" passed \
        "$name restore result"
    expect_eq "$(jqr "$sel | [.phases[].name] | join(\",\")")" \
        "sample,fetch,provision,restore,verify,teardown" "$name phases"
    expect_eq "$(jqr "$sel | [.phases[] | select(.status != \"passed\")] | length")" 0 \
        "$name phases passed"
    # the fixture's exact row counts (fixtures/*/data.sql)
    counts=$(jqr "[$sel | .checks[] | select(.type == \"rowcount\") |
                  \"\(.object | split(\".\") | last)=\(.actual)\"] | sort | join(\" \")")
    expect_eq "$counts" \
        "OrderNotes=300 audit_log=500 customers=400 order_items=2400 orders=1200 products=60" \
        "$name row counts"
    expect_eq "$(jqr "$sel | .rto.data_ready_seconds > 0 and .rto.seconds >= .rto.data_ready_seconds")" \
        true "$name rto figures"
    expect_eq "$(jqr "$sel | .rpo.basis")" catalog "$name rpo basis"
done
# roles handling is recorded on PostgreSQL restores (default: no-owner)
expect_eq "$(jqr '.targets[] | select(.name == "pg-custom") | .checks[] |
                  select(.type == "restore") | .properties.roles')" \
    "ignored ownership and grants (--no-owner --no-acl)" "pg-custom roles note"
expect_eq "$(jqr '.targets[] | select(.name == "pg-plain") | .checks[] |
                  select(.type == "restore") | .properties.roles')" \
    "ignored ownership and grants (OWNER TO, GRANT and REVOKE lines skipped)" "pg-plain roles note"
expect_has "$tmp/out/junit.xml" 'classname="restoredrill.pg-custom-zst.restore"' "junit"
no_leftovers "after the drill"
finish
