#include "edge/storage/storage.h"
#include "edge/item/validate.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>

#include "edge/wire/item_codec.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

class StorageTest : public ::testing::Test {
 protected:
  Options MakeOptions() {
    Options o;
    o.path = dir_.File("edge.db");
    o.clock = &clock_;
    return o;
  }
  void OpenDb() {
    db_.reset();
    auto s = Storage::Open(MakeOptions());
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(*s);
  }
  void SetUp() override { OpenDb(); }

  void CreateTelemetry(const std::string& name = "telemetry") {
    auto t = db_->CreateTable(name, DeviceTsSchema());
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }
  void MustPut(const std::string& table, item::Item it) {
    auto r = db_->Put(table, std::move(it));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  std::vector<ChangeRecord> AllChanges() {
    auto c = db_->ReadChanges(0, 1'000'000);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::vector<ChangeRecord>{};
  }

  TempDir dir_;
  FakeClock clock_{1'700'000'000'000};
  std::unique_ptr<Storage> db_;
};

MutateFn FailWith(Status s) {
  return [s](const item::Item*) -> Result<Decision> { return s; };
}
MutateFn PutFn(item::Item it) {
  return [it](const item::Item*) -> Result<Decision> { return Decision::Put(it); };
}

// ---------------------------------------------------------------- WAL

// The checkpoint thread copies the WAL back into the database: commits only
// record its size. With a small threshold the database file grows while the
// storage is open.
TEST_F(StorageTest, TheCheckpointThreadCopiesTheWalBack) {
  db_.reset();
  Options o = MakeOptions();
  o.wal_autocheckpoint_pages = 64;
  auto s = Storage::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  db_ = std::move(*s);
  CreateTelemetry();
  struct stat before {};
  ASSERT_EQ(stat(o.path.c_str(), &before), 0);
  const std::string payload(900, 'x');
  for (int i = 0; i < 400; ++i) MustPut("telemetry", Reading("d", i, i, payload));
  for (int i = 0; i < 500 && db_->Stats().wal_checkpoints == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const StorageStats st = db_->Stats();
  EXPECT_GT(st.wal_checkpoints, 0);
  struct stat info {};
  ASSERT_EQ(stat(o.path.c_str(), &info), 0);
  EXPECT_GT(info.st_size, before.st_size + 16 * 1024) << "the WAL was not copied into the database";
  auto g = db_->Get("telemetry", Key("d", 399));
  ASSERT_TRUE(g.ok() && g->has_value());
  // The WAL restarts from its beginning once copied back: among 2,000 more
  // writes (one commit each, over 10,000 pages of WAL) it restarts, whether
  // the thread caught up between two commits or the writer finished the
  // copy (a top-up, or all of it when the thread fell behind). How large
  // the WAL grows meanwhile depends on how fast this machine syncs: not
  // asserted.
  for (int i = 400; i < 2400; ++i) MustPut("telemetry", Reading("d", i, i, payload));
  const StorageStats after = db_->Stats();
  EXPECT_GT(after.wal_restarts, st.wal_restarts);
}

// ---------------------------------------------------------------- catalog

TEST_F(StorageTest, ReplicaIdIsRandomPersistedAndStable) {
  const uint64_t id = db_->replica_id();
  EXPECT_NE(id, 0u);
  OpenDb();
  EXPECT_EQ(db_->replica_id(), id);
  TempDir other;
  Options o;
  o.path = other.File("x.db");
  auto s2 = Storage::Open(o);
  ASSERT_TRUE(s2.ok());
  EXPECT_NE((*s2)->replica_id(), id);
}

TEST_F(StorageTest, CatalogCreateDescribeListDelete) {
  item::KeySchema hash_only;
  hash_only.partition = {"id", item::Type::kB};
  TableSettings settings{"expires", StreamViewType::kNewAndOldImages};
  auto t = db_->CreateTable("alpha", DeviceTsSchema(), settings);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_GT(t->id, 0);
  EXPECT_EQ(t->key_schema, DeviceTsSchema());
  EXPECT_EQ(t->settings, settings);
  EXPECT_EQ(t->created_ms, clock_.NowMs());
  ASSERT_TRUE(db_->CreateTable("beta", hash_only).ok());
  ASSERT_TRUE(db_->CreateTable("gamma.1", hash_only).ok());
  ASSERT_TRUE(db_->CreateTable("Delta_-", hash_only).ok());

  EXPECT_EQ(db_->CreateTable("alpha", hash_only).status().code(), Status::Code::kAlreadyExists);
  EXPECT_EQ(db_->CreateTable("ab", hash_only).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->CreateTable("bad name", hash_only).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->CreateTable(std::string(256, 'a'), hash_only).status().code(),
            Status::Code::kInvalidArgument);
  item::KeySchema bad = hash_only;
  bad.partition.type = item::Type::kBool;
  EXPECT_EQ(db_->CreateTable("badtype", bad).status().code(), Status::Code::kInvalidArgument);
  bad = DeviceTsSchema();
  bad.sort->name = "device";
  EXPECT_EQ(db_->CreateTable("samekey", bad).status().code(), Status::Code::kInvalidArgument);

  auto d = db_->DescribeTable("beta");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->key_schema, hash_only);
  EXPECT_FALSE(d->key_schema.sort.has_value());
  EXPECT_EQ(db_->DescribeTable("nope").status().code(), Status::Code::kNotFound);

  // Paginated by name, in byte order.
  std::vector<std::string> names;
  std::optional<std::string> start;
  int pages = 0;
  do {
    auto page = db_->ListTables(start, 1 + pages % 2);
    ASSERT_TRUE(page.ok());
    names.insert(names.end(), page->names.begin(), page->names.end());
    start = page->last_evaluated_name;
    ++pages;
  } while (start);
  EXPECT_EQ(names, (std::vector<std::string>{"Delta_-", "alpha", "beta", "gamma.1"}));
  EXPECT_EQ(db_->ListTables(std::nullopt, 0).status().code(), Status::Code::kInvalidArgument);
  auto all = db_->ListTables(std::nullopt);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->names.size(), 4u);
  EXPECT_FALSE(all->last_evaluated_name);

  // Settings can change later; the catalog survives a reopen.
  TableSettings s2{"", StreamViewType::kKeysOnly};
  ASSERT_TRUE(db_->UpdateTableSettings("alpha", s2).ok());
  EXPECT_EQ(db_->UpdateTableSettings("nope", s2).status().code(), Status::Code::kNotFound);
  OpenDb();
  auto a = db_->DescribeTable("alpha");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->settings, s2);

  // Delete removes the table and its items; a new table of the same name is new.
  MustPut("alpha", Reading("d1", 1, 10));
  auto deleted = db_->DeleteTable("alpha");
  ASSERT_TRUE(deleted.ok());
  EXPECT_EQ(deleted->id, a->id);
  EXPECT_EQ(db_->DescribeTable("alpha").status().code(), Status::Code::kNotFound);
  EXPECT_EQ(db_->Get("alpha", Key("d1", 1)).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(db_->Put("alpha", Reading("d1", 1, 10)).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(db_->DeleteTable("alpha").status().code(), Status::Code::kNotFound);
  auto again = db_->CreateTable("alpha", DeviceTsSchema());
  ASSERT_TRUE(again.ok());
  EXPECT_GT(again->id, a->id);
  auto g = db_->Get("alpha", Key("d1", 1));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());
}

TEST_F(StorageTest, TableStatsCountLiveItemsAndBytes) {
  CreateTelemetry();
  for (int i = 0; i < 10; ++i) MustPut("telemetry", Reading("d", i, i));
  MustPut("telemetry", Reading("d", 3, 333, "longer payload"));  // overwrite
  ASSERT_TRUE(db_->Delete("telemetry", Key("d", 4)).ok());
  ASSERT_TRUE(db_->Delete("telemetry", Key("d", 99)).ok());  // nothing to delete
  auto d = db_->DescribeTable("telemetry");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->item_count, 9);
  int64_t bytes = 0;
  auto page = db_->Query(QueryRequest{"telemetry", S("d"), {}, true, 0, limits::kQueryPageBytesMax, {}});
  ASSERT_TRUE(page.ok());
  int64_t dynamo_bytes = 0;
  for (const auto& it : page->items) {
    bytes += static_cast<int64_t>(wire::EncodeItem(it).size());
    dynamo_bytes += item::ItemSize(it);
  }
  EXPECT_EQ(d->item_bytes, bytes);             // stored bytes
  EXPECT_EQ(page->bytes_read, dynamo_bytes);   // pages are measured as DynamoDB does

  StorageStats st = db_->Stats();
  EXPECT_EQ(st.writes, 13 + 1);  // 13 writes and the CreateTable
  EXPECT_GE(st.commits, 1);
  EXPECT_LE(st.commits, st.writes);
  EXPECT_EQ(st.write_failures, 0);
  EXPECT_EQ(st.last_seq, 12);  // 10 puts, 1 overwrite, 1 delete
  int64_t groups = 0;
  for (int64_t h : st.group_size_histogram) groups += h;
  EXPECT_EQ(groups, st.commits);
}

// Deleting a table whose rows span far more pages than SQLite keeps of a
// statement journal in memory (64 KiB): the journal spills to a temporary
// file and the delete still commits. (Raising SQLite's spill threshold made
// exactly this fail with "database or disk is full".)
TEST_F(StorageTest, DeletingALargeTableCommits) {
  CreateTelemetry();
  std::atomic<int> pending{0};
  std::atomic<int> failed{0};
  for (int i = 0; i < 20000; ++i) {
    Write w;
    w.table = "telemetry";
    w.key = Key("d" + std::to_string(i % 16), i);
    w.fn = PutFn(Reading("d" + std::to_string(i % 16), i, i, std::string(100, 'p')));
    ++pending;
    for (;;) {
      Status st = db_->ApplyAsync(w, [&](Result<WriteOutcome> r) {
        if (!r.ok()) ++failed;
        --pending;
      });
      if (st.ok()) break;
      ASSERT_EQ(st.code(), Status::Code::kBusy) << st.ToString();
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  }
  while (pending.load() > 0) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(failed.load(), 0);
  ASSERT_EQ(db_->DescribeTable("telemetry")->item_count, 20000);
  auto deleted = db_->DeleteTable("telemetry");
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(db_->DescribeTable("telemetry").status().code(), Status::Code::kNotFound);
}

// ---------------------------------------------------------------- writes

TEST_F(StorageTest, PutGetOverwriteDelete) {
  CreateTelemetry();
  auto r1 = db_->Put("telemetry", Reading("dev-1", 100, 1));
  ASSERT_TRUE(r1.ok());
  EXPECT_TRUE(r1->changed);
  EXPECT_FALSE(r1->old_item);
  EXPECT_EQ(r1->new_item, Reading("dev-1", 100, 1));
  EXPECT_EQ(r1->seq, 1);

  auto g = db_->Get("telemetry", Key("dev-1", 100));
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ(**g, Reading("dev-1", 100, 1));

  auto r2 = db_->Put("telemetry", Reading("dev-1", 100, 2));
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->old_item, Reading("dev-1", 100, 1));
  EXPECT_GT(r2->version, r1->version);
  EXPECT_EQ(r2->seq, 2);

  auto stored = db_->GetStored("telemetry", Key("dev-1", 100));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  EXPECT_EQ((*stored)->version, r2->version);
  EXPECT_EQ((*stored)->version.replica, db_->replica_id());

  auto r3 = db_->Delete("telemetry", Key("dev-1", 100));
  ASSERT_TRUE(r3.ok());
  EXPECT_TRUE(r3->changed);
  EXPECT_EQ(r3->old_item, Reading("dev-1", 100, 2));
  EXPECT_FALSE(r3->new_item);
  g = db_->Get("telemetry", Key("dev-1", 100));
  ASSERT_TRUE(g.ok());
  EXPECT_FALSE(g->has_value());

  auto r4 = db_->Delete("telemetry", Key("dev-1", 100));  // already gone: no change
  ASSERT_TRUE(r4.ok());
  EXPECT_FALSE(r4->changed);
  EXPECT_EQ(r4->seq, 0);

  // Re-creating over a tombstone is an INSERT with a newer version.
  auto r5 = db_->Put("telemetry", Reading("dev-1", 100, 5));
  ASSERT_TRUE(r5.ok());
  EXPECT_GT(r5->version, r3->version);
  EXPECT_FALSE(r5->old_item);
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 4u);
  EXPECT_EQ(log[3].op, ChangeOp::kInsert);
}

TEST_F(StorageTest, BadKeysAndItemsAreRefused) {
  CreateTelemetry();
  EXPECT_EQ(db_->Get("telemetry", item::Map{{"device", S("d")}}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->Get("telemetry", item::Map{{"device", S("d")}, {"ts", S("x")}}).status().code(),
            Status::Code::kInvalidArgument);
  item::Map extra = Key("d", 1);
  extra["other"] = N(1);
  EXPECT_EQ(db_->Get("telemetry", extra).status().code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->Get("missing", Key("d", 1)).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(db_->Put("telemetry", item::Item{{"device", S("d")}}).status().code(),
            Status::Code::kInvalidArgument);
  // An item past 400 KB.
  EXPECT_EQ(db_->Put("telemetry", Reading("d", 1, 1, std::string(401 * 1024, 'x'))).status().code(),
            Status::Code::kInvalidArgument);
  // A MutateFn may not move the item to another key.
  auto moved = db_->Apply(Write{"telemetry", Key("d", 1), PutFn(Reading("d", 2, 0)), false});
  EXPECT_EQ(moved.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(AllChanges().empty());
  EXPECT_EQ(db_->DescribeTable("telemetry")->item_count, 0);
}

TEST_F(StorageTest, MutateFnSeesCurrentItemAndConditionFailureChangesNothing) {
  CreateTelemetry();
  MustPut("telemetry", Reading("d", 1, 10));
  const auto before = AllChanges();

  // A condition that is false: nothing changes, nothing is logged.
  auto failed = db_->Apply(Write{"telemetry", Key("d", 1),
                                 [](const item::Item* cur) -> Result<Decision> {
                                   EXPECT_NE(cur, nullptr);
                                   return Status::ConditionFailed("The conditional request failed");
                                 },
                                 false});
  EXPECT_EQ(failed.status().code(), Status::Code::kConditionFailed);
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 10));
  EXPECT_EQ(AllChanges().size(), before.size());

  // An update built on the current item (UpdateItem SET value = value + 5).
  auto add = [](const item::Item* cur) -> Result<Decision> {
    if (cur == nullptr) return Status::ConditionFailed("attribute_exists(device) is false");
    item::Item next = *cur;
    auto sum = cur->at("value").n().Add(item::Number::FromInt(5));
    if (!sum.ok()) return sum.status();
    next["value"] = item::Value::N(*sum);
    return Decision::Put(std::move(next));
  };
  auto up = db_->Apply(Write{"telemetry", Key("d", 1), add, false});
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->old_item, Reading("d", 1, 10));
  EXPECT_EQ(up->new_item, Reading("d", 1, 15));
  auto missing = db_->Apply(Write{"telemetry", Key("d", 2), add, false});
  EXPECT_EQ(missing.status().code(), Status::Code::kConditionFailed);

  // Keep: no version, no record, current item reported as both images.
  auto keep = db_->Apply(Write{"telemetry", Key("d", 1),
                               [](const item::Item*) -> Result<Decision> { return Decision::Keep(); }, false});
  ASSERT_TRUE(keep.ok());
  EXPECT_FALSE(keep->changed);
  EXPECT_EQ(keep->old_item, Reading("d", 1, 15));
  EXPECT_EQ(keep->new_item, Reading("d", 1, 15));
  EXPECT_EQ(AllChanges().size(), before.size() + 1);
  EXPECT_EQ(db_->Stats().write_failures, 2);
}

TEST_F(StorageTest, TransactionsAreAllOrNothing) {
  CreateTelemetry();
  item::KeySchema other_schema;
  other_schema.partition = {"id", item::Type::kS};
  ASSERT_TRUE(db_->CreateTable("other", other_schema).ok());
  MustPut("telemetry", Reading("d", 1, 1));
  const size_t log_before = AllChanges().size();

  std::vector<Write> writes;
  writes.push_back(Write{"telemetry", Key("d", 1), PutFn(Reading("d", 1, 100)), false});
  writes.push_back(Write{"telemetry", Key("d", 2), FailWith(Status::ConditionFailed("no")), false});
  writes.push_back(Write{"other", item::Map{{"id", S("x")}}, PutFn(item::Item{{"id", S("x")}}), false});
  writes.push_back(Write{"telemetry", Key("d", 3),
                         [](const item::Item*) -> Result<Decision> { return Decision::Delete(); }, false});
  TransactOutcome t = db_->Transact(writes);
  EXPECT_EQ(t.status.code(), Status::Code::kConditionFailed);
  ASSERT_EQ(t.reasons.size(), 4u);
  EXPECT_TRUE(t.reasons[0].ok());
  EXPECT_EQ(t.reasons[1].code(), Status::Code::kConditionFailed);
  EXPECT_TRUE(t.reasons[2].ok());
  EXPECT_TRUE(t.reasons[3].ok());
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 1));
  EXPECT_FALSE(db_->Get("other", item::Map{{"id", S("x")}})->has_value());
  EXPECT_EQ(AllChanges().size(), log_before);

  // Without the failing write, all of it applies under one txn_id.
  writes[1] = Write{"telemetry", Key("d", 2), PutFn(Reading("d", 2, 2)), false};
  t = db_->Transact(writes);
  ASSERT_TRUE(t.status.ok()) << t.status.ToString();
  ASSERT_EQ(t.outcomes.size(), 4u);
  EXPECT_FALSE(t.outcomes[3].changed);  // deleting nothing
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 100));
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 2)), Reading("d", 2, 2));
  EXPECT_TRUE(db_->Get("other", item::Map{{"id", S("x")}})->has_value());
  auto log = AllChanges();
  ASSERT_EQ(log.size(), log_before + 3);
  const int64_t txn = log[log_before].txn_id;
  EXPECT_EQ(txn, log[log_before].seq);
  for (size_t i = log_before; i < log.size(); ++i) EXPECT_EQ(log[i].txn_id, txn);
  EXPECT_EQ(log[log_before + 2].table, "other");

  // Two writes on one item, too many writes, no writes: refused as a whole.
  std::vector<Write> dup{Write{"telemetry", Key("d", 9), PutFn(Reading("d", 9, 0)), false},
                         Write{"telemetry", Key("d", 9), PutFn(Reading("d", 9, 1)), false}};
  t = db_->Transact(dup);
  EXPECT_EQ(t.status.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(t.reasons.empty());
  std::vector<Write> many;
  for (int i = 0; i <= limits::kTransactItemsMax; ++i) {
    many.push_back(Write{"telemetry", Key("m", i), PutFn(Reading("m", i, 0)), false});
  }
  EXPECT_EQ(db_->Transact(many).status.code(), Status::Code::kInvalidArgument);
  many.pop_back();
  EXPECT_TRUE(db_->Transact(many).status.ok());
  EXPECT_EQ(db_->Transact({}).status.code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(db_->Get("telemetry", Key("d", 9))->has_value());
}

// ------------------------------------------------------------ change log

TEST_F(StorageTest, ChangeLogMatchesWritesOneForOne) {
  CreateTelemetry();
  std::mt19937 rng(42);
  std::map<int64_t, item::Item> model;
  struct Expected {
    ChangeOp op;
    std::optional<item::Item> old_image, new_image;
    clock::Version version;
  };
  std::vector<Expected> expected;
  for (int i = 0; i < 500; ++i) {
    const int64_t ts = static_cast<int64_t>(rng() % 40);
    const bool del = rng() % 4 == 0;
    if (i % 50 == 0) clock_.SetMs(clock_.NowMs() - 10'000);  // wall clock jumps back
    if (i % 3 == 0) clock_.AdvanceMs(1);
    auto it = model.find(ts);
    if (del) {
      auto r = db_->Delete("telemetry", Key("d", ts));
      ASSERT_TRUE(r.ok());
      ASSERT_EQ(r->changed, it != model.end());
      if (it != model.end()) {
        expected.push_back({ChangeOp::kRemove, it->second, std::nullopt, r->version});
        model.erase(it);
      }
    } else {
      item::Item next = Reading("d", ts, i);
      auto r = db_->Put("telemetry", next);
      ASSERT_TRUE(r.ok());
      if (it != model.end()) {
        expected.push_back({ChangeOp::kModify, it->second, next, r->version});
      } else {
        expected.push_back({ChangeOp::kInsert, std::nullopt, next, r->version});
      }
      model[ts] = next;
    }
  }
  // Read in small pages to exercise ReadChanges(after, limit).
  std::vector<ChangeRecord> log;
  int64_t after = 0;
  for (;;) {
    auto page = db_->ReadChanges(after, 17);
    ASSERT_TRUE(page.ok());
    if (page->empty()) break;
    log.insert(log.end(), page->begin(), page->end());
    after = page->back().seq;
  }
  ASSERT_EQ(log.size(), expected.size());
  auto decode = [](const std::optional<std::string>& b) -> std::optional<item::Item> {
    if (!b) return std::nullopt;
    auto d = wire::DecodeItem(*b);
    EXPECT_TRUE(d.ok());
    return *d;
  };
  for (size_t i = 0; i < log.size(); ++i) {
    SCOPED_TRACE("record " + std::to_string(i));
    EXPECT_EQ(log[i].seq, static_cast<int64_t>(i) + 1);  // dense
    EXPECT_EQ(log[i].txn_id, log[i].seq);
    EXPECT_EQ(log[i].table, "telemetry");
    EXPECT_EQ(log[i].op, expected[i].op);
    EXPECT_EQ(decode(log[i].old_image), expected[i].old_image);
    EXPECT_EQ(decode(log[i].new_image), expected[i].new_image);
    EXPECT_EQ(log[i].version, expected[i].version);
    EXPECT_EQ(log[i].origin_replica, db_->replica_id());
    EXPECT_FALSE(log[i].ttl_delete);
    if (i > 0) {
      EXPECT_GT(log[i].version, log[i - 1].version);  // strictly increasing
    }
    auto key_item = expected[i].new_image ? *expected[i].new_image : *expected[i].old_image;
    EXPECT_EQ(log[i].partition_key, *item::EncodeKeyValue(key_item.at("device")));
    EXPECT_EQ(log[i].sort_key, *item::EncodeKeyValue(key_item.at("ts")));
  }
  // The store holds exactly the model.
  auto page = db_->Query(QueryRequest{"telemetry", S("d"), {}, true, 0, limits::kQueryPageBytesMax, {}});
  ASSERT_TRUE(page.ok());
  std::vector<item::Item> want;
  for (const auto& [ts, it] : model) want.push_back(it);
  EXPECT_EQ(page->items, want);
}

TEST_F(StorageTest, TtlDeletesAreMarkedInTheLog) {
  ASSERT_TRUE(db_->CreateTable("telemetry", DeviceTsSchema(), TableSettings{"expires", {}}).ok());
  item::Item it = Reading("d", 1, 1);
  it["expires"] = N(1'700'000'100);
  MustPut("telemetry", it);
  auto r = db_->Apply(Write{"telemetry", Key("d", 1),
                            [](const item::Item*) -> Result<Decision> { return Decision::Delete(); }, true});
  ASSERT_TRUE(r.ok());
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 2u);
  EXPECT_FALSE(log[0].ttl_delete);
  EXPECT_TRUE(log[1].ttl_delete);
  EXPECT_EQ(log[1].op, ChangeOp::kRemove);
}

// ----------------------------------------------------- versions and clock

TEST_F(StorageTest, NoVersionBelowAStoredOneAfterReopenWithTheClockSetBack) {
  CreateTelemetry();
  clock::Version last;
  for (int i = 0; i < 20; ++i) {
    auto r = db_->Put("telemetry", Reading("d", i, i));
    ASSERT_TRUE(r.ok());
    EXPECT_GT(r->version, last);
    last = r->version;
  }
  OpenDb();
  clock_.SetMs(clock_.NowMs() - 86'400'000);  // a day back: the Pi lost its time
  EXPECT_GE(db_->LastVersion(), clock::Version(last.hlc_ms, last.counter, db_->replica_id()));
  auto r = db_->Put("telemetry", Reading("d", 0, 99));
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->version, last);
  // And once more, without any write in between.
  auto v = r->version;
  OpenDb();
  clock_.SetMs(1);
  auto r2 = db_->Delete("telemetry", Key("d", 1));
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(r2->version, v);
}

TEST_F(StorageTest, ObservedRemoteVersionsOrderLaterLocalWrites) {
  CreateTelemetry();
  clock::Version remote{clock_.NowMs() + 60'000, 3, 7};
  db_->ObserveVersion(remote);
  auto r = db_->Put("telemetry", Reading("d", 1, 1));
  ASSERT_TRUE(r.ok());
  EXPECT_GT(r->version, remote);
}

TEST_F(StorageTest, ApplyRemoteIsIdempotentAndTombstonesBlockOlderVersions) {
  CreateTelemetry();
  const uint64_t peer = 0xBEEF;
  auto change = [&](int64_t hlc, std::optional<item::Item> it) {
    return RemoteChange{"telemetry", Key("d", 1), std::move(it), clock::Version{hlc, 0, peer}, 0, false, {}};
  };
  auto apply1 = [&](RemoteChange c) {
    auto r = db_->ApplyRemote({std::move(c)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() && (*r)[0];
  };
  const int64_t t0 = clock_.NowMs() - 1000;
  EXPECT_TRUE(apply1(change(t0 + 10, Reading("d", 1, 10))));
  EXPECT_FALSE(apply1(change(t0 + 10, Reading("d", 1, 10))));  // duplicate: no-op
  EXPECT_FALSE(apply1(change(t0 + 5, Reading("d", 1, 5))));    // older: no-op
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 10));
  EXPECT_TRUE(apply1(change(t0 + 20, std::nullopt)));          // delete
  EXPECT_FALSE(db_->Get("telemetry", Key("d", 1))->has_value());
  EXPECT_FALSE(apply1(change(t0 + 15, Reading("d", 1, 15))));  // older than the tombstone
  EXPECT_FALSE(db_->Get("telemetry", Key("d", 1))->has_value());
  EXPECT_TRUE(apply1(change(t0 + 25, Reading("d", 1, 25))));   // newer: resurrects legitimately
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 25));

  // A delete of an item this replica never had still leaves a tombstone.
  RemoteChange del{"telemetry", Key("d", 2), std::nullopt, clock::Version{t0 + 50, 0, peer}, 0, true, {}};
  ASSERT_TRUE(db_->ApplyRemote({del}).ok());
  RemoteChange late{"telemetry", Key("d", 2), Reading("d", 2, 1), clock::Version{t0 + 40, 0, peer}, 0, false, {}};
  EXPECT_FALSE((*db_->ApplyRemote({late}))[0]);
  EXPECT_FALSE(db_->Get("telemetry", Key("d", 2))->has_value());

  // A local write after remote ones wins over them.
  auto local = db_->Put("telemetry", Reading("d", 1, 100));
  ASSERT_TRUE(local.ok());
  EXPECT_GT(local->version, (clock::Version{t0 + 50, 0, peer}));
  EXPECT_FALSE(apply1(change(t0 + 30, Reading("d", 1, 30))));

  // The log holds exactly the applied changes, with their own versions and origin.
  auto log = AllChanges();
  ASSERT_EQ(log.size(), 5u);
  EXPECT_EQ(log[0].op, ChangeOp::kInsert);
  EXPECT_EQ(log[0].version, (clock::Version{t0 + 10, 0, peer}));
  EXPECT_EQ(log[0].origin_replica, peer);
  EXPECT_EQ(log[1].op, ChangeOp::kRemove);
  EXPECT_TRUE(log[1].old_image.has_value());
  EXPECT_EQ(log[2].op, ChangeOp::kInsert);
  EXPECT_EQ(log[3].op, ChangeOp::kRemove);
  EXPECT_FALSE(log[3].old_image.has_value());
  EXPECT_TRUE(log[3].ttl_delete);
  EXPECT_EQ(log[4].op, ChangeOp::kModify);
  EXPECT_EQ(log[4].origin_replica, db_->replica_id());

  // A batch is one transaction: one bad change, nothing applied.
  std::vector<RemoteChange> batch{change(t0 + 10'000, Reading("d", 1, 1)),
                                  RemoteChange{"missing", Key("d", 1), std::nullopt, {t0 + 10'001, 0, peer}, 0, false, {}}};
  EXPECT_EQ(db_->ApplyRemote(batch).status().code(), Status::Code::kNotFound);
  EXPECT_EQ(**db_->Get("telemetry", Key("d", 1)), Reading("d", 1, 100));
  // A batch that applies shares one txn_id.
  batch.pop_back();
  batch.push_back(RemoteChange{"telemetry", Key("d", 3), Reading("d", 3, 3), {t0 + 10'002, 0, peer}, 0, false, {}});
  auto ok = db_->ApplyRemote(batch);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(*ok, (std::vector<bool>{true, true}));
  log = AllChanges();
  ASSERT_EQ(log.size(), 7u);
  EXPECT_EQ(log[5].txn_id, log[6].txn_id);
}

// ---------------------------------------------------------- query and scan

TEST_F(StorageTest, QueryPaginatesForwardAndBackwardInNumericOrder) {
  CreateTelemetry();
  // Sort keys that byte order of their text would get wrong.
  std::vector<int64_t> keys;
  for (int64_t i = -500; i < 500; ++i) keys.push_back(i * 37);
  std::vector<int64_t> shuffled = keys;
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(7));
  std::vector<Write> batch;
  for (int64_t k : shuffled) MustPut("telemetry", Reading("d", k, k));
  MustPut("telemetry", Reading("other", 0, 0));
  ASSERT_TRUE(db_->Delete("telemetry", Key("d", 0)).ok());  // a tombstone inside the range
  keys.erase(std::find(keys.begin(), keys.end(), 0));

  for (bool forward : {true, false}) {
    SCOPED_TRACE(forward ? "forward" : "backward");
    std::vector<int64_t> got;
    std::optional<item::Map> start;
    int pages = 0;
    do {
      QueryRequest q{"telemetry", S("d"), {}, forward, 37, limits::kQueryPageBytesMax, start};
      auto page = db_->Query(q);
      ASSERT_TRUE(page.ok()) << page.status().ToString();
      ASSERT_LE(page->items.size(), 37u);
      for (const auto& it : page->items) {
        int64_t v = 0;
        ASSERT_TRUE(it.at("ts").n().ToInt64(&v));
        got.push_back(v);
      }
      start = page->last_evaluated_key;
      if (start) {
        EXPECT_EQ(*start, item::KeyOf(page->items.back(), DeviceTsSchema()));
      }
      ++pages;
    } while (start);
    std::vector<int64_t> want = keys;
    if (!forward) std::reverse(want.begin(), want.end());
    EXPECT_EQ(got, want);
    EXPECT_EQ(pages, (999 + 36) / 37);  // no empty last page
  }
}

TEST_F(StorageTest, QuerySortKeyConditions) {
  CreateTelemetry();
  for (int64_t i = 1; i <= 20; ++i) MustPut("telemetry", Reading("d", i * 10, i));
  auto run = [&](SortCondition c, bool forward = true) {
    std::vector<int64_t> out;
    auto page = db_->Query(QueryRequest{"telemetry", S("d"), std::move(c), forward, 0,
                                        limits::kQueryPageBytesMax, std::nullopt});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (!page.ok()) return out;
    for (const auto& it : page->items) {
      int64_t v = 0;
      EXPECT_TRUE(it.at("ts").n().ToInt64(&v));
      out.push_back(v);
    }
    return out;
  };
  using V = std::vector<int64_t>;
  EXPECT_EQ(run({SortOp::kEq, N(50), {}}), V({50}));
  EXPECT_EQ(run({SortOp::kEq, N(55), {}}), V({}));
  EXPECT_EQ(run({SortOp::kLt, N(30), {}}), V({10, 20}));
  EXPECT_EQ(run({SortOp::kLe, N(30), {}}), V({10, 20, 30}));
  EXPECT_EQ(run({SortOp::kGt, N(180), {}}), V({190, 200}));
  EXPECT_EQ(run({SortOp::kGe, N(180), {}}), V({180, 190, 200}));
  EXPECT_EQ(run({SortOp::kBetween, N(45), N(80)}), V({50, 60, 70, 80}));
  EXPECT_EQ(run({SortOp::kBetween, N(45), N(80)}, false), V({80, 70, 60, 50}));
  EXPECT_EQ(run({SortOp::kGe, N(-1000), {}}).size(), 20u);

  auto bad = [&](SortCondition c) {
    return db_->Query(QueryRequest{"telemetry", S("d"), std::move(c), true, 0, limits::kQueryPageBytesMax,
                                   std::nullopt})
        .status()
        .code();
  };
  EXPECT_EQ(bad({SortOp::kBeginsWith, N(1), {}}), Status::Code::kInvalidArgument);  // N sort key
  EXPECT_EQ(bad({SortOp::kEq, S("x"), {}}), Status::Code::kInvalidArgument);        // wrong type
  EXPECT_EQ(bad({SortOp::kBetween, N(80), N(45)}), Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->Query(QueryRequest{"telemetry", N(1), {}, true, 0, 1, {}}).status().code(),
            Status::Code::kInvalidArgument);
  EXPECT_EQ(db_->Query(QueryRequest{"telemetry", S("d"), {}, true, 0, 1, Key("e", 10)}).status().code(),
            Status::Code::kInvalidArgument);  // start key of another partition
  EXPECT_EQ(db_->Query(QueryRequest{"nope", S("d"), {}, true, 0, 1, {}}).status().code(),
            Status::Code::kNotFound);
}

TEST_F(StorageTest, QueryBeginsWithOnStringAndBinarySortKeys) {
  item::KeySchema s_schema;
  s_schema.partition = {"pk", item::Type::kS};
  s_schema.sort = item::KeyAttribute{"sk", item::Type::kS};
  ASSERT_TRUE(db_->CreateTable("strings", s_schema).ok());
  for (const char* sk : {"a", "ab", "abc", "abd", "ac", "b", "ab\xff", "ab\xff\xff"}) {
    MustPut("strings", item::Item{{"pk", S("p")}, {"sk", S(sk)}});
  }
  auto prefix = [&](const std::string& p, bool forward) {
    std::vector<std::string> out;
    auto page = db_->Query(QueryRequest{"strings", S("p"), {SortOp::kBeginsWith, S(p), {}}, forward, 0,
                                        limits::kQueryPageBytesMax, std::nullopt});
    EXPECT_TRUE(page.ok()) << page.status().ToString();
    if (page.ok()) {
      for (const auto& it : page->items) out.push_back(it.at("sk").s());
    }
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(prefix("ab", true), V({"ab", "abc", "abd", "ab\xff", "ab\xff\xff"}));
  EXPECT_EQ(prefix("ab\xff", true), V({"ab\xff", "ab\xff\xff"}));
  EXPECT_EQ(prefix("ab", false), V({"ab\xff\xff", "ab\xff", "abd", "abc", "ab"}));
  EXPECT_EQ(prefix("z", true), V({}));

  item::KeySchema b_schema;
  b_schema.partition = {"pk", item::Type::kB};
  b_schema.sort = item::KeyAttribute{"sk", item::Type::kB};
  ASSERT_TRUE(db_->CreateTable("binary", b_schema).ok());
  for (std::string sk : {std::string("\x01\x02", 2), std::string("\x01\x02\x00", 3), std::string("\x01\x03", 2),
                         std::string("\xff\xff", 2)}) {
    MustPut("binary", item::Item{{"pk", item::Value::B("k")}, {"sk", item::Value::B(sk)}});
  }
  auto page = db_->Query(QueryRequest{"binary", item::Value::B("k"),
                                      {SortOp::kBeginsWith, item::Value::B(std::string("\x01\x02", 2)), {}},
                                      true, 0, limits::kQueryPageBytesMax, std::nullopt});
  ASSERT_TRUE(page.ok()) << page.status().ToString();
  EXPECT_EQ(page->items.size(), 2u);
  page = db_->Query(QueryRequest{"binary", item::Value::B("k"),
                                 {SortOp::kBeginsWith, item::Value::B(std::string("\xff", 1)), {}}, true, 0,
                                 limits::kQueryPageBytesMax, std::nullopt});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->items.size(), 1u);
}

TEST_F(StorageTest, QueryStopsAtTheByteBudget) {
  CreateTelemetry();
  const std::string payload(10'000, 'p');
  for (int i = 0; i < 30; ++i) MustPut("telemetry", Reading("d", i, i, payload));
  std::optional<item::Map> start;
  int total = 0;
  int pages = 0;
  do {
    auto page = db_->Query(QueryRequest{"telemetry", S("d"), {}, true, 0, 45'000, start});
    ASSERT_TRUE(page.ok());
    // Stops after the item that reaches the budget.
    EXPECT_GE(page->bytes_read, page->last_evaluated_key ? 45'000 : 0);
    EXPECT_LT(page->bytes_read, 45'000 + 11'000);
    total += static_cast<int>(page->items.size());
    start = page->last_evaluated_key;
    ++pages;
  } while (start);
  EXPECT_EQ(total, 30);
  EXPECT_EQ(pages, 6);  // 5 items (about 50 KB) per page
  // The default budget is DynamoDB's 1 MB.
  for (int i = 30; i < 150; ++i) MustPut("telemetry", Reading("d", i, i, payload));
  auto page = db_->Query(QueryRequest{"telemetry", S("d"), {}, true, 0, limits::kQueryPageBytesMax, {}});
  ASSERT_TRUE(page.ok());
  EXPECT_TRUE(page->last_evaluated_key.has_value());
  EXPECT_GE(page->bytes_read, limits::kQueryPageBytesMax);
  EXPECT_LT(page->items.size(), 150u);
}

TEST_F(StorageTest, ScanSegmentsCoverEveryItemExactlyOnce) {
  CreateTelemetry();
  std::set<std::pair<std::string, int64_t>> all;
  for (int d = 0; d < 150; ++d) {
    for (int t = 0; t < 1 + d % 7; ++t) {
      const std::string dev = "sensor-" + std::to_string(d);
      MustPut("telemetry", Reading(dev, t, d * 100 + t));
      all.emplace(dev, t);
    }
  }
  ASSERT_TRUE(db_->Delete("telemetry", Key("sensor-3", 0)).ok());
  all.erase({"sensor-3", 0});
  for (int total : {1, 2, 3, 7, 16}) {
    SCOPED_TRACE("TotalSegments " + std::to_string(total));
    std::multiset<std::pair<std::string, int64_t>> seen;
    for (int seg = 0; seg < total; ++seg) {
      std::optional<item::Map> start;
      std::set<std::string> partitions_here;
      do {
        ScanRequest req{"telemetry", 23, limits::kQueryPageBytesMax, start, seg, total};
        auto page = db_->Scan(req);
        ASSERT_TRUE(page.ok()) << page.status().ToString();
        for (const auto& it : page->items) {
          int64_t ts = 0;
          ASSERT_TRUE(it.at("ts").n().ToInt64(&ts));
          seen.emplace(it.at("device").s(), ts);
          partitions_here.insert(it.at("device").s());
        }
        start = page->last_evaluated_key;
      } while (start);
      if (total == 16) {
        EXPECT_FALSE(partitions_here.empty());  // the hash spreads partitions
      }
    }
    EXPECT_EQ(seen.size(), all.size());
    using KeySet = std::set<std::pair<std::string, int64_t>>;
    EXPECT_EQ(KeySet(seen.begin(), seen.end()), all);
  }
  ScanRequest bad{"telemetry", 0, limits::kQueryPageBytesMax, std::nullopt, 3, 3};
  EXPECT_EQ(db_->Scan(bad).status().code(), Status::Code::kInvalidArgument);
}

// ------------------------------------------------------------ group commit

TEST_F(StorageTest, FullQueueAnswersBusyAndConcurrentWritesShareCommits) {
  db_.reset();
  Options o = MakeOptions();
  o.write_queue_depth_max = 4;
  auto opened = Storage::Open(o);
  ASSERT_TRUE(opened.ok());
  db_ = std::move(*opened);
  CreateTelemetry();

  // Hold the writer inside a MutateFn until the queue has filled up.
  std::mutex mu;
  std::condition_variable cv;
  bool entered = false, release = false;
  std::thread holder([&] {
    auto r = db_->Apply(Write{"telemetry", Key("hold", 0),
                              [&](const item::Item*) -> Result<Decision> {
                                std::unique_lock<std::mutex> lock(mu);
                                entered = true;
                                cv.notify_all();
                                cv.wait(lock, [&] { return release; });
                                return Decision::Put(Reading("hold", 0, 0));
                              },
                              false});
    EXPECT_TRUE(r.ok());
  });
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return entered; });
  }
  std::vector<std::thread> waiters;
  std::atomic<int> ok{0};
  for (int i = 0; i < 4; ++i) {
    waiters.emplace_back([&, i] {
      if (db_->Put("telemetry", Reading("q", i, i)).ok()) ++ok;
    });
  }
  while (db_->Stats().queue_depth < 4) std::this_thread::yield();
  auto busy = db_->Put("telemetry", Reading("q", 99, 0));
  EXPECT_EQ(busy.status().code(), Status::Code::kBusy);
  {
    std::lock_guard<std::mutex> lock(mu);
    release = true;
  }
  cv.notify_all();
  holder.join();
  for (auto& t : waiters) t.join();
  EXPECT_EQ(ok.load(), 4);
  StorageStats st = db_->Stats();
  EXPECT_EQ(st.busy_rejections, 1);
  EXPECT_GE(st.group_writes_max, 4);  // the queued writes shared one commit
  EXPECT_FALSE(db_->Get("telemetry", Key("q", 99))->has_value());
}

TEST_F(StorageTest, ApplyAsyncAnswersAfterCommitExactlyOnce) {
  CreateTelemetry();
  constexpr int kWrites = 300;
  std::mutex mu;
  std::condition_variable cv;
  int answered = 0, visible_at_answer = 0, failed = 0;
  for (int i = 0; i < kWrites; ++i) {
    MutateFn fn = i % 10 == 9 ? FailWith(Status::ConditionFailed("no")) : PutFn(Reading("a", i, i));
    Status s = db_->ApplyAsync(Write{"telemetry", Key("a", i), fn, false}, [&, i](Result<WriteOutcome> r) {
      // Committed before the answer: a read on another connection sees it.
      bool visible = false;
      if (r.ok()) {
        auto g = db_->Get("telemetry", Key("a", i));
        visible = g.ok() && g->has_value() && r->changed && r->seq > 0;
      }
      std::lock_guard<std::mutex> lock(mu);
      ++answered;
      if (visible) ++visible_at_answer;
      if (!r.ok() && r.status().code() == Status::Code::kConditionFailed) ++failed;
      cv.notify_all();
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
  }
  {
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return answered == kWrites; });
  }
  EXPECT_EQ(failed, kWrites / 10);
  EXPECT_EQ(visible_at_answer, kWrites - kWrites / 10);
  EXPECT_EQ(db_->DescribeTable("telemetry")->item_count, kWrites - kWrites / 10);
  EXPECT_EQ(AllChanges().size(), static_cast<size_t>(kWrites - kWrites / 10));
  EXPECT_GT(db_->Stats().group_writes_max, 1);  // queued without waiting: grouped
}

TEST_F(StorageTest, ClosingCompletesQueuedAsyncWrites) {
  CreateTelemetry();
  std::atomic<int> answered{0};
  for (int i = 0; i < 200; ++i) {
    ASSERT_TRUE(db_->ApplyAsync(Write{"telemetry", Key("c", i), PutFn(Reading("c", i, i)), false},
                                [&](Result<WriteOutcome> r) {
                                  EXPECT_TRUE(r.ok());
                                  ++answered;
                                })
                    .ok());
  }
  db_.reset();  // waits for every queued write
  EXPECT_EQ(answered.load(), 200);
  OpenDb();
  EXPECT_EQ(db_->DescribeTable("telemetry")->item_count, 200);
}

TEST_F(StorageTest, DurabilityFullOpensAndWrites) {
  db_.reset();
  Options o = MakeOptions();
  o.durability = Durability::kFull;
  auto s = Storage::Open(o);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  ASSERT_TRUE((*s)->CreateTable("telemetry", DeviceTsSchema()).ok());
  ASSERT_TRUE((*s)->Put("telemetry", Reading("d", 1, 1)).ok());
  EXPECT_TRUE((*(*s)->Get("telemetry", Key("d", 1))).has_value());
}

TEST_F(StorageTest, RefusesBadOptionsAndForeignFiles) {
  Options o = MakeOptions();
  o.path = "";
  EXPECT_EQ(Storage::Open(o).status().code(), Status::Code::kInvalidArgument);
  o = MakeOptions();
  o.reader_connections_max = 0;
  EXPECT_EQ(Storage::Open(o).status().code(), Status::Code::kInvalidArgument);
  o = MakeOptions();
  o.path = dir_.File("no/such/dir/x.db");
  EXPECT_EQ(Storage::Open(o).status().code(), Status::Code::kIOError);
}

}  // namespace
}  // namespace edgetable::storage
