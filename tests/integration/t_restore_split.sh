#!/bin/sh
# t_restore_split.sh: a mariadb-dump restored over several client connections
# (table sections side by side, sequences and the ordered rest alone) gives
# exactly the data of the plain single-stream restore. The source: the shop
# fixture (foreign keys, a sequence, a view) plus a trigger, a procedure, a
# function and a table larger than the split buffer (restore.split_buffer_mb
# 1). `restoredrill backup --checksums` dumps it with a manifest; the same
# dump is restored with restore.jobs 1 (one client) and with jobs 3 (split),
# and the checksum and schema checks compare each restore with the manifest.
# A section that fails on one connection fails the split restore with the
# client's own first error, as with one client; a dump with a line the
# split does not know before its first section goes whole to one client.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
mariadbd=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null || true)
[ -n "$mariadbd" ] && command -v mariadb-install-db >/dev/null 2>&1 ||
    { echo "skipping: no mariadbd"; exit 77; }

src="$tmp/src"
mkdir -p "$src/tmp" "$tmp/backups" "$tmp/bad"
chown mysql: "$src" "$src/tmp" 2>/dev/null || true
sock="$src/mysqld.sock"
my_pid=""
stop_source() {
    [ -n "$my_pid" ] && kill "$my_pid" 2>/dev/null && wait "$my_pid" 2>/dev/null
    my_pid=""
}
trap 'stop_source; cleanup' EXIT
if [ "$(id -u)" -eq 0 ]; then set -- runuser -u mysql --; else set --; fi
"$@" mariadb-install-db --no-defaults --datadir="$src/data" --auth-root-authentication-method=socket \
    --skip-test-db --tmpdir="$src/tmp" >"$src/install.log" 2>&1 || { cat "$src/install.log"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then set -- setpriv --reuid=mysql --regid=mysql --init-groups --; else set --; fi
"$@" "$mariadbd" --no-defaults --datadir="$src/data" --socket="$sock" --skip-networking \
    --pid-file="$src/mysqld.pid" --tmpdir="$src/tmp" --skip-log-bin \
    --log-error="$src/error.log" 2>>"$src/error.log" &
my_pid=$!
i=0
until mariadb --no-defaults --socket="$sock" -uroot -e 'SELECT 1' >/dev/null 2>&1; do
    i=$((i + 1))
    [ $i -gt 300 ] && { cat "$src/error.log"; echo "mariadbd did not start"; exit 1; }
    sleep 0.1
done
my() { mariadb --no-defaults --socket="$sock" -uroot --batch "$@"; }
my -e 'CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' || exit 1
my shop <"$fixtures/mariadb/schema.sql" >/dev/null || exit 1
my shop <"$fixtures/mariadb/data.sql" >/dev/null || exit 1
my shop <<'SQL' || exit 1
CREATE TABLE big (id INT NOT NULL PRIMARY KEY, customer_id INT NOT NULL, pad VARCHAR(200) NOT NULL,
    CONSTRAINT big_customer_fk FOREIGN KEY (customer_id) REFERENCES customers (id));
INSERT INTO big SELECT seq, (SELECT MIN(id) FROM customers), REPEAT(CHAR(65 + seq % 26), 100 + seq % 90)
    FROM seq_1_to_30000;
CREATE TABLE big_log (id INT NOT NULL, at_len INT NOT NULL);
DELIMITER ;;
CREATE TRIGGER big_ai AFTER INSERT ON big FOR EACH ROW
BEGIN
  -- Table structure for table `not_a_section` (a comment inside a body)
  INSERT INTO big_log VALUES (NEW.id, LENGTH(NEW.pad));
END;;
CREATE PROCEDURE add_big(IN n INT) BEGIN INSERT INTO big VALUES (n, 1, 'x'); END;;
CREATE FUNCTION big_count() RETURNS INT READS SQL DATA RETURN (SELECT COUNT(*) FROM big);;
DELIMITER ;
INSERT INTO big VALUES (30001, (SELECT MIN(id) FROM customers), 'after the trigger');
SQL
"$RD_BIN" --quiet backup --checksums --engine mariadb --dsn "mariadb://root@localhost/shop?socket=$sock" \
    -o "$tmp/backups/shop-20261101T000000Z.sql" || { fail "backup"; finish; }
stop_source
dump="$tmp/backups/shop-20261101T000000Z.sql"
[ "$(wc -c <"$dump")" -gt 2000000 ] || fail "the dump holds a table larger than the 1 MiB buffer"
grep -q '^-- Table structure for table `big`' "$dump" || fail "the dump has the big table"
grep -q 'TRIGGER' "$dump" || fail "the dump has the trigger"

# the bad dump: one statement of the orders section broken
sed 's/^INSERT INTO `orders` VALUES$/INSERT INTO `orders` VALUES (/' "$dump" \
    >"$tmp/bad/shop-20261101T000000Z.sql"
cmp -s "$dump" "$tmp/bad/shop-20261101T000000Z.sql" && fail "the bad dump differs"

# a layout the split does not know (a plain statement before the first
# section): the whole dump goes to one client
mkdir -p "$tmp/odd"
sed '1a SET @odd = 1;' "$dump" >"$tmp/odd/shop-20261101T000000Z.sql"

target() { # NAME DIR JOBS
    cat <<EOF
    { "name": "$1", "engine": "mariadb",
      "catalog": { "type": "dir", "path": "$2", "pattern": "shop-*.sql", "time_from": "name" },
      "restore": { "jobs": $3, "split_buffer_mb": 1 },
      "reference": { "manifest": "$dump.manifest.json" },
      "checks": [ { "type": "checksum" }, { "type": "schema" },
                  { "type": "sql", "name": "trigger-and-function",
                    "query": "SELECT big_count() * 10 + (SELECT COUNT(*) FROM big_log)",
                    "expect": "= 300011" } ] }
EOF
}
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "split-drill", "parallel": 1,
  "output": { "dir": "$tmp/out", "json": "drill.json" },
  "targets": [
$(target single "$tmp/backups" 1),
$(target split "$tmp/backups" 3),
$(target bad-single "$tmp/bad" 1),
$(target bad-split "$tmp/bad" 3),
$(target odd "$tmp/odd" 3)
  ] }
EOF
run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "drill with a broken dump"
for t in single split odd; do
    [ "$(jqr ".targets[] | select(.name == \"$t\") | .status")" = passed ] ||
        jqr ".targets[] | select(.name == \"$t\") | .checks[] | select(.status != \"passed\") | .message, .output"
    expect_eq "$(jqr ".targets[] | select(.name == \"$t\") | .status")" passed "$t status"
    expect_eq "$(jqr "[.targets[] | select(.name == \"$t\") | .checks[] | select(.type == \"checksum\" and .status == \"passed\") | .object] | sort | join(\",\")")" \
        "OrderNotes,audit_log,big,big_log,customers,order_items,orders,products" \
        "$t: every table's checksum matches the manifest"
    expect_eq "$(jqr "[.targets[] | select(.name == \"$t\") | .checks[] | select(.type != \"restore\" and .status != \"passed\")] | length")" \
        0 "$t: schema (views, routines, triggers) and the sql check pass"
done
expect_eq "$(jqr '.targets[] | select(.name == "single") | .checks[] | select(.type == "restore") | .properties.connections // "none"')" \
    none "single: one client, no split"
expect_eq "$(jqr '.targets[] | select(.name == "split") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "9 table sections over 3 connections (at most 3 at once), 2 ordered parts (sequences, views, routines) alone, LOCK TABLES left out" \
    "split: the sections went over 3 connections"
expect_eq "$(jqr '.targets[] | select(.name == "odd") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "one connection (the dump's layout is not mariadb-dump's of one database)" \
    "odd: an unknown layout goes to one client"
for t in bad-single bad-split; do
    expect_eq "$(jqr ".targets[] | select(.name == \"$t\") | .status")" failed "$t status"
done
m1=$(jqr '.targets[] | select(.name == "bad-single") | .checks[] | select(.type == "restore") | .message')
m2=$(jqr '.targets[] | select(.name == "bad-split") | .checks[] | select(.type == "restore") | .message')
case "$m1" in "mariadb exited with status 1: ERROR 1064 (42000) at line "*) ;; *) fail "bad-single message: $m1" ;; esac
case "$m2" in "mariadb exited with status 1: ERROR 1064 (42000) at line "*) ;; *) fail "bad-split message: $m2" ;; esac
no_leftovers "split drill"
finish
