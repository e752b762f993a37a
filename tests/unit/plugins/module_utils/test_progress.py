"""module_utils/_progress.py: the progress file a long dump or restore writes, and the line shown for it."""
import json
import os
import stat

from ansible_collections.blackduck.hub.plugins.module_utils._progress import Progress, describe, poll_delay

MiB = 1024 * 1024


def read(path):
    with open(path) as f:
        return json.load(f)


def test_bytes_of_parallel_streams_add_up(tmp_path):
    lines = []
    path = str(tmp_path / "progress.json")
    p = Progress(path, lines.append, "dump", expected_bytes=100 * MiB)
    p.update("bds_hub.dump", 3 * MiB, 1)
    p.update("bdio.dump", MiB, 1)
    p.update("bds_hub.dump", 5 * MiB, 1)
    state = read(path)
    assert (state["action"], state["file"], state["bytes"], state["total_bytes"], state["total_human"]) == \
        ("dump", "bds_hub.dump", 5 * MiB, 6 * MiB, "6.0 MiB")
    assert state["expected_bytes"] == 100 * MiB and state["expected_exact"] is False
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert not os.path.exists(path + ".tmp")
    assert len(lines) == 3 and lines[-1].startswith("dump progress: 6.0 MiB so far (")
    assert "from 100.0 MiB of databases; bds_hub.dump: 5.0 MiB [" in lines[-1]
    assert "%" not in lines[-1]  # a dump's size is not known in advance: no percentage that could lie


def test_a_phase_shows_until_that_stream_moves_again(tmp_path):
    lines = []
    path = str(tmp_path / "progress.json")
    p = Progress(path, lines.append, "dump")
    p.update("bds_hub.dump", MiB)
    p.phase("bds_hub", "taking checksums of bds_hub")
    assert read(path)["phase"] == "taking checksums of bds_hub"
    assert lines[-1].split("; ")[-1].startswith("now taking checksums of bds_hub [")
    p.update("bdio.dump", MiB)
    p.phase("bds_hub", "taking checksums of bds_hub")
    p.phase("bdio", "taking checksums of bdio")
    assert read(path)["phase"] == "taking checksums of bdio, taking checksums of bds_hub"
    p.update("bdio", 2 * MiB)
    assert read(path)["phase"] == "taking checksums of bds_hub"
    p.remove()
    assert not os.path.exists(path)
    p.remove()  # a second removal is harmless


def test_a_restore_knows_its_size_and_shows_a_percentage():
    state = {"action": "restore", "total_bytes": 30 * MiB, "rate_bytes_per_s": 10 * MiB, "expected_bytes": 120 * MiB,
             "expected_exact": True, "file": "bds_hub.dump", "bytes": 30 * MiB, "elapsed_s": 3.2}
    assert describe(state) == ("restore progress: 30.0 MiB so far (10.0 MiB/s), 25% of 120.0 MiB; "
                               "bds_hub.dump: 30.0 MiB [3s]")
    state["total_bytes"] = 130 * MiB  # never more than 100%
    assert ", 100% of 120.0 MiB;" in describe(state)


def test_describe_takes_a_sparse_state():
    assert describe({}) == "dump progress: 0 B so far (0 B/s)"


def test_a_short_job_is_polled_every_second_and_a_long_one_at_most_every_interval():
    assert poll_delay(0, 30) == 1.0 and poll_delay(9.5, 30) == 1.0  # a one-second job ends a second later, not 30
    assert poll_delay(120, 30) == 12.0
    assert poll_delay(3600, 30) == 30.0
    assert poll_delay(0, 0.5) == 0.5  # never longer than the interval


def test_a_progress_file_that_cannot_be_written_is_skipped(tmp_path, monkeypatch):
    """The dump's file system full: the progress file is not written (nor its temporary file left, nor the last
    figures, now stale), the line is still logged, and the task goes on."""
    import errno
    from ansible_collections.blackduck.hub.plugins.module_utils import _progress
    lines = []
    path = str(tmp_path / "progress.json")

    def full(p, data, durable=True):
        with open(p + ".tmp", "w") as f:
            f.write("{")
        raise OSError(errno.ENOSPC, "No space left on device")

    with Progress(path, lines.append, "dump") as p:
        p.update("bds_hub.dump", 1 * MiB)
        assert os.path.exists(path)
        monkeypatch.setattr(_progress, "write_json_atomic", full)
        p.update("bds_hub.dump", 3 * MiB)
        assert not os.path.exists(path) and not os.path.exists(path + ".tmp")  # no stale figures either
    assert len(lines) == 2 and "3.0 MiB" in lines[1]
