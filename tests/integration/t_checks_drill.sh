#!/bin/sh
# t_checks_drill.sh: the integrity, sql, freshness, smoke and exec checks in a
# real drill (PostgreSQL custom dump restored into an ephemeral instance):
# every check reports through the drill, a failing sql check fails the drill
# (exit 1), the freshness query becomes the RPO basis, the smoke app gets
# {scratch.url} over TCP and is stopped afterwards, the exec plugin reaches
# the scratch database through PGHOST... and its perfdata lands in the
# report. Nothing is left behind.
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
command -v python3 >/dev/null 2>&1 || { echo "skipping: python3 not found"; exit 77; }
make_backups postgres
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

cat >"$tmp/app.py" <<'EOF'
import http.server, json, os, sys
port, pidfile = int(sys.argv[1]), sys.argv[2]
with open(pidfile, "w") as f:
    f.write(str(os.getpid()))
url = os.environ.get("DATABASE_URL", "")
print("app up, database", url, flush=True)
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"status": "ok", "tcp": "127.0.0.1" in url or "localhost" in url,
                           "has_url": url.startswith("postgresql://")}).encode()
        self.send_response(200 if self.path == "/health" else 503)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
EOF
cat >"$tmp/plugin.sh" <<'EOF'
#!/bin/sh
n=$(psql -X -A -t -c 'SELECT count(*) FROM customers' 2>&1) || { echo "UNKNOWN - psql: $n"; exit 3; }
echo "CUSTOMERS OK - $n rows on $RD_TARGET_NAME | customers=$n;;;0"
exit 0
EOF
chmod 0755 "$tmp/plugin.sh"

cat >"$tmp/drill.json" <<EOF
{
  "version": 1, "name": "checks-drill",
  "output": { "dir": "$tmp/out", "json": "drill.json", "junit": "junit.xml" },
  "targets": [ {
    "name": "shop", "engine": "postgres",
    "catalog": { "type": "dir", "path": "$tmp/backups/pg-custom", "pattern": "shop-*.dump",
                 "time_from": "name" },
    "sample": { "strategy": "latest" },
    "checks": [
      { "type": "integrity" },
      { "type": "sql", "name": "customers present", "query": "SELECT count(*) FROM customers",
        "expect": ">= 1" },
      { "type": "sql", "name": "impossible", "query": "SELECT count(*) FROM customers",
        "expect": "= -1" },
      { "type": "freshness", "query": "SELECT max(ordered_at) FROM orders" },
      { "type": "smoke",
        "app": { "command": ["python3", "$tmp/app.py", "$port", "$tmp/app.pid"],
                 "env": { "DATABASE_URL": "{scratch.url}" } },
        "ready_timeout": "30s",
        "probes": [ { "url": "http://127.0.0.1:$port/health",
                      "expect_json": ["status=ok", "has_url=true", "tcp=true"] } ] },
      { "type": "exec", "name": "customers plugin", "command": ["$tmp/plugin.sh"], "timeout": "60s" }
    ]
  } ]
}
EOF

run "$RD_BIN" run "$tmp/drill.json" --no-progress
expect_rc 1 "drill with a failing sql check"
[ -f "$report" ] || { cat "$tmp/err.txt"; fail "no JSON report"; finish; }

st() { jq -r --arg t "$1" --arg o "$2" \
    '[.targets[0].checks[] | select(.type == $t and .object == $o) | .status] | join(",")' "$report"; }
msg() { jq -r --arg t "$1" --arg o "$2" \
    '[.targets[0].checks[] | select(.type == $t and .object == $o) | .message] | join(",")' "$report"; }

# integrity: every table and foreign key of the fixture passes
n_int=$(jqr '[.targets[0].checks[] | select(.type == "integrity")] | length')
n_int_bad=$(jqr '[.targets[0].checks[] | select(.type == "integrity" and .status != "passed")] | length')
[ "$n_int" -ge 5 ] || fail "integrity: only $n_int results"
expect_eq "$n_int_bad" 0 "integrity results not passed"
expect_eq "$(st integrity public.orders)" passed "integrity public.orders"
expect_eq "$(st integrity public.orders.orders_customer_id_fkey)" passed "integrity fk"
expect_eq "$(msg integrity public.order_items)" "amcheck: heap and 2 btree indexes intact" \
    "integrity message"
# sql: one pass, one fail with expected/actual
expect_eq "$(st sql 'customers present')" passed "sql pass"
expect_eq "$(st sql impossible)" failed "sql fail"
expect_eq "$(jqr '.targets[0].checks[] | select(.object == "impossible") | .expected')" "= -1" \
    "sql expected"
# freshness: the query is the RPO basis
expect_eq "$(st freshness 'newest data')" passed "freshness"
expect_eq "$(jqr '.targets[0].rpo.basis')" query "rpo basis"
# smoke: the app got the scratch URL over TCP, answered, and is gone
expect_eq "$(st smoke "GET http://127.0.0.1:$port/health")" passed "smoke probe"
app_pid=$(cat "$tmp/app.pid" 2>/dev/null)
[ -n "$app_pid" ] || fail "smoke app never started"
[ -n "$app_pid" ] && kill -0 "$app_pid" 2>/dev/null && fail "smoke app $app_pid still runs"
# exec: the plugin reached the scratch database
expect_eq "$(st exec 'customers plugin')" passed "exec"
case $(msg exec 'customers plugin') in
"CUSTOMERS OK - "*" rows on shop") ;;
*) fail "exec message: $(msg exec 'customers plugin')" ;;
esac
grep -Eq '://[^:/" ]+:[^*@" ][^@" ]*@' "$report" && fail "a password reached the report"
no_leftovers "checks drill"
finish
