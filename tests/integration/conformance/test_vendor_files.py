"""The collection reads the vendor's real, unmodified files (../shared/vendor, or HUB_VENDOR_BUNDLES) as they are.

No lab needed: the filters the roles use, run on every file of every bundle; and the lab's own patch of those files
stays within what the lab machine cannot run (tests/lab/vendor.py), nothing more.
"""
import os
import re

import pytest
import yaml

import vendor
from ansible_collections.blackduck.hub.plugins.filter.compose_file import (
    compose_apart_override, compose_data_volume, compose_published_port)
from ansible_collections.blackduck.hub.plugins.filter.k8s_manifest import (
    hub_settings, k8s_config_map, k8s_convert, k8s_convert_notes, k8s_data_volume, k8s_leave_out, k8s_node_selector,
    k8s_tolerations, settings_of)
from ansible_collections.blackduck.hub.plugins.plugin_utils._sides import (
    VENDOR_EXAMPLE_HOSTS, new_hub_settings, rds_given, server_settings)

pytestmark = pytest.mark.no_containers  # make test runs it beside the exclusive tests

VERSIONS = vendor.versions()
NEW_LAYOUT = [v for v in VERSIONS if tuple(int(x) for x in v.split(".")[:2]) >= (4, 2)]


def read(version, *parts):
    with open(os.path.join(vendor.bundle(version), *parts)) as f:
        return f.read()


def test_the_bundles_are_there():
    assert {"3.7.1", "4.0.0", "4.1.4", "4.2.0", "4.2.1"} <= set(VERSIONS), vendor.root()


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("folder", ["docker-compose", "docker-swarm"])
def test_compose_and_swarm_files(version, folder):
    text = read(version, folder, "docker-compose.yml")
    found = compose_data_volume(text, "hub", source=folder)
    new = version in NEW_LAYOUT
    assert found == {"version": version, "volume_key": "postgres96-data-volume" if new else "data-volume",
                     "volume": "hub_postgres96-data-volume" if new else "hub_data-volume"}
    assert compose_published_port(text) == 443  # the front door step 10 asks
    migration = yaml.safe_load(read(version, folder, "docker-compose.dbmigrate.yml"))
    assert sorted(migration["services"]) == ["cfssl", "logstash", "postgres"]


@pytest.mark.parametrize("version", [v for v in VERSIONS if v not in NEW_LAYOUT])
def test_the_old_migration_file_runs_apart_on_the_hubs_volumes(version):
    """hub_transfer: stream on Compose: the old version's docker-compose.dbmigrate.yml under another project, its
    database and certificate volumes the hub's own (external, by name), Logstash's log volume its own."""
    text = read(version, "docker-compose", "docker-compose.dbmigrate.yml")
    override = yaml.safe_load(compose_apart_override(text, "hub"))  # no !reset: the vendor's publish no port
    certs = "cert-volume" if version == "4.1.4" else "config-volume"
    mine = {"labels": {"blackduck.hub.apart-of": "hub"}}
    assert override == {"services": {"cfssl": mine, "logstash": mine, "postgres": mine},
                        "volumes": {"data-volume": {"external": True, "name": "hub_data-volume"},
                                    certs: {"external": True, "name": "hub_" + certs}, "log-volume": mine}}
    assert compose_data_volume(read(version, "docker-compose", "docker-compose.yml"), "hub")["volume"] == (
        override["volumes"]["data-volume"]["name"])  # the volume discover names as the old data


@pytest.mark.parametrize("version", [v for v in VERSIONS if v != "3.7.1"])
def test_hub_postgres_env(version):
    settings = hub_settings(read(version, "docker-compose", "hub-postgres.env"))
    assert settings["HUB_POSTGRES_ENABLE_SSL"] == "false"  # written "false" in quotes
    assert (settings["HUB_POSTGRES_USER"], settings["HUB_POSTGRES_ADMIN"]) == ("blackduck_user", "blackduck")


def test_371_has_no_hub_postgres_env():
    assert not os.path.exists(os.path.join(vendor.bundle("3.7.1"), "docker-compose", "hub-postgres.env"))


@pytest.mark.parametrize("version", NEW_LAYOUT)
def test_kubernetes_manifests_convert_for_a_current_cluster(version):
    for name in ("kubernetes-pre-db.yml", "kubernetes-post-db.yml", "kubernetes-external-rds.yml"):
        text = read(version, "kubernetes", name)
        out = k8s_convert(text)
        assert out["apiVersion"] == "v1" and out["kind"] == "List"
        for obj in out["items"]:
            assert obj["apiVersion"] in ("v1", "apps/v1"), (name, obj["metadata"]["name"], obj["apiVersion"])
            if obj["kind"] == "Deployment":
                labels = obj["spec"]["template"]["metadata"]["labels"]
                assert obj["spec"]["selector"] == {"matchLabels": labels}
                for c in obj["spec"]["template"]["spec"]["containers"]:
                    assert "volumes" not in c and None not in c.values()
        notes = k8s_convert_notes(text)
        deployments = [o for o in out["items"] if o["kind"] == "Deployment"]
        assert sum("apps/v1beta1 -> apps/v1" in n for n in notes) == len(deployments)
    # the vendor's pre-db file repeats its top-level kind; the database keeps its data on the vendor's hostPath
    assert any("duplicate key 'kind'" in n for n in k8s_convert_notes(read(version, "kubernetes", "kubernetes-pre-db.yml")))
    assert k8s_data_volume(read(version, "kubernetes", "kubernetes-pre-db.yml")) == {
        "kind": "path", "path": "/var/lib/hub-postgresql/data"}
    # on the node labelled blackduck.hub.postgres=true, which the play checks is its host
    assert k8s_node_selector(read(version, "kubernetes", "kubernetes-pre-db.yml")) == {"blackduck.hub.postgres": "true"}
    # and tolerates no taint: a tainted node (a lone control-plane node) keeps it off
    assert k8s_tolerations(read(version, "kubernetes", "kubernetes-pre-db.yml")) == []


@pytest.mark.parametrize("version", NEW_LAYOUT)
def test_pods_env_is_a_config_map(version):
    text = read(version, "kubernetes", "pods.env")
    cm = k8s_config_map(text)
    assert cm["kind"] == "ConfigMap" and cm["metadata"]["name"] == "hub-config"
    assert cm["data"]["HUB_POSTGRES_USER"] == "blackduck_user" and cm["data"]["HUB_WEBSERVER_PORT"] == "8443"
    assert all(isinstance(v, str) for v in cm["data"].values())
    assert hub_settings(text)["HUB_POSTGRES_ENABLE_SSL"] == "true"


@pytest.mark.parametrize("version", NEW_LAYOUT)
def test_the_external_database_file_as_the_vendors_steps_apply_it(version):
    """kubernetes-external-rds.yml carries the passwords' ConfigMaps and its own hub-config (an example server), which
    the vendor's kubectl create after pods.env leaves out (AlreadyExists) and so does the role: the new Hub reads
    pods.env's, which as shipped names no server - refused; pointed, accepted; the example never said."""
    text = read(version, "kubernetes", "kubernetes-external-rds.yml")
    given = rds_given(text)
    assert given["admin_password"] == "blackduck"  # the vendor's hpup-admin, mounted as HUB_POSTGRES_ADMIN_PASSWORD_FILE
    assert given["settings"]["HUB_POSTGRES_HOST"] in VENDOR_EXAMPLE_HOSTS
    applied = k8s_leave_out(k8s_convert(text), "ConfigMap", "hub-config")["items"]
    assert sorted(o["metadata"]["name"] for o in applied if o["kind"] == "ConfigMap") == ["hpup-admin", "hpup-user"]
    pods_env = settings_of(read(version, "kubernetes", "pods.env"))
    src = "/opt/hub-docker-%s/kubernetes/pods.env" % version
    server = {"host": "db96.example.com", "port": 5432}
    said = new_hub_settings(server, pods_env, src, given["settings"])
    assert "names no database server" in said["refusal"] and "xyzh" not in said["refusal"]
    pointed = dict(pods_env, HUB_POSTGRES_HOST="db96.example.com")
    assert new_hub_settings(server, pointed, src, given["settings"]) == {"file": src, "refusal": "", "note": ""}
    # the admin password the new Hub logs in with, where the inventory gives none: the server named in pods.env or
    # in the inventory alike
    nobody = {"host": "", "port": 5432, "admin_password": "", "admin_password_file": ""}
    for inventory, env in ((nobody, pointed), (dict(nobody, host="db96.example.com"), pods_env)):
        assert server_settings(inventory, env, given["admin_password"], src)["admin_password"] == "blackduck"


ALLOWED_PATCH_LINES = [
    r"^[-+]version: '3\.[12]'$",                                   # Swarm: the file format that has what follows
    r"^\+\s+endpoint_mode: dnsrr$", r"^\+\s+deploy: \{endpoint_mode: dnsrr\}$",   # Swarm: no IPVS in the lab
    r"^-\s+ports: \['\d+:\d+'\]$",
    r"^\+\s+ports: \[\{target: \d+, published: \d+, mode: host\}\]$",            # Swarm: host-mode ports
    r"^\+\s+ports: \['127\.0\.0\.1:\d+:\d+'\]$",                               # Compose: loopback only
    r"^-\s+reservations: \{cpus: '1', memory: \d+M\}$", r"^\+\s+reservations: \{cpus: '0\.25', memory: \d+M\}$",
    r"^-\s+cpu: \"?1\"?$", r"^\+\s+cpu: 100m$",                                 # CPU beyond the lab's 2 cores
]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_lab_patch_only_changes_what_the_lab_cannot_run(version, tmp_path):
    path, patch = vendor.copy_bundle(version, str(tmp_path))
    changed = [ln for ln in patch.splitlines() if ln[:1] in "+-" and not ln.startswith(("+++", "---"))]
    assert changed, "the lab patches every bundle (Swarm endpoints, Compose ports)"
    for line in changed:
        assert any(re.match(p, line) for p in ALLOWED_PATCH_LINES), line
    # every other file is the vendor's, byte for byte
    src = vendor.bundle(version)
    for root, dummy, files in os.walk(src):
        for f in files:
            rel = os.path.relpath(os.path.join(root, f), src)
            if "vendor/hub-docker-%s/%s" % (version, rel) not in patch:
                with open(os.path.join(src, rel), "rb") as a, open(os.path.join(path, rel), "rb") as b:
                    assert a.read() == b.read(), rel
