"""module_utils/_services.py: what runs of a hub, how healthy, and the sentence that says why not."""
import json
import os
import sys

from ansible_collections.blackduck.hub.plugins.module_utils import _services

FAKE = r'''
import json, sys
args = sys.argv[1:]
with open(%(rules)r) as f:
    rules = json.load(f)
with open(%(log)r, "a") as f:
    f.write(json.dumps(args) + "\n")
for rule in rules:
    if all(m in args for m in rule["match"]):
        sys.stdout.write(rule.get("stdout", "")); sys.stderr.write(rule.get("stderr", "")); sys.exit(rule.get("rc", 0))
sys.exit(99)
'''


def fake_cli(tmp_path, rules):
    (tmp_path / "rules.json").write_text(json.dumps(rules))
    script = tmp_path / "cli.py"
    script.write_text(FAKE % {"rules": str(tmp_path / "rules.json"), "log": str(tmp_path / "calls.log")})
    wrapper = tmp_path / "cli"
    wrapper.write_text("#!/bin/sh\nexec %s %s \"$@\"\n" % (sys.executable, script))
    os.chmod(str(wrapper), 0o755)
    return str(wrapper)


def container(name, service, status="running", health=None, output="", exit_code=0, restarts=0):
    state = {"Status": status, "ExitCode": exit_code}
    if health:
        state["Health"] = {"Status": health, "Log": [{"Output": "first"}, {"Output": output}]}
    return {"Id": "id-" + name, "Name": "/" + name, "State": state, "RestartCount": restarts,
            "Config": {"Labels": {"com.docker.compose.service": service}}}


def test_docker_services_name_the_unhealthy_one_and_its_log(tmp_path):
    inspected = [container("hub-webapp-1", "webapp", health="unhealthy", output="unhealthy: 503\n", restarts=2),
                 container("hub-postgres-1", "postgres", health="healthy"),
                 container("hub-cfssl-1", "cfssl", status="exited", exit_code=1)]
    docker = fake_cli(tmp_path, [
        {"match": ["ps"], "stdout": "id-hub-webapp-1\nid-hub-postgres-1\nid-hub-cfssl-1\n"},
        {"match": ["inspect"], "stdout": json.dumps(inspected)},
        {"match": ["logs", "id-hub-webapp-1"], "stderr": "+ HUB_PROXY_PASSWORD=pr0xy\npassword authentication failed for user \"blackduck_user\"\n"},
        {"match": ["logs", "id-hub-cfssl-1"], "stdout": "cannot start\n",
         "stderr": "STATEMENT:  ALTER ROLE blackduck_user WITH PASSWORD 'md5f00dcafe';\n"},
    ])
    found = _services.docker_services(docker, "compose", "hub", log_lines=5)
    assert found[0]["log_tail"] == ["cannot start", "STATEMENT:  ALTER ROLE blackduck_user WITH PASSWORD '(hidden)';"]
    assert [(s["service"], s["state"], s["health"]) for s in found] == [
        ("cfssl", "exited", ""), ("postgres", "running", "healthy"), ("webapp", "running", "unhealthy")]
    assert [s["service"] for s in _services.problems(found)] == ["cfssl", "webapp"]
    assert found[1]["log_tail"] == []  # a healthy one's log is not read
    assert _services.summary(found) == (
        "cfssl (hub-cfssl-1) is exited with 1; the last lines of its log: cannot start | STATEMENT:  ALTER ROLE "
        "blackduck_user WITH PASSWORD '(hidden)';. "
        "webapp (hub-webapp-1) is unhealthy, restarted 2 times; its health check said: unhealthy: 503; the last lines "
        "of its log: + HUB_PROXY_PASSWORD=(not shown) | password authentication failed for user \"blackduck_user\"")
    calls = [json.loads(line) for line in (tmp_path / "calls.log").read_text().splitlines()]
    assert calls[0] == ["ps", "-a", "-q", "--no-trunc", "--filter", "label=com.docker.compose.project=hub"]


def test_swarm_service_names_lose_the_stack_prefix(tmp_path):
    c = container("hub_webapp.1.x", "x", health="healthy")
    c["Config"]["Labels"] = {"com.docker.swarm.service.name": "hub_webapp"}
    docker = fake_cli(tmp_path, [{"match": ["ps"], "stdout": "id-hub_webapp.1.x\n"},
                                 {"match": ["inspect"], "stdout": json.dumps([c])}])
    found = _services.docker_services(docker, "swarm", "hub")
    assert found[0]["service"] == "webapp" and _services.summary(found) == ""


def test_docker_run_containers_by_name_with_a_hub_label(tmp_path):
    hubs = container("webapp", "x", health="unhealthy", output="503")
    hubs["Config"]["Labels"] = {"com.blackducksoftware.hub.version": "4.2.0"}
    other = container("postgres", "x", health="healthy")  # someone else's container of a Hub's name: not listed
    other["Config"]["Labels"] = {}
    docker = fake_cli(tmp_path, [{"match": ["container", "inspect"], "stdout": json.dumps([hubs, other]), "rc": 1},
                                 {"match": ["logs"], "stdout": "boom\n"}])
    found = _services.docker_services(docker, "docker_run", None, names=["webapp", "postgres", "cfssl"])
    assert [(s["service"], s["name"], s["health"]) for s in found] == [("webapp", "webapp", "unhealthy")]
    assert found[0]["log_tail"] == ["boom"]


def test_nothing_there(tmp_path):
    docker = fake_cli(tmp_path, [{"match": ["ps"], "stdout": ""}])
    assert _services.docker_services(docker, "compose", "hub") == []
    assert _services.summary([]) == "no container or pod of the hub exists"


def test_kubernetes_pods(tmp_path):
    pods = {"items": [
        {"metadata": {"name": "postgres-1", "labels": {"app": "postgres"}},
         "status": {"containerStatuses": [{"name": "postgres", "ready": True, "restartCount": 0,
                                           "state": {"running": {}}}]}},
        {"metadata": {"name": "webapp-1", "labels": {"app": "webapp"}},
         "status": {"containerStatuses": [{"name": "webapp", "ready": False, "restartCount": 3,
                                           "state": {"waiting": {"reason": "CrashLoopBackOff",
                                                                 "message": "back-off 40s"}}}]}},
        {"metadata": {"name": "solr-1", "labels": {"app": "solr"}},
         "status": {"phase": "Pending", "conditions": [{"message": "0/1 nodes are available: Insufficient cpu."}]}},
    ]}
    kubectl = fake_cli(tmp_path, [{"match": ["get", "pods"], "stdout": json.dumps(pods)},
                                  {"match": ["logs", "webapp-1"], "stdout": "FATAL: database \"bds_hub\" does not exist\n"}])
    found = _services.kubernetes_services([kubectl, "-n", "hub"])
    assert [(s["service"], s["state"], s["health"]) for s in found] == [
        ("postgres", "running", "ready"), ("solr", "pending", "not ready"), ("webapp", "waiting", "not ready")]
    assert _services.summary(found) == (
        "solr (solr-1) is pending; Kubernetes says: 0/1 nodes are available: Insufficient cpu.. "
        "webapp (webapp-1/webapp) is waiting, restarted 3 times; Kubernetes says: CrashLoopBackOff back-off "
        "40s; the last lines of its log: FATAL: database \"bds_hub\" does not exist")


def test_services_still_starting_are_named_together():
    found = [{"name": "hub-a-1", "service": "a", "state": "running", "health": "starting", "restarts": 0,
              "health_output": "", "log_tail": ["up"]},
             {"name": "hub-b-1", "service": "b", "state": "running", "health": "starting", "restarts": 0,
              "health_output": "", "log_tail": ["up"]},
             {"name": "hub-c-1", "service": "c", "state": "restarting", "health": "", "restarts": 4, "exit_code": 1,
              "health_output": "", "log_tail": ["1", "2", "3", "4", "5", "6", "boom"]}]
    assert _services.summary(found) == ("c (hub-c-1) is restarting, restarted 4 times; the last lines of its log: "
                                        "3 | 4 | 5 | 6 | boom. still starting (no health check result yet): a, b")
