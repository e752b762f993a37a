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
