"""Integration tests run against the real lab (make lab): Docker engine, Compose, Swarm, Kubernetes."""
import os
import subprocess

import pytest

import labhub


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
