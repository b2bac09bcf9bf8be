"""Snapshot re-seeding between real processes over verified HTTPS: a hub
whose change log has been trimmed (short retention, no peer configured yet
to hold it) still brings a gateway added to its config later up to date. The edge's first
pull is answered 410, the edge reads the hub's rows (items and tombstones)
as a snapshot, then pulls the hub's changes from the snapshot's sequence on,
and its own writes still reach the hub.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_snapshot.py
"""
import edgetable_harness as H
import sync_cluster as S


def test_a_gateway_added_after_the_hub_trimmed_its_log_is_reseeded(cluster):
    storage = "stream_retention_hours = 0.0003\nttl_sweep_interval_ms = 100"
    hub = cluster.hub(peers=[], storage=storage)
    cluster.start(hub)
    ddb = H.dynamodb(hub.url)
    S.create_table(ddb, "readings", pk="device", sk=("ts", "N"))
    for i in range(400):
        ddb.put_item(TableName="readings", Item={"device": {"S": f"d{i % 7}"}, "ts": {"N": str(i)},
                                                 "v": {"N": f"{i}.5"}, "pad": {"S": "x" * 200}})
    for i in range(0, 400, 10):  # tombstones that must travel too
        ddb.delete_item(TableName="readings", Key={"device": {"S": f"d{i % 7}"}, "ts": {"N": str(i)}})

    # Nobody holds the hub's log: it is trimmed by age within a few seconds.
    def trimmed():
        st = S.status(hub).get("storage") or {}
        return st if st.get("trimmed_seq", 0) >= st.get("last_change_seq", 1) > 0 else None
    st = H.wait_until(trimmed, timeout=30, message=lambda: f"hub log not trimmed: {S.status(hub).get('storage')}")
    assert st["trimmed_seq"] >= 440

    # The operator adds the gateway to the hub's config and restarts it.
    cluster.stop(hub)
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"}], storage=storage)
    cluster.start(hub)
    ddb = H.dynamodb(hub.url)

    edge = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False,
                        extra_sync="batch_changes_max = 100\nbatch_bytes_max = 65536")
    cluster.start(edge)
    final = S.wait_converged([hub, edge], timeout=90)
    assert len(final["readings"]) == 360
    sync = S.sync_status(edge)
    assert sync.get("snapshots_completed", 0) >= 1 and sync.get("snapshot_active") in (0, False), sync
    assert sync.get("snapshot_rows", 0) >= 400, sync  # live items and tombstones
    assert "410" in edge.output() or sync.get("snapshots_started", 0) >= 1

    # After the snapshot the edge pulls the hub's new changes and pushes its own.
    ddb.put_item(TableName="readings", Item={"device": {"S": "late"}, "ts": {"N": "1"}})
    ddb.delete_item(TableName="readings", Key={"device": {"S": "d1"}, "ts": {"N": "1"}})
    H.dynamodb(edge.url).put_item(TableName="readings", Item={"device": {"S": "from-edge"}, "ts": {"N": "2"}})
    final = S.wait_converged([hub, edge], timeout=60)
    assert len(final["readings"]) == 360 + 1 - 1 + 1
    assert S.conflicts(edge) == [] and S.conflicts(hub) == []
