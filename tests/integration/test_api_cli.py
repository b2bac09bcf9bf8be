"""The AWS CLI against the API: the commands an application developer types."""
import json

from conftest import unique_name, wait_active, wait_gone


def test_cli_table_and_item_lifecycle(cli, ddb):
    name = unique_name("cli")
    out = cli("create-table", "--table-name", name,
              "--attribute-definitions", "AttributeName=device,AttributeType=S", "AttributeName=ts,AttributeType=N",
              "--key-schema", "AttributeName=device,KeyType=HASH", "AttributeName=ts,KeyType=RANGE",
              "--billing-mode", "PAY_PER_REQUEST")
    try:
        assert out["TableDescription"]["TableName"] == name
        wait_active(ddb, name)

        for ts, c in ((1000, "20.5"), (2000, "21.00")):
            cli("put-item", "--table-name", name, "--item",
                json.dumps({"device": {"S": "pi-1"}, "ts": {"N": str(ts)}, "celsius": {"N": c}}))
        ddb.put_item(TableName=name, Item={"device": {"S": "pi-1"}, "ts": {"N": "3000"}, "celsius": {"N": "19.25"}})
        ddb.put_item(TableName=name, Item={"device": {"S": "pi-2"}, "ts": {"N": "1500"}, "celsius": {"N": "5"}})

        got = cli("get-item", "--table-name", name, "--key", json.dumps({"device": {"S": "pi-1"}, "ts": {"N": "2000"}}))
        assert got["Item"] == {"device": {"S": "pi-1"}, "ts": {"N": "2000"}, "celsius": {"N": "21"}}
        assert cli("get-item", "--table-name", name,
                   "--key", json.dumps({"device": {"S": "pi-9"}, "ts": {"N": "1"}})) == {}

        q = cli("query", "--table-name", name,
                "--key-condition-expression", "device = :d AND ts >= :t",
                "--expression-attribute-values", json.dumps({":d": {"S": "pi-1"}, ":t": {"N": "2000"}}))
        assert [it["ts"]["N"] for it in q["Items"]] == ["2000", "3000"]
        assert q["Count"] == 2

        # The CLI pages by itself: --page-size 1 makes it follow LastEvaluatedKey.
        q = cli("query", "--table-name", name, "--key-condition-expression", "device = :d",
                "--expression-attribute-values", json.dumps({":d": {"S": "pi-1"}}), "--page-size", "1",
                "--no-scan-index-forward")
        assert [it["ts"]["N"] for it in q["Items"]] == ["3000", "2000", "1000"]

        s = cli("scan", "--table-name", name, "--filter-expression", "celsius < :x",
                "--expression-attribute-values", json.dumps({":x": {"N": "20"}}))
        assert sorted(it["device"]["S"] + "/" + it["ts"]["N"] for it in s["Items"]) == ["pi-1/3000", "pi-2/1500"]
        assert s["Count"] == 2 and s["ScannedCount"] == 4
    finally:
        out = cli("delete-table", "--table-name", name)
    assert out["TableDescription"]["TableName"] == name
    wait_gone(ddb, name)


def test_cli_conditional_check_failure(cli, table):
    item = json.dumps({"pk": {"S": "once"}})
    cli("put-item", "--table-name", table, "--item", item, "--condition-expression", "attribute_not_exists(pk)")
    code, stderr = cli.fail("put-item", "--table-name", table, "--item", item,
                            "--condition-expression", "attribute_not_exists(pk)")
    assert code != 0
    assert "ConditionalCheckFailedException" in stderr
    assert "PutItem" in stderr


def test_cli_missing_table(cli):
    code, stderr = cli.fail("describe-table", "--table-name", unique_name("missing"))
    assert code != 0
    assert "ResourceNotFoundException" in stderr


def test_cli_batch_write_and_get(cli, table):
    reqs = {table: [{"PutRequest": {"Item": {"pk": {"S": f"k{i}"}, "v": {"N": str(i)}}}} for i in range(5)]}
    out = cli("batch-write-item", "--request-items", json.dumps(reqs))
    assert out["UnprocessedItems"] == {}
    out = cli("batch-get-item", "--request-items",
              json.dumps({table: {"Keys": [{"pk": {"S": "k1"}}, {"pk": {"S": "k4"}}, {"pk": {"S": "zz"}}]}}))
    assert sorted(it["v"]["N"] for it in out["Responses"][table]) == ["1", "4"]
