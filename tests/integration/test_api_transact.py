"""TransactWriteItems and TransactGetItems."""
import pytest
from botocore.exceptions import ClientError

from conftest import KEY_MISMATCH, assert_error, unique_name


def key(k):
    return {"pk": {"S": k}}


def get(ddb, table, k):
    return ddb.get_item(TableName=table, Key=key(k), ConsistentRead=True).get("Item")


@pytest.fixture
def two(ddb, make_table):
    a, b = make_table(), make_table()
    ddb.put_item(TableName=a, Item={"pk": {"S": "acct1"}, "balance": {"N": "100"}})
    ddb.put_item(TableName=a, Item={"pk": {"S": "acct2"}, "balance": {"N": "5"}})
    ddb.put_item(TableName=b, Item={"pk": {"S": "old"}, "v": {"S": "x"}})
    ddb.put_item(TableName=b, Item={"pk": {"S": "guard"}, "open": {"BOOL": True}})
    return a, b


def test_transact_write_all_kinds(ddb, two):
    a, b = two
    ddb.transact_write_items(TransactItems=[
        {"Update": {"TableName": a, "Key": key("acct1"), "UpdateExpression": "SET balance = balance - :amt",
                    "ConditionExpression": "balance >= :amt", "ExpressionAttributeValues": {":amt": {"N": "30"}}}},
        {"Update": {"TableName": a, "Key": key("acct2"), "UpdateExpression": "ADD balance :amt",
                    "ExpressionAttributeValues": {":amt": {"N": "30"}}}},
        {"Put": {"TableName": b, "Item": {"pk": {"S": "log1"}, "amt": {"N": "30"}},
                 "ConditionExpression": "attribute_not_exists(pk)"}},
        {"Delete": {"TableName": b, "Key": key("old")}},
        {"ConditionCheck": {"TableName": b, "Key": key("guard"), "ConditionExpression": "#o = :t",
                            "ExpressionAttributeNames": {"#o": "open"},
                            "ExpressionAttributeValues": {":t": {"BOOL": True}}}},
    ])
    assert get(ddb, a, "acct1")["balance"] == {"N": "70"}
    assert get(ddb, a, "acct2")["balance"] == {"N": "35"}
    assert get(ddb, b, "log1") == {"pk": {"S": "log1"}, "amt": {"N": "30"}}
    assert get(ddb, b, "old") is None
    assert get(ddb, b, "guard") == {"pk": {"S": "guard"}, "open": {"BOOL": True}}


def test_transact_write_cancelled_applies_nothing(ddb, two):
    a, b = two
    with pytest.raises(ClientError) as ei:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": b, "Item": {"pk": {"S": "new"}}}},
            {"Update": {"TableName": a, "Key": key("acct2"), "UpdateExpression": "SET balance = balance - :amt",
                        "ConditionExpression": "balance >= :amt", "ExpressionAttributeValues": {":amt": {"N": "30"}}}},
            {"Delete": {"TableName": b, "Key": key("old")}},
        ])
    assert_error(ei, "TransactionCanceledException", "Transaction cancelled",
                 "[None, ConditionalCheckFailed, None]")
    reasons = ei.value.response["CancellationReasons"]
    assert [r["Code"] for r in reasons] == ["None", "ConditionalCheckFailed", "None"]
    assert "conditional request failed" in reasons[1]["Message"].lower()
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert get(ddb, b, "new") is None
    assert get(ddb, a, "acct2")["balance"] == {"N": "5"}
    assert get(ddb, b, "old") == {"pk": {"S": "old"}, "v": {"S": "x"}}


def test_transact_condition_check_fails(ddb, two):
    a, b = two
    with pytest.raises(ClientError) as ei:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "acct3"}, "balance": {"N": "0"}}}},
            {"ConditionCheck": {"TableName": b, "Key": key("absent"), "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert_error(ei, "TransactionCanceledException")
    assert [r["Code"] for r in ei.value.response["CancellationReasons"]] == ["None", "ConditionalCheckFailed"]
    assert get(ddb, a, "acct3") is None


def test_transact_return_values_on_condition_check_failure(ddb, two):
    a, _ = two
    with pytest.raises(ClientError) as ei:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "acct1"}}, "ConditionExpression": "attribute_not_exists(pk)",
                     "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}},
        ])
    reasons = ei.value.response["CancellationReasons"]
    assert reasons[0]["Code"] == "ConditionalCheckFailed"
    assert reasons[0]["Item"] == {"pk": {"S": "acct1"}, "balance": {"N": "100"}}


def test_transact_two_operations_on_one_item(ddb, two):
    a, b = two
    with pytest.raises(ClientError) as ei:
        ddb.transact_write_items(TransactItems=[
            {"Put": {"TableName": b, "Item": {"pk": {"S": "other"}}}},
            {"Put": {"TableName": a, "Item": {"pk": {"S": "acct1"}, "balance": {"N": "0"}}}},
            {"ConditionCheck": {"TableName": a, "Key": key("acct1"), "ConditionExpression": "attribute_exists(pk)"}},
        ])
    assert_error(ei, "ValidationException", "Transaction request cannot include multiple operations on one item")
    assert get(ddb, a, "acct1")["balance"] == {"N": "100"}
    assert get(ddb, b, "other") is None


def test_transact_same_key_in_two_tables_is_fine(ddb, two):
    a, b = two
    ddb.transact_write_items(TransactItems=[
        {"Put": {"TableName": a, "Item": {"pk": {"S": "same"}}}},
        {"Put": {"TableName": b, "Item": {"pk": {"S": "same"}}}},
    ])
    assert get(ddb, a, "same") and get(ddb, b, "same")


def test_transact_write_limits_and_errors(ddb_raw, two):
    a, b = two
    items = [{"Put": {"TableName": a, "Item": {"pk": {"S": f"k{i}"}}}} for i in range(100)]
    ddb_raw.transact_write_items(TransactItems=items)
    assert ddb_raw.scan(TableName=a, Select="COUNT")["Count"] == 102
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=items + [{"Put": {"TableName": a, "Item": {"pk": {"S": "k100"}}}}])
    assert_error(ei, "ValidationException", "100")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[])
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "v1"}}}},
            {"Put": {"TableName": a, "Item": {"nokey": {"S": "1"}}}}])
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "v1"}}}},
            {"Delete": {"TableName": a, "Key": {"pk": {"N": "1"}}}}])
    assert_item_validation_error(ei, 1, 2, KEY_MISMATCH)
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "v1"}}}, "Delete": {"TableName": a, "Key": key("v2")}}])
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[
            {"Put": {"TableName": a, "Item": {"pk": {"S": "v1"}}}},
            {"Put": {"TableName": "no-such-table-xyz", "Item": {"pk": {"S": "v1"}}}}])
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_write_items(TransactItems=[
            {"Update": {"TableName": a, "Key": key("v1"), "UpdateExpression": "ADD a :v",
                        "ExpressionAttributeValues": {":v": {"S": "x"}}}}])
    assert_error(ei, "ValidationException", "Invalid UpdateExpression")
    assert get(ddb_raw, a, "v1") is None


def test_transact_client_request_token_is_idempotent(ddb, two):
    a, _ = two
    req = [{"Update": {"TableName": a, "Key": key("acct1"), "UpdateExpression": "ADD balance :one",
                       "ExpressionAttributeValues": {":one": {"N": "1"}}}}]
    token = unique_name("token")   # tokens are account-wide: unique per run
    ddb.transact_write_items(TransactItems=req, ClientRequestToken=token)
    ddb.transact_write_items(TransactItems=req, ClientRequestToken=token)
    assert get(ddb, a, "acct1")["balance"] == {"N": "101"}
    with pytest.raises(ClientError) as ei:
        ddb.transact_write_items(TransactItems=[{"Put": {"TableName": a, "Item": {"pk": {"S": "z"}}}}],
                                 ClientRequestToken=token)
    assert_error(ei, "IdempotentParameterMismatchException")


def test_transact_get(ddb, two):
    a, b = two
    resp = ddb.transact_get_items(TransactItems=[
        {"Get": {"TableName": a, "Key": key("acct1")}},
        {"Get": {"TableName": b, "Key": key("absent")}},
        {"Get": {"TableName": b, "Key": key("guard"), "ProjectionExpression": "#o",
                 "ExpressionAttributeNames": {"#o": "open"}}},
        {"Get": {"TableName": a, "Key": key("acct2"), "ProjectionExpression": "balance"}},
    ])
    # One response per request, in request order; a missing item is an empty entry.
    assert resp["Responses"] == [
        {"Item": {"pk": {"S": "acct1"}, "balance": {"N": "100"}}},
        {},
        {"Item": {"open": {"BOOL": True}}},
        {"Item": {"balance": {"N": "5"}}},
    ]


def test_transact_get_errors(ddb_raw, two):
    a, _ = two
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_get_items(TransactItems=[{"Get": {"TableName": a, "Key": key(f"k{i}")}} for i in range(101)])
    assert_error(ei, "ValidationException", "100")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_get_items(TransactItems=[{"Get": {"TableName": a, "Key": key("acct1")}},
                                                  {"Get": {"TableName": a, "Key": key("acct1")}}])
    assert_error(ei, "ValidationException", "Transaction request cannot include multiple operations on one item")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_get_items(TransactItems=[{"Get": {"TableName": "no-such-table-xyz", "Key": key("a")}}])
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.transact_get_items(TransactItems=[{"Get": {"TableName": a, "Key": key("acct1")}},
                                                  {"Get": {"TableName": a, "Key": {"pk": {"N": "1"}}}}])
    assert_item_validation_error(ei, 1, 2, KEY_MISMATCH)


def assert_item_validation_error(ei, index, count, phrases):
    """An item's invalid key in a transaction: the AWS documentation lists "Type mismatch
    for key" under the ValidationError cancellation reason, so either a
    ValidationException or a TransactionCanceledException whose reason at `index` is
    ValidationError is DynamoDB's answer."""
    code, msg = ei.value.response["Error"]["Code"], ei.value.response["Error"]["Message"]
    if code == "TransactionCanceledException" and "CancellationReasons" in ei.value.response:
        reasons = ei.value.response["CancellationReasons"]
        assert len(reasons) == count
        assert reasons[index]["Code"] == "ValidationError"
        msg = reasons[index]["Message"]
    else:
        assert code in ("ValidationException", "TransactionCanceledException"), (code, msg)
    assert any(p.lower() in msg.lower() for p in phrases), msg
