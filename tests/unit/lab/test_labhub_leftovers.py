"""What a killed run's tests leave beside the hubs, which labhub.leftovers removes before the next suite: a file
system mounted over a volume's data (the engine cannot remove that volume), and locks made as if held from another
controller (the next run would be refused). Not the locks of this machine's own killed runs: the collection takes
those over itself."""
import json
import os

import labhub


def test_mounts_over_volumes_deepest_first(tmp_path):
    vols = labhub.VOLUMES
    mounts = tmp_path / "mounts"
    mounts.write_text("\n".join([
        "/dev/vda / ext4 rw 0 0",
        "bdhub-test-pgdata %s/it-mod-old_data/_data tmpfs rw,size=1024k 0 0" % vols,
        "tmpfs %s/with\\040space/_data/inner tmpfs rw 0 0" % vols,
        "tmpfs %s/with\\040space/_data tmpfs rw 0 0" % vols,
        "tmpfs %s tmpfs rw 0 0" % vols,  # the folder itself: not a volume's
        "tmpfs /tmp/bdhub-test-pgdata-x tmpfs rw 0 0",
        "tmpfs %s-elsewhere/x tmpfs rw 0 0" % vols,
    ]) + "\n")
    assert labhub.mounts_over_volumes(str(mounts)) == [
        "%s/with space/_data/inner" % vols, "%s/it-mod-old_data/_data" % vols, "%s/with space/_data" % vols]


def test_only_locks_held_from_another_controller(tmp_path):
    def lock(name, holder):
        (tmp_path / name).write_text(json.dumps({"key": "docker:x/compose:" + name, "holder": holder}))

    lock("hub-a.lock", {"run": "r1", "controller": "ctl-elsewhere", "pid": 1})
    lock("hub-b.lock", {"run": "r2", "controller": os.uname().nodename, "pid": 1})  # this machine's: taken over
    lock("hub-c.lock", {})
    (tmp_path / "hub-d.lock").write_text("not json")
    (tmp_path / "hub-e.lock").write_text("[1, 2]")
    assert labhub.foreign_locks(str(tmp_path)) == [str(tmp_path / "hub-a.lock")]
    assert labhub.foreign_locks(str(tmp_path / "none")) == []
