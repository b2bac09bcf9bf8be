"""Fixtures for the DynamoDB API integration tests.

By default every test starts its own `edgetable serve` (binary from
EDGETABLE_BIN) on a free port with a temporary data directory. When
EDGETABLE_TEST_ENDPOINT is set (for example http://127.0.0.1:8999 for
DynamoDB Local), the tests talk to that endpoint instead and start nothing;
table names are unique per test so that a shared endpoint works.
"""
import base64
import http.client
import json
import os
import subprocess
import time
import urllib.parse
import uuid

import boto3
import botocore.auth
import botocore.awsrequest
import botocore.credentials
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

import edgetable_harness

ACCESS_KEY = "AKIDTEST"
SECRET_KEY = "secret"
REGION = "us-east-1"
AWS_CLI = os.environ.get("EDGETABLE_AWS_CLI", "/usr/bin/aws")
TARGET_PREFIX = "DynamoDB_20120810."


class Endpoint:
    """Where the API under test answers, and what is behind it."""

    def __init__(self, url, node=None):
        self.url = url.rstrip("/")
        self.node = node
        parsed = urllib.parse.urlparse(self.url)
        self.host = parsed.hostname
        self.port = parsed.port or 80

    @property
    def is_edgetable(self):
        return self.node is not None

    def is_dynamodb_local(self):
        """True when the endpoint is DynamoDB Local (it answers with a Jetty Server header)."""
        if self.node is not None:
            return False
        status, headers, _ = raw_request(self, "ListTables", b"{}")
        return "jetty" in headers.get("server", "").lower()


@pytest.fixture
def node(tmp_path):
    """The endpoint under test: a fresh EdgeTable, or EDGETABLE_TEST_ENDPOINT."""
    external = os.environ.get("EDGETABLE_TEST_ENDPOINT")
    if external:
        yield Endpoint(external)
        return
    if not os.environ.get("EDGETABLE_BIN"):
        pytest.fail("set EDGETABLE_BIN to the edgetable binary, or EDGETABLE_TEST_ENDPOINT to an endpoint")
    n = edgetable_harness.Node(tmp_path).start()
    try:
        yield Endpoint(n.url, node=n)
    finally:
        crashed = n.proc.poll() is not None
        code = n.stop()
        if crashed:
            pytest.fail(f"edgetable exited during the test with {code}; log:\n{n.output()[-4000:]}")


def skip_on_dynamodb_local(endpoint, reason):
    """Skips the rest of a test on DynamoDB Local where it departs from the AWS
    documentation (`reason` says how); EdgeTable always runs it."""
    if endpoint.is_dynamodb_local():
        pytest.skip("DynamoDB Local departs from the AWS documentation: " + reason)


@pytest.fixture
def ddb(node):
    return boto3.client(
        "dynamodb", endpoint_url=node.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, read_timeout=60, connect_timeout=10))


@pytest.fixture
def ddb_raw(node):
    """Like ddb, without botocore's client-side parameter validation, so the server judges."""
    return boto3.client(
        "dynamodb", endpoint_url=node.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}, parameter_validation=False))


def unique_name(prefix="it"):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def wait_active(ddb, name, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        desc = ddb.describe_table(TableName=name)["Table"]
        if desc["TableStatus"] == "ACTIVE":
            return desc
        if time.time() > deadline:
            raise TimeoutError(f"table {name} not ACTIVE: {desc['TableStatus']}")
        time.sleep(0.05)


def wait_gone(ddb, name, timeout=30.0):
    deadline = time.time() + timeout
    while True:
        try:
            ddb.describe_table(TableName=name)
        except ClientError as e:
            if e.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        if time.time() > deadline:
            raise TimeoutError(f"table {name} still exists")
        time.sleep(0.05)


def create_table(ddb, name, hash_key=("pk", "S"), range_key=None):
    attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    resp = ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                            BillingMode="PAY_PER_REQUEST")
    wait_active(ddb, name)
    return resp


@pytest.fixture
def make_table(ddb):
    """make_table(hash_key=("pk","S"), range_key=None, name=None) -> table name.

    Tables are deleted when the test ends, so that a shared endpoint stays clean.
    """
    created = []

    def make(hash_key=("pk", "S"), range_key=None, name=None):
        name = name or unique_name()
        create_table(ddb, name, hash_key, range_key)
        created.append(name)
        return name

    yield make
    for name in created:
        try:
            ddb.delete_table(TableName=name)
        except ClientError:
            pass


@pytest.fixture
def table(make_table):
    """A hash-only table keyed by pk (S)."""
    return make_table()


@pytest.fixture
def table_hr(make_table):
    """A table keyed by pk (S) + sk (N)."""
    return make_table(range_key=("sk", "N"))


def error_of(excinfo):
    """(code, message) of a botocore ClientError caught by pytest.raises."""
    err = excinfo.value.response["Error"]
    return err.get("Code"), err.get("Message", "")


def assert_error(excinfo, code, *phrases):
    """The error has `code` and its message contains every phrase (case-insensitive)."""
    got_code, msg = error_of(excinfo)
    assert got_code == code, f"expected {code}, got {got_code}: {msg}"
    for p in phrases:
        assert p.lower() in msg.lower(), f"{code} message {msg!r} lacks {p!r}"


KEY_MISMATCH = ("The provided key element does not match the schema", "Type mismatch for key")


def assert_error_one_of(excinfo, code, phrases):
    """The error has `code` and its message contains at least one of `phrases`.

    For wordings that differ between AWS and DynamoDB Local: a key of the wrong type
    in a Key parameter is "The provided key element does not match the schema" on
    AWS and "Type mismatch for key" on DynamoDB Local (KEY_MISMATCH).
    """
    got_code, msg = error_of(excinfo)
    assert got_code == code, f"expected {code}, got {got_code}: {msg}"
    assert any(p.lower() in msg.lower() for p in phrases), f"{code} message {msg!r} has none of {phrases!r}"


# --- raw HTTP -----------------------------------------------------------------

def raw_request(endpoint, operation, body, sign=True, headers=None, target=None):
    """POST / with X-Amz-Target DynamoDB_20120810.<operation> and the raw body.

    Signed with SigV4 unless sign=False. Returns (status, lower-cased headers, parsed
    JSON body or the raw text when it is not JSON).
    """
    if isinstance(body, str):
        body = body.encode()
    hdrs = {"Content-Type": "application/x-amz-json-1.0"}
    if operation is not None:
        hdrs["X-Amz-Target"] = target or (TARGET_PREFIX + operation)
    hdrs.update(headers or {})
    if sign:
        req = botocore.awsrequest.AWSRequest(method="POST", url=endpoint.url + "/", data=body, headers=hdrs)
        botocore.auth.SigV4Auth(botocore.credentials.Credentials(ACCESS_KEY, SECRET_KEY),
                                "dynamodb", REGION).add_auth(req)
        hdrs = dict(req.headers.items())
    conn = http.client.HTTPConnection(endpoint.host, endpoint.port, timeout=30)
    try:
        conn.request("POST", "/", body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        rh = {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()
    try:
        parsed = json.loads(data)
    except ValueError:
        parsed = data.decode(errors="replace")
    return resp.status, rh, parsed


def short_type(body):
    """'ValidationException' from {'__type': 'com.amazon.coral.validate#ValidationException'}."""
    t = body.get("__type", "") if isinstance(body, dict) else ""
    return t.rsplit("#", 1)[-1]


@pytest.fixture
def raw(node):
    return lambda operation, body, **kw: raw_request(node, operation, body, **kw)


# --- AWS CLI ------------------------------------------------------------------

class CliError(Exception):
    def __init__(self, returncode, stdout, stderr):
        super().__init__(f"aws exited {returncode}: {stderr}")
        self.returncode, self.stdout, self.stderr = returncode, stdout, stderr


class Cli:
    """Runs `aws dynamodb ... --endpoint-url URL --output json`."""

    def __init__(self, url, home):
        self.url = url
        self.env = dict(os.environ)
        for k in list(self.env):
            if k.startswith("AWS_"):
                del self.env[k]
        self.env.update({
            "AWS_ACCESS_KEY_ID": ACCESS_KEY, "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
            "AWS_DEFAULT_REGION": REGION, "AWS_PAGER": "", "HOME": str(home),
            "AWS_CONFIG_FILE": os.path.join(str(home), "config"),
            "AWS_SHARED_CREDENTIALS_FILE": os.path.join(str(home), "credentials"),
            "AWS_MAX_ATTEMPTS": "1", "AWS_RETRY_MODE": "standard",
        })

    def run(self, *args):
        cmd = [AWS_CLI, "dynamodb", *args, "--endpoint-url", self.url, "--output", "json"]
        return subprocess.run(cmd, env=self.env, capture_output=True, text=True, timeout=60)

    def __call__(self, *args):
        """Parsed JSON of a successful call ({} when it prints nothing); CliError otherwise."""
        p = self.run(*args)
        if p.returncode != 0:
            raise CliError(p.returncode, p.stdout, p.stderr)
        return json.loads(p.stdout) if p.stdout.strip() else {}

    def fail(self, *args):
        """(exit code, stderr) of a call that is expected to fail."""
        p = self.run(*args)
        assert p.returncode != 0, f"aws {' '.join(args)} succeeded: {p.stdout}"
        return p.returncode, p.stderr


@pytest.fixture
def cli(node, tmp_path):
    home = tmp_path / "awshome"
    home.mkdir()
    return Cli(node.url, home)


def b64(data):
    return base64.b64encode(data).decode()
