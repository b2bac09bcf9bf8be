#include "edge/wire/sync_codec.h"

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "edge/item/key.h"
#include "edge/wire/item_codec.h"
#include "schemas/sync_generated.h"
#include "tests/edge/item/random_value.h"

namespace edgetable::wire {
namespace {

namespace sfb = edgetable::wire::sync;
using item::Value;
using Code = Status::Code;

constexpr uint8_t kInsert = 1;
constexpr uint8_t kModify = 2;
constexpr uint8_t kRemove = 3;

std::string Key(const Value& v) { return item::EncodeKeyValue(v).value(); }

SyncTable Table(std::string name, std::string pk, item::Type pk_type, std::string sk = "",
                item::Type sk_type = item::Type::kS) {
  SyncTable t;
  t.name = std::move(name);
  t.key_schema.partition = {std::move(pk), pk_type};
  if (!sk.empty()) t.key_schema.sort = item::KeyAttribute{std::move(sk), sk_type};
  return t;
}

SyncChange Change(int64_t seq, uint32_t table, uint8_t op, std::string pk, std::string sk = "") {
  SyncChange c;
  c.seq = seq;
  c.txn_id = seq;
  c.table = table;
  c.op = op;
  c.partition_key = std::move(pk);
  c.sort_key = std::move(sk);
  c.version = {1'700'000'000'000 + seq % 1'000'000, static_cast<int32_t>(seq % 3), 0xABCDEF0123456789ULL};
  c.origin = 0xABCDEF0123456789ULL;
  if (op != kRemove) {
    c.new_image =
        EncodeItem(item::Item{{"device", Value::S(c.partition_key)}, {"v", Value::N(item::Number::FromInt(seq))}});
  }
  return c;
}

// Two tables (one with a sort key, one without) and every kind of change.
SyncBatch SampleBatch() {
  SyncBatch b;
  b.sender = 0x1122334455667788ULL;
  b.sender_clock = {1'700'000'000'999, 7, 0x1122334455667788ULL};
  b.after_seq = 100;
  b.through_seq = 110;
  b.sender_last_seq = 200;
  b.more = true;
  b.oldest_unsent_ms = 1'699'999'999'000;
  b.tables.push_back(Table("telemetry", "device", item::Type::kS, "ts", item::Type::kN));
  b.tables.push_back(Table("config", "id", item::Type::kB));
  SyncChange insert = Change(101, 0, kInsert, Key(Value::S("dev-1")), Key(Value::N(item::Number::FromInt(5))));
  SyncChange modify = Change(102, 1, kModify, Key(Value::B(std::string("\x00\xff", 2))));
  modify.prev_version = {1'600'000'000'000, 2, 42};
  modify.origin = 42;
  SyncChange remove = Change(104, 1, kRemove, Key(Value::B("k")));
  remove.txn_id = 102;  // same transaction as the modify
  SyncChange ttl = Change(110, 0, kRemove, Key(Value::S("dev-2")), Key(Value::N(item::Number::FromInt(-3))));
  ttl.ttl_delete = true;
  ttl.prev_version = {1'690'000'000'000, 0, 0xABCDEF0123456789ULL};
  b.changes = {insert, modify, remove, ttl};
  return b;
}

SyncPullRequest SamplePull() {
  SyncPullRequest r;
  r.replica = 0xFEEDFACECAFEBEEFULL;
  r.after_seq = 12345;
  r.bytes_max = 1 << 20;
  r.include_tables = {"telemetry", "config"};
  r.exclude_tables = {"scratch"};
  r.sender_clock = {1'700'000'000'000, 3, 0xFEEDFACECAFEBEEFULL};
  return r;
}

SyncPushAck SampleAck() {
  SyncPushAck a;
  a.receiver = 9;
  a.through_seq = 110;
  a.applied = 3;
  a.skipped = 1;
  a.conflicts = 1;
  a.receiver_clock = {1'700'000'001'000, 0, 9};
  return a;
}

// Expects `r` to fail with `code` and a message containing `needle`.
template <typename T>
void ExpectRefused(const Result<T>& r, Code code, const std::string& needle) {
  ASSERT_FALSE(r.ok()) << "accepted; expected a refusal mentioning \"" << needle << "\"";
  EXPECT_EQ(r.status().code(), code) << r.status().ToString();
  EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
}

void ExpectBatchRefused(const SyncBatch& b, const std::string& needle) {
  ExpectRefused(DecodeSyncBatch(EncodeSyncBatch(b)), Code::kCorruption, needle);
}

std::string BufferBytes(flatbuffers::FlatBufferBuilder& b) {
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

// A Message written with the generated API, for what the encoder never writes.
std::string RawMessage(uint16_t protocol, sfb::Body type, bool with_body = true) {
  flatbuffers::FlatBufferBuilder b;
  flatbuffers::Offset<void> body;
  if (with_body) {
    sfb::BatchBuilder bb(b);
    bb.add_after_seq(1);
    bb.add_through_seq(1);
    body = bb.Finish().Union();
  }
  auto root = sfb::CreateMessage(b, protocol, type, body);
  sfb::FinishMessageBuffer(b, root);
  return BufferBytes(b);
}

// --- random messages ----------------------------------------------------------------

// A valid batch: increasing seqs inside (after_seq, through_seq], keys and
// images that fit each change's table and op.
SyncBatch RandomBatch(item::testing::RandomValues& rnd) {
  SyncBatch b;
  b.sender = static_cast<uint64_t>(rnd.Int(0, INT64_MAX)) * (rnd.Coin() ? 2 : 1);
  b.sender_clock = {rnd.Int(0, INT64_MAX), static_cast<int32_t>(rnd.Int(0, INT32_MAX)), b.sender};
  b.after_seq = rnd.Int(-5, 1'000'000);
  b.more = rnd.Coin();
  b.oldest_unsent_ms = rnd.Coin() ? 0 : rnd.Int(0, INT64_MAX);
  const int64_t tables = rnd.Int(0, 4);
  for (int64_t t = 0; t < tables; ++t) {
    const item::Type types[] = {item::Type::kS, item::Type::kN, item::Type::kB};
    b.tables.push_back(Table("table_" + std::to_string(t) + rnd.Text(0, 8), rnd.Text(1, 10), types[rnd.Int(0, 2)],
                             rnd.Coin() ? rnd.Text(1, 10) : "", types[rnd.Int(0, 2)]));
  }
  int64_t seq = b.after_seq;
  int64_t txn = rnd.Int(0, 100);
  const int64_t changes = tables == 0 ? 0 : rnd.Int(0, 60);
  for (int64_t i = 0; i < changes; ++i) {
    seq += rnd.Int(1, 5);
    if (rnd.Int(0, 3) == 0) txn = seq;
    SyncChange c;
    c.seq = seq;
    c.txn_id = txn;
    c.table = static_cast<uint32_t>(rnd.Int(0, tables - 1));
    c.op = static_cast<uint8_t>(rnd.Int(1, 3));
    c.partition_key = rnd.Bytes(1, 64);
    if (b.tables[c.table].key_schema.sort.has_value()) c.sort_key = rnd.Bytes(1, 32);
    do {
      c.version = {rnd.Int(-1, INT64_MAX - 1), static_cast<int32_t>(rnd.Int(-1, 1000)),
                   static_cast<uint64_t>(rnd.Int(0, 3))};
    } while (c.version.is_zero());
    if (rnd.Coin()) c.prev_version = {rnd.Int(0, 1000), 0, static_cast<uint64_t>(rnd.Int(0, 3))};
    c.origin = static_cast<uint64_t>(rnd.Int(0, 3));
    if (c.op == kRemove) {
      c.ttl_delete = rnd.Coin();
    } else {
      c.new_image = rnd.Coin() ? EncodeItem(rnd.AnyItem(3)) : rnd.Bytes(0, 100);
    }
    b.changes.push_back(std::move(c));
  }
  b.through_seq = seq + rnd.Int(0, 3);
  b.sender_last_seq = b.through_seq + rnd.Int(0, 1000);
  return b;
}

// --- round trips -----------------------------------------------------------

TEST(SyncCodecTest, BatchRoundTrips) {
  const SyncBatch batch = SampleBatch();
  const std::string bytes = EncodeSyncBatch(batch);
  auto back = DecodeSyncBatch(bytes);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, batch);
  // The images arrive as the bytes the sender stored, and decode.
  auto image = DecodeItem(*back->changes[0].new_image);
  ASSERT_TRUE(image.ok()) << image.status().ToString();
  EXPECT_EQ(image->at("device").s(), Key(Value::S("dev-1")));
  // Keys decode with the key codec and the table's key types.
  auto ts = item::DecodeKeyValue(back->changes[3].sort_key, back->tables[0].key_schema.sort->type);
  ASSERT_TRUE(ts.ok());
  EXPECT_EQ(ts->n().ToString(), "-3");
}

TEST(SyncCodecTest, EmptyBatchRoundTrips) {
  SyncBatch empty;
  auto back = DecodeSyncBatch(EncodeSyncBatch(empty));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, empty);

  // A batch whose changes were all filtered out still moves the cursor.
  SyncBatch filtered;
  filtered.after_seq = 10;
  filtered.through_seq = 50;
  filtered.tables.push_back(Table("t1", "k", item::Type::kS));
  back = DecodeSyncBatch(EncodeSyncBatch(filtered));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, filtered);
}

TEST(SyncCodecTest, ExtremeValuesRoundTrip) {
  SyncBatch b;
  b.sender = UINT64_MAX;
  b.sender_clock = {INT64_MAX, INT32_MAX, UINT64_MAX};
  b.after_seq = INT64_MIN;
  b.through_seq = INT64_MAX;
  b.sender_last_seq = INT64_MAX;
  b.oldest_unsent_ms = INT64_MIN;
  b.tables.push_back(Table(std::string(255, 'x'), std::string(1, '\0'), item::Type::kN));
  SyncChange c = Change(INT64_MAX, 0, kInsert, std::string(2048, '\xff'));
  c.txn_id = INT64_MIN;
  c.version = {INT64_MIN, INT32_MIN, UINT64_MAX};
  c.prev_version = {0, 0, 1};
  c.origin = UINT64_MAX;
  c.new_image = std::string();  // present but empty: not this codec's business
  b.changes.push_back(c);
  auto back = DecodeSyncBatch(EncodeSyncBatch(b));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, b);
}

TEST(SyncCodecTest, PullRequestRoundTrips) {
  const SyncPullRequest r = SamplePull();
  auto back = DecodeSyncPullRequest(EncodeSyncPullRequest(r));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, r);

  SyncPullRequest none;
  auto back_none = DecodeSyncPullRequest(EncodeSyncPullRequest(none));
  ASSERT_TRUE(back_none.ok()) << back_none.status().ToString();
  EXPECT_EQ(*back_none, none);
}

TEST(SyncCodecTest, PushAckRoundTrips) {
  const SyncPushAck a = SampleAck();
  auto back = DecodeSyncPushAck(EncodeSyncPushAck(a));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, a);

  SyncPushAck zero;
  auto back_zero = DecodeSyncPushAck(EncodeSyncPushAck(zero));
  ASSERT_TRUE(back_zero.ok()) << back_zero.status().ToString();
  EXPECT_EQ(*back_zero, zero);
}

TEST(SyncCodecTest, DecodesUnalignedBytes) {
  const std::string bytes = EncodeSyncBatch(SampleBatch());
  for (size_t shift = 1; shift < 8; ++shift) {
    std::string padded(shift, 'x');
    padded += bytes;
    auto back = DecodeSyncBatch(std::string_view(padded).substr(shift));
    ASSERT_TRUE(back.ok()) << "shift " << shift << ": " << back.status().ToString();
    EXPECT_EQ(*back, SampleBatch());
  }
}

TEST(SyncCodecTest, EncodingIsDeterministicAcrossBuilderReuse) {
  const SyncBatch small = SampleBatch();
  const std::string first = EncodeSyncBatch(small);
  // A much larger batch grows the reused builder; the next small one must
  // come out byte for byte as before.
  SyncBatch big = SampleBatch();
  big.through_seq = 100'000;
  big.changes.clear();
  for (int64_t seq = 101; seq <= 5000; ++seq)
    big.changes.push_back(Change(seq, 1, kInsert, Key(Value::B("k" + std::to_string(seq)))));
  ASSERT_TRUE(DecodeSyncBatch(EncodeSyncBatch(big)).ok());
  EXPECT_EQ(EncodeSyncBatch(small), first);
  EXPECT_EQ(EncodeSyncPushAck(SampleAck()), EncodeSyncPushAck(SampleAck()));
  EXPECT_EQ(EncodeSyncPullRequest(SamplePull()), EncodeSyncPullRequest(SamplePull()));
}

TEST(SyncCodecTest, StartsWithTheFileIdentifier) {
  const std::string bytes = EncodeSyncBatch(SampleBatch());
  ASSERT_GE(bytes.size(), 8u);
  EXPECT_EQ(bytes.substr(4, 4), "ETS1");
}

// --- the size estimate ---------------------------------------------------------

TEST(SyncCodecTest, SizeEstimateIsCloseAndNotBelow) {
  item::testing::RandomValues rnd(4242);
  SyncBatch b;
  b.tables.push_back(Table("with_sort", "p", item::Type::kS, "s", item::Type::kB));
  b.tables.push_back(Table("no_sort", "p", item::Type::kB));
  b.after_seq = 0;
  b.through_seq = 1'000'000;
  const size_t empty_size = EncodeSyncBatch(b).size();
  int64_t estimate = 0;
  for (int64_t seq = 1; seq <= 2000; ++seq) {
    const uint32_t table = rnd.Coin() ? 1 : 0;
    const uint8_t op = static_cast<uint8_t>(rnd.Int(1, 3));
    SyncChange c = Change(seq, table, op, rnd.Bytes(1, 40), table == 0 ? rnd.Bytes(1, 30) : "");
    if (op != kRemove) c.new_image = rnd.Bytes(0, 300);
    if (rnd.Coin()) c.prev_version = {seq, 1, 2};
    estimate += SyncChangeSizeEstimate(c);
    b.changes.push_back(std::move(c));
  }
  const int64_t actual = static_cast<int64_t>(EncodeSyncBatch(b).size() - empty_size);
  const int64_t n = static_cast<int64_t>(b.changes.size());
  // Vtables: one per shape of change (a few dozen bytes each, a few shapes).
  const int64_t vtables = 16 * 32;
  EXPECT_GE(estimate + vtables, actual);
  EXPECT_LE(estimate - actual, 4 * n) << "estimate " << estimate << ", actual " << actual;
}

// --- refusals: framing -----------------------------------------------------------

TEST(SyncCodecTest, RefusesUnknownProtocolVersion) {
  ExpectRefused(DecodeSyncBatch(RawMessage(2, sfb::Body::Batch)), Code::kInvalidArgument, "protocol version 2");
  ExpectRefused(DecodeSyncBatch(RawMessage(0, sfb::Body::Batch)), Code::kInvalidArgument, "protocol version 0");
  ExpectRefused(DecodeSyncPushAck(RawMessage(65535, sfb::Body::PushAck, false)), Code::kInvalidArgument,
                "protocol version 65535");
  // A later version's body need not verify as this one's: the version is
  // what the receiver is told about.
  ExpectRefused(DecodeSyncBatch(RawMessage(2, static_cast<sfb::Body>(9))), Code::kInvalidArgument,
                "protocol version 2");
  // The version this build writes is accepted.
  EXPECT_TRUE(DecodeSyncBatch(RawMessage(kSyncProtocolVersion, sfb::Body::Batch)).ok());
}

TEST(SyncCodecTest, RefusesAnotherKindOfMessage) {
  const std::string batch = EncodeSyncBatch(SampleBatch());
  const std::string pull = EncodeSyncPullRequest(SamplePull());
  const std::string ack = EncodeSyncPushAck(SampleAck());
  ExpectRefused(DecodeSyncBatch(pull), Code::kInvalidArgument, "a PullRequest where a Batch was expected");
  ExpectRefused(DecodeSyncBatch(ack), Code::kInvalidArgument, "a PushAck where a Batch was expected");
  ExpectRefused(DecodeSyncPullRequest(batch), Code::kInvalidArgument, "a Batch where a PullRequest");
  ExpectRefused(DecodeSyncPullRequest(ack), Code::kInvalidArgument, "a PushAck where a PullRequest");
  ExpectRefused(DecodeSyncPushAck(batch), Code::kInvalidArgument, "a Batch where a PushAck");
  ExpectRefused(DecodeSyncPushAck(pull), Code::kInvalidArgument, "a PullRequest where a PushAck");
}

TEST(SyncCodecTest, RefusesMissingOrUnknownBody) {
  ExpectRefused(DecodeSyncBatch(RawMessage(1, sfb::Body::NONE, false)), Code::kCorruption, "no body");
  ExpectRefused(DecodeSyncBatch(RawMessage(1, sfb::Body::Batch, false)), Code::kCorruption, "body missing");
  ExpectRefused(DecodeSyncBatch(RawMessage(1, static_cast<sfb::Body>(7))), Code::kCorruption, "unknown body type 7");
}

// Every prefix is refused as corrupt, except that cutting only the alignment
// padding the builder put at the end (at most 7 bytes) loses nothing.
template <typename T, typename Decode>
void ExpectTruncationsRefused(const T& message, const std::string& bytes, Decode decode) {
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto r = decode(std::string_view(bytes).substr(0, n));
    if (r.ok()) {
      EXPECT_GE(n + 7, bytes.size()) << "a prefix of " << n << " of " << bytes.size() << " bytes decoded";
      EXPECT_EQ(*r, message);
    } else {
      EXPECT_EQ(r.status().code(), Code::kCorruption) << n << ": " << r.status().ToString();
    }
  }
}

TEST(SyncCodecTest, RefusesEveryTruncation) {
  ExpectTruncationsRefused(SampleBatch(), EncodeSyncBatch(SampleBatch()), DecodeSyncBatch);
  ExpectTruncationsRefused(SamplePull(), EncodeSyncPullRequest(SamplePull()), DecodeSyncPullRequest);
  ExpectTruncationsRefused(SampleAck(), EncodeSyncPushAck(SampleAck()), DecodeSyncPushAck);
}

TEST(SyncCodecTest, RefusesGarbage) {
  ExpectRefused(DecodeSyncBatch(""), Code::kCorruption, "no ETS1 identifier");
  ExpectRefused(DecodeSyncBatch("hello, hub"), Code::kCorruption, "no ETS1 identifier");
  // Another EdgeTable buffer: an item.
  ExpectRefused(DecodeSyncBatch(EncodeItem(item::Item{{"a", Value::S("b")}})), Code::kCorruption, "no ETS1 identifier");
  // The identifier, then nonsense.
  item::testing::RandomValues rnd(99);
  for (int i = 0; i < 2000; ++i) {
    std::string bytes = rnd.Bytes(8, 200);
    std::memcpy(bytes.data() + 4, "ETS1", 4);
    if (rnd.Coin()) {
      const uint32_t root = static_cast<uint32_t>(rnd.Int(0, static_cast<int64_t>(bytes.size()) + 8));
      std::memcpy(bytes.data(), &root, 4);
    }
    auto r = DecodeSyncBatch(bytes);
    ASSERT_FALSE(r.ok()) << "round " << i;
    EXPECT_TRUE(r.status().code() == Code::kCorruption || r.status().code() == Code::kInvalidArgument)
        << r.status().ToString();
  }
}

TEST(SyncCodecTest, SurvivesEveryByteFlip) {
  // Every single-byte change of valid messages decodes or is refused; run
  // under the sanitizers this shows the codec never reads outside the bytes.
  for (const std::string& bytes :
       {EncodeSyncBatch(SampleBatch()), EncodeSyncPullRequest(SamplePull()), EncodeSyncPushAck(SampleAck())}) {
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (uint8_t x : {0x01, 0x80, 0xFF}) {
        std::string m = bytes;
        m[i] = static_cast<char>(m[i] ^ x);
        auto b = DecodeSyncBatch(m);
        auto p = DecodeSyncPullRequest(m);
        auto a = DecodeSyncPushAck(m);
        if (b.ok()) {
          EXPECT_LE(b->changes.size(), 4u);
        }
      }
    }
  }
}

TEST(SyncCodecTest, SurvivesRandomMutations) {
  // Several bytes changed, inserted or cut at once, over random batches.
  const uint64_t seed = 31337;
  item::testing::RandomValues rnd(seed);
  for (int round = 0; round < 3000; ++round) {
    std::string m = EncodeSyncBatch(RandomBatch(rnd));
    for (int64_t k = rnd.Int(1, 8); k > 0 && !m.empty(); --k) {
      const size_t at = static_cast<size_t>(rnd.Int(0, static_cast<int64_t>(m.size()) - 1));
      switch (rnd.Int(0, 3)) {
        case 0:
          m[at] = static_cast<char>(rnd.Int(0, 255));
          break;
        case 1:
          m.insert(at, 1, static_cast<char>(rnd.Int(0, 255)));
          break;
        case 2:
          m.erase(at, 1);
          break;
        default:
          m.resize(at);
          break;
      }
    }
    auto r = DecodeSyncBatch(m);
    if (!r.ok()) {
      ASSERT_TRUE(r.status().code() == Code::kCorruption || r.status().code() == Code::kInvalidArgument)
          << "seed " << seed << " round " << round << ": " << r.status().ToString();
    }
  }
}

TEST(SyncCodecTest, RefusesRepeatedTablesBeyondTheBound) {
  // A vector of offsets that all point at one Change makes the Verifier visit
  // that table again for each: the table bound stops it.
  flatbuffers::FlatBufferBuilder b;
  auto pk = b.CreateVector(std::vector<uint8_t>{'k'});
  const sfb::Version v(1, 0, 1);
  auto change = sfb::CreateChange(b, 1, 1, 0, pk, 0, sfb::Op::Remove, &v);
  std::vector<flatbuffers::Offset<sfb::Change>> same(100'000, change);
  auto changes = b.CreateVector(same);
  sfb::BatchBuilder bb(b);
  bb.add_through_seq(1);
  bb.add_changes(changes);
  auto root = sfb::CreateMessage(b, 1, sfb::Body::Batch, bb.Finish().Union());
  sfb::FinishMessageBuffer(b, root);
  ExpectRefused(DecodeSyncBatch(BufferBytes(b)), Code::kCorruption, "verification");
}

TEST(SyncCodecTest, RefusesMissingRequiredFieldsAndUnknownKeyType) {
  // A TableDef without its (required) name: built without the generated
  // builder's own check.
  {
    flatbuffers::FlatBufferBuilder b;
    auto pname = b.CreateString("p");
    auto partition = sfb::CreateKeyAttribute(b, pname);
    const auto start = b.StartTable();
    b.AddOffset(sfb::TableDef::VT_PARTITION, partition);
    flatbuffers::Offset<sfb::TableDef> table(b.EndTable(start));
    auto tables = b.CreateVector(std::vector<flatbuffers::Offset<sfb::TableDef>>{table});
    sfb::BatchBuilder bb(b);
    bb.add_tables(tables);
    auto root = sfb::CreateMessage(b, 1, sfb::Body::Batch, bb.Finish().Union());
    sfb::FinishMessageBuffer(b, root);
    ExpectRefused(DecodeSyncBatch(BufferBytes(b)), Code::kCorruption, "verification");
  }
  // A key type this version does not know.
  {
    flatbuffers::FlatBufferBuilder b;
    auto pname = b.CreateString("p");
    auto partition = sfb::CreateKeyAttribute(b, pname, static_cast<sfb::KeyType>(5));
    auto tname = b.CreateString("t1");
    auto table = sfb::CreateTableDef(b, tname, partition);
    auto tables = b.CreateVector(std::vector<flatbuffers::Offset<sfb::TableDef>>{table});
    sfb::BatchBuilder bb(b);
    bb.add_tables(tables);
    auto root = sfb::CreateMessage(b, 1, sfb::Body::Batch, bb.Finish().Union());
    sfb::FinishMessageBuffer(b, root);
    ExpectRefused(DecodeSyncBatch(BufferBytes(b)), Code::kCorruption, "tables[0]: unknown key type 5");
  }
}

// --- refusals: the batch's rules ---------------------------------------------------

TEST(SyncCodecTest, RefusesTableIndexOutOfRange) {
  SyncBatch b = SampleBatch();
  b.changes[2].table = 2;
  ExpectBatchRefused(b, "changes[2] (seq 104): table index 2 out of range (2 tables)");
  b.changes[2].table = UINT32_MAX;
  ExpectBatchRefused(b, "table index 4294967295 out of range");
  SyncBatch no_tables = SampleBatch();
  no_tables.tables.clear();
  ExpectBatchRefused(no_tables, "changes[0] (seq 101): table index 0 out of range (0 tables)");
}

TEST(SyncCodecTest, RefusesUnknownOp) {
  for (uint8_t op : {0, 4, 255}) {
    SyncBatch b = SampleBatch();
    b.changes[1].op = op;
    ExpectBatchRefused(b, "changes[1] (seq 102): unknown op " + std::to_string(op));
  }
}

TEST(SyncCodecTest, RefusesMissingOrEmptyKeys) {
  SyncBatch b = SampleBatch();
  b.changes[1].partition_key.clear();
  ExpectBatchRefused(b, "changes[1] (seq 102): missing or empty partition key");

  b = SampleBatch();
  b.changes[0].sort_key.clear();
  ExpectBatchRefused(b, "changes[0] (seq 101): missing sort key of table \"telemetry\"");

  b = SampleBatch();
  b.changes[1].sort_key = "x";
  ExpectBatchRefused(b, "changes[1] (seq 102): a sort key, but table \"config\" has none");
}

TEST(SyncCodecTest, RefusesZeroVersion) {
  SyncBatch b = SampleBatch();
  b.changes[3].version = clock::Version{};
  ExpectBatchRefused(b, "changes[3] (seq 110): zero version");
  // A version with only a replica id is not zero.
  b.changes[3].version = clock::Version{0, 0, 5};
  EXPECT_TRUE(DecodeSyncBatch(EncodeSyncBatch(b)).ok());
}

TEST(SyncCodecTest, RefusesImagesThatDoNotFitTheOp) {
  SyncBatch b = SampleBatch();
  b.changes[2].new_image = EncodeItem(item::Item{{"k", Value::B("k")}});
  ExpectBatchRefused(b, "changes[2] (seq 104): an image on a Remove");
  b = SampleBatch();
  b.changes[2].new_image = std::string();  // even an empty one
  ExpectBatchRefused(b, "an image on a Remove");

  b = SampleBatch();
  b.changes[0].new_image.reset();
  ExpectBatchRefused(b, "changes[0] (seq 101): no image on an Insert");
  b = SampleBatch();
  b.changes[1].new_image.reset();
  ExpectBatchRefused(b, "changes[1] (seq 102): no image on a Modify");

  b = SampleBatch();
  b.changes[0].ttl_delete = true;
  ExpectBatchRefused(b, "changes[0] (seq 101): a TTL delete that is not a Remove");
}

TEST(SyncCodecTest, RefusesSequencesOutOfOrderOrRange) {
  SyncBatch b = SampleBatch();
  b.changes[2].seq = 102;  // repeats the previous one
  ExpectBatchRefused(b, "changes[2] (seq 102): not after the previous change's seq 102");
  b = SampleBatch();
  b.changes[2].seq = 101;
  ExpectBatchRefused(b, "changes[2] (seq 101): not after the previous change's seq 102");

  b = SampleBatch();
  b.changes[0].seq = 100;  // == after_seq
  ExpectBatchRefused(b, "changes[0] (seq 100): outside the batch's range (100, 110]");
  b = SampleBatch();
  b.changes[3].seq = 111;  // > through_seq
  ExpectBatchRefused(b, "changes[3] (seq 111): outside the batch's range (100, 110]");

  b = SampleBatch();
  b.changes.clear();
  b.through_seq = 99;
  ExpectBatchRefused(b, "through_seq 99 is before its after_seq 100");
}

TEST(SyncCodecTest, RefusesEmptyOrRepeatedNames) {
  SyncBatch b = SampleBatch();
  b.tables[1].name.clear();
  ExpectBatchRefused(b, "tables[1]: empty table name");

  b = SampleBatch();
  b.tables[0].key_schema.partition.name.clear();
  ExpectBatchRefused(b, "tables[0]: empty key attribute name");

  b = SampleBatch();
  b.tables[0].key_schema.sort->name.clear();
  ExpectBatchRefused(b, "tables[0]: empty key attribute name");

  b = SampleBatch();
  b.tables[1].name = "telemetry";
  ExpectBatchRefused(b, "table \"telemetry\" defined twice");

  SyncPullRequest p = SamplePull();
  p.include_tables.push_back("");
  ExpectRefused(DecodeSyncPullRequest(EncodeSyncPullRequest(p)), Code::kCorruption,
                "include_tables[2]: empty table name");
  p = SamplePull();
  p.exclude_tables = {""};
  ExpectRefused(DecodeSyncPullRequest(EncodeSyncPullRequest(p)), Code::kCorruption,
                "exclude_tables[0]: empty table name");
}

TEST(SyncCodecTest, RandomMessagesRoundTrip) {
  const uint64_t seed = 20240611;
  item::testing::RandomValues rnd(seed);
  for (int i = 0; i < 300; ++i) {
    const SyncBatch batch = RandomBatch(rnd);
    const std::string bytes = EncodeSyncBatch(batch);
    auto back = DecodeSyncBatch(bytes);
    ASSERT_TRUE(back.ok()) << "seed " << seed << " round " << i << ": " << back.status().ToString();
    ASSERT_EQ(*back, batch) << "seed " << seed << " round " << i;
    // Re-encoding what was decoded gives the same bytes.
    ASSERT_EQ(EncodeSyncBatch(*back), bytes) << "seed " << seed << " round " << i;

    SyncPullRequest pull;
    pull.replica = static_cast<uint64_t>(rnd.Int(0, INT64_MAX));
    pull.after_seq = rnd.Int(-(int64_t{1} << 61), int64_t{1} << 61);
    pull.bytes_max = rnd.Int(0, INT64_MAX);
    for (int64_t n = rnd.Int(0, 3); n > 0; --n) pull.include_tables.push_back(rnd.Text(1, 12));
    for (int64_t n = rnd.Int(0, 3); n > 0; --n) pull.exclude_tables.push_back(rnd.Text(1, 12));
    pull.sender_clock = {rnd.Int(0, INT64_MAX), static_cast<int32_t>(rnd.Int(0, 100)), pull.replica};
    auto pull_back = DecodeSyncPullRequest(EncodeSyncPullRequest(pull));
    ASSERT_TRUE(pull_back.ok()) << "seed " << seed << " round " << i << ": " << pull_back.status().ToString();
    ASSERT_EQ(*pull_back, pull);

    SyncPushAck ack;
    ack.receiver = static_cast<uint64_t>(rnd.Int(0, INT64_MAX));
    ack.through_seq = rnd.Int(-(int64_t{1} << 61), int64_t{1} << 61);
    ack.applied = static_cast<int32_t>(rnd.Int(0, INT32_MAX));
    ack.skipped = static_cast<int32_t>(rnd.Int(0, INT32_MAX));
    ack.conflicts = static_cast<int32_t>(rnd.Int(0, INT32_MAX));
    ack.receiver_clock = {rnd.Int(0, INT64_MAX), static_cast<int32_t>(rnd.Int(0, 100)), ack.receiver};
    auto ack_back = DecodeSyncPushAck(EncodeSyncPushAck(ack));
    ASSERT_TRUE(ack_back.ok()) << "seed " << seed << " round " << i << ": " << ack_back.status().ToString();
    ASSERT_EQ(*ack_back, ack);
  }
}

// --- snapshots ------------------------------------------------------------------

SyncSnapshotRequest SampleSnapshotRequest() {
  SyncSnapshotRequest r;
  r.replica = 0xFEEDFACECAFEBEEFULL;
  r.snapshot_seq = 4242;
  r.after_table = "telemetry";
  r.after_partition_key = Key(Value::S("dev-1"));
  r.after_sort_key = Key(Value::N(item::Number::FromInt(5)));
  r.bytes_max = 1 << 20;
  r.include_tables = {"telemetry", "config"};
  r.exclude_tables = {"scratch"};
  r.sender_clock = {1'700'000'000'000, 3, 0xFEEDFACECAFEBEEFULL};
  return r;
}

// Rows of two tables in (table, key) order: items and a tombstone.
SyncSnapshotPage SampleSnapshotPage() {
  SyncSnapshotPage p;
  p.sender = 0x1122334455667788ULL;
  p.sender_clock = {1'700'000'000'999, 7, 0x1122334455667788ULL};
  p.snapshot_seq = 4242;
  p.more = true;
  p.tables.push_back(Table("config", "id", item::Type::kB));
  p.tables.push_back(Table("telemetry", "device", item::Type::kS, "ts", item::Type::kN));
  SyncChange a = Change(17, 0, kInsert, Key(Value::B(std::string("\x00\xff", 2))));
  SyncChange b = Change(3, 0, kRemove, Key(Value::B("k")));
  b.prev_version = {1'600'000'000'000, 2, 42};
  SyncChange c = Change(0, 1, kInsert, Key(Value::S("dev-1")), Key(Value::N(item::Number::FromInt(-3))));
  SyncChange d = Change(99, 1, kInsert, Key(Value::S("dev-1")), Key(Value::N(item::Number::FromInt(5))));
  for (SyncChange* x : {&a, &b, &c, &d}) x->txn_id = 0;
  p.changes = {a, b, c, d};
  p.next_table = "telemetry";
  p.next_partition_key = d.partition_key;
  p.next_sort_key = d.sort_key;
  return p;
}

void ExpectPageRefused(const SyncSnapshotPage& p, const std::string& needle) {
  ExpectRefused(DecodeSyncSnapshotPage(EncodeSyncSnapshotPage(p)), Code::kCorruption, needle);
}

TEST(SyncCodecTest, SnapshotMessagesRoundTrip) {
  EXPECT_EQ(DecodeSyncSnapshotRequest(EncodeSyncSnapshotRequest(SampleSnapshotRequest())).value(),
            SampleSnapshotRequest());
  EXPECT_EQ(DecodeSyncSnapshotRequest(EncodeSyncSnapshotRequest(SyncSnapshotRequest{})).value(),
            SyncSnapshotRequest{});
  EXPECT_EQ(DecodeSyncSnapshotPage(EncodeSyncSnapshotPage(SampleSnapshotPage())).value(), SampleSnapshotPage());
  SyncSnapshotPage last;  // the last page of an empty hub
  last.sender = 5;
  last.snapshot_seq = 0;
  EXPECT_EQ(DecodeSyncSnapshotPage(EncodeSyncSnapshotPage(last)).value(), last);
  // Unaligned input.
  const std::string bytes = EncodeSyncSnapshotPage(SampleSnapshotPage());
  std::string shifted = "x" + bytes;
  EXPECT_EQ(DecodeSyncSnapshotPage(std::string_view(shifted).substr(1)).value(), SampleSnapshotPage());
}

TEST(SyncCodecTest, SnapshotMessagesAreNotTakenForOthers) {
  const std::string req = EncodeSyncSnapshotRequest(SampleSnapshotRequest());
  const std::string page = EncodeSyncSnapshotPage(SampleSnapshotPage());
  ExpectRefused(DecodeSyncBatch(page), Code::kInvalidArgument, "a SnapshotPage where a Batch was expected");
  ExpectRefused(DecodeSyncPullRequest(req), Code::kInvalidArgument, "a SnapshotRequest where a PullRequest");
  ExpectRefused(DecodeSyncSnapshotPage(EncodeSyncBatch(SampleBatch())), Code::kInvalidArgument,
                "a Batch where a SnapshotPage");
  ExpectRefused(DecodeSyncSnapshotRequest(page), Code::kInvalidArgument, "a SnapshotPage where a SnapshotRequest");
}

TEST(SyncCodecTest, SnapshotMessagesRefuseEveryTruncationAndSurviveByteFlips) {
  ExpectTruncationsRefused(SampleSnapshotRequest(), EncodeSyncSnapshotRequest(SampleSnapshotRequest()),
                           DecodeSyncSnapshotRequest);
  ExpectTruncationsRefused(SampleSnapshotPage(), EncodeSyncSnapshotPage(SampleSnapshotPage()),
                           DecodeSyncSnapshotPage);
  const std::string bytes = EncodeSyncSnapshotPage(SampleSnapshotPage());
  for (size_t i = 0; i < bytes.size(); ++i) {
    for (uint8_t mask : {0x01, 0x80, 0xff}) {
      std::string flipped = bytes;
      flipped[i] = static_cast<char>(flipped[i] ^ mask);
      auto r = DecodeSyncSnapshotPage(flipped);  // must not crash or read outside
      if (r.ok()) {
        EXPECT_EQ(DecodeSyncSnapshotPage(EncodeSyncSnapshotPage(*r)).value(), *r);  // what passes is well-formed
      }
    }
  }
}

TEST(SyncCodecTest, SnapshotPageRefusesRowsThatBreakTheRules) {
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    std::swap(p.changes[2], p.changes[3]);
    ExpectPageRefused(p, "rows[3]: not after the previous row");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[1] = p.changes[0];
    ExpectPageRefused(p, "rows[1]: not after the previous row");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    std::swap(p.changes[0], p.changes[2]);  // a row of table 1 before rows of table 0
    ExpectPageRefused(p, "not after the previous row");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[0].txn_id = 7;
    ExpectPageRefused(p, "rows[0]: a snapshot row with a txn_id");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[1].seq = -1;
    ExpectPageRefused(p, "rows[1]: negative seq");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[3].table = 2;
    ExpectPageRefused(p, "rows[3]: table index 2 out of range");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[1].new_image = p.changes[0].new_image;
    ExpectPageRefused(p, "rows[1]: an image on a Remove");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[2].sort_key.clear();
    ExpectPageRefused(p, "rows[2]: missing sort key");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.changes[0].version = {};
    ExpectPageRefused(p, "rows[0]: zero version");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.next_table.clear();
    ExpectPageRefused(p, "more rows but no next_table");
    p.more = false;
    ExpectPageRefused(p, "a next key without a next_table");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.snapshot_seq = -5;
    ExpectPageRefused(p, "negative snapshot_seq");
  }
  {
    SyncSnapshotPage p = SampleSnapshotPage();
    p.tables[1].name = "config";
    ExpectPageRefused(p, "defined twice");
  }
}

TEST(SyncCodecTest, SnapshotRequestRefusesBadPositionsAndNames) {
  {
    SyncSnapshotRequest r = SampleSnapshotRequest();
    r.after_table.clear();
    ExpectRefused(DecodeSyncSnapshotRequest(EncodeSyncSnapshotRequest(r)), Code::kCorruption,
                  "an after key without an after_table");
  }
  {
    SyncSnapshotRequest r = SampleSnapshotRequest();
    r.snapshot_seq = -1;
    ExpectRefused(DecodeSyncSnapshotRequest(EncodeSyncSnapshotRequest(r)), Code::kCorruption,
                  "negative snapshot_seq");
  }
  {
    SyncSnapshotRequest r = SampleSnapshotRequest();
    r.exclude_tables.push_back("");
    ExpectRefused(DecodeSyncSnapshotRequest(EncodeSyncSnapshotRequest(r)), Code::kCorruption,
                  "exclude_tables[1]: empty table name");
  }
}

}  // namespace
}  // namespace edgetable::wire
