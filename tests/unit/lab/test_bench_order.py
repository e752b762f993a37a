"""make bench's --sweep (tests/bench/bench.py): which paths run again with which -j, in which order, under which
label. The smoke test (tests/integration/test_bench_smoke.py) runs every path once without a sweep; the sweep's runs
are the same paths with another -j, so their order and names are checked here."""
import os
import sys

import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bench"))

import bench  # noqa: E402  (tests/bench/bench.py)


def test_the_sweep_repeats_the_directory_paths_right_after_each_other_jobs_than_the_runs_own():
    a = bench.parse(["--sweep", "4,1,2,2", "--jobs", "2"])
    assert a.sweep == [1, 2, 4]
    assert bench.run_order(a.paths, a.sweep, 2) == [
        "c", "d", "d_custom", "a", "b_dir", "b_dir@1", "b_dir@4", "b_stream", "b_par", "s", "m", "m@1", "m@4"]
    assert bench.run_order(["b_stream", "m"], [1], 2) == ["c", "b_stream", "m", "m@1"]  # c always runs
    assert bench.run_order(bench.ORDER, [], 2) == list(bench.ORDER)
    assert bench.label("m@1") == bench.PATHS["m"] + " (-j 1)" and bench.label("b_dir") == bench.PATHS["b_dir"]


@pytest.mark.parametrize("argv", [["--sweep", "1,x"], ["--sweep", "0"], ["--paths", "c,z"], ["--prefix", "hub-"]])
def test_bad_arguments_are_refused(argv, capsys):
    with pytest.raises(SystemExit):
        bench.parse(argv)
    assert "error:" in capsys.readouterr().err


def test_steps_4_and_7_are_timed_by_the_tasks_that_move_the_data():
    """profile_tasks' lines of a run: the step runner's tasks open each step's bucket; steps 4 and 7 count the tasks
    that start and wait for db_dump / db_restore (a stream's db_restore at step 4), not the include around them."""
    tasks = [("blackduck.hub.upgrade : Discover the hub", 2.0),
             ("blackduck.hub.upgrade : Step | 4 dump", 0.1),
             ("blackduck.hub.upgrade : Dump every database and the roles (in the background)", 1.5),
             ("blackduck.hub.upgrade : Wait for the dump, showing its progress", 20.0),
             ("blackduck.hub.upgrade : Step | 7 restore", 0.1),
             ("blackduck.hub.upgrade : Restore the dump into the new database (in the background; streamed...)", 0.2),
             ("blackduck.hub.upgrade : Restore - restore the dump", 1.0),
             ("blackduck.hub.upgrade : Restore - wait for it, showing its progress", 30.0),
             ("blackduck.hub.upgrade : Verify every table against the dump, before any Hub process starts", 8.0),
             ("Report | Write the report", 1.0)]
    assert bench.moving(tasks, bench.DUMP_TASKS) == (21.5, [tasks[2][0], tasks[3][0]])
    assert bench.moving(tasks, bench.RESTORE_TASKS) == (31.0, [tasks[6][0], tasks[7][0]])
    assert bench.per_step(tasks) == {"setup": 2.0, "step 04": 21.6, "step 07": 39.3, "report": 1.0}

    streamed = [("Step | 4 dump", 0.1), ("Start the new database beside the old one (hub_transfer stream)", 9.0),
                ("Restore - stream every database and the roles from the old database", 1.0),
                ("Restore - wait for it, showing its progress", 40.0), ("Step | 7 restore", 0.1),
                ("Verify every table against the dump, before any Hub process starts", 8.0)]
    assert bench.moving(streamed, bench.DUMP_TASKS)[0] == 41.0
    assert bench.moving(streamed, bench.RESTORE_TASKS) == (None, [])  # step 7 only compares
