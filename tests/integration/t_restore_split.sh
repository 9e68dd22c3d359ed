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
# restore.defer_indexes (plain secondary indexes and foreign keys added
# after the rows): the same checksums and schema as the plain restore, and
# every table's SHOW CREATE TABLE equal to that of a plain `mariadb < dump`
# (a table with several secondary, unique, prefix, FULLTEXT, composite and
# foreign-key indexes, quoted names and a comment; a column comment with a
# newline and `KEY` in it (the dump writes it as \n); tables with a
# generated column, partitions, a SPATIAL key: left as they are); a
# duplicate of a unique key fails the restore as in a plain restore
# (ERROR 1180 ... during COMMIT), with one client and split.
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
CREATE TABLE z_parent (id INT NOT NULL PRIMARY KEY, code VARCHAR(20) NOT NULL,
  UNIQUE KEY code_u (code)) ENGINE=InnoDB;
CREATE TABLE a_child (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  parent_id INT NOT NULL,
  `we``ird col` VARCHAR(100) NOT NULL COMMENT 'a, comment; with KEY `x` (`y`)',
  title VARCHAR(200) NOT NULL,
  body TEXT,
  n INT,
  m INT,
  UNIQUE KEY title_u (title),
  KEY n_m (n, m),
  KEY title_pre (title(10)) COMMENT 'prefix, composite',
  KEY `we``ird key` (`we``ird col`, n),
  FULLTEXT KEY body_ft (body),
  CONSTRAINT a_child_parent_fk FOREIGN KEY (parent_id) REFERENCES z_parent (id) ON DELETE CASCADE,
  CONSTRAINT n_pos CHECK (n >= 0)
) ENGINE=InnoDB;
INSERT INTO z_parent SELECT seq, CONCAT('p-', seq) FROM seq_1_to_100;
INSERT INTO a_child (parent_id, `we``ird col`, title, body, n, m)
  SELECT 1 + seq % 100, CONCAT('w', seq % 37), CONCAT('title-', seq), REPEAT('lorem ipsum ', seq % 9),
         seq % 50, seq % 7 FROM seq_1_to_5000;
CREATE TABLE gen_col (id INT NOT NULL PRIMARY KEY, a INT, g INT AS (a * 2) VIRTUAL,
  KEY g_k (g), KEY a_k (a)) ENGINE=InnoDB;
CREATE TABLE parted (id INT NOT NULL, a INT, PRIMARY KEY (id), KEY a_k (a)) ENGINE=InnoDB
  PARTITION BY HASH (id) PARTITIONS 3;
CREATE TABLE spatial_t (id INT NOT NULL PRIMARY KEY, p POINT NOT NULL, a INT, KEY a_k (a),
  SPATIAL KEY p_sp (p)) ENGINE=InnoDB;
CREATE TABLE nl_comment (id INT NOT NULL PRIMARY KEY, a INT COMMENT 'line1
  KEY `x` (`a`)', KEY a_k (a)) ENGINE=InnoDB;
INSERT INTO gen_col (id, a) SELECT seq, seq % 13 FROM seq_1_to_300;
INSERT INTO parted SELECT seq, seq % 11 FROM seq_1_to_300;
INSERT INTO spatial_t SELECT seq, POINT(seq, seq % 17), seq % 5 FROM seq_1_to_300;
INSERT INTO nl_comment SELECT seq, seq % 3 FROM seq_1_to_300;
SQL
"$RD_BIN" --quiet backup --checksums --engine mariadb --dsn "mariadb://root@localhost/shop?socket=$sock" \
    -o "$tmp/backups/shop-20261101T000000Z.sql" || { fail "backup"; finish; }
dump="$tmp/backups/shop-20261101T000000Z.sql"
# every table's SHOW CREATE TABLE after a plain `mariadb < dump`
show_creates() { # DB CLIENT...: the tables' SHOW CREATE TABLE, one line each
    db=$1
    shift
    for t in $("$@" -N -e 'SHOW FULL TABLES WHERE Table_type = "BASE TABLE"' "$db" | cut -f1); do
        "$@" -N -e "SHOW CREATE TABLE \`$(echo "$t" | sed 's/`/``/g')\`" "$db" || echo "failed: $t"
    done
}
my -e 'CREATE DATABASE plain CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci' || exit 1
my plain <"$dump" || { fail "plain restore"; finish; }
show_creates plain my >"$tmp/plain-creates.txt"
my -e 'DROP DATABASE plain'
stop_source
grep -q "CONSTRAINT \`a_child_parent_fk\` FOREIGN KEY" "$tmp/plain-creates.txt" ||
    fail "the plain restore has the foreign key"
[ "$(grep -o "KEY" "$tmp/plain-creates.txt" | wc -l)" -gt 30 ] || fail "the plain restore has the keys"
[ "$(wc -c <"$dump")" -gt 2000000 ] || fail "the dump holds a table larger than the 1 MiB buffer"
grep -q '^-- Table structure for table `big`' "$dump" || fail "the dump has the big table"
grep -q 'TRIGGER' "$dump" || fail "the dump has the trigger"

# the bad dump: one statement of the orders section broken
sed 's/^INSERT INTO `orders` VALUES$/INSERT INTO `orders` VALUES (/' "$dump" \
    >"$tmp/bad/shop-20261101T000000Z.sql"
cmp -s "$dump" "$tmp/bad/shop-20261101T000000Z.sql" && fail "the bad dump differs"

# a duplicate of a unique key (a_child.title) in the data
mkdir -p "$tmp/dup"
sed "s/'title-2'/'title-1'/" "$dump" >"$tmp/dup/shop-20261101T000000Z.sql"
cmp -s "$dump" "$tmp/dup/shop-20261101T000000Z.sql" && fail "the dup dump differs"

# a layout the split does not know (a plain statement before the first
# section): the whole dump goes to one client
mkdir -p "$tmp/odd"
sed '1a SET @odd = 1;' "$dump" >"$tmp/odd/shop-20261101T000000Z.sql"

target() { # NAME DIR JOBS [DEFER]
    cat <<EOF
    { "name": "$1", "engine": "mariadb",
      "catalog": { "type": "dir", "path": "$2", "pattern": "shop-*.sql", "time_from": "name" },
      "restore": { "jobs": $3, "split_buffer_mb": 1, "defer_indexes": ${4:-false} },
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
$(target odd "$tmp/odd" 3),
$(target defer "$tmp/backups" 3 true),
$(target defer1 "$tmp/backups" 1 true),
$(target dup-single "$tmp/dup" 1),
$(target dup-defer "$tmp/dup" 3 true)
  ] }
EOF
run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "drill with a broken dump"
for t in single split odd defer defer1; do
    [ "$(jqr ".targets[] | select(.name == \"$t\") | .status")" = passed ] ||
        jqr ".targets[] | select(.name == \"$t\") | .checks[] | select(.status != \"passed\") | .message, .output"
    expect_eq "$(jqr ".targets[] | select(.name == \"$t\") | .status")" passed "$t status"
    expect_eq "$(jqr "[.targets[] | select(.name == \"$t\") | .checks[] | select(.type == \"checksum\" and .status == \"passed\") | .object] | sort | join(\",\")")" \
        "OrderNotes,a_child,audit_log,big,big_log,customers,gen_col,nl_comment,order_items,orders,parted,products,spatial_t,z_parent" \
        "$t: every table's checksum matches the manifest"
    expect_eq "$(jqr "[.targets[] | select(.name == \"$t\") | .checks[] | select(.type != \"restore\" and .status != \"passed\")] | length")" \
        0 "$t: schema (views, routines, triggers) and the sql check pass"
done
expect_eq "$(jqr '.targets[] | select(.name == "single") | .checks[] | select(.type == "restore") | .properties.connections // "none"')" \
    none "single: one client, no split"
expect_eq "$(jqr '.targets[] | select(.name == "split") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "15 table sections over 3 connections (at most 3 at once), 2 ordered parts (sequences, views, routines) alone, LOCK TABLES left out" \
    "split: the sections went over 3 connections"
expect_eq "$(jqr '.targets[] | select(.name == "defer") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "15 table sections over 3 connections (at most 3 at once), 2 ordered parts (sequences, views, routines) alone, LOCK TABLES left out; secondary indexes of 6 tables added after the rows (8 left as they are)" \
    "defer: the tables whose indexes were added after the rows"
expect_eq "$(jqr '.targets[] | select(.name == "defer1") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "15 table sections over 1 connection (at most 1 at once), 2 ordered parts (sequences, views, routines) alone, LOCK TABLES left out; secondary indexes of 6 tables added after the rows (8 left as they are)" \
    "defer1: with restore.jobs 1 the sections go through the split on one client"
expect_eq "$(jqr '.targets[] | select(.name == "odd") | .checks[] | select(.type == "restore") | .properties.connections')" \
    "one connection (the dump's layout is not mariadb-dump's of one database)" \
    "odd: an unknown layout goes to one client"
for t in bad-single bad-split dup-single dup-defer; do
    expect_eq "$(jqr ".targets[] | select(.name == \"$t\") | .status")" failed "$t status"
done
m1=$(jqr '.targets[] | select(.name == "bad-single") | .checks[] | select(.type == "restore") | .message')
m2=$(jqr '.targets[] | select(.name == "bad-split") | .checks[] | select(.type == "restore") | .message')
case "$m1" in "mariadb exited with status 1: ERROR 1064 (42000) at line "*) ;; *) fail "bad-single message: $m1" ;; esac
case "$m2" in "mariadb exited with status 1: ERROR 1064 (42000) at line "*) ;; *) fail "bad-split message: $m2" ;; esac
for t in dup-single dup-defer; do
    m=$(jqr ".targets[] | select(.name == \"$t\") | .checks[] | select(.type == \"restore\") | .message")
    # the server's own words in a plain restore too: with the dump's
    # UNIQUE_CHECKS=0 InnoDB loads an empty table in bulk and finds the
    # duplicate when the statement commits
    case "$m" in "mariadb exited with status 1: ERROR 1180 (HY000) at line "*': Got error 1 "Operation not permitted" during COMMIT') ;;
    *) fail "$t message: $m" ;; esac
done

# the deferred restore kept: every table's SHOW CREATE TABLE is the plain
# restore's (index order and names, foreign keys, the tables left as they are)
rm -rf "$tmp/out"
run "$RD_BIN" run "$tmp/drill.json" --no-progress --target defer --keep-scratch
expect_rc 0 "defer drill, kept"
how=$(jqr '.targets[] | select(.name == "defer") | .kept_scratch.connect')
ksock=$(echo "$how" | sed -n 's/^mariadb --socket=\([^ ]*\) -u \([^ ]*\) \([^;]*\);.*/\1/p')
kuser=$(echo "$how" | sed -n 's/^mariadb --socket=\([^ ]*\) -u \([^ ]*\) \([^;]*\);.*/\2/p')
kdb=$(echo "$how" | sed -n 's/^mariadb --socket=\([^ ]*\) -u \([^ ]*\) \([^;]*\);.*/\3/p')
kpw=$(echo "$how" | sed -n 's/.*the password is in \([^ ]*\) (mode 0600).*/\1/p')
if [ -S "$ksock" ] && [ -f "$kpw" ]; then
    kmy() { MYSQL_PWD=$(cat "$kpw") mariadb --no-defaults --socket="$ksock" -u "$kuser" --batch "$@"; }
    show_creates "$kdb" kmy >"$tmp/defer-creates.txt"
    diff "$tmp/plain-creates.txt" "$tmp/defer-creates.txt" >"$tmp/creates.diff" ||
        { fail "SHOW CREATE TABLE differs from the plain restore's"; head -n 40 "$tmp/creates.diff"; }
    [ "$(wc -l <"$tmp/defer-creates.txt")" -ge 14 ] || fail "SHOW CREATE TABLE of every table"
    kpid=$(cat "$(dirname "$kpw")/mariadbd.pid" 2>/dev/null)
    [ -n "$kpid" ] && kill "$kpid" 2>/dev/null
    i=0
    while [ -n "$kpid" ] && kill -0 "$kpid" 2>/dev/null && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
    rm -rf "$(dirname "$kpw")"
else
    fail "defer: no kept instance to connect to ($how)"
fi
no_leftovers "split drill"
finish
