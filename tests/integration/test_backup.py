"""Backups between real processes: `edgetable backup` while an edge takes
API writes, more writes after it (synced to the hub), the edge stopped,
`edgetable restore` into a fresh data directory, the edge started again with
the same config: it has a new replica id, the hub accepts it for the same
peer, and the edge pulls back what the copy lacks (its own writes made after
the backup included) until it holds everything the hub has.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/test_backup.py
"""
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "sync"))

import edgetable_harness as H  # noqa: E402
import sync_cluster as S  # noqa: E402

TOKEN = "backup-test-token-gw-1"


@pytest.fixture
def cluster(tmp_path):
    if os.environ.get("EDGETABLE_TEST_ENDPOINT"):
        pytest.skip("backups need edgetable processes started by the test")
    if not os.environ.get("EDGETABLE_BIN"):
        pytest.fail("set EDGETABLE_BIN to the edgetable binary")
    c = S.Cluster(tmp_path, clients=("gw-1",))
    yield c
    died = c.close()
    if died:
        pytest.fail(c.died_report(died))


def run_cli(*args):
    return subprocess.run([H.BIN, *args], capture_output=True, text=True, timeout=120)


def copy_stats(path):
    """(integrity_check, live items of table readings) of a backup file,
    opened read-only (a backup is one file in rollback-journal mode)."""
    db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        check = db.execute("PRAGMA integrity_check").fetchone()[0]
        mode = db.execute("PRAGMA journal_mode").fetchone()[0]
        items = db.execute("SELECT count(*) FROM items JOIN tables USING(table_id) "
                           "WHERE tables.name = 'readings' AND deleted = 0").fetchone()[0]
        return check, mode, items
    finally:
        db.close()


def test_backup_under_load_restore_and_catch_up(cluster, tmp_path):
    hub = cluster.hub(peers=[{"name": "gw-1", "token": TOKEN}])
    cluster.start(hub)
    edge = cluster.edge("gw-1", hub, token=TOKEN, mqtt=False)
    cluster.start(edge)
    for n in (hub, edge):
        S.create_table(H.dynamodb(n.url), "readings")

    before = S.ApiWriter(edge.url, "readings", "gw-1/before", 200).start()
    before.join()
    assert not before.unknown, before.errors
    S.wait_converged([hub, edge])
    old_replica = S.replica_id(edge)

    # The backup runs while a writer keeps the edge busy.
    load = S.ApiWriter(edge.url, "readings", "gw-1/load", 1500, pad=300).start()
    H.wait_until(lambda: len(load.acked) >= 100, timeout=60, message="the load writer did not get going")
    acked_at_backup = set(load.acked)
    backup_path = os.path.join(str(tmp_path), "backups", "gw-1.db")
    os.makedirs(os.path.dirname(backup_path))
    r = run_cli("backup", backup_path, "--config", edge.config_path)
    acked_after_backup = set(load.acked)
    assert r.returncode == 0, r.stderr
    m = re.search(r"^backup: (\S+) \((\d+) bytes, last seq (\d+), replica ([0-9a-f]{16})", r.stdout, re.M)
    assert m, r.stdout
    assert m.group(1) == backup_path and int(m.group(2)) == os.path.getsize(backup_path)
    assert int(m.group(4), 16) == old_replica
    assert not os.path.exists(backup_path + ".tmp") and not os.path.exists(backup_path + "-wal")
    load.join()
    assert not load.unknown, load.errors
    assert len(acked_after_backup) < len(load.acked), "the load ended before the backup did"

    # A consistent, complete copy: every write acknowledged before the
    # backup started is in it; none acknowledged after it ended could be.
    check, mode, items = copy_stats(backup_path)
    assert check == "ok"
    assert mode == "delete"
    # (+1: the one write in flight may have committed before its answer arrived.)
    assert 200 + len(acked_at_backup) <= items <= 200 + len(acked_after_backup) + 1

    # More writes after the backup; the hub gets them.
    after = S.ApiWriter(edge.url, "readings", "gw-1/after", 150).start()
    after.join()
    assert not after.unknown, after.errors
    hub_content = S.wait_converged([hub, edge])
    expected = {**before.acked, **load.acked, **after.acked}
    assert sorted(expected.values()) == hub_content["readings"]

    # restore refuses a data directory a running node holds.
    r = run_cli("restore", backup_path, "--config", edge.config_path)
    assert r.returncode != 0 and "in use" in r.stderr, (r.returncode, r.stdout, r.stderr)

    cluster.stop(edge)
    # ... and a non-empty one without --force.
    r = run_cli("restore", backup_path, "--config", edge.config_path)
    assert r.returncode != 0 and "not empty" in r.stderr, (r.returncode, r.stdout, r.stderr)

    # The edge's disk is lost: a fresh data directory, the backup restored.
    shutil.move(edge.data_dir, edge.data_dir + ".lost")
    r = run_cli("restore", backup_path, "--config", edge.config_path)
    assert r.returncode == 0, r.stderr
    prev = re.search(r"^previous replica id: +([0-9a-f]{16})$", r.stdout, re.M)
    new = re.search(r"^new replica id: +([0-9a-f]{16})$", r.stdout, re.M)
    assert prev and new, r.stdout
    assert int(prev.group(1), 16) == old_replica
    new_replica = int(new.group(1), 16)
    assert new_replica != old_replica
    assert os.path.exists(os.path.join(edge.data_dir, "edgetable.db"))
    assert check_copy_untouched(backup_path)

    # Same config, restored data: a new id, and it catches up.
    cluster.start(edge)
    assert S.replica_id(edge) == new_replica
    content = S.wait_converged([hub, edge], timeout=120)
    assert content == hub_content, S.describe_diff([hub, edge], [S.contents(hub), S.contents(edge)])
    ddb = H.dynamodb(edge.url)
    for key in list(after.acked)[:20] + sorted(set(load.acked) - acked_after_backup)[:20]:
        got = ddb.get_item(TableName="readings", Key={"pk": {"S": key}}, ConsistentRead=True)
        assert "Item" in got, f"{key}, written after the backup, did not come back to the restored edge"

    # The hub took the new id for the same peer, refused nothing.
    hs = S.hub_status(hub)
    peer = next(p for p in hs["peers"] if p["name"] == "gw-1")
    assert int(peer["replica"], 16) == new_replica
    assert hs["forbidden"] == 0 and hs["refused"] == 0, hs

    # New writes on the restored edge reach the hub under the new id.
    post = S.ApiWriter(edge.url, "readings", "gw-1/restored", 50).start()
    post.join()
    assert not post.unknown, post.errors
    final = S.wait_converged([hub, edge])
    assert len(final["readings"]) == len(expected) + 50
    assert not S.conflicts(hub) and not S.conflicts(edge)
    assert not S.sync_status(edge).get("last_error")
    time.sleep(0.1)


def check_copy_untouched(path):
    """A backup file is never written by restore: still one file, integrity ok."""
    check, mode, _ = copy_stats(path)
    return check == "ok" and mode == "delete" and not os.path.exists(path + "-wal")
