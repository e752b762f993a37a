"""plugins/filter/failure.py: why a task failed, never an empty string."""
import pytest

from ansible_collections.blackduck.hub.plugins.filter.failure import FilterModule, failure_reason, hide_values


def test_exported():
    assert list(FilterModule().filters()) == ["failure_reason", "hide_values"]


def test_message_stderr_and_exit_code():
    assert failure_reason({"msg": "container hub-webapp-1 is unhealthy"}) == "container hub-webapp-1 is unhealthy"
    assert failure_reason({"msg": "non-zero return code", "rc": 1, "stderr": "a\n\nb\nc\n"}) == (
        "non-zero return code; stderr: a | b | c; exit code 1")
    assert failure_reason({"msg": "", "stderr": "Error: stack not found"}) == "stderr: Error: stack not found"
    assert failure_reason({"msg": "application not healthy after 15s", "stderr": "{json noise}"}) == (
        "application not healthy after 15s")
    assert failure_reason({"msg": "", "rc": 137}) == "exit code 137"
    assert failure_reason({"msg": "", "stdout": "x\ny"}) == "output: x | y"


def test_never_empty():
    assert failure_reason({"msg": ""}).startswith("failed, without a message")
    assert failure_reason({}).startswith("failed, without a message")
    assert failure_reason("") == "failed, without a message"


def test_loop_items():
    result = {"msg": "One or more items failed", "results": [
        {"failed": False, "msg": "ok"}, {"failed": True, "msg": "bad volume", "rc": 1}]}
    assert failure_reason(result) == "bad volume; exit code 1"


def test_a_wait_that_ran_out_is_named_with_its_setting():
    pods = {"failed": True, "attempts": 600, "rc": 0, "msg": "", "stdout": '{\n "items": []\n}'}
    task = {"name": "Apply | Wait until every deployment of the manifests is ready, alone"}
    assert failure_reason(pods, task, "hub_start_timeout") == (
        "timed out: 'Apply | Wait until every deployment of the manifests is ready, alone' gave up "
        "(hub_start_timeout: raise it if it was only slow)")  # no JSON tail
    left = {"failed": True, "attempts": 150, "rc": 0, "msg": "", "stdout": "hub_webapp.1\nhub_postgres.1"}
    assert failure_reason(left) == (
        "timed out: a wait gave up (its retries ran out); its last output: hub_webapp.1 | hub_postgres.1")
    # a wait whose command itself failed, or that said why, is not a timeout
    assert failure_reason({"failed": True, "attempts": 3, "rc": 1, "msg": "", "stderr": "no such"}, task) == (
        "stderr: no such; exit code 1")
    assert failure_reason({"failed": True, "attempts": 3, "msg": "Status code was -1"}, task) == "Status code was -1"


def test_a_hub_wait_that_ran_out_is_named_with_its_setting():
    """blackduck.hub.hub_wait fails with its own message (how long, how many checks) and wait_timed_out: the same
    words as an until loop's, its own message where no setting is known."""
    pods = {"failed": True, "wait_timed_out": True, "attempts": 200, "rc": 0,
            "stdout": "cfssl-5d8 app=cfssl Running ready\npostgres-7d9 app=postgres Pending not ready",  # a line per pod
            "msg": "waited 598.2 s (200 checks of kubectl) for one ready pod per wanted app, and no other: not so at "
                   "the last check"}
    task = {"name": "Apply | Wait until every deployment of the manifests is ready, alone"}
    assert failure_reason(pods, task, "hub_start_timeout") == (
        "timed out: 'Apply | Wait until every deployment of the manifests is ready, alone' gave up "
        "(hub_start_timeout: raise it if it was only slow); its last output: cfssl-5d8 app=cfssl Running ready | "
        "postgres-7d9 app=postgres Pending not ready")
    # a JSON document's tail (an until loop over kubectl get -o json) says nothing: left out
    assert failure_reason(dict(pods, stdout='{"items": []}'), task, "hub_start_timeout") == (
        "timed out: 'Apply | Wait until every deployment of the manifests is ready, alone' gave up "
        "(hub_start_timeout: raise it if it was only slow)")
    left = {"failed": True, "wait_timed_out": True, "attempts": 3, "rc": 0, "stdout": "pod/postgres-1",
            "msg": "waited 6.0 s (3 checks of kubectl) for no line left (every container or pod gone): not so at the "
                   "last check"}
    assert failure_reason(left) == (
        "timed out: a wait gave up (waited 6.0 s (3 checks of kubectl) for no line left (every container or pod "
        "gone): not so at the last check); its last output: pod/postgres-1")
    # its command failing at the last check is still a wait that ran out (one failure is a hiccup), and says so
    assert failure_reason(dict(left, rc=1, stderr="connection refused"), task) == (
        "timed out: 'Apply | Wait until every deployment of the manifests is ready, alone' gave up (waited 6.0 s (3 "
        "checks of kubectl) for no line left (every container or pod gone): not so at the last check); its last "
        "output: pod/postgres-1; its last check failed: connection refused")
    # a command that kept failing ended the wait: its own words, not a timeout
    broken = {"failed": True, "wait_timed_out": False, "attempts": 3, "rc": 1, "stdout": "",
              "stderr": "error: You must be logged in to the server (Unauthorized)",
              "msg": "kubectl failed 3 times in a row, so what runs cannot be seen: error: You must be logged in to the "
                     "server (Unauthorized)"}
    assert failure_reason(broken, task, "hub_stop_timeout") == broken["msg"] + "; exit code 1"


def test_a_no_log_result_gives_its_message_and_exit_code_never_its_output():
    """ansible_failed_result is not censored; the reason goes to the state file, the reports and the run's log."""
    run = {"failed": True, "_ansible_no_log": True, "msg": "non-zero return code", "rc": 125,
           "stderr": "docker: invalid env HUB_PROXY_PASSWORD=S3cret", "stdout": "S3cret",
           "cmd": ["docker", "run", "-e", "HUB_PROXY_PASSWORD=S3cret"]}
    assert failure_reason(run) == "non-zero return code; exit code 125"
    quiet = {"failed": True, "_ansible_no_log": True, "msg": "", "rc": 1, "stderr": "S3cret"}
    assert failure_reason(quiet) == "its output is hidden (no_log: it may hold a password); exit code 1"
    items = {"msg": "One or more items failed", "_ansible_no_log": True, "results": [
        {"failed": True, "_ansible_no_log": True, "msg": "", "rc": 1, "stdout": "S3cret"}]}
    assert "S3cret" not in failure_reason(items) and "exit code 1" in failure_reason(items)
    waited = {"failed": True, "_ansible_no_log": True, "attempts": 3, "rc": 0, "msg": "", "stdout": "S3cret"}
    assert failure_reason(waited) == "timed out: a wait gave up (its retries ran out)"


# What the tools print, as they print it (kubectl 1.29 apply, docker compose 2.40, Docker 20.10, the API server)
PATCH = ('error when applying patch:\n{"data":{"HUB_POSTGRES_ADMIN_PASSWORD":"s3cret"},"metadata":{"annotations":'
         '{"kubectl.kubernetes.io/last-applied-configuration":"{\\"data\\":{\\"PW\\":\\"s3cret\\"}}"}}}\n'
         'to:\nResource: "/v1, Resource=configmaps", GroupVersionKind: "/v1, Kind=ConfigMap"\nName: "hpup-admin", '
         'Namespace: "hub"\nfor: "STDIN": error when patching "STDIN": configmaps "hpup-admin" is forbidden')
CREATING = ('error when creating patch with:\noriginal:\n{"data":{"PW":"s3cret"}}\nmodified:\n{"data":{"PW":"s3cret"}}\n'
            'current:\n{"data":{"PW":"s3cret"}}\nfor: "STDIN": unable to find api field in struct ConfigMap')


@pytest.mark.parametrize("said,kept", [
    (PATCH, ["error when applying patch (not shown: it holds the object's data) for: \"STDIN\": error when patching",
             'configmaps "hpup-admin" is forbidden']),
    (CREATING, ["error when creating patch with (not shown: it holds the object's data) for: \"STDIN\": unable to find"]),
    ("failed to read /b/docker-compose/hub-proxy.env: line 2: unterminated quoted value \"s3cret",
     ["failed to read /b/docker-compose/hub-proxy.env: line 2: unterminated quoted value (not shown"]),
    ('failed to read /b/hub-proxy.env: Invalid template: "${s3cret"',
     ["failed to read /b/hub-proxy.env: Invalid template: (not shown: it may be a password)"]),
    ('invalid interpolation format for services.webapp.environment.PW: "s3cret${". You may need to escape any $ with '
     'another $.', ["invalid interpolation format for services.webapp.environment.PW: (not shown: it may be a password). "
                    "You may need"]),
    ("invalid interpolation format for services.webapp.environment.PW.\nYou may need to escape any $ with another $.\n"
     "s3cret${", ["invalid interpolation format for services.webapp.environment.PW.\nYou may need to escape any $ with "
                  "another $. (the value not shown)"]),
    ("docker: poorly formatted environment: no variable name on line '=s3cret'.\nSee 'docker run --help'.",
     ["no variable name on line (not shown: it may be a password)\nSee 'docker run --help'."]),
    ("docker: poorly formatted environment: variable 'HUB_PROXY_PASSWORD s3cret' contains whitespaces.",
     ["variable (not shown: it may be a password) contains whitespaces."]),
    ("env file /b/hub-proxy.env contains invalid utf8 bytes at line 3: [115 51 99 114 101 116]",
     ["invalid utf8 bytes at line 3: (not shown"]),
    ('The ConfigMap "hpup-admin" is invalid: data[PW]: Invalid value: "s3cret": a valid config key',
     ['The ConfigMap "hpup-admin" is invalid: data[PW]: Invalid value: (not shown): a valid config key']),
    ('The ConfigMap "x" is invalid: data: Invalid value: map[string]string{"PW":"s3cret"}: must have at most',
     ['data: Invalid value: (not shown): must have at most']),
    ("psql: ERROR: LINE 1: ALTER ROLE x PASSWORD 'md5s3cret'", ["PASSWORD '(hidden)'"]),
    ('time="2026-12-07T01:46:23Z" level=warning msg="The \\"s3cret\\" variable is not set. Defaulting to a blank',
     ['msg="The \\"(not shown: it may be part of a value)\\" variable is not set. Defaulting']),
    ('The "s3cret" variable is not set. Defaulting to a blank string.',
     ['The "(not shown: it may be part of a value)" variable is not set.']),
    ('failed to read /b/hub-proxy.env: line 3: unexpected character "{" in variable name near "{s3cret}\\nHUB_X=\\"1\\"\\n"',
     ['line 3: unexpected character (not shown) in variable name (the rest of the file not shown: it may hold passwords)']),
])
def test_hide_values(said, kept):
    """What a tool quotes of a file's values is hidden, the rest of its words kept (the file, the line, the object,
    the API server's reason); hidden twice (a role's message, then failure_reason, its lines folded) the same, the
    words after it kept; failure_reason hides the same in a failed task's message or stderr."""
    hidden = hide_values(said)
    assert "s3cret" not in hidden and all(k in hidden for k in kept), hidden
    folded = " ".join(hidden.split())
    assert hide_values(folded + ". Fix the file; the Hub was not touched.") == folded + ". Fix the file; the Hub was not touched."
    assert "s3cret" not in failure_reason({"msg": said})
    assert "s3cret" not in failure_reason({"rc": 1, "msg": "non-zero return code", "stderr": said})


def test_hide_values_leaves_the_rest():
    for said in ("service \"webapp\" refers to undefined volume \"x\"", "yaml: on line 5, column 3: did not find expected key",
                 "configmaps \"hpup-admin\" is forbidden: User \"x\" cannot patch"):
        assert hide_values(said) == said
