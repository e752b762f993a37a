# -*- coding: utf-8 -*-
# Copyright: blackduck.hub contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filters for the Hub's Kubernetes manifests as the vendor ships them: read and converted for a current cluster
(k8s_convert, k8s_convert_notes), the settings file pods.env as the ConfigMap it is (k8s_config_map, hub_settings),
where the database keeps its data (k8s_data_volume), and the data claim renamed (k8s_rename_claim, k8s_claim_copy).

The vendor's 4.2 files are a ``kind: List`` (with ``apiVersion: v1beta1``, and in kubernetes-pre-db.yml the key
``kind`` twice) of ``apps/v1beta1`` Deployments without selectors, which no Kubernetes since 1.16 serves, and some
containers carry a ``volumes`` key that is no container field. Kubernetes of the day defaulted the selector to the
pod's labels and ignored the unknown field; the conversion does the same, and says what it did.
"""
from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.module_utils import _yaml

DATA_PATH = "/var/lib/postgresql/data"
WORKLOADS = ("Deployment", "StatefulSet", "ReplicationController", "DaemonSet")


def _plain(value):
    """A copy of value that shares no dict or list with it, as plain dicts and lists. Not copy.deepcopy: what a filter
    is given in ansible-core 2.19 is a lazy container, and its deep copy also copies the templar with every variable of
    the host - seconds for each object of a manifest."""
    if isinstance(value, dict):
        return dict((k, _plain(v)) for k, v in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def load_yaml(text):
    """(documents, notes) of a YAML text, duplicate keys allowed (the last wins) and noted."""
    try:
        return _yaml.load_yaml(text)
    except ValueError as exc:
        raise AnsibleFilterError(str(exc))


def _objects(manifest):
    """Every object of a manifest: its text (one or more YAML documents), a parsed document, or a list of them;
    the items of a List are taken out of it."""
    if isinstance(manifest, str):
        docs = load_yaml(manifest)[0]
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
            out.extend(item for item in doc.get("items") or [] if isinstance(item, dict))  # an empty item is nothing
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


def _the_database_workload(objects, name):
    obj = _database_workload(objects, name)
    if obj is None:
        raise AnsibleFilterError("no Deployment named %s in the manifest: it is not the Hub's database manifest "
                                 "(kubernetes-pre-db.yml of the vendor's bundle)" % name)
    return obj


def k8s_data_volume(manifest, workload="postgres"):
    """Where the database workload of a manifest keeps its data: the volume mounted at /var/lib/postgresql/data.

    Returns {kind: path, path} for a hostPath, {kind: claim, name, claim_spec} for a PersistentVolumeClaim
    (claim_spec: the claim's spec when the manifest holds the claim too, else {}), {kind: other, volume} otherwise."""
    objects = _objects(manifest)
    obj = _the_database_workload(objects, workload)
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
        return {"kind": "claim", "name": name, "claim_spec": _plain(claim[0].get("spec") or {}) if claim else {}}
    return {"kind": "other", "volume": volume}


def k8s_node_selector(manifest, workload="postgres"):
    """The nodeSelector of the database workload's pods ({} when it has none): the vendor pins the database to the
    node labelled blackduck.hub.postgres=true, the one that holds its hostPath."""
    obj = _the_database_workload(_objects(manifest), workload)
    return dict((str(k), str(v)) for k, v in (_pod_spec(obj).get("nodeSelector") or {}).items())


def k8s_tolerations(manifest, workload="postgres"):
    """The tolerations of the database workload's pods ([] when it has none, as the vendor's): which taints of a
    node do not keep them off it."""
    obj = _the_database_workload(_objects(manifest), workload)
    return [dict(t) for t in _pod_spec(obj).get("tolerations") or [] if isinstance(t, dict)]


def k8s_rename_claim(manifest, old, new):
    """The manifest's objects (as one List) with every workload volume on claim old now on claim new, and the claim
    object old itself left out (it belongs to the old version and is kept as it is)."""
    out = []
    for obj in _objects(manifest):
        if obj.get("kind") == "PersistentVolumeClaim" and (obj.get("metadata") or {}).get("name") == old:
            continue
        obj = _plain(obj)
        if obj.get("kind") in WORKLOADS:
            for volume in _pod_spec(obj).get("volumes") or []:
                pvc = (volume or {}).get("persistentVolumeClaim")
                if pvc and pvc.get("claimName") == old:
                    pvc["claimName"] = new
        out.append(obj)
    return {"apiVersion": "v1", "kind": "List", "items": out}


MOUNT_VOLUME = "blackduck-hub-dump"  # the volume k8s_mount_folder adds


def k8s_mount_folder(manifest, host_path, mount_path, workload="postgres"):
    """The manifest's objects (as one List) with the folder host_path of the node mounted at mount_path in the
    database workload's container (the one named like the workload, else its first): a hostPath volume
    (DirectoryOrCreate), on the node the vendor's nodeSelector already pins the database to. Empty host_path: the
    objects unchanged."""
    objects = [_plain(obj) for obj in _objects(manifest)]
    if host_path:
        obj = _database_workload(objects, workload)
        containers = _pod_spec(obj).get("containers") or [] if obj is not None else []
        if not containers:
            raise AnsibleFilterError("no Deployment named %s with a container in the manifest: the dump folder cannot "
                                     "be mounted into the database (is it kubernetes-pre-db.yml of the vendor's "
                                     "bundle?)" % workload)
        spec = _pod_spec(obj)
        spec["volumes"] = [v for v in spec.get("volumes") or [] if (v or {}).get("name") != MOUNT_VOLUME] + [
            {"name": MOUNT_VOLUME, "hostPath": {"path": host_path, "type": "DirectoryOrCreate"}}]
        named = [c for c in containers if c.get("name") == workload]
        container = (named or containers)[0]
        container["volumeMounts"] = [m for m in container.get("volumeMounts") or []
                                     if (m or {}).get("name") != MOUNT_VOLUME] + [
            {"name": MOUNT_VOLUME, "mountPath": mount_path}]
    return {"apiVersion": "v1", "kind": "List", "items": objects}


def k8s_claim_copy(claim, name):
    """A new PersistentVolumeClaim named name like claim (a live claim object or a claim spec): the same storage
    class, access modes, size and volume mode, but not the same volume."""
    spec = claim.get("spec", claim) if isinstance(claim, dict) else None
    if not isinstance(spec, dict):
        raise AnsibleFilterError("k8s_claim_copy needs a PersistentVolumeClaim or its spec")
    keep = dict((k, _plain(spec[k])) for k in ("accessModes", "resources", "storageClassName", "volumeMode")
                if k in spec)
    meta = {"name": name}
    source = (claim.get("metadata") or {}) if "spec" in claim else {}
    if source.get("labels"):
        meta["labels"] = _plain(source["labels"])
    if source.get("name"):
        meta["annotations"] = {"blackduck.hub/copied-from": source["name"]}
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta, "spec": keep}


# Workload API versions Kubernetes no longer serves, and where their objects live now.
OLD_WORKLOAD_APIS = {"apps/v1beta1": "apps/v1", "apps/v1beta2": "apps/v1", "extensions/v1beta1": "apps/v1"}
SELECTOR_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet")
CONTAINER_FIELDS = frozenset((
    "name", "image", "command", "args", "workingDir", "ports", "envFrom", "env", "resources", "volumeMounts",
    "volumeDevices", "livenessProbe", "readinessProbe", "startupProbe", "lifecycle", "terminationMessagePath",
    "terminationMessagePolicy", "imagePullPolicy", "securityContext", "stdin", "stdinOnce", "tty"))


def _convert(manifest):
    """(objects ready for a current API server, notes on what was changed and why)."""
    notes = []
    if isinstance(manifest, str):
        docs, notes = load_yaml(manifest)
        manifest = docs
    out = []
    for obj in _objects(manifest):
        obj = _plain(obj)
        kind, name = obj.get("kind"), (obj.get("metadata") or {}).get("name")
        where = "%s %s" % (kind, name)
        api = obj.get("apiVersion")
        old_api = kind in SELECTOR_KINDS and api in OLD_WORKLOAD_APIS
        if old_api:
            obj["apiVersion"] = OLD_WORKLOAD_APIS[api]
            notes.append("%s: %s -> %s (%s is no longer served)" % (where, api, obj["apiVersion"], api))
        spec = obj.get("spec") if isinstance(obj.get("spec"), dict) else None
        if old_api and spec is not None and not spec.get("selector"):
            labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
            if not labels:
                raise AnsibleFilterError("%s has neither a selector nor pod labels to make one from: give its pod "
                                         "template labels" % where)
            spec["selector"] = {"matchLabels": dict(labels)}
            notes.append("%s: selector from the pod labels %s (the old API's default)" % (
                where, ", ".join("%s=%s" % kv for kv in sorted(labels.items()))))
        pod = _pod_spec(obj) if kind in WORKLOADS else {}
        for group in ("initContainers", "containers"):
            for container in pod.get(group) or []:
                for key in sorted(k for k in list(container) if k not in CONTAINER_FIELDS):
                    del container[key]
                    notes.append("%s: container %s: %r is not a container field (Kubernetes ignored it): left out"
                                 % (where, container.get("name"), key))
                for key in [k for k, v in container.items() if v is None]:
                    del container[key]
        out.append(obj)
    return out, notes


def k8s_leave_out(manifest, kind, name):
    """The manifest's objects (as one List) without those of kind named name: kubernetes-external-rds.yml's own
    ConfigMap hub-config is left out where pods.env gives the Hub its hub-config, as the vendor's kubectl create of
    both files (pods.env first) leaves it out (AlreadyExists)."""
    return {"apiVersion": "v1", "kind": "List", "items": [
        o for o in _objects(manifest) if not (o.get("kind") == kind and (o.get("metadata") or {}).get("name") == name)]}


def k8s_convert(manifest):
    """The manifest's objects as one v1 List a current API server accepts (see _convert)."""
    return {"apiVersion": "v1", "kind": "List", "items": _convert(manifest)[0]}


def k8s_convert_notes(manifest):
    """What k8s_convert changes in the manifest, and why: one line each."""
    return _convert(manifest)[1]


def _env_lines(text):
    out = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.split("=", 1)
        out[key.strip()] = value
    return out


def _config_maps(text):
    """The ConfigMaps of a manifest text, or None when the text is no manifest (a KEY=VALUE file)."""
    try:
        objects = _objects(text)
    except AnsibleFilterError:
        return None
    if not any(o.get("kind") for o in objects):
        return None
    return [o for o in objects if o.get("kind") == "ConfigMap"]


def _data(config_map):
    return dict((str(k), "" if v is None else str(v)) for k, v in (config_map.get("data") or {}).items())


def _settings_map(text, name="hub-config"):
    """The ConfigMap a settings manifest (pods.env) gives the Hub: the last one named name, else its first; None where
    it holds none, or the text is no manifest. What k8s_config_map applies and settings_of reads: one rule."""
    maps = _config_maps(text) or []
    named = [m for m in maps if (m.get("metadata") or {}).get("name") == name]
    return named[-1] if named else maps[0] if maps else None


def config_map_data(text, name):
    """The data of the ConfigMap of a manifest text named name (the last so named), as strings; None where the text
    holds none (or is no manifest)."""
    named = [m for m in _config_maps(text) or [] if (m.get("metadata") or {}).get("name") == name]
    return _data(named[-1]) if named else None


def k8s_config_map(text, name="hub-config"):
    """The ConfigMap a pods.env makes: the vendor's pods.env is a ConfigMap manifest (kubectl create -f pods.env);
    a KEY=VALUE file (kubectl create configmap NAME --from-env-file) gives one named name."""
    doc = _settings_map(text, name)
    if doc is not None:
        doc = _plain(doc)
        doc["data"] = _data(doc)
        return doc
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": _env_lines(text)}


def settings_of(text, config_map="hub-config"):
    """The Hub's settings (HUB_POSTGRES_HOST and the like) a settings file gives, or None where it gives none: the
    ConfigMap of a manifest that k8s_config_map applies (pods.env: the last named config_map, else its first) or a
    KEY=VALUE file's lines (hub-postgres.env). Surrounding quotes are taken off."""
    maps = _config_maps(text)
    if maps is None:
        raw = _env_lines(text)
    else:
        doc = _settings_map(text, config_map)
        if doc is None:
            return None
        raw = _data(doc)
    out = {}
    for key, value in raw.items():
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key] = value
    return out


def hub_settings(text):
    """The Hub's settings from a settings file in any of the vendor's forms: hub-postgres.env (KEY=VALUE) or pods.env
    (its ConfigMap hub-config); {} where it holds none."""
    return settings_of(text) or {}


class FilterModule(object):
    def filters(self):
        return {
            "k8s_data_volume": k8s_data_volume,
            "k8s_node_selector": k8s_node_selector,
            "k8s_tolerations": k8s_tolerations,
            "k8s_rename_claim": k8s_rename_claim,
            "k8s_mount_folder": k8s_mount_folder,
            "k8s_claim_copy": k8s_claim_copy,
            "k8s_convert": k8s_convert,
            "k8s_convert_notes": k8s_convert_notes,
            "k8s_config_map": k8s_config_map,
            "k8s_leave_out": k8s_leave_out,
            "hub_settings": hub_settings,
        }
