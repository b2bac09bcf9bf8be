"""BatchWriteItem and BatchGetItem."""
import pytest
from botocore.exceptions import ClientError

from conftest import assert_error


def put(k, **attrs):
    item = {"pk": {"S": k}}
    item.update(attrs)
    return {"PutRequest": {"Item": item}}


def delete(k):
    return {"DeleteRequest": {"Key": {"pk": {"S": k}}}}


def key(k):
    return {"pk": {"S": k}}


def keys_of(items):
    return sorted(it["pk"]["S"] for it in items)


def test_batch_write_25_puts(ddb, table):
    resp = ddb.batch_write_item(RequestItems={table: [put(f"k{i:02d}", v={"N": str(i)}) for i in range(25)]})
    assert resp["UnprocessedItems"] == {}
    scan = ddb.scan(TableName=table)
    assert scan["Count"] == 25
    assert keys_of(scan["Items"]) == [f"k{i:02d}" for i in range(25)]


def test_batch_write_mixed_put_delete_two_tables(ddb, table, make_table):
    other = make_table()
    ddb.batch_write_item(RequestItems={table: [put("a"), put("b"), put("c")], other: [put("x")]})
    resp = ddb.batch_write_item(RequestItems={
        table: [delete("a"), put("d", v={"S": "new"}), put("b", v={"S": "replaced"}), delete("never-existed")],
        other: [delete("x"), put("y")],
    })
    assert resp["UnprocessedItems"] == {}
    assert keys_of(ddb.scan(TableName=table)["Items"]) == ["b", "c", "d"]
    assert ddb.get_item(TableName=table, Key=key("b"))["Item"] == {"pk": {"S": "b"}, "v": {"S": "replaced"}}
    assert keys_of(ddb.scan(TableName=other)["Items"]) == ["y"]


def test_batch_write_more_than_25(ddb, table, make_table):
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put(f"k{i}") for i in range(26)]})
    # AWS: "Member must have length less than or equal to 25"; DynamoDB Local:
    # "Too many items requested for the BatchWriteItem call".
    assert_error(ei, "ValidationException")
    # The limit is per call, across tables.
    other = make_table()
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put(f"k{i}") for i in range(13)],
                                           other: [put(f"k{i}") for i in range(13)]})
    assert_error(ei, "ValidationException")
    assert ddb.scan(TableName=table)["Count"] == 0
    assert ddb.scan(TableName=other)["Count"] == 0


@pytest.mark.parametrize("requests", [
    [put("a"), put("a")],
    [put("a"), delete("a")],
    [delete("a"), delete("a")],
], ids=["put-put", "put-delete", "delete-delete"])
def test_batch_write_duplicate_keys(ddb, table, requests):
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put("other")] + requests})
    assert_error(ei, "ValidationException", "Provided list of item keys contains duplicates")
    assert ddb.scan(TableName=table)["Count"] == 0


def test_batch_write_invalid_request_writes_nothing(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put("good"), {"PutRequest": {"Item": {"x": {"S": "no key"}}}}]})
    assert_error(ei, "ValidationException")
    assert "Item" not in ddb.get_item(TableName=table, Key=key("good"))
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put("good"), put("bad", s={"SS": ["a", "a"]})]})
    assert_error(ei, "ValidationException", "contains duplicates")
    assert ddb.scan(TableName=table)["Count"] == 0


def test_batch_write_errors(ddb_raw, table):
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_write_item(RequestItems={})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_write_item(RequestItems={table: []})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_write_item(RequestItems={"no-such-table-xyz": [put("a")]})
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_write_item(RequestItems={table: [put("a")], "no-such-table-xyz": [put("a")]})
    assert_error(ei, "ResourceNotFoundException")
    assert ddb_raw.scan(TableName=table)["Count"] == 0


def test_batch_get_two_tables(ddb, table, make_table):
    other = make_table(range_key=("sk", "N"))
    ddb.batch_write_item(RequestItems={
        table: [put(f"k{i}", v={"N": str(i)}, big={"S": "x" * 100}) for i in range(5)],
        other: [{"PutRequest": {"Item": {"pk": {"S": "o"}, "sk": {"N": str(i)}, "w": {"S": "y"}}}} for i in range(3)],
    })
    resp = ddb.batch_get_item(RequestItems={
        table: {"Keys": [key("k0"), key("k3"), key("missing")], "ProjectionExpression": "pk, v"},
        other: {"Keys": [{"pk": {"S": "o"}, "sk": {"N": "2"}}, {"pk": {"S": "o"}, "sk": {"N": "9"}}],
                "ConsistentRead": True},
    })
    assert resp["UnprocessedKeys"] == {}
    assert sorted(resp["Responses"][table], key=lambda it: it["pk"]["S"]) == [
        {"pk": {"S": "k0"}, "v": {"N": "0"}}, {"pk": {"S": "k3"}, "v": {"N": "3"}}]
    assert resp["Responses"][other] == [{"pk": {"S": "o"}, "sk": {"N": "2"}, "w": {"S": "y"}}]


def test_batch_get_nothing_found(ddb, table):
    resp = ddb.batch_get_item(RequestItems={table: {"Keys": [key("a"), key("b")]}})
    assert resp["Responses"] == {table: []}
    assert resp["UnprocessedKeys"] == {}


def test_batch_get_100_keys(ddb, table):
    for start in range(0, 100, 25):
        ddb.batch_write_item(RequestItems={table: [put(f"k{i:03d}") for i in range(start, start + 25)]})
    resp = ddb.batch_get_item(RequestItems={table: {"Keys": [key(f"k{i:03d}") for i in range(100)]}})
    assert resp["UnprocessedKeys"] == {}
    assert keys_of(resp["Responses"][table]) == [f"k{i:03d}" for i in range(100)]


def test_batch_get_projection_with_names(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "name": {"S": "n"}, "m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}})
    resp = ddb.batch_get_item(RequestItems={table: {
        "Keys": [key("a")], "ProjectionExpression": "#n, m.y", "ExpressionAttributeNames": {"#n": "name"}}})
    assert resp["Responses"][table] == [{"name": {"S": "n"}, "m": {"M": {"y": {"N": "2"}}}}]


def test_batch_get_errors(ddb_raw, table):
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={table: {"Keys": [key(f"k{i}") for i in range(101)]}})
    assert_error(ei, "ValidationException", "Too many items requested for the BatchGetItem call")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={table: {"Keys": [key("a"), key("a")]}})
    assert_error(ei, "ValidationException", "Provided list of item keys contains duplicates")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={table: {"Keys": [{"x": {"S": "a"}}]}})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={table: {"Keys": [{"pk": {"N": "1"}}]}})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={table: {"Keys": []}})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.batch_get_item(RequestItems={"no-such-table-xyz": {"Keys": [key("a")]}})
    assert_error(ei, "ResourceNotFoundException")


def test_batch_write_item_too_large(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.batch_write_item(RequestItems={table: [put("ok"), put("big", d={"S": "x" * 409600})]})
    assert_error(ei, "ValidationException", "Item size has exceeded the maximum allowed size")
    assert ddb.scan(TableName=table)["Count"] == 0
