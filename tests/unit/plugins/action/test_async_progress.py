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


def test_a_running_job_is_seen_in_its_file_and_anything_else_is_left_to_async_status(tmp_path):
    """With the local connection the watcher reads the job file itself while the job runs (async_wrapper writes it
    whole: a temporary file renamed); a finished job's result, a file not there yet or not readable as JSON: None, and
    async_status is asked, as on any other connection."""
    from ansible_collections.blackduck.hub.plugins.action.async_progress import read_local, still_running
    job = tmp_path / "123.456"
    assert still_running(str(job)) is None  # not written yet
    job.write_text('{"started": 1, "finished": 0, "ansible_job_id": "123.456"}')
    assert still_running(str(job)) is True
    job.write_text('{"changed": true, "dump_id": "x"}')  # the module's result: async_status reads and decodes it
    assert still_running(str(job)) is None
    job.write_text('{"started": 1, "finished": 1}')
    assert still_running(str(job)) is None
    job.write_text('{"started": 1, "fini')
    assert still_running(str(job)) is None
    progress = tmp_path / "progress.json"
    assert read_local(str(progress)) is None
    progress.write_text('{"bytes": 5}')
    assert read_local(str(progress)) == {"bytes": 5}
