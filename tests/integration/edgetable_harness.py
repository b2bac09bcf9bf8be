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

    def __init__(self, workdir, extra_config="", tls=None, http=True, node_config=""):
        """tls: {"cert", "key"} of the HTTPS listener, plus optionally
        "client_ca" (api.tls_client_ca_file: client certificates are verified
        against it). node_config: extra lines of the [node] section (e.g.
        clock_offset_ms = 3600000). extra_config: appended after [api]."""
        self.workdir = str(workdir)
        self.data_dir = os.path.join(self.workdir, "data")
        self.port = free_port() if http else None
        self.tls_port = free_port() if tls else None
        lines = ["[node]", f'data_dir = "{self.data_dir}"', 'log_level = "warn"']
        if node_config:
            lines.append(node_config.strip())
        lines.append("[api]")
        lines.append(f'listen = "127.0.0.1:{self.port}"' if http else 'listen = ""')
        if tls:
            lines += [f'tls_listen = "127.0.0.1:{self.tls_port}"',
                      f'tls_cert_file = "{tls["cert"]}"', f'tls_key_file = "{tls["key"]}"']
            if tls.get("client_ca"):
                lines.append(f'tls_client_ca_file = "{tls["client_ca"]}"')
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


def make_ca_and_certs(directory, clients=(), hostname="localhost", ca_cn="EdgeTable Test CA"):
    """A throwaway CA, a server certificate for `hostname` (and 127.0.0.1) and
    one client certificate per common name in `clients`, made with openssl.

    Subjects are exactly "CN=<name>" (a client's subject as the server's TLS
    layer reports it). Files go to `directory` under names of their own, so
    this can share a directory with make_ca_and_server_cert. Returns
    {"ca", "ca_key", "cert", "key", "clients": {cn: {"cert", "key"}}}.
    """
    d = str(directory)
    os.makedirs(d, exist_ok=True)
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)
    tag = "".join(c if c.isalnum() else "_" for c in ca_cn)
    ca_key, ca_crt = os.path.join(d, f"{tag}.ca.key"), os.path.join(d, f"{tag}.ca.crt")
    run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-keyout", ca_key, "-out", ca_crt, "-days", "2", "-subj", f"/CN={ca_cn}",
        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign")

    def leaf(name, cn, server):
        key, csr, crt, ext = (os.path.join(d, f"{tag}.{name}.{n}") for n in ("key", "csr", "crt", "ext"))
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\n")
            f.write(f"extendedKeyUsage={'serverAuth' if server else 'clientAuth'}\n")
            if server:
                f.write(f"subjectAltName=DNS:{hostname},IP:127.0.0.1\n")
        run("openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", f"/CN={cn}")
        run("openssl", "x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-set_serial",
            str(int.from_bytes(os.urandom(8), "big") >> 1), "-out", crt, "-days", "2", "-extfile", ext)
        return {"cert": crt, "key": key}

    server = leaf("server", hostname, True)
    out = {"ca": ca_crt, "ca_key": ca_key, "cert": server["cert"], "key": server["key"], "clients": {}}
    for i, cn in enumerate(clients):
        out["clients"][cn] = leaf(f"client{i}", cn, False)
    return out


def wait_until(predicate, timeout=30.0, interval=0.1, message="condition"):
    """Polls predicate() until it returns something truthy and returns that.

    On timeout raises AssertionError with `message` (a string, or a callable
    returning one, evaluated then, so it can show the last state).
    """
    deadline = time.time() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.time() > deadline:
            text = message() if callable(message) else message
            raise AssertionError(f"not within {timeout}s: {text}")
        time.sleep(interval)


def dynamodb(url, verify=None, retries=2, timeout=30):
    """A boto3 DynamoDB client for an edgetable API endpoint (unsigned keys accepted)."""
    import boto3
    from botocore.config import Config
    return boto3.client("dynamodb", endpoint_url=url, region_name="us-east-1",
                        aws_access_key_id="x", aws_secret_access_key="x", verify=verify,
                        config=Config(retries={"max_attempts": retries}, connect_timeout=5,
                                      read_timeout=timeout))


def scan_all(ddb, table, **kwargs):
    """Every item of `table` (all pages of a Scan)."""
    items, kwargs = [], dict(kwargs, TableName=table)
    while True:
        page = ddb.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def canonical_item(item):
    """An item (DynamoDB JSON from boto3) as a sortable, comparable string."""
    import base64
    import json

    def plain(v):
        if isinstance(v, (bytes, bytearray)):
            return {"$b64": base64.b64encode(bytes(v)).decode()}
        if isinstance(v, dict):
            return {k: plain(x) for k, x in v.items()}
        if isinstance(v, (list, tuple)):
            return [plain(x) for x in v]
        if isinstance(v, set):
            return sorted((plain(x) for x in v), key=lambda x: json.dumps(x, sort_keys=True))
        return v
    return json.dumps(plain(item), sort_keys=True)


def table_contents(ddb, skip_prefix="edgetable_"):
    """{table: sorted list of canonical items} of every table whose name does
    not start with skip_prefix (the node's own tables by default)."""
    names, kwargs = [], {}
    while True:
        page = ddb.list_tables(**kwargs)
        names += page["TableNames"]
        if "LastEvaluatedTableName" not in page:
            break
        kwargs["ExclusiveStartTableName"] = page["LastEvaluatedTableName"]
    return {name: sorted(canonical_item(x) for x in scan_all(ddb, name))
            for name in names if not (skip_prefix and name.startswith(skip_prefix))}


def get_status(node, timeout=10):
    """GET /status of a node (its plain HTTP listener) as parsed JSON."""
    import json
    import urllib.request
    with urllib.request.urlopen(f"http://127.0.0.1:{node.port}/status", timeout=timeout) as r:
        return json.loads(r.read())
