# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""When what runs of a Hub is as a wait wants it, and the one waiter.

Private to the collection. One named, unit-tested predicate per kind of wait, over what a read-only command printed
(like kubernetes.core's waiter predicates): each looks at what runs itself (containers, pods), never only at the
counts an orchestrator reports - a Deployment at 0 replicas whose pods still terminate is not down yet. ``wait``
runs the command until its predicate holds, on one monotonic clock, inside one process (blackduck.hub.hub_wait):
a wait costs one command per check, not a module per check. The roles' filters of the same names
(plugins/filter/readiness.py) are these functions."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time

from ansible_collections.blackduck.hub.plugins.module_utils._command import epoch


def swarm_service_of(name, stack):
    """The service of a stack's container, from its service name label '<stack>_<service>'."""
    return name[len(stack) + 1:] if name.startswith(stack + "_") else name


def swarm_stack_ready(ps_lines, services, stack, healthy=True):
    """docker ps lines '<stack>_<service> <status>' of a stack: every service of the file has one container, none is
    unhealthy - nor, with healthy, still starting its health checks - and no other container is there."""
    running = {}
    for line in ps_lines or []:
        name, dummy, status = line.partition(" ")
        running.setdefault(swarm_service_of(name, stack), []).append(status)
    if sorted(running) != sorted(services) or any(len(v) != 1 for v in running.values()):
        return False
    bad = ("(health: starting)", "(unhealthy)") if healthy else ("(unhealthy)",)
    return not any(marker in status for statuses in running.values() for status in statuses for marker in bad)


TERMINAL_PHASES = ("Succeeded", "Failed")  # every container has stopped, and none is started again


def k8s_pod_stopped(pod):
    """Nothing of the pod runs, nor will run again, so no process of it holds a database connection or the data folder:
    - a pod in a terminal phase (Succeeded, Failed: completed, evicted): its kubelet starts none of its containers
      again;
    - or a pod being deleted (deletionTimestamp; the kubelet removes it some seconds later, 10 or more on a busy
      node) each of whose containers (init, regular, ephemeral) has stopped since the deletion was asked - its
      terminated state's finishedAt not before deletionTimestamp less deletionGracePeriodSeconds, to the second: the
      kubelet starts nothing again in a pod being deleted, but a container that stopped before (it crashed) may have
      been started again since its status was written. An init container that ran to its end (not a sidecar, which
      restarts) counts whenever it ended.
    A container not started yet (waiting) or not reported is not known to have stopped."""
    spec, status, meta = pod.get("spec") or {}, pod.get("status") or {}, pod.get("metadata") or {}
    if status.get("phase") in TERMINAL_PHASES:
        return True
    asked = epoch(meta.get("deletionTimestamp"))
    if asked is None:
        return False
    asked -= int(meta.get("deletionGracePeriodSeconds") or 0)
    states = dict((s.get("name"), s.get("state") or {}) for kind in (
        "initContainerStatuses", "containerStatuses", "ephemeralContainerStatuses") for s in status.get(kind) or [])
    containers = [(c, kind == "initContainers" and c.get("restartPolicy") != "Always")
                  for kind in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(kind) or []]
    for container, ran_to_its_end in containers:
        ended = states.get(container.get("name"), {}).get("terminated")
        if ended is None:
            return False
        finished = epoch(ended.get("finishedAt"))
        if not ran_to_its_end and (finished is None or finished < asked):
            return False
    return bool(containers)


def k8s_pods_stopped(pods):
    """The pods of a namespace (kubectl get pods -o json's items): nothing of them runs - none left, or only pods
    that have stopped for good (k8s_pod_stopped: being deleted with every container stopped since, or finished)."""
    return all(k8s_pod_stopped(p) for p in pods or [])


def k8s_pod_ready(pod):
    """The pod's Ready condition is True."""
    conditions = dict((c.get("type"), c.get("status")) for c in (pod.get("status") or {}).get("conditions") or [])
    return conditions.get("Ready") == "True"


def k8s_pods_ready(pods, wanted):
    """The pods of a namespace (kubectl get pods -o json's items): exactly one pod per wanted app (label app), each
    ready, and nothing else runs - no other pod, none terminating unless nothing of it runs any more, nor will
    (k8s_pod_stopped: the kubelet has not removed it yet, or it finished - evicted, completed)."""
    pods = [p for p in pods or [] if not k8s_pod_stopped(p)]
    if any((p.get("metadata") or {}).get("deletionTimestamp") for p in pods):
        return False
    apps = sorted(((p.get("metadata") or {}).get("labels") or {}).get("app", "") for p in pods)
    if apps != sorted(wanted):
        return False
    return all(k8s_pod_ready(pod) for pod in pods)


def containers_by_name(inspected):
    return dict(((c.get("Name") or "").lstrip("/"), c) for c in inspected or [])


def docker_run_ready(inspected, containers, names, healthy=True):
    """The containers of a docker-run hub are up: inspected is docker inspect's list for the names; containers the
    parsed script's containers ({name: {image, health_check_wrong_port, ...}}). Every name has its container, running
    the image the script names, and none is unhealthy - nor, with healthy, still starting its health checks. A
    container whose health check asks a port it does not listen on (the vendor's 4.x webserver) can never pass it:
    running is enough for that one (its front door is asked afterwards)."""
    found = containers_by_name(inspected)
    for name in names:
        c = found.get(name)
        if not c or (c.get("Config") or {}).get("Image") != containers[name]["image"]:
            return False
        state = c.get("State") or {}
        health = None if containers[name].get("health_check_wrong_port") else (state.get("Health") or {}).get("Status")
        if not state.get("Running") or state.get("Restarting") or health == "unhealthy" or (
                healthy and health not in (None, "healthy")):
            return False
    return True


def docker_run_stopped_for_good(inspected, names):
    """Why a docker-run hub cannot come up any more, or '': the first of names whose container has stopped (exited,
    dead) and is not being restarted - docker-hub.sh sets no restart policy, so nothing starts it again and a wait
    for it would only run out (the vendor's webapp that exits at once on a bad database setting, or on its memory
    limit)."""
    found = containers_by_name(inspected)
    for name in names:
        state = (found.get(name) or {}).get("State") or {}
        if state.get("Status") in ("exited", "dead") and not state.get("Restarting"):
            return "container %s %s with code %s at %s, and nothing starts it again (docker-hub.sh sets no restart " \
                   "policy): see docker logs %s" % (name, state["Status"], state.get("ExitCode", "?"),
                                                    state.get("FinishedAt") or "?", name)
    return ""


def _inspected(out):
    """docker container inspect --format lines: a JSON object a line."""
    return [json.loads(line) for line in out.splitlines() if line.strip()]


# name -> (what it waits for, in words; the predicate over the command's stdout and the wait's `wanted`)
PREDICATES = {
    "gone": ("no line left (every container or pod gone)", lambda out, wanted: not out.strip()),
    "k8s_pods_stopped": ("no pod runs (none left, or only pods being deleted whose containers have all stopped since, "
                         "or finished)",
                         lambda out, wanted: k8s_pods_stopped(json.loads(out)["items"])),
    "k8s_pods_ready": ("one ready pod per wanted app, and no other",
                       lambda out, wanted: k8s_pods_ready(json.loads(out).get("items") or [], wanted["apps"])),
    "docker_run_ready": ("every container of the docker-run hub running its image, and healthy",
                         lambda out, wanted: docker_run_ready(
                             _inspected(out),
                             dict((name, {"image": image, "health_check_wrong_port": name in wanted.get("running_enough", [])})
                                  for name, image in wanted["images"].items()),
                             list(wanted["images"]), wanted.get("healthy", True))),
    "swarm_stack_ready": ("every service of the stack running and healthy",
                          lambda out, wanted: swarm_stack_ready(out.splitlines(), wanted["services"], wanted["stack"],
                                                                wanted.get("healthy", True))),
}


def k8s_pods_said(out):
    """kubectl get pods -o json's output told as a line per pod - its name, app, phase, whether it is ready and
    whether it is being deleted - for a wait's result: the JSON holds each pod's spec, whose env may set a password
    inline, and a result shows at -v and in an AWX job's events. Output that is not that list (not JSON, JSON cut
    off, one object of another shape) is not shown either, only its length: a wait never fails on what it prints."""
    try:
        found = json.loads(out) if out.strip() else {"items": []}
        lines = []
        for pod in found["items"]:
            meta, status = pod.get("metadata") or {}, pod.get("status") or {}
            lines.append("%s app=%s %s %s%s" % (
                meta.get("name") or "?", (meta.get("labels") or {}).get("app") or "-", status.get("phase") or "Unknown",
                "ready" if k8s_pod_ready(pod) else "not ready",
                " (being deleted)" if meta.get("deletionTimestamp") else ""))
        return "\n".join(lines)
    except (ValueError, KeyError, TypeError, AttributeError):
        return "(%d characters, not shown: not the pods' list of kubectl get pods -o json)" % len(out)


# what a wait's result tells of the last check's output, per predicate (the output itself, unless it may hold a secret)
SAID = {"k8s_pods_stopped": k8s_pods_said, "k8s_pods_ready": k8s_pods_said}


# name -> why what it waits for cannot come any more, over a check's stdout and the wait's `wanted` ('' while it can)
HOPELESS = {
    "docker_run_ready": lambda out, wanted: docker_run_stopped_for_good(_inspected(out), list(wanted["images"])),
}


def hopeless(until, rc, out, wanted):
    """Why the wait for until cannot succeed any more, after a check that did not hold ('' while it still may, or
    when the check failed or cannot be read)."""
    if rc != 0 or until not in HOPELESS:
        return ""
    try:
        return HOPELESS[until](out, wanted or {})
    except (ValueError, KeyError, TypeError, AttributeError):
        return ""


def holds(until, rc, out, wanted):
    """Whether the predicate until holds for one check: a command that failed (a container not there yet, an API
    server that did not answer) or printed what cannot be read is not ready yet, never an error."""
    if rc != 0:
        return False
    try:
        return bool(PREDICATES[until][1](out, wanted or {}))
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


FAILED_IN_A_ROW = 3  # checks whose command failed, one after the other, that end a wait: it cannot see what runs


def wait(run, argv, until, wanted, timeout, interval, clock=time.monotonic, sleep=time.sleep):
    """Run argv (run(argv) -> (rc, stdout, stderr)) every interval seconds until the predicate until holds, timeout
    seconds have passed since the first check (monotonic clock; there is always one check), the command failed
    FAILED_IN_A_ROW times in a row (a wrong kubeconfig, a user who may not list pods, an engine that is down: one
    failure alone is a hiccup, and the wait goes on), or a check shows that the predicate cannot hold any more
    (HOPELESS). Returns {ready, attempts, seconds, rc, stdout, stderr} of the last check - its stdout as SAID tells
    it - failed_in_a_row (how many checks before it failed too, itself included) and hopeless (why not, or '')."""
    started = clock()
    attempts = failed_in_a_row = 0
    while True:
        attempts += 1
        rc, out, err = run(argv)
        failed_in_a_row = failed_in_a_row + 1 if rc != 0 else 0
        ready = holds(until, rc, out, wanted)
        why_not = "" if ready else hopeless(until, rc, out, wanted)
        elapsed = clock() - started
        if ready or why_not or failed_in_a_row >= FAILED_IN_A_ROW or elapsed + interval >= timeout:
            return {"ready": ready, "attempts": attempts, "seconds": round(elapsed, 1), "rc": rc,
                    "stdout": SAID.get(until, lambda said: said)(out),
                    "stderr": err, "failed_in_a_row": failed_in_a_row, "hopeless": why_not}
        sleep(interval)
