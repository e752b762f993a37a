#!/usr/bin/env bash
# ansible-lint, production profile (.ansible-lint), bare at the root as a publisher runs it - the roles, the
# playbooks, galaxy.yml and meta/, the example project (.ansible-lint leaves out the lab, CI and changelogs) - offline:
# `make lint`.
#
# 1. makes sure the lab's Python environment (with ansible-lint, tests/requirements.txt) exists;
# 2. lints the whole collection (no path given);
# 3. runs from the collection root with the collection reachable as blackduck.hub: a temporary collections root
#    <tmp>/ansible_collections/blackduck/hub -> this repository on ANSIBLE_COLLECTIONS_PATH, so its syntax check
#    resolves blackduck.hub.* modules and roles (the ansible package's collections stay reachable too).
#
# Offline: `offline: true` in .ansible-lint (no requirements install from Galaxy, no schema refresh, no version
# check); the command line and ANSIBLE_LINT_SKIP_SCHEMA_UPDATE say the same, in case the configuration is
# overridden. Extra arguments go to ansible-lint (for example: bash tests/lint/run.sh -f pep8).
source "$(dirname "$0")/../lab/lib.sh"
started=$SECONDS

bash "$LAB_DIR/venv.sh"
LINT="$LAB_VENV/bin/ansible-lint"
[ -x "$LINT" ] || die "ansible-lint is missing from $LAB_VENV (tests/requirements.txt)"

cd "$REPO_DIR" || exit
tmp=$(mktemp -d /tmp/bdhub-lint.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/ansible_collections/blackduck"
ln -s "$REPO_DIR" "$tmp/ansible_collections/blackduck/hub"

log "lint: ansible-lint --offline $* (bare, at the root; profile from .ansible-lint)"
rc=0
PATH="$LAB_VENV/bin:$PATH" \
  ANSIBLE_COLLECTIONS_PATH="$tmp" \
  ANSIBLE_LINT_SKIP_SCHEMA_UPDATE=1 \
  "$LINT" --offline --nocolor "$@" || rc=$?
log "lint: exit code $rc after $((SECONDS - started)) s"
exit "$rc"
