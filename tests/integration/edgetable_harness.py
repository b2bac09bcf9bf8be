"""Starts real edgetable processes for integration tests.

Every node gets a free port, its own temporary data directory and config,
and is stopped (SIGTERM, then SIGKILL) when the test ends.
"""
import os
import signal
import socket
import subprocess
import time

BIN = os.environ.get("EDGETABLE_BIN", "edgetable")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port, proc, timeout=20.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"edgetable exited early with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"edgetable did not listen on {port} within {timeout}s")


class Node:
    """One `edgetable serve` process."""

    def __init__(self, workdir, extra_config="", tls=None, http=True):
        self.workdir = str(workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        self.port = free_port() if http else None
        self.tls_port = free_port() if tls else None
        lines = ["[node]", f'data_dir = "{self.data_dir}"', 'log_level = "warn"', "[api]"]
        lines.append(f'listen = "127.0.0.1:{self.port}"' if http else 'listen = ""')
        if tls:
            lines += [f'tls_listen = "127.0.0.1:{self.tls_port}"',
                      f'tls_cert_file = "{tls["cert"]}"', f'tls_key_file = "{tls["key"]}"']
        self.config_path = os.path.join(self.workdir, "edge.toml")
        with open(self.config_path, "w") as f:
            f.write("\n".join(lines) + "\n" + extra_config)
        self.log_path = os.path.join(self.workdir, "edgetable.log")
        self.proc = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def tls_url(self):
        return f"https://localhost:{self.tls_port}"

    def start(self):
        self.log = open(self.log_path, "ab")
        self.proc = subprocess.Popen([BIN, "serve", "--config", self.config_path],
                                     stdout=self.log, stderr=subprocess.STDOUT)
        wait_for_port(self.port or self.tls_port, self.proc)
        if self.tls_port and self.port:
            wait_for_port(self.tls_port, self.proc)
        return self

    def stop(self, timeout=10.0):
        if self.proc is None or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def output(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")


def make_ca_and_server_cert(directory, hostname="localhost"):
    """A throwaway CA and a server certificate for `hostname`, made with openssl."""
    d = str(directory)
    ca_key, ca_crt = os.path.join(d, "ca.key"), os.path.join(d, "ca.crt")
    key, csr, crt = (os.path.join(d, n) for n in ("server.key", "server.csr", "server.crt"))
    ext = os.path.join(d, "server.ext")
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", "/CN=EdgeTable Test CA")
    run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
        "-keyout", key, "-out", csr, "-subj", f"/CN={hostname}")
    with open(ext, "w") as f:
        f.write(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n")
    run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key,
        "-CAcreateserial", "-out", crt, "-days", "2", "-extfile", ext)
    return {"ca": ca_crt, "cert": crt, "key": key}
