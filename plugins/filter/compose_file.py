# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the Hub's Compose and Swarm files as the vendor ships them, and for what docker compose says of them."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.module_utils._command import hide_values
from ansible_collections.blackduck.hub.plugins.module_utils._yaml import load_yaml

DATA_PATH = "/var/lib/postgresql/data"


def compose_data_volume(text, project, source="the Compose file", service="postgres"):
    """The Hub version (the database image's tag) and the database's data volume of a Compose or Swarm file.

    Returns {version, volume_key, volume}: volume is the name Docker gives it (the volume's own ``name:``, else
    <project>_<key>, as Compose and Swarm both do)."""
    try:
        docs = load_yaml(text)[0]
    except ValueError as exc:
        raise AnsibleFilterError("%s cannot be read as a Compose file: %s. Give the vendor's file, unmodified."
                                 % (source, exc))
    doc = docs[0] if docs else None
    services = doc.get("services") if isinstance(doc, dict) else None
    db = (services or {}).get(service) if isinstance(services, dict) else None
    if not isinstance(db, dict) or not db.get("image"):
        raise AnsibleFilterError("%s has no %s service with an image: it is not the Hub's Compose file "
                                 "(hub-docker-<version>/docker-compose/docker-compose.yml of the vendor's bundle)"
                                 % (source, service))
    key = None
    for volume in db.get("volumes") or []:
        if isinstance(volume, dict) and str(volume.get("target", "")).rstrip("/") == DATA_PATH:
            key = volume.get("source")
        elif isinstance(volume, str) and volume.split(":")[1:2] and volume.split(":")[1].rstrip("/") == DATA_PATH:
            key = volume.split(":")[0]
    if not key:
        raise AnsibleFilterError("the %s service of %s mounts no volume at %s: the role cannot tell where the "
                                 "database keeps its data" % (service, source, DATA_PATH))
    declared = ((doc.get("volumes") or {}).get(key) or {}) if isinstance(doc.get("volumes"), dict) else {}
    name = declared.get("name") if isinstance(declared, dict) else None
    return {"version": str(db["image"]).rsplit(":", 1)[-1] if ":" in str(db["image"]) else "latest",
            "volume_key": key, "volume": name or "%s_%s" % (project, key)}


def _port_pairs(ports):
    for port in ports or []:
        if isinstance(port, dict):
            yield port.get("published"), port.get("target")
        else:
            parts = str(port).split(":")
            if len(parts) >= 2:
                yield parts[-2], parts[-1].split("/")[0]


def compose_published_port(text, service="webserver", source="the Compose file"):
    """The host port a service of a Compose or Swarm file publishes (its first published port), or 0 when it
    publishes none (or there is no such service)."""
    try:
        docs = load_yaml(text)[0]
    except ValueError as exc:
        raise AnsibleFilterError("%s cannot be read as a Compose file: %s" % (source, exc))
    svc = ((docs[0] if docs and isinstance(docs[0], dict) else {}).get("services") or {}).get(service)
    for published, dummy in _port_pairs((svc or {}).get("ports")):
        if published:
            return int(published)
    return 0


def _mounted_volumes(svc):
    """The named volumes a service mounts (short or long syntax; not bind mounts)."""
    for volume in (svc or {}).get("volumes") or []:
        if isinstance(volume, dict):
            if volume.get("type", "volume") == "volume" and volume.get("source"):
                yield str(volume["source"])
        elif ":" in str(volume) and not str(volume).startswith(("/", ".", "~")):
            yield str(volume).split(":", maxsplit=1)[0]


APART_LABEL = "blackduck.hub.apart-of"


def compose_apart_override(text, project, source="the Compose file", own=("logstash",)):
    """The text of an override file that runs a Compose file's services under another project name on the volumes of
    ``project``: each volume the file declares becomes ``external`` with the name Docker gave it in ``project`` (its
    own ``name:``, else <project>_<key>), so the old version's database runs apart from the new one's on its own
    data. A volume only the ``own`` services mount stays the other project's own: Logstash locks its data folder
    against a second instance (the new version's Logstash uses the hub's log volume at the same time). Every service
    and every volume of its own carries the label blackduck.hub.apart-of=<project>, so that only what was made for it
    is ever brought down or removed. A service that publishes ports publishes none apart (``!reset``, Compose 2.24.4
    and later): the new version's publishes the same ones, and the collection reaches the database through docker
    exec. The vendor's migration files publish none."""
    try:
        docs = load_yaml(text)[0]
    except ValueError as exc:
        raise AnsibleFilterError("%s cannot be read as a Compose file: %s" % (source, exc))
    doc = docs[0] if docs and isinstance(docs[0], dict) else {}
    services = doc.get("services") if isinstance(doc.get("services"), dict) else {}
    if not isinstance(services.get("postgres"), dict):
        raise AnsibleFilterError("%s has no postgres service: it is not the Hub's migration-mode file "
                                 "(docker-compose.dbmigrate.yml of the vendor's bundle)" % source)
    shared = set()
    for name, svc in services.items():
        if name not in own and isinstance(svc, dict):
            shared.update(_mounted_volumes(svc))
    declared = doc.get("volumes") if isinstance(doc.get("volumes"), dict) else {}
    out = ["services:\n"]
    for name in sorted(n for n, svc in services.items() if isinstance(svc, dict)):
        out.append("  %s:\n    labels: {%s: %s}\n" % (json.dumps(name), json.dumps(APART_LABEL), json.dumps(project)))
        if services[name].get("ports"):
            out.append("    ports: !reset []\n")
    volumes = []
    for key in sorted(declared):
        spec = declared[key] if isinstance(declared[key], dict) else {}
        if spec.get("external"):
            continue  # the same volume for every project already
        volumes.append("  %s: %s\n" % (json.dumps(key), "{external: true, name: %s}" % json.dumps(
            spec.get("name") or "%s_%s" % (project, key)) if key in shared else "{labels: {%s: %s}}" % (
            json.dumps(APART_LABEL), json.dumps(project))))
    return "".join(out + (["volumes:\n"] + volumes if volumes else []))


# docker compose --progress plain: a line per resource and what became of it (" Container hub-webapp-1  Started"), a
# line per service it pulls (" webapp Pulling", " webapp Pulled", " webapp Skipped - ...")
_PROGRESS = re.compile(r"^\s*(?:DRY-RUN MODE -\s+)?(?:(?:Container|Network|Volume|Image) \S+\s+(?P<state>Creating|"
                       r"Created|Recreate|Recreated|Starting|Started|Stopping|Stopped|Removing|Removed|Running|Waiting|"
                       r"Healthy|Pulling|Pulled|Resource is still in use)|\S+\s+(?:Pulling|Pulled|Skipped\b.*))\s*$")
# what became of a resource that is a change (the rest: on the way there, or as it was)
_CHANGES = ("Created", "Recreated", "Started", "Stopped", "Removed")
# its own log lines (a warning): time="..." level=warning msg="..."
_LOGFMT = re.compile(r'^time="[^"]*" level=(\w+) msg="((?:[^"\\]|\\.)*)"\s*$')
# at every step on the vendor's files, which begin with version: '2.1' (ignored by Compose v2): harmless
_VERSION_OBSOLETE = "the attribute `version` is obsolete"


def compose_said(stderr, warnings=False):
    """What docker compose said (its stderr) apart from its progress lines and the warning it gives on every vendor
    file, a line each, its own log lines as "warning: ..." - with what it quotes of a value hidden (hide_values, over
    the whole text: a value may follow on the next line): it interpolates env files, and warns of a "variable" named
    after what follows a $ in a password. ``warnings``: its warnings only."""
    lines = []
    for line in (stderr or "").splitlines():
        logged = _LOGFMT.match(line)
        lines.append("%s: %s" % (logged.group(1), re.sub(r"\\(.)", r"\1", logged.group(2))) if logged else line)
    said = [line.strip() for line in hide_values("\n".join(lines)).splitlines()]
    return [line for line in said if line and not _PROGRESS.match(line) and _VERSION_OBSOLETE not in line
            and (not warnings or line.startswith("warning: "))]


def compose_changed(stderr):
    """Whether docker compose (or its --dry-run) created, started, stopped or removed something: a progress line of
    its stderr that says so."""
    return any((m.group("state") in _CHANGES) for m in map(_PROGRESS.match, (stderr or "").splitlines()) if m)


class FilterModule(object):
    def filters(self):
        return {"compose_data_volume": compose_data_volume, "compose_published_port": compose_published_port,
                "compose_apart_override": compose_apart_override, "compose_said": compose_said,
                "compose_changed": compose_changed}
