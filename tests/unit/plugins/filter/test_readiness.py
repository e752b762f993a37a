"""plugins/filter/readiness.py: when a started Hub counts as up, per orchestration."""
import json

from ansible_collections.blackduck.hub.plugins.filter import readiness
import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.filter.readiness import (
    FilterModule, docker_run_actions, docker_run_hub_names, docker_run_ready, k8s_pods_ready, k8s_scaled_up, swarm_stack_ready, swarm_stack_version)

SERVICES = ["cfssl", "logstash", "postgres"]


def test_exported():
    names = ["docker_run_actions", "docker_run_hub_names", "docker_run_ready", "k8s_node_problems", "k8s_pods_ready",
             "k8s_scaled_up", "swarm_node_problems", "swarm_stack_ready", "swarm_stack_version"]
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


PINNED = {"blackduck.hub.postgres": "true"}


def k8s_nodes(*nodes):
    """kubectl get nodes -o json's registered result: nodes are (name, labels, machine ID[, unschedulable])."""
    items = [{"metadata": {"name": n[0], "labels": n[1]}, "status": {"nodeInfo": {"machineID": n[2]}},
              "spec": {"unschedulable": True} if n[3:] == (True,) else {}} for n in nodes]
    return {"rc": 0, "stdout": json.dumps({"items": items}), "stderr": ""}


def test_k8s_node_problems_this_host_labelled_alone_is_fine():
    assert readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "m1"), ("n2", {}, "m2")), [PINNED, PINNED], "m1") == []
    # which node is this host cannot be told (no machine ID on either side): not refused
    assert readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "")), [PINNED], "m9") == []
    assert readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "m1")), [PINNED], "") == []
    # no nodeSelector at all: the only node is any node
    assert readiness.k8s_node_problems(k8s_nodes(("n1", {}, "m1")), [{}], "m1") == []


def test_k8s_node_problems_say_what_to_do():
    said = readiness.k8s_node_problems(k8s_nodes(("n1", {}, "m1"), ("n2", {}, "m2")), [PINNED], "m1")
    assert said == ["no schedulable node carries the labels the database pod is pinned to (nodeSelector "
                    "blackduck.hub.postgres=true): the steps would start a database pod that never runs. Label this "
                    "host's node: kubectl label node n1 blackduck.hub.postgres=true"]
    said = readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "m1", True)), [PINNED], "m1")
    assert said[0].startswith("no schedulable node carries the labels the database pod is pinned to (nodeSelector "
                              "blackduck.hub.postgres=true); n1 carries them but is cordoned:")
    said = readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "m1"), ("n2", PINNED, "m2")), [PINNED], "m1")
    assert said == ["2 nodes carry the labels the database pod is pinned to (nodeSelector blackduck.hub.postgres=true): "
                    "n1, n2. Its data folder (hostPath) and the dump folder are on one host's disk, this one's: keep "
                    "the labels on n1 only"]
    said = readiness.k8s_node_problems(k8s_nodes(("n1", {}, "m1"), ("n2", PINNED, "m2")), [PINNED], "m1")
    assert said == ["the database pod is pinned to node n2 (nodeSelector blackduck.hub.postgres=true), which is not "
                    "this host (its machine ID is not this host's /etc/machine-id): its data folder (hostPath) and the "
                    "dump folder are on that node's disk, and the play reads and moves them here. Run the play on n2 "
                    "(the inventory's ansible_host), or move the labels to this host's node (n1)"]
    # two manifests pinned differently: each said once
    other = {"disk": "ssd"}
    said = readiness.k8s_node_problems(k8s_nodes(("n1", PINNED, "m1")), [PINNED, other, other], "m1")
    assert len(said) == 1 and "(nodeSelector disk=ssd)" in said[0]


CONTROL_PLANE = {"key": "node-role.kubernetes.io/control-plane", "effect": "NoSchedule"}


def tainted(listed, *taints):
    """The first node of a k8s_nodes listing with these taints."""
    items = json.loads(listed["stdout"])["items"]
    items[0]["spec"]["taints"] = list(taints)
    return dict(listed, stdout=json.dumps({"items": items}))


def test_k8s_node_problems_a_taint_the_pod_does_not_tolerate_keeps_it_off():
    said = readiness.k8s_node_problems(tainted(k8s_nodes(("n1", PINNED, "m1")), CONTROL_PLANE), [PINNED], "m1")
    assert said == ["no schedulable node carries the labels the database pod is pinned to (nodeSelector "
                    "blackduck.hub.postgres=true); n1 carries them but is tainted node-role.kubernetes.io/control-plane"
                    ":NoSchedule, which the database pod does not tolerate: the steps would start a database pod that "
                    "never runs. Let it take the pod: kubectl taint node n1 node-role.kubernetes.io/control-plane:"
                    "NoSchedule-"]
    # cordoned and tainted by hand: both said, the cordon's own taint once
    both = tainted(k8s_nodes(("n1", PINNED, "m1", True)), {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"},
                   {"key": "dedicated", "value": "db", "effect": "NoExecute"})
    assert readiness.k8s_node_problems(both, [PINNED], "m1")[0].endswith(
        "n1 carries them but is cordoned and is tainted dedicated=db:NoExecute, which the database pod does not "
        "tolerate: the steps would start a database pod that never runs. Let it take the pod: kubectl taint node n1 "
        "dedicated=db:NoExecute-; kubectl uncordon n1")
    # two taints: said together, each lifted
    two = tainted(k8s_nodes(("n1", PINNED, "m1")), CONTROL_PLANE, {"key": "node.kubernetes.io/disk-pressure", "effect": "NoSchedule"})
    assert readiness.k8s_node_problems(two, [PINNED], "m1")[0].endswith(
        "n1 carries them but is tainted node-role.kubernetes.io/control-plane:NoSchedule and "
        "node.kubernetes.io/disk-pressure:NoSchedule, which the database pod does not tolerate: the steps would start "
        "a database pod that never runs. Let it take the pod: kubectl taint node n1 node-role.kubernetes.io/"
        "control-plane:NoSchedule-; make n1 well again (kubectl describe node n1 says what ails it)")
    # Kubernetes' own taint of a sick node: made well, not untainted
    sick = tainted(k8s_nodes(("n1", PINNED, "m1")), {"key": "node.kubernetes.io/not-ready", "effect": "NoExecute"},
                   {"key": "node.kubernetes.io/not-ready", "effect": "NoSchedule"})
    assert readiness.k8s_node_problems(sick, [PINNED], "m1")[0].endswith(
        "n1 carries them but is tainted node.kubernetes.io/not-ready:NoSchedule, which the database pod does not "
        "tolerate: the steps would start a database pod that never runs. Let it take the pod: make n1 well again "
        "(kubectl describe node n1 says what ails it)")
    # the other node, which takes it, is not this host: that is said instead
    said = readiness.k8s_node_problems(tainted(k8s_nodes(("n1", PINNED, "m1"), ("n2", PINNED, "m2")), CONTROL_PLANE),
                                       [PINNED], "m1")
    assert len(said) == 1 and said[0].startswith("the database pod is pinned to node n2 ")


def test_k8s_node_problems_a_taint_tolerated_or_only_preferred_is_no_problem():
    nodes = k8s_nodes(("n1", PINNED, "m1"))
    for toleration in [{"key": "node-role.kubernetes.io/control-plane", "operator": "Exists"},
                       {"key": "node-role.kubernetes.io/control-plane", "operator": "Exists", "effect": "NoSchedule"},
                       {"operator": "Exists"}]:
        assert readiness.k8s_node_problems(tainted(nodes, CONTROL_PLANE), [PINNED], "m1", [[toleration]]) == []
    dedicated = {"key": "dedicated", "value": "db", "effect": "NoSchedule"}
    assert readiness.k8s_node_problems(tainted(nodes, dedicated), [PINNED], "m1", [[{"key": "dedicated", "value": "db"}]]) == []
    # the wrong value, or the wrong effect, does not tolerate it
    for toleration in [{"key": "dedicated", "value": "web"}, {"key": "dedicated", "operator": "Exists", "effect": "NoExecute"}]:
        assert len(readiness.k8s_node_problems(tainted(nodes, dedicated), [PINNED], "m1", [[toleration]])) == 1
    assert readiness.k8s_node_problems(tainted(nodes, dict(CONTROL_PLANE, effect="PreferNoSchedule")), [PINNED], "m1") == []
    # two pods pinned alike, one tolerating the taint and one not: the one that does not is said
    said = readiness.k8s_node_problems(tainted(nodes, CONTROL_PLANE), [PINNED, PINNED], "m1", [[{"operator": "Exists"}]])
    assert len(said) == 1 and "n1 carries them but is tainted" in said[0]


def test_k8s_node_problems_when_the_nodes_cannot_be_read():
    denied = {"rc": 1, "stdout": "", "stderr": 'Error from server (Forbidden): nodes is forbidden:\n  User "x" cannot list'}
    assert readiness.k8s_node_problems(denied, [PINNED], "m1") == [
        'the cluster\'s nodes cannot be read (Error from server (Forbidden): nodes is forbidden: User "x" cannot list): '
        "the database pod's data folder and the dump folder are on this host, and the play checks that the pod is "
        "pinned to it. Let the play's kubeconfig list nodes, or set hub_k8s_check_node: false if you have checked it "
        "yourself"]
    assert readiness.k8s_node_problems({"rc": 0, "stdout": "nope"}, [PINNED], "m1") == ["kubectl get nodes gave no JSON: nope"]


DR = {"cfssl": {"image": "blackducksoftware/hub-cfssl:4.2.0", "environment": {"TZ": "UTC", "PW": " a$b "}, "image_at": 4,
                "argv": ["docker", "run", "--name", "cfssl", "blackducksoftware/hub-cfssl:4.2.0", "serve"]},
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
    assert docker_run_actions(there, DR, ["cfssl", "postgres"]) == [  # no env_dir: cfssl is only started
        {"name": "cfssl", "do": "start", "argv": ["docker", "start", "cfssl"], "env_file": None},
        {"name": "postgres", "do": "run", "argv": ["docker", "run", "--name", "postgres"], "env_file": None}]
    running = [inspected("cfssl", DR["cfssl"]["image"])]
    assert docker_run_actions(running, DR, ["cfssl"])[0]["do"] == "keep"


def test_docker_run_actions_with_the_dump_folder_mounted():
    """The database container in migration mode with the dump folder: run with it; one there without it (a run
    before that streamed) stopped, removed and run again with it; one that has it kept."""
    spec = "/srv/dumps/hub/dump:/blackduck-hub-dump"
    mounted = ["docker", "run", "--volume", spec, "--name", "postgres"]
    assert docker_run_actions([], DR, ["postgres"], {"postgres": spec}) == [
        {"name": "postgres", "do": "run", "argv": mounted, "env_file": None}]
    without = inspected("postgres", DR["postgres"]["image"])
    without["Mounts"] = [{"Type": "volume", "Source": "/var/lib/docker/volumes/data-volume/_data",
                          "Destination": "/var/lib/postgresql/data"}]
    assert docker_run_actions([without], DR, ["postgres"], {"postgres": spec}) == [
        {"name": "postgres", "do": "stop", "argv": ["docker", "stop", "postgres"], "env_file": None},
        {"name": "postgres", "do": "remove", "argv": ["docker", "rm", "postgres"], "env_file": None},
        {"name": "postgres", "do": "run", "argv": mounted, "env_file": None}]
    with_it = dict(without, Mounts=without["Mounts"] + [
        {"Type": "bind", "Source": "/srv/dumps/hub/dump", "Destination": "/blackduck-hub-dump"}])
    assert docker_run_actions([with_it], DR, ["postgres"], {"postgres": spec})[0]["do"] == "keep"
    # hub_dump_dir as given (a trailing slash, a doubled one): the same folder as Docker keeps it, kept too
    assert docker_run_actions([with_it], DR, ["postgres"], {"postgres": "/srv/dumps/hub//dump/:/blackduck-hub-dump"})[0][
        "do"] == "keep"
    assert docker_run_actions([], DR, ["postgres"], {"postgres": "//srv/dumps/hub/dump/:/blackduck-hub-dump/"})[0][
        "argv"] == mounted
    assert docker_run_actions([without], DR, ["postgres"])[0]["do"] == "keep"  # no mount wanted: as it is


def test_docker_run_actions_give_the_environment_in_an_env_file():
    """A container run with -e NAME=value values: an env file in env_dir holds them (one NAME=value line each, spaces
    and $ kept), named just before the image (after the script's own env files: it wins over them, as -e did),
    the mount at the front; no value on the command line. Without env_dir: an error that says what to give."""
    spec = "/srv/dumps/hub/dump:/blackduck-hub-dump"
    run = docker_run_actions([], DR, ["cfssl"], {"cfssl": spec}, env_dir="/tmp/x.hub-env")[0]
    assert run == {"name": "cfssl", "do": "run", "env_file": {"path": "/tmp/x.hub-env/cfssl.env",
                                                              "content": "TZ=UTC\nPW= a$b \n"},
                   "argv": ["docker", "run", "--volume", spec, "--name", "cfssl", "--env-file",
                            "/tmp/x.hub-env/cfssl.env", "blackducksoftware/hub-cfssl:4.2.0", "serve"]}
    stopped = [inspected("cfssl", DR["cfssl"]["image"], running=False)]
    assert docker_run_actions(stopped, DR, ["cfssl"], env_dir="/tmp/x")[0]["env_file"] is None  # started as it was
    # there without the mount: stopped, removed and run again, with its env file
    assert [(a["do"], a["env_file"]) for a in docker_run_actions(stopped, DR, ["cfssl"], {"cfssl": spec}, "/tmp/x")] == [
        ("stop", None), ("remove", None), ("run", {"path": "/tmp/x/cfssl.env", "content": "TZ=UTC\nPW= a$b \n"})]
    with pytest.raises(AnsibleFilterError, match="^the docker run of cfssl gives -e NAME=value options: give env_dir"):
        docker_run_actions([], DR, ["cfssl"])


def test_docker_run_actions_refuse_another_image():
    other = [inspected("postgres", "postgres:15")]
    with pytest.raises(AnsibleFilterError) as info:
        docker_run_actions(other, DR, ["cfssl", "postgres"], env_dir="/tmp/x")
    assert str(info.value).startswith("a container named postgres runs postgres:15, not "
                                      "blackducksoftware/hub-postgres:4.2.0: it is in the way of the Hub's postgres.")


def test_docker_run_hub_names():
    hubs = inspected("postgres", "blackducksoftware/hub-postgres:4.1.4")
    hubs["Config"]["Labels"] = {"com.blackducksoftware.hub.version": "4.1.4"}
    other = inspected("webapp", "example/webapp")
    other["Config"]["Labels"] = None  # docker inspect's {{json .Config.Labels}} of a container without labels
    assert docker_run_hub_names([hubs, other, inspected("cfssl", "x")]) == ["postgres"]
    assert docker_run_hub_names([]) == []


def test_k8s_scaled_up_names_what_still_runs_as_kubectl_scale_takes_it():
    lines = ["Deployment   webapp   1", "Deployment   postgres   0", "StatefulSet   solr   2",
             "ReplicationController   old-rc   <none>", "ReplicationController   zero-rc   0", ""]
    assert k8s_scaled_up(lines) == ["deployment/webapp", "statefulset/solr", "replicationcontroller/old-rc"]
    assert k8s_scaled_up(["Deployment a 0"]) == [] and k8s_scaled_up(None) == [] and k8s_scaled_up([]) == []
    for wrong in (['{"kind": "Deployment"}'], ["KIND   NAME   REPLICAS"], ["Deployment web 1 extra"],
                  [{"kind": "Deployment", "metadata": {"name": "web"}}], "Deployment web 1"):
        with pytest.raises(AnsibleFilterError, match="is not a line KIND NAME REPLICAS"):
            k8s_scaled_up(wrong)  # a header, JSON items, stdout instead of stdout_lines: said, not guessed
