"""Fixtures for the replication tests: a Cluster (sync_cluster.py) per test,
stopped at the end; a node that exited on its own fails the test."""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import sync_cluster  # noqa: E402


@pytest.fixture
def cluster(tmp_path):
    if os.environ.get("EDGETABLE_TEST_ENDPOINT"):
        pytest.skip("replication needs edgetable processes started by the test")
    if not os.environ.get("EDGETABLE_BIN"):
        pytest.fail("set EDGETABLE_BIN to the edgetable binary")
    c = sync_cluster.Cluster(tmp_path, clients=("gw-1", "gw-2", "gw-3", "gw-4"))
    yield c
    died = c.close()
    if died:
        pytest.fail(c.died_report(died))
