# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the Hub's Kubernetes manifests: where the database keeps its data, and the data claim renamed."""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy

from ansible.errors import AnsibleFilterError

try:
    import yaml
except ImportError:  # pragma: no cover - ansible-core requires PyYAML
    yaml = None

DATA_PATH = "/var/lib/postgresql/data"
WORKLOADS = ("Deployment", "StatefulSet", "ReplicationController", "DaemonSet")


def _objects(manifest):
    """Every object of a manifest: its text (one or more YAML documents), a parsed document, or a list of them;
    the items of a List are taken out of it."""
    if isinstance(manifest, str):
        docs = [d for d in yaml.safe_load_all(manifest) if d]
    elif isinstance(manifest, dict):
        docs = [manifest]
    elif isinstance(manifest, list):
        docs = list(manifest)
    else:
        raise AnsibleFilterError("a Kubernetes manifest is YAML text, an object or a list of objects, not %s"
                                 % type(manifest).__name__)
    out = []
    for doc in docs:
        if isinstance(doc, dict) and doc.get("kind") == "List":
            out.extend(doc.get("items") or [])
        elif isinstance(doc, dict):
            out.append(doc)
    return out


def _pod_spec(obj):
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


def _database_workload(objects, name):
    for obj in objects:
        if obj.get("kind") in WORKLOADS and (obj.get("metadata") or {}).get("name") == name:
            return obj
    return None


def k8s_data_volume(manifest, workload="postgres"):
    """Where the database workload of a manifest keeps its data: the volume mounted at /var/lib/postgresql/data.

    Returns {kind: path, path} for a hostPath, {kind: claim, name, claim_spec} for a PersistentVolumeClaim
    (claim_spec: the claim's spec when the manifest holds the claim too, else {}), {kind: other, volume} otherwise."""
    objects = _objects(manifest)
    obj = _database_workload(objects, workload)
    if obj is None:
        raise AnsibleFilterError("no Deployment named %s in the manifest: it is not the Hub's database manifest "
                                 "(kubernetes-pre-db.yml of the vendor's bundle)" % workload)
    spec = _pod_spec(obj)
    mounted = None
    for container in spec.get("containers") or []:
        for mount in container.get("volumeMounts") or []:
            if mount.get("mountPath", "").rstrip("/") == DATA_PATH:
                mounted = mount.get("name")
                break
        if mounted:
            break
    volumes = dict(((v or {}).get("name"), v or {}) for v in spec.get("volumes") or [])
    if mounted is None or mounted not in volumes:
        raise AnsibleFilterError("the %s workload mounts no volume at %s: the role cannot tell where its data is"
                                 % (workload, DATA_PATH))
    volume = volumes[mounted]
    if "hostPath" in volume:
        return {"kind": "path", "path": volume["hostPath"].get("path")}
    if "persistentVolumeClaim" in volume:
        name = volume["persistentVolumeClaim"].get("claimName")
        claim = [o for o in objects if o.get("kind") == "PersistentVolumeClaim" and (o.get("metadata") or {}).get("name") == name]
        return {"kind": "claim", "name": name, "claim_spec": copy.deepcopy(claim[0].get("spec") or {}) if claim else {}}
    return {"kind": "other", "volume": volume}


def k8s_rename_claim(manifest, old, new):
    """The manifest's objects (as one List) with every workload volume on claim old now on claim new, and the claim
    object old itself left out (it belongs to the old version and is kept as it is)."""
    out = []
    for obj in _objects(manifest):
        if obj.get("kind") == "PersistentVolumeClaim" and (obj.get("metadata") or {}).get("name") == old:
            continue
        obj = copy.deepcopy(obj)
        if obj.get("kind") in WORKLOADS:
            for volume in _pod_spec(obj).get("volumes") or []:
                pvc = (volume or {}).get("persistentVolumeClaim")
                if pvc and pvc.get("claimName") == old:
                    pvc["claimName"] = new
        out.append(obj)
    return {"apiVersion": "v1", "kind": "List", "items": out}


def k8s_claim_copy(claim, name):
    """A new PersistentVolumeClaim named name like claim (a live claim object or a claim spec): the same storage
    class, access modes, size and volume mode, but not the same volume."""
    spec = claim.get("spec", claim) if isinstance(claim, dict) else None
    if not isinstance(spec, dict):
        raise AnsibleFilterError("k8s_claim_copy needs a PersistentVolumeClaim or its spec")
    keep = dict((k, copy.deepcopy(spec[k])) for k in ("accessModes", "resources", "storageClassName", "volumeMode")
                if k in spec)
    meta = {"name": name}
    source = (claim.get("metadata") or {}) if "spec" in claim else {}
    if source.get("labels"):
        meta["labels"] = copy.deepcopy(source["labels"])
    if source.get("name"):
        meta["annotations"] = {"blackduck.hub/copied-from": source["name"]}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": keep}


class FilterModule(object):
    def filters(self):
        return {
            "k8s_data_volume": k8s_data_volume,
            "k8s_rename_claim": k8s_rename_claim,
            "k8s_claim_copy": k8s_claim_copy,
        }
