#!/bin/sh
# t_examples.sh: the examples users copy (fixtures/examples/), each checked
# by a real parser or run:
#   ci/github-actions.yml     GitHub's workflow parser (@actions/workflow-parser):
#                             valid, on a schedule, runs the drill, publishes out/junit.xml
#   ci/gitlab-ci.yml          YAML parser: artifacts:reports:junit is the report the job writes
#   kubernetes/*.yaml         every document validated against the Kubernetes API schema
#                             (kubernetes-models); the Indexed Job's command run for each
#                             JOB_COMPLETION_INDEX and the merge Job's command after them:
#                             one report holding every target exactly once
#   systemd/*                 systemd-analyze verify
#   node_exporter/drill.jsonc a run writes the metrics into the textfile directory
#                             (promtool check metrics), nothing else left there
#   *.jsonc / *.json          restoredrill validate --offline
# A broken copy of each parsed file is rejected (the parser really ran).
# The RDS example runs in t_examples_rds.sh (a stand-in aws and a real server).
[ -n "${RD_BIN:-}" ] && [ -x "$RD_BIN" ] || { echo "RD_BIN is not set to the built binary"; exit 77; }
here=$(cd "$(dirname "$0")/.." && pwd)
ex=$(cd "$here/../fixtures/examples" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
command -v node >/dev/null 2>&1 || { echo "FAIL: node is not installed"; exit 1; }
command -v jq >/dev/null 2>&1 || { echo "FAIL: jq is not installed"; exit 1; }
if [ ! -d "$here/npm/node_modules/@actions/workflow-parser" ] || [ ! -d "$here/npm/node_modules/kubernetes-models" ]; then
    npm ci --prefix "$here/npm" --no-audit --no-fund --silent >/dev/null 2>&1 ||
        { echo "FAIL: npm ci --prefix tests/npm failed"; exit 1; }
fi
check() { (cd "$here/npm" && node --import ./json-hooks.mjs check-examples.mjs "$@"); }

# --- GitHub Actions ---
gh="$ex/ci/github-actions.yml"
check workflow "$gh" >"$tmp/o" 2>&1 || fail "github workflow: $(cat "$tmp/o")"
check yaml "$gh" >"$tmp/gh.json" || fail "github workflow: yaml"
[ "$(jq -r '.on.schedule[0].cron' "$tmp/gh.json")" != null ] || fail "github workflow: no schedule"
jq -r '.jobs[].steps[].run // empty' "$tmp/gh.json" | grep -q '^restoredrill run .* --out out' ||
    fail "github workflow: no 'restoredrill run ... --out out' step"
[ "$(jq -r '[.jobs[].steps[] | select(.uses // "" | startswith("mikepenz/action-junit-report")) | .with.report_paths] | join(",")' "$tmp/gh.json")" = "out/junit.xml" ] ||
    fail "github workflow: the JUnit report published is not out/junit.xml"
[ "$(jq -r '[.jobs[].steps[] | select(.uses // "" | startswith("mikepenz/")) | .if] | join(",")' "$tmp/gh.json")" = '${{ always() }}' ] ||
    fail "github workflow: the JUnit report is not published when the drill fails"
sed 's/runs-on:/runs_on:/' "$gh" >"$tmp/bad.yml"
check workflow "$tmp/bad.yml" >/dev/null 2>&1 && fail "github workflow: a broken copy was accepted"

# --- GitLab CI ---
gl="$ex/ci/gitlab-ci.yml"
check yaml "$gl" >"$tmp/gl.json" 2>"$tmp/o" || fail "gitlab: $(cat "$tmp/o")"
[ "$(jq -r '."restore-drill".artifacts.reports.junit' "$tmp/gl.json")" = out/junit.xml ] || fail "gitlab: artifacts:reports:junit"
[ "$(jq -r '."restore-drill".artifacts.when' "$tmp/gl.json")" = always ] || fail "gitlab: artifacts are not kept when the drill fails"
jq -r '."restore-drill".script[]' "$tmp/gl.json" | grep -q '^restoredrill run .* --out out' || fail "gitlab: no 'restoredrill run ... --out out'"
jq -r '."restore-drill".rules[].if' "$tmp/gl.json" | grep -qF '$CI_PIPELINE_SOURCE == "schedule"' || fail "gitlab: not on a schedule"
printf 'a: [1\n' >"$tmp/bad-gl.yml"
check yaml "$tmp/bad-gl.yml" >/dev/null 2>&1 && fail "gitlab: a broken YAML was accepted"

# --- Kubernetes ---
for f in "$ex"/kubernetes/*.yaml; do
    check k8s "$f" >"$tmp/o" 2>&1 || fail "$(basename "$f"): $(cat "$tmp/o")"
done
sed 's/completions: 4/completions: four/' "$ex/kubernetes/indexed-job.yaml" >"$tmp/bad-k8s.yaml"
check k8s "$tmp/bad-k8s.yaml" >/dev/null 2>&1 && fail "kubernetes: a broken Job was accepted"
# run the Indexed Job's command for each index, then the merge Job's command
check yaml "$ex/kubernetes/indexed-job.yaml" >"$tmp/ij.json"
check yaml "$ex/kubernetes/merge-job.yaml" >"$tmp/mj.json"
n=$(jq -r '.[] | select(.kind == "Job") | .spec.completions' "$tmp/ij.json")
[ "$n" = 4 ] || fail "indexed job: completions $n"
mkdir -p "$tmp/k8s/etc" "$tmp/k8s/reports" "$tmp/k8s/bin" "$tmp/k8s/empty"
ln -s "$RD_BIN" "$tmp/k8s/bin/restoredrill"
{
    echo '{ "version": 1, "name": "k8s", "targets": ['
    for i in 1 2 3 4 5 6; do
        [ $i -gt 1 ] && echo ','
        echo "{ \"name\": \"t$i\", \"engine\": \"postgres\", \"catalog\": { \"type\": \"dir\", \"path\": \"$tmp/k8s/empty\" } }"
    done
    echo '] }'
} >"$tmp/k8s/etc/drill.json"
shard_cmd=$(jq -r '.[] | select(.kind == "Job") | .spec.template.spec.containers[0].command[2]' "$tmp/ij.json" |
    sed "s|/etc/restoredrill|$tmp/k8s/etc|g; s|/reports|$tmp/k8s/reports|g")
i=0
while [ $i -lt "$n" ]; do
    PATH="$tmp/k8s/bin:$PATH" JOB_COMPLETION_INDEX=$i sh -c "$shard_cmd" >/dev/null 2>&1
    [ -s "$tmp/k8s/reports/shard-$i/drill.json" ] || fail "indexed job: pod $i wrote no report"
    i=$((i + 1))
done
merge_cmd=$(jq -r '.spec.template.spec.containers[0].command[2]' "$tmp/mj.json" | sed "s|/reports|$tmp/k8s/reports|g")
PATH="$tmp/k8s/bin:$PATH" sh -c "$merge_cmd" >"$tmp/o" 2>&1
[ -s "$tmp/k8s/reports/drill.json" ] || fail "merge job: no merged report: $(cat "$tmp/o")"
expect_targets='["t1","t2","t3","t4","t5","t6"]'
[ "$(jq -c '[.targets[].name] | sort' "$tmp/k8s/reports/drill.json")" = "$expect_targets" ] ||
    fail "merged report targets: $(jq -c '[.targets[].name]' "$tmp/k8s/reports/drill.json")"
for s in 0 1 2 3; do
    jq -r '.targets[].name' "$tmp/k8s/reports/shard-$s/drill.json"
done | sort | uniq -d | grep -q . && fail "a target ran in two shards"
for f in junit.xml evidence.html restoredrill.prom history.jsonl; do
    [ -s "$tmp/k8s/reports/$f" ] || fail "merge job: $f not written"
done
xmllint --noout --schema "$here/../reports/schema/junit.xsd" "$tmp/k8s/reports/junit.xml" 2>"$tmp/o" ||
    fail "merged junit: $(cat "$tmp/o")"

# --- systemd ---
if command -v systemd-analyze >/dev/null 2>&1; then
    mkdir -p "$tmp/sd"
    for f in "$ex"/systemd/*; do
        sed "s|/usr/local/bin/restoredrill|$RD_BIN|g; s|^User=.*|User=root|; s|^Group=.*|Group=root|" "$f" \
            >"$tmp/sd/$(basename "$f")"
    done
    # Documentation=man:restoredrill(1) is checked too: the page `make install` installs
    mkdir -p "$tmp/man/man1" && cp "$here/../dist/restoredrill.1" "$tmp/man/man1/"
    (cd "$tmp/sd" && MANPATH="$tmp/man" systemd-analyze verify ./restoredrill.service ./restoredrill.timer) >"$tmp/o" 2>&1 ||
        fail "systemd-analyze verify: $(cat "$tmp/o")"
    [ -s "$tmp/o" ] && fail "systemd-analyze verify printed: $(cat "$tmp/o")"
    printf '\n[Service]\nExecStartt=/bin/true\n' >>"$tmp/sd/restoredrill.service"
    (cd "$tmp/sd" && MANPATH="$tmp/man" systemd-analyze verify ./restoredrill.service) 2>&1 | grep -q "Unknown key 'ExecStartt'" ||
        fail "systemd-analyze verify does not see a broken unit"
else
    fail "systemd-analyze is not installed"
fi

# --- node_exporter textfile ---
mkdir -p "$tmp/ne/textfile" "$tmp/ne/backups"
sed "s|/var/lib/node_exporter/textfile_collector|$tmp/ne/textfile|; s|/var/lib/restoredrill|$tmp/ne/out|; s|/backups/orders|$tmp/ne/backups|" \
    "$ex/node_exporter/drill.jsonc" >"$tmp/ne/drill.jsonc"
"$RD_BIN" run "$tmp/ne/drill.jsonc" --no-progress >/dev/null 2>&1
[ "$(ls "$tmp/ne/textfile")" = restoredrill.prom ] || fail "textfile directory holds: $(ls -a "$tmp/ne/textfile")"
if command -v promtool >/dev/null 2>&1; then
    promtool check metrics <"$tmp/ne/textfile/restoredrill.prom" >"$tmp/o" 2>&1 || fail "promtool: $(cat "$tmp/o")"
else
    fail "promtool is not installed"
fi
grep -q '^restoredrill_success{target="orders"} 0$' "$tmp/ne/textfile/restoredrill.prom" ||
    fail "textfile: no restoredrill_success for orders"

# --- every configuration example parses ---
for f in $(find "$ex" -name '*.json' -o -name '*.jsonc'); do
    env -u DRILL_WEBHOOK_URL "$RD_BIN" validate --offline "$f" >"$tmp/o" 2>&1 || fail "validate $f: $(cat "$tmp/o")"
done

[ "$fails" -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "examples: all cases passed"
