#!/bin/sh
# t_restore_roles.sh: restore.roles on dumps whose objects belong to roles
# the scratch instance lacks (fixtures/postgres/roles.sql: shop_app,
# shop_reporting): no-owner (default) restores without them, create
# pre-creates them (custom from a file, custom through zstd on stdin, plain
# through the line filter), strict fails on the missing role.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups postgres
b="$tmp/backups"
target() { # NAME DIR PATTERN ROLES
    cat <<JSON
    {"name": "$1", "engine": "postgres",
     "catalog": {"type": "dir", "path": "$b/$2", "pattern": "$3", "time_from": "name"},
     "sample": {"strategy": "latest"}, "restore": {"roles": "$4"},
     "checks": [{"type": "rowcount", "min_rows": {"*": 1}}]}
JSON
}
cat >"$tmp/drill.json" <<JSON
{ "version": 1, "name": "roles", "seed": 3, "parallel": 2,
  "output": {"dir": "$tmp/out", "json": "drill.json"},
  "targets": [
$(target custom-create pg-custom '*.dump' create),
$(target zst-create pg-custom-zst '*.zst' create),
$(target plain-create pg-plain '*.sql' create),
$(target custom-strict pg-custom '*.dump' strict),
$(target plain-strict pg-plain '*.sql' strict)
  ] }
JSON
run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "run"
restore() { jqr ".targets[] | select(.name == \"$1\") | .checks[] | select(.type == \"restore\") | $2"; }
for t in custom-create zst-create plain-create; do
    expect_eq "$(restore $t .status)" passed "$t restore"
    roles=$(restore $t .properties.roles)
    case "$roles" in
    "created roles: "*) ;;
    *) fail "$t roles note: $roles" ;;
    esac
    for r in shop_app shop_reporting; do
        echo "$roles" | grep -qw $r || fail "$t: $r not created ($roles)"
    done
done
for t in custom-strict plain-strict; do
    expect_eq "$(restore $t .status)" failed "$t restore"
    expect_eq "$(restore $t .properties.roles)" \
        "ownership and grants restored as in the dump (strict)" "$t roles note"
    case "$(restore $t .message)" in
    *'ERROR:  role "'*'" does not exist') ;;
    *) fail "$t message: $(restore $t .message)" ;;
    esac
done
case "$(restore custom-strict .message)" in
"pg_restore exited with status 1: pg_restore: error: could not execute query: ERROR:  role "*) ;;
*) fail "custom-strict names pg_restore's error" ;;
esac
case "$(restore plain-strict .message)" in
"psql exited with status 3: ERROR:  role "*) ;;
*) fail "plain-strict names psql's error" ;;
esac
no_leftovers "after the drill"
finish
