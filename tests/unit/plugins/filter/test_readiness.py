"""plugins/filter/readiness.py: when a started Hub counts as up, per orchestration."""
from ansible_collections.blackduck.hub.plugins.filter import readiness
from ansible_collections.blackduck.hub.plugins.filter.readiness import (
    FilterModule, k8s_pods_ready, swarm_stack_ready, swarm_stack_version)

SERVICES = ["cfssl", "logstash", "postgres"]


def test_exported():
    names = ["k8s_pods_ready", "swarm_node_problems", "swarm_stack_ready", "swarm_stack_version"]
    assert sorted(FilterModule().filters()) == names


def test_swarm_stack_ready():
    up = ["hub_cfssl Up 40 seconds (healthy)", "hub_logstash Up 40 seconds (healthy)", "hub_postgres Up 39 seconds"]
    assert swarm_stack_ready(up, SERVICES, "hub") is True
    starting = up[:2] + ["hub_postgres Up 3 seconds (health: starting)"]
    assert swarm_stack_ready(starting, SERVICES, "hub") is False
    assert swarm_stack_ready(starting, SERVICES, "hub", healthy=False) is True  # running is enough
    unhealthy = up[:2] + ["hub_postgres Up 3 minutes (unhealthy)"]
    assert swarm_stack_ready(unhealthy, SERVICES, "hub", healthy=False) is False
    assert swarm_stack_ready(up[:2], SERVICES, "hub") is False  # a service without its container
    assert swarm_stack_ready(up + ["hub_postgres Up 1 second"], SERVICES, "hub") is False  # two of one (an old task)
    assert swarm_stack_ready(up + ["hub_webapp Up 1 second"], SERVICES, "hub") is False  # another service's
    assert swarm_stack_ready([], [], "hub") is True


def test_swarm_stack_version():
    up = ["hub_cfssl blackducksoftware/hub-cfssl:4.1.4 Up 40 seconds (healthy)",
          "hub_webapp blackducksoftware/hub-webapp:4.1.4@sha256:abc Up 39 seconds (healthy)"]
    assert swarm_stack_version(up, ["cfssl", "webapp"], "hub") == "4.1.4"
    assert swarm_stack_version(up, ["cfssl", "webapp", "postgres"], "hub") == ""  # a service without its container
    starting = up[:1] + ["hub_webapp blackducksoftware/hub-webapp:4.1.4 Up 3 seconds (health: starting)"]
    assert swarm_stack_version(starting, ["cfssl", "webapp"], "hub") == ""  # not answering yet
    assert swarm_stack_version(up[:1], ["cfssl"], "hub") == ""  # no webapp: nothing answers versions
    registry = ["hub_webapp registry.example.com:5000/hub-webapp Up 1 minute"]
    assert swarm_stack_version(registry, ["webapp"], "hub") == ""  # a registry port is not a tag
    assert swarm_stack_version(["hub_webapp local:4.2.0 Up 1 minute"], ["webapp"], "hub") == "4.2.0"


def pod(app, ready=True, deleting=False):
    meta = {"name": app + "-1", "labels": {"app": app}}
    if deleting:
        meta["deletionTimestamp"] = "2026-11-30T00:00:00Z"
    return {"metadata": meta, "status": {"conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_k8s_pods_ready():
    assert k8s_pods_ready([pod("cfssl"), pod("postgres")], ["postgres", "cfssl"]) is True
    assert k8s_pods_ready([pod("cfssl"), pod("postgres", ready=False)], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl"), pod("postgres"), pod("postgres", deleting=True)], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl")], ["postgres", "cfssl"]) is False
    assert k8s_pods_ready([pod("cfssl"), pod("postgres"), pod("webapp")], ["postgres", "cfssl"]) is False  # not alone
    assert k8s_pods_ready([{"metadata": {"labels": {"app": "x"}}, "status": {}}], ["x"]) is False  # no conditions yet


def _swarm(nodes, manager=True):
    return {"can_talk_to_docker": True, "docker_swarm_active": True, "docker_swarm_manager": manager, "nodes": nodes}


def _node(node_id, host, availability="active", status="ready"):
    return {"ID": node_id, "Hostname": host, "Status": status, "Availability": availability, "ManagerStatus": None}


def test_swarm_node_problems_a_lone_manager_is_fine():
    assert readiness.swarm_node_problems(_swarm([_node("n1", "hub1")]), "n1") == []
    # other nodes paused, drained or down take no new tasks
    nodes = [_node("n1", "hub1"), _node("n2", "w2", "pause"), _node("n3", "w3", "drain"), _node("n4", "w4", status="down")]
    assert readiness.swarm_node_problems(_swarm(nodes), "n1") == []


def test_swarm_node_problems_names_what_to_do():
    nodes = [_node("n1", "hub1"), _node("n2", "w2"), _node("n3", "w1")]
    problems = readiness.swarm_node_problems(_swarm(nodes), "n1")
    assert len(problems) == 1 and problems[0].startswith("other nodes take new tasks (availability active): w1, w2.")
    assert "docker node update --availability pause <node>" in problems[0]
    worker = readiness.swarm_node_problems({"can_talk_to_docker": True, "docker_swarm_manager": False, "nodes": [],
                                            "msg": "This node is not a manager."}, "n1")
    assert worker[0].startswith("this node is not a swarm manager")
    no_sdk = readiness.swarm_node_problems({"can_talk_to_docker": False, "msg": "Failed to import the required Python "
                                            "library (Docker SDK for Python: docker above 5.0.0)"}, "n1")
    assert no_sdk == ["the swarm's nodes cannot be read: Failed to import the required Python library (Docker SDK for "
                      "Python: docker above 5.0.0)"]
