"""The DynamoDB JSON 1.0 protocol itself, spoken over raw HTTP."""
import json
import zlib

import pytest

from conftest import raw_request, short_type, skip_on_dynamodb_local, unique_name


def error_message(body):
    # DynamoDB spells the member "message" or "Message" depending on the error.
    return body.get("message", body.get("Message", ""))


def test_success_response_shape(raw):
    status, headers, body = raw("ListTables", b"{}")
    assert status == 200
    assert isinstance(body, dict) and isinstance(body["TableNames"], list)
    assert headers["content-type"].startswith("application/x-amz-json-1.0")
    assert headers.get("x-amzn-requestid")


def test_crc32_header_matches_body(node):
    import http.client
    import botocore.auth, botocore.awsrequest, botocore.credentials
    body = b"{}"
    req = botocore.awsrequest.AWSRequest(method="POST", url=node.url + "/", data=body, headers={
        "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810.ListTables"})
    botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDTEST", "secret"), "dynamodb", "us-east-1").add_auth(req)
    conn = http.client.HTTPConnection(node.host, node.port, timeout=30)
    conn.request("POST", "/", body=body, headers=dict(req.headers.items()))
    resp = conn.getresponse()
    data = resp.read()
    crc = resp.getheader("x-amz-crc32")
    conn.close()
    # SDKs check this header when it is present; a wrong value makes them retry and fail.
    if crc is not None:
        assert int(crc) == zlib.crc32(data) & 0xFFFFFFFF


def test_unknown_operation(raw):
    status, _, body = raw("Nope", b"{}")
    assert status == 400
    assert short_type(body) == "UnknownOperationException"


def test_error_body_shape(raw):
    status, headers, body = raw("DescribeTable", json.dumps({"TableName": unique_name("missing")}))
    assert status == 400
    assert short_type(body) == "ResourceNotFoundException"
    assert "#" in body["__type"]                      # namespaced, as the SDKs expect
    assert error_message(body)
    assert headers["content-type"].startswith("application/x-amz-json-1.0")
    assert headers.get("x-amzn-requestid")


@pytest.mark.parametrize("payload", [b"{not json", b"{\"TableName\": ", b"[1, 2", b"\xff\xfe"],
                         ids=["garbage", "truncated", "array", "not-utf8"])
def test_malformed_json(node, raw, payload):
    skip_on_dynamodb_local(node, "it answers a malformed body with 500 InternalFailure")
    status, _, body = raw("ListTables", payload)
    assert status == 400
    assert short_type(body) == "SerializationException"


def test_wrong_parameter_type(node, raw):
    status, _, body = raw("DescribeTable", b'{"TableName": 123}')
    assert status == 400
    if not node.is_dynamodb_local():
        # DynamoDB Local turns the number into the string "123" and answers
        # ResourceNotFoundException; DynamoDB refuses the type.
        assert short_type(body) == "SerializationException", body


@pytest.mark.parametrize("payload", [
    b'{"Limit": "abc"}',
    b'{"Limit": 1.5}',
    b'{"ExclusiveStartTableName": {"S": "x"}}',
], ids=["limit-string", "limit-fraction", "name-object"])
def test_wrong_parameter_types_list_tables(node, raw, payload):
    skip_on_dynamodb_local(node, "it answers a mistyped parameter with 500 InternalFailure")
    status, _, body = raw("ListTables", payload)
    assert status == 400
    assert short_type(body) in ("SerializationException", "ValidationException"), body


def test_wrong_item_shape(node, raw):
    name = unique_name()
    skip_on_dynamodb_local(node, "it answers an Item that is not an object with 500 InternalFailure")
    status, _, body = raw("PutItem", json.dumps({"TableName": name, "Item": ["pk", "a"]}))
    assert status == 400
    assert short_type(body) == "SerializationException", body


def test_missing_target_header(node, raw):
    skip_on_dynamodb_local(node, "it answers a request without X-Amz-Target with 500 InternalFailure")
    status, _, body = raw(None, b"{}")
    assert 400 <= status < 500
    assert isinstance(body, dict) and body.get("__type"), body


def test_missing_required_parameter(raw):
    status, _, body = raw("DescribeTable", b"{}")
    assert status == 400
    assert short_type(body) == "ValidationException"
    # AWS: "Value null at 'tableName' failed to satisfy constraint: Member must not be null".
    assert "table" in error_message(body).lower()


def test_unsigned_request_accepted_without_keys(node):
    if not node.is_edgetable:
        pytest.skip("an EdgeTable without configured keys accepts unsigned requests; DynamoDB does not")
    status, _, body = raw_request(node, "ListTables", b"{}", sign=False)
    assert status == 200, body
    assert body["TableNames"] == []


def test_keep_alive_many_requests_one_connection(node):
    import http.client
    import botocore.auth, botocore.awsrequest, botocore.credentials
    conn = http.client.HTTPConnection(node.host, node.port, timeout=30)
    try:
        for i in range(20):
            op = "ListTables" if i % 2 == 0 else "Nope"
            req = botocore.awsrequest.AWSRequest(method="POST", url=node.url + "/", data=b"{}", headers={
                "Content-Type": "application/x-amz-json-1.0", "X-Amz-Target": "DynamoDB_20120810." + op})
            botocore.auth.SigV4Auth(botocore.credentials.Credentials("AKIDTEST", "secret"), "dynamodb",
                                    "us-east-1").add_auth(req)
            conn.request("POST", "/", body=b"{}", headers=dict(req.headers.items()))
            resp = conn.getresponse()
            resp.read()
            assert resp.status == (200 if op == "ListTables" else 400)
    finally:
        conn.close()
