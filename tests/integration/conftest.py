"""Integration tests run against the real lab (make lab): Docker engine, Compose, Swarm, Kubernetes."""
import http.server
import json
import os
import subprocess
import threading

import pytest

import labhub

# make test (tests/run.sh) runs the tests marked exclusive alone first - beside them only what starts no container:
# sanity, lint and the tests marked no_containers - then the others on two workers side by side (pytest-xdist,
# --dist loadfile: a file's tests run one after another on one worker). So what only one test may use at a time
# stays within one file: the hubs of the vendor's files (fixed ports 443 and 55436, one Kubernetes hostPath) are all
# deployed by conformance/test_conformance.py; hubs and builds made once per file (module-scoped fixtures) are the
# file's own. Everything else a test makes is named after the test (hubs, projects, namespaces, external servers'
# ports, dump folders), and the lab hubs' ports come from labhub.allocate_slot, under a lock.


HERE = os.path.dirname(os.path.abspath(__file__))
# The files that take longest go first (about 2000 s down to 370 s of one make test run on two workers), so that the
# two workers end together instead of one running the last long file alone. A new long file belongs in this list.
LONGEST_FIRST = [
    "conformance/test_conformance.py",
    "playbook/test_upgrade_kubernetes.py",
    "playbook/test_upgrade_compose.py",
    "playbook/test_one_run_per_hub.py",
    "playbook/test_upgrade_external.py",
    "playbook/test_kills_on_swarm_and_kubernetes.py",
    "playbook/test_upgrade_swarm.py",
    "test_bench_smoke.py",
]


def pytest_collection_modifyitems(config, items):
    def rank(item):
        where = os.path.relpath(str(item.path), HERE)
        return LONGEST_FIRST.index(where) if where in LONGEST_FIRST else len(LONGEST_FIRST)
    items.sort(key=rank)  # stable: a file's tests stay together, in their order


def pytest_configure(config):
    config.addinivalue_line("markers", "exclusive: runs alone, before the tests that make test runs side by side "
                                       "(the vendor's docker-hub.sh takes any container whose line names one of its "
                                       "own for its own)")
    config.addinivalue_line("markers", "no_containers: starts no container (reads files, Compose's config, the API "
                                       "server's dry run): runs beside the exclusive tests")


def _ok(argv):
    try:
        return subprocess.run(argv, capture_output=True, timeout=30,
                              env=dict(os.environ, KUBECONFIG=labhub.KUBECONFIG), check=False).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="session")
def docker_lab():
    if not _ok(["docker", "info"]):
        pytest.fail("the lab's Docker engine is not running: run 'make lab' (make test does it for you)")


@pytest.fixture(scope="session")
def k8s_lab():
    if not _ok(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "get", "nodes"]):
        pytest.fail("the lab's Kubernetes cluster is not running: run 'make lab' (make test does it for you)")


@pytest.fixture
def lab_hubs():
    """Deploy lab hubs for one test; every hub it deployed is removed afterwards, whatever happened."""
    names = []

    def deploy(name, orch, **kw):
        names.append(name)
        return labhub.deploy(name, orch, **kw)

    yield deploy
    for name in names:
        labhub.remove(name)


@pytest.fixture
def vendor_hubs():
    """Deploy hubs from the vendor's real bundles for one test (labhub.deploy_vendor); removed afterwards, whatever
    happened. The lab's patch of each copy is printed (pytest shows it with the test's output)."""
    names = []

    def deploy(name, orch, old, new, **kw):
        names.append(name)
        hub = labhub.deploy_vendor(name, orch, old, new, **kw)
        for version, patch in sorted(hub["patches"].items()):
            print("lab patch of hub-docker-%s (%s):\n%s" % (version, name, patch or "none: the vendor's files as they are"))
        return hub

    yield deploy
    for name in names:
        labhub.remove(name)


@pytest.fixture
def wrong_hub():
    """The URL of something on loopback that answers GET /api/current-version as a Hub would, with a version no Hub has
    (0.0.0), and 404 to everything else: a hub_url that points at the wrong thing, answered at once (on loopback only)."""
    class Answer(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (http.server's name)
            body = json.dumps({"version": "0.0.0"}).encode() if self.path == "/api/current-version" else b""
            self.send_response(200 if body else 404)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Answer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()
