"""TTL through the DynamoDB API: expired items are hidden from GetItem, Query,
Scan and BatchGetItem at once and deleted by the sweeper; items whose TTL
attribute is missing, not a number, or more than five years in the past stay.
(EdgeTable hides expired items by default; DynamoDB may show them until it
deletes them, so these tests run against EdgeTable only.)
"""
import time

import pytest

from conftest import unique_name

FIVE_YEARS_S = 5 * 365 * 86400


def ttl_table(ddb, make_table, node):
    if not node.is_edgetable:
        pytest.skip("read-time hiding of expired items is EdgeTable behaviour")
    name = make_table(range_key=("sk", "N"))
    ddb.update_time_to_live(TableName=name,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    assert ddb.describe_time_to_live(TableName=name)["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED", "AttributeName": "exp"}
    return name


def put(ddb, name, sk, exp=None):
    item = {"pk": {"S": "p"}, "sk": {"N": str(sk)}}
    if exp is not None:
        item["exp"] = exp
    ddb.put_item(TableName=name, Item=item)


def visible_sks(ddb, name):
    q = ddb.query(TableName=name, KeyConditionExpression="pk = :p",
                  ExpressionAttributeValues={":p": {"S": "p"}})
    return [int(i["sk"]["N"]) for i in q["Items"]]


def test_expired_hidden_everywhere_then_swept(ddb, make_table, node):
    name = ttl_table(ddb, make_table, node)
    now = int(time.time())
    put(ddb, name, 1, {"N": str(now - 10)})                     # expired
    put(ddb, name, 2, {"N": str(now + 3600)})                   # later
    put(ddb, name, 3)                                           # no attribute
    put(ddb, name, 4, {"S": str(now - 10)})                     # not a number
    put(ddb, name, 5, {"N": str(now - FIVE_YEARS_S - 86400 * 3)})  # more than 5 years old
    put(ddb, name, 6, {"N": str(now + 2)})                      # expires during the test

    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})
    assert visible_sks(ddb, name) == [2, 3, 4, 5, 6]
    assert sorted(int(i["sk"]["N"]) for i in ddb.scan(TableName=name)["Items"]) == [2, 3, 4, 5, 6]
    got = ddb.batch_get_item(RequestItems={name: {"Keys": [
        {"pk": {"S": "p"}, "sk": {"N": str(k)}} for k in (1, 2)]}})["Responses"][name]
    assert [int(i["sk"]["N"]) for i in got] == [2]

    time.sleep(3.5)
    assert visible_sks(ddb, name) == [2, 3, 4, 5]
    # The sweeper (1 s interval by default) deletes both expired items.
    deadline = time.time() + 30
    while ddb.describe_table(TableName=name)["Table"]["ItemCount"] != 4 and time.time() < deadline:
        time.sleep(0.2)
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 4


def test_disabling_ttl_keeps_items(ddb, make_table, node):
    name = ttl_table(ddb, make_table, node)
    now = int(time.time())
    put(ddb, name, 1, {"N": str(now + 1)})
    ddb.update_time_to_live(TableName=name,
                            TimeToLiveSpecification={"Enabled": False, "AttributeName": "exp"})
    time.sleep(3)
    assert visible_sks(ddb, name) == [1]
    assert ddb.describe_table(TableName=name)["Table"]["ItemCount"] == 1
