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
