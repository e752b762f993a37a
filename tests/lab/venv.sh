#!/usr/bin/env bash
# The Python environment for Ansible and the tests, outside the repository; reinstalled when
# tests/requirements.txt changes.
source "$(dirname "$0")/lib.sh"
REQ="$REPO_DIR/tests/requirements.txt"
stamp="$LAB_VENV/.requirements.sha256"
want=$(sha256sum "$REQ" | cut -d' ' -f1)
if [ -x "$LAB_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
py=$(command -v python3.11 || command -v python3) || die "python3 is needed"
if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
log "creating the Python environment in $LAB_VENV"
"$py" -m venv "$LAB_VENV"
"$LAB_VENV/bin/pip" install -q -r "$REQ"
echo "$want" > "$stamp"
