"""Offline first: with the hub stopped the edges keep ingesting (API and
MQTT) and report the lag; when the hub returns everything arrives exactly
once (counts equal everywhere, no duplicates, no spurious conflicts) and the
lag goes back to 0.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_offline.py
"""
import time

import edgetable_harness as H
import sync_cluster as S

EDGES = ("gw-1", "gw-2")


def test_edges_keep_ingesting_while_the_hub_is_down(cluster):
    broker = cluster.start_broker()
    hub = cluster.hub(peers=[{"name": e, "cert_subject": f"CN={e}"} for e in EDGES])
    cluster.start(hub)
    # Small batches, so the catch-up takes several pushes and pulls.
    edges = [cluster.edge(e, hub, cert=e, extra_sync="batch_changes_max = 100\nbatch_bytes_max = 65536")
             for e in EDGES]
    cluster.start(*edges)
    nodes = [hub, *edges]
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "readings")

    # Online first: a little of everything, converged.
    api_acked, mqtt_acked = {}, []
    for k, e in enumerate(edges):
        w = S.ApiWriter(e.url, "readings", f"{e.name}/online", 30).start()
        w.join()
        assert not w.unknown, w.errors
        api_acked.update(w.acked)
        mqtt_acked += S.publish_readings(broker, e.name, 100, 1_700_000_000_000 + k * 100_000)
    S.wait_converged(nodes)
    hub_applied_before = S.hub_status(hub).get("changes_applied")

    # The hub goes away; the edges go on taking writes.
    cluster.stop(hub)
    offline_api, offline_mqtt = {}, []
    for k, e in enumerate(edges):
        w = S.ApiWriter(e.url, "readings", f"{e.name}/offline", 120, pad=400).start()
        offline_mqtt += S.publish_readings(broker, e.name, 300, 1_710_000_000_000 + k * 100_000)
        w.join()
        assert not w.unknown, f"{e.name} refused writes while its hub was down: {w.errors[:3]}"
        offline_api.update(w.acked)
    assert len(offline_api) == 240 and len(offline_mqtt) == 600

    # The edges see the hub is away and count what waits for it.
    for e in edges:
        S.wait_last_error(e, "unavailable", "connect", "refused", "couldn't", "could not", timeout=30)
        st = H.wait_until(lambda: (lambda s: s if s.get("push_lag_changes", 0) >= 420 else None)(S.sync_status(e)),
                          timeout=30, message=lambda: f"{e.name}: {S.sync_status(e)}")
        assert st["push_lag_changes"] >= 420, st  # 120 API + 300 MQTT writes, at least
        # Reads on the edge keep working, with the offline data.
        assert len(H.scan_all(H.dynamodb(e.url), "readings")) >= 30 + 120
    assert "readings" in S.contents(edges[0])

    cluster.start(hub)
    final = S.wait_converged(nodes, timeout=90)

    # Exactly once: every acknowledged write, nothing twice, nothing else.
    want_readings = sorted(list(api_acked.values()) + list(offline_api.values()))
    assert final["readings"] == want_readings, (len(final["readings"]), len(want_readings))
    want_telemetry = sorted(mqtt_acked + offline_mqtt)
    for n in nodes:
        items = H.scan_all(H.dynamodb(n.url), "telemetry")
        keys = sorted(S.keys_of(items, "device", "ts"))
        assert len(keys) == len(set(keys)), f"{n.name}: duplicate telemetry keys"
        assert keys == want_telemetry, f"{n.name}: {len(keys)} telemetry items, expected {len(want_telemetry)}"
        assert S.conflicts(n) == [], f"{n.name}: a redelivered change was recorded as a conflict"
    for e in edges:
        st = S.sync_status(e)
        assert st["push_lag_changes"] == 0 and st["pull_lag_changes"] == 0 and st["last_error"] == "", st
        assert st["last_success_ms"] > 0
    # The restarted hub applied each offline change once: 420 per edge, the
    # other edge's forwarded to each edge (counted on the edges).
    hs = S.hub_status(hub)
    assert hs.get("changes_applied") == 2 * 420, (hub_applied_before, hs)
    assert hs.get("conflicts") == 0, hs

    # The hub forwarded each edge's changes to the other edge once, and
    # never back to its origin: everything pulled was new.
    for e in edges:
        st = S.sync_status(e)
        assert st["changes_pulled"] == 550 and st["changes_applied"] == 550, st  # 30 + 100 + 120 + 300
        assert st["pull_batches"] >= 3 and st["push_batches"] >= 5, st
        assert st["conflicts"] == 0, st

    # Still quiet a moment later: nothing keeps cycling.
    time.sleep(1.0)
    for e in edges:
        assert S.quiet(e), S.sync_status(e)
    assert S.contents(hub) == final
