// Edge retention of edge/storage (storage.h, "Edge retention"): eviction by
// age and by disk budget, acknowledged items first, forced evictions
// counted, back-pressure, the file shrinking. Driven by a FakeClock.

#include <gtest/gtest.h>

#include <sys/stat.h>

#include <string>

#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr int64_t kHourMs = 3600 * 1000;

int64_t FileBytes(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return static_cast<int64_t>(st.st_size);
}

class RetentionTest : public ::testing::Test {
 protected:
  Options MakeOptions() {
    Options o;
    o.path = dir_.File("edge.db");
    o.clock = &clock_;
    o.ttl_sweep_interval_ms = 0;
    o.wal_autocheckpoint_pages = 64;  // checkpoints often: the file follows the database
    return o;
  }
  void OpenDb(const Options& o) {
    db_.reset();
    auto s = Storage::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(*s);
  }
  void CreateTable(const std::string& name = "telemetry") {
    ASSERT_TRUE(db_->CreateTable(name, DeviceTsSchema()).ok());
  }
  int64_t PutReading(const std::string& table, int64_t ts, int payload_bytes = 0) {
    auto r = db_->Put(table, Reading("d", ts, ts, std::string(static_cast<size_t>(payload_bytes), 'x')));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? r->seq : 0;
  }
  bool Present(const std::string& table, int64_t ts) {
    auto g = db_->Get(table, Key("d", ts));
    EXPECT_TRUE(g.ok());
    return g.ok() && g->has_value();
  }
  MaintenanceReport Drain() {
    MaintenanceReport total;
    for (int i = 0; i < 100'000; ++i) {
      auto r = db_->RunMaintenanceOnce();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      total.evicted += r->evicted;
      total.forced_evicted += r->forced_evicted;
      total.changes_trimmed += r->changes_trimmed;
      total.forced_trimmed += r->forced_trimmed;
      if (!r->more) break;
    }
    return total;
  }

  TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<Storage> db_;
};

TEST_F(RetentionTest, AgeEvictsOnlyAcknowledgedItemsAndLogsNothing) {
  Options o = MakeOptions();
  o.retention_max_age_ms = 24 * kHourMs;
  o.retention_max_age_ms_by_table["keep"] = 0;  // this table keeps everything
  o.retention_batch_items = 3;
  OpenDb(o);
  CreateTable();
  CreateTable("keep");
  std::vector<int64_t> seqs;
  for (int64_t i = 0; i < 10; ++i) seqs.push_back(PutReading("telemetry", i));
  PutReading("keep", 0);
  clock_.AdvanceMs(12 * kHourMs);
  PutReading("telemetry", 100);  // younger
  clock_.AdvanceMs(13 * kHourMs);

  EXPECT_EQ(Drain().evicted, 0);  // nothing acknowledged yet
  EXPECT_TRUE(Present("telemetry", 0));

  const int64_t last_before = db_->Stats().last_seq;
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(seqs[5]).ok());
  EXPECT_EQ(Drain().evicted, 6);  // items 0..5; 6..9 unacknowledged
  for (int64_t i = 0; i < 10; ++i) EXPECT_EQ(Present("telemetry", i), i > 5) << i;

  ASSERT_TRUE(db_->SetUpstreamAckedSeq(db_->Stats().last_seq).ok());
  EXPECT_EQ(Drain().evicted, 4);
  EXPECT_TRUE(Present("telemetry", 100));  // not old enough
  EXPECT_TRUE(Present("keep", 0));
  // An eviction is not a change: no record, nothing to replicate or stream.
  EXPECT_EQ(db_->Stats().last_seq, last_before);
  EXPECT_EQ(db_->Stats().evictions, 10);
  EXPECT_EQ(db_->Stats().forced_evictions, 0);
  auto info = db_->DescribeTable("telemetry");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->item_count, 1);
}

TEST_F(RetentionTest, DiskBudgetEvictsAcknowledgedFirstThenForcesAndFileShrinks) {
  Options o = MakeOptions();
  o.no_upstream = false;
  OpenDb(o);
  CreateTable();
  // ~4 MB of items (and as much again of change log images).
  constexpr int kItems = 2000;
  std::vector<int64_t> seqs;
  for (int64_t i = 0; i < kItems; ++i) {
    seqs.push_back(PutReading("telemetry", i, 2000));
    clock_.AdvanceMs(1);  // versions in ts order: oldest first is lowest ts
  }
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(seqs[kItems / 2 - 1]).ok());  // the older half
  auto before = db_->RunMaintenanceOnce();  // measures; no budget yet
  ASSERT_TRUE(before.ok());
  const int64_t used_before = db_->Stats().db_bytes;
  ASSERT_GT(used_before, 6 * 1024 * 1024);
  db_.reset();
  const int64_t file_before = FileBytes(dir_.File("edge.db"));

  // Budget: about a third of what is stored now.
  o.disk_budget_bytes = used_before / 3;
  o.retention_batch_items = 100;
  OpenDb(o);
  MaintenanceReport r = Drain();
  StorageStats st = db_->Stats();
  EXPECT_LE(st.db_bytes, o.disk_budget_bytes);
  // The acknowledged half went first (records, then items) and did not
  // suffice: the oldest unacknowledged went next, counted.
  EXPECT_EQ(r.evicted, kItems / 2);
  EXPECT_GT(r.forced_evicted, 0);
  EXPECT_EQ(st.forced_evictions, r.forced_evicted);
  EXPECT_GT(st.forced_trims, 0);
  for (int64_t i = 0; i < kItems / 2; i += 97) EXPECT_FALSE(Present("telemetry", i)) << i;
  // Oldest first: what is left is the newest unacknowledged items.
  const int64_t left = kItems / 2 - r.forced_evicted;
  ASSERT_GT(left, 0);
  for (int64_t i = kItems - left; i < kItems; ++i) ASSERT_TRUE(Present("telemetry", i)) << i;
  EXPECT_FALSE(Present("telemetry", kItems - left - 1));
  auto info = db_->DescribeTable("telemetry");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->item_count, left);

  db_.reset();  // final checkpoint
  const int64_t file_after = FileBytes(dir_.File("edge.db"));
  EXPECT_LT(file_after, file_before / 2) << "before " << file_before << " after " << file_after;
}

TEST_F(RetentionTest, BackpressureRefusesWritesUntilAcknowledged) {
  Options o = MakeOptions();
  OpenDb(o);
  CreateTable();
  for (int64_t i = 0; i < 1000; ++i) PutReading("telemetry", i, 2000);
  ASSERT_TRUE(db_->RunMaintenanceOnce().ok());
  const int64_t used = db_->Stats().db_bytes;
  o.disk_budget_bytes = used / 2;
  o.budget_policy = BudgetPolicy::kBackpressure;
  OpenDb(o);
  Drain();
  EXPECT_TRUE(db_->Stats().over_budget);
  auto refused = db_->Put("telemetry", Reading("d", 5000, 1));
  EXPECT_EQ(refused.status().code(), Status::Code::kBusy);
  EXPECT_EQ(db_->Transact({Write{"telemetry", Key("d", 5001),
                                 [](const item::Item*) -> Result<Decision> {
                                   return Decision::Put(Reading("d", 5001, 1));
                                 },
                                 false}})
                .status.code(),
            Status::Code::kBusy);
  EXPECT_EQ(db_->Stats().forced_evictions, 0);
  EXPECT_TRUE(Present("telemetry", 0));  // nothing lost

  // The upstream acknowledges: eviction makes room, writes flow again.
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(db_->Stats().last_seq).ok());
  Drain();
  EXPECT_FALSE(db_->Stats().over_budget);
  EXPECT_TRUE(db_->Put("telemetry", Reading("d", 5000, 1)).ok());
  EXPECT_EQ(db_->Stats().forced_evictions, 0);
  EXPECT_GT(db_->Stats().evictions, 0);
}

}  // namespace
}  // namespace edgetable::storage
