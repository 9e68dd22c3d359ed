#!/bin/sh
# t_s3_creds.sh: the credentials of a profile against a local moto_server
# with authentication on (S3 and STS): credential_process (run without a
# shell, its JSON read, run again when its keys near their Expiration; a
# command that exits non-zero, prints no JSON or the wrong Version fails
# with a message that never holds its output), role_arn with source_profile
# (STS AssumeRole signed with the source's keys, external_id,
# role_session_name, duration_seconds; a source whose secret is wrong is
# refused with STS's message), a source_profile given by credential_process,
# web identity from AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, and the
# profiles refused (sso_*, role_arn alone, credential_source, a loop).
. "$(dirname "$0")/../../fixtures/testlib.sh"
need_bin
here=$(cd "$(dirname "$0")/.." && pwd)
s3dir="$tmp/s3"
. "$here/s3/s3lib.sh"
s3_start
python3 "$here/s3/s3server.py" mb "$s3dir" creds || fail "mb"
printf 'x' >"$tmp/one.dump"
python3 "$here/s3/s3server.py" put "$s3dir" creds one.dump "$tmp/one.dump" || fail "put"
# a sidecar: listing reads it, so a list makes two requests (for the refresh case)
printf '{}' >"$tmp/one.json"
python3 "$here/s3/s3server.py" put "$s3dir" creds one.dump.manifest.json "$tmp/one.json" || fail "put"
KEY=$AWS_ACCESS_KEY_ID
SECRET=$AWS_SECRET_ACCESS_KEY
unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN AWS_PROFILE \
    AWS_CONTAINER_CREDENTIALS_FULL_URI AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_ROLE_ARN \
    AWS_WEB_IDENTITY_TOKEN_FILE AWS_SHARED_CREDENTIALS_FILE
export AWS_EC2_METADATA_DISABLED=true HOME="$tmp" AWS_CONFIG_FILE="$tmp/aws config"
export AWS_ENDPOINT_URL_STS=$RD_S3_ENDPOINT

cat >"$tmp/c.json" <<JSON
{ "version": 1, "output": {"dir": "$tmp/out"},
  "targets": [{"name": "t", "engine": "postgres",
     "catalog": {"type": "dir", "path": "s3://creds", "endpoint": "$RD_S3_ENDPOINT"}}] }
JSON
lists() { # lists PROFILE SOURCE: list succeeds with the one object, credentials from SOURCE
    AWS_PROFILE=$1 run "$RD_BIN" --verbose list "$tmp/c.json" --json
    expect_rc 0 "profile $1"
    expect_eq "$(jq -r '.targets[0].points | length' "$tmp/out.txt")" 1 "profile $1: listed"
    expect_has "$tmp/err.txt" "s3: credentials from $2" "profile $1: source"
    if grep -qF -- "$SECRET" "$tmp/out.txt" "$tmp/err.txt"; then fail "profile $1: secret printed"; fi
}
fails() { # fails PROFILE MESSAGE
    AWS_PROFILE=$1 run "$RD_BIN" list "$tmp/c.json"
    expect_rc 1 "profile $1"
    expect_has "$tmp/out.txt" "$2" "profile $1: message"
}

# a credential_process in a directory with a space: no shell reads its line
mkdir -p "$tmp/cred bin"
future=$(date -u -d '+1 hour' +%Y-%m-%dT%H:%M:%SZ)
soon=$(date -u -d '+60 seconds' +%Y-%m-%dT%H:%M:%SZ)
cat >"$tmp/cred bin/proc.sh" <<EOF
#!/bin/sh
echo run >>"$tmp/runs-\$1"
case \$1 in
good) printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "%s"}\n' "$KEY" "$SECRET" "$future" ;;
soon) printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s", "Expiration": "%s"}\n' "$KEY" "$SECRET" "$soon" ;;
fail) echo "the vault is sealed" >&2; exit 3 ;;
notjson) echo "AKIA-LEAKED-IF-PRINTED" ;;
v2) printf '{"Version": 2, "AccessKeyId": "%s", "SecretAccessKey": "%s"}\n' "$KEY" "$SECRET" ;;
esac
EOF
chmod +x "$tmp/cred bin/proc.sh"
cat >"$tmp/aws config" <<EOF
[profile proc]
credential_process = "$tmp/cred bin/proc.sh" good
[profile soon]
credential_process = '$tmp/cred bin/proc.sh' soon
[profile fail]
credential_process = "$tmp/cred bin/proc.sh" fail
[profile notjson]
credential_process = "$tmp/cred bin/proc.sh" notjson
[profile v2]
credential_process = "$tmp/cred bin/proc.sh" v2
[profile base]
aws_access_key_id = $KEY
aws_secret_access_key = $SECRET
[profile role]
role_arn = arn:aws:iam::123456789012:role/drill-role
source_profile = base
role_session_name = restoredrill-test
external_id = drill-ext
duration_seconds = 900
[profile viaproc]
role_arn = arn:aws:iam::123456789012:role/drill-role
source_profile = proc
[profile badbase]
aws_access_key_id = $KEY
aws_secret_access_key = wrong-secret-value
[profile badrole]
role_arn = arn:aws:iam::123456789012:role/drill-role
source_profile = badbase
[profile sso]
sso_start_url = https://example.awsapps.com/start
sso_account_id = 123456789012
sso_role_name = Drill
[profile alone]
role_arn = arn:aws:iam::123456789012:role/drill-role
[profile ec2]
role_arn = arn:aws:iam::123456789012:role/drill-role
credential_source = Ec2InstanceMetadata
[profile loop]
role_arn = arn:aws:iam::123456789012:role/drill-role
source_profile = loop2
[profile loop2]
role_arn = arn:aws:iam::123456789012:role/drill-role
source_profile = loop
[profile wif]
role_arn = arn:aws:iam::123456789012:role/drill-role
web_identity_token_file = $tmp/token
role_session_name = wif-session
[profile wifbad]
role_arn = arn:aws:iam::123456789012:role/drill-role
web_identity_token_file = $tmp/badtoken
EOF

# --- credential_process
lists proc "profile proc (credential_process)"
expect_eq "$(wc -l <"$tmp/runs-good")" 1 "proc: run once (its keys hold for an hour)"
lists soon "profile soon (credential_process)"
[ "$(wc -l <"$tmp/runs-soon")" -ge 2 ] || fail "soon: keys expiring within 5 minutes were not fetched again ($(wc -l <"$tmp/runs-soon") runs)"
fails fail "error: credential_process of profile fail: $tmp/cred bin/proc.sh exited with status 3: the vault is sealed"
fails notjson "error: credential_process of profile notjson: its output is not a JSON object"
if grep -q "AKIA-LEAKED-IF-PRINTED" "$tmp/out.txt" "$tmp/err.txt"; then fail "notjson: its output was printed"; fi
fails v2 'error: credential_process of profile v2: expected "Version": 1 in its output'

# --- role_arn + source_profile: STS AssumeRole
lists role "profile role (role_arn)"
lists viaproc "profile viaproc (role_arn)"
fails badrole "error: sts AssumeRole for profile badrole: 403 SignatureDoesNotMatch"
if grep -q "wrong-secret-value" "$tmp/out.txt" "$tmp/err.txt"; then fail "badrole: secret printed"; fi

# --- web identity: AssumeRoleWithWebIdentity is unsigned, which moto refuses
# with authentication on: a stand-in (tests/s3/s3aux.py sts) checks the
# token and hands out moto's assumed-role credentials, which S3 then takes
echo "the-oidc-token" >"$tmp/token"
echo "another-token" >"$tmp/badtoken"
python3 "$here/s3/s3aux.py" sts the-oidc-token "$tmp" &
stspid=$!
trap 'kill $stspid 2>/dev/null; python3 "$here/s3/s3server.py" stop "$s3dir"; cleanup' EXIT
for i in $(seq 1 100); do [ -s "$tmp/sts.port" ] && break; sleep 0.1; done
stsep="http://127.0.0.1:$(cat "$tmp/sts.port")"
AWS_ENDPOINT_URL_STS=$stsep lists wif "profile wif (web identity)"
expect_eq "$(tail -n 1 "$tmp/sts.calls")" "arn:aws:iam::123456789012:role/drill-role wif-session" "wif: role and session name sent"
AWS_ENDPOINT_URL_STS=$stsep AWS_ROLE_ARN=arn:aws:iam::123456789012:role/drill-role \
    AWS_WEB_IDENTITY_TOKEN_FILE="$tmp/token" run "$RD_BIN" --verbose list "$tmp/c.json" --json
expect_rc 0 "AWS_ROLE_ARN"
expect_eq "$(jq -r '.targets[0].points | length' "$tmp/out.txt")" 1 "AWS_ROLE_ARN: listed"
expect_has "$tmp/err.txt" "s3: credentials from web identity (AWS_ROLE_ARN)" "AWS_ROLE_ARN: source"
AWS_ENDPOINT_URL_STS=$stsep fails wifbad "error: sts AssumeRoleWithWebIdentity for profile wifbad: 403 InvalidIdentityToken: The web identity token is not valid"
AWS_ROLE_ARN=arn:aws:iam::123456789012:role/drill-role run "$RD_BIN" list "$tmp/c.json"
expect_rc 1 "AWS_ROLE_ARN alone"
expect_has "$tmp/out.txt" "error: AWS_ROLE_ARN is set but AWS_WEB_IDENTITY_TOKEN_FILE is not" "AWS_ROLE_ARN alone: message"

# --- refused
fails sso "error: profile sso uses AWS IAM Identity Center (sso_*), which restoredrill cannot log in to: give it a credential_process, or export AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN"
fails alone "error: profile alone has role_arn but no source_profile or web_identity_token_file"
fails ec2 "error: profile ec2: role_arn with credential_source is not supported: use source_profile"
fails loop "error: profile loop2: more than 4 source_profile links (a loop?)"
finish
