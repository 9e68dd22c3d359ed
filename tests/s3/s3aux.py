#!/usr/bin/env python3
"""tests/s3/s3aux.py: small local servers for the S3 tests, on 127.0.0.1 only.

  s3aux.py cutproxy UPSTREAM_PORT CUT_BYTES DIR
      a TCP proxy to 127.0.0.1:UPSTREAM_PORT that, once, cuts the connection of
      a GET whose path contains "cutme" after CUT_BYTES bytes of its response;
      writes DIR/cutproxy.port, counts cuts in DIR/cuts. A request (first on
      its connection) whose path contains "flaky" gets "503 SlowDown" twice,
      then goes through; "always503" gets it every time; both counted in
      DIR/slowdowns.
  s3aux.py creds JSONFILE TOKEN DIR
      a container credentials endpoint: any GET with "Authorization: TOKEN"
      gets JSONFILE's content (re-read each time), others 401; counts served
      requests in DIR/creds.count; writes DIR/creds.port.
  s3aux.py imds JSONFILE DIR
      an IMDSv2 stand-in: PUT /latest/api/token (with the TTL header) gives a
      token; with it, GET /latest/meta-data/iam/security-credentials/ names the
      role "drill-role" and .../drill-role serves JSONFILE; anything else 401.
      Counts credential answers in DIR/imds.count; writes DIR/imds.port.
  s3aux.py sts TOKEN DIR
      an STS stand-in for AssumeRoleWithWebIdentity, which AWS takes unsigned
      (moto 5.2.1 with authentication on refuses any unsigned request): a form
      POST with that Action, no Authorization header and WebIdentityToken
      TOKEN gets the temporary credentials of RD_S3_TEMP_KEY / _SECRET /
      _TOKEN (moto's assumed role) expiring in an hour; a wrong token gets
      403 InvalidIdentityToken. Appends "RoleArn RoleSessionName" of each
      call to DIR/sts.calls; writes DIR/sts.port.
All run until killed."""
import http.server
import os
import socket
import sys
import threading


def write(path, text):
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.replace(path + ".tmp", path)


def cutproxy(upstream_port, cut_bytes, d):
    state = {"armed": True, "cuts": 0, "flaky": 0, "slowdowns": 0}
    body = (b"<?xml version=\"1.0\"?><Error><Code>SlowDown</Code>"
            b"<Message>Please reduce your request rate.</Message></Error>")
    slowdown = (b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nConnection: close\r\n"
                b"Content-Length: %d\r\n\r\n" % len(body)) + body
    lock = threading.Lock()
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)

    def serve(c):
        first = c.recv(65536)
        line = first.split(b"\r\n", 1)[0]
        with lock:
            refuse = b"always503" in line or (b"flaky" in line and state["flaky"] < 2)
            if b"flaky" in line:
                state["flaky"] += 1
            if refuse:
                state["slowdowns"] += 1
                write(os.path.join(d, "slowdowns"), "%d\n" % state["slowdowns"])
        if refuse:
            c.sendall(slowdown)
            c.close()
            return
        u = socket.create_connection(("127.0.0.1", upstream_port))
        cut = {"on": False}
        if first.startswith(b"GET ") and b"cutme" in line:
            with lock:
                if state["armed"]:
                    state["armed"] = False
                    cut["on"] = True
        u.sendall(first)

        def up():  # client -> upstream; arms the cut on a GET for "cutme"
            try:
                while True:
                    b = c.recv(65536)
                    if not b:
                        break
                    if b.startswith(b"GET ") and b"cutme" in b.split(b"\r\n", 1)[0]:
                        with lock:
                            if state["armed"]:
                                state["armed"] = False
                                cut["on"] = True
                    u.sendall(b)
            except OSError:
                pass
            try:
                u.shutdown(socket.SHUT_WR)
            except OSError:
                pass

        threading.Thread(target=up, daemon=True).start()
        sent = 0
        try:
            while True:
                b = u.recv(65536)
                if not b:
                    break
                if cut["on"] and sent + len(b) >= cut_bytes:
                    c.sendall(b[:cut_bytes - sent])
                    with lock:
                        state["cuts"] += 1
                        write(os.path.join(d, "cuts"), "%d\n" % state["cuts"])
                    break
                c.sendall(b)
                if cut["on"]:
                    sent += len(b)
        except OSError:
            pass
        for s in (c, u):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    write(os.path.join(d, "cutproxy.port"), "%d\n" % srv.getsockname()[1])
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def creds(jsonfile, token, d):
    count = {"n": 0}

    class H(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            if self.headers.get("Authorization") != token:
                self.send_response(401)
                self.end_headers()
                return
            body = open(jsonfile, "rb").read()
            count["n"] += 1
            write(os.path.join(d, "creds.count"), "%d\n" % count["n"])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    write(os.path.join(d, "creds.port"), "%d\n" % srv.server_address[1])
    srv.serve_forever()


def imds(jsonfile, d):
    count = {"n": 0}
    token = "imds-token-42"
    base = "/latest/meta-data/iam/security-credentials/"

    class H(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body=b""):
            self.send_response(code)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_PUT(self):
            if self.path == "/latest/api/token" and \
                    self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                self.reply(200, token.encode())
            else:
                self.reply(401)

        def do_GET(self):
            if self.headers.get("X-aws-ec2-metadata-token") != token:
                self.reply(401)
            elif self.path == base:
                self.reply(200, b"drill-role\n")
            elif self.path == base + "drill-role":
                count["n"] += 1
                write(os.path.join(d, "imds.count"), "%d\n" % count["n"])
                self.reply(200, open(jsonfile, "rb").read())
            else:
                self.reply(404)

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    write(os.path.join(d, "imds.port"), "%d\n" % srv.server_address[1])
    srv.serve_forever()


def sts(token, d):
    import datetime
    import urllib.parse

    class H(http.server.BaseHTTPRequestHandler):
        def reply(self, code, body):
            body = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", "text/xml")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            n = int(self.headers.get("Content-Length") or 0)
            form = urllib.parse.parse_qs(self.rfile.read(n).decode())
            get = lambda k: (form.get(k) or [""])[0]
            if self.headers.get("Authorization") or get("Action") != "AssumeRoleWithWebIdentity":
                self.reply(400, "<ErrorResponse><Error><Code>InvalidAction</Code>"
                                "<Message>unexpected request</Message></Error></ErrorResponse>")
                return
            with open(os.path.join(d, "sts.calls"), "a") as f:
                f.write("%s %s\n" % (get("RoleArn"), get("RoleSessionName")))
            if get("WebIdentityToken") != token:
                self.reply(403, "<ErrorResponse><Error><Code>InvalidIdentityToken</Code>"
                                "<Message>The web identity token is not valid</Message>"
                                "</Error></ErrorResponse>")
                return
            exp = (datetime.datetime.utcnow() + datetime.timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ")
            self.reply(200, "<AssumeRoleWithWebIdentityResponse><AssumeRoleWithWebIdentityResult>"
                            "<Credentials><AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s"
                            "</SecretAccessKey><SessionToken>%s</SessionToken><Expiration>%s"
                            "</Expiration></Credentials></AssumeRoleWithWebIdentityResult>"
                            "</AssumeRoleWithWebIdentityResponse>" % (
                                os.environ["RD_S3_TEMP_KEY"], os.environ["RD_S3_TEMP_SECRET"],
                                os.environ["RD_S3_TEMP_TOKEN"], exp))

        def log_message(self, *a):
            pass

    srv = http.server.HTTPServer(("127.0.0.1", 0), H)
    write(os.path.join(d, "sts.port"), "%d\n" % srv.server_address[1])
    srv.serve_forever()


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "cutproxy":
        cutproxy(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
    elif len(sys.argv) == 5 and sys.argv[1] == "creds":
        creds(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 4 and sys.argv[1] == "sts":
        sts(sys.argv[2], sys.argv[3])
    elif len(sys.argv) == 4 and sys.argv[1] == "imds":
        imds(sys.argv[2], sys.argv[3])
    else:
        print(__doc__)
        sys.exit(2)
