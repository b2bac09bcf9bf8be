"""PutItem, GetItem, DeleteItem: attribute types, numbers, conditions, ReturnValues, validation."""
import pytest
from botocore.exceptions import ClientError

from conftest import KEY_MISMATCH, assert_error, assert_error_one_of, error_of

FULL_ITEM = {
    "pk": {"S": "all-types"},
    "s": {"S": "héllo wörld ✓"},
    "n": {"N": "-12.5"},
    "b": {"B": bytes(range(256))},
    "t": {"BOOL": True},
    "f": {"BOOL": False},
    "z": {"NULL": True},
    "m": {"M": {"inner": {"S": "x"}, "deep": {"M": {"n": {"N": "1"}, "l": {"L": [{"S": "a"}]}}},
                "empty": {"M": {}}}},
    "l": {"L": [{"S": "a"}, {"N": "2"}, {"L": []}, {"M": {"k": {"BOOL": False}}}, {"NULL": True}]},
    "ss": {"SS": ["b", "a", "c"]},
    "ns": {"NS": ["3", "-1", "2.5"]},
    "bs": {"BS": [b"\x00", b"\xff", b"ab"]},
    "es": {"S": ""},
    "eb": {"B": b""},
    "el": {"L": []},
}


def canon(value):
    """A comparable form of an attribute value: sets become sorted lists."""
    (t, v), = value.items()
    if t in ("SS", "BS"):
        return {t: sorted(v)}
    if t == "NS":
        return {t: sorted(v, key=lambda x: float(x))}
    if t == "M":
        return {t: {k: canon(x) for k, x in v.items()}}
    if t == "L":
        return {t: [canon(x) for x in v]}
    return value


def canon_item(item):
    return {k: canon(v) for k, v in item.items()}


def test_put_get_every_type(ddb, table):
    assert ddb.put_item(TableName=table, Item=FULL_ITEM).get("Attributes") is None
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "all-types"}})["Item"]
    assert canon_item(got) == canon_item(FULL_ITEM)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "all-types"}}, ConsistentRead=True)["Item"]
    assert canon_item(got) == canon_item(FULL_ITEM)


def test_get_missing_item_has_no_item(ddb, table):
    resp = ddb.get_item(TableName=table, Key={"pk": {"S": "nothing"}})
    assert "Item" not in resp


def test_put_replaces_whole_item(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "x": {"S": "1"}, "y": {"S": "2"}})
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "z": {"S": "3"}})
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"] == {"pk": {"S": "a"}, "z": {"S": "3"}}


@pytest.mark.parametrize("key_type,key", [
    ("S", {"S": "ключ ✓"}),
    ("N", {"N": "-3.25"}),
    ("B", {"B": b"\x00\x01\xfe\xff"}),
])
def test_key_types(ddb, make_table, key_type, key):
    t = make_table(hash_key=("id", key_type))
    ddb.put_item(TableName=t, Item={"id": key, "v": {"S": "x"}})
    assert ddb.get_item(TableName=t, Key={"id": key})["Item"] == {"id": key, "v": {"S": "x"}}
    ddb.delete_item(TableName=t, Key={"id": key})
    assert "Item" not in ddb.get_item(TableName=t, Key={"id": key})


def test_number_key_equality_is_numeric(ddb, make_table):
    t = make_table(hash_key=("id", "N"))
    ddb.put_item(TableName=t, Item={"id": {"N": "1.50"}, "v": {"S": "x"}})
    for spelling in ("1.5", "1.500", "15E-1", "0.15e1"):
        got = ddb.get_item(TableName=t, Key={"id": {"N": spelling}})["Item"]
        assert got == {"id": {"N": "1.5"}, "v": {"S": "x"}}, spelling


def test_hash_range_items_are_distinct(ddb, table_hr):
    for sk in ("1", "2", "10"):
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "p"}, "sk": {"N": sk}, "v": {"S": sk}})
    for sk in ("1", "2", "10"):
        got = ddb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"N": sk}})["Item"]
        assert got["v"] == {"S": sk}
    assert "Item" not in ddb.get_item(TableName=table_hr, Key={"pk": {"S": "p"}, "sk": {"N": "3"}})


@pytest.mark.parametrize("given,stored", [
    ("1.50", "1.5"),
    ("0001", "1"),
    ("-0", "0"),
    ("0.0", "0"),
    ("1e2", "100"),
    ("-1.0E-2", "-0.01"),
    (".5", "0.5"),
    ("12345678901234567890123456789012345678", "12345678901234567890123456789012345678"),
    ("-0.12345678901234567890123456789012345678", "-0.12345678901234567890123456789012345678"),
    ("1234567890123456789012345678901234567800000", "1234567890123456789012345678901234567800000"),
    ("1E+125", "1" + "0" * 125),
    ("9.9999999999999999999999999999999999999E+125", "9" * 38 + "0" * 88),
    ("-9.9999999999999999999999999999999999999E+125", "-" + "9" * 38 + "0" * 88),
    ("1E-130", "0." + "0" * 129 + "1"),
    ("-1E-130", "-0." + "0" * 129 + "1"),
])
def test_number_normalisation(ddb, table, given, stored):
    ddb.put_item(TableName=table, Item={"pk": {"S": "n"}, "v": {"N": given}, "set": {"NS": [given, "7"]}})
    item = ddb.get_item(TableName=table, Key={"pk": {"S": "n"}})["Item"]
    assert item["v"] == {"N": stored}
    assert sorted(item["set"]["NS"]) == sorted([stored, "7"])


@pytest.mark.parametrize("given,phrase", [
    ("123456789012345678901234567890123456789", "38"),   # 39 significant digits
    ("1.23456789012345678901234567890123456789", "38"),
    ("1E+126", "overflow"),
    ("1E-131", "underflow"),
    ("abc", "convert"),    # "cannot be converted to a numeric value" / "into a number"
    ("", "convert"),
])
def test_invalid_numbers(ddb_raw, table, given, phrase):
    with pytest.raises(ClientError) as ei:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "n"}, "v": {"N": given}})
    # AWS: "Attempting to store more than 38 significant digits in a Number";
    # DynamoDB Local: "DynamoDB only supports precision up to 38 digits".
    assert_error(ei, "ValidationException", phrase)


def test_missing_key_attribute(ddb, table_hr):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table_hr, Item={"pk": {"S": "a"}, "v": {"S": "x"}})
    # AWS: "Missing the key sk in the item"; DynamoDB Local: "One of the required keys was not given a value".
    assert_error(ei, "ValidationException", "key")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table_hr, Key={"pk": {"S": "a"}})
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName=table_hr, Key={"pk": {"S": "a"}})
    assert_error(ei, "ValidationException")


def test_wrong_key_type(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"N": "1"}})
    assert_error(ei, "ValidationException", "Type mismatch for key")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table, Key={"pk": {"B": b"1"}})
    assert_error_one_of(ei, "ValidationException", KEY_MISMATCH)
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName=table, Key={"pk": {"N": "1"}})
    assert_error_one_of(ei, "ValidationException", KEY_MISMATCH)


def test_key_with_extra_attribute(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}, "x": {"S": "b"}})
    # AWS: "The provided key element does not match the schema"; DynamoDB Local
    # words it differently.
    assert_error(ei, "ValidationException")


def test_empty_string_key(ddb, table, make_table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": ""}})
    assert_error(ei, "ValidationException", "empty string")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table, Key={"pk": {"S": ""}})
    assert_error(ei, "ValidationException", "empty string")
    tb = make_table(hash_key=("id", "B"))
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=tb, Item={"id": {"B": b""}})
    assert_error(ei, "ValidationException", "empty")


def test_empty_string_and_binary_allowed_outside_keys(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "s": {"S": ""}, "b": {"B": b""},
                                        "m": {"M": {"e": {"S": ""}}}})
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]
    assert got == {"pk": {"S": "a"}, "s": {"S": ""}, "b": {"B": b""}, "m": {"M": {"e": {"S": ""}}}}


@pytest.mark.parametrize("value", [{"SS": []}, {"NS": []}, {"BS": []}], ids=["SS", "NS", "BS"])
def test_empty_set(ddb_raw, table, value):
    with pytest.raises(ClientError) as ei:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}, "s": value})
    assert_error(ei, "ValidationException", "empty")


@pytest.mark.parametrize("value", [
    {"SS": ["a", "b", "a"]},
    {"NS": ["1", "2", "1"]},
    {"NS": ["1", "1.0"]},          # equal numbers spelled differently
    {"BS": [b"x", b"x"]},
], ids=["SS", "NS", "NS-numeric", "BS"])
def test_duplicate_set_members(ddb, table, value):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "s": value})
    assert_error(ei, "ValidationException", "contains duplicates")


@pytest.mark.parametrize("value", [
    {"S": "a", "N": "1"},     # two types in one value
    {},                       # no type
], ids=["two-types", "no-type"])
def test_malformed_attribute_value(ddb_raw, table, value):
    with pytest.raises(ClientError) as ei:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}, "v": value})
    code, _ = error_of(ei)
    assert code in ("ValidationException", "SerializationException")


def test_item_size_limit(ddb, table):
    # pk (2 bytes) + "a" (1) + "d" (1) + 409,000: under 400 KB (409,600 bytes).
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "d": {"S": "x" * 409000}})
    assert len(ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})["Item"]["d"]["S"]) == 409000
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "b"}, "d": {"S": "x" * 409600}})
    assert_error(ei, "ValidationException", "Item size has exceeded the maximum allowed size")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "b"}})
    # Attribute names count too.
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "c"}, "n" * 5000: {"S": "x" * 405000}})
    assert_error(ei, "ValidationException", "Item size has exceeded the maximum allowed size")


def test_key_size_limits(ddb, table, make_table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "k" * 2048}})
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "k" * 2049}})
    assert_error(ei, "ValidationException", "2048")
    t = make_table(range_key=("sk", "S"))
    ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1024}})
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=t, Item={"pk": {"S": "p"}, "sk": {"S": "s" * 1025}})
    assert_error(ei, "ValidationException", "1024")


def test_missing_table(ddb):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName="no-such-table-xyz", Item={"pk": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName="no-such-table-xyz", Key={"pk": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName="no-such-table-xyz", Key={"pk": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")


# --- conditions ---------------------------------------------------------------

def test_put_attribute_not_exists_twice(ddb, table):
    item = {"pk": {"S": "once"}, "v": {"N": "1"}}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="attribute_not_exists(pk)")
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "once"}, "v": {"N": "2"}},
                     ConditionExpression="attribute_not_exists(pk)")
    assert_error(ei, "ConditionalCheckFailedException", "The conditional request failed")
    assert ei.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "once"}})["Item"] == item


def test_delete_with_condition(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "d"}, "v": {"N": "5"}})
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ConditionExpression="v > :x",
                        ExpressionAttributeValues={":x": {"N": "5"}})
    assert_error(ei, "ConditionalCheckFailedException")
    assert "Item" in ddb.get_item(TableName=table, Key={"pk": {"S": "d"}})
    ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ConditionExpression="v >= :x",
                    ExpressionAttributeValues={":x": {"N": "5"}})
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "d"}})
    # A condition on a missing item sees no attributes.
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "d"}}, ConditionExpression="attribute_exists(pk)")
    assert_error(ei, "ConditionalCheckFailedException")


COND_ITEM = {
    "pk": {"S": "c"}, "s": {"S": "apple pie"}, "n": {"N": "10"}, "b": {"B": b"\x01\x02"},
    "t": {"BOOL": True}, "z": {"NULL": True}, "l": {"L": [{"S": "x"}, {"N": "1"}]},
    "m": {"M": {"a": {"M": {"b": {"N": "3"}}}, "name with space": {"S": "v"}}},
    "ss": {"SS": ["red", "green"]}, "ns": {"NS": ["1", "2", "3"]},
}


@pytest.mark.parametrize("expr,values,expected", [
    ("n = :v", {":v": {"N": "10.0"}}, True),
    ("n <> :v", {":v": {"N": "10"}}, False),
    ("n < :v", {":v": {"N": "9"}}, False),
    ("n <= :v", {":v": {"N": "10"}}, True),
    ("n > :v", {":v": {"N": "9.99"}}, True),
    ("n >= :v", {":v": {"N": "11"}}, False),
    ("n BETWEEN :a AND :b", {":a": {"N": "10"}, ":b": {"N": "20"}}, True),
    ("n IN (:a, :b)", {":a": {"N": "1"}, ":b": {"N": "10"}}, True),
    ("s < :v", {":v": {"S": "b"}}, True),
    ("n = :v", {":v": {"S": "10"}}, False),                 # different types never equal
    ("n < :v", {":v": {"S": "z"}}, False),                  # nor compare
    ("attribute_exists(m.a.b)", {}, True),
    ("attribute_not_exists(m.a.c)", {}, True),
    ("attribute_exists(l[1])", {}, True),
    ("attribute_exists(l[2])", {}, False),
    ("attribute_type(z, :t)", {":t": {"S": "NULL"}}, True),
    ("attribute_type(ss, :t)", {":t": {"S": "SS"}}, True),
    ("attribute_type(n, :t)", {":t": {"S": "S"}}, False),
    ("begins_with(s, :p)", {":p": {"S": "app"}}, True),
    ("begins_with(s, :p)", {":p": {"S": "pie"}}, False),
    ("begins_with(b, :p)", {":p": {"B": b"\x01"}}, True),
    ("contains(s, :p)", {":p": {"S": "le p"}}, True),
    ("contains(ss, :p)", {":p": {"S": "red"}}, True),
    ("contains(ns, :p)", {":p": {"N": "4"}}, False),
    ("contains(l, :p)", {":p": {"N": "1"}}, True),
    ("size(s) = :v", {":v": {"N": "9"}}, True),
    ("size(l) = :v", {":v": {"N": "2"}}, True),
    ("size(ss) > :v", {":v": {"N": "1"}}, True),
    ("size(m) = :v", {":v": {"N": "2"}}, True),
    ("size(b) = :v", {":v": {"N": "2"}}, True),
    ("t = :v AND NOT n = :w", {":v": {"BOOL": True}, ":w": {"N": "1"}}, True),
    ("n = :v OR s = :w", {":v": {"N": "1"}, ":w": {"S": "apple pie"}}, True),
    ("NOT (n = :v OR s = :w)", {":v": {"N": "1"}, ":w": {"S": "apple pie"}}, False),
    ("m.a.b = :v", {":v": {"N": "3"}}, True),
    ("l[0] = :v", {":v": {"S": "x"}}, True),
    ("m.#sp = :v", {":v": {"S": "v"}}, True),
    ("nope = :v", {":v": {"S": "x"}}, False),
    ("nope <> :v", {":v": {"S": "x"}}, True),
])
def test_condition_functions(ddb, table, expr, values, expected):
    ddb.put_item(TableName=table, Item=COND_ITEM)
    kw = {"ConditionExpression": expr}
    if values:
        kw["ExpressionAttributeValues"] = values
    if "#sp" in expr:
        kw["ExpressionAttributeNames"] = {"#sp": "name with space"}
    if expected:
        ddb.put_item(TableName=table, Item=COND_ITEM, **kw)
    else:
        with pytest.raises(ClientError) as ei:
            ddb.put_item(TableName=table, Item=COND_ITEM, **kw)
        assert_error(ei, "ConditionalCheckFailedException")


# --- ReturnValues -------------------------------------------------------------

def test_put_return_values(ddb, table):
    resp = ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "1"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    resp = ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "2"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": {"S": "r"}, "v": {"N": "1"}}
    resp = ddb.put_item(TableName=table, Item={"pk": {"S": "r"}, "v": {"N": "3"}}, ReturnValues="NONE")
    assert "Attributes" not in resp
    for bad in ("ALL_NEW", "UPDATED_OLD", "UPDATED_NEW"):
        with pytest.raises(ClientError) as ei:
            ddb.put_item(TableName=table, Item={"pk": {"S": "r"}}, ReturnValues=bad)
        # AWS: "ReturnValues can only be ALL_OLD or NONE".
        assert_error(ei, "ValidationException")
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "r"}})["Item"]["v"] == {"N": "3"}


def test_delete_return_values(ddb, table):
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "gone"}}, ReturnValues="ALL_OLD")
    assert "Attributes" not in resp
    ddb.put_item(TableName=table, Item={"pk": {"S": "gone"}, "v": {"SS": ["a"]}})
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "gone"}}, ReturnValues="ALL_OLD")
    assert resp["Attributes"] == {"pk": {"S": "gone"}, "v": {"SS": ["a"]}}
    with pytest.raises(ClientError) as ei:
        ddb.delete_item(TableName=table, Key={"pk": {"S": "gone"}}, ReturnValues="ALL_NEW")
    assert_error(ei, "ValidationException")


def test_delete_missing_item_is_not_an_error(ddb, table):
    resp = ddb.delete_item(TableName=table, Key={"pk": {"S": "never"}})
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200


# --- GetItem projection -------------------------------------------------------

def test_get_projection_expression(ddb, table):
    ddb.put_item(TableName=table, Item=COND_ITEM)
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "c"}},
                       ProjectionExpression="n, m.a.b, l[1], #sp, nothing",
                       ExpressionAttributeNames={"#sp": "ss"})["Item"]
    assert canon_item(got) == canon_item({
        "n": {"N": "10"},
        "m": {"M": {"a": {"M": {"b": {"N": "3"}}}}},
        "l": {"L": [{"N": "1"}]},
        "ss": {"SS": ["red", "green"]},
    })
    # Only attributes that do not exist: an empty item, not a missing one.
    resp = ddb.get_item(TableName=table, Key={"pk": {"S": "c"}}, ProjectionExpression="nothing")
    assert resp["Item"] == {}


# --- expression validation ----------------------------------------------------

def test_reserved_word_used_bare(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="status = :v",
                     ExpressionAttributeValues={":v": {"S": "x"}})
    assert_error(ei, "ValidationException", "Invalid ConditionExpression", "reserved keyword", "status")
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table, Key={"pk": {"S": "a"}}, ProjectionExpression="pk, name")
    assert_error(ei, "ValidationException", "Invalid ProjectionExpression", "reserved keyword", "name")
    # With a placeholder it is fine.
    ddb.put_item(TableName=table, Item={"pk": {"S": "a"}, "status": {"S": "x"}},
                 ConditionExpression="attribute_not_exists(#s)", ExpressionAttributeNames={"#s": "status"})


def test_unused_expression_attribute_values(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)",
                     ExpressionAttributeValues={":x": {"S": "1"}})
    assert_error(ei, "ValidationException",
                 "Value provided in ExpressionAttributeValues unused in expressions", ":x")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})


def test_unused_expression_attribute_names(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="attribute_not_exists(pk)",
                     ExpressionAttributeNames={"#x": "y"})
    assert_error(ei, "ValidationException",
                 "Value provided in ExpressionAttributeNames unused in expressions", "#x")


def test_undefined_placeholders(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="pk = :v")
    assert_error(ei, "ValidationException", "Invalid ConditionExpression",
                 "An expression attribute value used in expression is not defined", ":v")
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="#n = :v",
                     ExpressionAttributeValues={":v": {"S": "1"}})
    assert_error(ei, "ValidationException", "Invalid ConditionExpression",
                 "An expression attribute name used in the document path is not defined", "#n")


@pytest.mark.parametrize("expr", ["a = ", "a = = :v", "(a = :v", "a == :v", "attribute_exists()", "a = :v AND"])
def test_condition_syntax_error(ddb, table, expr):
    kw = {"ExpressionAttributeValues": {":v": {"S": "x"}}} if ":v" in expr else {}
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression=expr, **kw)
    assert_error(ei, "ValidationException", "Invalid ConditionExpression")
    assert "Item" not in ddb.get_item(TableName=table, Key={"pk": {"S": "a"}})


def test_condition_unknown_function(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="nofunc(pk)")
    assert_error(ei, "ValidationException", "Invalid ConditionExpression", "nofunc")


def test_expression_attribute_values_must_be_valid(ddb_raw, table):
    with pytest.raises(ClientError) as ei:
        ddb_raw.put_item(TableName=table, Item={"pk": {"S": "a"}}, ConditionExpression="pk = :v",
                         ExpressionAttributeValues={":v": {"NS": []}})
    assert_error(ei, "ValidationException")


def test_projection_overlapping_paths(ddb, table):
    ddb.put_item(TableName=table, Item=COND_ITEM)
    with pytest.raises(ClientError) as ei:
        ddb.get_item(TableName=table, Key={"pk": {"S": "c"}}, ProjectionExpression="m, m.a")
    assert_error(ei, "ValidationException", "Invalid ProjectionExpression", "Two document paths overlap")


def test_unicode_attribute_names(ddb, table):
    item = {"pk": {"S": "u"}, "température": {"N": "21.5"}, "名前": {"S": "センサー"}, "emoji 😀": {"BOOL": True}}
    ddb.put_item(TableName=table, Item=item)
    assert ddb.get_item(TableName=table, Key={"pk": {"S": "u"}})["Item"] == item
    got = ddb.get_item(TableName=table, Key={"pk": {"S": "u"}}, ProjectionExpression="#a, #b",
                       ExpressionAttributeNames={"#a": "名前", "#b": "emoji 😀"})["Item"]
    assert got == {"名前": {"S": "センサー"}, "emoji 😀": {"BOOL": True}}
    ddb.put_item(TableName=table, Item=item, ConditionExpression="#t > :v",
                 ExpressionAttributeNames={"#t": "température"}, ExpressionAttributeValues={":v": {"N": "20"}})
