#!/bin/sh
# bench/provision.sh BIN [RUNS]: time to provision and tear down an ephemeral
# PostgreSQL and MariaDB scratch instance, and the drill's restore phase and
# overhead, as the drill itself measures them (the phases of its JSON
# report), median of RUNS drills (default 5) on the fixture backups.
#   bench/provision.sh "$PWD/build/restoredrill" 5
# BENCH_TEMPLATE=0: every instance initialised afresh ("template": false),
# to compare with the template copies of the default in the same session.
set -eu
bin=${1:?usage: provision.sh RESTOREDRILL [RUNS]}
runs=${2:-5}
here=$(cd "$(dirname "$0")" && pwd)
command -v jq >/dev/null 2>&1 || { echo "provision.sh: needs jq" >&2; exit 2; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/rd-prov.XXXXXX")
chmod 0711 "$tmp"
trap 'rm -rf "$tmp"' EXIT
export RESTOREDRILL_RUNDIR="$tmp/run"
"$here/../fixtures/make-backups.sh" "$tmp/backups" "$bin" >/dev/null 2>&1
tmpl=true
[ "${BENCH_TEMPLATE:-1}" = 0 ] && tmpl=false
cat >"$tmp/drill.json" <<EOF
{ "version": 1, "name": "provision-bench",
  "output": { "dir": "$tmp/out", "json": "drill.json", "junit": null, "html": null,
              "prometheus": null, "history": null },
  "targets": [
    { "name": "pg", "engine": "postgres",
      "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump", "time_from": "name" },
      "scratch": { "template": $tmpl }, "checks": [] },
    { "name": "mariadb", "engine": "mariadb",
      "catalog": { "type": "dir", "path": "$tmp/backups/mariadb-sql", "pattern": "shop-*.sql", "time_from": "name" },
      "scratch": { "template": $tmpl }, "checks": [] } ] }
EOF
: >"$tmp/rows"
i=0
while [ $i -lt "$runs" ]; do
    "$bin" --quiet run "$tmp/drill.json" --no-progress >/dev/null 2>&1
    jq -r \
        '.targets[] | [.name, (.phases[] | select(.name=="provision") | .seconds),
          (.phases[] | select(.name=="restore") | .seconds),
          (.phases[] | select(.name=="teardown") | .seconds), ([.phases[].seconds] | add)] | @tsv' \
        "$tmp/out/drill.json" >>"$tmp/rows"
    i=$((i + 1))
done
median() { sort -n | awk '{a[NR]=$1} END {m=int((NR+1)/2); printf "%.3f", (NR%2 ? a[m] : (a[m]+a[m+1])/2)}'; }
printf "%-8s %10s %10s %10s %12s   (median of %d drills, seconds)\n" engine provision restore teardown "all phases" "$runs"
for e in pg mariadb; do
    p=$(awk -v e=$e '$1==e {print $2}' "$tmp/rows" | median)
    r=$(awk -v e=$e '$1==e {print $3}' "$tmp/rows" | median)
    t=$(awk -v e=$e '$1==e {print $4}' "$tmp/rows" | median)
    a=$(awk -v e=$e '$1==e {print $5}' "$tmp/rows" | median)
    printf "%-8s %10s %10s %10s %12s\n" "$e" "$p" "$r" "$t" "$a"
done
