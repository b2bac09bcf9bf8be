// The replication protocol end to end in one process: edges (Client) and a
// hub (Hub) over a transport that calls the hub's handlers directly.

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edge/base/clock.h"
#include "edge/storage/storage.h"
#include "edge/wire/item_codec.h"
#include "edge/wire/sync_codec.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"
#include "tests/support/temp_dir.h"

namespace edgetable::sync {
namespace {

using item::Item;
using item::Map;
using item::Value;

constexpr int64_t kT0 = 1'780'000'000'000;

class LoopbackTransport final : public Transport {
 public:
  LoopbackTransport(Hub* hub, std::string token) : hub_(hub) { caller_.bearer_token = std::move(token); }
  Result<HttpReply> Post(std::string_view path, std::string_view body) override {
    ++stats_.requests;
    last_body_.assign(body);
    if (path == kSnapshotPath && snapshot_pages_left_ == 0) return Status::Unavailable("test: connection lost");
    if (path == kSnapshotPath && snapshot_pages_left_ > 0) --snapshot_pages_left_;
    HubReply r = path == kPushPath       ? hub_->HandlePush(caller_, body)
                 : path == kSnapshotPath ? hub_->HandleSnapshot(caller_, body)
                                         : hub_->HandlePull(caller_, body);
    return HttpReply{r.status, std::move(r.body), std::move(r.content_type)};
  }
  TransportStats Stats() const override { return stats_; }
  const std::string& last_body() const { return last_body_; }
  // Snapshot requests answered before the connection "fails" (-1: never).
  void FailSnapshotAfter(int pages) { snapshot_pages_left_ = pages; }

 private:
  Hub* hub_;
  int snapshot_pages_left_ = -1;
  Caller caller_;
  TransportStats stats_;
  std::string last_body_;
};

Item Reading(const std::string& device, int64_t ts, const std::string& value) {
  return Item{{"device", Value::S(device)},
              {"ts", Value::N(item::Number::FromInt(ts))},
              {"v", Value::S(value)}};
}
Map KeyOf(const std::string& device, int64_t ts) {
  return Map{{"device", Value::S(device)}, {"ts", Value::N(item::Number::FromInt(ts))}};
}
item::KeySchema ReadingsSchema() {
  return item::KeySchema{{"device", item::Type::kS}, item::KeyAttribute{"ts", item::Type::kN}};
}

// One transaction: readings d1/0, d1/1 and d1/2.
std::vector<storage::Write> ThreePutsOfD1() {
  std::vector<storage::Write> writes;
  for (int i = 0; i < 3; ++i) {
    Item it = Reading("d1", i, "t");
    writes.push_back(storage::Write{"readings", KeyOf("d1", i),
                                    [it](const Item*) -> Result<storage::Decision> { return storage::Decision::Put(it); },
                                    false});
  }
  return writes;
}

struct Node {
  std::unique_ptr<storage::Storage> storage;
  std::unique_ptr<LoopbackTransport> transport;
  std::unique_ptr<Client> client;
};

class SyncProtocolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    storage::Options o;
    o.path = dir_.File("hub.db");
    o.clock = &clock_;
    o.no_upstream = true;
    o.ttl_sweep_interval_ms = 0;
    hub_storage_ = storage::Storage::Open(o).value();
    HubOptions h;
    h.clock = &clock_;
    h.peers = {PeerConfig{"gw-a", "token-a", "", {}},
               PeerConfig{"gw-b", "token-b", "", {}},
               PeerConfig{"gw-c", "token-c", "", Scope{{"readings"}, {"c/"}}}};
    hub_ = Hub::Create(hub_storage_.get(), h).value();
  }

  Node MakeEdge(const std::string& name, const std::string& token, const Clock* clock = nullptr,
                ClientOptions options = {}) {
    Node n;
    storage::Options o;
    o.path = dir_.File(name + ".db");
    o.clock = clock ? clock : &clock_;
    o.ttl_sweep_interval_ms = 0;
    n.storage = storage::Storage::Open(o).value();
    n.transport = std::make_unique<LoopbackTransport>(hub_.get(), token);
    options.clock = clock ? clock : &clock_;
    n.client = Client::Create(n.storage.get(), n.transport.get(), options).value();
    return n;
  }

  static void CreateReadings(storage::Storage* s) {
    ASSERT_TRUE(s->CreateTable("readings", ReadingsSchema()).ok());
  }

  testing::TempDir dir_;
  FakeClock clock_{kT0};
  std::unique_ptr<storage::Storage> hub_storage_;
  std::unique_ptr<Hub> hub_;
};

TEST_F(SyncProtocolTest, WriteOnOneEdgeArrivesAtHubAndOtherEdgeWithItsVersion) {
  Node a = MakeEdge("a", "token-a");
  Node b = MakeEdge("b", "token-b");
  CreateReadings(a.storage.get());
  auto w = a.storage->Put("readings", Reading("d1", 1, "x"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), a.storage->Stats().last_seq);
  auto at_hub = hub_storage_->GetStored("readings", KeyOf("d1", 1));
  ASSERT_TRUE(at_hub.ok());
  ASSERT_TRUE(at_hub->has_value());
  EXPECT_EQ((*at_hub)->version, w->version);
  ASSERT_TRUE(b.client->SyncOnce().ok()) << b.client->Stats().last_error;
  auto at_b = b.storage->GetStored("readings", KeyOf("d1", 1));
  ASSERT_TRUE(at_b.ok());
  ASSERT_TRUE(at_b->has_value());
  EXPECT_EQ((*at_b)->version, w->version);
  EXPECT_EQ((*at_b)->item, Reading("d1", 1, "x"));
  // The origin never gets its own change back, and B does not push it back.
  ASSERT_TRUE(a.client->SyncOnce().ok());
  EXPECT_EQ(a.client->Stats().changes_pulled, 0);
  ASSERT_TRUE(b.client->SyncOnce().ok());
  EXPECT_EQ(b.client->Stats().changes_pushed, 0);
  EXPECT_EQ(hub_->Stats().changes_applied, 1);
}

TEST_F(SyncProtocolTest, ApplyingTheSameBatchTwiceChangesNothing) {
  Node a = MakeEdge("a", "token-a");
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 1, "x")).ok());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 2, "y")).ok());
  bool more = false;
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  const std::string body = a.transport->last_body();
  const int64_t hub_seq = hub_storage_->Stats().last_seq;
  HubReply again = hub_->HandlePush(Caller{"token-a", ""}, body);
  ASSERT_EQ(again.status, 200) << again.body;
  auto ack = wire::DecodeSyncPushAck(again.body).value();
  EXPECT_EQ(ack.applied, 0);
  EXPECT_EQ(ack.skipped, 2);
  EXPECT_EQ(hub_storage_->Stats().last_seq, hub_seq);
}

TEST_F(SyncProtocolTest, TransactionsTravelWholeEvenWithTinyBatches) {
  ClientOptions small;
  small.batch_changes_max = 1;
  Node a = MakeEdge("a", "token-a", nullptr, small);
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Transact(ThreePutsOfD1()).status.ok());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d2", 1, "single")).ok());
  bool more = false;
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  EXPECT_TRUE(more);
  auto batch = wire::DecodeSyncBatch(a.transport->last_body()).value();
  ASSERT_EQ(batch.changes.size(), 3u);
  EXPECT_EQ(batch.changes[0].txn_id, batch.changes[2].txn_id);
  EXPECT_EQ(hub_->Stats().changes_applied, 3);
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  EXPECT_FALSE(more);
  EXPECT_EQ(hub_->Stats().changes_applied, 4);

  // The hub's log keeps the edge's transactions (not one per push batch),
  // so that it forwards them whole and no bigger.
  auto log = hub_storage_->ReadChanges(0, 10).value();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[1].txn_id, log[0].txn_id);
  EXPECT_EQ(log[2].txn_id, log[0].txn_id);
  EXPECT_NE(log[3].txn_id, log[0].txn_id);
}

TEST_F(SyncProtocolTest, TheHubKeepsTheSendersTransactionsWithinOneBatch) {
  Node a = MakeEdge("a", "token-a");
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d0", 1, "single")).ok());
  ASSERT_TRUE(a.storage->Transact(ThreePutsOfD1()).status.ok());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d2", 1, "single")).ok());
  bool more = true;
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  EXPECT_FALSE(more);
  auto log = hub_storage_->ReadChanges(0, 10).value();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].txn_id, log[0].seq);
  EXPECT_EQ(log[1].txn_id, log[1].seq);
  EXPECT_EQ(log[2].txn_id, log[1].seq);
  EXPECT_EQ(log[3].txn_id, log[1].seq);
  EXPECT_EQ(log[4].txn_id, log[4].seq);
}

TEST_F(SyncProtocolTest, CallersWithoutOrWithUnknownCredentialsAreRefused) {
  Node a = MakeEdge("a", "token-a");
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 1, "x")).ok());
  bool more = false;
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  const std::string body = a.transport->last_body();
  EXPECT_EQ(hub_->HandlePush(Caller{}, body).status, 401);
  EXPECT_EQ(hub_->HandlePush(Caller{"token-x", ""}, body).status, 401);
  EXPECT_EQ(hub_->HandlePull(Caller{"", "CN=nobody"}, body).status, 401);
  // Another peer replaying A's batch claims A's replica id.
  HubReply stolen = hub_->HandlePush(Caller{"token-b", ""}, body);
  EXPECT_EQ(stolen.status, 403);
  EXPECT_NE(stolen.body.find("belongs to peer gw-a"), std::string::npos) << stolen.body;
  EXPECT_EQ(hub_->Stats().unauthenticated, 3);
  EXPECT_EQ(hub_->Stats().forbidden, 1);
}

TEST_F(SyncProtocolTest, ABatchWithAnyChangeOutOfScopeIsRefusedWhole) {
  Node c = MakeEdge("c", "token-c");
  CreateReadings(c.storage.get());
  ASSERT_TRUE(c.storage->Put("readings", Reading("c/1", 1, "in")).ok());
  ASSERT_TRUE(c.storage->Put("readings", Reading("x/1", 1, "out")).ok());
  Status s = c.client->SyncOnce();
  EXPECT_EQ(s.code(), Status::Code::kPermissionDenied) << s.ToString();
  EXPECT_EQ(c.storage->UpstreamAckedSeq(), 0);
  auto t = hub_storage_->DescribeTable("readings");
  EXPECT_TRUE(!t.ok() || t->item_count == 0);
  EXPECT_NE(c.client->Stats().last_error.find("outside the scope"), std::string::npos);

  // Another table is outside the scope as a whole.
  Node c2 = MakeEdge("c2", "token-c");
  ASSERT_TRUE(c2.storage->CreateTable("other", ReadingsSchema()).ok());
  ASSERT_TRUE(c2.storage->Put("other", Reading("c/1", 1, "x")).ok());
  EXPECT_EQ(c2.client->SyncOnce().code(), Status::Code::kPermissionDenied);
}

TEST_F(SyncProtocolTest, PullsReturnOnlyWhatIsInScope) {
  Node a = MakeEdge("a", "token-a");
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->CreateTable("other", ReadingsSchema()).ok());
  ASSERT_TRUE(a.storage->Put("readings", Reading("c/1", 1, "mine")).ok());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d/1", 1, "not mine")).ok());
  ASSERT_TRUE(a.storage->Put("other", Reading("c/1", 1, "other table")).ok());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  Node c = MakeEdge("c", "token-c");
  ASSERT_TRUE(c.client->SyncOnce().ok()) << c.client->Stats().last_error;
  EXPECT_EQ(c.client->Stats().changes_pulled, 1);
  EXPECT_TRUE(c.storage->Get("readings", KeyOf("c/1", 1)).value().has_value());
  EXPECT_FALSE(c.storage->Get("readings", KeyOf("d/1", 1)).value().has_value());
  EXPECT_FALSE(c.storage->DescribeTable("other").ok());
}

TEST_F(SyncProtocolTest, AVersionBeyondTheSkewBoundIsRefusedWithRefusePolicy) {
  OffsetClock ahead(&clock_, 2 * 3600 * 1000);
  Node a = MakeEdge("a", "token-a", &ahead);
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 1, "from the future")).ok());
  Status s = a.client->SyncOnce();
  EXPECT_EQ(s.code(), Status::Code::kConditionFailed) << s.ToString();
  EXPECT_NE(s.message().find("skew"), std::string::npos);
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), 0);
  EXPECT_FALSE(hub_storage_->DescribeTable("readings").ok());
  EXPECT_LT(hub_storage_->LastVersion().hlc_ms, kT0 + 3600 * 1000);
  EXPECT_EQ(hub_->Stats().skew_flagged, 2);  // the change and the sender's clock
}

TEST_F(SyncProtocolTest, ClampPolicyAppliesTheVersionButKeepsTheClock) {
  hub_.reset();
  HubOptions h;
  h.clock = &clock_;
  h.skew_policy = SkewPolicy::kClamp;
  h.max_skew_ms = 60'000;
  h.peers = {PeerConfig{"gw-a", "token-a", "", {}}};
  hub_ = Hub::Create(hub_storage_.get(), h).value();
  OffsetClock ahead(&clock_, 2 * 3600 * 1000);
  Node a = MakeEdge("a", "token-a", &ahead);
  CreateReadings(a.storage.get());
  auto w = a.storage->Put("readings", Reading("d1", 1, "from the future"));
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  auto at_hub = hub_storage_->GetStored("readings", KeyOf("d1", 1)).value();
  ASSERT_TRUE(at_hub.has_value());
  EXPECT_EQ(at_hub->version, w->version);
  EXPECT_LE(hub_storage_->LastVersion().hlc_ms, kT0 + 60'000);
}

TEST_F(SyncProtocolTest, ConcurrentWritesConvergeAndTheLoserIsRecorded) {
  Node a = MakeEdge("a", "token-a");
  Node b = MakeEdge("b", "token-b");
  CreateReadings(a.storage.get());
  CreateReadings(b.storage.get());
  auto wa = a.storage->Put("readings", Reading("d1", 1, "from a"));
  clock_.AdvanceMs(5);
  auto wb = b.storage->Put("readings", Reading("d1", 1, "from b"));
  ASSERT_TRUE(wa.ok() && wb.ok());
  ASSERT_GT(wb->version, wa->version);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
    ASSERT_TRUE(b.client->SyncOnce().ok()) << b.client->Stats().last_error;
  }
  for (storage::Storage* s : {a.storage.get(), b.storage.get(), hub_storage_.get()}) {
    auto got = s->GetStored("readings", KeyOf("d1", 1)).value();
    ASSERT_TRUE(got.has_value());
    EXPECT_EQ(got->version, wb->version);
    EXPECT_EQ(got->item.at("v").s(), "from b");
  }
  // A's write lost at the hub (overwritten) and at A (overwritten): recorded.
  for (storage::Storage* s : {a.storage.get(), hub_storage_.get()}) {
    storage::ScanRequest scan;
    scan.table = std::string(kConflictsTable);
    auto page = s->Scan(scan).value();
    ASSERT_EQ(page.items.size(), 1u);
    const Item& c = page.items[0];
    EXPECT_EQ(c.at("loser_version").s(), wa->version.ToString());
    EXPECT_EQ(c.at("winner_version").s(), wb->version.ToString());
  }
}

TEST_F(SyncProtocolTest, DirectionsDecideWhatGoesUpAndDown) {
  ClientOptions opts;
  opts.table_directions = {{"local_only", Direction::kNone}, {"config", Direction::kDown}};
  Node a = MakeEdge("a", "token-a", nullptr, opts);
  ASSERT_TRUE(a.storage->CreateTable("local_only", ReadingsSchema()).ok());
  ASSERT_TRUE(a.storage->CreateTable("config", ReadingsSchema()).ok());
  ASSERT_TRUE(a.storage->Put("local_only", Reading("d1", 1, "stays")).ok());
  ASSERT_TRUE(a.storage->Put("config", Reading("d1", 1, "stays too")).ok());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  EXPECT_FALSE(hub_storage_->DescribeTable("local_only").ok());
  EXPECT_FALSE(hub_storage_->DescribeTable("config").ok());
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), a.storage->Stats().last_seq);
  // The hub's config comes down; its other tables do not.
  ASSERT_TRUE(hub_storage_->CreateTable("config", ReadingsSchema()).ok());
  ASSERT_TRUE(hub_storage_->CreateTable("local_only", ReadingsSchema()).ok());
  ASSERT_TRUE(hub_storage_->Put("config", Reading("d2", 1, "from hub")).ok());
  ASSERT_TRUE(hub_storage_->Put("local_only", Reading("d2", 1, "from hub")).ok());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  EXPECT_TRUE(a.storage->Get("config", KeyOf("d2", 1)).value().has_value());
  EXPECT_FALSE(a.storage->Get("local_only", KeyOf("d2", 1)).value().has_value());
}

TEST_F(SyncProtocolTest, PullCursorSurvivesARestartAndNothingIsAppliedTwice) {
  CreateReadings(hub_storage_.get());
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(hub_storage_->Put("readings", Reading("h", i, "x")).ok());
  {
    Node a = MakeEdge("a", "token-a");
    ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
    EXPECT_EQ(a.client->Stats().changes_applied, 5);
  }
  Node again = MakeEdge("a", "token-a");
  EXPECT_EQ(again.client->Stats().pull_cursor, hub_storage_->Stats().last_seq);
  ASSERT_TRUE(again.client->SyncOnce().ok());
  EXPECT_EQ(again.client->Stats().changes_pulled, 0);
}

TEST_F(SyncProtocolTest, TtlDeletesReplicateMarkedAsTtlDeletes) {
  Node a = MakeEdge("a", "token-a");
  Node b = MakeEdge("b", "token-b");
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 1, "x")).ok());
  ASSERT_TRUE(a.client->SyncOnce().ok());
  ASSERT_TRUE(b.client->SyncOnce().ok());
  ASSERT_TRUE(a.storage->Apply(storage::Write{"readings", KeyOf("d1", 1),
                                              [](const Item*) -> Result<storage::Decision> {
                                                return storage::Decision::Delete();
                                              },
                                              true})
                  .ok());
  ASSERT_TRUE(a.client->SyncOnce().ok());
  ASSERT_TRUE(b.client->SyncOnce().ok());
  EXPECT_FALSE(b.storage->Get("readings", KeyOf("d1", 1)).value().has_value());
  auto changes = b.storage->ReadChanges(0, 100).value();
  ASSERT_FALSE(changes.empty());
  EXPECT_EQ(changes.back().op, storage::ChangeOp::kRemove);
  EXPECT_TRUE(changes.back().ttl_delete);
  auto at_hub = hub_storage_->ReadChanges(0, 100).value();
  EXPECT_TRUE(at_hub.back().ttl_delete);
}

TEST_F(SyncProtocolTest, RetentionEvictsOnlyWhatTheHubAcknowledgedAndNeverDeletesAtTheHub) {
  storage::Options o;
  o.path = dir_.File("r.db");
  o.clock = &clock_;
  o.ttl_sweep_interval_ms = 0;
  o.retention_max_age_ms = 60'000;
  Node a;
  a.storage = storage::Storage::Open(o).value();
  a.transport = std::make_unique<LoopbackTransport>(hub_.get(), "token-a");
  ClientOptions copts;
  copts.clock = &clock_;
  a.client = Client::Create(a.storage.get(), a.transport.get(), copts).value();
  CreateReadings(a.storage.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("d1", 1, "old")).ok());
  clock_.AdvanceMs(120'000);
  // Old enough, but the hub has not acknowledged it: kept.
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.storage->RunMaintenanceOnce().ok());
  EXPECT_TRUE(a.storage->Get("readings", KeyOf("d1", 1)).value().has_value());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.storage->RunMaintenanceOnce().ok());
  EXPECT_FALSE(a.storage->Get("readings", KeyOf("d1", 1)).value().has_value());
  EXPECT_EQ(a.storage->Stats().evictions, 1);
  // The eviction is local: nothing travels, the hub keeps the item.
  const int64_t hub_seq = hub_storage_->Stats().last_seq;
  ASSERT_TRUE(a.client->SyncOnce().ok());
  EXPECT_EQ(hub_storage_->Stats().last_seq, hub_seq);
  EXPECT_TRUE(hub_storage_->Get("readings", KeyOf("d1", 1)).value().has_value());
}

TEST_F(SyncProtocolTest, GarbageIsRefusedAndChangesNothing) {
  const int64_t seq = hub_storage_->Stats().last_seq;
  HubReply r = hub_->HandlePush(Caller{"token-a", ""}, "not a sync message at all");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(hub_storage_->Stats().last_seq, seq);
}

TEST_F(SyncProtocolTest, AChangeClaimingTheHubsReplicaIsRefused) {
  CreateReadings(hub_storage_.get());
  wire::SyncBatch b;
  b.sender = 0x1234;
  b.after_seq = 0;
  b.through_seq = 1;
  b.tables.push_back(wire::SyncTable{"readings", ReadingsSchema()});
  wire::SyncChange c;
  c.seq = 1;
  c.txn_id = 1;
  c.partition_key = item::EncodeKeyValue(Value::S("d1")).value();
  c.sort_key = item::EncodeKeyValue(Value::N(item::Number::FromInt(1))).value();
  c.version = clock::Version{kT0, 0, hub_storage_->replica_id()};
  c.origin = hub_storage_->replica_id();
  c.new_image = std::nullopt;
  c.op = 3;
  b.changes.push_back(c);
  HubReply r = hub_->HandlePush(Caller{"token-a", ""}, wire::EncodeSyncBatch(b));
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_FALSE(hub_storage_->GetStored("readings", KeyOf("d1", 1)).value().has_value());
}

// Fails the push Posts it is told to, before the hub sees them or after the
// hub applied them (the answer lost), and records every push's after_seq.
class FlakyTransport final : public Transport {
 public:
  explicit FlakyTransport(LoopbackTransport* inner) : inner_(inner) {}
  Result<HttpReply> Post(std::string_view path, std::string_view body) override {
    if (path != kPushPath) return inner_->Post(path, body);
    const int n = pushes_++;
    push_after_.push_back(wire::DecodeSyncBatch(body).value().after_seq);
    if (n == fail_before_hub) return Status::Unavailable("test: connection refused");
    Result<HttpReply> r = inner_->Post(path, body);
    if (n == fail_after_hub) return Status::Unavailable("test: connection reset before the answer");
    return r;
  }
  TransportStats Stats() const override { return inner_->Stats(); }

  int fail_before_hub = -1;  // the index of the push to fail, or -1
  int fail_after_hub = -1;
  const std::vector<int64_t>& push_after() const { return push_after_; }

 private:
  LoopbackTransport* inner_;
  int pushes_ = 0;
  std::vector<int64_t> push_after_;
};

// Pipelined pushes: the batch prepared while the previous one was on the
// wire is sent only after that one's acknowledgement; a failure drops it,
// and the failed batch goes again from the unmoved cursor.
class PipelinedPushTest : public SyncProtocolTest, public ::testing::WithParamInterface<bool> {};

TEST_P(PipelinedPushTest, APreparedBatchIsDroppedWhenTheOneBeforeItFails) {
  const bool after_hub = GetParam();  // the answer is lost / the hub never sees it
  ClientOptions one;
  one.batch_changes_max = 1;
  Node a = MakeEdge("a", "token-a", nullptr, one);
  CreateReadings(a.storage.get());
  std::vector<int64_t> seqs;
  for (int i = 0; i < 5; ++i) seqs.push_back(a.storage->Put("readings", Reading("d1", i, "x")).value().seq);
  FlakyTransport flaky(a.transport.get());
  (after_hub ? flaky.fail_after_hub : flaky.fail_before_hub) = 1;
  auto client = Client::Create(a.storage.get(), &flaky, one).value();
  bool more = true;
  ASSERT_TRUE(client->PushOnce(&more).ok());
  EXPECT_TRUE(more);
  // The second batch was prepared before the first answer told the upstream's
  // replica id (the filter leaves its changes out): read again, not sent.
  EXPECT_FALSE(client->PushOnce(&more).ok());  // it fails; the third was prepared meanwhile
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), seqs[0]);
  EXPECT_EQ(client->Stats().push_prepared_discarded, 2);
  for (more = true; more;) ASSERT_TRUE(client->PushOnce(&more).ok()) << client->Stats().last_error;
  // The failed batch went again from the cursor, never the one after it.
  EXPECT_EQ(flaky.push_after(), (std::vector<int64_t>{0, seqs[0], seqs[0], seqs[1], seqs[2], seqs[3]}));
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), a.storage->Stats().last_seq);
  const ClientStats st = client->Stats();
  EXPECT_EQ(st.changes_pushed, 5);
  EXPECT_EQ(st.push_prepared_used, 3);  // every batch after the retried one
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(hub_storage_->Get("readings", KeyOf("d1", i)).value().has_value());
  EXPECT_EQ(hub_->Stats().changes_applied, 5);  // each applied once; a resent one is a duplicate
}

INSTANTIATE_TEST_SUITE_P(FailureBeforeOrAfterTheHub, PipelinedPushTest, ::testing::Bool());

TEST_F(SyncProtocolTest, APreparedPushBatchIsNotSentWhenTheCursorMovedElsewhere) {
  ClientOptions one;
  one.batch_changes_max = 1;
  Node a = MakeEdge("a", "token-a", nullptr, one);
  CreateReadings(a.storage.get());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(a.storage->Put("readings", Reading("d1", i, "x")).ok());
  bool more = false;
  ASSERT_TRUE(a.client->PushOnce(&more).ok());  // prepares the second batch
  // Something else moves the cursor (an operator, say): the prepared batch
  // no longer starts there.
  const int64_t moved = a.storage->Stats().last_seq - 1;
  ASSERT_TRUE(a.storage->SetUpstreamAckedSeq(moved).ok());
  ASSERT_TRUE(a.client->PushOnce(&more).ok());
  EXPECT_EQ(wire::DecodeSyncBatch(a.transport->last_body()).value().after_seq, moved);
  EXPECT_EQ(a.client->Stats().push_prepared_discarded, 1);
  for (more = true; more;) ASSERT_TRUE(a.client->PushOnce(&more).ok());
  EXPECT_EQ(a.storage->UpstreamAckedSeq(), a.storage->Stats().last_seq);
}

// --- Snapshot re-seeding -------------------------------------------------------

// A stored row (item or tombstone) as a snapshot must reproduce it.
struct RowView {
  std::string partition_key, sort_key;
  clock::Version version;
  std::optional<Item> item;  // nullopt: a tombstone
  bool operator==(const RowView&) const = default;
};

std::vector<RowView> AllRows(storage::Storage* s, const std::string& table) {
  std::vector<RowView> out;
  std::vector<storage::StoredRow> rows = s->ReadRows(table, "", "", 1'000'000, INT64_MAX).value();
  for (storage::StoredRow& r : rows) {
    RowView v{r.partition_key, r.sort_key, r.version, std::nullopt};
    if (r.item) v.item = wire::DecodeItem(*r.item).value();
    out.push_back(std::move(v));
  }
  return out;
}

class SnapshotTest : public SyncProtocolTest {
 protected:
  static constexpr int kRows = 40;

  // The hub's own data: kRows readings of devices a/1 and c/1 (two of them
  // deleted since: tombstones) and a table "other"; then its change log is
  // trimmed, as after a day with no peer holding it.
  void SeedHubAndTrim() {
    CreateReadings(hub_storage_.get());
    ASSERT_TRUE(hub_storage_->CreateTable("other", item::KeySchema{{"id", item::Type::kS}, std::nullopt}).ok());
    for (int i = 0; i < kRows; ++i) {
      clock_.AdvanceMs(1);
      ASSERT_TRUE(hub_storage_->Put("readings", Reading(i % 2 ? "a/1" : "c/1", i, std::string(200, 'x'))).ok());
    }
    ASSERT_TRUE(hub_storage_->Delete("readings", KeyOf("c/1", 0)).ok());
    ASSERT_TRUE(hub_storage_->Delete("readings", KeyOf("a/1", 1)).ok());
    ASSERT_TRUE(hub_storage_->Put("other", Item{{"id", Value::S("o1")}}).ok());
    TrimHubLog();
  }

  void TrimHubLog() {
    clock_.AdvanceMs(25LL * 3600 * 1000);
    hub_storage_->SetChangeLogHold(INT64_MAX);  // no peer holds it
    for (int i = 0; i < 20 && hub_storage_->TrimmedSeq() < hub_storage_->Stats().last_seq; ++i) {
      ASSERT_TRUE(hub_storage_->RunMaintenanceOnce().ok());
    }
    ASSERT_EQ(hub_storage_->TrimmedSeq(), hub_storage_->Stats().last_seq);
  }

  static ClientOptions SmallPages() {
    ClientOptions o;
    o.batch_bytes_max = 1024;  // a few rows per snapshot page
    return o;
  }
};

TEST_F(SnapshotTest, AFreshEdgeIsReseededFromASnapshotThenKeepsPulling) {
  ASSERT_NO_FATAL_FAILURE(SeedHubAndTrim());
  Node a = MakeEdge("a", "token-a", nullptr, SmallPages());
  wire::SyncPullRequest pull;
  pull.replica = a.storage->replica_id();
  EXPECT_EQ(hub_->HandlePull(Caller{"token-a", ""}, wire::EncodeSyncPullRequest(pull)).status, 410);

  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  ClientStats st = a.client->Stats();
  EXPECT_EQ(st.snapshots_started, 1);
  EXPECT_EQ(st.snapshots_completed, 1);
  EXPECT_FALSE(st.snapshot_active);
  EXPECT_EQ(st.snapshot_rows, kRows + 1);
  EXPECT_GE(hub_->Stats().snapshot_pages, 5);
  EXPECT_EQ(hub_->Stats().snapshots, 1);
  const int64_t s = hub_storage_->Stats().last_seq;
  EXPECT_EQ(st.pull_cursor, s);
  EXPECT_EQ(AllRows(a.storage.get(), "readings"), AllRows(hub_storage_.get(), "readings"));
  EXPECT_EQ(AllRows(a.storage.get(), "other"), AllRows(hub_storage_.get(), "other"));
  EXPECT_FALSE(a.storage->Get("readings", KeyOf("c/1", 0)).value().has_value());
  // The hub holds its log from S for this peer now.
  bool found = false;
  for (const HubPeerStats& p : hub_->Stats().peers) {
    if (p.name == "gw-a") {
      found = true;
      EXPECT_EQ(p.pull_cursor, s);
    }
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(hub_storage_->GetSyncState("hub/cursor/gw-a").value(), std::optional<std::string>(std::to_string(s)));

  // Then it pulls as any peer does.
  clock_.AdvanceMs(1);
  auto w = hub_storage_->Put("readings", Reading("c/9", 1, "new"));
  ASSERT_TRUE(w.ok());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  auto at_a = a.storage->GetStored("readings", KeyOf("c/9", 1)).value();
  ASSERT_TRUE(at_a.has_value());
  EXPECT_EQ(at_a->version, w->version);
  EXPECT_EQ(a.client->Stats().snapshots_started, 1);
  EXPECT_GT(a.client->Stats().pull_cursor, s);
  // Rows that came by snapshot are never pushed back.
  EXPECT_EQ(a.client->Stats().changes_pushed, 0);
}

TEST_F(SnapshotTest, ATombstoneFromTheSnapshotBeatsAnOlderLocalWrite) {
  Node a = MakeEdge("a", "token-a");
  CreateReadings(a.storage.get());
  CreateReadings(hub_storage_.get());
  ASSERT_TRUE(a.storage->Put("readings", Reading("c/1", 7, "edge-old")).ok());
  clock_.AdvanceMs(10);
  ASSERT_TRUE(hub_storage_->Put("readings", Reading("c/1", 7, "hub")).ok());
  clock_.AdvanceMs(10);
  ASSERT_TRUE(hub_storage_->Delete("readings", KeyOf("c/1", 7)).ok());
  ASSERT_NO_FATAL_FAILURE(TrimHubLog());
  // The edge's push loses at the hub; its pull meets 410 and the snapshot
  // brings the tombstone, which wins over the older local write here too.
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  EXPECT_EQ(a.client->Stats().snapshots_completed, 1);
  EXPECT_FALSE(a.storage->Get("readings", KeyOf("c/1", 7)).value().has_value());
  EXPECT_EQ(AllRows(a.storage.get(), "readings"), AllRows(hub_storage_.get(), "readings"));
  EXPECT_EQ(AllRows(a.storage.get(), "readings").size(), 1u);
}

TEST_F(SnapshotTest, ASnapshotHoldsOnlyWhatIsInThePeersScope) {
  ASSERT_NO_FATAL_FAILURE(SeedHubAndTrim());
  Node c = MakeEdge("c", "token-c", nullptr, SmallPages());  // scope: readings, keys c/...
  ASSERT_TRUE(c.client->SyncOnce().ok()) << c.client->Stats().last_error;
  EXPECT_EQ(c.client->Stats().snapshots_completed, 1);
  std::vector<RowView> expected;
  for (RowView& r : AllRows(hub_storage_.get(), "readings")) {
    if (r.partition_key.rfind("c/", 0) == 0) expected.push_back(std::move(r));
  }
  ASSERT_EQ(expected.size(), static_cast<size_t>(kRows / 2));
  EXPECT_EQ(AllRows(c.storage.get(), "readings"), expected);
  EXPECT_EQ(c.storage->DescribeTable("other").status().code(), Status::Code::kNotFound);

  // A table the edge does not pull (direction up) is left out too.
  ClientOptions up = SmallPages();
  up.table_directions["other"] = Direction::kUp;
  Node b = MakeEdge("b", "token-b", nullptr, up);
  ASSERT_TRUE(b.client->SyncOnce().ok()) << b.client->Stats().last_error;
  EXPECT_EQ(AllRows(b.storage.get(), "readings"), AllRows(hub_storage_.get(), "readings"));
  EXPECT_EQ(b.storage->DescribeTable("other").status().code(), Status::Code::kNotFound);
}

TEST_F(SnapshotTest, ASnapshotCutByACrashResumesAndConverges) {
  ASSERT_NO_FATAL_FAILURE(SeedHubAndTrim());
  int64_t first = 0;
  {
    Node a = MakeEdge("a", "token-a", nullptr, SmallPages());
    a.transport->FailSnapshotAfter(1);
    EXPECT_FALSE(a.client->SyncOnce().ok());
    ClientStats st = a.client->Stats();
    EXPECT_TRUE(st.snapshot_active);
    EXPECT_EQ(st.snapshots_completed, 0);
    first = st.snapshot_rows;
    EXPECT_GT(first, 0);
    EXPECT_LT(first, kRows + 1);
    EXPECT_EQ(a.storage->GetSyncState("client/pull_cursor").value().value_or("0"), "0");
  }  // the process dies here: nothing else is written

  // Meanwhile the hub changes a row already sent and deletes one not sent yet.
  clock_.AdvanceMs(1);
  ASSERT_TRUE(hub_storage_->Put("readings", Reading("a/1", 3, "changed")).ok());  // sorts before c/1
  ASSERT_TRUE(hub_storage_->Delete("readings", KeyOf("c/1", kRows - 2)).ok());

  Node a = MakeEdge("a", "token-a", nullptr, SmallPages());
  EXPECT_TRUE(a.client->Stats().snapshot_active);
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  ClientStats st = a.client->Stats();
  EXPECT_EQ(st.snapshots_started, 0);  // resumed, not started over
  EXPECT_EQ(st.snapshots_completed, 1);
  EXPECT_EQ(first + st.snapshot_rows, kRows + 1);  // each row once
  EXPECT_EQ(hub_->Stats().snapshots, 1);
  EXPECT_EQ(AllRows(a.storage.get(), "readings"), AllRows(hub_storage_.get(), "readings"));
  EXPECT_EQ(AllRows(a.storage.get(), "other"), AllRows(hub_storage_.get(), "other"));
  EXPECT_EQ(a.storage->Get("readings", KeyOf("a/1", 3)).value(), std::optional<Item>(Reading("a/1", 3, "changed")));
}

TEST_F(SnapshotTest, ASnapshotWhoseSequenceWasTrimmedStartsOver) {
  ASSERT_NO_FATAL_FAILURE(SeedHubAndTrim());
  {
    Node a = MakeEdge("a", "token-a", nullptr, SmallPages());
    a.transport->FailSnapshotAfter(1);
    EXPECT_FALSE(a.client->SyncOnce().ok());
  }
  // The hub trims past S anyway (as its disk budget may).
  clock_.AdvanceMs(1);
  ASSERT_TRUE(hub_storage_->Put("readings", Reading("c/9", 9, "later")).ok());
  ASSERT_NO_FATAL_FAILURE(TrimHubLog());
  Node a = MakeEdge("a", "token-a", nullptr, SmallPages());
  ASSERT_TRUE(a.client->SyncOnce().ok()) << a.client->Stats().last_error;
  EXPECT_EQ(a.client->Stats().snapshots_started, 1);
  EXPECT_EQ(a.client->Stats().snapshots_completed, 1);
  EXPECT_EQ(hub_->Stats().snapshots, 2);
  EXPECT_EQ(AllRows(a.storage.get(), "readings"), AllRows(hub_storage_.get(), "readings"));
}

}  // namespace
}  // namespace edgetable::sync
