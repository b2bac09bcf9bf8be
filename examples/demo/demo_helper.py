#!/usr/bin/python3
"""Helpers of examples/demo.sh (Debian's python3 and python3-boto3 only).

  ports PREFERRED...     one free loopback TCP port per argument, each the
                         preferred one when it is free, else any free port
  wait WHAT URL          until the node whose plain HTTP API is URL is ready:
                         WHAT = health (it answers /health), ingest (its MQTT
                         clients are connected and subscribed), sync (it has
                         synced with its upstream once); --pid stops early
                         when that process has exited
  check                  the --check verdict: after the simulator stopped,
                         every reading the broker acknowledged is on the edge,
                         the edge's sync lag drains to 0, and the hub holds
                         every item of the edge's telemetry table
"""
import argparse
import json
import socket
import sys
import time
import urllib.request

TABLE = "telemetry"


def bindable(port):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return 0
        return s.getsockname()[1]


def cmd_ports(args):
    chosen = []
    for pref in args.preferred:
        port = bindable(pref) if pref not in chosen else 0
        for _ in range(100):
            if port and port not in chosen:
                break
            port = bindable(0)
        else:
            print("demo: no free TCP port on 127.0.0.1", file=sys.stderr)
            return 1
        chosen.append(port)
    print(" ".join(str(p) for p in chosen))
    return 0


def status(url, timeout=5):
    with urllib.request.urlopen(url.rstrip("/") + "/status", timeout=timeout) as r:
        return json.load(r)


def alive(pid):
    """False once the process has exited (a zombie counts as exited)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def cmd_wait(args):
    deadline = time.time() + args.timeout
    last = "no answer yet"
    while time.time() < deadline:
        if args.pid and not alive(args.pid):
            print(f"demo: the process exited while waiting for {args.what} ({last})", file=sys.stderr)
            return 1
        try:
            if args.what == "health":
                with urllib.request.urlopen(args.url.rstrip("/") + "/health", timeout=2) as r:
                    if r.status == 200:
                        return 0
            else:
                st = status(args.url)
                if args.what == "ingest":
                    ing = st.get("ingest") or {}
                    last = f"ingest {ing}"
                    if ing.get("connected", 0) >= 1:
                        return 0
                elif args.what == "sync":
                    sy = st.get("sync") or {}
                    last = f"sync last_error: {sy.get('last_error') or 'none'}"
                    if sy.get("last_success_ms", 0) > 0:
                        return 0
        except OSError as e:
            last = str(e)
        time.sleep(0.2)
    print(f"demo: not ready within {args.timeout:.0f}s ({args.what}): {last}", file=sys.stderr)
    return 1


def client(url, ca):
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url=url, region_name="local", aws_access_key_id="x",
                        aws_secret_access_key="x", verify=ca,
                        config=Config(retries={"max_attempts": 3}, connect_timeout=5, read_timeout=30))


def keys(ddb):
    """The (device, ts) keys of the telemetry table, every page of a Scan."""
    out, kw = set(), {"TableName": TABLE, "ProjectionExpression": "device, ts"}
    if TABLE not in ddb.list_tables()["TableNames"]:
        return out
    while True:
        page = ddb.scan(**kw)
        out.update((it["device"]["S"], int(it["ts"]["N"])) for it in page["Items"])
        if "LastEvaluatedKey" not in page:
            return out
        kw["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def cmd_check(args):
    t0 = time.time()

    def fail(why):
        print(f"demo check: FAIL: {why}", flush=True)
        return 1

    try:
        with open(args.sim_stats) as f:
            sim = json.load(f)
    except (OSError, ValueError) as e:
        return fail(f"no summary from the simulator ({e})")
    acked = sim["acked"]
    if not sim.get("complete", False):
        return fail(f"the broker did not acknowledge every reading the simulator published ({sim})")
    edge, hub = client(args.edge, args.ca), client(args.hub, args.ca)

    # 1. Every acknowledged reading reaches the edge (the broker may still be
    #    delivering the last ones to EdgeTable's session).
    deadline = time.time() + args.timeout
    while True:
        edge_keys = keys(edge)
        ing = (status(args.edge_status).get("ingest") or {})
        if len(edge_keys) >= acked and ing.get("lag", 0) == 0:
            break
        if time.time() > deadline:
            return fail(f"the edge holds {len(edge_keys)} telemetry items, the broker acknowledged {acked} "
                        f"readings (ingest: {ing})")
        time.sleep(0.5)

    # 2. The edge's sync drains: nothing left to push or pull, no error, and a
    #    round finished after the last item was ingested.
    settled_ms = int(time.time() * 1000)
    sy = {}
    while True:
        sy = status(args.edge_status).get("sync") or {}
        if (sy.get("push_lag_changes") == 0 and sy.get("pull_lag_changes") == 0 and not sy.get("last_error")
                and sy.get("last_success_ms", 0) > settled_ms):
            break
        if time.time() > deadline:
            return fail(f"the edge's sync lag did not reach 0 within {args.timeout:.0f}s: "
                        f"push_lag_changes={sy.get('push_lag_changes')} pull_lag_changes={sy.get('pull_lag_changes')} "
                        f"last_error={sy.get('last_error')!r}")
        time.sleep(0.3)

    # 3. The hub holds every item of the edge (both read over HTTPS, as the AWS CLI does).
    edge_keys, hub_keys = keys(edge), keys(hub)
    missing = edge_keys - hub_keys
    if not edge_keys:
        return fail("the edge ingested nothing (is the simulator publishing to the edge's broker?)")
    if missing:
        return fail(f"the hub lacks {len(missing)} of the edge's {len(edge_keys)} telemetry items, "
                    f"e.g. {sorted(missing)[:3]}")
    if len(hub_keys) != len(edge_keys):
        return fail(f"the hub holds {len(hub_keys)} telemetry items, the edge {len(edge_keys)}")
    print(f"demo check: PASS: the edge ingested {len(edge_keys)} telemetry items ({acked} readings acknowledged "
          f"by the broker) and the hub holds all {len(hub_keys)}; sync lag 0 after {time.time() - t0:.1f}s",
          flush=True)
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("ports")
    sp.add_argument("preferred", type=int, nargs="+")
    sw = sub.add_parser("wait")
    sw.add_argument("what", choices=["health", "ingest", "sync"])
    sw.add_argument("url")
    sw.add_argument("--pid", type=int, default=0)
    sw.add_argument("--timeout", type=float, default=30)
    sc = sub.add_parser("check")
    sc.add_argument("--edge", required=True, help="the edge's HTTPS API")
    sc.add_argument("--edge-status", required=True, help="the edge's plain HTTP API (for /status)")
    sc.add_argument("--hub", required=True, help="the hub's HTTPS API")
    sc.add_argument("--ca", required=True)
    sc.add_argument("--sim-stats", required=True)
    sc.add_argument("--timeout", type=float, default=60)
    args = p.parse_args(argv)
    return {"ports": cmd_ports, "wait": cmd_wait, "check": cmd_check}[args.cmd](args)


if __name__ == "__main__":
    sys.exit(main())
