"""The systemd side of a node: platforms/systemd/edgetable.service passes
`systemd-analyze verify`, and `edgetable serve` speaks sd_notify's protocol.

The notification test plays systemd: it listens on a unix datagram socket,
starts `edgetable serve` with NOTIFY_SOCKET pointing at it and WATCHDOG_USEC
set, and checks READY=1, WATCHDOG=1 pings, RELOADING=1 and READY=1 around a
SIGHUP that changes the log level (applied without a restart, logged), and
STOPPING=1 at SIGTERM.

Run: EDGETABLE_BIN=build/edge/app/edgetable python3 -m pytest tests/integration/test_systemd.py
"""
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import edgetable_harness as H  # noqa: E402

UNIT = os.path.join(HERE, "..", "..", "platforms", "systemd", "edgetable.service")
BIN = os.environ.get("EDGETABLE_BIN", "")


def unit_settings(text):
    """{key: [values]} of the unit's [Service] section."""
    out, section = {}, None
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]" and "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_unit_verifies(tmp_path):
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: platforms/debian/install-deps.sh installs systemd"
    assert BIN, "set EDGETABLE_BIN to the edgetable binary"
    with open(UNIT) as f:
        text = f.read()
    s = unit_settings(text)
    assert s["ExecStart"] == ["/usr/bin/edgetable serve --config /etc/edgetable/edgetable.toml"]
    for key, want in {"Type": "notify", "User": "edgetable", "WatchdogSec": "30", "Restart": "on-failure",
                      "ProtectSystem": "strict", "ProtectHome": "yes", "PrivateTmp": "yes",
                      "NoNewPrivileges": "yes", "ReadWritePaths": "/var/lib/edgetable",
                      "StateDirectory": "edgetable", "CapabilityBoundingSet": "",
                      "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
                      "ExecReload": "/bin/kill -HUP $MAINPID"}.items():
        assert s.get(key) == [want], f"{key}: {s.get(key)}, expected {want!r}"
    # verify checks that ExecStart is executable: point it at the build's binary.
    unit = tmp_path / "edgetable.service"
    unit.write_text(text.replace("/usr/bin/edgetable", os.path.abspath(BIN)))
    p = subprocess.run([analyze, "verify", "--man=no", str(unit)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and not p.stderr.strip() and not p.stdout.strip(), \
        f"systemd-analyze verify: exit {p.returncode}\n{p.stdout}\n{p.stderr}"


class NotifySocket:
    """The receiving end of sd_notify: a unix datagram socket."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="et-notify-")  # short: sun_path holds 108 bytes
        self.path = os.path.join(self.dir, "notify")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        self.messages = []  # every message, in order, as {key: value}

    def wait_for(self, key, value=None, timeout=20.0, after=0):
        """Receives until a message after index `after` has key (= value);
        returns its index."""
        deadline = time.time() + timeout
        while True:
            for i in range(after, len(self.messages)):
                m = self.messages[i]
                if key in m and (value is None or m[key] == value):
                    return i
            left = deadline - time.time()
            if left <= 0:
                raise AssertionError(f"no {key}={value} within {timeout}s; got {self.messages}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(4096)
            except socket.timeout:
                continue
            self.messages.append(dict(line.split("=", 1) for line in data.decode().splitlines() if "=" in line))

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


def test_notify_watchdog_reload_stop(tmp_path):
    assert BIN, "set EDGETABLE_BIN to the edgetable binary"
    node = H.Node(tmp_path)  # log_level = "warn"
    notify = NotifySocket()
    env = dict(os.environ, NOTIFY_SOCKET=notify.path, WATCHDOG_USEC="400000")
    env.pop("WATCHDOG_PID", None)
    log = open(node.log_path, "ab")
    node.proc = subprocess.Popen([BIN, "serve", "--config", node.config_path], stdout=log,
                                 stderr=subprocess.STDOUT, env=env)
    try:
        ready = notify.wait_for("READY", "1")
        assert "serving" in notify.messages[ready].get("STATUS", ""), notify.messages[ready]
        # READY=1 comes once the listener answers.
        with urllib.request.urlopen(f"{node.url}/health", timeout=5) as r:
            assert r.status == 200
        # Pings every 200 ms (half of WATCHDOG_USEC) while storage answers.
        first = notify.wait_for("WATCHDOG", "1", after=ready)
        notify.wait_for("WATCHDOG", "1", after=first + 1)

        # SIGHUP with a new log level and a key that needs a restart.
        with open(node.config_path) as f:
            text = f.read()
        assert 'log_level = "warn"' in text
        with open(node.config_path, "w") as f:
            f.write(text.replace('log_level = "warn"', 'log_level = "info"') + 'region = "eu-west-9"\n')
        pid = node.proc.pid
        node.proc.send_signal(signal.SIGHUP)
        reloading = notify.wait_for("RELOADING", "1", after=first)
        notify.wait_for("READY", "1", after=reloading)
        H.wait_until(lambda: "node.log_level warn -> info (applied)" in node.output(), timeout=10,
                     message=lambda: f"no log-level line; log:\n{node.output()[-2000:]}")
        out = node.output()
        assert "api.region changed" in out and "needs a restart" in out, out[-2000:]
        assert node.proc.poll() is None and node.proc.pid == pid, "the node restarted on SIGHUP"

        # A broken file: the node says so and keeps its configuration.
        with open(node.config_path, "w") as f:
            f.write("[node\n")
        mark = len(notify.messages)
        node.proc.send_signal(signal.SIGHUP)
        notify.wait_for("READY", "1", after=mark)
        H.wait_until(lambda: "config not reloaded" in node.output(), timeout=10,
                     message=lambda: node.output()[-2000:])
        with urllib.request.urlopen(f"{node.url}/health", timeout=5) as r:
            assert r.status == 200
        # Still pinging after the reloads.
        notify.wait_for("WATCHDOG", "1", after=len(notify.messages))

        node.proc.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING", "1", after=mark)
        assert node.proc.wait(timeout=20) == 0
        # No ping after STOPPING=1: the watchdog thread stops first.
        stopping = notify.wait_for("STOPPING", "1", after=mark)
        assert not [m for m in notify.messages[stopping + 1:] if "WATCHDOG" in m]
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait()
        log.close()
        notify.close()


def test_no_watchdog_without_watchdog_usec(tmp_path):
    """Under systemd without WatchdogSec: READY=1, never WATCHDOG=1."""
    assert BIN, "set EDGETABLE_BIN to the edgetable binary"
    node = H.Node(tmp_path)
    notify = NotifySocket()
    env = dict(os.environ, NOTIFY_SOCKET=notify.path)
    env.pop("WATCHDOG_USEC", None)
    env.pop("WATCHDOG_PID", None)
    with open(node.log_path, "ab") as log:
        node.proc = subprocess.Popen([BIN, "serve", "--config", node.config_path], stdout=log,
                                     stderr=subprocess.STDOUT, env=env)
    try:
        notify.wait_for("READY", "1")
        time.sleep(0.5)
        node.proc.send_signal(signal.SIGTERM)
        notify.wait_for("STOPPING", "1")
        assert node.proc.wait(timeout=20) == 0
        assert not [m for m in notify.messages if "WATCHDOG" in m], notify.messages
    finally:
        if node.proc.poll() is None:
            node.proc.kill()
            node.proc.wait()
        notify.close()


if __name__ == "__main__":
    sys.exit(pytest.main([__file__, "-q"]))
