// TTL (sweeper, read hiding, expiry recompute) and change log retention of
// edge/storage, driven by a FakeClock (storage.h, "TTL" and "Change log
// retention").

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int64_t kStartS = kStartMs / 1000;
constexpr int64_t kYearS = 365 * 86400;

class TtlTest : public ::testing::Test {
 protected:
  Options MakeOptions() {
    Options o;
    o.path = dir_.File("edge.db");
    o.clock = &clock_;
    o.ttl_sweep_interval_ms = 0;  // the test runs maintenance itself
    o.ttl_sweep_batch_items = 100;
    return o;
  }
  void OpenDb(Options o) {
    db_.reset();
    auto s = Storage::Open(o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    db_ = std::move(*s);
  }
  void SetUp() override { OpenDb(MakeOptions()); }

  void CreateTable(const std::string& ttl_attribute = "exp") {
    auto t = db_->CreateTable("telemetry", DeviceTsSchema(), TableSettings{ttl_attribute, StreamViewType::kNone});
    ASSERT_TRUE(t.ok()) << t.status().ToString();
  }
  void PutWith(int64_t ts, std::optional<item::Value> exp) {
    item::Item it = Reading("d", ts, ts);
    if (exp) it["exp"] = *exp;
    auto r = db_->Put("telemetry", std::move(it));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  bool Visible(int64_t ts) {
    auto g = db_->Get("telemetry", Key("d", ts));
    EXPECT_TRUE(g.ok()) << g.status().ToString();
    return g.ok() && g->has_value();
  }
  std::vector<int64_t> QueryTs() {
    QueryRequest q;
    q.table = "telemetry";
    q.partition = S("d");
    auto p = db_->Query(q);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    std::vector<int64_t> out;
    if (!p.ok()) return out;
    for (const auto& it : p->items) {
      int64_t v = 0;
      EXPECT_TRUE(it.at("ts").n().ToInt64(&v));
      out.push_back(v);
    }
    return out;
  }
  size_t ScanCount() {
    ScanRequest s;
    s.table = "telemetry";
    auto p = db_->Scan(s);
    EXPECT_TRUE(p.ok()) << p.status().ToString();
    return p.ok() ? p->items.size() : 0;
  }
  // Runs maintenance until no task has more work; returns TTL deletes.
  int64_t Drain() {
    int64_t deleted = 0;
    for (int i = 0; i < 10'000; ++i) {
      auto r = db_->RunMaintenanceOnce();
      EXPECT_TRUE(r.ok()) << r.status().ToString();
      if (!r.ok()) break;
      deleted += r->ttl_deleted;
      if (!r->more) break;
    }
    return deleted;
  }
  std::vector<ChangeRecord> Changes() {
    auto c = db_->ReadChanges(0, 1'000'000);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    return c.ok() ? *c : std::vector<ChangeRecord>{};
  }

  TempDir dir_;
  FakeClock clock_{kStartMs};
  std::unique_ptr<Storage> db_;
};

TEST_F(TtlTest, ExpiresOnTimeAndKeepsWhatDynamoDbKeeps) {
  CreateTable();
  PutWith(1, N(kStartS + 10));               // expires in 10 s
  PutWith(2, std::nullopt);                  // no TTL attribute
  PutWith(3, S("soon"));                     // not a number
  PutWith(4, N(kStartS - 5 * kYearS - 2 * 86400));  // more than 5 years in the past
  PutWith(5, N(kStartS - 1));                // already expired
  PutWith(6, N(kStartS));                    // expires exactly now: not yet (strictly before now)

  // Hidden at once, before any sweep.
  EXPECT_FALSE(Visible(5));
  EXPECT_TRUE(Visible(1));
  EXPECT_TRUE(Visible(6));
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{1, 2, 3, 4, 6}));
  EXPECT_EQ(ScanCount(), 5u);

  EXPECT_EQ(Drain(), 1);  // only item 5
  clock_.AdvanceMs(9'999);
  EXPECT_EQ(Drain(), 1);  // item 6 (now > its second), item 1 not yet
  EXPECT_TRUE(Visible(1));
  clock_.AdvanceMs(2);    // past kStartS + 10
  EXPECT_FALSE(Visible(1));
  EXPECT_EQ(Drain(), 1);
  // Years later the kept items are still there.
  clock_.AdvanceMs(10 * kYearS * 1000);
  EXPECT_EQ(Drain(), 0);
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{2, 3, 4}));

  // Each TTL delete: one REMOVE record marked ttl_delete, its own txn, with the old image.
  int ttl_removes = 0;
  for (const ChangeRecord& c : Changes()) {
    if (c.op != ChangeOp::kRemove) continue;
    EXPECT_TRUE(c.ttl_delete);
    EXPECT_TRUE(c.old_image.has_value());
    EXPECT_FALSE(c.new_image.has_value());
    EXPECT_EQ(c.txn_id, c.seq);
    ++ttl_removes;
  }
  EXPECT_EQ(ttl_removes, 3);
  StorageStats st = db_->Stats();
  EXPECT_EQ(st.ttl_deletes, 3);
  auto info = db_->DescribeTable("telemetry");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->item_count, 3);
}

TEST_F(TtlTest, ExpiredVisibleUntilSweptWhenHidingIsOff) {
  Options o = MakeOptions();
  o.hide_expired_on_read = false;
  OpenDb(o);
  CreateTable();
  PutWith(1, N(kStartS - 1));
  PutWith(2, N(kStartS + 100));
  EXPECT_TRUE(Visible(1));
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{1, 2}));
  EXPECT_EQ(ScanCount(), 2u);
  EXPECT_EQ(Drain(), 1);
  EXPECT_FALSE(Visible(1));
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{2}));
}

TEST_F(TtlTest, SweepBatchesAreBounded) {
  CreateTable();
  for (int64_t i = 0; i < 250; ++i) PutWith(i, N(kStartS + 1));
  PutWith(1000, N(kStartS + 1000));
  clock_.AdvanceMs(5'000);
  auto r = db_->RunMaintenanceOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->ttl_deleted, 100);
  EXPECT_TRUE(r->more);
  EXPECT_EQ(Drain(), 150);
  StorageStats st = db_->Stats();
  EXPECT_EQ(st.ttl_deletes, 250);
  EXPECT_EQ(st.ttl_sweep_batch_max, 100);
  EXPECT_EQ(st.ttl_sweep_batches, 3);
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{1000}));
}

TEST_F(TtlTest, ChangingTheTtlAttributeRecomputesExpiry) {
  CreateTable("");  // TTL off: nothing has an expiry
  for (int64_t i = 0; i < 250; ++i) PutWith(i, N(kStartS - 10));
  PutWith(500, N(kStartS + 3600));
  EXPECT_EQ(Drain(), 0);
  EXPECT_EQ(QueryTs().size(), 251u);

  // Enabling TTL on "exp" applies to the items already stored.
  ASSERT_TRUE(db_->UpdateTableSettings("telemetry", TableSettings{"exp", StreamViewType::kNone}).ok());
  EXPECT_EQ(Drain(), 250);
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{500}));
  EXPECT_GE(db_->Stats().expiry_recomputed, 251);

  // Disabling it: an item whose stored expiry passes afterwards is kept,
  // even before the recompute pass runs (the sweeper re-checks).
  ASSERT_TRUE(db_->UpdateTableSettings("telemetry", TableSettings{"", StreamViewType::kNone}).ok());
  clock_.AdvanceMs(7'200'000);
  EXPECT_TRUE(Visible(500));
  EXPECT_EQ(Drain(), 0);
  EXPECT_TRUE(Visible(500));

  // Switching to another attribute: items expire by the new one.
  PutWith(600, N(kStartS));
  auto put = db_->Put("telemetry", item::Item{{"device", S("d")}, {"ts", N(700)}, {"until", N(kStartS)}});
  ASSERT_TRUE(put.ok());
  ASSERT_TRUE(db_->UpdateTableSettings("telemetry", TableSettings{"until", StreamViewType::kNone}).ok());
  EXPECT_EQ(Drain(), 1);
  EXPECT_EQ(QueryTs(), (std::vector<int64_t>{500, 600}));
}

TEST_F(TtlTest, RecomputeSurvivesReopen) {
  CreateTable("");
  for (int64_t i = 0; i < 120; ++i) PutWith(i, N(kStartS - 10));
  ASSERT_TRUE(db_->UpdateTableSettings("telemetry", TableSettings{"exp", StreamViewType::kNone}).ok());
  OpenDb(MakeOptions());  // the pending pass is in meta; it restarts
  EXPECT_EQ(Drain(), 120);
}

// The sweeper thread runs while 8 threads write: every write is answered
// OK and stored, sweep transactions stay within their bound, and every
// expired item goes.
TEST_F(TtlTest, SweeperInterleavesWithEightWriters) {
  Options o = MakeOptions();
  o.ttl_sweep_interval_ms = 1;
  o.ttl_sweep_batch_items = 64;
  OpenDb(o);
  CreateTable();
  constexpr int kExpired = 5000;
  for (int64_t base = 0; base < kExpired; base += 100) {
    std::vector<Write> w;  // Transact: up to 100 writes per call
    for (int64_t i = base; i < base + 100; ++i) {
      item::Item it = Reading("old", i, i);
      it["exp"] = N(kStartS + 1);
      w.push_back(Write{"telemetry", Key("old", i),
                        [it](const item::Item*) -> Result<Decision> { return Decision::Put(it); }, false});
    }
    ASSERT_TRUE(db_->Transact(std::move(w)).status.ok());
  }
  clock_.AdvanceMs(2'000);  // all of them are now expired

  constexpr int kThreads = 8;
  constexpr int kPerThread = 400;
  std::atomic<int> failures{0};
  std::vector<std::vector<int64_t>> latencies_us(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        item::Item it = Reading("w" + std::to_string(t), i, i);
        it["exp"] = N(kStartS + 86400);
        auto start = std::chrono::steady_clock::now();
        Result<WriteOutcome> r = db_->Put("telemetry", it);
        while (!r.ok() && r.status().code() == Status::Code::kBusy) r = db_->Put("telemetry", it);
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start);
        latencies_us[static_cast<size_t>(t)].push_back(us.count());
        if (!r.ok()) failures.fetch_add(1);
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);

  // Wait (bounded) for the sweeper thread to finish the backlog.
  for (int i = 0; i < 3000 && db_->Stats().ttl_deletes < kExpired; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  StorageStats st = db_->Stats();
  EXPECT_EQ(st.ttl_deletes, kExpired);
  EXPECT_LE(st.ttl_sweep_batch_max, 64);
  EXPECT_GE(st.ttl_sweep_batches, kExpired / 64);
  auto info = db_->DescribeTable("telemetry");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->item_count, kThreads * kPerThread);

  // Latency: generous on a loaded 2-core box (and under sanitizers); what it
  // catches is a sweeper that holds the writer for a whole backlog.
  std::vector<int64_t> all;
  for (const auto& v : latencies_us) all.insert(all.end(), v.begin(), v.end());
  std::sort(all.begin(), all.end());
  const int64_t p99 = all[all.size() * 99 / 100];
  EXPECT_LT(p99, 2'000'000) << "p99 write latency during sweeping " << p99 << " us";
  std::printf("write latency during sweeping: p50 %lld us, p99 %lld us, max %lld us\n",
              static_cast<long long>(all[all.size() / 2]), static_cast<long long>(p99),
              static_cast<long long>(all.back()));
}

TEST_F(TtlTest, ChangeLogTrimmedOnlyWhenAcknowledgedAndOld) {
  CreateTable();
  for (int64_t i = 0; i < 10; ++i) PutWith(i, std::nullopt);
  const int64_t last = db_->Stats().last_seq;
  clock_.AdvanceMs(25 * 3600 * 1000);  // past the 24 h retention
  EXPECT_EQ(Drain(), 0);
  EXPECT_EQ(db_->TrimmedSeq(), 0);  // nothing acknowledged: nothing trimmed
  EXPECT_EQ(Changes().size(), 10u);

  EXPECT_EQ(db_->SetUpstreamAckedSeq(last + 1).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(last - 4).ok());
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(2).ok());  // never moves back
  EXPECT_EQ(db_->UpstreamAckedSeq(), last - 4);
  // Newer records than the retention stay even when acknowledged.
  for (int64_t i = 10; i < 12; ++i) PutWith(i, std::nullopt);
  ASSERT_TRUE(db_->SetUpstreamAckedSeq(db_->Stats().last_seq).ok());
  (void)db_->RunMaintenanceOnce();
  EXPECT_EQ(db_->TrimmedSeq(), last);
  auto rest = Changes();
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest.front().seq, last + 1);
  EXPECT_EQ(db_->Stats().changes_trimmed, 10);

  // Trim everything, reopen: sequences stay dense (invariant 3) and the
  // cursors persist.
  clock_.AdvanceMs(25 * 3600 * 1000);
  (void)db_->RunMaintenanceOnce();
  EXPECT_TRUE(Changes().empty());
  const int64_t acked = db_->UpstreamAckedSeq();
  OpenDb(MakeOptions());
  EXPECT_EQ(db_->UpstreamAckedSeq(), acked);
  EXPECT_EQ(db_->TrimmedSeq(), last + 2);
  auto r = db_->Put("telemetry", Reading("d", 99, 99));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->seq, last + 3);
}

TEST_F(TtlTest, NoUpstreamTrimsByRetentionAlone) {
  Options o = MakeOptions();
  o.no_upstream = true;
  o.change_log_trim_batch = 4;
  OpenDb(o);
  CreateTable();
  for (int64_t i = 0; i < 10; ++i) PutWith(i, std::nullopt);
  clock_.AdvanceMs(1000);
  EXPECT_EQ(Drain(), 0);
  EXPECT_EQ(db_->TrimmedSeq(), 0);
  clock_.AdvanceMs(24 * 3600 * 1000);
  auto r = db_->RunMaintenanceOnce();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->changes_trimmed, 4);  // bounded batch
  EXPECT_TRUE(r->more);
  Drain();
  EXPECT_EQ(db_->TrimmedSeq(), 10);
  EXPECT_TRUE(Changes().empty());
}

}  // namespace
}  // namespace edgetable::storage
