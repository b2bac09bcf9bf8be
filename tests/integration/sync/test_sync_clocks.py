"""Clocks: last writer wins on the hybrid logical clock, so wrong wall
clocks (node.clock_offset_ms) neither split the replicas nor let a gateway's
writes win or lose forever; a version far ahead of the receiver's clock is
refused or clamped by the skew policy.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_clocks.py
"""
import time

import edgetable_harness as H
import sync_cluster as S

HOUR = 3_600_000
DAY = 24 * HOUR
# The +1 h and -1 h edges are 2 h apart: a bound above that on every node.
WIDE_SKEW = 3 * HOUR


def value_everywhere(nodes, key):
    out = {}
    for n in nodes:
        got = H.dynamodb(n.url).get_item(TableName="readings", Key={"pk": {"S": key}}).get("Item")
        out[n.name] = got and got["by"]["S"]
    return out


def test_offset_clocks_one_winner_and_causality(cluster):
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"},
                             {"name": "gw-2", "cert_subject": "CN=gw-2"}], max_skew_ms=WIDE_SKEW)
    cluster.start(hub)
    ahead = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False, clock_offset_ms=+HOUR, max_skew_ms=WIDE_SKEW)
    behind = cluster.edge("gw-2", hub, cert="gw-2", mqtt=False, clock_offset_ms=-HOUR, max_skew_ms=WIDE_SKEW)
    cluster.start(ahead, behind)
    nodes = [hub, ahead, behind]
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "readings")
    now = time.time() * 1000
    assert abs(S.status(ahead)["node"]["now_ms"] - (now + HOUR)) < 60_000, S.status(ahead)["node"]
    assert abs(S.status(behind)["node"]["now_ms"] - (now - HOUR)) < 60_000, S.status(behind)["node"]
    d1, d2 = H.dynamodb(ahead.url), H.dynamodb(behind.url)

    # Ordinary writes from both replicate whatever the clocks say.
    for i in range(20):
        d1.put_item(TableName="readings", Item={"pk": {"S": f"gw-1/{i}"}, "by": {"S": "gw-1"}})
        d2.put_item(TableName="readings", Item={"pk": {"S": f"gw-2/{i}"}, "by": {"S": "gw-2"}})
    S.wait_converged(nodes)

    # Concurrent writes to one key (neither sees the other's: the hub is
    # down). Last writer wins on the HLC: the same winner everywhere.
    cluster.stop(hub)
    d2.put_item(TableName="readings", Item={"pk": {"S": "c/1"}, "by": {"S": "gw-2"}})
    d1.put_item(TableName="readings", Item={"pk": {"S": "c/1"}, "by": {"S": "gw-1"}})
    d1.put_item(TableName="readings", Item={"pk": {"S": "c/2"}, "by": {"S": "gw-1"}})
    d2.put_item(TableName="readings", Item={"pk": {"S": "c/2"}, "by": {"S": "gw-2"}})
    cluster.start(hub)
    S.wait_converged(nodes)
    for key in ("c/1", "c/2"):
        got = value_everywhere(nodes, key)
        assert len(set(got.values())) == 1 and None not in got.values(), (key, got)
        # Made without knowledge of each other, the write stamped an hour
        # ahead carries the later version.
        assert got["hub"] == "gw-1", (key, got)
        assert any(c["key"]["M"]["pk"] == {"S": key} for n in nodes for c in S.conflicts(n)), \
            f"the lost write of {key} is in no edgetable_conflicts"

    # Causality beats the wall clock: gw-2 (an hour behind) writes after it
    # pulled gw-1's write; its write is the later one and wins everywhere,
    # and it is no conflict.
    d1.put_item(TableName="readings", Item={"pk": {"S": "causal"}, "by": {"S": "gw-1"}, "step": {"N": "1"}})
    H.wait_until(lambda: d2.get_item(TableName="readings", Key={"pk": {"S": "causal"}}).get("Item"), timeout=30,
                 message="gw-1's write did not reach gw-2")
    d2.put_item(TableName="readings", Item={"pk": {"S": "causal"}, "by": {"S": "gw-2"}, "step": {"N": "2"}})
    S.wait_converged(nodes)
    got = value_everywhere(nodes, "causal")
    assert got == {"hub": "gw-2", "gw-1": "gw-2", "gw-2": "gw-2"}, got
    assert not [c for n in nodes for c in S.conflicts(n) if c["key"]["M"]["pk"] == {"S": "causal"}], \
        "a causally later write was recorded as a conflict"

    # And back: gw-1 overwrites after pulling gw-2's write; it wins too.
    H.wait_until(lambda: d1.get_item(TableName="readings", Key={"pk": {"S": "causal"}})["Item"]["by"]["S"] == "gw-2",
                 timeout=30)
    d1.put_item(TableName="readings", Item={"pk": {"S": "causal"}, "by": {"S": "gw-1"}, "step": {"N": "3"}})
    S.wait_converged(nodes)
    assert value_everywhere(nodes, "causal") == {"hub": "gw-1", "gw-1": "gw-1", "gw-2": "gw-1"}

    # Once more the other way: gw-2, whose wall clock is two hours behind
    # gw-1's, is not condemned to lose (its clock follows what it received).
    d2.put_item(TableName="readings", Item={"pk": {"S": "causal"}, "by": {"S": "gw-2"}, "step": {"N": "4"}})
    S.wait_converged(nodes)
    assert value_everywhere(nodes, "causal") == {"hub": "gw-2", "gw-1": "gw-2", "gw-2": "gw-2"}


def far_ahead_cluster(cluster, policy):
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"},
                             {"name": "gw-2", "cert_subject": "CN=gw-2"}],
                      max_skew_ms=60_000, skew_policy=policy)
    cluster.start(hub)
    # gw-1 booted two days in the future; gw-2 is right.
    far = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False, clock_offset_ms=2 * DAY)
    good = cluster.edge("gw-2", hub, cert="gw-2", mqtt=False, skew_policy=policy)
    cluster.start(far, good)
    for n in (hub, far, good):
        S.create_table(H.dynamodb(n.url), "readings")
    return hub, far, good


def hub_keys(hub):
    return sorted(x["pk"]["S"] for x in H.scan_all(H.dynamodb(hub.url), "readings"))


def test_far_ahead_clock_is_refused(cluster):
    hub, far, good = far_ahead_cluster(cluster, "refuse")
    for i in range(5):
        H.dynamodb(far.url).put_item(TableName="readings", Item={"pk": {"S": f"far/{i}"}, "by": {"S": "gw-1"}})
    H.dynamodb(good.url).put_item(TableName="readings", Item={"pk": {"S": "good/0"}, "by": {"S": "gw-2"}})

    err = S.wait_last_error(far, "skew", timeout=30)
    assert "409" in err or "refuse" in err.lower(), err
    H.wait_until(lambda: hub_keys(hub) == ["good/0"], timeout=30,
                 message=lambda: f"hub holds {hub_keys(hub)}")
    # It stays refused, round after round, and nothing of it is applied.
    time.sleep(1.5)
    assert hub_keys(hub) == ["good/0"]
    assert "skew" in S.last_error(far).lower()
    st = S.sync_status(far)
    assert st["push_lag_changes"] >= 5 and st["acked_seq"] < S.status(far)["storage"]["last_change_seq"], st
    hs = S.hub_status(hub)
    assert hs["skew_flagged"] >= 5 and hs["refused"] >= 1, hs
    # The healthy edge is unaffected.
    assert S.quiet(good), S.sync_status(good)


def test_far_ahead_clock_is_clamped(cluster):
    hub, far, good = far_ahead_cluster(cluster, "clamp")
    for i in range(5):
        H.dynamodb(far.url).put_item(TableName="readings", Item={"pk": {"S": f"far/{i}"}, "by": {"S": "gw-1"}})
    H.wait_until(lambda: hub_keys(hub) == [f"far/{i}" for i in range(5)], timeout=30,
                 message=lambda: f"hub holds {hub_keys(hub)}; gw-1 sync: {S.sync_status(far)}")
    hs = S.hub_status(hub)
    assert hs["skew_flagged"] >= 5, hs
    # Applied with their own versions: the edge that also clamps gets them
    # and every node keeps the same items.
    S.wait_converged([hub, far, good])
    # The hub's clock was clamped, not dragged two days ahead: its own new
    # write, and the clock it sends with every pull answer, stay within the
    # good edge's bound (10 minutes by default), so the good edge flags the
    # five far-ahead versions and nothing more, however often it pulls.
    H.dynamodb(hub.url).put_item(TableName="readings", Item={"pk": {"S": "hub/0"}, "by": {"S": "hub"}})
    S.wait_converged([hub, far, good])
    assert "hub/0" in hub_keys(hub)
    time.sleep(1.0)
    st = S.sync_status(good)
    assert st["skew_flagged"] == 5, st
