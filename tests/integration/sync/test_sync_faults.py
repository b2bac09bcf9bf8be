"""Faults during replication: kill -9 of an edge (at random moments, and
right after the hub applied one of its batches), kill -9 of the hub during
sync traffic, and a TCP proxy between edges and hub that cuts connections at
random byte offsets (mid-request, mid-reply). At the end: nothing
acknowledged is lost, nothing is applied twice (no spurious conflicts, no
unexpected items), every node holds the same items and the lag is 0.

Run: EDGETABLE_BIN=build/edge/app/edgetable /usr/bin/python3 -m pytest tests/integration/sync/test_sync_faults.py
"""
import os
import random
import socket
import threading
import time

import edgetable_harness as H
import sync_cluster as S

SEED = int(os.environ.get("EDGETABLE_SYNC_SEED", str(int(time.time()) % 100000)))


class ChaosProxy:
    """A TCP proxy 127.0.0.1:<port> -> 127.0.0.1:<target>. While cutting,
    every connection gets a random byte budget per direction; the first
    direction to pass its budget forwards exactly up to it, then both
    sockets are closed, by RST or FIN at random (TLS records, and the HTTP
    bodies in them, end at an arbitrary byte)."""

    def __init__(self, target_port, rng, up_max=40_000, down_max=40_000):
        self.target_port, self.rng, self.up_max, self.down_max = target_port, rng, up_max, down_max
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(64)
        self.port = self.listener.getsockname()[1]
        self.cutting = threading.Event()
        self.closed = threading.Event()
        self.lock = threading.Lock()
        self.connections = 0
        self.cuts = 0
        self.cut_offsets = []
        self.socks = set()
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return f"https://localhost:{self.port}"

    def _accept(self):
        while not self.closed.is_set():
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=5)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            with self.lock:
                self.connections += 1
                self.socks.update((client, server))
            state = {"done": False, "budgets": None, "sent": {"up": 0, "down": 0}}
            threading.Thread(target=self._pump, args=(client, server, "up", state), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, "down", state), daemon=True).start()

    def _reset(self, *socks, rst=True):
        # close() alone would not release a socket another thread is
        # blocked reading: shutdown() wakes that reader first. With a zero
        # linger the last close sends RST; without, shutdown sends FIN.
        for s in socks:
            try:
                if rst:
                    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
                s.shutdown(socket.SHUT_RD if rst else socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass

    def _pump(self, src, dst, direction, state):
        sent = state["sent"]
        try:
            while True:
                data = src.recv(16384)
                if not data:
                    break
                with self.lock:
                    budgets = state["budgets"]
                    if budgets is None and self.cutting.is_set():
                        # Counted from now on, also for a connection opened
                        # before cutting began (a kept-alive one).
                        budgets = state["budgets"] = {
                            "up": sent["up"] + self.rng.randint(0, self.up_max),
                            "down": sent["down"] + self.rng.randint(0, self.down_max),
                            "from": dict(sent)}
                if budgets is not None and self.cutting.is_set() and sent[direction] + len(data) > budgets[direction]:
                    keep = budgets[direction] - sent[direction]
                    if keep > 0:
                        dst.sendall(data[:keep])
                    with self.lock:
                        self.cuts += 1
                        self.cut_offsets.append((direction, budgets[direction] - budgets["from"][direction]))
                    break
                dst.sendall(data)
                sent[direction] += len(data)
        except OSError:
            pass
        with self.lock:
            first = not state["done"]
            state["done"] = True
            rst = self.rng.random() < 0.5
        if first:
            self._reset(src, dst, rst=rst)

    def close(self):
        self.closed.set()
        self.listener.close()
        with self.lock:
            socks = list(self.socks)
        self._reset(*socks)


def check_api_writes(nodes, final, writers):
    """Every acknowledged write is in `final` readings on every node (as
    written), and nothing else but writes whose answer was lost."""
    acked, unknown = {}, set()
    for w in writers:
        acked.update(w.acked)
        unknown |= w.unknown
    got = {}
    import json
    for c in final.get("readings", []):
        got[json.loads(c)["pk"]["S"]] = c
    missing = [k for k in acked if k not in got]
    assert not missing, f"{len(missing)} acknowledged writes lost, e.g. {sorted(missing)[:5]} (seed {SEED})"
    changed = [k for k in acked if got[k] != acked[k]]
    assert not changed, f"acknowledged writes changed: {changed[:3]}"
    extra = [k for k in got if k not in acked and k not in unknown]
    assert not extra, f"items nobody wrote: {extra[:5]}"
    return acked, unknown


def no_conflicts_and_quiet(nodes):
    for n in nodes:
        c = S.conflicts(n)
        assert c == [], f"{n.name}: redelivered changes recorded as conflicts: {c[:2]} (seed {SEED})"
    for n in nodes:
        if n.role == "edge":
            st = S.sync_status(n)
            assert st["push_lag_changes"] == 0 and st["pull_lag_changes"] == 0 and st["last_error"] == "", st


def telemetry_keys(node):
    return sorted(S.keys_of(H.scan_all(H.dynamodb(node.url), "telemetry"), "device", "ts"))


class MqttStream:
    """QoS 1 readings to an edge's topic in a thread until stopped."""

    def __init__(self, broker, edge_name, rate=100, start_ts=1_700_000_000_000):
        import sensor_sim
        self.pub = sensor_sim.Publisher("127.0.0.1", broker.port, f"stream-{edge_name}", inflight=50)
        self.pub.client.reconnect_delay_set(0.1, 1)
        self.edge_name, self.rate, self.start_ts = edge_name, rate, start_ts
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        i = 0
        t0 = time.time()
        while not self.stop_event.is_set():
            device, ts = f"{self.edge_name}/dev-{i % 4}", self.start_ts + i
            self.pub.publish(S.mqtt_topic(self.edge_name), f'{{"device": "{device}", "ts": {ts}, "n": {i}}}',
                             [(device, ts)])
            i += 1
            ahead = i / self.rate - (time.time() - t0)
            if ahead > 0:
                time.sleep(ahead)

    def stop(self):
        self.stop_event.set()
        self.thread.join(10)
        assert self.pub.wait_acked(60), "the broker did not acknowledge every reading"
        acked = list(self.pub.acked)
        self.pub.close()
        return acked


def test_edge_killed_at_random_moments_and_right_after_sending(cluster):
    rng = random.Random(SEED)
    broker = cluster.start_broker()
    hub = cluster.hub(peers=[{"name": "gw-1", "cert_subject": "CN=gw-1"},
                             {"name": "gw-2", "cert_subject": "CN=gw-2"}])
    cluster.start(hub)
    victim = cluster.edge("gw-1", hub, cert="gw-1")
    other = cluster.edge("gw-2", hub, cert="gw-2", mqtt=False)
    cluster.start(victim, other)
    nodes = [hub, victim, other]
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "readings")
    stream = MqttStream(broker, "gw-1", rate=100)
    writers, kills = [], 0
    try:
        for rnd in range(8):
            w = S.ApiWriter(victim.url, "readings", f"gw-1/r{rnd}", 100_000, pause=0.005, pad=64).start()
            writers.append(w)
            if rnd % 2 == 0:
                time.sleep(rng.uniform(0.2, 1.5))
            else:
                # Right after the hub applied one of its batches: the edge
                # may or may not have recorded the acknowledgement.
                before = S.hub_status(hub).get("pushes", 0)
                deadline = time.time() + 10
                while S.hub_status(hub).get("pushes", 0) == before and time.time() < deadline:
                    pass
                time.sleep(rng.uniform(0, 0.01))
            cluster.kill(victim)
            kills += 1
            w.stop()
            time.sleep(rng.uniform(0, 0.3))
            cluster.start(victim)
    finally:
        mqtt_acked = stream.stop()

    final = S.wait_converged(nodes, timeout=90)
    check_api_writes(nodes, final, writers)
    no_conflicts_and_quiet(nodes)
    # Sync delivered exactly what the edge stored; ingest itself may lose at
    # most the one reading per kill whose commit was under way (ingest.h).
    stored = telemetry_keys(victim)
    assert len(stored) == len(set(stored))
    for n in (hub, other):
        assert telemetry_keys(n) == stored, n.name
    lost = set(mqtt_acked) - set(stored)
    assert len(lost) <= kills, f"{len(lost)} acknowledged readings lost over {kills} kills"
    assert set(stored) <= set(mqtt_acked)
    print(f"seed {SEED}: {kills} kills, {sum(len(w.acked) for w in writers)} API writes acknowledged, "
          f"{len(stored)} readings")


def test_hub_killed_during_sync_traffic(cluster):
    rng = random.Random(SEED)
    broker = cluster.start_broker()
    hub = cluster.hub(peers=[{"name": e, "cert_subject": f"CN={e}"} for e in ("gw-1", "gw-2")])
    cluster.start(hub)
    edges = [cluster.edge(e, hub, cert=e) for e in ("gw-1", "gw-2")]
    cluster.start(*edges)
    nodes = [hub, *edges]
    for n in nodes:
        S.create_table(H.dynamodb(n.url), "readings")
    writers = [S.ApiWriter(e.url, "readings", f"{e.name}/w", 100_000, pause=0.005, pad=64).start() for e in edges]
    streams = [MqttStream(broker, e.name, rate=100, start_ts=1_700_000_000_000 + k * 10_000_000)
               for k, e in enumerate(edges)]
    try:
        for _ in range(3):
            before = S.hub_status(hub).get("pushes", 0)
            H.wait_until(lambda: S.hub_status(hub).get("pushes", 0) > before + 2, timeout=30)
            time.sleep(rng.uniform(0, 0.5))
            cluster.kill(hub)
            time.sleep(rng.uniform(0.2, 1.0))
            cluster.start(hub)
        time.sleep(1.0)
    finally:
        for w in writers:
            w.stop()
        mqtt_acked = [k for s in streams for k in s.stop()]

    final = S.wait_converged(nodes, timeout=90)
    acked, unknown = check_api_writes(nodes, final, writers)
    assert not unknown, f"the edges refused writes while their hub was killed: {writers[0].errors[:3]}"
    no_conflicts_and_quiet(nodes)
    for n in nodes:
        assert telemetry_keys(n) == sorted(mqtt_acked), n.name
    for e in edges:
        assert S.sync_status(e)["transport"]["connections"] >= 2  # it reconnected after the kills


def test_connections_cut_at_random_byte_offsets(cluster):
    rng = random.Random(SEED)
    hub = cluster.hub(peers=[{"name": e, "cert_subject": f"CN={e}"} for e in ("gw-1", "gw-2")])
    cluster.start(hub)
    proxies = [ChaosProxy(hub.tls_port, random.Random(rng.random())) for _ in range(2)]
    edges = [cluster.edge(e, p.url, cert=e, mqtt=False) for e, p in zip(("gw-1", "gw-2"), proxies)]
    cluster.start(*edges)
    nodes = [hub, *edges]
    try:
        for n in nodes:
            S.create_table(H.dynamodb(n.url), "readings")
        for p in proxies:
            p.cutting.set()
        # Items of ~1 KB of random text: batches of tens of KB, so cuts land
        # inside request and reply bodies, not only in handshakes.
        writers = [S.ApiWriter(e.url, "readings", f"{e.name}/w", 100_000, pause=0.005, pad=500).start()
                   for e in edges]
        time.sleep(12)
        for w in writers:
            w.stop()
        for p in proxies:
            p.cutting.clear()
        final = S.wait_converged(nodes, timeout=90)
    finally:
        for p in proxies:
            p.close()
    acked, unknown = check_api_writes(nodes, final, writers)
    assert not unknown, writers[0].errors[:3]
    no_conflicts_and_quiet(nodes)
    cuts = sum(p.cuts for p in proxies)
    mid = [o for p in proxies for o in p.cut_offsets if o[1] > 2000]  # past the TLS handshake
    print(f"seed {SEED}: {len(acked)} writes, {cuts} cuts, {len(mid)} of them past 2000 bytes")
    assert cuts >= 5 and mid, f"the proxy cut too little to test anything: {cuts} cuts"
    for e in edges:
        st = S.sync_status(e)
        assert st["failures"] > 0 and st["transport"]["connections"] > 1, st
