"""Scan: filters, Limit pagination, parallel segments, projections, errors."""
import collections

import pytest
from botocore.exceptions import ClientError

from conftest import assert_error
from test_api_query import BIG_N, ONE_MB, batch_put, item_size, load_big

N_ITEMS = 60


@pytest.fixture
def st(ddb, table_hr):
    """60 items over 12 partitions: pk "p0".."p11", sk 0..4, v = index, tag even/odd."""
    items = [{"pk": {"S": f"p{i // 5}"}, "sk": {"N": str(i % 5)}, "v": {"N": str(i)},
              "tag": {"S": "even" if i % 2 == 0 else "odd"}, "m": {"M": {"i": {"N": str(i)}, "j": {"S": "x"}}}}
             for i in range(N_ITEMS)]
    batch_put(ddb, table_hr, items)
    return table_hr


def vs(items):
    return [int(it["v"]["N"]) for it in items]


def scan_all(ddb, table, **kw):
    items, pages, start = [], 0, None
    while True:
        args = dict(kw)
        if start:
            args["ExclusiveStartKey"] = start
        resp = ddb.scan(TableName=table, **args)
        pages += 1
        items += resp.get("Items", [])
        start = resp.get("LastEvaluatedKey")
        if not start:
            return items, pages
        assert pages < 200


def test_scan_everything(ddb, st):
    resp = ddb.scan(TableName=st)
    assert sorted(vs(resp["Items"])) == list(range(N_ITEMS))
    assert resp["Count"] == resp["ScannedCount"] == N_ITEMS
    assert "LastEvaluatedKey" not in resp


def test_scan_empty_table(ddb, table):
    resp = ddb.scan(TableName=table)
    assert resp["Items"] == [] and resp["Count"] == 0 and resp["ScannedCount"] == 0


def test_scan_items_of_a_partition_are_in_sort_order(ddb, st):
    items = ddb.scan(TableName=st)["Items"]
    by_pk = collections.defaultdict(list)
    for it in items:
        by_pk[it["pk"]["S"]].append(int(it["sk"]["N"]))
    assert len(by_pk) == 12
    for sks in by_pk.values():
        assert sks == [0, 1, 2, 3, 4]


def test_scan_filter(ddb, st):
    resp = ddb.scan(TableName=st, FilterExpression="tag = :t AND v BETWEEN :a AND :b",
                    ExpressionAttributeValues={":t": {"S": "odd"}, ":a": {"N": "10"}, ":b": {"N": "20"}})
    assert sorted(vs(resp["Items"])) == [11, 13, 15, 17, 19]
    assert resp["Count"] == 5 and resp["ScannedCount"] == N_ITEMS
    # Unlike Query, Scan may filter on key attributes.
    resp = ddb.scan(TableName=st, FilterExpression="pk = :p AND sk > :s",
                    ExpressionAttributeValues={":p": {"S": "p3"}, ":s": {"N": "2"}})
    assert sorted(vs(resp["Items"])) == [18, 19]


def test_scan_limit_pagination(ddb, st):
    items, pages = scan_all(ddb, st, Limit=7)
    assert sorted(vs(items)) == list(range(N_ITEMS))
    assert pages in (9, 10)            # 8 full pages + 4 items (+ maybe one empty page)
    resp = ddb.scan(TableName=st, Limit=7)
    assert resp["Count"] == 7 and resp["ScannedCount"] == 7
    last = resp["Items"][-1]
    assert resp["LastEvaluatedKey"] == {"pk": last["pk"], "sk": last["sk"]}


def test_scan_limit_with_filter(ddb, st):
    items, pages = scan_all(ddb, st, Limit=10, FilterExpression="tag = :t",
                            ExpressionAttributeValues={":t": {"S": "even"}})
    assert sorted(vs(items)) == list(range(0, N_ITEMS, 2))
    resp = ddb.scan(TableName=st, Limit=10, FilterExpression="tag = :t", ExpressionAttributeValues={":t": {"S": "even"}})
    assert resp["ScannedCount"] == 10 and resp["Count"] <= 10 and "LastEvaluatedKey" in resp


@pytest.mark.parametrize("total", [1, 2, 3, 7, 16])
def test_parallel_segments(ddb, st, total):
    seen = []
    for seg in range(total):
        items, _ = scan_all(ddb, st, Segment=seg, TotalSegments=total)
        seen += vs(items)
    assert sorted(seen) == list(range(N_ITEMS))      # every item exactly once


def test_parallel_segments_with_limit(ddb, st):
    seen = []
    for seg in range(4):
        items, _ = scan_all(ddb, st, Segment=seg, TotalSegments=4, Limit=3)
        seen += vs(items)
    assert sorted(seen) == list(range(N_ITEMS))


def test_segments_keep_a_partition_together(ddb, st):
    where = {}
    for seg in range(4):
        items, _ = scan_all(ddb, st, Segment=seg, TotalSegments=4)
        for it in items:
            assert where.setdefault(it["pk"]["S"], seg) == seg


def test_scan_projection_and_count(ddb, st):
    resp = ddb.scan(TableName=st, ProjectionExpression="v, m.j", FilterExpression="v < :x",
                    ExpressionAttributeValues={":x": {"N": "2"}})
    assert sorted(resp["Items"], key=lambda it: it["v"]["N"]) == [
        {"v": {"N": "0"}, "m": {"M": {"j": {"S": "x"}}}},
        {"v": {"N": "1"}, "m": {"M": {"j": {"S": "x"}}}},
    ]
    resp = ddb.scan(TableName=st, Select="COUNT")
    assert "Items" not in resp and resp["Count"] == N_ITEMS


def test_scan_errors(ddb_raw, st):
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, Segment=1)
    assert_error(ei, "ValidationException")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, Segment=2, TotalSegments=2)
    assert_error(ei, "ValidationException", "segment")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, Segment=0, TotalSegments=1000001)
    assert_error(ei, "ValidationException", "totalSegments")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, Limit=0)
    assert_error(ei, "ValidationException", "greater than or equal to 1")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, FilterExpression="v = = :x", ExpressionAttributeValues={":x": {"N": "1"}})
    assert_error(ei, "ValidationException", "Invalid FilterExpression", "Syntax error")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName=st, FilterExpression="v = :x")
    assert_error(ei, "ValidationException", "Invalid FilterExpression", "not defined")
    with pytest.raises(ClientError) as ei:
        ddb_raw.scan(TableName="no-such-table-xyz")
    assert_error(ei, "ResourceNotFoundException")


def test_scan_one_megabyte_pages(ddb, table_hr):
    load_big(ddb, table_hr)
    first = ddb.scan(TableName=table_hr)
    assert "LastEvaluatedKey" in first, "a 1.1 MB table must not come back in one page"
    size = sum(item_size(it) for it in first["Items"])
    one = item_size(first["Items"][0])
    assert ONE_MB - 2 * one <= size <= ONE_MB + 2 * one, (first["Count"], size)
    items, pages = scan_all(ddb, table_hr)
    assert sorted(int(it["sk"]["N"]) for it in items) == list(range(BIG_N))
    assert pages == 2
