"""Real-process replication clusters for the sync integration tests: one hub
and some edges (`edgetable serve` each, free ports, temporary directories),
HTTPS between them with certificates made here and verification on, a real
mosquitto for the edges' MQTT ingest, and the checks every test shares
(convergence, status, conflicts).

Config written for a hub:
  [api] listen (plain HTTP, for boto3 and /status) and tls_listen with
  tls_client_ca_file (sync and the API over HTTPS, client certificates
  verified); [sync] max_skew_ms / skew_policy; one [[sync.peers]] per edge.
For an edge:
  [sync] upstream = "https://localhost:<hub tls port>", ca_file, a client
  certificate and/or a token, interval_ms = 200, short backoff; [mqtt] and
  one ingest rule "site/<edge>/readings" -> table telemetry (device from the
  payload, ts from the payload).
"""
import os
import shutil
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ITEST = os.path.dirname(HERE)
for p in (ITEST, os.path.join(ITEST, "..", "..", "examples")):
    if p not in sys.path:
        sys.path.insert(0, p)

import edgetable_harness as H  # noqa: E402
import sensor_sim  # noqa: E402
from ingest.broker import Mosquitto  # noqa: E402

LOCAL_PREFIX = "edgetable_"
CONFLICTS = "edgetable_conflicts"
INTERVAL_MS = 200


def toml_str(s):
    return '"' + str(s).replace("\\", "\\\\").replace('"', '\\"') + '"'


def toml_list(v):
    return "[" + ", ".join(toml_str(x) for x in v) + "]"


class Cluster:
    """Nodes and a broker of one test. close() stops them all and reports a
    node that died on its own (not killed by the test)."""

    def __init__(self, tmp_path, clients=("gw-1", "gw-2", "gw-3")):
        self.dir = str(tmp_path)
        self.certs = H.make_ca_and_certs(os.path.join(self.dir, "pki"), clients=list(clients))
        self.nodes = []
        self.broker = None
        self.extra_processes = []

    # --- processes --------------------------------------------------------

    def start_broker(self):
        self.broker = Mosquitto(os.path.join(self.dir, "broker")).start()
        return self.broker

    def _workdir(self, name):
        d = os.path.join(self.dir, name)
        os.makedirs(d, exist_ok=True)
        return d

    def hub(self, peers, name="hub", max_skew_ms=None, skew_policy=None, clock_offset_ms=0, extra_sync="",
            storage=""):
        """A hub node (not started). peers: dicts with name and any of
        cert_subject, token, tables, key_prefixes. storage: lines of its
        [storage] section."""
        lines = ["[storage]", storage.strip()] if storage else []
        lines.append("[sync]")
        if max_skew_ms is not None:
            lines.append(f"max_skew_ms = {max_skew_ms}")
        if skew_policy is not None:
            lines.append(f"skew_policy = {toml_str(skew_policy)}")
        if extra_sync:
            lines.append(extra_sync.strip())
        for p in peers:
            lines.append("[[sync.peers]]")
            lines.append(f"name = {toml_str(p['name'])}")
            for k in ("cert_subject", "token"):
                if p.get(k):
                    lines.append(f"{k} = {toml_str(p[k])}")
            for k in ("tables", "key_prefixes"):
                if p.get(k):
                    lines.append(f"{k} = {toml_list(p[k])}")
        tls = {"cert": self.certs["cert"], "key": self.certs["key"], "client_ca": self.certs["ca"]}
        node = H.Node(self._workdir(name), extra_config="\n".join(lines) + "\n", tls=tls,
                      node_config=f"clock_offset_ms = {clock_offset_ms}" if clock_offset_ms else "")
        node.name = name
        node.role = "hub"
        node.killed = False
        self.nodes.append(node)
        return node

    def edge(self, name, upstream, cert=None, token=None, ca_file=None, clock_offset_ms=0, mqtt=True,
             max_skew_ms=None, skew_policy=None, extra_sync="", interval_ms=INTERVAL_MS):
        """An edge node (not started) replicating to `upstream` (a hub Node,
        or an "https://host:port" URL, e.g. a proxy's). cert: a client common
        name of this cluster's CA ("gw-1"), or {"cert", "key"} files, or
        None for no client certificate; token: a bearer token or None."""
        url = upstream if isinstance(upstream, str) else f"https://localhost:{upstream.tls_port}"
        lines = ["[sync]", f"upstream = {toml_str(url)}",
                 f"ca_file = {toml_str(ca_file or self.certs['ca'])}",
                 f"interval_ms = {interval_ms}", "backoff_min_ms = 50", "backoff_max_ms = 1000"]
        if cert:
            c = cert if isinstance(cert, dict) else self.certs["clients"][cert]
            lines += [f"client_cert_file = {toml_str(c['cert'])}", f"client_key_file = {toml_str(c['key'])}"]
        if token:
            lines.append(f"token = {toml_str(token)}")
        if max_skew_ms is not None:
            lines.append(f"max_skew_ms = {max_skew_ms}")
        if skew_policy is not None:
            lines.append(f"skew_policy = {toml_str(skew_policy)}")
        if extra_sync:
            lines.append(extra_sync.strip())
        if mqtt:
            assert self.broker is not None, "start_broker() first"
            lines += ["[mqtt]", f"broker = {toml_str(self.broker.uri)}",
                      f"client_id = {toml_str('edgetable-' + name)}",
                      "reconnect_min_ms = 100", "reconnect_max_ms = 1000",
                      "[[ingest.rules]]", f"topic = {toml_str(mqtt_topic(name))}",
                      'table = "telemetry"', 'partition_from = "payload:device"']
        node = H.Node(self._workdir(name), extra_config="\n".join(lines) + "\n",
                      node_config=f"clock_offset_ms = {clock_offset_ms}" if clock_offset_ms else "")
        node.name = name
        node.role = "edge"
        node.killed = False
        node.mqtt = mqtt
        self.nodes.append(node)
        return node

    def start(self, *nodes):
        for n in nodes:
            n.killed = False
            n.start()
        for n in nodes:
            if getattr(n, "mqtt", False):
                wait_ingest_ready(n)
        return nodes

    def kill(self, node):
        node.killed = True
        node.kill()

    def stop(self, node):
        node.killed = True
        node.stop()

    def close(self):
        """Stops everything; returns the nodes that died on their own."""
        died = []
        for n in self.nodes:
            if n.proc is not None and n.proc.poll() is not None and not n.killed:
                died.append(n)
            try:
                n.stop(timeout=15)
            except Exception:  # noqa: BLE001 - stop everything whatever happens
                n.kill()
        if self.broker:
            self.broker.stop()
        return died

    def died_report(self, died):
        return "\n".join(f"{n.name} exited on its own with {n.proc.returncode}; log tail:\n{n.output()[-3000:]}"
                         for n in died)


# --- MQTT --------------------------------------------------------------------

def mqtt_topic(edge_name):
    return f"site/{edge_name}/readings"


def wait_ingest_ready(node, timeout=20):
    ddb = H.dynamodb(node.url)
    H.wait_until(lambda: "edgetable_dead_letters" in ddb.list_tables()["TableNames"], timeout=timeout,
                 message=lambda: f"{node.name}: ingest did not start; log:\n{node.output()[-2000:]}")
    time.sleep(0.5)  # the subscription's SUBACK


def publish_readings(broker, edge_name, count, start_ts, devices=4, client_id=None, rate=0):
    """QoS 1 readings to the edge's ingest topic; returns the acknowledged
    (device, ts) keys. Devices are named "<edge>/dev-<i>"."""
    pub = sensor_sim.Publisher("127.0.0.1", broker.port, client_id or f"pub-{edge_name}-{start_ts}", inflight=50)
    t0 = time.time()
    try:
        for i in range(count):
            device, ts = f"{edge_name}/dev-{i % devices}", start_ts + i
            payload = f'{{"device": "{device}", "ts": {ts}, "n": {i}, "src": "mqtt"}}'
            pub.publish(mqtt_topic(edge_name), payload, [(device, ts)])
            if rate:
                ahead = (i + 1) / rate - (time.time() - t0)
                if ahead > 0:
                    time.sleep(ahead)
        assert pub.wait_acked(60), f"broker did not acknowledge every reading for {edge_name}"
        return list(pub.acked)
    finally:
        pub.close()


# --- status --------------------------------------------------------------------

def status(node):
    try:
        return H.get_status(node)
    except Exception as e:  # noqa: BLE001 - a node may be down right now
        return {"error": repr(e)}


def sync_status(node):
    return status(node).get("sync") or {}


def hub_status(node):
    return status(node).get("hub") or {}


def replica_id(node):
    return int(status(node)["node"]["replica_id"], 16)


def last_error(node):
    return sync_status(node).get("last_error", "")


def wait_last_error(node, *words, timeout=30):
    """Waits until the edge's status sync.last_error contains one of `words`
    (case-insensitive) and returns it."""
    def check():
        e = last_error(node) or ""
        return e if any(w.lower() in e.lower() for w in words) else None
    return H.wait_until(check, timeout=timeout, interval=0.2,
                        message=lambda: f"{node.name}: sync.last_error {last_error(node)!r} mentions none of "
                                        f"{words}; status sync: {sync_status(node)}; log tail:\n"
                                        f"{node.output()[-2000:]}")


# --- contents and convergence ----------------------------------------------------

def contents(node):
    return H.table_contents(H.dynamodb(node.url))


def describe_diff(nodes, snaps):
    ref_node, ref = nodes[0], snaps[0]
    out = []
    for n, s in zip(nodes, snaps):
        out.append(f"{n.name}: " + ", ".join(f"{t}={len(v)}" for t, v in sorted(s.items())))
    for n, s in zip(nodes[1:], snaps[1:]):
        if s == ref:
            continue
        for t in sorted(set(ref) | set(s)):
            a, b = set(ref.get(t, [])), set(s.get(t, []))
            if t not in s or t not in ref:
                out.append(f"  table {t} only on {ref_node.name if t in ref else n.name}")
            elif a != b:
                out.append(f"  {t}: {len(a - b)} only on {ref_node.name}, e.g. {sorted(a - b)[:2]}; "
                           f"{len(b - a)} only on {n.name}, e.g. {sorted(b - a)[:2]}")
    for n in nodes:
        if n.role == "edge":
            st = sync_status(n)
            out.append(f"{n.name} sync: lag={st.get('push_lag_changes')} pull_lag={st.get('pull_lag_changes')} "
                       f"last_error={st.get('last_error')!r}")
    return "\n".join(out)


def quiet(node):
    """An edge whose sync is caught up: nothing to push, nothing to pull, no error."""
    st = sync_status(node)
    return (st.get("push_lag_changes") == 0 and st.get("pull_lag_changes") == 0 and not st.get("last_error")
            and st.get("last_success_ms", 0) > 0)


def wait_converged(nodes, timeout=90):
    """Waits until every edge is quiet and every node holds the same tables
    with the same items, twice in a row; returns that content."""
    last = {"snaps": None}

    def check():
        if not all(quiet(n) for n in nodes if n.role == "edge"):
            last["snaps"] = None
            return None
        snaps = [contents(n) for n in nodes]
        if all(s == snaps[0] for s in snaps) and last["snaps"] == snaps:
            return snaps[0]
        last["snaps"] = snaps
        return None

    def report():
        snaps = [contents(n) for n in nodes]
        return "the nodes did not converge:\n" + describe_diff(nodes, snaps)

    return H.wait_until(check, timeout=timeout, interval=0.3, message=report)


def conflicts(node):
    ddb = H.dynamodb(node.url)
    if CONFLICTS not in ddb.list_tables()["TableNames"]:
        return []
    return H.scan_all(ddb, CONFLICTS)


def keys_of(items, *names):
    out = []
    for it in items:
        key = []
        for n in names:
            v = it[n]
            key.append(v.get("S") if "S" in v else int(v["N"]))
        out.append(tuple(key) if len(key) > 1 else key[0])
    return out


class ApiWriter:
    """Writes unique keys "<prefix>/<i>" to `table` through the API in a
    thread, remembering which writes were acknowledged (and which were in
    flight when the node died: their outcome is unknown)."""

    def __init__(self, url, table, prefix, count, pause=0.0, pad=0):
        self.url, self.table, self.prefix, self.count, self.pause, self.pad = url, table, prefix, count, pause, pad
        self.acked, self.unknown, self.errors = {}, set(), []
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.next = 0

    def item(self, i):
        it = {"pk": {"S": f"{self.prefix}/{i:06d}"}, "n": {"N": str(i)}, "src": {"S": "api"}}
        if self.pad:
            it["pad"] = {"S": os.urandom(self.pad).hex()}
        return it

    def _run(self):
        ddb = H.dynamodb(self.url, retries=1, timeout=10)
        while self.next < self.count and not self.stop_event.is_set():
            it = self.item(self.next)
            key = it["pk"]["S"]
            try:
                ddb.put_item(TableName=self.table, Item=it)
                self.acked[key] = H.canonical_item(it)
            except Exception as e:  # noqa: BLE001 - the node may be killed on purpose
                self.unknown.add(key)
                self.errors.append(repr(e))
                time.sleep(0.2)
            self.next += 1
            if self.pause:
                time.sleep(self.pause)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stop_event.set()
        self.thread.join(60)

    def join(self, timeout=120):
        self.thread.join(timeout)


def create_table(ddb, name, pk="pk", pk_type="S", sk=None):
    attrs = [{"AttributeName": pk, "AttributeType": pk_type}]
    schema = [{"AttributeName": pk, "KeyType": "HASH"}]
    if sk:
        attrs.append({"AttributeName": sk[0], "AttributeType": sk[1]})
        schema.append({"AttributeName": sk[0], "KeyType": "RANGE"})
    ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema, BillingMode="PAY_PER_REQUEST")
    H.wait_until(lambda: ddb.describe_table(TableName=name)["Table"]["TableStatus"] == "ACTIVE", timeout=20)


def copy_data_dir(src_node, dst_node):
    """Copies a stopped node's data directory over another's (not started)."""
    if os.path.exists(dst_node.data_dir):
        shutil.rmtree(dst_node.data_dir)
    shutil.copytree(src_node.data_dir, dst_node.data_dir)
