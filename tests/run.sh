#!/usr/bin/env bash
# The whole test suite on the lab, as `make test` runs it (make lab first; make test does).
#
# Stage 1: the integration tests marked exclusive run alone on the lab's engine (the vendor's docker-hub.sh takes any
#   container whose line names one of its own for its own), and beside them, in the background, what starts no
#   container: ansible-test sanity and units, ansible-lint, then the integration tests marked no_containers
#   (`bash tests/run.sh beside` runs that part alone). Their output follows the exclusive tests' output.
# Stage 2: every other integration test, on TEST_WORKERS workers side by side (tests/integration/conftest.py says which
#   share what). It runs even when stage 1 failed.
#
# Before stage 1 it takes the lab for itself (one suite at a time) and removes the hubs a killed run left behind.
#
# Exit code: the first failure's; a pytest that PYTEST_ARGS leaves without a test to run (exit code 5) is no failure
# unless none of the three ran a test. PYTEST_ARGS: extra pytest arguments for the integration tests, split as a shell
# splits them (a -k, a -x; not a -m: the stages' marks choose what may run beside what); TEST_WORKERS: 2 by default,
# 1 for one test at a time.
source "$(dirname "$0")/lab/lib.sh"
set +e  # every part runs; the exit code says what failed first
PY="$LAB_VENV/bin/python"
WORKERS=${TEST_WORKERS:-2}
cd "$REPO_DIR" || exit
# PYTEST_ARGS split as a shell would split it (quotes kept together), without a shell
split=$("$PY" -c 'import shlex, sys; [print(a) for a in shlex.split(sys.argv[1])]' "${PYTEST_ARGS:-}" 2>/dev/null) \
  || die "PYTEST_ARGS cannot be split as a shell would split it (an unclosed quote?): ${PYTEST_ARGS:-}"
EXTRA=()
[ -z "$split" ] || mapfile -t EXTRA <<< "$split"
for a in "${EXTRA[@]}"; do
  case "$a" in
    -m|-m*|--markexpr|--markexpr=*) die "PYTEST_ARGS may not choose marks ($a): the stages do (exclusive, no_containers); select with -k or run pytest yourself" ;;
  esac
done
PYTEST=("$PY" -m pytest -ra -p no:cacheprovider)
rc=0
first_failure() { [ "$1" -eq 0 ] || [ "$rc" -ne 0 ] || rc=$1; }

beside() { # sanity, units, lint, the tests marked no_containers; exit code: the first failure's; 5: no test selected
  local x tmp
  bash tests/sanity/run.sh; first_failure $?
  ANSIBLE_TEST_COMMAND=units bash tests/sanity/run.sh; first_failure $?
  bash tests/lint/run.sh; first_failure $?
  tmp=$(mktemp -d /tmp/bdhub-beside-pytest.XXXXXX)  # its own: the exclusive tests' pytest runs meanwhile
  "${PYTEST[@]}" --basetemp "$tmp/t" --durations=5 -m "no_containers and not exclusive" "${EXTRA[@]}" tests/integration
  x=$?
  rm -rf "$tmp"
  if [ "$x" -eq 5 ]; then [ "$rc" -ne 0 ] || rc=5; else first_failure $x; fi
  return "$rc"
}
if [ "${1:-}" = beside ]; then  # its own process (stage 1 starts it so): rc is its own
  beside
  exit $?
fi

# One suite on the lab at a time, and it starts from an empty lab: a run that was killed leaves its hubs running, and
# the vendor's docker-hub.sh takes any container whose line names one of its own for its own.
exec 9> "$LAB_HOME/test-suite.lock"
if ! flock -n 9; then  # (also the side part of a suite whose main process was killed: it ends within minutes)
  log "another test suite runs on this lab (it holds $LAB_HOME/test-suite.lock): waiting up to 15 min for it to end"
  flock -w 900 9 || die "another test suite still runs on this lab (it holds $LAB_HOME/test-suite.lock): wait for it to end"
fi
"$PY" "$LAB_DIR/labhub.py" leftovers || die "could not remove what an earlier run left on the lab (see above)"

selected=0  # how many of the three pytest runs had a test to run
tested() { if [ "$1" -eq 5 ]; then return 0; fi; selected=$((selected + 1)); first_failure "$1"; }

beside_log=$(mktemp /tmp/bdhub-beside.XXXXXX)
started=$SECONDS
log "stage 1: the exclusive tests, and beside them sanity, units, lint and the tests that start no container"
# its own process group, so that an interrupted run stops it (and everything it started) too
setsid bash "$REPO_DIR/tests/run.sh" beside > "$beside_log" 2>&1 &
beside_pid=$!
trap 'kill -TERM -- "-$beside_pid" 2>/dev/null; cat "$beside_log"; rm -f "$beside_log"; exit 130' INT TERM
"${PYTEST[@]}" --durations=10 -m exclusive "${EXTRA[@]}" tests/integration
x=$?
tested $x
log "stage 1: the exclusive tests ended after $((SECONDS - started)) s (exit code $x); what ran beside them:"
wait "$beside_pid"
x=$?
trap - INT TERM
cat "$beside_log"
rm -f "$beside_log"
log "stage 1 ended after $((SECONDS - started)) s (sanity, units, lint and the tests without containers: exit code $x)"
tested $x

started=$SECONDS
log "stage 2: the other integration tests, $WORKERS side by side"
"${PYTEST[@]}" --durations=50 -n "$WORKERS" --dist loadfile --no-loadscope-reorder \
  -m "not exclusive and not no_containers" "${EXTRA[@]}" tests/integration
x=$?
log "stage 2 ended after $((SECONDS - started)) s (exit code $x)"
tested $x
if [ "$selected" -eq 0 ]; then
  log "no integration test ran: PYTEST_ARGS (${PYTEST_ARGS:-}) selects none"
  first_failure 5
fi
exit "$rc"
