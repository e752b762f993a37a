"""plugins/action/async_progress.py: the reason given for a job that failed without a msg of its own."""
from ansible_collections.blackduck.hub.plugins.action.async_progress import why_failed


def test_what_the_job_wrote_without_an_exception():
    assert why_failed({"failed": True, "stderr": "  pg_dump: boom\n", "stdout": "x"}) == "pg_dump: boom"
    assert why_failed({"failed": True, "module_stdout": "half a JSON {"}) == "half a JSON {"


def test_an_exception_it_died_of_is_named_by_its_last_line():
    trace = 'Traceback (most recent call last):\n  File "x.py", line 1\nOSError: [Errno 28] No space left on device\n'
    assert why_failed({"failed": True, "stderr": "[DEPRECATION WARNING]: x", "exception": trace}) == (
        "it died of an error it did not handle: OSError: [Errno 28] No space left on device")
    assert why_failed({"failed": True, "exception": {"msg": "[Errno 28] No space left on device"}}).endswith(
        "[Errno 28] No space left on device")


def test_never_an_empty_reason():
    assert why_failed({"failed": True, "stderr": "", "stdout": ""}) == (
        "it ended without a word (no result, nothing on stdout or stderr)")
