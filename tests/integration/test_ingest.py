"""MQTT ingest end to end: a real mosquitto (started here, on a free port, with
its own config and persistence directory), the real edgetable binary, QoS 1
publishers (examples/sensor_sim.py), and boto3 against edgetable's API.

Run: EDGETABLE_BIN=build/edge/app/edgetable python3 -m pytest tests/integration/test_ingest.py
"""
import os
import struct
import sys
import subprocess
import threading
import time

import boto3
import pytest
from botocore.config import Config

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "..", "examples"))

import edgetable_harness  # noqa: E402
import sensor_sim  # noqa: E402
from ingest.broker import Mosquitto  # noqa: E402

RULES = """
[[ingest.rules]]
topic = "sensors/{device}/telemetry"
table = "telemetry"
ttl = "7d"
attributes = { site = "plant-7", line = 3 }

[[ingest.rules]]
topic = "batches/+"
table = "telemetry"
partition_from = "payload:device"
attributes = { site = "plant-7", line = 3 }

[[ingest.rules]]
topic = "frames/{gw}"
table = "frames"
format = "flatbuffers"
partition_from = "payload:device"

[[ingest.rules]]
topic = "iso/{device}"
table = "iso_readings"
sort_from = "payload:time"
time_format = "iso8601"
"""


def mqtt_config(broker, client_id="edgetable-test", connections=1, uncommitted=1, client="builtin"):
    return f"""
[mqtt]
broker = "{broker.uri}"
client = "{client}"
client_id = "{client_id}"
reconnect_min_ms = 100
reconnect_max_ms = 1000
connections = {connections}
uncommitted_max = {uncommitted}
""" + RULES


def dynamodb(node):
    return boto3.client("dynamodb", endpoint_url=node.url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x",
                        config=Config(retries={"max_attempts": 2}))


def scan_all(ddb, table):
    items, kwargs = [], {"TableName": table}
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def count(ddb, table):
    total, kwargs = 0, {"TableName": table, "Select": "COUNT"}
    while True:
        page = ddb.scan(**kwargs)
        total += page["Count"]
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def wait_count(ddb, table, want, timeout=60.0):
    deadline = time.time() + timeout
    n = -1
    while time.time() < deadline:
        n = count(ddb, table)
        if n >= want:
            return n
        time.sleep(0.2)
    return n


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path).start()
    yield b
    b.stop()


def start_node(tmp_path, broker, **kw):
    (tmp_path / "node").mkdir(exist_ok=True)
    node = edgetable_harness.Node(tmp_path / "node", extra_config=mqtt_config(broker, **kw))
    node.start()
    # Subscriptions are in place once the client has connected; wait for the
    # tables ingest creates at start-up and a moment for the SUBACK.
    ddb = dynamodb(node)
    deadline = time.time() + 20
    while time.time() < deadline:
        if "edgetable_dead_letters" in ddb.list_tables()["TableNames"]:
            break
        time.sleep(0.1)
    time.sleep(0.5)
    return node, ddb


def publish(broker, fmt, count, devices, batch=1, rate=0, start_ms=1_700_000_000_000, topic=None):
    args = ["--port", str(broker.port), "--format", fmt, "--count", str(count), "--devices", str(devices),
            "--batch", str(batch), "--rate", str(rate), "--start-ms", str(start_ms)]
    if topic:
        args += ["--topic", topic]
    assert sensor_sim.main(args) == 0


def test_json_objects_arrays_flatbuffers_iso(tmp_path, broker):
    node, ddb = start_node(tmp_path, broker)
    try:
        publish(broker, "json", 400, devices=4)
        publish(broker, "json-array", 20, devices=2, batch=10, start_ms=1_800_000_000_000)
        publish(broker, "flatbuffers", 10, devices=5, batch=100)
        pub = sensor_sim.Publisher("127.0.0.1", broker.port, "iso-pub")
        pub.publish("iso/dev-x", '{"time": "2024-05-01T14:00:00.250+02:00", "v": 1}', [("dev-x", 0)])
        assert pub.wait_acked()
        pub.close()

        assert wait_count(ddb, "telemetry", 600) == 600
        assert wait_count(ddb, "frames", 1000) == 1000
        assert wait_count(ddb, "iso_readings", 1) == 1
        time.sleep(0.5)
        assert count(ddb, "telemetry") == 600  # exactly: nothing twice
        assert count(ddb, "edgetable_dead_letters") == 0

        # Queryable by device and time range; keys from the topic level.
        r = ddb.query(TableName="telemetry", KeyConditionExpression="device = :d AND ts BETWEEN :a AND :b",
                      ExpressionAttributeValues={":d": {"S": "dev-0001"},
                                                 ":a": {"N": "1700000000000"}, ":b": {"N": "1700000000049"}})
        assert r["Count"] == 50
        item = r["Items"][0]
        assert item["site"] == {"S": "plant-7"} and item["line"] == {"N": "3"}
        expires = int(item["expires_at"]["N"])
        assert abs(expires - (time.time() + 7 * 86400)) < 120
        ttl = ddb.describe_time_to_live(TableName="telemetry")["TimeToLiveDescription"]
        assert ttl.get("AttributeName") == "expires_at"

        # JSON arrays: keys from a payload field, one item per element.
        r = ddb.query(TableName="telemetry", KeyConditionExpression="device = :d AND ts >= :a",
                      ExpressionAttributeValues={":d": {"S": "dev-0000"}, ":a": {"N": "1800000000000"}})
        assert r["Count"] == 100
        assert "expires_at" not in r["Items"][0]  # that rule has no ttl

        # FlatBuffers batches: 100 readings each, device from the frame.
        r = ddb.query(TableName="frames", KeyConditionExpression="device = :d",
                      ExpressionAttributeValues={":d": {"S": "dev-0003"}}, Select="COUNT")
        assert r["Count"] == 200
        got = ddb.get_item(TableName="frames", Key={"device": {"S": "dev-0003"}, "ts": {"N": "1700000000007"}})
        assert got["Item"]["state"] == {"S": "ok"} and "temp" in got["Item"] and "hum" in got["Item"]

        # ISO-8601 sort key stored as epoch ms.
        got = ddb.get_item(TableName="iso_readings", Key={"device": {"S": "dev-x"}, "ts": {"N": "1714564800250"}})
        assert got["Item"]["v"] == {"N": "1"}
    finally:
        node.stop()


def test_dead_letters(tmp_path, broker):
    node, ddb = start_node(tmp_path, broker)
    try:
        pub = sensor_sim.Publisher("127.0.0.1", broker.port, "dl-pub")
        t = "sensors/dev-a/telemetry"
        pub.publish(t, '{"ts": 1, "v": 1}', [])
        pub.publish(t, '{"ts": 2, "v": ', [])                    # bad JSON
        pub.publish(t, '{"v": 3}', [])                           # missing key field
        pub.publish(t, '{"ts": "three"}', [])                    # wrong type
        pub.publish(t, b"x" * (400 * 1024 + 1), [])               # over 400 KB
        pub.publish("batches/x", '[{"device": "d", "ts": 1}, 5]', [])  # element not an object
        pub.publish("frames/g", b"\x10\x00\x00\x00ETT1garbage", [])      # not a verifiable frame
        pub.publish(t, '{"ts": 4, "v": 4}', [])
        assert pub.wait_acked()
        pub.close()

        assert wait_count(ddb, "edgetable_dead_letters", 6) == 6
        assert wait_count(ddb, "telemetry", 2) == 2
        letters = scan_all(ddb, "edgetable_dead_letters")
        reasons = sorted(x["reason"]["S"] for x in letters)
        joined = "\n".join(reasons)
        assert "Invalid JSON at byte" in joined
        assert "missing sort key field 'ts'" in joined
        assert "sort key field 'ts' is of type S, expected a number" in joined
        assert "over the limit of 409600" in joined
        assert "payload element [1] is not a JSON object" in joined
        assert "not a valid telemetry frame" in joined
        big = [x for x in letters if x["payload_bytes"]["N"] == str(400 * 1024 + 1)][0]
        assert big["payload_truncated"] == {"BOOL": True} and len(big["payload"]["B"]) == 64 * 1024
        bad = [x for x in letters if "Invalid JSON" in x["reason"]["S"]][0]
        assert bad["payload"]["B"] == b'{"ts": 2, "v": ' and bad["topic"]["S"] == t
        assert bad["rule"]["S"].startswith("ingest.rules[0] (sensors/{device}/telemetry)")

        # Nothing loops: the counts stay put, also across a restart.
        time.sleep(1.5)
        assert count(ddb, "edgetable_dead_letters") == 6
        node.stop()
        node.start()
        time.sleep(2)
        assert count(ddb, "edgetable_dead_letters") == 6
        assert count(ddb, "telemetry") == 2
    finally:
        node.stop()


class Stream:
    """A steady QoS 1 stream in a thread: `rate` messages/s of one reading each."""

    def __init__(self, broker, count, rate, devices=8, start_ms=1_700_000_000_000, client_id="stream"):
        self.broker, self.count, self.rate, self.devices = broker, count, rate, devices
        self.start_ms, self.client_id = start_ms, client_id
        self.acked = []
        self.ok = None
        self.thread = threading.Thread(target=self._run)

    def _run(self):
        pub = sensor_sim.Publisher("127.0.0.1", self.broker.port, self.client_id, inflight=50)
        pub.client.reconnect_delay_set(0.1, 1)
        t0 = time.time()
        for n in range(self.count):
            d = n % self.devices
            device, ts = f"dev-{d:04d}", self.start_ms + n // self.devices
            pub.publish(f"sensors/{device}/telemetry", f'{{"ts": {ts}, "n": {n}}}', [(device, ts)])
            ahead = (n + 1) / self.rate - (time.time() - t0)
            if ahead > 0:
                time.sleep(ahead)
        self.ok = pub.wait_acked(120)
        self.acked = list(pub.acked)
        pub.close()

    def start(self):
        self.thread.start()
        return self

    def join(self):
        self.thread.join(180)


def stored_keys(ddb):
    items = scan_all(ddb, "telemetry")
    keys = [(x["device"]["S"], int(x["ts"]["N"])) for x in items]
    return keys


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_kill9_mid_stream_loses_nothing_acked(tmp_path, broker, client):
    # The builtin client acknowledges only committed messages, so any window
    # and any number of kills lose nothing; Paho acknowledges before handing
    # a message over (ingest.h), so it runs with a window of 1 and one kill.
    builtin = client == "builtin"
    node, ddb = start_node(tmp_path, broker, client=client, connections=2 if builtin else 1,
                           uncommitted=64 if builtin else 1)
    stream = Stream(broker, count=6000 if builtin else 4000, rate=1000).start()
    for _ in range(3 if builtin else 1):
        time.sleep(1.2)
        node.kill()  # kill -9 mid-stream
        time.sleep(0.5)
        node.start()
    stream.join()
    try:
        assert stream.ok, "the broker did not acknowledge every message"
        acked = set(stream.acked)
        assert len(acked) == stream.count
        deadline = time.time() + 60
        while time.time() < deadline and count(ddb, "telemetry") < len(acked):
            time.sleep(0.3)
        keys = stored_keys(ddb)
        assert len(keys) == len(set(keys))  # no item twice
        missing = acked - set(keys)
        # ingest.h: with Paho a kill -9 can lose the one message per
        # connection whose commit was in progress; with the builtin client
        # nothing. Anything more is a bug.
        allowed = 0 if builtin else 1
        assert len(missing) <= allowed, f"{len(missing)} acknowledged readings lost, e.g. {sorted(missing)[:5]}"
        print(f"kill -9 ({client}): {len(acked)} acknowledged, {len(keys)} stored, {len(missing)} lost")
    finally:
        node.stop()


def test_broker_restart_reconnects_and_keeps_ingesting(tmp_path, broker):
    node, ddb = start_node(tmp_path, broker)
    try:
        publish(broker, "json", 500, devices=5, rate=2000)
        assert wait_count(ddb, "telemetry", 500) == 500
        broker.stop()
        time.sleep(1.5)
        broker.start()  # same port, same persistence file
        publish(broker, "json", 500, devices=5, rate=2000, start_ms=1_750_000_000_000)
        assert wait_count(ddb, "telemetry", 1000, timeout=60) == 1000
        assert "lost its connection" in node.output()
    finally:
        node.stop()


def test_messages_published_while_edgetable_is_down_arrive(tmp_path, broker):
    node, ddb = start_node(tmp_path, broker)
    node.stop()  # the persistent session stays on the broker
    publish(broker, "json", 2000, devices=4)  # past mosquitto's stock 1000 queue
    node.start()
    try:
        assert wait_count(ddb, "telemetry", 2000) == 2000
    finally:
        node.stop()


def test_tls_broker_with_ca(tmp_path):
    certs = edgetable_harness.make_ca_and_server_cert(tmp_path)
    tls_port = edgetable_harness.free_port()
    broker = Mosquitto(tmp_path, extra=f"""listener {tls_port} 127.0.0.1
cafile {certs['ca']}
certfile {certs['cert']}
keyfile {certs['key']}
""").start()
    (tmp_path / "node").mkdir()
    config = mqtt_config(broker).replace(f'broker = "{broker.uri}"',
                                         f'broker = "ssl://localhost:{tls_port}"\nca_file = "{certs["ca"]}"')
    node = edgetable_harness.Node(tmp_path / "node", extra_config=config).start()
    try:
        ddb = dynamodb(node)
        time.sleep(2.0)
        publish(broker, "json", 50, devices=2)  # plain listener in, TLS listener out
        assert wait_count(ddb, "telemetry", 50, timeout=30) == 50
    finally:
        node.stop()
        broker.stop()


@pytest.mark.parametrize("client", ["builtin", "paho"])
def test_tls_broker_requiring_a_client_certificate_and_password(tmp_path, client):
    certs = edgetable_harness.make_ca_and_certs(tmp_path / "certs", clients=["gateway-7"])
    gw = certs["clients"]["gateway-7"]
    tls_port = edgetable_harness.free_port()
    passwords = tmp_path / "passwd"
    passwords.write_text("gw7:secret-7\n")
    subprocess.run(["mosquitto_passwd", "-U", str(passwords)], check=True, capture_output=True)
    broker = Mosquitto(tmp_path, extra=f"""listener {tls_port} 127.0.0.1
cafile {certs['ca']}
certfile {certs['cert']}
keyfile {certs['key']}
require_certificate true
allow_anonymous false
password_file {passwords}
""", head="per_listener_settings true").start()
    (tmp_path / "node").mkdir()
    base = mqtt_config(broker, client=client)
    config = base.replace(f'broker = "{broker.uri}"',
                          f'broker = "ssl://localhost:{tls_port}"\nca_file = "{certs["ca"]}"\n'
                          f'cert_file = "{gw["cert"]}"\nkey_file = "{gw["key"]}"\n'
                          f'username = "gw7"\npassword = "secret-7"')
    node = edgetable_harness.Node(tmp_path / "node", extra_config=config).start()
    try:
        ddb = dynamodb(node)
        time.sleep(2.0)
        publish(broker, "json", 40, devices=2)
        assert wait_count(ddb, "telemetry", 40, timeout=30) == 40
    finally:
        node.stop()
        broker.stop()


def test_tls_broker_with_wrong_ca_is_refused(tmp_path):
    certs = edgetable_harness.make_ca_and_server_cert(tmp_path)
    (tmp_path / "other").mkdir()
    other = edgetable_harness.make_ca_and_server_cert(tmp_path / "other")
    tls_port = edgetable_harness.free_port()
    broker = Mosquitto(tmp_path, extra=f"""listener {tls_port} 127.0.0.1
cafile {certs['ca']}
certfile {certs['cert']}
keyfile {certs['key']}
""").start()
    (tmp_path / "node").mkdir()
    config = mqtt_config(broker).replace(f'broker = "{broker.uri}"',
                                         f'broker = "ssl://localhost:{tls_port}"\nca_file = "{other["ca"]}"')
    node = edgetable_harness.Node(tmp_path / "node", extra_config=config).start()
    try:
        ddb = dynamodb(node)
        time.sleep(2.0)
        publish(broker, "json", 20, devices=2)
        time.sleep(3.0)
        assert count(ddb, "telemetry") == 0
        assert "mqtt ssl://localhost" in node.output()  # the failed attempts are logged
    finally:
        node.stop()
        broker.stop()
