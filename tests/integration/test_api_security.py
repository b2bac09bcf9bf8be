"""TLS, Signature V4 and robustness of the API, against a real edgetable.

These need EdgeTable itself (its config decides TLS and keys), so they do
not run against another endpoint.
"""
import os
import socket
import ssl
import threading
import time
import urllib.request

import boto3
import botocore.exceptions
import pytest
from botocore.config import Config

import edgetable_harness

pytestmark = pytest.mark.skipif(os.environ.get("EDGETABLE_TEST_ENDPOINT") is not None,
                                reason="needs an edgetable started by the test")

KEYS = """
[[api.access_keys]]
access_key_id = "AKIDEDGE"
secret_access_key = "edge-secret"
"""


def client(url, key="AKIDEDGE", secret="edge-secret", verify=None):
    return boto3.client("dynamodb", endpoint_url=url, region_name="eu-west-1",
                        aws_access_key_id=key, aws_secret_access_key=secret, verify=verify,
                        config=Config(retries={"max_attempts": 1}, connect_timeout=5, read_timeout=10))


def create_table(ddb, name="tbl"):
    ddb.create_table(TableName=name, KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
                     BillingMode="PAY_PER_REQUEST")


@pytest.fixture
def tls_node(tmp_path):
    certs = edgetable_harness.make_ca_and_server_cert(tmp_path)
    node = edgetable_harness.Node(tmp_path, tls=certs).start()
    yield node, certs
    node.stop()


def test_https_with_verification(tls_node):
    node, certs = tls_node
    ddb = client(node.tls_url, verify=certs["ca"])
    create_table(ddb)
    ddb.put_item(TableName="tbl", Item={"k": {"S": "a"}, "v": {"N": "1"}})
    assert ddb.get_item(TableName="tbl", Key={"k": {"S": "a"}})["Item"]["v"] == {"N": "1"}


def test_https_with_another_ca_is_refused_by_the_client(tls_node, tmp_path):
    node, _ = tls_node
    (tmp_path / "other").mkdir()
    other = edgetable_harness.make_ca_and_server_cert(tmp_path / "other")
    with pytest.raises(botocore.exceptions.SSLError):
        client(node.tls_url, verify=other["ca"]).list_tables()


def test_truncated_handshake_does_not_block_others(tls_node):
    node, certs = tls_node
    # Half a ClientHello, then silence: the server must keep serving.
    s = socket.create_connection(("127.0.0.1", node.tls_port))
    s.sendall(bytes.fromhex("160301012c010001280303") + os.urandom(10))
    ddb = client(node.tls_url, verify=certs["ca"])
    for _ in range(20):
        ddb.list_tables()
    s.close()


def test_signed_requests_with_the_right_key_pass(tmp_path):
    node = edgetable_harness.Node(tmp_path, extra_config=KEYS).start()
    try:
        ddb = client(node.url)
        create_table(ddb)
        ddb.put_item(TableName="tbl", Item={"k": {"S": "x"}})
        assert ddb.scan(TableName="tbl")["Count"] == 1
    finally:
        node.stop()


def test_wrong_secret_unknown_key_and_unsigned_are_refused(tmp_path):
    node = edgetable_harness.Node(tmp_path, extra_config=KEYS).start()
    try:
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client(node.url, secret="wrong").list_tables()
        assert e.value.response["Error"]["Code"] == "InvalidSignatureException"
        with pytest.raises(botocore.exceptions.ClientError) as e:
            client(node.url, key="AKIDOTHER").list_tables()
        assert e.value.response["Error"]["Code"] == "UnrecognizedClientException"
        req = urllib.request.Request(node.url + "/", data=b"{}", method="POST", headers={
            "X-Amz-Target": "DynamoDB_20120810.ListTables",
            "Content-Type": "application/x-amz-json-1.0"})
        with pytest.raises(urllib.error.HTTPError) as h:
            urllib.request.urlopen(req, timeout=5)
        assert h.value.code == 400
        assert b"MissingAuthenticationTokenException" in h.value.read()
    finally:
        node.stop()


def raw_post(port, body, headers=None, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    head = (f"POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\n"
            f"X-Amz-Target: DynamoDB_20120810.ListTables\r\nContent-Length: {len(body)}\r\n")
    for k, v in (headers or {}).items():
        head += f"{k}: {v}\r\n"
    s.sendall((head + "\r\n").encode())
    return s


def read_status(s):
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data.split(b"\r\n", 1)[0]


@pytest.fixture
def plain_node(tmp_path):
    node = edgetable_harness.Node(tmp_path).start()
    yield node
    node.stop()


def test_twenty_megabyte_body_is_refused_and_others_are_served(plain_node):
    s = raw_post(plain_node.port, b"x" * (20 * 1024 * 1024))
    assert b"413" in read_status(s)
    s.close()
    ddb = client(plain_node.url)
    assert ddb.list_tables()["TableNames"] == []


def test_malformed_json_and_wrong_types(plain_node):
    for body, code in ((b"{not json", "SerializationException"), (b"[1,2]", "SerializationException"),
                       (b'{"TableName": 5}', "SerializationException")):
        req = urllib.request.Request(plain_node.url + "/", data=body, method="POST", headers={
            "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
            "Content-Type": "application/x-amz-json-1.0"})
        with pytest.raises(urllib.error.HTTPError) as h:
            urllib.request.urlopen(req, timeout=5)
        assert h.value.code == 400
        assert code.encode() in h.value.read()


def test_slow_client_does_not_hold_the_server(plain_node):
    # One byte a second: the server must go on answering everyone else, and
    # cut the slow client off by its header timeout.
    s = socket.create_connection(("127.0.0.1", plain_node.port))
    stop = threading.Event()

    def dribble():
        for b in b"POST / HTTP/1.1\r\nHost: x\r\n":
            if stop.is_set():
                return
            try:
                s.send(bytes([b]))
            except OSError:
                return
            time.sleep(1)

    t = threading.Thread(target=dribble, daemon=True)
    t.start()
    ddb = client(plain_node.url)
    start = time.time()
    for _ in range(50):
        ddb.list_tables()
    assert time.time() - start < 10
    # The server closes the slow connection (header timeout, 10 s by default).
    s.settimeout(20)
    closed = False
    try:
        while s.recv(1024):
            pass
        closed = True
    except ConnectionResetError:
        closed = True
    except socket.timeout:
        closed = False
    stop.set()
    assert closed
    s.close()
