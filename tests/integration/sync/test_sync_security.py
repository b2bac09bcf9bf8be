"""Who may replicate what: the hub refuses callers without credentials or
with unknown ones (401), batches outside the caller's scope (403, the whole
batch, nothing applied), a replica id that belongs to another peer (403);
the edge refuses a hub whose certificate does not verify against its CA.
A refused edge reports why in its status (sync.last_error).

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_security.py
"""
import time

import edgetable_harness as H
import sync_cluster as S

TOKEN = "tok-" + "7f3a9c2e" * 4


def put(node, key, table="readings", **attrs):
    item = {"pk": {"S": key}, **{k: {"S": v} for k, v in attrs.items()}}
    H.dynamodb(node.url).put_item(TableName=table, Item=item)


def keys(node, table="readings"):
    ddb = H.dynamodb(node.url)
    if table not in ddb.list_tables()["TableNames"]:
        return []
    return sorted(x["pk"]["S"] for x in H.scan_all(ddb, table))


def wait_keys(node, want, table="readings", timeout=30):
    want = sorted(want)
    return H.wait_until(lambda: keys(node, table) == want, timeout=timeout,
                        message=lambda: f"{node.name} {table} holds {keys(node, table)}, expected {want}")


def start_with_table(cluster, *nodes):
    cluster.start(*nodes)
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "readings")


def test_no_credentials_and_unknown_token_are_refused(cluster):
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"}])
    start_with_table(cluster, hub)
    good = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False)
    anonymous = cluster.edge("anon", hub, mqtt=False)                      # no certificate, no token
    stranger = cluster.edge("stranger", hub, token="not-a-peer-token", mqtt=False)
    unknown_cert = cluster.edge("gw-3", hub, cert="gw-3", mqtt=False)      # our CA, not a configured peer
    start_with_table(cluster, good, anonymous, stranger, unknown_cert)
    put(good, "gw-1/a")
    put(anonymous, "anon/a")
    put(stranger, "stranger/a")
    put(unknown_cert, "gw-3/a")

    for n in (anonymous, stranger, unknown_cert):
        err = S.wait_last_error(n, "401", "unauthenticated")
        assert "401" in err, err
    assert "unknown bearer token" in S.last_error(stranger).lower(), S.last_error(stranger)
    assert "CN=gw-3" in S.last_error(unknown_cert), S.last_error(unknown_cert)
    wait_keys(hub, ["gw-1/a"])  # the control gets through
    time.sleep(1.0)
    assert keys(hub) == ["gw-1/a"]
    for n in (anonymous, stranger, unknown_cert):
        assert keys(n) == [f"{n.name}/a"], f"{n.name} pulled from a hub that refused it: {keys(n)}"
        assert S.sync_status(n)["push_lag_changes"] >= 1
    hs = S.hub_status(hub)
    assert hs["unauthenticated"] >= 3, hs
    assert S.quiet(good), S.sync_status(good)


def test_token_authentication_works(cluster):
    hub = cluster.hub(peers=[{"name": "gw-tok", "token": TOKEN}])
    start_with_table(cluster, hub)
    edge = cluster.edge("gw-tok", hub, token=TOKEN, mqtt=False)
    start_with_table(cluster, edge)
    for i in range(10):
        put(edge, f"gw-tok/{i}")
    put(hub, "hub/0")
    S.wait_converged([hub, edge])
    assert keys(hub) == sorted([f"gw-tok/{i}" for i in range(10)] + ["hub/0"])
    assert [p["name"] for p in S.hub_status(hub)["peers"]] == ["gw-tok"]
    # The token is a secret: it is nowhere in the hub's status or log.
    assert TOKEN not in str(S.status(hub)) and TOKEN not in hub.output()


def test_out_of_scope_batch_is_refused_whole(cluster):
    hub = cluster.hub(peers=[
        {"name": "gw-1", "cert_subject": "CN=gw-1", "tables": ["readings"], "key_prefixes": ["gw-1/"]},
        {"name": "gw-2", "cert_subject": "CN=gw-2", "tables": ["readings"]},
        {"name": "gw-3", "cert_subject": "CN=gw-3", "tables": ["readings"], "key_prefixes": ["gw-3/"]}])
    start_with_table(cluster, hub)
    e1, e2, e3 = (cluster.edge(n, hub, cert=n, mqtt=False) for n in ("gw-1", "gw-2", "gw-3"))
    start_with_table(cluster, e1, e2, e3)

    # In scope: replicated.
    put(e1, "gw-1/a")
    put(hub, "gw-3/from-hub")
    wait_keys(hub, ["gw-1/a", "gw-3/from-hub"])
    # Pulls are scoped as well: gw-3 gets its own prefix only.
    wait_keys(e3, ["gw-3/from-hub"])

    # One transaction, so one batch: a key inside and a key outside gw-1's
    # prefixes. The whole batch is refused; neither is applied.
    H.dynamodb(e1.url).transact_write_items(TransactItems=[
        {"Put": {"TableName": "readings", "Item": {"pk": {"S": "gw-1/b"}}}},
        {"Put": {"TableName": "readings", "Item": {"pk": {"S": "gw-2/x"}}}}])
    err = S.wait_last_error(e1, "403", "forbidden")
    assert "scope" in err.lower() and "403" in err, err

    # A table outside gw-2's scope: refused too.
    S.create_table(H.dynamodb(e2.url), "secrets")
    put(e2, "gw-2/s", table="secrets")
    err2 = S.wait_last_error(e2, "403", "forbidden")
    assert "secrets" in err2, err2

    time.sleep(1.5)  # several more rounds: still refused, still nothing applied
    assert keys(hub) == ["gw-1/a", "gw-3/from-hub"]
    assert "secrets" not in H.dynamodb(hub.url).list_tables()["TableNames"]
    assert "403" in S.last_error(e1) and "403" in S.last_error(e2)
    assert keys(e3) == ["gw-3/from-hub"]
    assert S.hub_status(hub)["forbidden"] >= 2


def test_edge_refuses_a_hub_its_ca_did_not_sign(cluster, tmp_path):
    other = H.make_ca_and_certs(tmp_path / "other-pki", clients=["gw-2"], ca_cn="Some Other CA")
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"},
                             {"name": "gw-2", "cert_subject": "CN=gw-2"}])
    start_with_table(cluster, hub)
    # gw-1 trusts another CA: it must not talk to this hub.
    wrong_ca = cluster.edge("gw-1", hub, cert="gw-1", ca_file=other["ca"], mqtt=False)
    # gw-2 presents a certificate with the right subject from another CA:
    # the hub must not take it for gw-2.
    forged = cluster.edge("gw-2", hub, cert=other["clients"]["gw-2"], mqtt=False)
    start_with_table(cluster, wrong_ca, forged)
    put(wrong_ca, "gw-1/a")
    put(forged, "gw-2/a")
    err = S.wait_last_error(wrong_ca, "certificate", "verif")
    assert S.sync_status(wrong_ca)["acked_seq"] == 0, S.sync_status(wrong_ca)
    H.wait_until(lambda: S.last_error(forged), timeout=30,
                 message=lambda: f"gw-2 with a foreign certificate reports no error: {S.sync_status(forged)}")
    time.sleep(1.0)
    assert keys(hub) == [], keys(hub)
    assert S.sync_status(forged)["acked_seq"] == 0, S.sync_status(forged)
    hs = S.hub_status(hub)
    assert hs["pushes"] == 0 and hs["pulls"] == 0, hs
    print("wrong CA:", err, "\nforeign client certificate:", S.last_error(forged))


def test_copied_data_dir_cannot_claim_another_peers_replica(cluster):
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"},
                             {"name": "gw-2", "cert_subject": "CN=gw-2"}])
    start_with_table(cluster, hub)
    e1 = cluster.edge("gw-1", hub, cert="gw-1", mqtt=False)
    start_with_table(cluster, e1)
    put(e1, "gw-1/a")
    wait_keys(hub, ["gw-1/a"])
    S.wait_converged([hub, e1])
    replica = S.replica_id(e1)
    cluster.stop(e1)

    # gw-2 starts from a copy of gw-1's data directory: the same replica id.
    e2 = cluster.edge("gw-2", hub, cert="gw-2", mqtt=False)
    S.copy_data_dir(e1, e2)
    cluster.start(e2)
    assert S.replica_id(e2) == replica
    put(e2, "gw-2/x")
    err = S.wait_last_error(e2, "403", "forbidden")
    assert "gw-1" in err, err  # names the peer that owns the replica id
    time.sleep(1.0)
    assert keys(hub) == ["gw-1/a"]
    assert S.hub_status(hub)["forbidden"] >= 1

    # The rightful owner goes on replicating.
    cluster.stop(e2)
    cluster.start(e1)
    put(e1, "gw-1/b")
    wait_keys(hub, ["gw-1/a", "gw-1/b"])
    assert S.quiet(e1) or H.wait_until(lambda: S.quiet(e1), timeout=20)
