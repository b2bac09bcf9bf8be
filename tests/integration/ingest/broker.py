"""A real mosquitto for the ingest tests: free port, temporary config and
persistence directory, stopped at the end.

The config sets the limits the tests rely on (FINDINGS.md: with stock limits
a persistent session that falls behind loses QoS 1 messages silently past
max_queued_messages = 1000).
"""
import os
import shutil
import signal
import socket
import subprocess
import time

MOSQUITTO = os.environ.get("EDGETABLE_MOSQUITTO") or shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    def __init__(self, workdir, port=None, max_inflight=20, max_queued=0, persistence=True, extra="", head=""):
        self.dir = os.path.join(str(workdir), "mosquitto")
        os.makedirs(self.dir, exist_ok=True)
        self.port = port or free_port()
        self.conf = os.path.join(self.dir, "mosquitto.conf")
        self.log_path = os.path.join(self.dir, "mosquitto.log")
        # Started as root, mosquitto switches to the "mosquitto" user, which
        # cannot write the test's private directory (no persistence file,
        # no log): stay the invoking user.
        user_line = "user root" if os.geteuid() == 0 else ""
        with open(self.conf, "w") as f:
            f.write(f"""{head}
listener {self.port} 127.0.0.1
allow_anonymous true
persistence {'true' if persistence else 'false'}
persistence_location {self.dir}/
autosave_interval 1
max_inflight_messages {max_inflight}
max_queued_messages {max_queued}
max_queued_bytes 0
log_dest file {self.log_path}
log_type error
log_type warning
log_type notice
{user_line}
{extra}
""")
        self.proc = None

    @property
    def uri(self):
        return f"tcp://127.0.0.1:{self.port}"

    def start(self):
        self.proc = subprocess.Popen([MOSQUITTO, "-c", self.conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.STDOUT)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self.proc.returncode}: {self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("mosquitto did not listen")

    def stop(self):
        """SIGTERM: mosquitto saves its persistence file and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self):
        try:
            with open(self.log_path) as f:
                return f.read()
        except OSError:
            return ""
