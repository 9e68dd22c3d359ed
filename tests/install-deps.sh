#!/bin/sh
# Install what restoredrill needs to build, test or demo on Debian 12.
#   tests/install-deps.sh [build|test|bench|fuzz]   (default: test, which includes build)
# As root it runs apt-get; otherwise it prints the exact command and fails.
set -eu
what=${1:-test}

build_pkgs="gcc make pkg-config libpq-dev libmariadb-dev libcurl4-openssl-dev libcjson-dev
 libssl-dev zlib1g-dev libzstd-dev libxml2-dev check libsubunit-dev
 postgresql-15 postgresql-client-15 postgresql-contrib mariadb-server mariadb-client
 mariadb-backup pgbackrest gzip zstd"
test_pkgs="libxml2-utils prometheus chromium poppler-utils clang-format gnupg jq python3 curl systemd groff-base man-db"
bench_pkgs="percona-toolkit time jq sysbench"
fuzz_pkgs="clang libclang-rt-14-dev"

case "$what" in
build) pkgs=$build_pkgs ;;
test) pkgs="$build_pkgs $test_pkgs" ;;
bench) pkgs="$build_pkgs $bench_pkgs" ;;
fuzz) pkgs="$build_pkgs $fuzz_pkgs" ;;
*) echo "usage: $0 [build|test|bench|fuzz]" >&2; exit 2 ;;
esac

missing=""
for p in $pkgs; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing="$missing $p"
    fi
done
# Node may come from another source than Debian (e.g. NodeSource, with npm inside).
if [ "$what" = test ] && ! command -v npm >/dev/null 2>&1; then
    missing="$missing nodejs npm"
fi
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "restoredrill: missing packages:$missing" >&2
    echo "install them with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y$missing" >&2
    exit 1
fi
echo "restoredrill: installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >/dev/null
# The packaged servers must not keep running: the tests start their own.
for svc in postgresql mariadb; do
    if command -v systemctl >/dev/null 2>&1; then systemctl stop "$svc" >/dev/null 2>&1 || true; fi
    service "$svc" stop >/dev/null 2>&1 || true
done
echo "restoredrill: packages installed" >&2
