#!/usr/bin/python3
"""MQTT ingest benchmark: prints a table, asserts nothing.

Rows (QoS 1 everywhere, publishers = examples/sensor_sim.py processes as fast
as they can, each with 100 messages in flight):
  ceiling      publishers -> mosquitto -> mosquitto_sub -q 1 (does nothing):
               the broker's ceiling on this machine
  edgetable    the same publishers -> mosquitto -> edgetable, every item
               committed (time until DescribeTable's ItemCount reaches N)
  batched      FlatBuffers frames of 100 readings per message -> edgetable
Each runs with the broker's stock limits (max_inflight_messages 20,
max_queued_messages 1000) and tuned ones (max_inflight_messages 1000,
max_queued_messages 0 = no limit), and edgetable with its builtin MQTT client
(PUBACK after commit) at its defaults (1 connection, uncommitted_max 512),
with the former default window of 64, with 2 and 4 connections (shared
subscriptions), and with the Paho client (PUBACK before delivery) for
comparison. "lost" counts readings the publishers
had acknowledged that never arrived (mosquitto drops QoS 1 messages past
max_queued_messages silently).

edgetable CPU is utime+stime from /proc/PID/stat over the run, per 1,000
items; peak RSS is VmHWM from /proc/PID/status at the end.

Usage: tests/bench/ingest_bench.py --bin build/edge/app/edgetable [--messages 60000]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
from ingest.broker import Mosquitto, free_port  # noqa: E402

SIM = os.path.join(ROOT, "examples", "sensor_sim.py")
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS  # utime, stime


def thread_cpu(pid):
    """CPU seconds per thread name."""
    out = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/stat") as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text.rsplit(")", 1)[1].split()
        out[name] = out.get(name, 0) + (int(fields[11]) + int(fields[12])) / TICKS
    return out


def vm_hwm_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return 0


def ddb(port, op, body):
    req = urllib.request.Request(f"http://127.0.0.1:{port}/", data=json.dumps(body).encode(),
                                 headers={"X-Amz-Target": f"DynamoDB_20120810.{op}",
                                          "Content-Type": "application/x-amz-json-1.0"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def metric(port, name):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        for line in r.read().decode().splitlines():
            if line.startswith(name + " ") or line.startswith(name + "{"):
                return float(line.rsplit(" ", 1)[1])
    return 0.0


def start_publishers(broker, procs, messages, fmt, batch):
    per = messages // procs
    out = []
    for i in range(procs):
        args = [sys.executable, SIM, "--port", str(broker.port), "--format", fmt, "--batch", str(batch),
                "--count", str(per), "--devices", "10", "--rate", "0", "--inflight", "100",
                "--client-id", f"bench-pub-{i}", "--start-ms", str(1_700_000_000_000 + i * 10**9)]
        out.append(subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True))
    return out, per * procs


def wait_publishers(pubs):
    for p in pubs:
        p.wait(300)


def run_ceiling(work, broker_tuned, procs, messages):
    broker = Mosquitto(work, **broker_limits(broker_tuned)).start()
    out_path = os.path.join(work, "sub.out")
    try:
        # A persistent-session subscriber that does nothing with the messages
        # (it prints one line per message to a file, which is counted).
        with open(out_path, "w") as out:
            sub = subprocess.Popen(["mosquitto_sub", "-p", str(broker.port), "-q", "1", "-c", "-i", "bench-sub",
                                    "-t", "sensors/+/telemetry"], stdout=out, stderr=subprocess.DEVNULL)
        time.sleep(0.5)
        t0 = time.time()
        pubs, n = start_publishers(broker, procs, messages, "json", 1)
        got, last, last_change = 0, -1, time.time()
        while True:
            with open(out_path, "rb") as f:
                got = f.read().count(b"\n")
            now = time.time()
            if got != last:
                last, last_change = got, now
            if got >= n or (now - last_change > 3 and all(p.poll() is not None for p in pubs)):
                break
            time.sleep(0.05)
        sub.terminate()
        sub.wait(10)
        wait_publishers(pubs)
        return {"msgs": n, "items": got, "want": n, "secs": last_change - t0}
    finally:
        broker.stop()


def broker_limits(tuned):
    return {"max_inflight": 1000, "max_queued": 0} if tuned else {"max_inflight": 20, "max_queued": 1000}


def run_edgetable(binary, work, broker_tuned, node_tuned, procs, messages, fmt, batch):
    broker = Mosquitto(work, **broker_limits(broker_tuned)).start()
    data = os.path.join(work, "data")
    port = free_port()
    conf = os.path.join(work, "edge.toml")
    with open(conf, "w") as f:
        f.write(f"""[node]
data_dir = "{data}"
log_level = "warn"
[api]
listen = "127.0.0.1:{port}"
[mqtt]
broker = "{broker.uri}"
client_id = "bench-edge"
connections = {node_tuned[0]}
uncommitted_max = {node_tuned[1]}
client = "{node_tuned[2]}"
[[ingest.rules]]
topic = "sensors/{{device}}/telemetry"
table = "telemetry"
[[ingest.rules]]
topic = "frames/+"
table = "telemetry"
format = "flatbuffers"
partition_from = "payload:device"
""")
    log = open(os.path.join(work, "edgetable.log"), "w")
    node = subprocess.Popen([binary, "serve", "--config", conf], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                if "edgetable_dead_letters" in ddb(port, "ListTables", {})["TableNames"]:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        time.sleep(1.0)  # connect and SUBACK
        cpu0 = cpu_seconds(node.pid)
        threads0 = thread_cpu(node.pid)
        commits0 = metric(port, "edgetable_storage_commits_total")
        t0 = time.time()
        pubs, n = start_publishers(broker, procs, messages, fmt, batch)
        want = n * batch
        items, last_change, last = 0, time.time(), -1
        while True:
            items = ddb(port, "DescribeTable", {"TableName": "telemetry"})["Table"]["ItemCount"]
            now = time.time()
            if items != last:
                last, last_change = items, now
            if items >= want:
                break
            if now - last_change > 5 and all(p.poll() is not None for p in pubs):
                break  # stalled: messages were lost
            time.sleep(0.05)
        elapsed = last_change - t0
        cpu = cpu_seconds(node.pid) - cpu0
        hwm = vm_hwm_kb(node.pid)
        commits = metric(port, "edgetable_storage_commits_total") - commits0
        threads = {k: v - threads0.get(k, 0) for k, v in thread_cpu(node.pid).items()}
        print("  cpu ms/1k items by thread: " + ", ".join(
            f"{k} {1e6 * v / max(items, 1):.1f}" for k, v in sorted(threads.items(), key=lambda kv: -kv[1]) if v > 0),
            file=sys.stderr)
        wait_publishers(pubs)
        return {"msgs": n, "items": items, "want": want, "secs": elapsed, "cpu": cpu, "hwm_kb": hwm,
                "commits": commits}
    finally:
        node.terminate()
        try:
            node.wait(20)
        except subprocess.TimeoutExpired:
            node.kill()
        log.close()
        broker.stop()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--bin", default=os.environ.get("EDGETABLE_BIN", "edgetable"))
    p.add_argument("--messages", type=int, default=60000, help="single-reading messages per run")
    p.add_argument("--batched-messages", type=int, default=2000, help="100-reading messages per batched run")
    p.add_argument("--publishers", type=int, default=4)
    p.add_argument("--only", default="", help="run only the rows whose 'run broker edgetable' contains this")
    args = p.parse_args()
    if not shutil.which("mosquitto_sub"):
        sys.exit("mosquitto_sub is needed (Debian mosquitto-clients)")

    rows = []
    with tempfile.TemporaryDirectory(prefix="ingest-bench-") as tmp:
        def work(name):
            d = os.path.join(tmp, name)
            os.makedirs(d)
            return d

        def edge(broker_tuned, conns, window, client, messages, fmt="json", batch=1):
            return lambda w: run_edgetable(args.bin, w, broker_tuned, (conns, window, client), args.publishers,
                                           messages, fmt, batch)

        plan = [
            ("ceiling", "stock", "-", lambda w: run_ceiling(w, False, args.publishers, args.messages)),
            ("edgetable", "stock", "1c W512", edge(False, 1, 512, "builtin", args.messages)),
            ("ceiling", "tuned", "-", lambda w: run_ceiling(w, True, args.publishers, args.messages)),
            ("edgetable", "tuned", "1c W512", edge(True, 1, 512, "builtin", args.messages)),
            ("edgetable", "tuned", "1c W64", edge(True, 1, 64, "builtin", args.messages)),
            ("edgetable", "tuned", "2c W512", edge(True, 2, 512, "builtin", args.messages)),
            ("edgetable", "tuned", "4c W512", edge(True, 4, 512, "builtin", args.messages)),
            ("edgetable", "tuned", "4c W64 paho", edge(True, 4, 64, "paho", args.messages)),
            ("batched x100", "tuned", "1c W512", edge(True, 1, 512, "builtin", args.batched_messages, "flatbuffers", 100)),
        ]
        plan = [row for row in plan if args.only in " ".join(row[:3]) or row[0] == "ceiling"]
        for i, (what, broker, node, fn) in enumerate(plan):
            r = fn(work(f"run{i}"))
            rows.append((what, broker, node, r))
            print(f"  done: {what} broker={broker} edgetable={node}", file=sys.stderr)

    # Rates count what arrived (messages lost by the broker are not counted).
    def rate(r, batch):
        return (r["items"] / batch) / r["secs"] if r["secs"] > 0 else 0

    ceilings = {b: rate(r, 1) for w, b, n, r in rows if w == "ceiling"}
    print()
    print(f"{'run':<13} {'broker':<6} {'edgetable':<11} {'sent':>7} {'arrived':>7} {'lost':>6} "
          f"{'msgs/s':>8} {'items/s':>8} {'% ceil':>7} {'cpu ms/1k':>9} {'peak RSS':>9} {'items/commit':>12}")
    for what, broker, node, r in rows:
        batch = 100 if what.startswith("batched") else 1
        lost = r["want"] - r["items"]
        if what == "ceiling":
            print(f"{what:<13} {broker:<6} {node:<11} {r['want']:>7} {r['items']:>7} {lost:>6} {rate(r, 1):>8.0f} "
                  f"{'-':>8} {'100':>7} {'-':>9} {'-':>9}")
            continue
        items_s = r["items"] / r["secs"] if r["secs"] > 0 else 0
        pct = f"{100 * rate(r, 1) / ceilings[broker]:.0f}" if batch == 1 and ceilings.get(broker) else "-"
        cpu = 1000 * r["cpu"] / max(r["items"], 1) * 1000
        print(f"{what:<13} {broker:<6} {node:<11} {r['want']:>7} {r['items']:>7} {lost:>6} {rate(r, batch):>8.0f} "
              f"{items_s:>8.0f} {pct:>7} {cpu:>9.1f} {r['hwm_kb'] / 1024:>7.1f}MB "
              f"{r['items'] / max(r['commits'], 1):>12.1f}")
    print("\nsent/arrived/lost count readings (items). Stock broker: max_inflight_messages 20, "
          "max_queued_messages 1000; tuned: 1000 and 0 (no limit).")
    print("edgetable: Nc = mqtt.connections (shared subscriptions when > 1), WN = mqtt.uncommitted_max; "
          "the builtin client unless 'paho'; defaults are 1c W512 builtin.")


if __name__ == "__main__":
    main()
