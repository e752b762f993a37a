# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the roles read of what runs, as filters: the waits' predicates (module_utils/_readiness, which
blackduck.hub.hub_wait runs inside its one process) and what the roles decide from what runs - the version a stack
serves, the nodes that keep a migration off, what starting a docker-run hub takes."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import posixpath
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import string_types

from ansible_collections.blackduck.hub.plugins.module_utils._readiness import (
    containers_by_name, docker_run_ready, k8s_pods_ready, swarm_service_of, swarm_stack_ready)
from ansible_collections.blackduck.hub.plugins.module_utils._services import hub_labelled


def swarm_stack_version(ps_lines, services, stack, service="webapp"):
    """The version a Swarm stack serves, read from what runs when its front door cannot be asked (no published
    port): ps_lines are docker ps lines '<stack>_<service> <image> <status>'. The stack must be up as
    swarm_stack_ready(healthy) has it; the version is the tag of the image of service (the webapp, which answers
    /api/current-version). '' when the stack is not up or the image has no tag."""
    pairs = []
    images = {}
    for line in ps_lines or []:
        name, dummy, rest = line.partition(" ")
        image, dummy, status = rest.partition(" ")
        pairs.append("%s %s" % (name, status))
        images[swarm_service_of(name, stack)] = image
    if service not in services or not swarm_stack_ready(pairs, services, stack):
        return ""
    reference = images.get(service, "").split("@", 1)[0]
    name, dummy, tag = reference.rpartition(":")
    return tag if name and "/" not in tag else ""


def swarm_node_problems(swarm, node_id):
    """What keeps this swarm node from running a migration, in words ([] when nothing): swarm is
    community.docker.docker_swarm_info's result with nodes (the Swarm API, through the Docker SDK for Python), node_id
    this node's ID (docker info's Swarm.NodeID). The play deploys and removes stacks from this node, so it must be a
    manager; every task of the migration must run on it, so no other ready node may take new tasks (availability
    active)."""
    swarm = swarm or {}
    if not swarm.get("can_talk_to_docker", True) or "nodes" not in swarm:
        return ["the swarm's nodes cannot be read: %s" % (swarm.get("msg") or "no answer from the Docker engine")]
    if not swarm.get("docker_swarm_manager"):
        return ["this node is not a swarm manager: the play deploys and removes the stack from it. Run the play on the "
                "manager whose engine runs the database (docs/swarm.md, 'Which node the play targets'), or promote "
                "this node for the migration (docker node promote)"]
    others = [n for n in swarm["nodes"] if n.get("ID") != node_id and n.get("Status") == "ready"
              and n.get("Availability") == "active"]
    if others:
        names = ", ".join(sorted(n.get("Hostname") or n.get("ID") for n in others))
        return ["other nodes take new tasks (availability active): %s. Every task of the migration must run on this "
                "node, where the database's volumes are: pause them for the migration (docker node update "
                "--availability pause <node>; active again afterwards), or set hub_swarm_check_nodes: false if the "
                "Hub's services are pinned to this node by placement constraints" % names]
    return []


def _selector_words(selector):
    return ", ".join("%s=%s" % kv for kv in sorted(selector.items())) or "none: any node"


# The tolerations Kubernetes gives every pod (the DefaultTolerationSeconds admission plugin): for a while, a node that
# goes not-ready or unreachable keeps its pods. They do not let a new pod onto such a node: its NoSchedule twin does not.
DEFAULT_TOLERATIONS = [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
                       {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]


def _tolerated(taint, tolerations):
    """Whether one of the pod's tolerations matches the node's taint (Kubernetes' rule: the same effect or none, the
    same key or none with Exists, and with Equal - the default - the same value)."""
    for t in list(tolerations) + DEFAULT_TOLERATIONS:
        if t.get("effect") not in (None, "", taint.get("effect")):
            continue
        if t.get("operator", "Equal") == "Exists":
            if not t.get("key") or t.get("key") == taint.get("key"):
                return True
        elif t.get("key") == taint.get("key") and str(t.get("value") or "") == str(taint.get("value") or ""):
            return True
    return False


def _keeps_off(node, tolerations):
    """Why a node takes no new database pod, as (what keeps it off, in words; what lifts it, each a command or
    deed), ('', []) when it takes it: cordoned, or tainted NoSchedule or NoExecute with a taint the pod does not
    tolerate. Kubernetes' own taints (node.kubernetes.io/: not ready, unreachable, short of memory or disk) go when
    the node is well again; the others, the ones set by hand, are removed by hand."""
    name = (node.get("metadata") or {}).get("name", "")
    spec = node.get("spec") or {}
    cordoned = bool(spec.get("unschedulable"))
    taints, lifts = [], ["kubectl uncordon %s" % name] if cordoned else []
    for taint in spec.get("taints") or []:
        key = taint.get("key") or ""
        if taint.get("effect") not in ("NoSchedule", "NoExecute") or _tolerated(taint, tolerations) or (
                key == "node.kubernetes.io/unschedulable" and cordoned):  # the taint a cordon adds: said once
            continue
        taints.append("%s%s:%s" % (key, "=%s" % taint["value"] if taint.get("value") else "", taint.get("effect")))
        lifts.append("make %s well again (kubectl describe node %s says what ails it)" % (name, name)
                     if key.startswith("node.kubernetes.io/") else "kubectl taint node %s %s-" % (name, taints[-1]))
    what = ["is cordoned"] if cordoned else []
    if taints:
        what.append("is tainted %s, which the database pod does not tolerate" % " and ".join(taints))
    return " and ".join(what), sorted(set(lifts))


def k8s_node_problems(listed, selectors, machine_id, tolerations=None):
    """What keeps the Kubernetes database pod from running on this host, in words ([] when nothing): listed is the
    registered result of kubectl get nodes -o json; selectors the nodeSelectors of the database pods the steps start
    (each {label: value}; the vendor's blackduck.hub.postgres=true); machine_id this host's /etc/machine-id ('' when
    unknown); tolerations those pods' tolerations, one list per selector in the same order (none: the vendor's pods
    tolerate no taint). Its data folder (a hostPath) and the dump folder lent to it are folders of this host, so every
    selector must match exactly one node that takes the pod (not cordoned, no taint it does not tolerate), and that
    node must be this host (the kubelet reports the machine ID it runs on; where either side has none, that part
    cannot be told and is not refused)."""
    listed = listed or {}
    if listed.get("rc", 0) != 0 or not listed.get("stdout"):
        return ["the cluster's nodes cannot be read (%s): the database pod's data folder and the dump folder are on "
                "this host, and the play checks that the pod is pinned to it. Let the play's kubeconfig list nodes, "
                "or set hub_k8s_check_node: false if you have checked it yourself"
                % (" ".join((listed.get("stderr") or listed.get("msg") or "no answer").split()))]
    try:
        nodes = json.loads(listed["stdout"]).get("items") or []
    except ValueError:
        return ["kubectl get nodes gave no JSON: %s" % listed["stdout"][:200]]
    mine = [n for n in nodes if machine_id and ((n.get("status") or {}).get("nodeInfo") or {}).get("machineID") == machine_id]
    here = ((mine[0].get("metadata") or {}).get("name") or "") if len(mine) == 1 else ""
    selectors = selectors or [{}]
    tolerations = list(tolerations or []) + [[]] * len(selectors)  # a pod whose tolerations are not given: none
    pods = sorted(set((tuple(sorted((s or {}).items())), json.dumps(t or [], sort_keys=True))
                      for s, t in zip(selectors, tolerations)))  # each pod placed alike said once
    problems = []
    for labels, tolerating in pods:
        selector, tolerated = dict(labels), json.loads(tolerating)
        matching = [n for n in nodes
                    if all(((n.get("metadata") or {}).get("labels") or {}).get(k) == v for k, v in selector.items())]
        kept_off = dict(((n.get("metadata") or {}).get("name", ""), _keeps_off(n, tolerated)) for n in matching)
        usable = [n for n in matching if not kept_off[(n.get("metadata") or {}).get("name", "")][0]]
        names = sorted((n.get("metadata") or {}).get("name", "") for n in usable)
        label = " ".join("%s=%s" % kv for kv in sorted(selector.items()))
        if not usable:
            if kept_off:
                todo = "Let it take the pod: %s" % "; ".join(
                    lift for name in sorted(kept_off) for lift in kept_off[name][1])
            elif label:
                todo = "Label this host's node: kubectl label node %s %s" % (here or "<this host's node>", label)
            else:
                todo = "The cluster lists no node"
            problems.append(
                "no schedulable node carries the labels the database pod is pinned to (nodeSelector %s)%s: the steps "
                "would start a database pod that never runs. %s" % (
                    _selector_words(selector),
                    "".join("; %s carries them but %s" % (name, kept_off[name][0]) for name in sorted(kept_off)),
                    todo))
        elif len(usable) > 1 and not selector:
            problems.append(
                "the database pod is pinned to no node (its manifest has no nodeSelector) and %d nodes could run it: "
                "%s. Its data folder (hostPath) and the dump folder are on this host's disk: pin it as the vendor "
                "does (nodeSelector blackduck.hub.postgres: \"true\" in kubernetes-pre-db.yml) and label %s only"
                % (len(usable), ", ".join(names), here or "this host's node"))
        elif len(usable) > 1:
            problems.append(
                "%d nodes carry the labels the database pod is pinned to (nodeSelector %s): %s. Its data folder "
                "(hostPath) and the dump folder are on one host's disk, this one's: keep the labels on %s only" % (
                    len(usable), _selector_words(selector), ", ".join(names), here or "this host's node"))
        else:
            theirs = ((usable[0].get("status") or {}).get("nodeInfo") or {}).get("machineID") or ""
            if machine_id and theirs and theirs != machine_id:
                problems.append(
                    "the database pod is pinned to node %s (nodeSelector %s), which is not this host (its machine ID "
                    "is not this host's /etc/machine-id): its data folder (hostPath) and the dump folder are on that "
                    "node's disk, and the play reads and moves them here. Run the play on %s (the inventory's "
                    "ansible_host), or move the labels to this host's node%s" % (
                        names[0], _selector_words(selector), names[0], " (%s)" % here if here else ""))
    return problems


def k8s_scaled_up(lines):
    """The workloads that are not scaled to zero, as kubectl names them ('deployment/<name>'), from kubectl get
    deployments,replicationcontrollers,statefulsets -o custom-columns=KIND:.kind,NAME:.metadata.name,REPLICAS:.spec.replicas
    --no-headers (KIND NAME REPLICAS lines: not the JSON, whose specs may set a password inline and would show at -v).
    A workload without spec.replicas (<none>) runs one."""
    if lines is None:
        return []
    if not isinstance(lines, list) or not all(isinstance(line, string_types) for line in lines):
        raise AnsibleFilterError("k8s_scaled_up: %s is not a line KIND NAME REPLICAS of kubectl's custom columns: give "
                                 "it the command's stdout_lines" % type(lines).__name__)
    out = []
    for line in lines:
        words = line.split()
        if not words:
            continue
        if len(words) != 3 or not re.match(r"^(\d+|<none>)$", words[2]):
            raise AnsibleFilterError("k8s_scaled_up: %r is not a line KIND NAME REPLICAS of kubectl's custom columns "
                                     "(--no-headers)" % line)
        kind, name, replicas = words
        if replicas != "0":
            out.append("%s/%s" % (kind.lower(), name))
    return out


def docker_run_hub_names(inspected):
    """The names of the containers of docker inspect's list that carry a Hub version label: the Hub's (a container
    of one of the script's names that is not the Hub's has none, and is left alone)."""
    return [(c.get("Name") or "").lstrip("/") for c in hub_labelled(inspected)]


def _clean(path):
    """A path as Docker keeps a bind mount's ends (path.Clean: no trailing or doubled slash)."""
    path = posixpath.normpath(path)
    return "/" + path.lstrip("/") if path.startswith("/") else path


def _mount_spec(spec):
    source, dummy, destination = spec.partition(":")
    return "%s:%s" % (_clean(source), _clean(destination))


def _has_mount(container, spec):
    """Whether the container has the bind mount spec (as _mount_spec gives it) among docker inspect's Mounts."""
    return any(_mount_spec("%s:%s" % (m.get("Source") or "", m.get("Destination") or "")) == spec
               for m in container.get("Mounts") or [])


def _env_file(container, env_dir, name):
    """The env file that gives a container's -e NAME=value values to docker ({path, content}), or None without
    any; its path goes just before the image, after the script's own --env-file options, so it wins over them as
    the -e options did."""
    environment = container.get("environment") or {}
    if not environment:
        return None
    if not env_dir:
        raise AnsibleFilterError("the docker run of %s gives -e NAME=value options: give env_dir, a private folder for "
                                 "the env file that passes their values to docker" % name)
    return {"path": posixpath.join(env_dir, name + ".env"),
            "content": "".join("%s=%s\n" % item for item in environment.items())}


def _run(name, container, mount, env_dir):
    argv = list(container["argv"])
    env_file = _env_file(container, env_dir, name)
    if env_file:
        argv[container["image_at"]:container["image_at"]] = ["--env-file", env_file["path"]]
    if mount:
        argv[2:2] = ["--volume", mount]
    return {"name": name, "do": "run", "argv": argv, "env_file": env_file}


def docker_run_actions(inspected, containers, names, mounts=None, env_dir=None):
    """What starting the containers names of a docker-run hub takes, as docker-hub.sh does it: a container not there
    is run (its argv, with the env file of its -e NAME=value values: env_file {path, content} in env_dir, to be
    written with mode 0600 before and removed after), one there but stopped is started, one running is kept. A
    container of that name running another image is in the way (another version of the Hub, or not the Hub's at
    all): an error that says what to do, before anything starts. mounts ({name: 'host folder:container folder'}, the
    dump folder for the database in migration mode): that container is run with the folder bind-mounted (--volume);
    one there without it is stopped, removed and run again with it (its data is in its volumes)."""
    found = containers_by_name(inspected)
    mounts = dict((name, _mount_spec(spec)) for name, spec in (mounts or {}).items())
    actions = []
    for name in names:
        want = containers[name]["image"]
        c = found.get(name)
        if c is None:
            actions.append(_run(name, containers[name], mounts.get(name), env_dir))
            continue
        image = (c.get("Config") or {}).get("Image")
        if image != want:
            raise AnsibleFilterError(
                "a container named %s runs %s, not %s: it is in the way of the Hub's %s. Bring the Hub down first "
                "(its stop, or docker-hub.sh -d in the bundle of that version), or, if it is not the Hub's, "
                "remove or rename it (docker rm -f %s); nothing was started" % (name, image, want, name, name))
        if name in mounts and not _has_mount(c, mounts[name]):
            actions += [{"name": name, "do": "stop", "argv": ["docker", "stop", name], "env_file": None},
                        {"name": name, "do": "remove", "argv": ["docker", "rm", name], "env_file": None},
                        _run(name, containers[name], mounts[name], env_dir)]
            continue
        actions.append({"name": name, "do": "keep" if (c.get("State") or {}).get("Running") else "start",
                        "argv": ["docker", "start", name], "env_file": None})
    return actions


class FilterModule(object):
    def filters(self):
        return {"swarm_stack_ready": swarm_stack_ready, "swarm_node_problems": swarm_node_problems,
                "swarm_stack_version": swarm_stack_version, "k8s_node_problems": k8s_node_problems,
                "k8s_pods_ready": k8s_pods_ready, "k8s_scaled_up": k8s_scaled_up, "docker_run_ready": docker_run_ready,
                "docker_run_actions": docker_run_actions, "docker_run_hub_names": docker_run_hub_names}
