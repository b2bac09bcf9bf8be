"""UpdateItem: SET, REMOVE, ADD, DELETE, functions, nested paths, ReturnValues, errors."""
import pytest
from botocore.exceptions import ClientError

from conftest import KEY_MISMATCH, assert_error, assert_error_one_of

KEY = {"pk": {"S": "u"}}

BASE = {
    "pk": {"S": "u"},
    "n": {"N": "10"},
    "s": {"S": "text"},
    "l": {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}]},
    "m": {"M": {"x": {"M": {"y": {"N": "1"}}}, "keep": {"S": "k"}}},
    "ss": {"SS": ["a", "b", "c"]},
    "ns": {"NS": ["1", "2"]},
    "bs": {"BS": [b"\x01", b"\x02"]},
}


def get(ddb, table):
    return ddb.get_item(TableName=table, Key=KEY, ConsistentRead=True).get("Item")


def sets_sorted(item):
    out = {}
    for k, v in item.items():
        (t, x), = v.items()
        out[k] = {t: sorted(x)} if t in ("SS", "NS", "BS") else v
    return out


@pytest.fixture
def base(ddb, table):
    ddb.put_item(TableName=table, Item=BASE)
    return table


def update(ddb, table, expr, values=None, names=None, **kw):
    args = {"TableName": table, "Key": KEY, "UpdateExpression": expr}
    if values:
        args["ExpressionAttributeValues"] = values
    if names:
        args["ExpressionAttributeNames"] = names
    args.update(kw)
    return ddb.update_item(**args)


def test_update_creates_missing_item(ddb, table):
    resp = update(ddb, table, "SET a = :v", {":v": {"S": "x"}}, ReturnValues="ALL_NEW")
    assert resp["Attributes"] == {"pk": {"S": "u"}, "a": {"S": "x"}}
    assert get(ddb, table) == {"pk": {"S": "u"}, "a": {"S": "x"}}


def test_update_without_expression_creates_key_only_item(ddb, table):
    ddb.update_item(TableName=table, Key=KEY)
    assert get(ddb, table) == KEY


def test_set_and_arithmetic(ddb, base):
    update(ddb, base, "SET s = :s, n = n + :one, n2 = n - :big, #c = :c",
           {":s": {"S": "new"}, ":one": {"N": "1"}, ":big": {"N": "10.5"}, ":c": {"BOOL": False}},
           names={"#c": "count"})
    item = get(ddb, base)
    assert item["s"] == {"S": "new"}
    assert item["n"] == {"N": "11"}
    assert item["n2"] == {"N": "-0.5"}     # operands are read before any SET applies
    assert item["count"] == {"BOOL": False}


def test_set_arithmetic_is_exact_decimal(ddb, table):
    update(ddb, table, "SET v = :a + :b", {":a": {"N": "0.1"}, ":b": {"N": "0.2"}})
    assert get(ddb, table)["v"] == {"N": "0.3"}
    update(ddb, table, "SET w = :a + :b",
           {":a": {"N": "99999999999999999999999999999999999999"}, ":b": {"N": "-1"}})
    assert get(ddb, table)["w"] == {"N": "99999999999999999999999999999999999998"}


def test_set_nested_paths(ddb, base):
    update(ddb, base, "SET m.x.y = :v, m.x.z = :w, l[1] = :b, m.#k = :k",
           {":v": {"N": "2"}, ":w": {"L": []}, ":b": {"S": "B"}, ":k": {"NULL": True}},
           names={"#k": "keep"})
    item = get(ddb, base)
    assert item["m"] == {"M": {"x": {"M": {"y": {"N": "2"}, "z": {"L": []}}}, "keep": {"NULL": True}}}
    assert item["l"] == {"L": [{"S": "a"}, {"S": "B"}, {"S": "c"}]}


def test_set_list_index_past_end_appends(ddb, base):
    update(ddb, base, "SET l[10] = :v", {":v": {"S": "z"}})
    assert get(ddb, base)["l"] == {"L": [{"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "z"}]}


def test_list_append(ddb, base):
    update(ddb, base, "SET l = list_append(l, :tail)", {":tail": {"L": [{"S": "d"}]}})
    update(ddb, base, "SET l = list_append(:head, l)", {":head": {"L": [{"N": "0"}]}})
    assert get(ddb, base)["l"] == {"L": [{"N": "0"}, {"S": "a"}, {"S": "b"}, {"S": "c"}, {"S": "d"}]}
    # list_append of a missing list together with if_not_exists: the usual idiom.
    update(ddb, base, "SET nl = list_append(if_not_exists(nl, :empty), :v)",
           {":empty": {"L": []}, ":v": {"L": [{"S": "first"}]}})
    update(ddb, base, "SET nl = list_append(if_not_exists(nl, :empty), :v)",
           {":empty": {"L": []}, ":v": {"L": [{"S": "second"}]}})
    assert get(ddb, base)["nl"] == {"L": [{"S": "first"}, {"S": "second"}]}


def test_if_not_exists(ddb, base):
    update(ddb, base, "SET n = if_not_exists(n, :z), c = if_not_exists(c, :z) + :one",
           {":z": {"N": "0"}, ":one": {"N": "1"}})
    item = get(ddb, base)
    assert item["n"] == {"N": "10"}
    assert item["c"] == {"N": "1"}


def test_remove(ddb, base):
    update(ddb, base, "REMOVE s, l[0], l[2], m.x.y, nothing")
    item = get(ddb, base)
    assert "s" not in item
    assert item["l"] == {"L": [{"S": "b"}]}
    assert item["m"] == {"M": {"x": {"M": {}}, "keep": {"S": "k"}}}


def test_add_numbers_and_sets(ddb, base):
    update(ddb, base, "ADD n :d, fresh :d, ss :more, ns :nmore, bs :bmore, newset :more",
           {":d": {"N": "-2.5"}, ":more": {"SS": ["c", "d"]}, ":nmore": {"NS": ["3", "2.0"]},
            ":bmore": {"BS": [b"\x03"]}})
    item = sets_sorted(get(ddb, base))
    assert item["n"] == {"N": "7.5"}
    assert item["fresh"] == {"N": "-2.5"}
    assert item["ss"] == {"SS": ["a", "b", "c", "d"]}
    assert item["ns"] == {"NS": ["1", "2", "3"]}
    assert item["bs"] == {"BS": [b"\x01", b"\x02", b"\x03"]}
    assert item["newset"] == {"SS": ["c", "d"]}


def test_delete_from_sets(ddb, base):
    update(ddb, base, "DELETE ss :a, ns :all, nothing :a", {":a": {"SS": ["a", "zz"]}, ":all": {"NS": ["1", "2"]}})
    item = sets_sorted(get(ddb, base))
    assert item["ss"] == {"SS": ["b", "c"]}
    assert "ns" not in item                # a set emptied by DELETE disappears
    assert "nothing" not in item


def test_all_clauses_together(ddb, base):
    update(ddb, base, "SET a = :a REMOVE s ADD n :one DELETE ss :b",
           {":a": {"S": "A"}, ":one": {"N": "1"}, ":b": {"SS": ["b"]}})
    item = sets_sorted(get(ddb, base))
    assert item["a"] == {"S": "A"} and "s" not in item
    assert item["n"] == {"N": "11"} and item["ss"] == {"SS": ["a", "c"]}


def test_return_values(ddb, base):
    resp = update(ddb, base, "SET n = n + :one, m.x.y = :v, brand_new = :v", {":one": {"N": "1"}, ":v": {"S": "v"}},
                  ReturnValues="UPDATED_OLD")
    # Only the updated attributes that existed before, with their old values. For a
    # nested path the documentation promises the attribute; DynamoDB returns just the
    # updated path, DynamoDB Local the whole top-level attribute, so only the path is
    # asserted.
    attrs = resp["Attributes"]
    assert sorted(attrs) == ["m", "n"]
    assert attrs["n"] == {"N": "10"}
    assert attrs["m"]["M"]["x"]["M"]["y"] == {"N": "1"}
    resp = update(ddb, base, "SET n = n + :one, m.x.y = :v", {":one": {"N": "1"}, ":v": {"S": "w"}},
                  ReturnValues="UPDATED_NEW")
    attrs = resp["Attributes"]
    assert sorted(attrs) == ["m", "n"]
    assert attrs["n"] == {"N": "12"}
    assert attrs["m"]["M"]["x"]["M"]["y"] == {"S": "w"}
    resp = update(ddb, base, "REMOVE s", ReturnValues="ALL_OLD")
    assert resp["Attributes"]["s"] == {"S": "text"} and resp["Attributes"]["n"] == {"N": "12"}
    resp = update(ddb, base, "SET s = :s", {":s": {"S": "back"}}, ReturnValues="ALL_NEW")
    assert sets_sorted(resp["Attributes"]) == sets_sorted(get(ddb, base))
    resp = update(ddb, base, "REMOVE s", ReturnValues="UPDATED_NEW")
    assert "Attributes" not in resp or resp["Attributes"] == {}
    resp = update(ddb, base, "SET s = :s", {":s": {"S": "x"}}, ReturnValues="NONE")
    assert "Attributes" not in resp


def test_update_with_condition(ddb, base):
    with pytest.raises(ClientError) as ei:
        update(ddb, base, "SET n = :v", {":v": {"N": "0"}, ":lim": {"N": "100"}}, ConditionExpression="n > :lim")
    assert_error(ei, "ConditionalCheckFailedException")
    assert get(ddb, base)["n"] == {"N": "10"}
    update(ddb, base, "SET n = :v", {":v": {"N": "0"}, ":lim": {"N": "5"}}, ConditionExpression="n > :lim")
    assert get(ddb, base)["n"] == {"N": "0"}
    # The usual optimistic-locking idiom on a missing item.
    with pytest.raises(ClientError) as ei:
        ddb.update_item(TableName=base, Key={"pk": {"S": "other"}}, UpdateExpression="SET v = :v",
                        ConditionExpression="attribute_exists(pk)", ExpressionAttributeValues={":v": {"N": "1"}})
    assert_error(ei, "ConditionalCheckFailedException")
    assert "Item" not in ddb.get_item(TableName=base, Key={"pk": {"S": "other"}})


# --- errors -------------------------------------------------------------------

@pytest.mark.parametrize("expr,values,phrases", [
    ("SET pk = :v", {":v": {"S": "x"}}, ("Cannot update attribute pk", "part of the key")),
    ("SET a = :v REMOVE a", {":v": {"S": "x"}}, ("Two document paths overlap",)),
    ("SET m.x = :v, m.x.y = :v", {":v": {"S": "x"}}, ("Two document paths overlap",)),
    ("SET a = :v SET b = :v", {":v": {"S": "x"}}, ("The \"SET\" section can only be used once",)),
    ("SET status = :v", {":v": {"S": "x"}}, ("Invalid UpdateExpression", "reserved keyword", "status")),
    ("SET a = = :v", {":v": {"S": "x"}}, ("Invalid UpdateExpression", "Syntax error")),
    ("SET a :v", {":v": {"S": "x"}}, ("Invalid UpdateExpression", "Syntax error")),
    ("FROB a", None, ("Invalid UpdateExpression", "Syntax error")),
    ("SET a = :undefined", {":v": {"S": "x"}}, ("An expression attribute value used in expression is not defined",)),
    ("ADD s :v", {":v": {"S": "x"}}, ("Invalid UpdateExpression", "Incorrect operand type", "ADD")),
    ("ADD n :v", {":v": {"L": []}}, ("Invalid UpdateExpression", "Incorrect operand type", "ADD")),
    ("DELETE ss :v", {":v": {"S": "a"}}, ("Invalid UpdateExpression", "Incorrect operand type", "DELETE")),
    ("SET l = list_append(:s, l)", {":s": {"S": "x"}}, ("Invalid UpdateExpression", "list_append")),
    ("SET a = :s + :t", {":s": {"S": "x"}, ":t": {"N": "1"}}, ("Invalid UpdateExpression", "Incorrect operand type")),
    ("SET a = size(s)", None, ("Invalid UpdateExpression", "size")),
])
def test_invalid_update_expressions(ddb, base, expr, values, phrases):
    with pytest.raises(ClientError) as ei:
        update(ddb, base, expr, values)
    assert_error(ei, "ValidationException", *phrases)
    assert sets_sorted(get(ddb, base)) == sets_sorted(BASE)


@pytest.mark.parametrize("expr,values", [
    ("SET nope.x = :v", {":v": {"S": "x"}}),           # parent map missing
    ("SET s.x = :v", {":v": {"S": "x"}}),              # parent is not a map
    ("SET n[0] = :v", {":v": {"S": "x"}}),             # indexing a number
    ("SET n = n + :v", {":v": {"S": "x"}}),            # a string in arithmetic, found at run time
    ("SET nope = nope + :v", {":v": {"N": "1"}}),      # missing operand
])
def test_update_invalid_document_paths(ddb, base, expr, values):
    with pytest.raises(ClientError) as ei:
        update(ddb, base, expr, values)
    assert_error(ei, "ValidationException")
    assert sets_sorted(get(ddb, base)) == sets_sorted(BASE)


def test_update_missing_table(ddb):
    with pytest.raises(ClientError) as ei:
        ddb.update_item(TableName="no-such-table-xyz", Key=KEY, UpdateExpression="SET a = :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})
    assert_error(ei, "ResourceNotFoundException")


def test_update_unused_values(ddb, base):
    with pytest.raises(ClientError) as ei:
        update(ddb, base, "SET a = :v", {":v": {"S": "x"}, ":w": {"S": "y"}})
    assert_error(ei, "ValidationException", "unused in expressions", ":w")


def test_update_over_item_size_limit(ddb, table):
    update(ddb, table, "SET a = :v", {":v": {"S": "x" * 300000}})
    with pytest.raises(ClientError) as ei:
        update(ddb, table, "SET b = :v", {":v": {"S": "y" * 120000}})
    # AWS: "Item size to update has exceeded the maximum allowed size".
    assert_error(ei, "ValidationException", "exceeded the maximum allowed size")
    assert "b" not in get(ddb, table)


def test_update_key_wrong_type(ddb, table):
    with pytest.raises(ClientError) as ei:
        ddb.update_item(TableName=table, Key={"pk": {"N": "1"}}, UpdateExpression="SET a = :v",
                        ExpressionAttributeValues={":v": {"S": "x"}})
    assert_error_one_of(ei, "ValidationException", KEY_MISMATCH)


# --- concurrency --------------------------------------------------------------

def test_concurrent_atomic_counter(ddb, table):
    from concurrent.futures import ThreadPoolExecutor

    def bump(_):
        for _ in range(25):
            update(ddb, table, "ADD hits :one", {":one": {"N": "1"}})

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(bump, range(4)))
    assert get(ddb, table)["hits"] == {"N": "100"}


def test_concurrent_conditional_creates_one_winner(ddb, table):
    from concurrent.futures import ThreadPoolExecutor

    def claim(i):
        try:
            ddb.put_item(TableName=table, Item={"pk": {"S": "u"}, "owner": {"N": str(i)}},
                         ConditionExpression="attribute_not_exists(pk)")
            return i
        except ClientError as e:
            assert e.response["Error"]["Code"] == "ConditionalCheckFailedException"
            return None

    with ThreadPoolExecutor(8) as pool:
        winners = [w for w in pool.map(claim, range(16)) if w is not None]
    assert len(winners) == 1
    assert get(ddb, table)["owner"] == {"N": str(winners[0])}
