"""Replication converges: one hub and three edges over HTTPS (a CA and
certificates made here, verification on, edges authenticated by client
certificates), writes through the API on all four nodes and through MQTT on
the edges; once quiet every node holds the same items, every acknowledged
write among them, and a concurrent write to one key on two edges ends with
the same winner everywhere, its loser recorded in edgetable_conflicts.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_converge.py
"""
import threading

import edgetable_harness as H
import sync_cluster as S

EDGES = ("gw-1", "gw-2", "gw-3")


def api_workload(ddb, name, model, count=40):
    """Puts, updates, deletes, a BatchWriteItem and a TransactWriteItems on
    keys "<name>/api/..." of table readings; `model` gets the acknowledged
    final state (key -> canonical item, or None when deleted)."""
    def key(i):
        return f"{name}/api/{i:04d}"
    for i in range(count):
        item = {"pk": {"S": key(i)}, "n": {"N": str(i)}, "by": {"S": name}, "tags": {"SS": ["a", name]}}
        ddb.put_item(TableName="readings", Item=item)
        model[key(i)] = H.canonical_item(item)
        if i % 5 == 2:
            got = ddb.update_item(TableName="readings", Key={"pk": {"S": key(i)}},
                                  UpdateExpression="ADD n :k SET note = :t",
                                  ExpressionAttributeValues={":k": {"N": "1000"}, ":t": {"S": "updated"}},
                                  ReturnValues="ALL_NEW")["Attributes"]
            model[key(i)] = H.canonical_item(got)
        if i % 7 == 4:
            ddb.delete_item(TableName="readings", Key={"pk": {"S": key(i - 1)}})
            model[key(i - 1)] = None
    batch = [{"PutRequest": {"Item": {"pk": {"S": f"{name}/batch/{j}"}, "b": {"B": bytes([j]) * 3}}}}
             for j in range(10)]
    assert not ddb.batch_write_item(RequestItems={"readings": batch}).get("UnprocessedItems")
    for j in range(10):
        model[f"{name}/batch/{j}"] = H.canonical_item(batch[j]["PutRequest"]["Item"])
    txn = [{"Put": {"TableName": "readings", "Item": {"pk": {"S": f"{name}/txn/{j}"}, "m": {"M": {"j": {"N": str(j)}}}}}}
           for j in range(3)]
    ddb.transact_write_items(TransactItems=txn)
    for j in range(3):
        model[f"{name}/txn/{j}"] = H.canonical_item(txn[j]["Put"]["Item"])


def test_hub_and_three_edges_converge(cluster):
    broker = cluster.start_broker()
    hub = cluster.hub(peers=[{"name": e, "cert_subject": f"CN={e}"} for e in EDGES])
    cluster.start(hub)
    edges = [cluster.edge(e, hub, cert=e) for e in EDGES]
    cluster.start(*edges)
    nodes = [hub, *edges]
    ddbs = {n.name: H.dynamodb(n.url) for n in nodes}
    for d in ddbs.values():
        S.create_table(d, "readings")

    # Writes everywhere at once: API on all four, MQTT on the three edges.
    models = {n.name: {} for n in nodes}
    acked_mqtt = {}
    errors = []

    def api(n):
        try:
            api_workload(ddbs[n.name], n.name, models[n.name])
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{n.name}: {e!r}")

    def mqtt(e, start_ts):
        try:
            acked_mqtt[e.name] = S.publish_readings(broker, e.name, 150, start_ts)
        except Exception as ex:  # noqa: BLE001 - reported below
            errors.append(f"{e.name} mqtt: {ex!r}")

    threads = [threading.Thread(target=api, args=(n,)) for n in nodes]
    threads += [threading.Thread(target=mqtt, args=(e, 1_700_000_000_000 + k * 10_000)) for k, e in enumerate(edges)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors

    # A concurrent write: the same key on gw-1 and gw-2 while neither can see
    # the other's (the hub is down), then the hub comes back.
    cluster.stop(hub)
    ddbs["gw-1"].put_item(TableName="readings", Item={"pk": {"S": "shared/k"}, "by": {"S": "gw-1"}})
    ddbs["gw-2"].put_item(TableName="readings", Item={"pk": {"S": "shared/k"}, "by": {"S": "gw-2"}})
    cluster.start(hub)

    final = S.wait_converged(nodes, timeout=90)

    # Every acknowledged write is there, nothing else.
    expected = {}
    for m in models.values():
        expected.update(m)
    winner = H.dynamodb(hub.url).get_item(TableName="readings", Key={"pk": {"S": "shared/k"}})["Item"]["by"]["S"]
    assert winner in ("gw-1", "gw-2")
    expected["shared/k"] = H.canonical_item({"pk": {"S": "shared/k"}, "by": {"S": winner}})
    want_readings = sorted(v for v in expected.values() if v is not None)
    got_readings = final.get("readings", [])
    missing = set(want_readings) - set(got_readings)
    extra = set(got_readings) - set(want_readings)
    assert not missing and not extra, (f"readings: {len(missing)} acknowledged writes missing, e.g. "
                                       f"{sorted(missing)[:3]}; {len(extra)} unexpected, e.g. {sorted(extra)[:3]}")
    assert got_readings == want_readings

    want_telemetry = sorted(k for keys in acked_mqtt.values() for k in keys)
    assert len(want_telemetry) == 450
    for n in nodes:
        items = H.scan_all(ddbs[n.name], "telemetry")
        keys = sorted(S.keys_of(items, "device", "ts"))
        assert keys == want_telemetry, (f"{n.name}: telemetry has {len(keys)} items "
                                        f"({len(set(keys))} distinct), expected {len(want_telemetry)}")

    # The same winner on every node (wait_converged compared them all), and
    # the loser's write recorded as a conflict on at least one node.
    loser = "gw-2" if winner == "gw-1" else "gw-1"
    loser_node = next(e for e in edges if e.name == loser)
    winner_node = next(e for e in edges if e.name == winner)
    loser_replica, winner_replica = S.replica_id(loser_node), S.replica_id(winner_node)
    found = []
    for n in nodes:
        for c in S.conflicts(n):
            if c["table"]["S"] == "readings" and c["key"]["M"].get("pk") == {"S": "shared/k"}:
                found.append((n.name, c))
    assert found, "the lost write of shared/k is in no node's edgetable_conflicts"
    for where, c in found:
        assert int(c["loser_replica"]["S"], 16) == loser_replica, (where, c)
        assert int(c["winner_replica"]["S"], 16) == winner_replica, (where, c)
        assert c["reason"]["S"] in ("overwritten", "rejected"), (where, c)
        if "loser_item" in c:
            assert c["loser_item"]["M"]["by"] == {"S": loser}, (where, c)
    # No other conflicts: every other key had one writer.
    others = [(n.name, c["key"]) for n in nodes for c in S.conflicts(n)
              if c["key"]["M"].get("pk") != {"S": "shared/k"}]
    assert not others, f"conflicts recorded for keys written by one node only: {others[:5]}"

    # Quiet: nothing left to push anywhere, and the edges used one kept-alive
    # connection for most of their rounds (a reconnect for the hub restart).
    for e in edges:
        st = S.sync_status(e)
        assert st["push_lag_changes"] == 0 and st["last_error"] == "", st
        assert st["acked_seq"] > 0 and st["pull_cursor"] > 0, st
        assert st["transport"]["requests"] > 2 * st["transport"]["connections"], st


def test_transactions_arrive_whole(cluster):
    """A TransactWriteItems of 100 items reaches the hub, and the other
    edge, all at once: a reader there never sees part of it, even with
    batches bounded at 100 changes and single writes around it."""
    hub = cluster.hub(peers=[{"name": e, "cert_subject": f"CN={e}"} for e in ("gw-1", "gw-2")])
    cluster.start(hub)
    small = "batch_changes_max = 100\nbatch_bytes_max = 65536"
    writer = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False, extra_sync=small)
    reader = cluster.edge("gw-2", hub, cert="gw-2", mqtt=False, extra_sync=small)
    cluster.start(writer, reader)
    nodes = [hub, writer, reader]
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "orders", pk="order", sk=("line", "N"))
    txns = 6
    partial, stop = [], threading.Event()

    def watch(node):
        ddb = H.dynamodb(node.url)
        while not stop.is_set():
            for t in range(txns):
                n = ddb.query(TableName="orders", KeyConditionExpression="#o = :o",
                              ExpressionAttributeNames={"#o": "order"},
                              ExpressionAttributeValues={":o": {"S": f"gw-1/t{t}"}}, Select="COUNT")["Count"]
                if n not in (0, 100):
                    partial.append((node.name, t, n))

    watchers = [threading.Thread(target=watch, args=(n,), daemon=True) for n in (hub, reader)]
    for w in watchers:
        w.start()
    ddb = H.dynamodb(writer.url)
    for t in range(txns):
        for j in range(7 * t + 3):  # single writes, so batch boundaries fall in different places
            ddb.put_item(TableName="orders", Item={"order": {"S": f"gw-1/single{t}"}, "line": {"N": str(j)}})
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "orders", "Item": {"order": {"S": f"gw-1/t{t}"}, "line": {"N": str(j)},
                                                     "qty": {"N": str(j + 1)}}}} for j in range(100)])
    final = S.wait_converged(nodes, timeout=60)
    stop.set()
    for w in watchers:
        w.join(10)
    assert not partial, f"part of a transaction was visible: {partial[:5]}"
    assert len(final["orders"]) == txns * 100 + sum(7 * t + 3 for t in range(txns))
