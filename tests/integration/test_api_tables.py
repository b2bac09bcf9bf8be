"""Control plane: CreateTable, DescribeTable, ListTables, DeleteTable, TTL."""
import pytest
from botocore.exceptions import ClientError

from conftest import assert_error, create_table, unique_name, wait_active, wait_gone


def key_schema(desc):
    return sorted((k["AttributeName"], k["KeyType"]) for k in desc["KeySchema"])


def attr_defs(desc):
    return sorted((a["AttributeName"], a["AttributeType"]) for a in desc["AttributeDefinitions"])


@pytest.mark.parametrize("hash_key,range_key", [
    (("pk", "S"), None),
    (("device", "S"), ("ts", "N")),
    (("id", "N"), None),
    (("blob", "B"), ("part", "B")),
    (("n", "N"), ("s", "S")),
])
def test_create_and_describe(ddb, hash_key, range_key):
    name = unique_name()
    attrs = [{"AttributeName": hash_key[0], "AttributeType": hash_key[1]}]
    schema = [{"AttributeName": hash_key[0], "KeyType": "HASH"}]
    if range_key:
        attrs.append({"AttributeName": range_key[0], "AttributeType": range_key[1]})
        schema.append({"AttributeName": range_key[0], "KeyType": "RANGE"})
    resp = ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                            BillingMode="PAY_PER_REQUEST")
    try:
        created = resp["TableDescription"]
        assert created["TableName"] == name
        assert created["TableStatus"] in ("CREATING", "ACTIVE")
        assert key_schema(created) == sorted((s["AttributeName"], s["KeyType"]) for s in schema)
        desc = wait_active(ddb, name)
        assert desc["TableName"] == name
        assert desc["TableStatus"] == "ACTIVE"
        assert key_schema(desc) == sorted((s["AttributeName"], s["KeyType"]) for s in schema)
        assert attr_defs(desc) == sorted((a["AttributeName"], a["AttributeType"]) for a in attrs)
        # KeySchema lists HASH first, then RANGE.
        assert desc["KeySchema"][0]["KeyType"] == "HASH"
        assert desc["ItemCount"] == 0
        assert desc["TableSizeBytes"] == 0
        assert desc["TableArn"].endswith(":table/" + name)
        assert "CreationDateTime" in desc
    finally:
        ddb.delete_table(TableName=name)


def test_create_existing_table_is_resource_in_use(ddb, table):
    with pytest.raises(ClientError) as ei:
        create_table(ddb, table)
    # AWS says "Table already exists: NAME"; DynamoDB Local words it differently,
    # so only the code is asserted.
    assert_error(ei, "ResourceInUseException")


@pytest.mark.parametrize("attrs,schema", [
    # A key attribute without a definition.
    ([{"AttributeName": "pk", "AttributeType": "S"}],
     [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]),
    # A definition that no key uses.
    ([{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "extra", "AttributeType": "S"}],
     [{"AttributeName": "pk", "KeyType": "HASH"}]),
    # Definition names a different attribute than the key.
    ([{"AttributeName": "other", "AttributeType": "S"}],
     [{"AttributeName": "pk", "KeyType": "HASH"}]),
], ids=["missing-definition", "unused-definition", "different-name"])
def test_create_attribute_definitions_mismatch(ddb, attrs, schema):
    name = unique_name()
    with pytest.raises(ClientError) as ei:
        ddb.create_table(TableName=name, AttributeDefinitions=attrs, KeySchema=schema,
                         BillingMode="PAY_PER_REQUEST")
    assert_error(ei, "ValidationException")
    # AWS writes "AttributeDefinitions" or "attribute definitions", DynamoDB Local
    # "Attribute Definitions".
    assert "attributedefinitions" in ei.value.response["Error"]["Message"].replace(" ", "").lower()


@pytest.mark.parametrize("attrs,schema", [
    # Two HASH keys.
    ([{"AttributeName": "a", "AttributeType": "S"}, {"AttributeName": "b", "AttributeType": "S"}],
     [{"AttributeName": "a", "KeyType": "HASH"}, {"AttributeName": "b", "KeyType": "HASH"}]),
    # A key type that is not S, N or B.
    ([{"AttributeName": "a", "AttributeType": "BOOL"}], [{"AttributeName": "a", "KeyType": "HASH"}]),
    # RANGE without HASH.
    ([{"AttributeName": "a", "AttributeType": "S"}], [{"AttributeName": "a", "KeyType": "RANGE"}]),
], ids=["two-hash", "bool-key", "range-only"])
def test_create_invalid_key_schema(ddb, attrs, schema):
    with pytest.raises(ClientError) as ei:
        ddb.create_table(TableName=unique_name(), AttributeDefinitions=attrs, KeySchema=schema,
                         BillingMode="PAY_PER_REQUEST")
    assert_error(ei, "ValidationException")


@pytest.mark.parametrize("name", ["ab", "bad name!", "x" * 256], ids=["short", "chars", "long"])
def test_create_invalid_table_name(ddb_raw, name):
    with pytest.raises(ClientError) as ei:
        ddb_raw.create_table(TableName=name,
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         BillingMode="PAY_PER_REQUEST")
    # AWS: "Value '...' at 'tableName' failed to satisfy constraint"; DynamoDB
    # Local: "Invalid table/index name".
    assert_error(ei, "ValidationException", "table")


def test_describe_missing_table(ddb):
    with pytest.raises(ClientError) as ei:
        ddb.describe_table(TableName=unique_name("missing"))
    assert_error(ei, "ResourceNotFoundException")


def test_item_count_is_approximate_but_zero_when_empty(ddb, table):
    assert ddb.describe_table(TableName=table)["Table"]["ItemCount"] == 0
    for i in range(3):
        ddb.put_item(TableName=table, Item={"pk": {"S": f"k{i}"}})
    # DynamoDB refreshes ItemCount about every six hours, so only its range is promised.
    count = ddb.describe_table(TableName=table)["Table"]["ItemCount"]
    assert 0 <= count <= 3


def test_list_tables_pagination(ddb, make_table):
    prefix = unique_name("lt")
    names = sorted(make_table(name=f"{prefix}-{i:02d}") for i in range(12))
    seen, pages = [], 0
    start = prefix  # sorts just before every name with this prefix
    while True:
        resp = ddb.list_tables(Limit=5, ExclusiveStartTableName=start)
        pages += 1
        page = resp["TableNames"]
        assert len(page) <= 5
        assert page == sorted(page)
        ours = [n for n in page if n.startswith(prefix + "-")]
        seen += ours
        if "LastEvaluatedTableName" not in resp or len(ours) < len(page):
            break
        assert len(page) == 5
        assert resp["LastEvaluatedTableName"] == page[-1]
        start = resp["LastEvaluatedTableName"]
        assert pages < 10
    assert seen == names
    assert pages == 3


def test_list_tables_includes_new_table(ddb, table):
    names = []
    kwargs = {}
    while True:
        resp = ddb.list_tables(**kwargs)
        names += resp["TableNames"]
        if "LastEvaluatedTableName" not in resp:
            break
        kwargs["ExclusiveStartTableName"] = resp["LastEvaluatedTableName"]
    assert table in names


def test_list_tables_limit_out_of_range(ddb):
    with pytest.raises(ClientError) as ei:
        ddb.list_tables(Limit=101)
    assert_error(ei, "ValidationException", "limit")


def test_delete_table(ddb):
    name = unique_name()
    create_table(ddb, name)
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    resp = ddb.delete_table(TableName=name)
    assert resp["TableDescription"]["TableName"] == name
    wait_gone(ddb, name)
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=name, Item={"pk": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb.delete_table(TableName=name)
    assert_error(ei, "ResourceNotFoundException")
    # The name is free again, and the new table starts empty.
    create_table(ddb, name)
    try:
        assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "a"}})
        assert ddb.scan(TableName=name)["Count"] == 0
    finally:
        ddb.delete_table(TableName=name)


def test_time_to_live(ddb, table):
    resp = ddb.describe_time_to_live(TableName=table)
    assert resp["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    with pytest.raises(ClientError) as ei:
        ddb.update_time_to_live(TableName=table,
                                TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert_error(ei, "ValidationException", "TimeToLive is already disabled")
    resp = ddb.update_time_to_live(TableName=table,
                                   TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    assert resp["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}
    desc = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert desc["TimeToLiveStatus"] in ("ENABLING", "ENABLED")
    assert desc["AttributeName"] == "expires"
    with pytest.raises(ClientError) as ei:
        ddb.update_time_to_live(TableName=table,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    assert_error(ei, "ValidationException", "TimeToLive is already enabled")
    with pytest.raises(ClientError) as ei:
        ddb.update_time_to_live(TableName=table,
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": "other"})
    assert_error(ei, "ValidationException", "TimeToLive is active on a different AttributeName")
    try:
        resp = ddb.update_time_to_live(TableName=table,
                                       TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    except ClientError as e:
        # AWS allows one TTL change per table per hour or so, and says so.
        assert e.response["Error"]["Code"] == "ValidationException"
        assert "multiple times" in e.response["Error"]["Message"]
        return
    assert resp["TimeToLiveSpecification"] == {"Enabled": False, "AttributeName": "expires"}
    desc = ddb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    assert desc["TimeToLiveStatus"] in ("DISABLING", "DISABLED")


def test_time_to_live_missing_table(ddb):
    with pytest.raises(ClientError) as ei:
        ddb.describe_time_to_live(TableName=unique_name("missing"))
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb.update_time_to_live(TableName=unique_name("missing"),
                                TimeToLiveSpecification={"Enabled": True, "AttributeName": "x"})
    assert_error(ei, "ResourceNotFoundException")
