"""DynamoDB Streams through boto3's unchanged `dynamodbstreams` client.

Every put, update, delete and TTL delete appears once, in order, with the
images the table's StreamViewType asks for; iterators of every type; the
expired-iterator and trimmed-position errors.
"""
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, REGION, SECRET_KEY, assert_error, unique_name, wait_active


@pytest.fixture
def streams(node):
    return boto3.client(
        "dynamodbstreams", endpoint_url=node.url, region_name=REGION,
        aws_access_key_id=ACCESS_KEY, aws_secret_access_key=SECRET_KEY,
        config=Config(retries={"max_attempts": 1}))


@pytest.fixture
def stream_table(ddb):
    """make(view_type) -> (table name, stream ARN)."""
    created = []

    def make(view="NEW_AND_OLD_IMAGES"):
        name = unique_name("st")
        ddb.create_table(
            TableName=name,
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": view})
        desc = wait_active(ddb, name)
        created.append(name)
        return name, desc["LatestStreamArn"]

    yield make
    for name in created:
        try:
            ddb.delete_table(TableName=name)
        except ClientError:
            pass


def shard_of(streams, arn):
    desc = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert desc["StreamStatus"] == "ENABLED"
    assert len(desc["Shards"]) == 1
    return desc["Shards"][0]["ShardId"]


def read_all(streams, iterator, limit=None):
    """Records from `iterator` until a call returns none; (records, next iterator)."""
    records = []
    for _ in range(100):
        kw = {"ShardIterator": iterator}
        if limit:
            kw["Limit"] = limit
        resp = streams.get_records(**kw)
        iterator = resp["NextShardIterator"]
        if not resp["Records"]:
            break
        records.extend(resp["Records"])
    return records, iterator


def write_history(ddb, name):
    ddb.put_item(TableName=name, Item={"pk": {"S": "a"}, "v": {"N": "1"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "b"}, "v": {"N": "2"}})
    ddb.update_item(TableName=name, Key={"pk": {"S": "a"}}, UpdateExpression="SET v = :v",
                    ExpressionAttributeValues={":v": {"N": "3"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "b"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "nothing"}})  # deletes nothing: no record


def test_describe_and_list_match_describe_table(ddb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    desc = ddb.describe_table(TableName=name)["Table"]
    assert arn == desc["LatestStreamArn"]
    assert arn.startswith(desc["TableArn"] + "/stream/")
    sd = streams.describe_stream(StreamArn=arn)["StreamDescription"]
    assert sd["StreamArn"] == arn
    assert sd["StreamLabel"] == desc["LatestStreamLabel"]
    assert sd["TableName"] == name
    assert sd["StreamViewType"] == "KEYS_ONLY"
    assert sd["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    shard = sd["Shards"][0]
    assert "StartingSequenceNumber" in shard["SequenceNumberRange"]
    assert "EndingSequenceNumber" not in shard["SequenceNumberRange"]

    listed = streams.list_streams(TableName=name)["Streams"]
    assert listed == [{"StreamArn": arn, "TableName": name, "StreamLabel": sd["StreamLabel"]}]
    all_arns = [s["StreamArn"] for s in streams.list_streams()["Streams"]]
    assert arn in all_arns

    # A table without a stream has none.
    plain = unique_name("ns")
    ddb.create_table(TableName=plain, AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}], BillingMode="PAY_PER_REQUEST")
    try:
        assert streams.list_streams(TableName=plain)["Streams"] == []
        with pytest.raises(ClientError) as e:
            streams.describe_stream(StreamArn=arn.replace(name, plain))
        assert_error(e, "ResourceNotFoundException")
    finally:
        ddb.delete_table(TableName=plain)


@pytest.mark.parametrize("view", ["NEW_AND_OLD_IMAGES", "NEW_IMAGE", "OLD_IMAGE", "KEYS_ONLY"])
def test_every_change_once_in_order_with_images(ddb, streams, stream_table, view):
    name, arn = stream_table(view)
    write_history(ddb, name)
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard_of(streams, arn),
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    records, _ = read_all(streams, it, limit=2)  # pages of two
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "MODIFY", "REMOVE"]
    assert [r["dynamodb"]["Keys"] for r in records] == [
        {"pk": {"S": "a"}}, {"pk": {"S": "b"}}, {"pk": {"S": "a"}}, {"pk": {"S": "b"}}]
    seqs = [r["dynamodb"]["SequenceNumber"] for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4
    assert all(len(s) == 21 and s.isdigit() for s in seqs)
    assert [int(s) for s in seqs] == sorted(int(s) for s in seqs)
    for r in records:
        assert r["eventSource"] == "aws:dynamodb"
        assert r["eventVersion"] == "1.1"
        assert r["awsRegion"] == arn.split(":")[3]  # the endpoint's region, as in its ARNs
        assert "userIdentity" not in r
        d = r["dynamodb"]
        assert d["StreamViewType"] == view
        assert d["SizeBytes"] > 0
        assert abs(d["ApproximateCreationDateTime"].timestamp() - time.time()) < 120
    want_new = view in ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
    want_old = view in ("OLD_IMAGE", "NEW_AND_OLD_IMAGES")
    new_images = [r["dynamodb"].get("NewImage") for r in records]
    old_images = [r["dynamodb"].get("OldImage") for r in records]
    if want_new:
        assert new_images == [{"pk": {"S": "a"}, "v": {"N": "1"}}, {"pk": {"S": "b"}, "v": {"N": "2"}},
                              {"pk": {"S": "a"}, "v": {"N": "3"}}, None]
    else:
        assert new_images == [None] * 4
    if want_old:
        assert old_images == [None, None, {"pk": {"S": "a"}, "v": {"N": "1"}},
                              {"pk": {"S": "b"}, "v": {"N": "2"}}]
    else:
        assert old_images == [None] * 4


def test_iterator_types(ddb, streams, stream_table):
    name, arn = stream_table("NEW_IMAGE")
    shard = shard_of(streams, arn)
    ddb.put_item(TableName=name, Item={"pk": {"S": "x1"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "x2"}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "x3"}})
    first, _ = read_all(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in first] == ["x1", "x2", "x3"]
    s2 = first[1]["dynamodb"]["SequenceNumber"]

    at, _ = read_all(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER",
        SequenceNumber=s2)["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in at] == ["x2", "x3"]
    after, _ = read_all(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="AFTER_SEQUENCE_NUMBER",
        SequenceNumber=s2)["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in after] == ["x3"]

    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                        ShardIteratorType="LATEST")["ShardIterator"]
    resp = streams.get_records(ShardIterator=latest)
    assert resp["Records"] == []
    ddb.put_item(TableName=name, Item={"pk": {"S": "x4"}})
    later, _ = read_all(streams, resp["NextShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in later] == ["x4"]

    # Records of other tables never appear in this stream.
    other, other_arn = stream_table("KEYS_ONLY")
    ddb.put_item(TableName=other, Item={"pk": {"S": "elsewhere"}})
    mine, _ = read_all(streams, streams.get_shard_iterator(
        StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in mine] == ["x1", "x2", "x3", "x4"]


def test_errors(ddb, streams, stream_table):
    name, arn = stream_table("KEYS_ONLY")
    shard = shard_of(streams, arn)
    ddb.put_item(TableName=name, Item={"pk": {"S": "k"}})
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard,
                                    ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
    # An iterator issued more than 15 minutes ago: the iterator is opaque to
    # clients, but this test knows its layout (et1|table|label|after|issued_ms).
    parts = it.split("|")
    parts[4] = str(int(parts[4]) - 16 * 60 * 1000)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator="|".join(parts))
    assert_error(e, "ExpiredIteratorException")
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator="not-an-iterator")
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId="shardId-00000000000000000000-00000009",
                                   ShardIteratorType="LATEST")
    assert_error(e, "ResourceNotFoundException")
    with pytest.raises(ClientError) as e:
        streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="AT_SEQUENCE_NUMBER")
    assert_error(e, "ValidationException")
    with pytest.raises(ClientError) as e:
        streams.describe_stream(StreamArn=arn.rsplit("/", 1)[0] + "/1")
    assert_error(e, "ResourceNotFoundException")
    # A deleted table's stream is gone.
    ddb.delete_table(TableName=name)
    with pytest.raises(ClientError) as e:
        streams.get_records(ShardIterator=it)
    assert_error(e, "ResourceNotFoundException")


def test_ttl_delete_marked_as_service(ddb, streams, stream_table):
    name, arn = stream_table("NEW_AND_OLD_IMAGES")
    ddb.update_time_to_live(TableName=name,
                            TimeToLiveSpecification={"Enabled": True, "AttributeName": "exp"})
    now = int(time.time())
    ddb.put_item(TableName=name, Item={"pk": {"S": "gone"}, "exp": {"N": str(now - 60)}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "stays"}, "exp": {"N": str(now + 3600)}})
    ddb.put_item(TableName=name, Item={"pk": {"S": "user"}})
    ddb.delete_item(TableName=name, Key={"pk": {"S": "user"}})
    # Hidden at once, deleted by the sweeper within a few seconds.
    assert "Item" not in ddb.get_item(TableName=name, Key={"pk": {"S": "gone"}})
    shard = shard_of(streams, arn)
    deadline = time.time() + 30
    while True:
        records, _ = read_all(streams, streams.get_shard_iterator(
            StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"])
        if len(records) >= 5 or time.time() > deadline:
            break
        time.sleep(0.2)
    events = [(r["eventName"], r["dynamodb"]["Keys"]["pk"]["S"], r.get("userIdentity")) for r in records]
    service = {"Type": "Service", "PrincipalId": "dynamodb.amazonaws.com"}
    assert events == [("INSERT", "gone", None), ("INSERT", "stays", None), ("INSERT", "user", None),
                      ("REMOVE", "user", None), ("REMOVE", "gone", service)]
    assert records[-1]["dynamodb"]["OldImage"]["pk"] == {"S": "gone"}
    assert "NewImage" not in records[-1]["dynamodb"]
