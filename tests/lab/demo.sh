#!/usr/bin/env bash
# make demo: deploy an old lab hub with generated data, upgrade it with ansible-playbook blackduck.hub.upgrade_hub
# (check mode first, then for real), and print the migration report. Needs the lab (make lab).
source "$(dirname "$0")/lib.sh"
SCALE=${SCALE:-20}
NAME=${NAME:-demo}
DEMO="$LAB_HOME/demo"
PY="$LAB_VENV/bin/python"

# The collection, as Ansible finds installed collections: <root>/ansible_collections/blackduck/hub -> this repo.
mkdir -p "$DEMO/collections/ansible_collections/blackduck"
ln -sfn "$REPO_DIR" "$DEMO/collections/ansible_collections/blackduck/hub"
export ANSIBLE_COLLECTIONS_PATH="$DEMO/collections" ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_DISPLAY_SKIPPED_HOSTS=false

log "deploying lab hub $NAME (Compose, Hub old version, ${SCALE} MB of Hub-like data)"
"$PY" "$LAB_DIR/labhub.py" deploy "$NAME" --orch compose --version old --scale "$SCALE" > "$DEMO.hub.json"
rm -rf "$DEMO/migration" && mkdir -p "$DEMO"
"$PY" - "$NAME" "$DEMO" "$PY" <<'PYEOF' > "$DEMO/inventory.yml"
import json, sys
name, demo, py = sys.argv[1:4]
hub = json.load(open("/var/lib/bdlab/hubs/%s/hub.json" % name))
print(json.dumps({"all": {"hosts": {name: {
    "ansible_connection": "local", "ansible_python_interpreter": py,
    "hub_orchestration": "compose", "hub_project": hub["project"],
    "hub_old_bundle": hub["bundles"][hub["old_version"]], "hub_new_bundle": hub["bundles"][hub["new_version"]],
    "hub_dump_dir": demo + "/migration", "hub_compose_pull": "never",
    "hub_fleet_report_dir": demo + "/fleet",
    "hub_drain_timeout": 10,  # the stand-in Hub's running jobs never end: the drain waits 10 s, then stops them
    "hub_url": "http://127.0.0.1:%d" % hub["webapp_port"]}}}}, indent=2))
PYEOF
log "inventory: $DEMO/inventory.yml"
log "check mode: the plan"
"$LAB_VENV/bin/ansible-playbook" -i "$DEMO/inventory.yml" blackduck.hub.upgrade_hub --check
log "the upgrade"
"$LAB_VENV/bin/ansible-playbook" -i "$DEMO/inventory.yml" blackduck.hub.upgrade_hub
log "the report ($DEMO/migration/report.md):"
cat "$DEMO/migration/report.md"
log "the hub now answers: $(curl -s "http://127.0.0.1:$("$PY" -c "import json; print(json.load(open('/var/lib/bdlab/hubs/$NAME/hub.json'))['webapp_port'])")/api/current-version")"
