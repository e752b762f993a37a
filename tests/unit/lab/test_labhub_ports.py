"""The lab's ports stay out of the kernel's ephemeral range, where a loopback client's local end may hold them."""
import pytest

import labhub


def test_a_port_inside_the_ephemeral_range_is_refused(tmp_path):
    rng = tmp_path / "range"
    rng.write_text("32768\t60999\n")
    with pytest.raises(labhub.LabError, match="55436 lies in the ephemeral port range 32768-60999"):
        labhub.outside_ephemeral_range(55436, str(rng))
    assert labhub.outside_ephemeral_range(25436, str(rng)) == 25436


def test_the_lab_default_ports_are_outside_this_machines_range():
    for port in (labhub.LAB_PG_PORT, labhub.LAB_PG_PORT + 20):
        assert labhub.outside_ephemeral_range(port) == port
