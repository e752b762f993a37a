"""Render the lab's vendor-shaped Hub bundles: hub-docker-<version>/{docker-compose,docker-swarm,kubernetes}/.

    python3 render.py --version 4.1.4 --out DIR [--pg-port 25436] [--webapp-port 18080] [--k8s-pg-port 15432]
                      [--hostpath /var/lib/hub-postgresql/data] [--health-interval 5s]
                      [--k8s-storage hostpath|claim] [--storage-class bdlab]

The templates under templates/ hold {{NAME}} placeholders; an unknown or unfilled placeholder is an error.
A template named X.tmpl renders to X: the YAML ones are not YAML before rendering, so they do not end in .yml
(ansible-test sanity lints every .yml file of the collection).
The old and new versions differ where the vendor's bundles differ: the database volume is data-volume
before 4.2 and postgres96-data-volume from 4.2 on.
"""
import argparse
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
PLACEHOLDER = re.compile(r"\{\{([A-Z0-9_]+)\}\}")
TEMPLATE_SUFFIX = ".tmpl"


def data_volume(version):
    major, minor = (int(x) for x in version.split(".")[:2])
    return "postgres96-data-volume" if (major, minor) >= (4, 2) else "data-volume"


CLAIM = "blackduck-postgres"


def k8s_data_source(storage, hostpath):
    """The postgres Deployment's data volume: the vendor's hostPath, or a PersistentVolumeClaim (a customised install)."""
    if storage == "claim":
        return "persistentVolumeClaim: {claimName: %s}" % CLAIM
    if storage == "hostpath":
        return "hostPath: {path: %s, type: DirectoryOrCreate}" % hostpath
    raise ValueError("k8s_storage is hostpath or claim, not %r" % storage)


def k8s_extra_items(storage, storage_class):
    """With a claim, the claim itself is in the manifest (the same name in both versions' bundles)."""
    if storage != "claim":
        return ""
    return ("- apiVersion: v1\n  kind: PersistentVolumeClaim\n  metadata: {name: %s}\n"
            "  spec: {accessModes: [ReadWriteOnce], storageClassName: %s, resources: {requests: {storage: 2Gi}}}\n"
            % (CLAIM, storage_class))


def render_text(text, values):
    def sub(match):
        name = match.group(1)
        if name not in values:
            raise KeyError("template placeholder {{%s}} has no value" % name)
        return str(values[name])

    return PLACEHOLDER.sub(sub, text)


def render(version, out, **kw):
    values = {
        "HUB_VERSION": version,
        "DATA_VOLUME": data_volume(version),
        "PG_PORT": kw.get("pg_port", 25436),
        "WEBAPP_PORT": kw.get("webapp_port", 18080),
        "K8S_PG_PORT": kw.get("k8s_pg_port", 15432),
        "HOSTPATH": kw.get("hostpath", "/var/lib/hub-postgresql/data"),
        "K8S_DATA_SOURCE": k8s_data_source(kw.get("k8s_storage", "hostpath"), kw.get("hostpath", "/var/lib/hub-postgresql/data")),
        "K8S_EXTRA_ITEMS": k8s_extra_items(kw.get("k8s_storage", "hostpath"), kw.get("storage_class", "bdlab")),
        "HEALTH_INTERVAL": kw.get("health_interval", "5s"),
    }
    root = os.path.join(out, "hub-docker-%s" % version)
    templates = os.path.join(HERE, "templates")
    for folder in sorted(os.listdir(templates)):
        for name in sorted(os.listdir(os.path.join(templates, folder))):
            with open(os.path.join(templates, folder, name), encoding="utf-8") as f:
                text = render_text(f.read(), values)
            os.makedirs(os.path.join(root, folder), exist_ok=True)
            out_name = name[:-len(TEMPLATE_SUFFIX)] if name.endswith(TEMPLATE_SUFFIX) else name
            with open(os.path.join(root, folder, out_name), "w", encoding="utf-8") as f:
                f.write(text)
    return root


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--version", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--pg-port", type=int, default=25436)
    ap.add_argument("--webapp-port", type=int, default=18080)
    ap.add_argument("--k8s-pg-port", type=int, default=15432)
    ap.add_argument("--hostpath", default="/var/lib/hub-postgresql/data")
    ap.add_argument("--health-interval", default="5s")
    ap.add_argument("--k8s-storage", choices=["hostpath", "claim"], default="hostpath")
    ap.add_argument("--storage-class", default="bdlab")
    a = ap.parse_args(argv)
    print(render(a.version, a.out, pg_port=a.pg_port, webapp_port=a.webapp_port, k8s_pg_port=a.k8s_pg_port,
                 hostpath=a.hostpath, health_interval=a.health_interval, k8s_storage=a.k8s_storage,
                 storage_class=a.storage_class))
    return 0


if __name__ == "__main__":
    sys.exit(main())
