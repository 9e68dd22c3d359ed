#!/usr/bin/env python3
"""tests/s3/s3server.py: a local S3 server that verifies SigV4 signatures, for the tests.

  s3server.py start DIR   start moto_server on 127.0.0.1:<random port> in the background,
                      create an IAM user with an access key allowed s3:* through the
                      IAM API while authentication is still off, then authentication is
                      on for every later request. Writes DIR/env (shell lines:
                      RD_S3_ENDPOINT, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
                      AWS_REGION) and DIR/pid. Exit 77 when moto is not installed.
  s3server.py stop DIR    stop the server started in DIR.
  s3server.py mb DIR BUCKET...; put DIR BUCKET KEY FILE; puttree DIR BUCKET LOCALDIR (keys
                      relative to LOCALDIR); rm DIR BUCKET KEY...; ls DIR BUCKET [PREFIX].

Only plain HTTP requests to 127.0.0.1 are made (no boto3 needed)."""
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request

# Requests made without authentication before it is enforced: CreateUser,
# PutUserPolicy, CreateAccessKey, CreateRole, PutRolePolicy.
NOAUTH = 5


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def iam(endpoint, action, **params):
    params.update({"Action": action, "Version": "2010-05-08"})
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(endpoint + "/", data=data, method="POST")
    req.add_header("Content-Type", "application/x-www-form-urlencoded")
    # moto routes by the credential scope's service name
    req.add_header("Authorization",
                   "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20200101/us-east-1/iam/"
                   "aws4_request, SignedHeaders=host, Signature=0")
    with urllib.request.urlopen(req, timeout=30) as r:
        return r.read().decode()


def between(text, tag):
    a = text.index("<%s>" % tag) + len(tag) + 2
    return text[a:text.index("</%s>" % tag, a)]


def start(d):
    os.makedirs(d, exist_ok=True)
    try:
        import moto.server  # noqa: F401
    except ImportError:
        print("skipping: moto_server is not installed (pip install 'moto[server]')")
        sys.exit(77)
    port = free_port()
    env = dict(os.environ, INITIAL_NO_AUTH_ACTION_COUNT=str(NOAUTH), MOTO_PORT=str(port))
    for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(k, None)
    log = open(os.path.join(d, "moto.log"), "wb")
    p = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                         stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    with open(os.path.join(d, "pid"), "w") as f:
        f.write("%d\n" % p.pid)
    endpoint = "http://127.0.0.1:%d" % port
    deadline = time.time() + 60
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if p.poll() is not None or time.time() > deadline:
                print("moto_server did not start; its log:\n" + open(os.path.join(d, "moto.log")).read())
                sys.exit(1)
            time.sleep(0.2)
    iam(endpoint, "CreateUser", UserName="drill")
    policy = {"Version": "2012-10-17",
              "Statement": [{"Effect": "Allow", "Action": ["s3:*", "sts:*"], "Resource": "*"}]}
    iam(endpoint, "PutUserPolicy", UserName="drill", PolicyName="s3",
        PolicyDocument=json.dumps(policy))
    out = iam(endpoint, "CreateAccessKey", UserName="drill")
    key, secret = between(out, "AccessKeyId"), between(out, "SecretAccessKey")
    trust = {"Version": "2012-10-17",
             "Statement": [{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "sts:AssumeRole"}]}
    iam(endpoint, "CreateRole", RoleName="drill-role", AssumeRolePolicyDocument=json.dumps(trust))
    iam(endpoint, "PutRolePolicy", RoleName="drill-role", PolicyName="s3",
        PolicyDocument=json.dumps(policy))
    env = {"RD_S3_ENDPOINT": endpoint, "AWS_ACCESS_KEY_ID": key, "AWS_SECRET_ACCESS_KEY": secret,
           "AWS_REGION": "us-east-1"}
    sts = client(env, "sts")
    c = sts.assume_role(RoleArn="arn:aws:iam::123456789012:role/drill-role",
                        RoleSessionName="restoredrill-test")["Credentials"]
    env.update(RD_S3_TEMP_KEY=c["AccessKeyId"], RD_S3_TEMP_SECRET=c["SecretAccessKey"],
               RD_S3_TEMP_TOKEN=c["SessionToken"])
    with open(os.path.join(d, "env"), "w") as f:
        for k, v in env.items():
            f.write("%s=%s\n" % (k, v))


def load_env(d):
    with open(os.path.join(d, "env")) as f:
        return dict(line.rstrip("\n").split("=", 1) for line in f if "=" in line)


def client(env, service):
    import boto3
    return boto3.client(service, endpoint_url=env["RD_S3_ENDPOINT"], region_name="us-east-1",
                        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"])


def stop(d):
    try:
        pid = int(open(os.path.join(d, "pid")).read())
    except (OSError, ValueError):
        return
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        pass


if __name__ == "__main__":
    cmd, args = (sys.argv[1], sys.argv[2:]) if len(sys.argv) > 2 else ("", [])
    if cmd == "start" and len(args) == 1:
        start(args[0])
    elif cmd == "stop" and len(args) == 1:
        stop(args[0])
    elif cmd == "mb" and len(args) >= 2:
        s3 = client(load_env(args[0]), "s3")
        for b in args[1:]:
            s3.create_bucket(Bucket=b)
    elif cmd == "put" and len(args) == 4:
        client(load_env(args[0]), "s3").upload_file(args[3], args[1], args[2])
    elif cmd == "versioning" and len(args) == 2:
        client(load_env(args[0]), "s3").put_bucket_versioning(
            Bucket=args[1], VersioningConfiguration={"Status": "Enabled"})
    elif cmd == "putb" and len(args) == 4:  # putb DIR BUCKET KEY TEXT
        client(load_env(args[0]), "s3").put_object(Bucket=args[1], Key=args[2],
                                                   Body=args[3].encode())
    elif cmd in ("lsv", "asof") and len(args) >= 2:
        # lsv DIR BUCKET: every version and delete marker, "key version ms marker"
        # asof DIR BUCKET MS: "key size" of the newest version at or before MS that is
        # not a delete marker (the oracle of a versioned drill)
        s3 = client(load_env(args[0]), "s3")
        rows = []
        for page in s3.get_paginator("list_object_versions").paginate(Bucket=args[1]):
            for v in page.get("Versions", []):
                rows.append((v["Key"], v["VersionId"], v["LastModified"].timestamp(), 0,
                             v["Size"]))
            for m in page.get("DeleteMarkers", []):
                rows.append((m["Key"], m["VersionId"], m["LastModified"].timestamp(), 1, 0))
        if cmd == "lsv":
            for k, vid, t, dm, _ in sorted(rows):
                print("%s %s %d %d" % (k, vid, round(t * 1000), dm))
        else:
            target = int(args[2]) / 1000.0
            best = {}
            for k, vid, t, dm, size in rows:
                if t <= target and (k not in best or t > best[k][0]):
                    best[k] = (t, dm, size)
            for k in sorted(best):
                if not best[k][1]:
                    print("%s %d" % (k, best[k][2]))
    elif cmd == "puttree" and len(args) == 3:
        # puttree DIR BUCKET LOCALDIR: every file below LOCALDIR, keys relative to it
        s3 = client(load_env(args[0]), "s3")
        for root, _dirs, files in os.walk(args[2]):
            for f in files:
                path = os.path.join(root, f)
                s3.upload_file(path, args[1], os.path.relpath(path, args[2]))
    elif cmd == "rm" and len(args) >= 3:  # in a versioned bucket: delete markers
        s3 = client(load_env(args[0]), "s3")
        for k in args[2:]:
            s3.delete_object(Bucket=args[1], Key=k)
    elif cmd == "ls" and len(args) in (2, 3):
        s3 = client(load_env(args[0]), "s3")
        kw = {"Bucket": args[1], "Prefix": args[2] if len(args) == 3 else ""}
        for page in s3.get_paginator("list_objects_v2").paginate(**kw):
            for o in page.get("Contents", []):
                print(o["Key"])
    else:
        print(__doc__)
        sys.exit(2)
