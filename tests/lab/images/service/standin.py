"""Stand-ins for the Hub's service containers (lab only).

HUB_SERVICE=cfssl|logstash: idle until SIGTERM, like a service that has nothing to say to the database.
HUB_SERVICE=webapp: behaves like a live Hub web application, as far as a migration can tell:
  - connects to bds_hub (HUB_POSTGRES_HOST/PORT/USER, password from HUB_POSTGRES_USER_PASSWORD_FILE or
    HUB_POSTGRES_USER_PASSWORD) and inserts a row into st.hub_heartbeat every HUB_WRITE_INTERVAL seconds,
    so a test can tell whether anything still writes;
  - on a database without the Hub's schema it creates a fresh one (schema st with st.hub_heartbeat), as a
    new Hub does on an empty database;
  - answers GET /api/current-version ({"version": ...}) and GET /api/health-checks/liveness on
    HUB_WEBAPP_PORT (default 8080) on HUB_WEBAPP_BIND (default all addresses of its network namespace).
"""
import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

SERVICE = os.environ.get("HUB_SERVICE", "webapp")
VERSION = os.environ.get("HUB_VERSION", "unknown")
STOP = threading.Event()
STATE = {"last_write": None, "writes": 0, "error": None, "fresh_schema": False}


def _stop(*_):
    STOP.set()


signal.signal(signal.SIGTERM, _stop)
signal.signal(signal.SIGINT, _stop)


def _password(kind):
    path = os.environ.get("HUB_POSTGRES_%s_PASSWORD_FILE" % kind)
    if path and os.path.exists(path):
        with open(path) as f:
            return f.read().strip()
    return os.environ.get("HUB_POSTGRES_%s_PASSWORD" % kind, "blackduck")


def _connect(user, password):
    import psycopg2

    return psycopg2.connect(
        host=os.environ.get("HUB_POSTGRES_HOST", "postgres"),
        port=int(os.environ.get("HUB_POSTGRES_PORT", "5432")),
        dbname="bds_hub",
        user=user,
        password=password,
        connect_timeout=5,
        application_name="hub-webapp-standin",
        sslmode="disable" if os.environ.get("HUB_POSTGRES_ENABLE_SSL", "false") == "false" else "require",
    )


def _ensure_schema():
    """A new Hub on an empty database creates its schema; an upgraded one finds it."""
    conn = _connect(os.environ.get("HUB_POSTGRES_ADMIN", "blackduck"), _password("ADMIN"))
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
        user = os.environ.get("HUB_POSTGRES_USER", "blackduck_user")
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
                conn = _connect(os.environ.get("HUB_POSTGRES_USER", "blackduck_user"), _password("USER"))
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


class Handler(BaseHTTPRequestHandler):
    def _send(self, code, body):
        data = json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/api/current-version":
            self._send(200, {"version": VERSION})
        elif self.path == "/api/health-checks/liveness":
            fresh = STATE["last_write"] is not None and time.time() - STATE["last_write"] < 30
            self._send(200 if fresh else 503, {"healthy": fresh, "error": STATE["error"]})
        elif self.path == "/api/lab/state":
            self._send(200, dict(STATE, version=VERSION))
        else:
            self._send(404, {"error": "not found"})

    def log_message(self, *args):
        pass


def main():
    if SERVICE != "webapp":
        print("%s %s stand-in: running" % (SERVICE, VERSION), flush=True)
        STOP.wait()
        return 0
    server = ThreadingHTTPServer((os.environ.get("HUB_WEBAPP_BIND", "0.0.0.0"), int(os.environ.get("HUB_WEBAPP_PORT", "8080"))), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    threading.Thread(target=writer, daemon=True).start()
    print("webapp %s stand-in: serving on %s" % (VERSION, server.server_address), flush=True)
    STOP.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
