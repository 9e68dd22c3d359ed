#!/bin/sh
# t_examples_rds.sh: the RDS example (fixtures/examples/rds/) run for real
# with a stand-in `aws` in PATH: the exec catalog lists two automated
# snapshots, the exec scratch's create script "restores" the latest (the
# stand-in copies a template database on a private PostgreSQL server and
# reports its socket as the endpoint), the drill checks it and passes, and
# the destroy script deletes the instance (the database is gone). Every AWS
# call is checked, in order. Then a restore whose wait fails: the create
# script deletes the instance itself, the drill fails at provision, nothing
# is left.
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../fixtures/testlib.sh"
need_bin
. "$here/../../bench/servers.sh"
[ -x "$PGBIN/initdb" ] || { echo "skipping: no PostgreSQL server binaries"; exit 77; }
ex=$(cd "$here/../../fixtures/examples/rds" && pwd)
srv=$tmp/srv
mkdir -p "$srv" "$tmp/bin" && chmod 0755 "$tmp" "$srv"
stop_servers() { bench_stop "$srv"; cleanup; }
trap stop_servers EXIT
bench_start_pg "$srv" || { cat "$srv"/pg-*.log; fail "postgres did not start"; finish; }
pg() { psql -X -q -v ON_ERROR_STOP=1 -h "$srv/pg" -U postgres "$@"; }
# the "snapshot": a template database with the data a restore would bring
pg -c "CREATE DATABASE snap" && pg -d snap -c "CREATE TABLE orders (id int PRIMARY KEY, created_at timestamptz);
    INSERT INTO orders SELECT g, now() - interval '2 hours' FROM generate_series(1, 50) g"

snap_old=$(date -u -d '-25 hours' +%Y-%m-%dT%H:%M:%S.000000+00:00)
snap_new=$(date -u -d '-1 hour' +%Y-%m-%dT%H:%M:%S.000000+00:00)
cat >"$tmp/bin/aws" <<EOF
#!/bin/sh
# stand-in for the AWS CLI: logs its arguments, answers the rds calls the
# example scripts make; the instances are databases on a private server
echo "\$*" >>"$tmp/aws.log"
arg() { # the value after option \$1 in the arguments
    k=\$1; shift
    while [ \$# -gt 1 ]; do [ "\$1" = "\$k" ] && { echo "\$2"; return; }; shift; done
}
[ "\$1" = rds ] || { echo "stand-in aws: not rds" >&2; exit 2; }
sub=\$2; shift 2
id=\$(arg --db-instance-identifier "\$@")
psql() { command psql -X -q -h "$srv/pg" -U postgres "\$@"; }
case \$sub in
describe-db-snapshots)
    printf '[{"id": "rds:orders-prod-old", "created_at": "%s", "location": "arn:aws:rds:eu-west-1:1:snapshot:rds:orders-prod-old", "format": "snapshot"},\n' "$snap_old"
    printf ' {"id": "rds:orders-prod-new", "created_at": "%s", "location": "arn:aws:rds:eu-west-1:1:snapshot:rds:orders-prod-new", "format": "snapshot"}]\n' "$snap_new" ;;
restore-db-instance-from-db-snapshot)
    psql -d postgres -c "CREATE DATABASE \\"\$id\\" TEMPLATE snap" >/dev/null ;;
wait)
    case \$1 in
    db-instance-available) [ ! -e "$tmp/fail-wait" ] || { echo "Waiter DBInstanceAvailable failed" >&2; exit 255; } ;;
    db-instance-deleted) ;;
    esac ;;
describe-db-instances)
    printf '%s\t5432\tpostgres\t%s\n' "$srv/pg" "\$id" ;;
delete-db-instance)
    psql -d postgres -c "DROP DATABASE IF EXISTS \\"\$id\\" WITH (FORCE)" >/dev/null ;;
*) echo "stand-in aws: unexpected rds \$sub" >&2; exit 2 ;;
esac
EOF
chmod +x "$tmp/bin/aws"
sed "s|/etc/restoredrill/rds|$ex|g" "$ex/drill.jsonc" >"$tmp/drill.jsonc"
export RDS_MASTER_PASSWORD='pw "with" \quotes'
PATH="$tmp/bin:$PATH" run "$RD_BIN" run "$tmp/drill.jsonc" --out "$tmp/out" --no-progress
expect_rc 0 "rds drill"
expect_eq "$(jqr '.targets[0].status')" passed "status"
expect_eq "$(jqr '.targets[0].recovery_point.id')" "rds:orders-prod-new" "the latest snapshot"
expect_eq "$(jqr '.targets[0].recovery_point.format')" snapshot "format"
expect_eq "$(jqr '.targets[0].checks[] | select(.type == "restore") | .message')" \
    "restored rds:orders-prod-new (snapshot) by the scratch create command" "restore result"
expect_eq "$(jqr '[.targets[0].checks[] | select(.type == "sql") | .status] | join(",")')" passed "sql check"
id=$("$ex/rds-instance-id.sh" orders "$(jqr '.targets[0].recovery_point.created_at')")
case "$id" in rd-orders-20[0-9][0-9]-*) ;; *) fail "instance id: $id" ;; esac
want="rds describe-db-snapshots --db-instance-identifier orders-prod --snapshot-type automated --query DBSnapshots[?Status=='available'].{id: DBSnapshotIdentifier, created_at: SnapshotCreateTime, location: DBSnapshotArn, format: 'snapshot'} --output json
rds restore-db-instance-from-db-snapshot --db-instance-identifier $id --db-snapshot-identifier rds:orders-prod-new --db-instance-class db.t3.medium --no-publicly-accessible --no-multi-az --tags Key=restoredrill,Value=scratch --output json
rds wait db-instance-available --db-instance-identifier $id
rds describe-db-instances --db-instance-identifier $id --query DBInstances[0].[Endpoint.Address, Endpoint.Port, MasterUsername, DBName] --output text
rds delete-db-instance --db-instance-identifier $id --skip-final-snapshot --delete-automated-backups --output json
rds wait db-instance-deleted --db-instance-identifier $id"
[ "$(cat "$tmp/aws.log")" = "$want" ] || fail "aws calls: [$(cat "$tmp/aws.log")], want [$want]"
[ -z "$(pg -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rd-%'")" ] ||
    fail "instance left behind: $(pg -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rd-%'")"
grep -qF 'with" \quotes' "$tmp/out/drill.json" "$tmp/err.txt" && fail "the master password was written out"
[ -z "$(ls -d "$RESTOREDRILL_RUNDIR"/exec-* 2>/dev/null)" ] || fail "the exec record outlived the teardown"

# the drill is killed (kill -9) after the create: `gc` runs the destroy
# command it recorded, once the drill is gone
sed 's|"checks": \[|"checks": [ { "type": "sql", "name": "slow", "query": "SELECT 1 FROM (SELECT pg_sleep(30)) s", "expect": "= 1" },|' \
    "$tmp/drill.jsonc" >"$tmp/slow.jsonc"
: >"$tmp/aws.log"
PATH="$tmp/bin:$PATH" "$RD_BIN" run "$tmp/slow.jsonc" --out "$tmp/out3" --no-progress >"$tmp/out.txt" 2>"$tmp/err.txt" &
drill=$!
i=0
while [ $i -lt 300 ] && ! grep -q "orders: check slow" "$tmp/err.txt"; do sleep 0.1; i=$((i + 1)); done
kill -9 $drill
wait $drill 2>/dev/null
[ -n "$(pg -d postgres -Atc "SELECT datname FROM pg_database WHERE datname = '$id'")" ] ||
    fail "the killed drill's instance is not there to collect"
[ "$(ls -d "$RESTOREDRILL_RUNDIR"/exec-* 2>/dev/null | wc -l)" = 1 ] || fail "no record of the exec instance"
PATH="$tmp/bin:$PATH" run "$RD_BIN" gc "$tmp/slow.jsonc" --dry-run
expect_rc 0 "gc --dry-run"
expect_eq "$(cat "$tmp/out.txt")" "would remove exec scratch instance of target orders (owner pid $drill is gone): would run $ex/rds-destroy.sh" "gc --dry-run output"
grep -q delete-db-instance "$tmp/aws.log" && fail "gc --dry-run deleted the instance"
PATH="$tmp/bin:$PATH" run "$RD_BIN" gc "$tmp/slow.jsonc"
expect_rc 0 "gc"
expect_eq "$(cat "$tmp/out.txt")" "removed exec scratch instance of target orders (owner pid $drill is gone): ran $ex/rds-destroy.sh" "gc output"
grep -q "^rds delete-db-instance --db-instance-identifier $id --skip-final-snapshot" "$tmp/aws.log" ||
    fail "gc did not run the destroy command: $(cat "$tmp/aws.log")"
[ -z "$(pg -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rd-%'")" ] ||
    fail "gc left the instance behind"
[ -z "$(ls -d "$RESTOREDRILL_RUNDIR"/exec-* 2>/dev/null)" ] || fail "gc left the record behind"
PATH="$tmp/bin:$PATH" run "$RD_BIN" gc "$tmp/slow.jsonc"
expect_has "$tmp/err.txt" "restoredrill: gc: nothing to remove" "gc again"

# the instance does not become available: the create script deletes it
: >"$tmp/aws.log"
touch "$tmp/fail-wait"
PATH="$tmp/bin:$PATH" run "$RD_BIN" run "$tmp/drill.jsonc" --out "$tmp/out2" --no-progress
expect_rc 1 "rds drill, wait fails"
report="$tmp/out2/drill.json"
expect_eq "$(jqr '.targets[0].status')" error "status when the wait fails"
expect_eq "$(jqr '.targets[0].error')" \
    "provision: scratch create command exited with 255: Waiter DBInstanceAvailable failed" \
    "error when the wait fails"
grep -q "^rds delete-db-instance --db-instance-identifier $id --skip-final-snapshot" "$tmp/aws.log" ||
    fail "the create script did not delete the instance: $(cat "$tmp/aws.log")"
[ -z "$(pg -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'rd-%'")" ] ||
    fail "instance left behind after the failed wait"
finish
