"""The README's first command in CI: examples/demo.sh --check.

Runs the whole demo (CA and certificates, mosquitto, a hub, an edge over
verified HTTPS with a client certificate, the sensor simulator) with the
built binary (EDGETABLE_BIN: no build) and without apt (EDGETABLE_SKIP_INSTALL),
its directory in a temporary one, for 20 seconds; the demo then fails unless
the hub holds every item the edge ingested.

Run: EDGETABLE_BIN=build/edge/app/edgetable python3 -m pytest tests/integration/test_demo.py
"""
import os
import re
import signal
import subprocess

ROOT = os.path.abspath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
DEMO = os.path.join(ROOT, "examples", "demo.sh")


def test_demo_check(tmp_path):
    binary = os.environ.get("EDGETABLE_BIN")
    assert binary and os.access(binary, os.X_OK), "set EDGETABLE_BIN to the built edgetable"
    env = dict(os.environ, EDGETABLE_BIN=os.path.abspath(binary), EDGETABLE_SKIP_INSTALL="1")
    demo_dir = tmp_path / "demo"
    proc = subprocess.Popen(["bash", DEMO, "--check", "20", "--dir", str(demo_dir)], cwd=str(tmp_path), env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        out, _ = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)  # the demo stops what it started
        out, _ = proc.communicate(timeout=60)
        raise AssertionError(f"the demo did not finish within 240 s:\n{out[-6000:]}")
    print(out)
    assert proc.returncode == 0, f"demo.sh --check exited with {proc.returncode}:\n{out[-6000:]}"
    verdict = re.search(r"^demo check: PASS: the edge ingested (\d+) telemetry items .* the hub holds all (\d+);",
                        out, re.M)
    assert verdict, f"no PASS verdict in the demo's output:\n{out[-6000:]}"
    assert int(verdict.group(1)) > 0 and verdict.group(1) == verdict.group(2)
    # Everything it started was stopped: no process still uses the demo directory.
    left = subprocess.run(["pgrep", "-f", str(demo_dir)], capture_output=True, text=True).stdout.split()
    assert not left, f"processes left running: {left}"
    assert (demo_dir / "pki" / "ca.crt").exists() and (demo_dir / "edge" / "edge.toml").exists()
