"""Query: key conditions, order, pagination (Limit and the 1 MB page), filters, projections, errors."""
import pytest
from botocore.exceptions import ClientError

from conftest import assert_error, skip_on_dynamodb_local

ONE_MB = 1024 * 1024


def batch_put(ddb, table, items):
    for i in range(0, len(items), 25):
        pending = {table: [{"PutRequest": {"Item": it}} for it in items[i:i + 25]]}
        while pending:
            resp = ddb.batch_write_item(RequestItems=pending)
            pending = resp.get("UnprocessedItems") or {}


@pytest.fixture
def qt(ddb, table_hr):
    """pk "p": sk 0..19 with v = 10*sk and tag even/odd; pk "q": sk 0..4."""
    items = [{"pk": {"S": "p"}, "sk": {"N": str(i)}, "v": {"N": str(10 * i)},
              "tag": {"S": "even" if i % 2 == 0 else "odd"}, "extra": {"M": {"i": {"N": str(i)}}}}
             for i in range(20)]
    items += [{"pk": {"S": "q"}, "sk": {"N": str(i)}} for i in range(5)]
    batch_put(ddb, table_hr, items)
    return table_hr


def sks(items):
    return [int(it["sk"]["N"]) for it in items]


def query(ddb, table, kce, values, **kw):
    return ddb.query(TableName=table, KeyConditionExpression=kce, ExpressionAttributeValues=values, **kw)


P = {":p": {"S": "p"}}


@pytest.mark.parametrize("kce,values,expected", [
    ("pk = :p", {}, list(range(20))),
    ("pk = :p AND sk = :a", {":a": {"N": "7"}}, [7]),
    ("pk = :p AND sk < :a", {":a": {"N": "3"}}, [0, 1, 2]),
    ("pk = :p AND sk <= :a", {":a": {"N": "3"}}, [0, 1, 2, 3]),
    ("pk = :p AND sk > :a", {":a": {"N": "16.5"}}, [17, 18, 19]),
    ("pk = :p AND sk >= :a", {":a": {"N": "17"}}, [17, 18, 19]),
    ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "5"}, ":b": {"N": "8"}}, [5, 6, 7, 8]),
    ("pk = :p AND sk BETWEEN :a AND :b", {":a": {"N": "5"}, ":b": {"N": "5"}}, [5]),
    ("pk = :p AND sk = :a", {":a": {"N": "99"}}, []),
    ("(pk = :p) AND (sk < :a)", {":a": {"N": "2"}}, [0, 1]),
    ("sk > :a AND pk = :p", {":a": {"N": "18"}}, [19]),
    ("#k = :p", {}, list(range(20))),
])
def test_key_conditions(ddb, qt, kce, values, expected):
    kw = {"ExpressionAttributeNames": {"#k": "pk"}} if "#k" in kce else {}
    resp = query(ddb, qt, kce, {**P, **values}, **kw)
    assert sks(resp["Items"]) == expected
    assert resp["Count"] == len(expected) == resp["ScannedCount"]
    assert "LastEvaluatedKey" not in resp


def test_query_other_partition_and_missing_partition(ddb, qt):
    assert sks(query(ddb, qt, "pk = :p", {":p": {"S": "q"}})["Items"]) == [0, 1, 2, 3, 4]
    resp = query(ddb, qt, "pk = :p", {":p": {"S": "none"}})
    assert resp["Items"] == [] and resp["Count"] == 0


def test_scan_index_forward_false(ddb, qt):
    resp = query(ddb, qt, "pk = :p AND sk < :a", {**P, ":a": {"N": "5"}}, ScanIndexForward=False)
    assert sks(resp["Items"]) == [4, 3, 2, 1, 0]
    resp = query(ddb, qt, "pk = :p", P, ScanIndexForward=False, Limit=3)
    assert sks(resp["Items"]) == [19, 18, 17]
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "17"}}
    resp = query(ddb, qt, "pk = :p", P, ScanIndexForward=False, Limit=3,
                 ExclusiveStartKey=resp["LastEvaluatedKey"])
    assert sks(resp["Items"]) == [16, 15, 14]


def test_limit_pagination(ddb, qt):
    got, pages, start = [], 0, None
    while True:
        kw = {"ExclusiveStartKey": start} if start else {}
        resp = query(ddb, qt, "pk = :p", P, Limit=6, **kw)
        pages += 1
        got += sks(resp["Items"])
        if "LastEvaluatedKey" not in resp:
            break
        assert resp["Count"] == 6
        assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": resp["Items"][-1]["sk"]}
        start = resp["LastEvaluatedKey"]
    assert got == list(range(20))
    # 6 + 6 + 6 + 2; a page that ends exactly at the last item may still carry a key.
    assert pages in (4, 5)


def test_limit_exact_multiple_ends_with_empty_page_at_most(ddb, qt):
    resp = query(ddb, qt, "pk = :p", {":p": {"S": "q"}}, Limit=5)
    assert resp["Count"] == 5
    if "LastEvaluatedKey" in resp:
        resp = query(ddb, qt, "pk = :p", {":p": {"S": "q"}}, Limit=5, ExclusiveStartKey=resp["LastEvaluatedKey"])
        assert resp["Count"] == 0 and "LastEvaluatedKey" not in resp


def test_exclusive_start_key_within_range(ddb, qt):
    resp = query(ddb, qt, "pk = :p AND sk BETWEEN :a AND :b", {**P, ":a": {"N": "3"}, ":b": {"N": "9"}},
                 ExclusiveStartKey={"pk": {"S": "p"}, "sk": {"N": "6"}})
    assert sks(resp["Items"]) == [7, 8, 9]


def test_filter_expression_counts(ddb, qt):
    resp = query(ddb, qt, "pk = :p", {**P, ":t": {"S": "odd"}, ":v": {"N": "100"}},
                 FilterExpression="tag = :t AND v > :v")
    assert sks(resp["Items"]) == [11, 13, 15, 17, 19]
    assert resp["Count"] == 5
    assert resp["ScannedCount"] == 20
    # Limit bounds the items read, before the filter.
    resp = query(ddb, qt, "pk = :p", {**P, ":t": {"S": "odd"}}, FilterExpression="tag = :t", Limit=4)
    assert sks(resp["Items"]) == [1, 3]
    assert resp["Count"] == 2 and resp["ScannedCount"] == 4
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "3"}}
    # A page may be empty and still carry a LastEvaluatedKey.
    resp = query(ddb, qt, "pk = :p", {**P, ":t": {"S": "none"}}, FilterExpression="tag = :t", Limit=4)
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 4
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "3"}}


def test_projection_expression(ddb, qt):
    resp = query(ddb, qt, "pk = :p AND sk < :a", {**P, ":a": {"N": "2"}},
                 ProjectionExpression="v, extra.i, #t", ExpressionAttributeNames={"#t": "tag"})
    assert resp["Items"] == [
        {"v": {"N": "0"}, "extra": {"M": {"i": {"N": "0"}}}, "tag": {"S": "even"}},
        {"v": {"N": "10"}, "extra": {"M": {"i": {"N": "1"}}}, "tag": {"S": "odd"}},
    ]


def test_select_count(ddb, qt):
    resp = query(ddb, qt, "pk = :p AND sk >= :a", {**P, ":a": {"N": "15"}}, Select="COUNT")
    assert "Items" not in resp
    assert resp["Count"] == 5 and resp["ScannedCount"] == 5
    resp = query(ddb, qt, "pk = :p", {**P, ":t": {"S": "even"}}, Select="COUNT", FilterExpression="tag = :t")
    assert "Items" not in resp
    assert resp["Count"] == 10 and resp["ScannedCount"] == 20


def test_select_validation(ddb, qt):
    with pytest.raises(ClientError) as ei:
        query(ddb, qt, "pk = :p", P, Select="COUNT", ProjectionExpression="v")
    assert_error(ei, "ValidationException", "ProjectionExpression")
    with pytest.raises(ClientError) as ei:
        query(ddb, qt, "pk = :p", P, Select="SPECIFIC_ATTRIBUTES")
    assert_error(ei, "ValidationException", "SPECIFIC_ATTRIBUTES")
    resp = query(ddb, qt, "pk = :p AND sk = :a", {**P, ":a": {"N": "1"}}, Select="SPECIFIC_ATTRIBUTES",
                 ProjectionExpression="v")
    assert resp["Items"] == [{"v": {"N": "10"}}]


def test_numeric_sort_order(ddb, table_hr):
    values = ["-1e3", "-10", "-2.5", "-0.001", "0", "0.001", "1.5", "2", "10", "100", "1E+100"]
    batch_put(ddb, table_hr, [{"pk": {"S": "n"}, "sk": {"N": v}} for v in reversed(values)])
    resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "n"}})
    got = [it["sk"]["N"] for it in resp["Items"]]
    assert [float(x) for x in got] == sorted(float(v) for v in values)
    resp = query(ddb, table_hr, "pk = :p AND sk BETWEEN :a AND :b", {":p": {"S": "n"}, ":a": {"N": "-3"}, ":b": {"N": "1.5"}})
    assert [it["sk"]["N"] for it in resp["Items"]] == ["-2.5", "-0.001", "0", "0.001", "1.5"]


def test_string_sort_order_is_utf8_bytes(ddb, make_table):
    t = make_table(range_key=("sk", "S"))
    values = ["Z", "a", "ab", "b", "é", "中", "\uffff", "😀"]
    batch_put(ddb, t, [{"pk": {"S": "s"}, "sk": {"S": v}} for v in reversed(values)])
    resp = query(ddb, t, "pk = :p", {":p": {"S": "s"}})
    assert [it["sk"]["S"] for it in resp["Items"]] == sorted(values, key=lambda v: v.encode())
    resp = query(ddb, t, "pk = :p AND begins_with(sk, :b)", {":p": {"S": "s"}, ":b": {"S": "a"}})
    assert [it["sk"]["S"] for it in resp["Items"]] == ["a", "ab"]


def test_binary_sort_order_is_unsigned(ddb, make_table):
    t = make_table(range_key=("sk", "B"))
    values = [b"\x00", b"\x00\x00", b"\x01", b"\x7f", b"\x80", b"\xff", b"\xff\x00"]
    batch_put(ddb, t, [{"pk": {"S": "b"}, "sk": {"B": v}} for v in reversed(values)])
    resp = query(ddb, t, "pk = :p", {":p": {"S": "b"}})
    assert [it["sk"]["B"] for it in resp["Items"]] == values
    resp = query(ddb, t, "pk = :p AND begins_with(sk, :b)", {":p": {"S": "b"}, ":b": {"B": b"\xff"}})
    assert [it["sk"]["B"] for it in resp["Items"]] == [b"\xff", b"\xff\x00"]
    resp = query(ddb, t, "pk = :p AND sk > :b", {":p": {"S": "b"}, ":b": {"B": b"\x7f"}})
    assert [it["sk"]["B"] for it in resp["Items"]] == [b"\x80", b"\xff", b"\xff\x00"]


def test_hash_only_table_query(ddb, table):
    ddb.put_item(TableName=table, Item={"pk": {"S": "h"}, "v": {"S": "x"}})
    resp = query(ddb, table, "pk = :p", {":p": {"S": "h"}})
    assert resp["Items"] == [{"pk": {"S": "h"}, "v": {"S": "x"}}]


def item_size(item):
    """DynamoDB's item size for the items of test_one_megabyte_pages (S and N attributes only)."""
    size = 0
    for name, value in item.items():
        (t, v), = value.items()
        size += len(name.encode())
        if t == "S":
            size += len(v.encode())
        else:  # N: about one byte per two significant digits, plus one
            size += (len(v.lstrip("-").replace(".", "").strip("0")) + 1) // 2 + 1
    return size


BIG_N = 1100


def load_big(ddb, table):
    """1100 items of about 1 KB in partition "big": 1.1 MB."""
    payload = "x" * 1000
    batch_put(ddb, table, [{"pk": {"S": "big"}, "sk": {"N": str(i)}, "d": {"S": payload}} for i in range(BIG_N)])


def test_one_megabyte_pages(ddb, table_hr):
    n = BIG_N
    load_big(ddb, table_hr)
    first = query(ddb, table_hr, "pk = :p", {":p": {"S": "big"}})
    assert "LastEvaluatedKey" in first, "a 1.1 MB partition must not come back in one page"
    count = first["Count"]
    assert 0 < count < n
    size = sum(item_size(it) for it in first["Items"])
    one = item_size(first["Items"][0])
    # The page stops at 1 MB of item data (within an item either side).
    assert ONE_MB - 2 * one <= size <= ONE_MB + 2 * one, (count, size)
    assert first["LastEvaluatedKey"] == {"pk": {"S": "big"}, "sk": first["Items"][-1]["sk"]}
    seen = sks(first["Items"])
    start = first["LastEvaluatedKey"]
    pages = 1
    while start:
        resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "big"}}, ExclusiveStartKey=start)
        seen += sks(resp["Items"])
        start = resp.get("LastEvaluatedKey")
        pages += 1
        assert pages < 10
    assert seen == list(range(n))
    # Select COUNT is paged by the same 1 MB of data read.
    resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "big"}}, Select="COUNT")
    assert resp["Count"] == count and "LastEvaluatedKey" in resp


def test_one_megabyte_limit_applies_before_filter(ddb, node, table_hr):
    # "The 1 MB limit applies before any FilterExpression is applied": a filter that
    # keeps nothing still stops after 1 MB read, with a LastEvaluatedKey.
    skip_on_dynamodb_local(node, "it applies the 1 MB page limit after the FilterExpression")
    load_big(ddb, table_hr)
    resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "big"}, ":x": {"S": "no"}}, FilterExpression="d = :x")
    assert resp["Count"] == 0 and resp["Items"] == []
    assert 0 < resp["ScannedCount"] < BIG_N
    assert "LastEvaluatedKey" in resp
    total, start = resp["ScannedCount"], resp["LastEvaluatedKey"]
    while start:
        resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "big"}, ":x": {"S": "no"}}, FilterExpression="d = :x",
                     ExclusiveStartKey=start)
        total += resp["ScannedCount"]
        start = resp.get("LastEvaluatedKey")
    assert total == BIG_N


# --- errors -------------------------------------------------------------------

@pytest.mark.parametrize("kce,values,phrases", [
    ("sk = :s", {":s": {"N": "1"}}, ("Query condition missed key schema element",)),
    ("pk < :p", {":p": {"S": "a"}}, ("Query key condition not supported",)),
    ("pk = :p OR sk = :s", {":p": {"S": "a"}, ":s": {"N": "1"}}, ("Invalid operator used in KeyConditionExpression", "OR")),
    ("pk = :p AND sk <> :s", {":p": {"S": "a"}, ":s": {"N": "1"}}, ("Invalid operator used in KeyConditionExpression", "<>")),
    ("pk = :p AND other = :s", {":p": {"S": "a"}, ":s": {"N": "1"}}, ()),
    ("pk = :p AND begins_with(sk, :s)", {":p": {"S": "a"}, ":s": {"N": "1"}},
     ("Invalid KeyConditionExpression", "begins_with")),
    ("pk = :p AND sk = :s", {":p": {"S": "a"}, ":s": {"S": "1"}}, ("Condition parameter type does not match schema type",)),
    ("pk = :p", {":p": {"N": "1"}}, ("Condition parameter type does not match schema type",)),
    ("pk = :p AND sk > :s AND sk < :s", {":p": {"S": "a"}, ":s": {"N": "1"}}, ("KeyConditionExpressions must only contain one condition per key",)),
    ("pk = = :p", {":p": {"S": "a"}}, ("Invalid KeyConditionExpression", "Syntax error")),
    ("pk = :p AND sk BETWEEN :b AND :a", {":p": {"S": "a"}, ":a": {"N": "1"}, ":b": {"N": "5"}},
     ("Invalid KeyConditionExpression", "BETWEEN", "lower bound")),
    ("pk = :undefined", {":p": {"S": "a"}}, ("An expression attribute value used in expression is not defined",)),
])
def test_invalid_key_conditions(ddb, table_hr, kce, values, phrases):
    with pytest.raises(ClientError) as ei:
        query(ddb, table_hr, kce, values)
    assert_error(ei, "ValidationException", *phrases)


def test_query_without_key_condition(ddb_raw, table_hr):
    with pytest.raises(ClientError) as ei:
        ddb_raw.query(TableName=table_hr)
    assert_error(ei, "ValidationException", "KeyConditionExpression")


def test_query_filter_on_key_attribute(ddb, table_hr):
    # "A filter expression cannot contain partition key or sort key attributes."
    with pytest.raises(ClientError) as ei:
        query(ddb, table_hr, "pk = :p", {":p": {"S": "a"}, ":s": {"N": "1"}}, FilterExpression="sk = :s")
    assert_error(ei, "ValidationException", "Filter Expression can only contain non-primary key attributes", "sk")


def test_query_limit_zero(ddb_raw, table_hr):
    with pytest.raises(ClientError) as ei:
        query(ddb_raw, table_hr, "pk = :p", {":p": {"S": "a"}}, Limit=0)
    assert_error(ei, "ValidationException", "greater than or equal to 1")


def test_query_exclusive_start_key_not_a_key(ddb, table_hr):
    with pytest.raises(ClientError) as ei:
        query(ddb, table_hr, "pk = :p", {":p": {"S": "a"}}, ExclusiveStartKey={"pk": {"S": "a"}})
    assert_error(ei, "ValidationException")


def test_query_missing_table(ddb):
    with pytest.raises(ClientError) as ei:
        query(ddb, "no-such-table-xyz", "pk = :p", {":p": {"S": "a"}})
    assert_error(ei, "ResourceNotFoundException")


def test_last_evaluated_key_has_the_key_despite_projection(ddb, qt):
    resp = query(ddb, qt, "pk = :p", P, ProjectionExpression="v", Limit=2)
    assert resp["Items"] == [{"v": {"N": "0"}}, {"v": {"N": "10"}}]
    assert resp["LastEvaluatedKey"] == {"pk": {"S": "p"}, "sk": {"N": "1"}}
    resp = query(ddb, qt, "pk = :p", P, ProjectionExpression="v", Limit=2, ExclusiveStartKey=resp["LastEvaluatedKey"])
    assert resp["Items"] == [{"v": {"N": "20"}}, {"v": {"N": "30"}}]


def test_numeric_sort_order_at_full_precision(ddb, table_hr):
    from decimal import Decimal
    values = ["1", "1.0000000000000000000000000000000000001", "1.000000000000000000000000000000000001",
              "0.99999999999999999999999999999999999999", "-1.0000000000000000000000000000000000001", "-1",
              "99999999999999999999999999999999999999", "1E+125", "-1E+125", "1E-130", "-1E-130"]
    batch_put(ddb, table_hr, [{"pk": {"S": "prec"}, "sk": {"N": v}} for v in values])
    resp = query(ddb, table_hr, "pk = :p", {":p": {"S": "prec"}})
    got = [Decimal(it["sk"]["N"]) for it in resp["Items"]]
    assert got == sorted(Decimal(v) for v in values)
    resp = query(ddb, table_hr, "pk = :p AND sk > :x", {":p": {"S": "prec"}, ":x": {"N": "1"}})
    assert [Decimal(it["sk"]["N"]) for it in resp["Items"]] == sorted(
        Decimal(v) for v in values if Decimal(v) > 1)
