"""GET /metrics after real traffic: a hub and an edge (`edgetable serve`
each, sync over HTTPS with a client certificate), a real mosquitto feeding
the edge's MQTT ingest, boto3 against the edge's API. Both nodes' /metrics
are parsed with python3-prometheus-client's text-format parser; every
family README.md lists ("Operating a node") must be there with values that
match the traffic: API request counts equal to what this test sent,
histogram counts equal to the requests, MQTT counts equal to what was
published, sync caught up, TTL deletes and evictions done.

Run: EDGETABLE_BIN=build/edge/app/edgetable python3 -m pytest tests/integration/test_metrics.py
"""
import os
import sys
import time
import urllib.request

import pytest
from botocore.exceptions import ClientError
from prometheus_client.parser import text_string_to_metric_families

HERE = os.path.dirname(os.path.abspath(__file__))
for p in (HERE, os.path.join(HERE, "sync"), os.path.join(HERE, "..", "..", "examples")):
    if p not in sys.path:
        sys.path.insert(0, p)

import edgetable_harness as H  # noqa: E402
import sensor_sim  # noqa: E402
import sync_cluster as S  # noqa: E402

# The parser names a counter family without its _total suffix.
EDGE_FAMILIES = [
    "edgetable_build_info", "edgetable_uptime_seconds", "edgetable_storage_healthy",
    "edgetable_mqtt_messages_received", "edgetable_mqtt_messages_stored", "edgetable_mqtt_items_stored",
    "edgetable_mqtt_dead_letters", "edgetable_mqtt_reconnects", "edgetable_mqtt_connected",
    "edgetable_api_requests", "edgetable_api_errors", "edgetable_api_request_duration_seconds",
    "edgetable_table_items", "edgetable_table_bytes", "edgetable_storage_writes", "edgetable_storage_commits",
    "edgetable_storage_db_bytes", "edgetable_ttl_deletes", "edgetable_evictions", "edgetable_forced_evictions",
    "edgetable_forced_trims", "edgetable_sync_push_lag_changes", "edgetable_sync_push_lag_bytes",
    "edgetable_sync_push_lag_seconds", "edgetable_sync_pull_lag_changes",
    "edgetable_sync_last_success_timestamp_seconds", "edgetable_sync_conflicts", "edgetable_sync_sent_bytes",
    "edgetable_sync_received_bytes", "edgetable_sync_skew_flagged", "edgetable_sync_changes_pushed",
    "edgetable_sync_apply_yields",
    "edgetable_http_requests", "edgetable_http_connections_active", "edgetable_tls_handshakes",
    "edgetable_tls_handshake_failures",
]
HUB_FAMILIES = [
    "edgetable_hub_pushes", "edgetable_hub_pulls", "edgetable_hub_changes_applied", "edgetable_hub_conflicts",
    "edgetable_hub_skew_flagged", "edgetable_hub_received_bytes", "edgetable_hub_sent_bytes",
    "edgetable_hub_peer_last_seen_timestamp_seconds", "edgetable_hub_peer_pushed_through",
    "edgetable_hub_peer_pull_cursor", "edgetable_tls_handshakes", "edgetable_tls_handshake_failures",
    "edgetable_table_items", "edgetable_api_requests",
]

READINGS = 20
EXPIRED = 4
EVICTED = 3


class Scrape:
    """One GET /metrics, parsed."""

    def __init__(self, node):
        with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/metrics", timeout=10) as r:
            self.content_type = r.headers.get("Content-Type", "")
            self.text = r.read().decode()
        self.families = {f.name: f for f in text_string_to_metric_families(self.text)}

    def family(self, name):
        assert name in self.families, f"no family {name} in /metrics:\n{self.text[:3000]}"
        return self.families[name]

    def get(self, sample, **labels):
        """The value of the sample called `sample` whose labels include `labels`."""
        family = sample
        for suffix in ("_total", "_bucket", "_sum", "_count"):
            if sample.endswith(suffix) and sample[: -len(suffix)] in self.families:
                family = sample[: -len(suffix)]
        for s in self.family(family).samples:
            if s.name == sample and all(s.labels.get(k) == v for k, v in labels.items()):
                return s.value
        raise AssertionError(f"no sample {sample}{labels} in /metrics")


def scrape_until(node, predicate, message, timeout=60):
    last = [None]

    def check():
        last[0] = Scrape(node)
        return predicate(last[0])
    H.wait_until(check, timeout=timeout, interval=0.2,
                 message=lambda: f"{message}; last /metrics:\n{last[0].text if last[0] else ''}")
    return last[0]


@pytest.fixture
def cluster(tmp_path):
    if not os.environ.get("EDGETABLE_BIN"):
        pytest.fail("set EDGETABLE_BIN to the edgetable binary")
    c = S.Cluster(tmp_path, clients=("gw-1",))
    yield c
    died = c.close()
    assert not died, c.died_report(died)


def test_metrics_after_real_traffic(cluster):
    c = cluster
    c.start_broker()
    hub = c.hub([{"name": "gw-1", "cert_subject": "CN=gw-1"}])
    # evict_t keeps items about 1 s, once the hub has them: evictions happen.
    edge = c.edge("gw-1", hub, cert="gw-1",
                  extra_sync="[storage.retention_max_age_hours_by_table]\nevict_t = 0.0003\n")
    c.start(hub)
    c.start(edge)

    before = Scrape(edge)
    assert before.content_type.startswith("text/plain; version=0.0.4"), before.content_type
    ops = {s.labels["operation"] for s in before.family("edgetable_api_requests").samples}
    assert {"PutItem", "GetItem", "Query", "CreateTable", "UpdateTimeToLive"} <= ops

    # --- API traffic, counted by operation.
    ddb = H.dynamodb(edge.url, retries=0)
    sent, failed = {}, {}

    def call(op, fail=False, **kw):
        sent[op] = sent.get(op, 0) + 1
        try:
            result = getattr(ddb, op_method(op))(**kw)
        except ClientError:
            failed[op] = failed.get(op, 0) + 1
            assert fail, f"{op} failed unexpectedly"
            return None
        assert not fail, f"{op} succeeded unexpectedly"
        return result

    for name in ("metrics_t", "ttl_t", "evict_t"):
        call("CreateTable", TableName=name, BillingMode="PAY_PER_REQUEST",
             AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
             KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    for i in range(10):
        call("PutItem", TableName="metrics_t", Item={"pk": {"S": f"k{i}"}, "v": {"N": str(i)}})
    for i in range(5):
        call("GetItem", TableName="metrics_t", Key={"pk": {"S": f"k{i}"}})
    for _ in range(3):
        call("GetItem", fail=True, TableName="no_such_table", Key={"pk": {"S": "x"}})
    for i in range(2):
        call("Query", TableName="metrics_t", KeyConditionExpression="pk = :p",
             ExpressionAttributeValues={":p": {"S": f"k{i}"}})
    call("UpdateTimeToLive", TableName="ttl_t",
         TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    past = int(time.time()) - 100
    for i in range(EXPIRED):
        call("PutItem", TableName="ttl_t", Item={"pk": {"S": f"t{i}"}, "exp": {"N": str(past)}})
    for i in range(EVICTED):
        call("PutItem", TableName="evict_t", Item={"pk": {"S": f"e{i}"}})

    # --- MQTT: good readings and one malformed payload (a dead letter).
    S.publish_readings(c.broker, "gw-1", READINGS, start_ts=1_700_000_000_000)
    pub = sensor_sim.Publisher("127.0.0.1", c.broker.port, "pub-bad")
    try:
        pub.publish(S.mqtt_topic("gw-1"), "this is not JSON", [("bad", 0)])
        assert pub.wait_acked(30)
    finally:
        pub.close()
    messages = READINGS + 1

    # --- The edge, once ingest, the TTL sweep, sync and eviction are done.
    after = scrape_until(
        edge,
        lambda m: (m.get("edgetable_mqtt_messages_stored_total") >= messages
                   and m.get("edgetable_ttl_deletes_total") >= EXPIRED
                   and m.get("edgetable_evictions_total") >= EVICTED
                   and m.get("edgetable_sync_push_lag_changes") == 0
                   and m.get("edgetable_sync_changes_pushed_total") >= READINGS),
        "edge: ingest, TTL sweep, sync and eviction not all done")

    for name in EDGE_FAMILIES:
        after.family(name)
    for f in after.families.values():
        assert f.name.startswith("edgetable_"), f.name
        assert f.type in ("counter", "gauge", "histogram"), (f.name, f.type)
        assert f.documentation, f"{f.name} has no HELP"

    # API: requests and errors per operation equal to what was sent; one
    # histogram observation per request.
    for op in ops:
        want = sent.get(op, 0)
        got = after.get("edgetable_api_requests_total", operation=op) - \
            before.get("edgetable_api_requests_total", operation=op)
        assert got == want, f"{op}: {got} requests counted, {want} sent"
        got_err = after.get("edgetable_api_errors_total", operation=op) - \
            before.get("edgetable_api_errors_total", operation=op)
        assert got_err == failed.get(op, 0), f"{op}: {got_err} errors counted, {failed.get(op, 0)} failed"
        count = after.get("edgetable_api_request_duration_seconds_count", operation=op)
        assert count == after.get("edgetable_api_requests_total", operation=op), op
        buckets = [(float(s.labels["le"]), s.value)
                   for s in after.family("edgetable_api_request_duration_seconds").samples
                   if s.name.endswith("_bucket") and s.labels["operation"] == op]
        assert buckets[-1] == (float("inf"), count), (op, buckets)
        assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), f"{op}: buckets not cumulative"
        total = after.get("edgetable_api_request_duration_seconds_sum", operation=op)
        assert (total > 0) == (count > 0), (op, total, count)
        assert total < 60 * max(count, 1), (op, total)

    # MQTT ingest.
    assert after.get("edgetable_mqtt_messages_received_total") == messages
    assert after.get("edgetable_mqtt_messages_stored_total") == messages
    assert after.get("edgetable_mqtt_items_stored_total") == READINGS
    assert after.get("edgetable_mqtt_dead_letters_total") == 1
    assert after.get("edgetable_mqtt_reconnects_total") == 0
    assert after.get("edgetable_mqtt_connected") == 1

    # Storage, per table and overall.
    assert after.get("edgetable_table_items", table="telemetry") == READINGS
    assert after.get("edgetable_table_bytes", table="telemetry") > 0
    assert after.get("edgetable_table_items", table="metrics_t") == 10
    assert after.get("edgetable_table_items", table="ttl_t") == 0
    assert after.get("edgetable_table_items", table="evict_t") == 0
    assert after.get("edgetable_table_items", table="edgetable_dead_letters") == 1
    assert after.get("edgetable_storage_writes_total") >= 10 + EXPIRED + EVICTED + READINGS
    assert after.get("edgetable_storage_commits_total") > 0
    assert after.get("edgetable_storage_healthy") == 1
    assert after.get("edgetable_forced_evictions_total") == 0
    assert after.get("edgetable_forced_trims_total") == 0

    # Sync, edge side: caught up, recently, over the wire, no conflicts.
    assert after.get("edgetable_sync_push_lag_bytes") == 0
    assert after.get("edgetable_sync_push_lag_seconds") == 0
    last = after.get("edgetable_sync_last_success_timestamp_seconds")
    assert abs(time.time() - last) < 60, f"last sync success {last} is not recent"
    assert after.get("edgetable_sync_sent_bytes_total") > 0
    assert after.get("edgetable_sync_received_bytes_total") > 0
    assert after.get("edgetable_sync_connections_total") >= 1
    assert after.get("edgetable_sync_conflicts_total") == 0
    assert after.get("edgetable_sync_skew_flagged_total") == 0

    # The edge's listener is plain HTTP: requests, no TLS handshakes.
    listener = f"127.0.0.1:{edge.port}"
    assert after.get("edgetable_http_requests_total", listener=listener, tls="false") >= sum(sent.values())
    assert after.get("edgetable_tls_handshakes_total", listener=listener) == 0

    # --- The hub: the edge's data, per-peer stats, TLS handshakes.
    hub_m = scrape_until(
        hub, lambda m: ("edgetable_table_items" in m.families
                        and any(s.labels.get("table") == "telemetry" and s.value == READINGS
                                for s in m.family("edgetable_table_items").samples)),
        "hub: telemetry not replicated")
    for name in HUB_FAMILIES:
        hub_m.family(name)
    assert hub_m.get("edgetable_hub_pushes_total") >= 1
    assert hub_m.get("edgetable_hub_pulls_total") >= 1
    assert hub_m.get("edgetable_hub_changes_applied_total") >= READINGS
    assert hub_m.get("edgetable_hub_conflicts_total") == 0
    assert hub_m.get("edgetable_hub_skew_flagged_total") == 0
    assert hub_m.get("edgetable_hub_received_bytes_total") > 0
    assert abs(time.time() - hub_m.get("edgetable_hub_peer_last_seen_timestamp_seconds", peer="gw-1")) < 60
    assert hub_m.get("edgetable_hub_peer_pushed_through", peer="gw-1") > 0
    tls_listener = f"127.0.0.1:{hub.tls_port}"
    assert hub_m.get("edgetable_tls_handshakes_total", listener=tls_listener, tls="true") >= 1
    # The harness's readiness probe connects and closes without a handshake.
    assert hub_m.get("edgetable_tls_handshake_failures_total", listener=tls_listener) <= 2
    assert hub_m.get("edgetable_table_items", table="metrics_t") == 10

    # /health answers on both.
    for n in (edge, hub):
        with urllib.request.urlopen(f"http://127.0.0.1:{n.port}/health", timeout=10) as r:
            assert r.status == 200 and r.read() == b"ok\n"


def op_method(op):
    """boto3's method name of a DynamoDB operation: PutItem -> put_item."""
    return "".join("_" + ch.lower() if ch.isupper() else ch for ch in op).lstrip("_")
