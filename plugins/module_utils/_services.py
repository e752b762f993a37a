# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What runs of a hub and how healthy it is, on Docker (a Compose project or a Swarm stack) or Kubernetes (a
namespace): each container with its state, health and, for those that are not well, what their health check said
last and the last lines of their log - so a failed start says which service failed and why.

Read-only. ``docker_services`` and ``kubernetes_services`` gather; ``problems`` and ``summary`` judge (pure,
unit-tested)."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

from ansible_collections.blackduck.hub.plugins.module_utils._command import CommandError, hide_log_secrets, run
from ansible_collections.blackduck.hub.plugins.module_utils._target import HUB_VERSION_LABEL

PROJECT_LABELS = {"compose": ("com.docker.compose.project", "com.docker.compose.service"),
                  "swarm": ("com.docker.stack.namespace", "com.docker.swarm.service.name"),
                  "docker_run": (None, None)}


def _run_json(argv, what):
    rc, out, err = run(argv, timeout=120)
    if rc != 0:
        raise CommandError("%s failed: %s" % (what, err.strip()[-1000:]), rc=rc, stderr=err)
    return json.loads(out) if out.strip() else None


def _tail(argv, lines):
    rc, out, err = run(argv, timeout=120)
    # docker logs: the container's stderr comes on stderr; PostgreSQL's log quotes a failed statement (STATEMENT:
    # ALTER ROLE ... PASSWORD '...'), an entrypoint may print its settings, and the tail goes to the state file, the
    # reports, the run's log and the failed step's message
    text = hide_log_secrets(out + err).strip().splitlines()
    return text[-lines:]


def hub_labelled(inspected):
    """The containers of docker inspect's list that carry a Hub version label: the Hub's (a docker-run hub's
    containers have no project, only the script's fixed names, which a container not the Hub's may have too)."""
    return [c for c in inspected or [] if HUB_VERSION_LABEL in ((c.get("Config") or {}).get("Labels") or {})]


def _hub_containers(docker, names):
    """docker inspect of the Hub's containers of those names."""
    rc, out, err = run([docker, "container", "inspect"] + list(names), timeout=120)
    return hub_labelled(json.loads(out) if out.strip() else [])


def docker_services(docker, orchestration, project, log_lines=20, names=None):
    """Every container of the project or stack (running or not) - of a docker-run hub: of those names -, with its
    health and, if not well, its last words."""
    label, service_label = PROJECT_LABELS[orchestration]
    if orchestration == "docker_run":
        inspected = _hub_containers(docker, names or [])
    else:
        rc, out, err = run([docker, "ps", "-a", "-q", "--no-trunc", "--filter", "label=%s=%s" % (label, project)],
                           timeout=120)
        if rc != 0:
            raise CommandError("docker ps failed: %s" % err.strip(), rc=rc, stderr=err)
        ids = out.split()
        inspected = (_run_json([docker, "inspect"] + ids, "docker inspect") or []) if ids else []
    services = []
    for c in inspected:
        state = c.get("State") or {}
        health = state.get("Health") or {}
        labels = (c.get("Config") or {}).get("Labels") or {}
        svc = labels.get(service_label, "") if service_label else c.get("Name", "").lstrip("/")
        if orchestration == "swarm" and svc.startswith(project + "_"):
            svc = svc[len(project) + 1:]
        entry = {"name": c.get("Name", "").lstrip("/"), "service": svc, "state": state.get("Status", "unknown"),
                 "health": health.get("Status", ""), "exit_code": state.get("ExitCode"),
                 "restarts": c.get("RestartCount", 0), "health_output": "", "log_tail": []}
        checks = health.get("Log") or []
        if checks:
            entry["health_output"] = " ".join(hide_log_secrets(checks[-1].get("Output") or "").split())[-500:]
        if not is_well(entry):
            entry["log_tail"] = _tail([docker, "logs", "--tail", str(log_lines), c["Id"]], log_lines)
        services.append(entry)
    return sorted(services, key=lambda e: (e["service"], e["name"]))


def kubernetes_services(kubectl_base, log_lines=20):
    """Every container of every pod of the namespace, with its readiness and, if not well, its last words."""
    pods = (_run_json(kubectl_base + ["get", "pods", "-o", "json"], "kubectl get pods") or {}).get("items", [])
    services = []
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        app = (meta.get("labels") or {}).get("app", meta.get("name", ""))
        for cs in status.get("containerStatuses") or [{"name": "", "ready": False, "state": {}}]:
            state = cs.get("state") or {}
            kind = next(iter(state), "unknown")
            detail = state.get(kind) or {}
            entry = {"name": "%s/%s" % (meta.get("name"), cs.get("name")), "service": app,
                     "state": kind if not meta.get("deletionTimestamp") else "terminating",
                     "health": "ready" if cs.get("ready") else "not ready", "exit_code": detail.get("exitCode"),
                     "restarts": cs.get("restartCount", 0),
                     "health_output": " ".join(x for x in (detail.get("reason"), detail.get("message"),
                                                           status.get("reason"), status.get("message")) if x)[-500:],
                     "log_tail": []}
            if not status.get("containerStatuses"):
                entry.update(name=meta.get("name"), state=status.get("phase", "unknown").lower())
                conditions = [c.get("message") for c in status.get("conditions") or [] if c.get("message")]
                entry["health_output"] = " ".join(conditions)[-500:]
            if not is_well(entry) and cs.get("name"):
                entry["log_tail"] = _tail(kubectl_base + ["logs", meta["name"], "-c", cs["name"], "--tail",
                                                          str(log_lines)], log_lines)
            services.append(entry)
    return sorted(services, key=lambda e: (e["service"], e["name"]))


def is_well(entry):
    """Running, and healthy or ready where that is known."""
    if entry["state"] != "running":
        return False
    return entry["health"] in ("", "healthy", "ready")


def problems(services):
    return [s for s in services if not is_well(s)]


def describe(entry):
    """One service's trouble, in a sentence or two."""
    how = entry["health"] if entry["state"] == "running" else entry["state"]
    if entry["state"] == "exited" and entry.get("exit_code") is not None:
        how = "exited with %s" % entry["exit_code"]
    text = "%s (%s) is %s" % (entry["service"] or entry["name"], entry["name"], how)
    if entry.get("restarts"):
        text += ", restarted %d times" % entry["restarts"]
    if entry.get("health_output"):
        text += "; %s: %s" % ("Kubernetes says" if "/" in entry["name"] or entry["health"] in ("ready", "not ready")
                              else "its health check said", entry["health_output"])
    if entry.get("log_tail"):
        text += "; the last lines of its log: %s" % " | ".join(line.strip() for line in entry["log_tail"][-5:])
    return text


def is_starting(entry):
    """Running, its health not known yet (the first check has not run): waiting, not failing."""
    return entry["state"] == "running" and entry["health"] == "starting" and not entry.get("restarts")


def summary(services):
    """What is wrong, for a failure message; empty when everything runs well. Services whose first health check
    has not run yet are named together; each one that failed gets its own sentence with its last words."""
    if not services:
        return "no container or pod of the hub exists"
    bad = problems(services)
    starting = [s for s in bad if is_starting(s)]
    text = [describe(s) for s in bad if not is_starting(s)]
    if starting:
        text.append("still starting (no health check result yet): %s" % ", ".join(
            s["service"] or s["name"] for s in starting))
    return ". ".join(text)
