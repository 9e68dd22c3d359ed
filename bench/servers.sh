# bench/servers.sh: start and stop private PostgreSQL and MariaDB servers for
# the benchmark, on unix sockets in a temp directory, as the users postgres /
# mysql when run as root. Source it; it defines:
#   bench_start_pg DIR     initdb + postgres, socket dir DIR/pg; sets PGDSN
#                          (BENCH_PG_LOCALE=L: initdb -E UTF8 --locale=L, else the
#                          environment's locale)
#   bench_start_my DIR     mariadb-install-db + mariadbd, socket DIR/my/sock; sets MYDSN
#   bench_stop DIR         stop both (fast shutdown) and leave DIR to the caller
# The servers get settings for a throwaway load: no fsync, generous buffers;
# MariaDB a private --tmpdir (servers sharing /tmp lose each other's internal
# temporary tables).

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

as_user() { # USER CMD...: run as USER when root, else directly
    u=$1; shift
    if [ "$(id -u)" = 0 ]; then runuser -u "$u" -- "$@"; else "$@"; fi
}

bench_start_pg() {
    d=$1/pg
    mkdir -p "$d"
    [ "$(id -u)" = 0 ] && chown postgres "$d"
    # shellcheck disable=SC2046
    as_user postgres "$PGBIN/initdb" -D "$d/data" -U postgres -A trust --no-sync \
        $([ -n "${BENCH_PG_LOCALE:-}" ] && echo "-E UTF8 --locale=$BENCH_PG_LOCALE") >"$1/pg-initdb.log" 2>&1 || return 1
    as_user postgres "$PGBIN/pg_ctl" -D "$d/data" -l "$d/log" -w -o \
        "-c listen_addresses='' -c unix_socket_directories='$d' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=512MB -c max_wal_size=4GB -c work_mem=64MB -c maintenance_work_mem=256MB -c max_parallel_workers_per_gather=0" \
        start >"$1/pg-start.log" 2>&1 || return 1
    PGDSN="host=$d port=5432 user=postgres dbname=postgres"
    export PGDSN
}

bench_start_my() {
    d=$1/my
    mkdir -p "$d" "$d/tmp"
    [ "$(id -u)" = 0 ] && chown mysql "$d" "$d/tmp"
    as_user mysql mariadb-install-db --no-defaults --datadir="$d/data" --auth-root-authentication-method=normal \
        --skip-test-db >"$1/my-install.log" 2>&1 || return 1
    as_user mysql /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --socket="$d/sock" \
        --skip-networking --pid-file="$d/pid" --log-error="$d/err" --tmpdir="$d/tmp" \
        --innodb-buffer-pool-size=1G \
        --innodb-flush-log-at-trx-commit=0 --innodb-log-file-size=512M --skip-log-bin \
        --innodb-doublewrite=0 >/dev/null 2>&1 &
    i=0
    while [ $i -lt 60 ]; do
        mariadb --no-defaults -S "$d/sock" -u root -e 'SELECT 1' >/dev/null 2>&1 && break
        sleep 0.5; i=$((i + 1))
    done
    mariadb --no-defaults -S "$d/sock" -u root -e 'CREATE DATABASE IF NOT EXISTS bench' || return 1
    MYDSN="mariadb://root@localhost/bench?socket=$d/sock"
    export MYDSN
}

bench_stop() {
    d=$1
    if [ -f "$d/pg/data/postmaster.pid" ]; then
        as_user postgres "$PGBIN/pg_ctl" -D "$d/pg/data" -m fast -w stop >/dev/null 2>&1
    fi
    if [ -S "$d/my/sock" ]; then
        mariadb-admin --no-defaults -S "$d/my/sock" -u root shutdown >/dev/null 2>&1
    fi
    if [ -f "$d/my/pid" ]; then
        p=$(cat "$d/my/pid" 2>/dev/null)
        i=0
        while [ -n "$p" ] && kill -0 "$p" 2>/dev/null && [ $i -lt 60 ]; do sleep 0.5; i=$((i + 1)); done
    fi
}
