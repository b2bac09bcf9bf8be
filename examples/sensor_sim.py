#!/usr/bin/python3
"""Sensor simulator: N devices publishing telemetry to an MQTT broker at QoS 1.

Formats (--format):
  json        one JSON object per message: {"ts": <epoch ms>, "temp": .., "hum": ..}
              on TOPIC with {device} replaced (default sensors/{device}/telemetry)
  json-array  --batch readings per message as a JSON array of objects, each
              with "device" and "ts"
  flatbuffers --batch readings per message as a schemas/telemetry.fbs
              TelemetryFrame

FlatBuffers without the flatbuffers Python package: the frame is laid out by
hand with struct (FrameEncoder below): a small, fixed schema, and no extra
dependency on a gateway or in CI. edge/wire verifies every frame it decodes,
and its unit tests check the C++ encoder against the same decoder.

Every message carries a unique (device, ts), so a store keyed by device and
ts holds exactly one item per reading however often a message is delivered.
With --acked-log FILE the simulator writes one line "device ts" per reading
whose message the broker acknowledged (PUBACK), which is what the crash
tests compare the store against.

With --count 0 it publishes until SIGINT or SIGTERM, then waits for the
broker's acknowledgements of what it sent and prints its summary (the demo,
examples/demo.sh, runs it so). --wall-clock stamps readings with the current
time instead of --start-ms plus a counter; --stats-file FILE writes the
summary as JSON ({"messages", "readings", "acked", "complete"}).

Needs python3-paho-mqtt (Debian, 1.6). Examples:
  examples/sensor_sim.py --port 1883 --devices 10 --rate 200 --count 1000
  examples/sensor_sim.py --port 1883 --devices 10 --rate 20 --count 0 --wall-clock
"""
import argparse
import json
import os
import random
import signal
import struct
import sys
import threading
import time

import paho.mqtt.client as mqtt

# --- schemas/telemetry.fbs by hand ------------------------------------------
# Layout, front to back: root uoffset, file identifier "ETT1", then each table
# as [vtable][padding to 8][table: soffset to its vtable, 8-byte fields,
# 4-byte offsets, 1-byte fields] followed by the objects it points to, so
# every uoffset points forward as FlatBuffers requires.

FIELD_INT, FIELD_FLOAT, FIELD_TEXT = 0, 1, 2


class FrameEncoder:
    def __init__(self):
        self.buf = bytearray(8)
        self.buf[4:8] = b"ETT1"

    def _pad(self, align):
        while len(self.buf) % align:
            self.buf.append(0)

    def _string(self, text):
        self._pad(4)
        pos = len(self.buf)
        data = text.encode()
        self.buf += struct.pack("<I", len(data)) + data + b"\0"
        return pos

    def _tables(self, tables):
        self._pad(4)
        pos = len(self.buf)
        self.buf += struct.pack("<I", len(tables)) + bytes(4 * len(tables))
        for i, fields in enumerate(tables):
            tpos = self._table(fields)
            at = pos + 4 + 4 * i
            struct.pack_into("<I", self.buf, at, tpos - at)
        return pos

    def _table(self, fields):
        """fields: [(field id, kind, value)], kind in q (int64), d (double),
        B (uint8), str, tables."""
        layout, off = {}, 4
        wide = [f for f in fields if f[1] in ("q", "d")]
        refs = [f for f in fields if f[1] in ("str", "tables")]
        small = [f for f in fields if f[1] == "B"]
        if wide:
            off = 8
        for group, size in ((wide, 8), (refs, 4), (small, 1)):
            for f in group:
                layout[f[0]] = off
                off += size
        count = max(f[0] for f in fields) + 1
        vtable = struct.pack("<HH", 4 + 2 * count, off)
        vtable += b"".join(struct.pack("<H", layout.get(i, 0)) for i in range(count))
        self._pad(2)
        vpos = len(self.buf)
        self.buf += vtable
        self._pad(8)
        tpos = len(self.buf)
        self.buf += bytes(off)
        struct.pack_into("<i", self.buf, tpos, tpos - vpos)
        later = []
        for fid, kind, value in fields:
            at = tpos + layout[fid]
            if kind in ("q", "d", "B"):
                struct.pack_into("<" + kind, self.buf, at, value)
            else:
                later.append((at, kind, value))
        for at, kind, value in later:
            child = self._string(value) if kind == "str" else self._tables(value)
            struct.pack_into("<I", self.buf, at, child - at)
        return tpos

    @staticmethod
    def _field(name, value):
        if isinstance(value, str):
            return [(0, "str", name), (1, "B", FIELD_TEXT), (4, "str", value)]
        if isinstance(value, float):
            return [(0, "str", name), (1, "B", FIELD_FLOAT), (3, "d", value)]
        return [(0, "str", name), (1, "B", FIELD_INT), (2, "q", int(value))]

    def encode(self, device, readings):
        """readings: [(ts_ms, {name: int | float | str})] -> bytes."""
        tables = [[(0, "q", ts), (1, "tables", [self._field(k, v) for k, v in values.items()])]
                  for ts, values in readings]
        root = self._table([(0, "str", device), (1, "tables", tables)])
        struct.pack_into("<I", self.buf, 0, root)
        return bytes(self.buf)


def encode_frame(device, readings):
    return FrameEncoder().encode(device, readings)


# --- publishing ---------------------------------------------------------------


class Publisher:
    """A QoS 1 publisher that remembers which readings the broker acknowledged."""

    def __init__(self, host, port, client_id, inflight=100):
        self.acked = []
        self.pending = {}
        self.early = set()
        self.lock = threading.Lock()
        self.done = threading.Condition(self.lock)
        self.client = mqtt.Client(client_id=client_id, clean_session=True)
        self.client.max_inflight_messages_set(inflight)
        self.client.max_queued_messages_set(0)
        self.client.on_publish = self._on_publish
        self.client.connect(host, port, keepalive=30)
        self.client.loop_start()

    def _on_publish(self, client, userdata, mid):
        with self.lock:
            keys = self.pending.pop(mid, None)
            if keys is None:
                self.early.add(mid)  # acknowledged before publish() returned
            else:
                self.acked.extend(keys)
            self.done.notify_all()

    def publish(self, topic, payload, keys, qos=1):
        # Paho calls on_publish holding its own lock, which publish() also
        # takes: never call it while holding ours.
        info = self.client.publish(topic, payload, qos=qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and info.rc != mqtt.MQTT_ERR_NO_CONN:
            raise RuntimeError(f"publish failed: {mqtt.error_string(info.rc)}")
        with self.lock:
            if qos == 0 or info.mid in self.early:
                self.early.discard(info.mid)
                self.acked.extend(keys)
            else:
                self.pending[info.mid] = keys

    def wait_acked(self, timeout=60.0):
        deadline = time.time() + timeout
        with self.lock:
            while self.pending and time.time() < deadline:
                self.done.wait(0.2)
            return not self.pending

    def close(self):
        self.client.loop_stop()
        self.client.disconnect()


def make_payload(fmt, device, readings):
    if fmt == "json":
        ts, values = readings[0]
        return json.dumps(dict(ts=ts, **values))
    if fmt == "json-array":
        return json.dumps([dict(device=device, ts=ts, **values) for ts, values in readings])
    return encode_frame(device, readings)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--devices", type=int, default=10)
    p.add_argument("--rate", type=float, default=100.0, help="messages per second, all devices (0: as fast as possible)")
    p.add_argument("--count", type=int, default=1000, help="messages in all (0: until SIGINT or SIGTERM)")
    p.add_argument("--batch", type=int, default=1, help="readings per message (json-array, flatbuffers)")
    p.add_argument("--format", choices=["json", "json-array", "flatbuffers"], default="json")
    p.add_argument("--topic", default=None, help="topic with {device}; default by format")
    p.add_argument("--qos", type=int, default=1, choices=[0, 1])
    p.add_argument("--client-id", default=f"sensor-sim-{random.randrange(1 << 30)}")
    p.add_argument("--inflight", type=int, default=100)
    p.add_argument("--start-ms", type=int, default=None, help="first reading's ts (default: now)")
    p.add_argument("--wall-clock", action="store_true",
                   help="ts = the current time in ms (kept increasing per device) instead of start + a counter")
    p.add_argument("--acked-log", default=None)
    p.add_argument("--stats-file", default=None, help="write the summary here as JSON")
    args = p.parse_args(argv)

    topic = args.topic or {"json": "sensors/{device}/telemetry", "json-array": "batches/{device}",
                           "flatbuffers": "frames/{device}"}[args.format]
    batch = 1 if args.format == "json" else args.batch
    start = args.start_ms if args.start_ms is not None else int(time.time() * 1000)

    # Unbounded runs stop at SIGINT/SIGTERM: finish the message in hand, then
    # wait for the acknowledgements below. Bounded runs keep Python's defaults.
    stop = threading.Event()
    if args.count == 0 and threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: stop.set())

    pub = Publisher(args.host, args.port, args.client_id, args.inflight)
    t0 = time.time()
    seq = [0] * args.devices
    last_ts = [0] * args.devices
    base = [(20 + random.random() * 5, random.randrange(35, 60)) for _ in range(args.devices)]
    n = 0
    while (args.count == 0 or n < args.count) and not stop.is_set():
        d = n % args.devices
        device = f"dev-{d:04d}"
        readings = []
        for _ in range(batch):
            if args.wall_clock:
                ts = max(int(time.time() * 1000), last_ts[d] + 1)
            else:
                ts = start + seq[d]
            seq[d] += 1
            last_ts[d] = ts
            temp, hum = base[d]
            readings.append((ts, {"temp": round(temp + random.uniform(-0.5, 0.5), 3),
                                  "hum": hum + random.randrange(-2, 3), "state": "ok"}))
        payload = make_payload(args.format, device, readings)
        pub.publish(topic.replace("{device}", device), payload, [(device, ts) for ts, _ in readings], args.qos)
        n += 1
        if args.rate > 0:
            ahead = n / args.rate - (time.time() - t0)
            if ahead > 0:
                stop.wait(ahead)
    ok = pub.wait_acked()
    elapsed = time.time() - t0
    pub.close()
    if args.acked_log:
        with open(args.acked_log, "w") as f:
            for device, ts in pub.acked:
                f.write(f"{device} {ts}\n")
    if args.stats_file:
        with open(args.stats_file + ".tmp", "w") as f:
            json.dump({"messages": n, "readings": n * batch, "acked": len(pub.acked), "complete": ok}, f)
        os.replace(args.stats_file + ".tmp", args.stats_file)
    print(f"published {n} messages ({n * batch} readings) in {elapsed:.2f}s, "
          f"{len(pub.acked)} readings acknowledged{'' if ok else ', some NOT acknowledged'}", flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
