"""make bench still works: the benchmark (tests/bench/bench.py) at a tiny scale, as make bench runs it.

Performance is shown by the benchmark (make bench SCALE=<MB>, BENCHMARKS.md), never by a timed test: this only
proves that every path runs, measures something and restores data that db_verify passes. Every path and the phase
timings run at 2 MB, and the whole playbook on a tiny hub (scale 0); the playbook at the bench's own scale is left
out with --no-playbook (at 2 MB it would be the tiny run again, over a minute more), and the fleet with --fleet 0
(N more hubs; make bench runs it), and the JSON must say so. No --sweep: its runs are the directory paths again
with another -j (their order and names: tests/unit/lab/test_bench_order.py).
"""
import json
import os
import subprocess
import sys

import pytest

import labhub

pytestmark = pytest.mark.usefixtures("docker_lab")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BENCH = os.path.join(REPO, "tests", "bench", "bench.py")
PREFIX = "bench-smoke-"
DATA_PATHS = ("c", "d", "d_custom", "a", "b_dir", "b_stream", "b_par", "m")
MODULE_PATHS = ("c", "d", "d_custom", "m")
STREAMS = ("b_stream", "b_par")  # no file: nothing on disk


def test_bench_runs_every_path_at_a_tiny_scale(tmp_path):
    out = tmp_path / "bench.json"
    proc = subprocess.run([sys.executable, BENCH, "--scale", "2", "--no-playbook", "--fleet", "0", "--prefix",
                           PREFIX, "--out", str(out)],
                          capture_output=True, text=True, timeout=900, env=dict(os.environ, BENCH_WORK=str(tmp_path)),
                          check=False)
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, log
    res = json.loads(out.read_text())

    s = res["paths"]["s"]  # db_restore's source: no dump step, no file - the record of the old side only
    assert "error" not in s and s["dump_s"] is None and s["restore_s"] > 0 and s["total_s"] > s["restore_s"], s
    assert 0 < s["bytes_on_disk"] < 1000000 and s["module_peak_mib"]["db_restore"] > 0, s
    assert s["verify"]["passed"] is True and s["verify"]["against"] == "its own dump", s
    for key in DATA_PATHS:
        p = res["paths"][key]
        assert "error" not in p and "skipped" not in p, (key, p)
        for field in ("dump_s", "restore_s", "total_s", "ratio_to_fastest_b"):
            assert p[field] > 0, (key, field, p[field])
        if key in STREAMS:
            assert p["bytes_on_disk"] == 0 and p["peak_disk_bytes"] == 0, key
        else:
            assert p["bytes_on_disk"] > 0 and p["peak_disk_bytes"] >= p["bytes_on_disk"], key
        assert p["verify"]["passed"] is True and p["verify"]["differences"] == 0, (key, p["verify"])
    for key in MODULE_PATHS:
        p = res["paths"][key]
        assert p["module_peak_mib"]["db_dump"] > 0 and p["module_peak_mib"]["db_restore"] > 0, key
        assert p["ansible_peak_mib"] > 0 and p["time_v_max_rss_mib"] > 0, key
    assert res["paths"]["a"]["peak_disk_bytes"] > res["paths"]["a"]["bytes_on_disk"]  # the copy in /tmp and the one out
    raw = ("b_dir", "b_stream", "b_par")  # the raw paths of the run's own -j (not the swept one)
    assert res["fastest_b"]["path"] in raw
    assert min(res["paths"][k]["ratio_to_fastest_b"] for k in raw) == 1.0
    assert res["run"]["order"] == ["c", "d", "d_custom", "a", "b_dir", "b_stream", "b_par", "s", "m"]

    assert res["paths"]["fleet"]["skipped"] == "--fleet 0 given"
    fleet_target = [t for t in res["targets"] if t["target"] == "fleet of tiny hubs"]
    assert fleet_target and fleet_target[0]["met"] is None and fleet_target[0]["note"] == "--fleet 0 given"
    tiny = res["paths"]["tiny"]
    assert "error" not in tiny and "skipped" not in tiny, tiny
    assert tiny["rc"] == 0 and tiny["total_s"] > 0 and tiny["dump_s"] > 0 and tiny["restore_s"] > 0
    assert tiny["verify"]["passed"] is True
    assert len(tiny["steps_done"]) == 11 and set(tiny["steps_s"]) >= {"step %02d" % n for n in range(1, 12)}
    assert tiny["module_peak_mib"]["db_dump"] > 0 and tiny["ansible_peak_mib"] > 0 and tiny["tasks_run"] > 50
    assert res["paths"]["e"] == {"label": "(e) playbook upgrade_hub, 11 steps, streamed", "skipped": "--no-playbook given"}
    assert res["paths"]["e_mount"] == {"label": "(e) playbook, the folder mounted (default)", "skipped": "--no-playbook given"}
    assert res["paths"]["e_stream"] == {"label": "(e) playbook, hub_transfer: stream (no dump file)",
                                        "skipped": "--no-playbook given"}
    # steps 4 and 7 timed by the tasks that run and wait for db_dump and db_restore, not by the include around them
    assert [n for n in tiny["moving_tasks"] if "Wait for the dump, showing" in n]
    assert [n for n in tiny["moving_tasks"] if "Restore - wait for it, showing" in n], tiny["moving_tasks"]
    m = res["paths"]["m"]  # the modules through the folder mounted into both containers: directory format, -j N
    assert m["settings"]["db_dump"]["format"] == "directory" and m["settings"]["db_dump"]["connection"]["dump_mount"]
    assert m["settings"]["db_restore"]["jobs"] == res["run"]["raw_jobs"]

    ph = res["phases"]  # where the modules' time goes
    assert "error" not in ph, ph
    for side, phases in (("dump_total", ("stream", "list", "rows", "checksums")), ("restore_total", ("sha256", "stream", "analyze"))):
        assert all(ph[side][k] > 0 for k in phases), (side, ph[side])

    assert [t["target"] for t in res["targets"]] == [
        "(c) vs fastest (b)", "(c) vs (a)", "(m) vs raw -Fd -j N", "(s) stream + exact verify vs raw stream",
        "(e) steps 4 + 7 vs fastest (b)",
        "(e, mounted) steps 4 + 7 vs fastest (b)", "(e, stream) steps 3-7 vs raw stream", "module peak memory", "module peak memory flat",
        "playbook overhead on a tiny hub", "fleet of tiny hubs"]
    left_out = ("fleet of tiny hubs", "(e) steps 4 + 7 vs fastest (b)", "(e, mounted) steps 4 + 7 vs fastest (b)",
                "(e, stream) steps 3-7 vs raw stream")
    assert all(t["met"] is None and t["note"] == "--no-playbook given" for t in res["targets"] if t["target"] in left_out[1:])
    measured = [t for t in res["targets"] if t["target"] not in left_out]  # left out, above
    assert all(t["met"] in (True, False) and t["value"] for t in measured), res["targets"]
    assert "TARGETS" in proc.stdout and "missed:" in proc.stdout and "db_verify" in proc.stdout
    assert res["run"]["machine"]["nproc"] > 0 and res["run"]["versions"]["postgresql_old_server"]
    assert not [h["name"] for h in labhub.all_hubs() if h["name"].startswith(PREFIX)]  # every bench hub removed
