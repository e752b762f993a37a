"""plugins/filter/readiness.py: when a started Hub counts as up, per orchestration."""
from ansible_collections.blackduck.hub.plugins.filter import readiness
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.filter.readiness import (
    FilterModule, docker_run_actions, docker_run_hub_names, docker_run_ready, k8s_pods_ready, k8s_scaled_up, swarm_stack_ready, swarm_stack_version)

SERVICES = ["cfssl", "logstash", "postgres"]


def test_exported():
    names = ["docker_run_actions", "docker_run_hub_names", "docker_run_ready", "k8s_pods_ready", "k8s_scaled_up", "swarm_node_problems", "swarm_stack_ready",
             "swarm_stack_version"]
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


DR = {"cfssl": {"image": "blackducksoftware/hub-cfssl:4.2.0", "argv": ["docker", "run", "--name", "cfssl"]},
      "postgres": {"image": "blackducksoftware/hub-postgres:4.2.0", "argv": ["docker", "run", "--name", "postgres"]}}


def inspected(name, image, running=True, health=None):
    state = {"Running": running}
    if health:
        state["Health"] = {"Status": health}
    return {"Name": "/" + name, "Config": {"Image": image}, "State": state}


def test_docker_run_ready():
    up = [inspected("cfssl", DR["cfssl"]["image"], health="healthy"), inspected("postgres", DR["postgres"]["image"])]
    assert docker_run_ready(up, DR, ["cfssl", "postgres"]) is True  # no health check: running is enough
    assert docker_run_ready(up[:1], DR, ["cfssl", "postgres"]) is False  # one missing
    assert docker_run_ready(up[:1], DR, ["cfssl"]) is True  # only those asked for
    starting = [inspected("cfssl", DR["cfssl"]["image"], health="starting")] + up[1:]
    assert docker_run_ready(starting, DR, ["cfssl", "postgres"]) is False
    assert docker_run_ready(starting, DR, ["cfssl", "postgres"], healthy=False) is True
    sick = [inspected("cfssl", DR["cfssl"]["image"], health="unhealthy")] + up[1:]
    assert docker_run_ready(sick, DR, ["cfssl", "postgres"], healthy=False) is False
    old = up[:1] + [inspected("postgres", "blackducksoftware/hub-postgres:4.1.4")]
    assert docker_run_ready(old, DR, ["cfssl", "postgres"]) is False  # another version's database
    stopped = up[:1] + [inspected("postgres", DR["postgres"]["image"], running=False)]
    assert docker_run_ready(stopped, DR, ["cfssl", "postgres"]) is False


def test_docker_run_ready_with_a_health_check_on_the_wrong_port():
    # the vendor's 4.x webserver asks https://localhost:443 where nginx listens on 8443: never healthy
    containers = dict(DR, webserver={"image": "blackducksoftware/hub-nginx:4.2.0", "health_check_wrong_port": True})
    web = inspected("webserver", "blackducksoftware/hub-nginx:4.2.0", health="unhealthy")
    assert docker_run_ready([web], containers, ["webserver"]) is True  # running is enough for that one
    web["State"]["Restarting"] = True
    assert docker_run_ready([web], containers, ["webserver"]) is False
    web = inspected("webserver", "blackducksoftware/hub-nginx:4.2.0", running=False)
    assert docker_run_ready([web], containers, ["webserver"]) is False


def test_docker_run_actions():
    there = [inspected("cfssl", DR["cfssl"]["image"], running=False)]
    assert docker_run_actions(there, DR, ["cfssl", "postgres"]) == [
        {"name": "cfssl", "do": "start", "argv": ["docker", "start", "cfssl"]},
        {"name": "postgres", "do": "run", "argv": ["docker", "run", "--name", "postgres"]}]
    running = [inspected("cfssl", DR["cfssl"]["image"])]
    assert docker_run_actions(running, DR, ["cfssl"])[0]["do"] == "keep"


def test_docker_run_actions_with_the_dump_folder_mounted():
    """The database container in migration mode with the dump folder: run with it; one there without it (a run
    before that streamed) stopped, removed and run again with it; one that has it kept."""
    spec = "/srv/dumps/hub/dump:/blackduck-hub-dump"
    mounted = ["docker", "run", "--volume", spec, "--name", "postgres"]
    assert docker_run_actions([], DR, ["cfssl", "postgres"], {"postgres": spec}) == [
        {"name": "cfssl", "do": "run", "argv": DR["cfssl"]["argv"]},
        {"name": "postgres", "do": "run", "argv": mounted}]
    without = inspected("postgres", DR["postgres"]["image"])
    without["Mounts"] = [{"Type": "volume", "Source": "/var/lib/docker/volumes/data-volume/_data",
                          "Destination": "/var/lib/postgresql/data"}]
    assert docker_run_actions([without], DR, ["postgres"], {"postgres": spec}) == [
        {"name": "postgres", "do": "stop", "argv": ["docker", "stop", "postgres"]},
        {"name": "postgres", "do": "remove", "argv": ["docker", "rm", "postgres"]},
        {"name": "postgres", "do": "run", "argv": mounted}]
    with_it = dict(without, Mounts=without["Mounts"] + [
        {"Type": "bind", "Source": "/srv/dumps/hub/dump", "Destination": "/blackduck-hub-dump"}])
    assert docker_run_actions([with_it], DR, ["postgres"], {"postgres": spec})[0]["do"] == "keep"
    # hub_dump_dir as given (a trailing slash, a doubled one): the same folder as Docker keeps it, kept too
    assert docker_run_actions([with_it], DR, ["postgres"], {"postgres": "/srv/dumps/hub//dump/:/blackduck-hub-dump"})[0][
        "do"] == "keep"
    assert docker_run_actions([], DR, ["postgres"], {"postgres": "//srv/dumps/hub/dump/:/blackduck-hub-dump/"})[0][
        "argv"] == mounted
    assert docker_run_actions([without], DR, ["postgres"])[0]["do"] == "keep"  # no mount wanted: as it is


def test_docker_run_actions_refuse_another_image():
    other = [inspected("postgres", "postgres:15")]
    with pytest.raises(AnsibleFilterError) as info:
        docker_run_actions(other, DR, ["cfssl", "postgres"])
    assert str(info.value).startswith("a container named postgres runs postgres:15, not "
                                      "blackducksoftware/hub-postgres:4.2.0: it is in the way of the Hub's postgres.")


def test_docker_run_hub_names():
    hubs = inspected("postgres", "blackducksoftware/hub-postgres:4.1.4")
    hubs["Config"]["Labels"] = {"com.blackducksoftware.hub.version": "4.1.4"}
    other = inspected("webapp", "example/webapp")
    other["Config"]["Labels"] = None  # docker inspect's {{json .Config.Labels}} of a container without labels
    assert docker_run_hub_names([hubs, other, inspected("cfssl", "x")]) == ["postgres"]
    assert docker_run_hub_names([]) == []


def workload(kind, name, replicas=None):
    w = {"kind": kind, "metadata": {"name": name}, "spec": {}}
    if replicas is not None:
        w["spec"]["replicas"] = replicas
    return w


def test_k8s_scaled_up_names_what_still_runs_as_kubectl_scale_takes_it():
    items = [workload("Deployment", "webapp", 1), workload("Deployment", "postgres", 0),
             workload("StatefulSet", "solr", 2), workload("ReplicationController", "old-rc"),
             workload("ReplicationController", "zero-rc", 0)]
    assert k8s_scaled_up(items) == ["deployment/webapp", "statefulset/solr", "replicationcontroller/old-rc"]
    assert k8s_scaled_up([workload("Deployment", "a", 0)]) == [] and k8s_scaled_up(None) == []
