#!/usr/bin/env bash
# ansible-test sanity for the collection, offline: `make sanity`.
#
# 1. makes sure the lab's Python environment (ansible-core 2.19 with ansible-test) exists;
# 2. installs tests/sanity/get_pip_standin.py as ansible-test's cached get-pip bootstrap script
#    (~/.ansible/test/cache/get_pip_<pip version>.py), since the real one is downloaded from a host
#    this machine cannot reach;
# 3. copies the collection (git-tracked files and untracked, non-ignored ones) into a temporary
#    <tmp>/ansible_collections/blackduck/hub, as ansible-test needs that layout;
# 4. runs `ansible-test sanity --local --python 3.11 -v` there and exits with its code.
#
# Extra arguments go to ansible-test (for example: bash tests/sanity/run.sh --test pep8).
# SANITY_KEEP=1 keeps the temporary tree; SANITY_PYTHON=3.12 checks with another Python than 3.11.
source "$(dirname "$0")/../lab/lib.sh"
SANITY_PYTHON=${SANITY_PYTHON:-3.11}
# `ansible-test sanity --local` by default; ANSIBLE_TEST_COMMAND=units runs `ansible-test units --venv` (its own
# virtual environment with ansible-test's pinned pytest, so the lab's venv is not changed) on the same copy.
ANSIBLE_TEST_COMMAND=${ANSIBLE_TEST_COMMAND:-sanity}
case "$ANSIBLE_TEST_COMMAND" in
  sanity) ENV_ARG=--local ;;
  units) ENV_ARG=--venv ;;
  *) die "ANSIBLE_TEST_COMMAND is sanity or units, not $ANSIBLE_TEST_COMMAND" ;;
esac
started=$SECONDS

bash "$LAB_DIR/venv.sh"
PY="$LAB_VENV/bin/python"
"$PY" -c 'import ansible_test' 2>/dev/null || die "ansible-test is missing from $LAB_VENV"

# The shellcheck sanity test needs the tool; without it ansible-test skips that test.
command -v shellcheck >/dev/null || apt_install shellcheck

# The stand-in, under the name ansible-test looks for: one per pip version it pins, read from its source.
pip_versions=$("$PY" - <<'EOF'
import types
from ansible_test._util.target.common.constants import CONTROLLER_PYTHON_VERSIONS, REMOTE_ONLY_PYTHON_VERSIONS
from ansible_test._internal.python_requirements import get_venv_packages
versions = CONTROLLER_PYTHON_VERSIONS + REMOTE_ONLY_PYTHON_VERSIONS
print(' '.join(sorted({get_venv_packages(types.SimpleNamespace(version=v))['pip'] for v in versions})))
EOF
)
[ -n "$pip_versions" ] || die "could not read the pip version that ansible-test pins"
cache="$HOME/.ansible/test/cache"
mkdir -p "$cache"
# ansible-test keeps its sanity virtual environments in ~/.ansible/test/venv, shared by every run of the
# same user: two runs at once can remove pip from under each other. Take turns.
exec 9>"$HOME/.ansible/test/sanity.lock"
flock -w 1800 9 || die "another sanity run holds $HOME/.ansible/test/sanity.lock"
for v in $pip_versions; do
  target="$cache/get_pip_${v//./_}.py"
  if ! cmp -s "$REPO_DIR/tests/sanity/get_pip_standin.py" "$target"; then
    log "sanity: installing the get-pip stand-in as $target"
    install -m 0644 "$REPO_DIR/tests/sanity/get_pip_standin.py" "$target"
  fi
done

# A copy of the collection, laid out as ansible_collections/<namespace>/<name>.
tmp=$(mktemp -d /tmp/bdhub-sanity.XXXXXX)
if [ "${SANITY_KEEP:-0}" = 1 ]; then
  log "sanity: keeping $tmp"
else
  trap 'rm -rf "$tmp"' EXIT
fi
coll="$tmp/ansible_collections/blackduck/hub"
mkdir -p "$coll"
(
  cd "$REPO_DIR" || exit
  git ls-files -z -c -o --exclude-standard | while IFS= read -r -d '' f; do
    # Tracked files deleted from the work tree are listed too: skip them.
    if [ -e "$f" ] || [ -L "$f" ]; then printf '%s\0' "$f"; fi
  done | xargs -0 -r cp -P --preserve=mode,timestamps --parents -t "$coll"
)
# ansible-test lists a collection's files with git when it is in a repository (else it walks the tree and
# keeps everything, ignored files too): give the copy an empty repository of its own, so the copied
# .gitignore applies as it does in the work tree.
git -C "$coll" init -q

log "$ANSIBLE_TEST_COMMAND: ansible-test $ANSIBLE_TEST_COMMAND $ENV_ARG --python $SANITY_PYTHON -v $* (in $coll)"
rc=0
(cd "$coll" && PATH="$LAB_VENV/bin:$PATH" ansible-test "$ANSIBLE_TEST_COMMAND" "$ENV_ARG" --python "$SANITY_PYTHON" -v "$@") || rc=$?
log "$ANSIBLE_TEST_COMMAND: exit code $rc after $((SECONDS - started)) s"
exit "$rc"
