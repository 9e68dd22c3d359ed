# tests/pitrlib.sh: what the PITR shell tests share (t_pitr, t_pitr_timeline,
# t_pitr_pgbackrest, t_s3_pitr). Sourced after fixtures/testlib.sh.
#
#   rep NAME JQ       JQ over $tmp/out-NAME/drill.json (raw output)
#   mark DIR NAME     the epoch milliseconds of mark NAME in DIR/marks
#   iso MS            epoch milliseconds as 2026-01-30T15:00:00.123Z
#   ms_of TIME        a date(1) time as epoch milliseconds

rep() { jq -r "$2" "$tmp/out-$1/drill.json"; }
mark() { awk -v n="$2" '$1 == n {print $2}' "$1/marks"; }
iso() { date -u -d "@$(($1 / 1000)).$(printf %03d $(($1 % 1000)))" +%Y-%m-%dT%H:%M:%S.%3NZ; }
ms_of() { date -u -d "$1" +%s%3N; }
