"""hub_wait on the real Docker engine: a wait that sees a container go, one that runs out while it stays, the same in
check mode (it only reads), a command that keeps failing, and a tool that is not there.

The containers are the lab's PostgreSQL image running `sleep`, labelled for this test only - one with a health check
for docker_run_ready; the predicates that read a stack or pods (swarm_stack_ready, k8s_pods_ready) run in every Swarm
and Kubernetes upgrade of the playbook tests.
On the lab's cluster: a pod deleted is stopped (k8s_pods_stopped) once its container has stopped, whether or not the
kubelet has removed it yet - never while its container runs; its result tells a line per pod, never their specs
(an inline password).
"""
import json
import subprocess
import time
import uuid

import pytest

import ansible_run
import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")


@pytest.fixture
def label():
    mark = "org.bdlab.hub-wait=%s" % uuid.uuid4().hex[:12]
    yield mark
    names = subprocess.run(["docker", "ps", "-aq", "--filter", "label=" + mark], capture_output=True, text=True,
                           check=False).stdout.split()
    if names:
        subprocess.run(["docker", "rm", "-f"] + names, capture_output=True, check=False)


def sleeper(label, seconds):
    """A container of the lab's database image that sleeps, then ends and is removed (--rm)."""
    return subprocess.run(["docker", "run", "-d", "--rm", "--label", label, "--entrypoint", "sleep",
                           "blackducksoftware/hub-postgres:%s" % labhub.OLD, str(seconds)],
                          capture_output=True, text=True, check=True).stdout.strip()


def listing(label):
    return ["docker", "ps", "-aq", "--filter", "label=" + label]  # the IDs


def test_a_wait_sees_the_container_go(label):
    cid = sleeper(label, 4)
    started = time.monotonic()
    result = ansible_run.module("hub_wait", {"argv": listing(label), "until": "gone", "timeout": 60, "interval": 1})
    assert not result["failed"], result
    assert result["ready"] is True and result["wait_timed_out"] is False and result["changed"] is False
    assert result["attempts"] >= 2  # it was there at the first check
    assert result["stdout"] == "" and result["rc"] == 0
    assert time.monotonic() - started < 60
    gone = subprocess.run(listing(label), capture_output=True, text=True, check=True).stdout
    assert cid[:12] not in gone and gone.strip() == ""


def test_a_wait_that_runs_out_fails_with_its_last_check_and_the_same_in_check_mode(label):
    cid = sleeper(label, 300)
    for check in (True, False):
        started = time.monotonic()
        result = ansible_run.module("hub_wait", {"argv": listing(label), "until": "gone", "timeout": 3,
                                                 "interval": 1}, check=check)
        assert result["failed"] and result["wait_timed_out"] is True and result["ready"] is False, result
        assert result["msg"].startswith("waited ") and "checks of docker) for no line left" in result["msg"], result
        assert 2 <= result["attempts"] <= 4 and cid.startswith(result["stdout"].strip())
        assert time.monotonic() - started < 30  # it gave up on its clock, not at a command's own timeout
    left = subprocess.run(listing(label), capture_output=True, text=True, check=True).stdout
    assert cid.startswith(left.strip()) and left.strip()  # only read: the container still runs


# as the docker_run role asks (vars/main.yml), raw: the task's arguments are templated
INSPECT = ('{% raw %}{"Name": {{json .Name}}, "Config": {"Image": {{json .Config.Image}}}, "State": {{json .State}}}'
           '{% endraw %}')


def test_a_docker_run_hub_is_ready_once_its_container_passes_its_health_check(label):
    """docker_run_ready on what the engine says of a container (docker container inspect, as the docker_run role
    asks): not while its health check is starting, then ready; a container of another image than the one wanted is
    never ready."""
    name = "bdlab-hub-wait-%s" % label.rsplit("=", 1)[1]
    image = "blackducksoftware/hub-postgres:%s" % labhub.OLD
    subprocess.run(["docker", "run", "-d", "--rm", "--name", name, "--label", label, "--entrypoint", "sh",
                    "--health-cmd", "test -f /tmp/ok", "--health-interval", "1s", "--health-start-period", "60s",
                    image, "-c", "sleep 4; touch /tmp/ok; sleep 300"], capture_output=True, text=True, check=True)
    argv = ["docker", "container", "inspect", "--format", INSPECT, name]
    result = ansible_run.module("hub_wait", {"argv": argv, "until": "docker_run_ready", "timeout": 60, "interval": 1,
                                             "wanted": {"images": {name: image}}})
    assert not result["failed"] and result["ready"] is True, result
    assert result["attempts"] >= 2  # still starting at the first check
    assert json.loads(result["stdout"])["State"]["Health"]["Status"] == "healthy"
    other = ansible_run.module("hub_wait", {"argv": argv, "until": "docker_run_ready", "timeout": 3, "interval": 1,
                                            "wanted": {"images": {name: image + "-other"}}})
    assert other["failed"] and other["wait_timed_out"] is True and other["ready"] is False, other


def test_a_docker_run_container_that_exited_ends_the_wait_at_its_check(label):
    """docker-hub.sh sets no restart policy: a container that exits (the webapp on a bad setting) stays so, and the
    wait for the hub says which and how at the check that sees it, not after its timeout."""
    name = "bdlab-hub-wait-%s" % label.rsplit("=", 1)[1]
    image = "blackducksoftware/hub-postgres:%s" % labhub.OLD
    subprocess.run(["docker", "run", "-d", "--name", name, "--label", label, "--entrypoint", "sh", "--health-cmd",
                    "false", "--health-interval", "1s", "--health-start-period", "60s", image, "-c", "sleep 3; exit 3"],
                   capture_output=True, text=True, check=True)  # its health check still starting while it runs
    argv = ["docker", "container", "inspect", "--format", INSPECT, name]
    result = ansible_run.module("hub_wait", {"argv": argv, "until": "docker_run_ready", "timeout": 600, "interval": 1,
                                             "wanted": {"images": {name: image}}})
    assert result["failed"] and result["ready"] is False and result["wait_timed_out"] is False, result
    assert result["hopeless"].startswith("container %s exited with code 3 at " % name), result
    assert result["msg"].endswith(result["hopeless"]) and "see docker logs %s" % name in result["msg"]
    assert 2 <= result["attempts"] <= 10  # running at the first check; ended once it had exited, not at 600 s


def test_a_tool_that_is_not_there_fails_at_once_saying_so():
    result = ansible_run.module("hub_wait", {"argv": ["/nonexistent/kubectl", "get", "pods"], "until": "gone",
                                             "timeout": 120})
    assert result["failed"] and result["msg"].startswith("/nonexistent/kubectl cannot be run: "), result


def test_a_command_that_keeps_failing_ends_the_wait_with_its_words():
    started = time.monotonic()
    result = ansible_run.module("hub_wait", {"argv": ["docker", "ps", "-aq", "--filter", "no-such-filter=1"],
                                             "until": "gone", "timeout": 120, "interval": 1})
    assert result["failed"] and result["wait_timed_out"] is False and result["attempts"] == 3, result
    assert result["msg"].startswith("docker failed 3 times in a row, so what runs cannot be seen: "), result
    assert "no-such-filter" in result["msg"] and result["rc"] != 0
    assert time.monotonic() - started < 60  # not the 120 s of its timeout


def running_in(namespace):
    """The containers that run in a namespace, as the lab's engine (the kubelet's runtime) sees them: not the pods'
    sandboxes (POD), which hold nothing."""
    names = subprocess.run(["docker", "ps", "--filter", "label=io.kubernetes.pod.namespace=" + namespace, "--format",
                            '{{.Label "io.kubernetes.container.name"}}'], capture_output=True, text=True,
                           check=True).stdout.split()
    return [n for n in names if n != "POD"]


def test_a_pod_deleted_is_stopped_once_its_container_has_stopped(k8s_lab):
    ns = "hub-wait-%s" % uuid.uuid4().hex[:8]
    kubectl = ["kubectl", "--kubeconfig", labhub.KUBECONFIG, "-n", ns]
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "sleeper", "labels": {"app": "sleeper"}},
           "spec": {"terminationGracePeriodSeconds": 3, "containers": [{
               "name": "sleeper", "image": "blackducksoftware/hub-postgres:%s" % labhub.OLD,
               "imagePullPolicy": "Never", "command": ["sleep", "600"],  # sleep ignores SIGTERM: killed after 3 s
               "env": [{"name": "SLEEPER_PASSWORD", "value": "sl33per-s3cret"}]}]}}  # a password set inline
    subprocess.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "create", "namespace", ns], capture_output=True,
                   check=True)
    try:
        subprocess.run(kubectl + ["apply", "-f", "-"], input=json.dumps(pod), text=True, capture_output=True, check=True)
        subprocess.run(kubectl + ["wait", "--for=condition=Ready", "pod/sleeper", "--timeout=120s"], capture_output=True,
                       check=True)
        pods = kubectl + ["get", "pods", "-o", "json"]
        args = {"argv": pods, "until": "k8s_pods_stopped", "timeout": 3, "interval": 1}
        result = ansible_run.module("hub_wait", args)
        assert result["failed"] and result["wait_timed_out"] is True, result  # it runs, not being deleted
        assert running_in(ns) == ["sleeper"]
        # the result tells a line per pod, not the pods' JSON: their specs (the inline password) do not show
        assert result["stdout"] == "sleeper app=sleeper Running ready", result
        assert "sl33per-s3cret" not in json.dumps(result)

        subprocess.run(kubectl + ["delete", "pod", "sleeper", "--wait=false"], capture_output=True, check=True)
        result = ansible_run.module("hub_wait", dict(args, timeout=120))
        assert not result["failed"] and result["ready"] is True, result
        assert result["attempts"] >= 2  # its container ran on for its grace period
        assert running_in(ns) == []  # when the wait ends, nothing of the pod runs
        told = result["stdout"].splitlines()  # gone, or still being deleted
        assert all(line.startswith("sleeper app=sleeper ") and line.endswith(" (being deleted)") for line in told), told
        left = json.loads(subprocess.run(pods, capture_output=True, text=True, check=True).stdout)["items"]
        assert all(p["metadata"].get("deletionTimestamp") and "terminated" in p["status"]["containerStatuses"][0]["state"]
                   for p in left), left  # what is still there has stopped (it cannot start again)
    finally:
        subprocess.run(["kubectl", "--kubeconfig", labhub.KUBECONFIG, "delete", "namespace", ns, "--wait=false"],
                       capture_output=True, check=False)
