"""Stand-ins for the Hub's service containers (lab only): one small program, by HUB_SERVICE.

Every service answers on the ports the vendor's files and health checks name, so the vendor's own health checks
(/usr/local/bin/docker-healthcheck.sh URL [CA file], zkServer.sh status) judge it as they judge the real one:

  cfssl 8888, logstash 9600 (and 4560, 5044), registration 8080, documentation 8080, solr 8080 and 8983 (the
  port moved in 4.2), zookeeper 2181 (TCP), jobrunner none.

HUB_SERVICE=webapp behaves like a live Hub web application, as far as a migration can tell:
  - connects to bds_hub (HUB_POSTGRES_HOST, default postgres; HUB_POSTGRES_PORT; HUB_POSTGRES_USER; password from
    HUB_POSTGRES_USER_PASSWORD_FILE or HUB_POSTGRES_USER_PASSWORD, default blackduck; TLS unless
    HUB_POSTGRES_ENABLE_SSL is false) and inserts a row into st.hub_heartbeat every HUB_WRITE_INTERVAL seconds,
    so a test can tell whether anything still writes;
  - on a database without the Hub's schema it creates a fresh one (schema st with st.hub_heartbeat), as a
    new Hub does on an empty database;
  - answers GET /api/current-version ({"version": ...}) and GET /api/health-checks/liveness (200 while it writes)
    on HUB_WEBAPP_PORT (default 8080), HUB_WEBAPP_BIND (default every address of its network namespace).
HUB_SERVICE=nginx (the webserver) serves HTTPS on HUB_WEBSERVER_PORT (the vendor's hub-webserver.env: 8443, 443
  in 3.7.1) with a certificate signed by a root it makes on first start in /opt/blackduck/hub/webserver/security
  (root.crt, which the vendor's health check names); /health-checks/liveness answers itself, /api/ goes to the
  webapp (HUB_WEBAPP_HOST, default webapp, port 8080), as the Hub's front door does.

The health check is healthcheck.py beside it (docker-healthcheck.sh runs it), kept apart so that what Docker runs
every few seconds starts nothing of this program.
"""
import json
import os
import signal
import socket
import socketserver
import ssl
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("HUB_SERVICE", "webapp")
VERSION = os.environ.get("HUB_VERSION", "unknown")
STOP = threading.Event()
STATE = {"last_write": None, "writes": 0, "error": None, "fresh_schema": False}
HTTP_PORTS = {"cfssl": [8888], "logstash": [9600], "registration": [8080], "documentation": [8080],
              "solr": [8080, 8983]}
TCP_PORTS = {"logstash": [4560, 5044], "zookeeper": [2181]}
SECURITY = "/opt/blackduck/hub/webserver/security"


def _stop(*_):
    STOP.set()


# ------------------------------------------------------------------------------------------------- webapp

def _password(kind):
    path = os.environ.get("HUB_POSTGRES_%s_PASSWORD_FILE" % kind)
    if path and os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    return os.environ.get("HUB_POSTGRES_%s_PASSWORD" % kind, "blackduck")


def _connect(user, password):
    import psycopg2

    ssl_on = os.environ.get("HUB_POSTGRES_ENABLE_SSL", "false").strip('"').lower() != "false"
    return psycopg2.connect(
        host=os.environ.get("HUB_POSTGRES_HOST") or "postgres",
        port=int(os.environ.get("HUB_POSTGRES_PORT") or "5432"),
        dbname="bds_hub",
        user=user,
        password=password,
        connect_timeout=5,
        application_name="hub-webapp-standin",
        sslmode="require" if ssl_on else "disable",
    )


def _ensure_schema():
    """A new Hub on an empty database creates its schema; an upgraded one finds it."""
    conn = _connect(os.environ.get("HUB_POSTGRES_ADMIN") or "blackduck", _password("ADMIN"))
    try:
        conn.autocommit = True
        cur = conn.cursor()
        cur.execute("SELECT to_regclass('st.hub_heartbeat') IS NOT NULL")
        if cur.fetchone()[0]:
            return
        cur.execute("CREATE SCHEMA IF NOT EXISTS st")
        cur.execute(
            "CREATE TABLE IF NOT EXISTS st.hub_heartbeat (id bigserial PRIMARY KEY, source text NOT NULL,"
            " written_at timestamptz NOT NULL DEFAULT now())"
        )
        user = os.environ.get("HUB_POSTGRES_USER") or "blackduck_user"
        cur.execute("GRANT USAGE ON SCHEMA st TO %s" % user)
        cur.execute("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA st TO %s" % user)
        cur.execute("GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA st TO %s" % user)
        STATE["fresh_schema"] = True
        print("webapp: empty database, created a fresh Hub schema", flush=True)
    finally:
        conn.close()


def writer():
    interval = float(os.environ.get("HUB_WRITE_INTERVAL", "1"))
    source = "%s@%s" % (VERSION, socket.gethostname())
    conn = None
    while not STOP.is_set():
        try:
            if conn is None:
                _ensure_schema()
                conn = _connect(os.environ.get("HUB_POSTGRES_USER") or "blackduck_user", _password("USER"))
                conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("INSERT INTO st.hub_heartbeat (source) VALUES (%s)", (source,))
            STATE.update(last_write=time.time(), error=None)
            STATE["writes"] += 1
        except Exception as exc:  # keep trying, like a Hub waiting for its database
            STATE["error"] = str(exc).strip()
            print("webapp: database not usable yet: %s" % STATE["error"], flush=True)
            try:
                if conn is not None:
                    conn.close()
            except Exception:
                pass
            conn = None
        STOP.wait(interval)


# ------------------------------------------------------------------------------------------------- HTTP

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def _send(self, code, body, ctype="application/json"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if SERVICE == "webapp":
            if path == "/api/current-version":
                return self._send(200, {"version": VERSION})
            if path == "/api/health-checks/liveness":
                fresh = STATE["last_write"] is not None and time.time() - STATE["last_write"] < 30
                return self._send(200 if fresh else 503, {"healthy": fresh, "error": STATE["error"]})
            if path == "/api/lab/state":
                return self._send(200, dict(STATE, version=VERSION))
            return self._send(404, {"error": "not found"})
        if SERVICE == "nginx" and path.startswith("/api/"):
            return self._proxy()
        if "health" in path or "scaninfo" in path or path in ("/", "/solr/project/admin/ping"):
            return self._send(200, {"service": SERVICE, "version": VERSION, "healthy": True})
        return self._send(404, {"error": "not found"})

    def _proxy(self):
        url = "http://%s:8080%s" % (os.environ.get("HUB_WEBAPP_HOST") or "webapp", self.path)
        try:
            with urllib.request.urlopen(url, timeout=10) as r:
                return self._send(r.status, r.read(), r.headers.get("Content-Type", "application/json"))
        except urllib.error.HTTPError as exc:
            return self._send(exc.code, exc.read())
        except Exception as exc:  # the front door cannot reach the webapp: a gateway error, as nginx says it
            return self._send(502, {"error": "webapp unreachable: %s" % exc})

    def log_message(self, *args):
        pass


def serve_http(port, bind="0.0.0.0", context=None):
    server = ThreadingHTTPServer((bind, port), Handler)
    if context is not None:
        server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


class _Idle(socketserver.BaseRequestHandler):
    def handle(self):
        pass


def serve_tcp(port):
    server = socketserver.ThreadingTCPServer(("0.0.0.0", port), _Idle)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def webserver_certificate():
    """root.crt/root.key (made once, kept on the webserver volume) and a server certificate it signs."""
    os.makedirs(SECURITY, exist_ok=True)
    root_crt, root_key = os.path.join(SECURITY, "root.crt"), os.path.join(SECURITY, "root.key")
    crt, key = os.path.join(SECURITY, "hub-webserver.crt"), os.path.join(SECURITY, "hub-webserver.key")
    host = os.environ.get("PUBLIC_HUB_WEBSERVER_HOST") or "localhost"
    if not (os.path.exists(root_crt) and os.path.exists(root_key)):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "3650", "-subj",
                        "/CN=Black Duck Hub lab root", "-keyout", root_key, "-out", root_crt], check=True,
                       capture_output=True)
    if not (os.path.exists(crt) and os.path.exists(key)):
        ext = os.path.join(SECURITY, "san.ext")
        with open(ext, "w") as f:
            f.write("subjectAltName=DNS:%s,DNS:localhost,DNS:webserver,IP:127.0.0.1\n" % host)
        csr = os.path.join(SECURITY, "hub-webserver.csr")
        subprocess.run(["openssl", "req", "-new", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=%s" % host,
                        "-keyout", key, "-out", csr], check=True, capture_output=True)
        subprocess.run(["openssl", "x509", "-req", "-in", csr, "-CA", root_crt, "-CAkey", root_key,
                        "-CAcreateserial", "-days", "3650", "-extfile", ext, "-out", crt], check=True,
                       capture_output=True)
    # as the Hub's images do for whatever user runs them with group root (user: nginx:root): group-readable files, so
    # a later version running as another user of group root (3.7.1 ran as root, 4.x as nginx) still reads them
    for path in (root_crt, root_key, crt, key):
        if os.stat(path).st_uid == os.getuid():
            os.chmod(path, 0o640)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    return context


# --------------------------------------------------------------------------------------------------- main

def main(argv):
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    servers = []
    if SERVICE == "webapp":
        servers.append(serve_http(int(os.environ.get("HUB_WEBAPP_PORT", "8080")),
                                  os.environ.get("HUB_WEBAPP_BIND", "0.0.0.0")))
        threading.Thread(target=writer, daemon=True).start()
    elif SERVICE == "nginx":
        servers.append(serve_http(int(os.environ.get("HUB_WEBSERVER_PORT") or "8443"), context=webserver_certificate()))
    for port in HTTP_PORTS.get(SERVICE, []):
        servers.append(serve_http(port))
    for port in TCP_PORTS.get(SERVICE, []):
        servers.append(serve_tcp(port))
    print("%s %s stand-in: serving on %s" % (SERVICE, VERSION, [s.server_address for s in servers]), flush=True)
    STOP.wait()
    for s in servers:
        s.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
