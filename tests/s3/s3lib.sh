# s3lib.sh: sourced by the shell tests that need a local S3 server (after
# fixtures/testlib.sh, with $here = tests/ and $s3dir set).
#   s3_start      starts moto_server (tests/s3/s3server.py) with authentication
#                 on, stops it at exit (then cleanup), exports its endpoint and
#                 keys ($s3dir/env); exit 77 when moto_server is not installed
#   s3_isolate    keeps the credentials chain to those keys: no profile, no
#                 container endpoint, no IMDS, a private HOME
#   s3cmd CMD ARG...
#                 tests/s3/s3server.py CMD on the server's $s3dir (mb, put, ...);
#                 its failure is a test failure
s3_start() {
    python3 "$here/s3/s3server.py" start "$s3dir" >"$tmp/s3start.log" 2>&1
    src=$?
    if [ $src -eq 77 ]; then tail -n 1 "$tmp/s3start.log"; exit 77; fi
    [ $src -eq 0 ] || { cat "$tmp/s3start.log"; echo "moto_server did not start"; exit 1; }
    trap 'python3 "$here/s3/s3server.py" stop "$s3dir"; cleanup' EXIT
    set -a
    . "$s3dir/env"
    set +a
}

s3cmd() { c=$1; shift; python3 "$here/s3/s3server.py" "$c" "$s3dir" "$@" || fail "s3server.py $c $*"; }

s3_isolate() {
    export AWS_EC2_METADATA_DISABLED=true HOME="$tmp"
    unset AWS_PROFILE AWS_SESSION_TOKEN AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
}
