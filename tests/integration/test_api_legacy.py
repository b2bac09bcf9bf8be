"""Legacy (pre-expression) parameters: AttributesToGet, KeyConditions, Expected, QueryFilter, AttributeUpdates."""
import pytest
from botocore.exceptions import ClientError

from conftest import assert_error
from test_api_query import batch_put


@pytest.fixture
def lt(ddb, table_hr):
    batch_put(ddb, table_hr, [{"pk": {"S": "p"}, "sk": {"N": str(i)}, "a": {"S": f"a{i}"}, "b": {"N": str(i * i)}}
                              for i in range(10)])
    return table_hr


def test_get_item_attributes_to_get(ddb, lt):
    resp = ddb.get_item(TableName=lt, Key={"pk": {"S": "p"}, "sk": {"N": "3"}}, AttributesToGet=["b", "nothing"])
    assert resp["Item"] == {"b": {"N": "9"}}


def test_query_key_conditions_and_filter(ddb, lt):
    resp = ddb.query(TableName=lt, KeyConditions={
        "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"},
        "sk": {"AttributeValueList": [{"N": "2"}, {"N": "7"}], "ComparisonOperator": "BETWEEN"},
    }, QueryFilter={"b": {"AttributeValueList": [{"N": "20"}], "ComparisonOperator": "GT"}},
        AttributesToGet=["sk"])
    assert resp["Items"] == [{"sk": {"N": str(i)}} for i in (5, 6, 7)]
    assert resp["Count"] == 3 and resp["ScannedCount"] == 6
    resp = ddb.query(TableName=lt, KeyConditions={
        "pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"},
        "sk": {"AttributeValueList": [{"N": "8"}], "ComparisonOperator": "GE"},
    })
    assert [it["sk"]["N"] for it in resp["Items"]] == ["8", "9"]


def test_scan_filter(ddb, lt):
    resp = ddb.scan(TableName=lt, ScanFilter={"a": {"AttributeValueList": [{"S": "a1"}], "ComparisonOperator": "BEGINS_WITH"}})
    assert resp["Count"] == 1 and resp["Items"][0]["sk"] == {"N": "1"}


def test_put_item_expected(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "v": {"N": "1"}}, Expected={"pk": {"Exists": False}})
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "v": {"N": "2"}}, Expected={"pk": {"Exists": False}})
    assert_error(ei, "ConditionalCheckFailedException")
    ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "v": {"N": "3"}},
                 Expected={"v": {"Value": {"N": "1"}}})
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "e"}, "v": {"N": "4"}},
                     Expected={"v": {"ComparisonOperator": "LT", "AttributeValueList": [{"N": "3"}]}})
    assert_error(ei, "ConditionalCheckFailedException")
    ddb.delete_item(TableName=table, Key={"pk": {"S": "e"}},
                    Expected={"v": {"ComparisonOperator": "EQ", "AttributeValueList": [{"N": "3"}]}})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "e"}})


def test_update_item_attribute_updates(ddb, table):
    ddb.update_item(TableName=table, Key={"pk": {"S": "u"}}, AttributeUpdates={
        "n": {"Action": "ADD", "Value": {"N": "5"}},
        "s": {"Action": "PUT", "Value": {"S": "x"}},
    })
    ddb.update_item(TableName=table, Key={"pk": {"S": "u"}}, AttributeUpdates={
        "n": {"Action": "ADD", "Value": {"N": "-2"}},
        "s": {"Action": "DELETE"},
    })
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "u"}})["Item"] == {"pk": {"S": "u"}, "n": {"N": "3"}}


def test_mixing_legacy_and_expression_parameters(ddb, lt):
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=lt, Key={"pk": {"S": "p"}, "sk": {"N": "1"}}, AttributesToGet=["a"],
                     ProjectionExpression="b")
    assert_error(ei, "ValidationException", "Can not use both expression and non-expression parameters",
                 "AttributesToGet", "ProjectionExpression")
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=lt, Item={"pk": {"S": "p"}, "sk": {"N": "1"}}, Expected={"pk": {"Exists": False}},
                     ConditionExpression="attribute_not_exists(pk)")
    assert_error(ei, "ValidationException", "Can not use both expression and non-expression parameters",
                 "Expected", "ConditionExpression")


def test_conditional_operator(ddb, lt):
    filt = {"a": {"AttributeValueList": [{"S": "a1"}], "ComparisonOperator": "EQ"},
            "b": {"AttributeValueList": [{"N": "60"}], "ComparisonOperator": "GT"}}
    kc = {"pk": {"AttributeValueList": [{"S": "p"}], "ComparisonOperator": "EQ"}}
    resp = ddb.query(TableName=lt, KeyConditions=kc, QueryFilter=filt, ConditionalOperator="OR")
    assert [it["sk"]["N"] for it in resp["Items"]] == ["1", "8", "9"]
    resp = ddb.query(TableName=lt, KeyConditions=kc, QueryFilter=filt, ConditionalOperator="AND")
    assert resp["Items"] == []
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=lt, Item={"pk": {"S": "p"}, "sk": {"N": "1"}}, ConditionalOperator="AND",
                     Expected={"a": {"Value": {"S": "zz"}}, "b": {"Exists": False}})
    assert_error(ei, "ConditionalCheckFailedException")
    ddb.put_item(TableName=lt, Item={"pk": {"S": "p"}, "sk": {"N": "1"}}, ConditionalOperator="OR",
                 Expected={"a": {"Value": {"S": "a1"}}, "b": {"Exists": False}})
    assert ddb.get_item(TableName=lt, Key={"pk": {"S": "p"}, "sk": {"N": "1"}})["Item"] == {
        "pk": {"S": "p"}, "sk": {"N": "1"}}
