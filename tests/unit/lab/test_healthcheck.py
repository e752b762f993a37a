"""The stand-ins' health check (tests/lab/images/service/healthcheck.py) judges as the vendor's does: healthy on 200
only, the webapp by its liveness, any other service alive without a URL; a refused or unanswered port is unhealthy."""
import importlib.util
import os
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
SPEC = importlib.util.spec_from_file_location(
    "healthcheck", os.path.join(HERE, "..", "..", "lab", "images", "service", "healthcheck.py"))
healthcheck = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(healthcheck)


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        code = 200 if self.path in ("/api/health-checks/liveness", "/solr/ping?wt=json") else 503 if self.path == "/sick" else 404
        self.send_response(code)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


def test_200_is_healthy_anything_else_is_not(server, capsys):
    base = "http://127.0.0.1:%d" % server
    assert healthcheck.main([base + "/api/health-checks/liveness"]) == 0
    assert healthcheck.main([base + "/solr/ping?wt=json"]) == 0  # the query goes with the path
    assert healthcheck.main([base.replace("http:", "HTTP:") + "/api/health-checks/liveness#x"]) == 0
    assert healthcheck.main([base + "?x"]) == 1 and "HTTP 404" in capsys.readouterr().err  # asked for /?x
    assert healthcheck.main([base + "/sick"]) == 1
    assert healthcheck.main([base + "/nope"]) == 1
    assert "HTTP 404" in capsys.readouterr().err


def test_a_port_nobody_answers_is_unhealthy(capsys):
    import socket
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    assert healthcheck.main(["http://127.0.0.1:%d/" % port]) == 1
    assert "unhealthy: http://127.0.0.1:%d/" % port in capsys.readouterr().err


def test_without_a_url_the_webapp_asks_its_liveness_and_the_others_are_alive(server, monkeypatch):
    monkeypatch.setenv("HUB_SERVICE", "webapp")
    monkeypatch.setenv("HUB_WEBAPP_PORT", str(server))
    assert healthcheck.main([]) == 0
    monkeypatch.setenv("HUB_WEBAPP_PORT", "1")  # nothing answers there
    assert healthcheck.main([]) == 1
    monkeypatch.setenv("HUB_SERVICE", "cfssl")
    assert healthcheck.main([]) == 0


def self_signed(tmp_path, name, san):
    import shutil
    import subprocess
    if not shutil.which("openssl"):
        pytest.skip("openssl is not installed")
    crt, key = str(tmp_path / (name + ".crt")), str(tmp_path / (name + ".key"))
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=" + san, "-keyout", key, "-out", crt], check=True, capture_output=True)
    return crt, key


def test_https_verified_against_the_ca_file_with_its_host_name(tmp_path, capsys):
    import ssl
    crt, key = self_signed(tmp_path, "hub", "IP:127.0.0.1")
    other, dummy = self_signed(tmp_path, "other", "IP:127.0.0.1")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(crt, key)
    srv.socket = context.wrap_socket(srv.socket, server_side=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        url = "https://127.0.0.1:%d/api/health-checks/liveness" % srv.server_address[1]
        assert healthcheck.main([url, crt]) == 0
        assert healthcheck.main([url]) == 0  # no CA file: not verified, as the vendor's check without one
        assert healthcheck.main([url, other]) == 1  # signed by another
        assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
        assert healthcheck.main([url.replace("127.0.0.1", "localhost"), crt]) == 1  # not the certificate's name
        assert "CERTIFICATE_VERIFY_FAILED" in capsys.readouterr().err
    finally:
        srv.shutdown()
        srv.server_close()
