#!/bin/sh
# t_checksum_drill.sh: chunk digests captured by `restoredrill backup
# --checksums` travel in the sidecar manifest, and the checksum check of a
# real drill compares the restored tables with them (no live reference):
# a clean restore passes on both engines; a manifest whose digest for one
# table does not match what was restored fails exactly that table, naming the
# key range, and the others still pass.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
make_backups
pg=$(ls "$tmp/backups/pg-custom"/shop-*.dump | sort | tail -n 1)
my=$(ls "$tmp/backups/mariadb-sql"/shop-*.sql | sort | tail -n 1)
jq -e '.tables[] | select(.name == "orders") | .checksum.chunks | length > 0' "$pg.manifest.json" >/dev/null ||
    fail "backup --checksums: no chunk digests for orders in $pg.manifest.json"

# the tampered catalog: the same dump, its manifest with one digest changed
mkdir -p "$tmp/tampered"
cp "$pg" "$tmp/tampered/"
jq '(.tables[] | select(.name == "orders") | .checksum.chunks[0].digest) = "12345"' \
    "$pg.manifest.json" >"$tmp/tampered/$(basename "$pg").manifest.json"

target() { # NAME ENGINE DIR PATTERN
    cat <<EOF
    { "name": "$1", "engine": "$2",
      "catalog": { "type": "dir", "path": "$3", "pattern": "$4", "time_from": "name" },
      "reference": { "manifest": "sidecar" },
      "checks": [ { "type": "checksum" } ] }
EOF
}
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "checksum-drill", "parallel": 2,
  "output": { "dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml" },
  "targets": [
$(target pg postgres "$tmp/backups/pg-custom" "shop-*.dump"),
$(target my mariadb "$tmp/backups/mariadb-sql" "shop-*.sql"),
$(target tampered postgres "$tmp/tampered" "shop-*.dump")
  ] }
EOF
run "$RD_BIN" run "$tmp/drill.json"
expect_rc 1 "drill with a tampered manifest"
expect_eq "$(jqr '.targets[] | select(.name == "pg") | .status')" passed "pg status"
expect_eq "$(jqr '.targets[] | select(.name == "my") | .status')" passed "mariadb status"
expect_eq "$(jqr '[.targets[] | select(.name == "pg") | .checks[] | select(.type == "checksum") | .object] | sort | join(",")')" \
    "public.OrderNotes,public.audit_log,public.customers,public.order_items,public.orders,public.products" \
    "pg checksum results, one per table"
expect_eq "$(jqr '[.targets[] | select(.name == "my") | .checks[] | select(.type == "checksum" and .status == "passed")] | length')" \
    6 "mariadb checksum results passed"
expect_eq "$(jqr '.targets[] | select(.name == "tampered") | .status')" failed "tampered status"
expect_eq "$(jqr '[.targets[] | select(.name == "tampered") | .checks[] | select(.type == "checksum" and .status != "passed") | .object] | join(",")')" \
    "public.orders" "only the tampered table fails"
msg=$(jqr '.targets[] | select(.name == "tampered") | .checks[] | select(.object == "public.orders") | .message')
echo "$msg" | grep -q "1 of 1 chunk differs from the manifest" || fail "tampered message names the differing chunk: $msg"
no_leftovers "checksum drill"
finish
