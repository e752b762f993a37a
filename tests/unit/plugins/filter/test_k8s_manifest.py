"""plugins/filter/k8s_manifest.py: the database's data volume in a Hub manifest, and the claim renamed."""
import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.blackduck.hub.plugins.filter.k8s_manifest import (
    FilterModule, k8s_claim_copy, k8s_data_volume, k8s_mount_folder, k8s_rename_claim)


def manifest(volume, with_claim=None, as_list=True):
    deployment = {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "postgres"},
        "spec": {"template": {"spec": {
            "initContainers": [{"name": "owner", "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}],
            "containers": [{"name": "postgres", "volumeMounts": [
                {"name": "certs", "mountPath": "/tmp/certs"},
                {"name": "data", "mountPath": "/var/lib/postgresql/data/"}]}],
            "volumes": [{"name": "certs", "emptyDir": {}}, dict(volume, name="data")]}}}}
    cfssl = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "cfssl"},
             "spec": {"template": {"spec": {"containers": [{"name": "cfssl"}],
                                            "volumes": [{"name": "x", "persistentVolumeClaim": {"claimName": "other"}}]}}}}
    objs = [cfssl, deployment]
    if with_claim:
        objs.append({"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": with_claim},
                     "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                              "storageClassName": "fast", "volumeName": "pv-1"}})
    if as_list:
        return yaml.safe_dump({"apiVersion": "v1", "kind": "List", "items": objs})
    return yaml.safe_dump_all(objs)


def test_the_filters_are_exported():
    assert sorted(FilterModule().filters()) == ["hub_settings", "k8s_claim_copy", "k8s_config_map", "k8s_convert",
                                                "k8s_convert_notes", "k8s_data_volume", "k8s_leave_out",
                                                "k8s_mount_folder", "k8s_node_selector", "k8s_rename_claim",
                                                "k8s_tolerations"]


def test_a_host_path():
    text = manifest({"hostPath": {"path": "/var/lib/hub-postgresql/data", "type": "DirectoryOrCreate"}})
    assert k8s_data_volume(text) == {"kind": "path", "path": "/var/lib/hub-postgresql/data"}


@pytest.mark.parametrize("as_list", [True, False])
def test_a_claim_with_its_spec_in_the_manifest(as_list):
    text = manifest({"persistentVolumeClaim": {"claimName": "pg"}}, with_claim="pg", as_list=as_list)
    found = k8s_data_volume(text)
    assert found["kind"] == "claim" and found["name"] == "pg"
    assert found["claim_spec"]["storageClassName"] == "fast"


def test_a_claim_made_elsewhere():
    found = k8s_data_volume(yaml.safe_load(manifest({"persistentVolumeClaim": {"claimName": "pg"}})))
    assert found == {"kind": "claim", "name": "pg", "claim_spec": {}}


def test_another_volume_kind_is_reported_as_it_is():
    assert k8s_data_volume(manifest({"emptyDir": {}})) == {"kind": "other", "volume": {"name": "data", "emptyDir": {}}}


def test_no_database_workload_is_an_error():
    with pytest.raises(AnsibleFilterError, match="no Deployment named postgres in the manifest"):
        k8s_data_volume("kind: List\nitems: []\n")
    with pytest.raises(AnsibleFilterError, match="mounts no volume at /var/lib/postgresql/data"):
        k8s_data_volume({"kind": "Deployment", "metadata": {"name": "postgres"},
                         "spec": {"template": {"spec": {"containers": [{"name": "postgres"}]}}}})
    with pytest.raises(AnsibleFilterError, match="not int"):
        k8s_data_volume(3)


def test_rename_moves_only_the_database_claim_and_leaves_the_old_claim_out():
    text = manifest({"persistentVolumeClaim": {"claimName": "pg"}}, with_claim="pg")
    out = k8s_rename_claim(text, "pg", "pg-4.2.0")
    assert out["kind"] == "List"
    kinds = [(o["kind"], o["metadata"]["name"]) for o in out["items"]]
    assert kinds == [("Deployment", "cfssl"), ("Deployment", "postgres")]  # the old claim object is not applied
    assert k8s_data_volume(out["items"])["name"] == "pg-4.2.0"
    assert out["items"][0]["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "other"
    assert k8s_data_volume(text)["name"] == "pg"  # the input is not changed


def test_mount_the_dump_folder_into_the_database_container_only():
    text = manifest({"hostPath": {"path": "/var/lib/hub-postgresql/data"}})
    out = k8s_mount_folder(text, "/var/backups/hub/dump", "/blackduck-hub-dump")
    cfssl, postgres = out["items"]
    spec = postgres["spec"]["template"]["spec"]
    assert spec["volumes"][-1] == {"name": "blackduck-hub-dump",
                                   "hostPath": {"path": "/var/backups/hub/dump", "type": "DirectoryOrCreate"}}
    assert spec["containers"][0]["volumeMounts"][-1] == {"name": "blackduck-hub-dump", "mountPath": "/blackduck-hub-dump"}
    assert [m["name"] for m in spec["initContainers"][0]["volumeMounts"]] == ["data"]  # the init container: untouched
    assert "blackduck-hub-dump" not in yaml.safe_dump(cfssl)  # another workload: untouched
    assert k8s_data_volume(out)["path"] == "/var/lib/hub-postgresql/data"  # the data where it was
    again = k8s_mount_folder(out, "/elsewhere", "/blackduck-hub-dump")  # mounted once, at the latest folder
    vols = [v for v in again["items"][1]["spec"]["template"]["spec"]["volumes"] if v["name"] == "blackduck-hub-dump"]
    assert vols == [{"name": "blackduck-hub-dump", "hostPath": {"path": "/elsewhere", "type": "DirectoryOrCreate"}}]
    assert len(again["items"][1]["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]) == 3
    assert k8s_mount_folder(text, "", "/blackduck-hub-dump")["items"] == yaml.safe_load(text)["items"]  # nothing
    assert "blackduck-hub-dump" not in text  # the input is not changed
    with pytest.raises(AnsibleFilterError, match="no Deployment named postgres with a container"):
        k8s_mount_folder([cfssl], "/d", "/m")


class NoDeepCopy(dict):
    """A dict that refuses copy.deepcopy, as a filter should never ask of what ansible-core 2.19 hands it: its lazy
    containers' deep copy also copies the templar with every variable of the host (seconds per manifest object)."""

    def __deepcopy__(self, memo):
        raise AssertionError("deep-copied")


def refusing(value):
    if isinstance(value, dict):
        return NoDeepCopy((k, refusing(v)) for k, v in value.items())
    if isinstance(value, list):
        return [refusing(v) for v in value]
    return value


def test_the_filters_copy_without_deepcopy_and_leave_their_input_alone():
    objs = yaml.safe_load(manifest({"persistentVolumeClaim": {"claimName": "pg"}}, with_claim="pg"))["items"]
    given = refusing(objs)
    mounted = k8s_mount_folder(given, "/d", "/m")["items"]
    renamed = k8s_rename_claim(mounted, "pg", "pg-new")["items"]
    assert k8s_data_volume(renamed)["name"] == "pg-new" and k8s_data_volume(given)["name"] == "pg"
    assert [v["name"] for v in mounted[1]["spec"]["template"]["spec"]["volumes"]][-1] == "blackduck-hub-dump"
    assert given == objs  # nothing of the input changed
    copied = k8s_claim_copy(given[2], "pg-new")
    copied["spec"]["accessModes"].append("ReadOnlyMany")
    assert given[2]["spec"]["accessModes"] == ["ReadWriteOnce"]  # the copy shares no list with the input
    assert FilterModule().filters()["k8s_convert"](given)["items"][1]["metadata"]["name"] == "postgres"


def test_claim_copy_keeps_the_storage_and_drops_the_binding():
    live = {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": {"name": "pg", "namespace": "hub", "uid": "u-1", "labels": {"app": "postgres"},
                         "annotations": {"pv.kubernetes.io/bind-completed": "yes"}},
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                     "storageClassName": "fast", "volumeMode": "Filesystem", "volumeName": "pv-1",
                     "selector": {"matchLabels": {"disk": "a"}}},
            "status": {"phase": "Bound"}}
    new = k8s_claim_copy(live, "pg-4.2.0")
    assert new == {"apiVersion": "v1", "kind": "PersistentVolumeClaim",
                   "metadata": {"name": "pg-4.2.0", "labels": {"app": "postgres"},
                                "annotations": {"blackduck.hub/copied-from": "pg"}},
                   "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "10Gi"}},
                            "storageClassName": "fast", "volumeMode": "Filesystem"}}
    from_spec = k8s_claim_copy({"accessModes": ["ReadWriteOnce"], "volumeName": "x"}, "n")
    assert from_spec == {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "n"},
                         "spec": {"accessModes": ["ReadWriteOnce"]}}
    with pytest.raises(AnsibleFilterError):
        k8s_claim_copy("pg", "n")


# ------------------------------------------------------------------------------------------ the vendor's shape

from ansible_collections.blackduck.hub.plugins.filter.k8s_manifest import (  # noqa: E402
    config_map_data, hub_settings, k8s_config_map, k8s_convert, k8s_convert_notes, k8s_leave_out, k8s_node_selector,
    k8s_tolerations, settings_of)

VENDOR_SHAPE = """kind: List
apiVersion: v1beta1
items:
- apiVersion: apps/v1beta1
  kind: Deployment
  metadata:
    name: web
  spec:
    replicas: 1
    template:
      metadata:
        labels:
          app: web
          tier: web
      spec:
        containers:
        - name: nginx
          image: hub-nginx:4.2.0
          env:
          ports:
          - containerPort: 4560
            containerPort: 5044
          volumes:
            volumeMounts:
            - mountPath: /x
              name: dir
- apiVersion: v1
  kind: Service
  metadata:
    name: web
  spec:
    selector:
      app: web
kind: List
"""


def test_convert_the_vendors_shape():
    out = k8s_convert(VENDOR_SHAPE)
    assert out["apiVersion"] == "v1" and out["kind"] == "List"
    deployment, service = out["items"]
    assert deployment["apiVersion"] == "apps/v1"
    assert deployment["spec"]["selector"] == {"matchLabels": {"app": "web", "tier": "web"}}
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert sorted(container) == ["image", "name", "ports"]  # volumes (no container field) and env: null gone
    assert container["ports"] == [{"containerPort": 5044}]  # the last of a repeated key, as kubectl took it
    assert service == yaml.safe_load(VENDOR_SHAPE)["items"][1]
    notes = k8s_convert_notes(VENDOR_SHAPE)
    assert notes == [
        "duplicate key 'kind' (line 34): the last value is used",
        "duplicate key 'containerPort' (line 22): the last value is used",
        "Deployment web: apps/v1beta1 -> apps/v1 (apps/v1beta1 is no longer served)",
        "Deployment web: selector from the pod labels app=web, tier=web (the old API's default)",
        "Deployment web: container nginx: 'volumes' is not a container field (Kubernetes ignored it): left out"]


def test_convert_leaves_a_current_manifest_alone():
    text = manifest({"hostPath": {"path": "/data"}})
    objs = yaml.safe_load(text)["items"]
    assert k8s_convert(text)["items"] == objs and k8s_convert_notes(text) == []
    assert k8s_convert(objs)["items"] == objs  # parsed objects too


def test_convert_refuses_a_workload_without_selector_or_labels():
    text = "apiVersion: apps/v1beta1\nkind: Deployment\nmetadata: {name: x}\nspec: {template: {spec: {containers: []}}}\n"
    with pytest.raises(AnsibleFilterError, match="Deployment x has neither a selector nor pod labels"):
        k8s_convert(text)


def test_convert_says_which_yaml_is_broken():
    with pytest.raises(AnsibleFilterError, match="not a YAML manifest"):
        k8s_convert("items: [a\n")


@pytest.mark.parametrize("text", [
    "data:\n  HUB_POSTGRES_ADMIN_PASSWORD_FILE: |\n  S3cretPw\n",  # the value at its key's indent
    "data:\n  HUB_POSTGRES_ADMIN_PASSWORD_FILE: @S3cretPw\n",  # a character that cannot start a token
    "data:\n  HUB_POSTGRES_ADMIN_PASSWORD_FILE: *S3cretPw\n",  # read as an alias
    "data:\n  HUB_POSTGRES_ADMIN_PASSWORD_FILE: \"\\qS3cretPw\"\n",  # an unknown escape
])
def test_a_broken_file_is_named_by_line_never_by_its_text(text):
    """PyYAML's own message copies the offending line: a bundle's password would reach the task's output."""
    with pytest.raises(AnsibleFilterError, match=r"not a YAML manifest: .*\(line \d+, column \d+\)") as caught:
        k8s_convert(text)
    assert "S3cret" not in str(caught.value) and "cretPw" not in str(caught.value)


def test_config_map_from_the_vendors_manifest_or_an_env_file():
    vendor = ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: hub-config\ndata:\n  HUB_POSTGRES_ENABLE_SSL: \"true\"\n"
              "  HUB_WEBSERVER_PORT: \"8443\"\n  HUB_WEBSERVER_PORT: \"8444\"\n  IPV4_ONLY: 0\n")
    assert k8s_config_map(vendor) == {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "hub-config"},
                                      "data": {"HUB_POSTGRES_ENABLE_SSL": "true", "HUB_WEBSERVER_PORT": "8444",
                                               "IPV4_ONLY": "0"}}
    env = "# settings\nHUB_POSTGRES_ENABLE_SSL=false\n\nHUB_POSTGRES_HOST=db.example.com\nHUB_X=a=b\n"
    assert k8s_config_map(env, name="cfg") == {
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cfg"},
        "data": {"HUB_POSTGRES_ENABLE_SSL": "false", "HUB_POSTGRES_HOST": "db.example.com", "HUB_X": "a=b"}}


def test_hub_settings_in_both_forms_without_quotes():
    assert hub_settings('HUB_POSTGRES_ENABLE_SSL="false"\nHUB_POSTGRES_HOST=\nHUB_POSTGRES_PORT=5433\n') == {
        "HUB_POSTGRES_ENABLE_SSL": "false", "HUB_POSTGRES_HOST": "", "HUB_POSTGRES_PORT": "5433"}
    assert hub_settings("kind: ConfigMap\ndata:\n  HUB_POSTGRES_HOST: db\n  HUB_POSTGRES_PORT: 5432\n") == {
        "HUB_POSTGRES_HOST": "db", "HUB_POSTGRES_PORT": "5432"}


def test_settings_are_what_k8s_config_map_applies():
    two = ("kind: List\nitems:\n-\n- {kind: ConfigMap, metadata: {name: other}, data: {HUB_POSTGRES_HOST: other-db}}\n"
           "- {kind: ConfigMap, metadata: {name: hub-config}, data: {HUB_POSTGRES_HOST: db, HUB_POSTGRES_PORT: 5433}}\n")
    assert settings_of(two) == hub_settings(two) == {"HUB_POSTGRES_HOST": "db", "HUB_POSTGRES_PORT": "5433"}
    assert k8s_config_map(two)["data"] == {"HUB_POSTGRES_HOST": "db", "HUB_POSTGRES_PORT": "5433"}  # the same one
    other = two.split("- {kind: ConfigMap, metadata: {name: hub-config}", maxsplit=1)[0]  # none named hub-config
    assert settings_of(other) == k8s_config_map(other)["data"] == {"HUB_POSTGRES_HOST": "other-db"}
    assert settings_of("kind: List\nitems: [{kind: Service}]\n") is None  # a manifest without a ConfigMap
    assert hub_settings("kind: List\nitems: [{kind: Service}]\n") == {}
    assert settings_of("HUB_POSTGRES_HOST=db\n") == {"HUB_POSTGRES_HOST": "db"}
    assert config_map_data(two, "other") == {"HUB_POSTGRES_HOST": "other-db"} and config_map_data(other, "hub-config") is None


def test_k8s_leave_out():
    objects = [{"kind": "ConfigMap", "metadata": {"name": "hub-config"}},
               {"kind": "ConfigMap", "metadata": {"name": "hpup-admin"}}, {"kind": "Service", "metadata": {"name": "hub-config"}}]
    assert k8s_leave_out({"kind": "List", "items": objects}, "ConfigMap", "hub-config") == {
        "apiVersion": "v1", "kind": "List", "items": objects[1:]}


def test_k8s_node_selector_of_the_database_pods():
    pinned = {"kind": "Deployment", "metadata": {"name": "postgres"},
              "spec": {"template": {"spec": {"nodeSelector": {"blackduck.hub.postgres": "true", "zone": 1}}}}}
    assert k8s_node_selector({"kind": "List", "items": [pinned]}) == {"blackduck.hub.postgres": "true", "zone": "1"}
    assert k8s_node_selector({"kind": "Deployment", "metadata": {"name": "postgres"}, "spec": {}}) == {}
    with pytest.raises(AnsibleFilterError, match="^no Deployment named db in the manifest"):
        k8s_node_selector(pinned, workload="db")


def test_k8s_tolerations_of_the_database_pods():
    tolerant = {"kind": "Deployment", "metadata": {"name": "postgres"},
                "spec": {"template": {"spec": {"tolerations": [{"key": "dedicated", "operator": "Exists"}, "junk"]}}}}
    assert k8s_tolerations(yaml.safe_dump(tolerant)) == [{"key": "dedicated", "operator": "Exists"}]
    assert k8s_tolerations({"kind": "Deployment", "metadata": {"name": "postgres"}, "spec": {}}) == []
    with pytest.raises(AnsibleFilterError, match="^no Deployment named db in the manifest"):
        k8s_tolerations(tolerant, workload="db")
