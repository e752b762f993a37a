#!/usr/bin/env bash
# The Python environment for Ansible and the tests, outside the repository; made again when
# tests/requirements.txt or the interpreter it is made from changes.
#
# The interpreter: Debian's own python3 (/usr/bin), built with profile-guided and link-time optimization, before any
# other on PATH (a pyenv build is not optimized by default). Every Ansible task forks a worker and every module run
# starts a Python that compiles its module_utils from the AnsiballZ zip, so the interpreter's speed is most of a
# playbook run's own cost: a tiny hub's whole upgrade takes about 20% less CPU on Debian's python3.11 than on
# pyenv's 3.11 on the same machine.
source "$(dirname "$0")/lib.sh"
REQ="$REPO_DIR/tests/requirements.txt"
stamp="$LAB_VENV/.requirements.sha256"
py=""
for p in /usr/bin/python3.11 /usr/bin/python3; do [ -x "$p" ] && { py=$p; break; }; done
[ -n "$py" ] || py=$(command -v python3.11 || command -v python3) || die "python3 is needed"
want="$(sha256sum "$REQ" | cut -d' ' -f1) $py"
if [ -x "$LAB_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then exit 0; fi
if ! "$py" -c 'import venv, ensurepip' 2>/dev/null; then apt_install python3-venv; fi
log "creating the Python environment in $LAB_VENV (from $py)"
"$py" -m venv --clear "$LAB_VENV"
"$LAB_VENV/bin/pip" install -q -r "$REQ"
echo "$want" > "$stamp"
