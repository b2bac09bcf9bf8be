// What edge/storage gives replication (storage.h, invariants 7 and 8,
// "Conflicts" at ApplyRemote, SetChangeLogHold, sync state): prev versions
// and sources in the log, conflict detection and recording, the clock cap,
// sync state in the apply transaction, the change log hold, and the upgrade
// of a schema-2 (and schema-1) database.

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <climits>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "edge/item/validate.h"
#include "edge/storage/internal/sqlite.h"
#include "edge/storage/storage.h"
#include "edge/wire/item_codec.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr uint64_t kPeer = 0xBEEF;
constexpr uint64_t kHub = 0x4B;
constexpr char kConflicts[] = "edgetable_conflicts";
constexpr int64_t kHourMs = 3600 * 1000;

std::string Hex16(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

// The conflict_id documented at ConflictsTableSchema(), built independently.
std::string ConflictIdOf(const clock::Version& v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%015" PRId64 ".%" PRId32 "@%016" PRIx64, v.hlc_ms, v.counter, v.replica);
  return buf;
}

class SyncSupportTest : public ::testing::Test {
 protected:
  Options MakeOptions() {
    Options o;
    o.path = dir_.File("edge.db");
    o.clock = &clock_;
    o.ttl_sweep_interval_ms = 0;
    return o;
  }
  void OpenDb(const Options& o) {
    db_.reset();
    auto s = Storage::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(*s);
  }
  void SetUp() override {
    OpenDb(MakeOptions());
    ASSERT_TRUE(db_->CreateTable("telemetry", DeviceTsSchema()).ok());
    ASSERT_TRUE(db_->CreateTable(kConflicts, ConflictsTableSchema()).ok());
  }

  RemoteChange Change(clock::Version v, std::optional<item::Item> it, clock::Version prev = {},
                      int64_t ts = 1) {
    RemoteChange c;
    c.table = "telemetry";
    c.key = Key("d", ts);
    c.new_item = std::move(it);
    c.version = v;
    c.prev_version = prev;
    return c;
  }
  clock::Version PeerVersion(int64_t delta_ms) const { return clock::Version{clock_.NowMs() + delta_ms, 0, kPeer}; }

  static ApplyRemoteOptions WithConflicts() {
    ApplyRemoteOptions o;
    o.source_replica = kPeer;
    o.conflicts_table = kConflicts;
    return o;
  }
  RemoteOutcome MustApply(std::vector<RemoteChange> changes, const ApplyRemoteOptions& o = WithConflicts()) {
    auto r = db_->ApplyRemote(std::move(changes), o);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : RemoteOutcome{};
  }
  clock::Version MustPut(item::Item it) {
    auto r = db_->Put("telemetry", std::move(it));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->version : clock::Version{};
  }
  clock::Version MustDelete(int64_t ts) {
    auto r = db_->Delete("telemetry", Key("d", ts));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->version : clock::Version{};
  }
  std::vector<item::Item> ConflictItems() {
    ScanRequest req;
    req.table = kConflicts;
    auto p = db_->Scan(req);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->items : std::vector<item::Item>{};
  }
  std::vector<ChangeRecord> AllChanges() {
    auto c = db_->ReadChanges(0, 1'000'000);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::vector<ChangeRecord>{};
  }
  std::optional<StoredItem> Stored(int64_t ts) {
    auto g = db_->GetStored("telemetry", Key("d", ts));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() ? *g : std::nullopt;
  }

  TempDir dir_;
  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<Storage> db_;
};

// ------------------------------------------------------ prev version, source

TEST_F(SyncSupportTest, LocalWritesLogTheVersionTheyReplaced) {
  const clock::Version v1 = MustPut(Reading("d", 1, 1));
  const clock::Version v2 = MustPut(Reading("d", 1, 2));
  const clock::Version v3 = MustDelete(1);
  const clock::Version v4 = MustPut(Reading("d", 1, 4));  // over the tombstone
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_TRUE(log[0].prev_version.is_zero());  // never stored here
  EXPECT_EQ(log[1].prev_version, v1);
  EXPECT_EQ(log[2].prev_version, v2);
  EXPECT_EQ(log[3].prev_version, v3);  // a tombstone's version counts
  EXPECT_EQ(log[3].version, v4);
  for (const ChangeRecord& c : log) EXPECT_EQ(c.source_replica, 0u) << c.seq;

  // ReadTableChanges reads the same columns.
  auto info = db_->DescribeTable("telemetry");
  ASSERT_TRUE(info.ok());
  auto table_log = db_->ReadTableChanges(info->id, 0, log.back().seq, 100);
  ASSERT_TRUE(table_log.ok());
  ASSERT_EQ(table_log->size(), 4u);
  EXPECT_EQ((*table_log)[2].prev_version, v2);
}

TEST_F(SyncSupportTest, RemoteChangesKeepTheirPrevVersionAndLogTheirSource) {
  const clock::Version origin_prev{clock_.NowMs() - 5000, 2, 0x77};
  const clock::Version rv = PeerVersion(-1000);
  RemoteChange c = Change(rv, Reading("d", 1, 1), origin_prev);
  c.origin_replica = 0x77;
  ApplyRemoteOptions o;
  o.source_replica = kHub;
  RemoteOutcome out = MustApply({c}, o);
  ASSERT_EQ(out.applied, std::vector<bool>{true});
  // A later local write replaces the remote version.
  const clock::Version local = MustPut(Reading("d", 1, 2));

  auto log = AllChanges();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0].version, rv);
  EXPECT_EQ(log[0].prev_version, origin_prev);  // as it came, not this node's zero
  EXPECT_EQ(log[0].origin_replica, 0x77u);
  EXPECT_EQ(log[0].source_replica, kHub);
  EXPECT_EQ(log[1].version, local);
  EXPECT_EQ(log[1].prev_version, rv);
  EXPECT_EQ(log[1].source_replica, 0u);

  // The items row keeps the same prev version as its record.
  db_.reset();
  auto raw = sqlite::Db::Open(dir_.File("edge.db"), sqlite::Db::Mode::kReadOnly);
  ASSERT_TRUE(raw.ok());
  auto q = (*raw)->Prepare("SELECT prev_hlc_ms, prev_counter, prev_replica FROM items WHERE deleted=0");
  ASSERT_TRUE(q.ok());
  auto row = (*q)->Step();
  ASSERT_TRUE(row.ok() && *row);
  EXPECT_EQ((*q)->ColumnInt64(0), rv.hlc_ms);
  EXPECT_EQ((*q)->ColumnInt64(1), rv.counter);
  EXPECT_EQ(static_cast<uint64_t>((*q)->ColumnInt64(2)), rv.replica);
}

// ------------------------------------------------------------- conflicts

TEST_F(SyncSupportTest, DuplicateIsNoConflict) {
  const clock::Version rv = PeerVersion(-1000);
  EXPECT_EQ(MustApply({Change(rv, Reading("d", 1, 1))}).conflicts, 0);
  RemoteOutcome again = MustApply({Change(rv, Reading("d", 1, 1))});
  EXPECT_EQ(again.applied, std::vector<bool>{false});
  EXPECT_EQ(again.conflicts, 0);
  EXPECT_TRUE(ConflictItems().empty());
}

TEST_F(SyncSupportTest, NewerChangeUnawareOfTheStoredWriteOverwritesIt) {
  const clock::Version local = MustPut(Reading("d", 1, 10, "mine"));
  clock_.AdvanceMs(7);
  const clock::Version rv = PeerVersion(1000);
  RemoteOutcome out = MustApply({Change(rv, Reading("d", 1, 20), /*prev=*/{})});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 1);
  EXPECT_EQ(Stored(1)->item, Reading("d", 1, 20));  // last writer wins all the same

  auto conflicts = ConflictItems();
  ASSERT_EQ(conflicts.size(), 1u);
  const item::Item& c = conflicts[0];
  EXPECT_EQ(c.at("table"), S("telemetry"));
  EXPECT_EQ(c.at("conflict_id"), S(ConflictIdOf(local)));
  EXPECT_EQ(c.at("key"), item::Value::M(Key("d", 1)));
  EXPECT_EQ(c.at("reason"), S("overwritten"));
  EXPECT_EQ(c.at("loser_version"), S(local.ToString()));
  EXPECT_EQ(c.at("winner_version"), S(rv.ToString()));
  EXPECT_EQ(c.at("loser_replica"), S(Hex16(db_->replica_id())));
  EXPECT_EQ(c.at("winner_replica"), S(Hex16(kPeer)));
  EXPECT_EQ(c.at("loser_op"), S("PUT"));
  EXPECT_EQ(c.at("winner_op"), S("PUT"));
  EXPECT_EQ(c.at("loser_item"), item::Value::M(Reading("d", 1, 10, "mine")));
  EXPECT_EQ(c.count("loser_item_omitted"), 0u);
  EXPECT_EQ(c.at("detected_ms"), N(clock_.NowMs()));
  EXPECT_EQ(c.at("detected_by"), S(Hex16(db_->replica_id())));

  // The record is a local write in the batch's transaction: logged, with a
  // version of this node, sharing the applied change's txn_id.
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1].table, "telemetry");
  EXPECT_EQ(log[1].source_replica, kPeer);
  EXPECT_EQ(log[2].table, kConflicts);
  EXPECT_EQ(log[2].op, ChangeOp::kInsert);
  EXPECT_EQ(log[2].origin_replica, db_->replica_id());
  EXPECT_EQ(log[2].source_replica, 0u);
  EXPECT_EQ(log[2].txn_id, log[1].txn_id);
}

TEST_F(SyncSupportTest, NewerChangeThatKnewTheStoredWriteIsNoConflict) {
  const clock::Version local = MustPut(Reading("d", 1, 10));
  RemoteOutcome out = MustApply({Change(PeerVersion(1000), Reading("d", 1, 20), /*prev=*/local)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 0);
  // A prev newer than the stored version (this node missed a write in
  // between) is no conflict either.
  const clock::Version missed = PeerVersion(2000);
  out = MustApply({Change(PeerVersion(3000), Reading("d", 1, 30), missed)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 0);
  EXPECT_TRUE(ConflictItems().empty());
}

TEST_F(SyncSupportTest, OlderChangeUnawareOfItIsRejected) {
  const clock::Version rv = PeerVersion(-1000);
  const clock::Version local = MustPut(Reading("d", 1, 10));  // made without knowledge of rv
  ASSERT_LT(rv, local);
  RemoteOutcome out = MustApply({Change(rv, Reading("d", 1, 5, "theirs"))});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 1);
  EXPECT_EQ(Stored(1)->item, Reading("d", 1, 10));

  auto conflicts = ConflictItems();
  ASSERT_EQ(conflicts.size(), 1u);
  const item::Item& c = conflicts[0];
  EXPECT_EQ(c.at("conflict_id"), S(ConflictIdOf(rv)));
  EXPECT_EQ(c.at("reason"), S("rejected"));
  EXPECT_EQ(c.at("loser_version"), S(rv.ToString()));
  EXPECT_EQ(c.at("winner_version"), S(local.ToString()));
  EXPECT_EQ(c.at("loser_replica"), S(Hex16(kPeer)));
  EXPECT_EQ(c.at("winner_replica"), S(Hex16(db_->replica_id())));
  EXPECT_EQ(c.at("loser_op"), S("PUT"));
  EXPECT_EQ(c.at("winner_op"), S("PUT"));
  EXPECT_EQ(c.at("loser_item"), item::Value::M(Reading("d", 1, 5, "theirs")));
  // Only the conflict record was logged: the change itself was not applied.
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].table, kConflicts);

  // The same lost write delivered again is recorded once.
  out = MustApply({Change(rv, Reading("d", 1, 5, "theirs"))});
  EXPECT_EQ(out.conflicts, 1);
  EXPECT_EQ(ConflictItems().size(), 1u);
}

TEST_F(SyncSupportTest, StaleRedeliveryIsNoConflict) {
  const clock::Version v1 = PeerVersion(-2000);
  const clock::Version v2 = PeerVersion(-1000);
  MustApply({Change(v1, Reading("d", 1, 1))});
  MustApply({Change(v2, Reading("d", 1, 2), /*prev=*/v1)});
  RemoteOutcome out = MustApply({Change(v1, Reading("d", 1, 1))});  // v1 again, late
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  // The same for a local write over a remote one: its prev is the remote version.
  const clock::Version v3 = PeerVersion(-500);
  MustApply({Change(v3, Reading("d", 1, 3), v2)});
  MustPut(Reading("d", 1, 4));
  out = MustApply({Change(v3, Reading("d", 1, 3), v2)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  // Reordered: the newer write arrives first on a key never stored here; the
  // stored row keeps the prev version it came with, so the older one that
  // follows is known to be superseded.
  const clock::Version w1 = PeerVersion(-2000);
  const clock::Version w2 = PeerVersion(-1000);
  MustApply({Change(w2, Reading("d", 2, 2), /*prev=*/w1, 2)});
  out = MustApply({Change(w1, Reading("d", 2, 1), {}, 2)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  EXPECT_TRUE(ConflictItems().empty());
}

TEST_F(SyncSupportTest, SenderTransactionsKeepTheirBoundaries) {
  std::vector<RemoteChange> changes;
  const int64_t groups[] = {7, 7, 9, 9, 9};
  for (int i = 0; i < 5; ++i) {
    RemoteChange c = Change(PeerVersion(i + 1), Reading("d", i + 1, i), {}, i + 1);
    c.txn_group = groups[i];
    changes.push_back(std::move(c));
  }
  const int64_t before = db_->Stats().last_seq;
  ASSERT_TRUE(db_->ApplyRemote(std::move(changes), ApplyRemoteOptions{}).ok());
  auto log = db_->ReadChanges(before, 10).value();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].txn_id, log[0].seq);
  EXPECT_EQ(log[1].txn_id, log[0].seq);
  EXPECT_EQ(log[2].txn_id, log[2].seq);
  EXPECT_EQ(log[3].txn_id, log[2].seq);
  EXPECT_EQ(log[4].txn_id, log[2].seq);
  // Without groups the whole call is one transaction.
  std::vector<RemoteChange> plain;
  for (int i = 0; i < 2; ++i) plain.push_back(Change(PeerVersion(10 + i), Reading("d", 10 + i, i), {}, 10 + i));
  ASSERT_TRUE(db_->ApplyRemote(std::move(plain), ApplyRemoteOptions{}).ok());
  log = db_->ReadChanges(before + 5, 10).value();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[1].txn_id, log[0].seq);
}

TEST_F(SyncSupportTest, TwoDeletesAreNoConflict) {
  // Both replicas' TTL sweeps delete the same item without knowing of each other.
  MustPut(Reading("d", 1, 1));
  const clock::Version before = MustDelete(1);
  RemoteOutcome out = MustApply({Change(PeerVersion(1000), std::nullopt)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 0);
  out = MustApply({Change(PeerVersion(-1000), std::nullopt)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  EXPECT_TRUE(ConflictItems().empty());
  (void)before;
}

TEST_F(SyncSupportTest, TombstonesTakePartInConflicts) {
  // A remote delete overwrites a live item it did not know.
  const clock::Version live = MustPut(Reading("d", 1, 1));
  const clock::Version del = PeerVersion(1000);
  RemoteOutcome out = MustApply({Change(del, std::nullopt)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 1);
  auto g = db_->Get(kConflicts, {{"table", S("telemetry")}, {"conflict_id", S(ConflictIdOf(live))}});
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->at("reason"), S("overwritten"));
  EXPECT_EQ((*g)->at("loser_op"), S("PUT"));
  EXPECT_EQ((*g)->at("winner_op"), S("DELETE"));
  EXPECT_EQ((*g)->at("loser_item"), item::Value::M(Reading("d", 1, 1)));

  // A remote put overwrites a local tombstone it did not know.
  MustPut(Reading("d", 2, 2));
  clock_.AdvanceMs(1);
  const clock::Version tomb = MustDelete(2);
  const clock::Version put = PeerVersion(2000);
  out = MustApply({Change(put, Reading("d", 2, 3), /*prev=*/{}, 2)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 1);
  g = db_->Get(kConflicts, {{"table", S("telemetry")}, {"conflict_id", S(ConflictIdOf(tomb))}});
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->at("loser_op"), S("DELETE"));
  EXPECT_EQ((*g)->at("winner_op"), S("PUT"));
  EXPECT_EQ((*g)->count("loser_item"), 0u);
  EXPECT_EQ((*g)->count("loser_item_omitted"), 0u);  // a delete has no item to omit

  // A remote delete older than a local put that did not know it is rejected.
  const clock::Version old_del = PeerVersion(-3000);
  MustPut(Reading("d", 3, 3));
  out = MustApply({Change(old_del, std::nullopt, {}, 3)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 1);
  g = db_->Get(kConflicts, {{"table", S("telemetry")}, {"conflict_id", S(ConflictIdOf(old_del))}});
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->at("reason"), S("rejected"));
  EXPECT_EQ((*g)->at("loser_op"), S("DELETE"));
  EXPECT_EQ((*g)->count("loser_item"), 0u);
  EXPECT_TRUE(Stored(3).has_value());

  // A remote put older than a tombstone that knew it: a stale redelivery.
  const clock::Version p1 = PeerVersion(-4000);
  MustApply({Change(p1, Reading("d", 4, 1), {}, 4)});
  MustApply({Change(PeerVersion(-3500), std::nullopt, /*prev=*/p1, 4)});
  out = MustApply({Change(p1, Reading("d", 4, 1), {}, 4)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  EXPECT_FALSE(Stored(4).has_value());
  // The same when the delete arrived first: its tombstone keeps its prev.
  const clock::Version p5 = PeerVersion(-4000);
  MustApply({Change(PeerVersion(-3500), std::nullopt, /*prev=*/p5, 5)});
  out = MustApply({Change(p5, Reading("d", 5, 1), {}, 5)});
  EXPECT_EQ(out.applied, std::vector<bool>{false});
  EXPECT_EQ(out.conflicts, 0);
  EXPECT_EQ(ConflictItems().size(), 3u);
}

TEST_F(SyncSupportTest, WithoutAConflictsTableConflictsAreOnlyCounted) {
  MustPut(Reading("d", 1, 1));
  const int64_t last_before = db_->Stats().last_seq;
  ApplyRemoteOptions o;
  o.source_replica = kPeer;
  RemoteOutcome out = MustApply({Change(PeerVersion(1000), Reading("d", 1, 2))}, o);
  EXPECT_EQ(out.conflicts, 1);
  EXPECT_TRUE(ConflictItems().empty());
  EXPECT_EQ(db_->Stats().last_seq, last_before + 1);  // the change, no record
  // The old overload counts nothing and still applies.
  auto applied = db_->ApplyRemote({Change(PeerVersion(2000), Reading("d", 1, 3))});
  ASSERT_TRUE(applied.ok());
  EXPECT_EQ(*applied, std::vector<bool>{true});
  EXPECT_TRUE(ConflictItems().empty());
}

TEST_F(SyncSupportTest, LoserItemTooLargeOrTooDeepIsOmitted) {
  // Within the item limit alone, past it with the conflict record around it.
  item::Item big = Reading("d", 1, 1);
  big["payload"] = S(std::string(static_cast<size_t>(limits::kItemBytesMax - 100), 'x'));
  ASSERT_TRUE(item::ValidateItem(big, DeviceTsSchema()).ok());
  MustPut(big);
  RemoteOutcome out = MustApply({Change(PeerVersion(1000), Reading("d", 1, 2))});
  EXPECT_EQ(out.conflicts, 1);
  auto conflicts = ConflictItems();
  ASSERT_EQ(conflicts.size(), 1u);
  EXPECT_EQ(conflicts[0].count("loser_item"), 0u);
  EXPECT_EQ(conflicts[0].at("loser_item_omitted"), item::Value::Bool(true));
  EXPECT_EQ(conflicts[0].at("loser_op"), S("PUT"));

  // At the nesting limit alone, one level past it inside the record.
  item::Value deep = S("leaf");
  for (int i = 0; i < limits::kNestingDepthMax - 1; ++i) deep = item::Value::M({{"m", deep}});
  item::Item nested = Reading("d", 2, 1);
  nested["deep"] = deep;
  ASSERT_TRUE(item::ValidateItem(nested, DeviceTsSchema()).ok());
  const clock::Version rv = PeerVersion(-1000);
  MustPut(Reading("d", 2, 2));
  out = MustApply({Change(rv, nested, {}, 2)});  // rejected: the loser is the nested item
  EXPECT_EQ(out.conflicts, 1);
  auto g = db_->Get(kConflicts, {{"table", S("telemetry")}, {"conflict_id", S(ConflictIdOf(rv))}});
  ASSERT_TRUE(g.ok() && g->has_value());
  EXPECT_EQ((*g)->count("loser_item"), 0u);
  EXPECT_EQ((*g)->at("loser_item_omitted"), item::Value::Bool(true));
}

TEST_F(SyncSupportTest, AFailingBatchRecordsNoConflictAndNoSyncState) {
  ASSERT_TRUE(db_->SetSyncState("pull/hub", "7").ok());
  MustPut(Reading("d", 1, 1));
  const int64_t last_before = db_->Stats().last_seq;
  ApplyRemoteOptions o = WithConflicts();
  o.sync_state = {{"pull/hub", "9"}};
  RemoteChange missing = Change(PeerVersion(2000), Reading("d", 1, 3));
  missing.table = "missing";
  auto r = db_->ApplyRemote({Change(PeerVersion(1000), Reading("d", 1, 2)), missing}, o);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound) << r.status().ToString();
  EXPECT_TRUE(ConflictItems().empty());
  EXPECT_EQ(Stored(1)->item, Reading("d", 1, 1));
  EXPECT_EQ(db_->Stats().last_seq, last_before);
  EXPECT_EQ(*db_->GetSyncState("pull/hub"), std::optional<std::string>("7"));
  // The same batch without the bad change applies, records and moves the state.
  auto ok = db_->ApplyRemote({Change(PeerVersion(1000), Reading("d", 1, 2))}, o);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->conflicts, 1);
  EXPECT_EQ(ConflictItems().size(), 1u);
  EXPECT_EQ(*db_->GetSyncState("pull/hub"), std::optional<std::string>("9"));
}

TEST_F(SyncSupportTest, AMissingOrMisshapenConflictsTableFailsEveryBatch) {
  ApplyRemoteOptions o = WithConflicts();
  o.conflicts_table = "nope";
  // No conflict in this batch: the table is checked all the same.
  auto r = db_->ApplyRemote({Change(PeerVersion(1000), Reading("d", 1, 1))}, o);
  EXPECT_EQ(r.status().code(), Status::Code::kNotFound);
  o.conflicts_table = "telemetry";  // another key schema
  r = db_->ApplyRemote({Change(PeerVersion(1000), Reading("d", 1, 1))}, o);
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(Stored(1).has_value());
  EXPECT_EQ(db_->Stats().last_seq, 0);
}

// ------------------------------------------------------------- clock cap

TEST_F(SyncSupportTest, ObserveCapKeepsTheClockBelowAFutureVersion) {
  const int64_t now = clock_.NowMs();
  const clock::Version future{now + 365LL * 24 * kHourMs, 0, kPeer};
  const int64_t cap = now + 60'000;
  ApplyRemoteOptions o;
  o.source_replica = kPeer;
  o.observe_max_hlc_ms = cap;
  RemoteOutcome out = MustApply({Change(future, Reading("d", 1, 1))}, o);
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(Stored(1)->version, future);  // stored with its own version
  EXPECT_LE(db_->LastVersion().hlc_ms, cap);
  const clock::Version local = MustPut(Reading("d", 2, 2));  // another key
  EXPECT_LT(local.hlc_ms, future.hlc_ms);
  EXPECT_LE(local.hlc_ms, cap);
  // A version below the cap is observed in full.
  const clock::Version near{now + 30'000, 5, kPeer};
  MustApply({Change(near, Reading("d", 3, 3), {}, 3)}, o);
  EXPECT_GE(db_->LastVersion().hlc_ms, near.hlc_ms);
  // Without a cap the clock follows the future version.
  MustApply({Change(clock::Version{future.hlc_ms, 1, kPeer}, Reading("d", 1, 4))}, ApplyRemoteOptions{});
  EXPECT_GE(db_->LastVersion().hlc_ms, future.hlc_ms);
}

// ------------------------------------------------------------- sync state

TEST_F(SyncSupportTest, SyncStateIsPersistedListedByPrefixAndWrittenWithABatch) {
  EXPECT_FALSE(db_->GetSyncState("pull/hub")->has_value());
  const std::string binary("a\0b\xff", 4);
  ASSERT_TRUE(db_->SetSyncState("pull/hub", "12").ok());
  ASSERT_TRUE(db_->SetSyncState("pull/hub", "13").ok());  // replaces
  ASSERT_TRUE(db_->SetSyncState("peer/b", binary).ok());
  ASSERT_TRUE(db_->SetSyncState("peer/a", "").ok());
  ASSERT_TRUE(db_->SetSyncState("peer0", "x").ok());  // '0' follows '/': outside "peer/"
  EXPECT_EQ(db_->SetSyncState("", "x").code(), Status::Code::kInvalidArgument);

  // A batch with no change still writes its sync state.
  ApplyRemoteOptions o;
  o.sync_state = {{"push/hub", "5"}};
  ASSERT_TRUE(db_->ApplyRemote({}, o).ok());
  o.sync_state = {{"", "5"}};
  EXPECT_EQ(db_->ApplyRemote({Change(PeerVersion(0), Reading("d", 1, 1))}, o).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_FALSE(Stored(1).has_value());

  OpenDb(MakeOptions());
  EXPECT_EQ(*db_->GetSyncState("pull/hub"), std::optional<std::string>("13"));
  EXPECT_EQ(*db_->GetSyncState("push/hub"), std::optional<std::string>("5"));
  auto peers = db_->ListSyncState("peer/");
  ASSERT_TRUE(peers.ok());
  EXPECT_EQ(*peers, (std::map<std::string, std::string>{{"peer/a", ""}, {"peer/b", binary}}));
  auto all = db_->ListSyncState("");
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 5u);
  // Sync state is no change: nothing in the log.
  EXPECT_EQ(db_->Stats().last_seq, 0);
}

// ------------------------------------------------------ yielding to local writes

TEST_F(SyncSupportTest, YieldingNeedsItsOwnSyncState) {
  ApplyRemoteOptions o;
  o.sync_state_at = [](size_t) { return std::vector<std::pair<std::string, std::string>>{}; };
  EXPECT_EQ(db_->ApplyRemote({Change(PeerVersion(0), Reading("d", 1, 1))}, o).status().code(),
            Status::Code::kInvalidArgument);  // sync_state_at without yield_to_local_writes
  o.yield_to_local_writes = true;
  o.sync_state = {{"pull/x", "1"}};
  EXPECT_EQ(db_->ApplyRemote({Change(PeerVersion(0), Reading("d", 1, 1))}, o).status().code(),
            Status::Code::kInvalidArgument);  // both kinds of sync state
  EXPECT_FALSE(Stored(1).has_value());
}

// With no local write in the last 200 ms a yielding call applies
// everything; right after one it stops every 16 changes (so that the next
// local write waits for a small commit only).
TEST_F(SyncSupportTest, AYieldingCallRunsLongOnlyWithoutRecentLocalWrites) {
  auto thirty = [&](int first) {
    std::vector<RemoteChange> changes;
    for (int i = first; i < first + 30; ++i) changes.push_back(Change(PeerVersion(i), Reading("d", i, i), {}, i));
    return changes;
  };
  ApplyRemoteOptions o = WithConflicts();
  o.yield_to_local_writes = true;
  o.sync_state_at = [](size_t consumed) {
    return std::vector<std::pair<std::string, std::string>>{{"pull/x", std::to_string(consumed)}};
  };
  std::this_thread::sleep_for(std::chrono::milliseconds(250));  // SetUp's writes are local writes
  RemoteOutcome out = MustApply(thirty(1), o);
  EXPECT_EQ(out.applied.size(), 30u);
  EXPECT_TRUE(out.rest.empty());
  EXPECT_EQ(*db_->GetSyncState("pull/x"), std::optional<std::string>("30"));

  MustPut(Reading("local", 1, 1));
  out = MustApply(thirty(100), o);
  EXPECT_EQ(out.applied.size(), 16u);
  EXPECT_EQ(out.rest.size(), 14u);
  EXPECT_EQ(*db_->GetSyncState("pull/x"), std::optional<std::string>("16"));
}

// A long remote batch stops between the sender's transactions while a local
// writer keeps writing; the caller resubmits the rest until done. Every cut
// falls on a transaction boundary, the sync state written with each part
// matches what that part consumed, and everything ends up applied once.
TEST_F(SyncSupportTest, ARemoteBatchYieldsToLocalWritesBetweenTransactions) {
  constexpr int kChanges = 900, kGroup = 3;
  std::vector<RemoteChange> pending;
  for (int i = 0; i < kChanges; ++i) {
    RemoteChange c = Change(PeerVersion(i + 1), Reading("d", i + 1, i), {}, i + 1);
    c.txn_group = 1000 + i / kGroup;
    pending.push_back(std::move(c));
  }
  std::atomic<bool> done{false};
  std::atomic<int> local_writes{0};
  std::thread local([&] {
    for (int ts = 1; !done.load(); ++ts) {
      if (db_->Put("telemetry", Reading("local", ts, ts)).ok()) local_writes.fetch_add(1);
    }
  });
  const int64_t before = db_->Stats().last_seq;
  size_t consumed_total = 0;
  int calls = 0, yields = 0;
  while (!pending.empty() && calls < 10 * kChanges) {
    ++calls;
    ApplyRemoteOptions o = WithConflicts();
    o.yield_to_local_writes = true;
    const size_t base = consumed_total;
    o.sync_state_at = [base](size_t consumed) {
      return std::vector<std::pair<std::string, std::string>>{{"pull/x", std::to_string(base + consumed)}};
    };
    const size_t offered = pending.size();
    auto r = db_->ApplyRemote(std::move(pending), o);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    const size_t consumed = r->applied.size();
    ASSERT_GT(consumed, 0u);  // at least one transaction per call
    ASSERT_EQ(consumed + r->rest.size(), offered);
    EXPECT_EQ(consumed % kGroup, 0u) << "cut inside a sender transaction";
    EXPECT_TRUE(std::all_of(r->applied.begin(), r->applied.end(), [](bool a) { return a; }));
    consumed_total += consumed;
    EXPECT_EQ(*db_->GetSyncState("pull/x"), std::optional<std::string>(std::to_string(consumed_total)));
    if (!r->rest.empty()) ++yields;
    pending = std::move(r->rest);
  }
  done = true;
  local.join();
  EXPECT_TRUE(pending.empty());
  EXPECT_EQ(consumed_total, static_cast<size_t>(kChanges));
  EXPECT_GT(yields, 0) << "the local writer never got ahead of the batch";
  EXPECT_GT(local_writes.load(), 0);
  for (int i = 1; i <= kChanges; i += 97) EXPECT_TRUE(Stored(i).has_value()) << i;
  // The remote changes keep their groups in the log, interleaved with the
  // local writes only between groups.
  auto log = db_->ReadChanges(before, 1'000'000).value();
  int remote = 0;
  for (size_t k = 0; k < log.size(); ++k) {
    if (log[k].source_replica != kPeer) continue;
    ++remote;
    if (k > 0 && log[k - 1].source_replica == kPeer && log[k - 1].txn_id != log[k].txn_id) {
      EXPECT_EQ(log[k].txn_id, log[k].seq);
    }
  }
  EXPECT_EQ(remote, kChanges);
}

// ------------------------------------------------------------- change log hold

class ChangeLogHoldTest : public SyncSupportTest {
 protected:
  void SetUp() override {}
  void Open(bool no_upstream, int64_t budget_bytes = 0) {
    Options o = MakeOptions();
    o.no_upstream = no_upstream;
    o.stream_retention_ms = kHourMs;
    o.disk_budget_bytes = budget_bytes;
    o.retention_batch_items = 100;
    OpenDb(o);
  }
  MaintenanceReport Drain() {
    MaintenanceReport total;
    for (int i = 0; i < 100'000; ++i) {
      auto r = db_->RunMaintenanceOnce();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      total.changes_trimmed += r->changes_trimmed;
      total.forced_trimmed += r->forced_trimmed;
      total.budget_trimmed += r->budget_trimmed;
      total.evicted += r->evicted;
      if (!r->more) break;
    }
    return total;
  }
};

TEST_F(ChangeLogHoldTest, RetentionDoesNotTrimAboveTheHold) {
  Open(/*no_upstream=*/true);
  ASSERT_TRUE(db_->CreateTable("telemetry", DeviceTsSchema()).ok());
  for (int64_t i = 0; i < 10; ++i) MustPut(Reading("d", i, i));  // seq 1..10
  clock_.AdvanceMs(2 * kHourMs);
  db_->SetChangeLogHold(4);
  EXPECT_EQ(Drain().changes_trimmed, 4);
  EXPECT_EQ(db_->TrimmedSeq(), 4);
  auto left = db_->ReadChanges(0, 100);
  ASSERT_TRUE(left.ok());
  ASSERT_EQ(left->size(), 6u);
  EXPECT_EQ(left->front().seq, 5);

  db_->SetChangeLogHold(8);
  EXPECT_EQ(Drain().changes_trimmed, 4);
  EXPECT_EQ(db_->TrimmedSeq(), 8);
  db_->SetChangeLogHold(-1);  // holds everything left
  EXPECT_EQ(Drain().changes_trimmed, 0);
  db_->SetChangeLogHold(INT64_MAX);  // no hold
  EXPECT_EQ(Drain().changes_trimmed, 2);
  EXPECT_EQ(db_->TrimmedSeq(), 10);
  EXPECT_EQ(db_->Stats().forced_trims, 0);
}

TEST_F(ChangeLogHoldTest, TheLowerOfHoldAndUpstreamAcknowledgementWins) {
  Open(/*no_upstream=*/false);
  ASSERT_TRUE(db_->CreateTable("telemetry", DeviceTsSchema()).ok());
  for (int64_t i = 0; i < 10; ++i) MustPut(Reading("d", i, i));
  clock_.AdvanceMs(2 * kHourMs);
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(6).ok());
  db_->SetChangeLogHold(3);
  EXPECT_EQ(Drain().changes_trimmed, 3);
  db_->SetChangeLogHold(9);
  EXPECT_EQ(Drain().changes_trimmed, 3);  // up to the acknowledgement
  EXPECT_EQ(db_->TrimmedSeq(), 6);
}

TEST_F(ChangeLogHoldTest, TheDiskBudgetTrimsAboveTheHoldCountedAsForced) {
  Open(/*no_upstream=*/true);
  ASSERT_TRUE(db_->CreateTable("telemetry", DeviceTsSchema()).ok());
  for (int64_t i = 0; i < 1000; ++i) MustPut(Reading("d", i, i, std::string(2000, 'x')));
  ASSERT_TRUE(db_->RunMaintenanceOnce().ok());  // measures
  const int64_t used = db_->Stats().db_bytes;
  ASSERT_GT(used, 3 * 1024 * 1024);

  Open(/*no_upstream=*/true, /*budget_bytes=*/used / 3);
  db_->SetChangeLogHold(0);  // a downstream peer has pulled nothing
  MaintenanceReport r = Drain();
  StorageStats st = db_->Stats();
  EXPECT_LE(st.db_bytes, used / 3);
  // Every item counts as acknowledged (no upstream) and went first; the held
  // records went only after, each counted as forced.
  EXPECT_EQ(r.evicted, 1000);
  EXPECT_GT(r.forced_trimmed, 0);
  EXPECT_EQ(r.budget_trimmed, 0);
  EXPECT_EQ(st.forced_trims, r.forced_trimmed);
  EXPECT_EQ(db_->TrimmedSeq(), r.forced_trimmed);
}

// ------------------------------------------------------------- upgrade

// The schema of versions 1 and 2, as they were written.
constexpr char kSchemaV2Sql[] = R"sql(
CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE tables(
  table_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  pk_name TEXT NOT NULL,
  pk_type TEXT NOT NULL,
  sk_name TEXT,
  sk_type TEXT,
  ttl_attribute TEXT NOT NULL DEFAULT '',
  stream_view_type INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  item_count INTEGER NOT NULL DEFAULT 0,
  item_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE items(
  table_id INTEGER NOT NULL,
  pk BLOB NOT NULL,
  sk BLOB NOT NULL,
  seg INTEGER NOT NULL,
  hlc_ms INTEGER NOT NULL,
  counter INTEGER NOT NULL,
  replica INTEGER NOT NULL,
  expires_s INTEGER,
  deleted INTEGER NOT NULL,
  item BLOB,
  seq INTEGER,
  PRIMARY KEY(table_id, pk, sk)
) WITHOUT ROWID;
CREATE TABLE changes(
  seq INTEGER PRIMARY KEY,
  txn_id INTEGER NOT NULL,
  table_id INTEGER NOT NULL,
  pk BLOB NOT NULL,
  sk BLOB NOT NULL,
  op INTEGER NOT NULL,
  old_image BLOB,
  new_image BLOB,
  hlc_ms INTEGER NOT NULL,
  counter INTEGER NOT NULL,
  replica INTEGER NOT NULL,
  origin INTEGER NOT NULL,
  ttl_delete INTEGER NOT NULL
);
CREATE INDEX items_by_expiry ON items(expires_s) WHERE expires_s IS NOT NULL;
)sql";

constexpr uint64_t kOldReplica = 0x42;

// Writes a database as version `version` (1 or 2) left it: table
// "telemetry" with one item, ("d", 1) at old_version, and its INSERT record.
void WriteOldDatabase(const std::string& path, int version, const clock::Version& old_version) {
  auto opened = sqlite::Db::Open(path, sqlite::Db::Mode::kReadWriteCreate);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  sqlite::Db& db = **opened;
  std::string schema = kSchemaV2Sql;
  if (version == 1) {
    const std::string seq_column = "  seq INTEGER,\n";
    schema.erase(schema.find(seq_column), seq_column.size());
  }
  ASSERT_TRUE(db.Exec(schema).ok());
  const std::string meta = "INSERT INTO meta VALUES('schema_version', " + std::to_string(version) +
                           "), ('replica_id', " + std::to_string(kOldReplica) + "), ('hlc_lease_ms', " +
                           std::to_string(old_version.hlc_ms + 1000) + ")";
  ASSERT_TRUE(db.Exec(meta).ok());
  ASSERT_TRUE(db.Exec("INSERT INTO tables(table_id, name, pk_name, pk_type, sk_name, sk_type, created_ms, "
                      "item_count, item_bytes) VALUES(1, 'telemetry', 'device', 'S', 'ts', 'N', 1, 1, 0)")
                  .ok());
  const item::Item it = Reading("d", 1, 1);
  auto key = item::ExtractKey(it, DeviceTsSchema());
  ASSERT_TRUE(key.ok());
  const std::string bytes = wire::EncodeItem(it);
  auto ins = db.Prepare(version == 1
                            ? "INSERT INTO items VALUES(1, ?1, ?2, 0, ?3, ?4, ?5, NULL, 0, ?6)"
                            : "INSERT INTO items VALUES(1, ?1, ?2, 0, ?3, ?4, ?5, NULL, 0, ?6, 1)");
  ASSERT_TRUE(ins.ok()) << ins.status().ToString();
  ASSERT_TRUE((*ins)->BindBlob(1, key->partition).ok());
  ASSERT_TRUE((*ins)->BindBlob(2, key->sort).ok());
  ASSERT_TRUE((*ins)->BindInt64(3, old_version.hlc_ms).ok());
  ASSERT_TRUE((*ins)->BindInt64(4, old_version.counter).ok());
  ASSERT_TRUE((*ins)->BindInt64(5, static_cast<int64_t>(old_version.replica)).ok());
  ASSERT_TRUE((*ins)->BindBlob(6, bytes).ok());
  ASSERT_TRUE((*ins)->Run().ok());
  auto log = db.Prepare("INSERT INTO changes VALUES(1, 1, 1, ?1, ?2, 1, NULL, ?3, ?4, ?5, ?6, ?6, 0)");
  ASSERT_TRUE(log.ok()) << log.status().ToString();
  ASSERT_TRUE((*log)->BindBlob(1, key->partition).ok());
  ASSERT_TRUE((*log)->BindBlob(2, key->sort).ok());
  ASSERT_TRUE((*log)->BindBlob(3, bytes).ok());
  ASSERT_TRUE((*log)->BindInt64(4, old_version.hlc_ms).ok());
  ASSERT_TRUE((*log)->BindInt64(5, old_version.counter).ok());
  ASSERT_TRUE((*log)->BindInt64(6, static_cast<int64_t>(old_version.replica)).ok());
  ASSERT_TRUE((*log)->Run().ok());
}

int64_t ColumnCount(sqlite::Db* db, const std::string& table, const std::string& column) {
  auto n = db->QueryInt("SELECT count(*) FROM pragma_table_info('" + table + "') WHERE name='" + column + "'");
  EXPECT_TRUE(n.ok()) << n.status().ToString();
  return n.ok() ? *n : -1;
}

class UpgradeTest : public SyncSupportTest, public ::testing::WithParamInterface<int> {
 protected:
  void SetUp() override {}
};

TEST_P(UpgradeTest, AnOlderDatabaseIsUpgradedInPlace) {
  const clock::Version old_version{clock_.NowMs() - 10'000, 3, kOldReplica};
  ASSERT_NO_FATAL_FAILURE(WriteOldDatabase(dir_.File("edge.db"), GetParam(), old_version));

  ASSERT_NO_FATAL_FAILURE(OpenDb(MakeOptions()));
  EXPECT_EQ(db_->replica_id(), kOldReplica);
  auto stored = Stored(1);
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(stored->item, Reading("d", 1, 1));
  EXPECT_EQ(stored->version, old_version);
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 1u);
  EXPECT_TRUE(log[0].prev_version.is_zero());
  EXPECT_EQ(log[0].source_replica, 0u);

  // New writes carry what v3 adds.
  const clock::Version v = MustPut(Reading("d", 1, 2));
  ASSERT_TRUE(db_->CreateTable(kConflicts, ConflictsTableSchema()).ok());
  const clock::Version rv = PeerVersion(60'000);
  RemoteOutcome out = MustApply({Change(rv, Reading("d", 1, 3), /*prev=*/v)});
  EXPECT_EQ(out.applied, std::vector<bool>{true});
  EXPECT_EQ(out.conflicts, 0);
  ASSERT_TRUE(db_->SetSyncState("pull/hub", "1").ok());
  log = AllChanges();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[1].prev_version, old_version);
  EXPECT_EQ(log[2].prev_version, v);
  EXPECT_EQ(log[2].source_replica, kPeer);
  EXPECT_EQ(log[1].seq, 2);  // dense across the upgrade

  // Reopening an upgraded database changes nothing.
  ASSERT_NO_FATAL_FAILURE(OpenDb(MakeOptions()));
  EXPECT_EQ(*db_->GetSyncState("pull/hub"), std::optional<std::string>("1"));
  EXPECT_EQ(Stored(1)->version, rv);
  db_.reset();

  auto raw = sqlite::Db::Open(dir_.File("edge.db"), sqlite::Db::Mode::kReadOnly);
  ASSERT_TRUE(raw.ok());
  auto version = (*raw)->QueryInt("SELECT value FROM meta WHERE key='schema_version'");
  ASSERT_TRUE(version.ok());
  EXPECT_EQ(*version, 3);
  for (const char* c : {"seq", "prev_hlc_ms", "prev_counter", "prev_replica"}) {
    EXPECT_EQ(ColumnCount(raw->get(), "items", c), 1) << c;
  }
  for (const char* c : {"prev_hlc_ms", "prev_counter", "prev_replica", "source"}) {
    EXPECT_EQ(ColumnCount(raw->get(), "changes", c), 1) << c;
  }
}

INSTANTIATE_TEST_SUITE_P(FromVersions, UpgradeTest, ::testing::Values(1, 2),
                         [](const ::testing::TestParamInfo<int>& p) {
                           return "FromSchema" + std::to_string(p.param);
                         });

TEST_F(SyncSupportTest, ACreatedAndAnUpgradedDatabaseHaveTheSameShape) {
  db_.reset();
  TempDir other;
  const std::string upgraded = other.File("old.db");
  ASSERT_NO_FATAL_FAILURE(WriteOldDatabase(upgraded, 2, clock::Version{clock_.NowMs(), 0, kOldReplica}));
  Options o = MakeOptions();
  o.path = upgraded;
  ASSERT_NO_FATAL_FAILURE(OpenDb(o));
  db_.reset();
  auto columns = [](const std::string& path, const std::string& table) {
    std::vector<std::string> out;
    auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
    EXPECT_TRUE(db.ok());
    if (!db.ok()) return out;
    auto q = (*db)->Prepare("SELECT name || ' ' || type || ' ' || \"notnull\" || ' ' || "
                            "coalesce(dflt_value, '-') FROM pragma_table_info('" + table + "') ORDER BY cid");
    EXPECT_TRUE(q.ok());
    if (!q.ok()) return out;
    for (;;) {
      auto row = (*q)->Step();
      if (!row.ok() || !*row) break;
      out.emplace_back((*q)->ColumnText(0));
    }
    return out;
  };
  for (const char* table : {"items", "changes", "sync_state"}) {
    EXPECT_EQ(columns(dir_.File("edge.db"), table), columns(upgraded, table)) << table;
    EXPECT_FALSE(columns(upgraded, table).empty()) << table;
  }
}

}  // namespace
}  // namespace edgetable::storage
