"""plugins/module_utils/_readiness.py: the waits' predicates over what a command printed, and the one waiter."""
import json

from ansible_collections.blackduck.hub.plugins.module_utils import _readiness as readiness


def _pod(app, ready=True, terminating=False):
    meta = {"labels": {"app": app}}
    if terminating:
        meta["deletionTimestamp"] = "2026-12-06T07:00:00Z"
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_holds_reads_each_kind_of_output():
    assert readiness.holds("gone", 0, "", {})
    assert readiness.holds("gone", 0, "\n  \n", {})
    assert not readiness.holds("gone", 0, "pod/postgres-0\n", {})
    pods = json.dumps({"items": [_pod("postgres"), _pod("cfssl")]})
    assert readiness.holds("k8s_pods_ready", 0, pods, {"apps": ["cfssl", "postgres"]})
    assert not readiness.holds("k8s_pods_ready", 0, pods, {"apps": ["postgres"]})  # another pod runs beside
    assert not readiness.holds("k8s_pods_ready", 0, json.dumps({"items": [_pod("postgres", terminating=True)]}),
                               {"apps": ["postgres"]})
    lines = "hub_postgres Up 3 seconds (healthy)\nhub_cfssl Up 5 seconds"
    assert readiness.holds("swarm_stack_ready", 0, lines, {"services": ["postgres", "cfssl"], "stack": "hub"})
    starting = "hub_postgres Up 3 seconds (health: starting)"
    assert not readiness.holds("swarm_stack_ready", 0, starting, {"services": ["postgres"], "stack": "hub"})
    assert readiness.holds("swarm_stack_ready", 0, starting, {"services": ["postgres"], "stack": "hub",
                                                              "healthy": False})
    image = "blackducksoftware/blackduck-postgres:1.0.0"
    inspected = json.dumps({"Name": "/hub-postgres", "Config": {"Image": image},
                            "State": {"Running": True, "Health": {"Status": "starting"}}})
    wanted = {"images": {"hub-postgres": image}}
    assert not readiness.holds("docker_run_ready", 0, inspected + "\n", wanted)  # its health check not passed yet
    assert readiness.holds("docker_run_ready", 0, inspected + "\n", dict(wanted, running_enough=["hub-postgres"]))
    assert readiness.holds("docker_run_ready", 0, inspected.replace("starting", "healthy") + "\n", wanted)
    assert not readiness.holds("docker_run_ready", 0, inspected.replace("starting", "healthy"),
                               {"images": {"hub-postgres": image, "hub-cfssl": image}})  # one not there
    assert not readiness.holds("docker_run_ready", 0, inspected.replace("starting", "healthy"),
                               {"images": {"hub-postgres": image + "-other"}})  # another image


def test_a_failed_or_unreadable_check_is_not_ready_never_an_error():
    assert not readiness.holds("gone", 1, "", {})  # kubectl could not ask: nothing is known to be gone
    assert not readiness.holds("k8s_pods_ready", 0, "Unable to connect to the server", {"apps": ["postgres"]})
    assert not readiness.holds("k8s_pods_ready", 0, "{}", {"apps": ["postgres"]})  # no items: none ready
    assert not readiness.holds("swarm_stack_ready", 0, "hub_postgres Up", {})  # nothing wanted said: not ready
    assert not readiness.holds("docker_run_ready", 0, "Error: No such container: hub-postgres", {"images": {}})


ASKED = "2026-12-06T07:00:30Z"  # the deletion asked at 07:00:00, with 30 s of grace


def _deleted(states, init_states=None, finished="2026-12-06T07:00:02Z", sidecars=()):
    """A pod being deleted: its containers' states by name (running, waiting, terminated; None: not reported); the
    terminated ones finished at finished."""
    def status(name, st):
        return {"name": name, "state": {st: {"finishedAt": finished} if st == "terminated" else {}}}
    spec = {"containers": [{"name": n} for n in states]}
    st = {"phase": "Running", "containerStatuses": [status(n, v) for n, v in states.items() if v]}
    if init_states:
        spec["initContainers"] = [dict({"name": n}, **({"restartPolicy": "Always"} if n in sidecars else {}))
                                  for n in init_states]
        st["initContainerStatuses"] = [status(n, v) for n, v in init_states.items() if v]
    return {"metadata": {"labels": {"app": "postgres"}, "deletionTimestamp": ASKED, "deletionGracePeriodSeconds": 30},
            "spec": spec, "status": st}


def test_pods_stopped_when_nothing_of_them_runs_nor_will():
    def stopped(*pods):
        return readiness.holds("k8s_pods_stopped", 0, json.dumps({"items": list(pods)}), {})
    assert stopped()  # none left
    assert stopped(_deleted({"postgres": "terminated"}), _deleted({"a": "terminated", "b": "terminated"}))
    assert stopped(_deleted({"postgres": "terminated"}, finished="2026-12-06T07:00:00Z"))  # the second it was asked
    assert not stopped(_deleted({"a": "terminated", "b": "running"}))  # one container still runs
    assert not stopped(_deleted({"postgres": "waiting"}))  # not started yet: it may still start
    assert not stopped(_deleted({"a": "terminated", "b": None}))  # one not reported: not known to have stopped
    # stopped before the deletion was asked (it crashed): its kubelet may have started it again since
    assert not stopped(_deleted({"postgres": "terminated"}, finished="2026-12-06T06:59:59Z"))
    assert not stopped(_deleted({"postgres": "terminated"}, finished=None))
    # an init container that ran to its end long before counts; a sidecar (it restarts) must have stopped since
    early = {"finished": "2026-12-06T07:00:02Z"}
    pod = _deleted({"postgres": "terminated"}, {"init": "terminated"}, **early)
    pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["finishedAt"] = "2026-12-06T06:00:00Z"
    assert stopped(pod)
    pod = _deleted({"postgres": "terminated"}, {"proxy": "terminated"}, sidecars=("proxy",), **early)
    pod["status"]["initContainerStatuses"][0]["state"]["terminated"]["finishedAt"] = "2026-12-06T06:00:00Z"
    assert not stopped(pod)
    assert not stopped(_deleted({"postgres": "terminated"}, {"init": None}))  # an init container not reported
    done_not_deleted = _deleted({"postgres": "terminated"})
    del done_not_deleted["metadata"]["deletionTimestamp"]
    assert not stopped(done_not_deleted)  # not being deleted, still Running: its kubelet may start it again
    evicted = dict(done_not_deleted, status={"phase": "Failed", "reason": "Evicted"})
    assert stopped(evicted) and stopped(dict(evicted, status={"phase": "Succeeded"}))  # finished: none starts again
    assert not stopped(_pod("postgres"))  # runs, not being deleted
    assert not stopped(dict(_pod("postgres", terminating=True), spec={"containers": [{"name": "p"}]}))  # no status
    assert not readiness.holds("k8s_pods_stopped", 0, "{}", {})  # no items: what runs is not known
    assert not readiness.holds("k8s_pods_stopped", 1, json.dumps({"items": []}), {})  # kubectl failed


def test_pods_ready_beside_a_pod_that_no_longer_runs():
    ready = dict(_pod("postgres"), spec={"containers": [{"name": "postgres"}]})
    wanted = {"apps": ["postgres"]}
    assert readiness.holds("k8s_pods_ready", 0, json.dumps({"items": [ready, _deleted({"postgres": "terminated"})]}),
                           wanted)  # the old pod's containers have stopped: the kubelet removes it later
    evicted = {"metadata": {"labels": {"app": "postgres"}}, "status": {"phase": "Failed", "reason": "Evicted"}}
    assert readiness.holds("k8s_pods_ready", 0, json.dumps({"items": [ready, evicted]}), wanted)
    assert not readiness.holds("k8s_pods_ready", 0, json.dumps({"items": [ready, _deleted({"postgres": "running"})]}),
                               wanted)  # the old pod still runs beside the new one


class _Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def _runner(outputs, clock, cost=0.5):
    calls = []

    def run(argv):
        calls.append(list(argv))
        clock.now += cost  # each check takes a while
        return outputs[min(len(calls), len(outputs)) - 1]
    return run, calls


def test_wait_checks_until_the_predicate_holds():
    clock = _Clock()
    run, calls = _runner([(0, "pod/a\npod/b\n", ""), (1, "", "timeout"), (0, "pod/a\n", ""), (0, "", "")], clock)
    found = readiness.wait(run, ["kubectl", "get", "pods"], "gone", {}, timeout=60, interval=2, clock=clock,
                           sleep=clock.sleep)
    assert found == {"ready": True, "attempts": 4, "seconds": 8.0, "rc": 0, "stdout": "", "stderr": "",
                     "failed_in_a_row": 0, "hopeless": ""}
    assert calls == [["kubectl", "get", "pods"]] * 4


def test_wait_gives_up_on_its_clock_with_the_last_check():
    clock = _Clock()
    run, calls = _runner([(0, "pod/a\n", "")], clock)
    found = readiness.wait(run, ["kubectl"], "gone", {}, timeout=10, interval=2, clock=clock, sleep=clock.sleep)
    # checks end at 0.5, 3, 5.5 and 8 s (each takes 0.5 s): a check after 8 s would start at the timeout
    assert found["ready"] is False and found["attempts"] == 4 and found["stdout"] == "pod/a\n"
    assert found["seconds"] == 8.0 and clock.now - 100 <= 10


def test_wait_always_checks_once():
    clock = _Clock()
    run, calls = _runner([(0, "", "")], clock)
    assert readiness.wait(run, ["docker"], "gone", {}, timeout=0, interval=3, clock=clock, sleep=clock.sleep)["ready"]
    run, calls = _runner([(0, "x", "")], clock)
    assert readiness.wait(run, ["docker"], "gone", {}, timeout=0, interval=3, clock=clock,
                          sleep=clock.sleep)["attempts"] == 1


def test_a_command_that_keeps_failing_ends_the_wait_one_failure_does_not():
    clock = _Clock()
    outputs = [(1, "", "hiccup"), (0, "pod/a\n", ""), (1, "", "e1"), (1, "", "e2"), (1, "", "Unauthorized"),
               (0, "", "")]
    run, calls = _runner(outputs, clock)
    found = readiness.wait(run, ["kubectl"], "gone", {}, timeout=300, interval=2, clock=clock, sleep=clock.sleep)
    assert found["ready"] is False and found["failed_in_a_row"] == readiness.FAILED_IN_A_ROW == 3
    assert found["attempts"] == 5 and found["stderr"] == "Unauthorized" and found["rc"] == 1
    assert clock.now - 100 < 20  # not the 300 s of the timeout


def test_a_wait_on_pods_tells_a_line_per_pod_never_their_specs():
    """The pods' JSON holds their specs - a container's env may set a password inline - and a wait's result shows at
    -v: it tells what the predicate read of each pod, a line each."""
    clock = _Clock()
    ready = _pod("postgres")
    ready["metadata"]["name"] = "postgres-7d9"
    ready["status"]["phase"] = "Running"
    ready["spec"] = {"containers": [{"name": "postgres", "env": [{"name": "POSTGRES_PASSWORD", "value": "s3cret"}]}]}
    going = _pod("cfssl", ready=False, terminating=True)
    pods = json.dumps({"items": [ready, going]})
    run, calls = _runner([(0, pods, "")], clock)
    found = readiness.wait(run, ["kubectl"], "k8s_pods_ready", {"apps": ["postgres"]}, timeout=0, interval=2,
                           clock=clock, sleep=clock.sleep)
    assert found["ready"] is False  # the cfssl pod is still being deleted, its containers not known to have stopped
    assert found["stdout"] == "postgres-7d9 app=postgres Running ready\n? app=cfssl Unknown not ready (being deleted)"
    assert "s3cret" not in json.dumps(found)
    run, calls = _runner([(0, pods[:40], "")], clock)  # cut off: not shown either
    found = readiness.wait(run, ["kubectl"], "k8s_pods_stopped", {}, timeout=0, interval=2, clock=clock,
                           sleep=clock.sleep)
    assert found["stdout"] == "(40 characters, not shown: not the pods' list of kubectl get pods -o json)"
    for odd in ('{"items": 5}', '{"items": [null]}', '["x"]', '{"items": [{"metadata": "x"}]}', '{"kind": "Pod"}',
                '{"items": [{"metadata": {"labels": ["a"]}}]}', '{"items": [{"status": {"conditions": ["x"]}}]}'):
        assert readiness.k8s_pods_said(odd) == "(%d characters, not shown: not the pods' list of kubectl get pods -o json)" % (
            len(odd)), odd  # never an error: the wait's result is kept
    assert readiness.k8s_pods_said("") == "" and readiness.k8s_pods_said('{"items": []}') == ""
    run, calls = _runner([(0, json.dumps({"items": []}), "")], clock)
    assert readiness.wait(run, ["kubectl"], "k8s_pods_stopped", {}, timeout=0, interval=2, clock=clock,
                          sleep=clock.sleep) == {"ready": True, "attempts": 1, "seconds": 0.5, "rc": 0, "stdout": "",
                                                 "stderr": "", "failed_in_a_row": 0, "hopeless": ""}
    run, calls = _runner([(0, "hub_postgres Up 3 seconds\n", "")], clock)  # other kinds: the output as printed
    assert readiness.wait(run, ["docker"], "swarm_stack_ready", {"services": ["postgres"], "stack": "hub"},
                          timeout=0, interval=2, clock=clock, sleep=clock.sleep)["stdout"] == "hub_postgres Up 3 seconds\n"


def _inspect_line(name, image, **state):
    return json.dumps({"Name": "/" + name, "Config": {"Image": image}, "State": state})


def test_a_docker_run_container_that_stopped_for_good_ends_the_wait_at_once():
    """docker-hub.sh sets no restart policy: a webapp that exited stays so, and the wait says so at that check
    instead of running out its timeout; one that is being restarted (a policy an administrator added) may still
    come up."""
    wanted = {"images": {"webapp": "hub-webapp:4.2.0", "cfssl": "hub-cfssl:4.2.0"}}
    up = _inspect_line("cfssl", "hub-cfssl:4.2.0", Status="running", Running=True)
    starting = _inspect_line("webapp", "hub-webapp:4.2.0", Status="running", Running=True,
                             Health={"Status": "starting"})
    restarting = _inspect_line("webapp", "hub-webapp:4.2.0", Status="restarting", Running=True, Restarting=True,
                               ExitCode=1)
    exited = _inspect_line("webapp", "hub-webapp:4.2.0", Status="exited", Running=False, ExitCode=137,
                           FinishedAt="2026-12-08T04:00:00Z")
    clock = _Clock()
    run, calls = _runner([(0, up + "\n" + starting, ""), (0, up + "\n" + restarting, ""), (0, up + "\n" + exited, ""),
                          (0, "never asked", "")], clock)
    found = readiness.wait(run, ["docker"], "docker_run_ready", wanted, timeout=1800, interval=3, clock=clock,
                           sleep=clock.sleep)
    assert found["ready"] is False and found["attempts"] == 3 and clock.now - 100 < 20
    assert found["hopeless"] == ("container webapp exited with code 137 at 2026-12-08T04:00:00Z, and nothing starts "
                                 "it again (docker-hub.sh sets no restart policy): see docker logs webapp")
    # a failed or unreadable check is no such proof, nor is a wait of another kind
    assert readiness.hopeless("docker_run_ready", 1, exited, wanted) == ""
    assert readiness.hopeless("docker_run_ready", 0, "not json", wanted) == ""
    assert readiness.hopeless("gone", 0, exited, wanted) == ""
