// 8 writer threads and 8 reader threads on one Storage: no acknowledged
// write is lost, no read sees a torn item (every item carries a checksum of
// its payload that readers verify), and the change log stays dense with
// strictly increasing versions.

#include <gtest/gtest.h>

#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr int kWriters = 8;
constexpr int kReaders = 8;
constexpr int kKeysPerWriter = 50;
constexpr int kRoundsPerWriter = 8;  // each key is rewritten this many times

item::Item MakeItem(int writer, int key, int round, std::mt19937& rng) {
  std::string payload(static_cast<size_t>(20 + rng() % 400), ' ');
  for (auto& c : payload) c = static_cast<char>('a' + rng() % 26);
  item::Item it = Reading("w" + std::to_string(writer), key, round, payload);
  it["sum"] = N(Checksum(payload) + round);
  return it;
}

// A torn or mixed item fails this.
bool Verify(const item::Item& it) {
  auto p = it.find("payload");
  auto s = it.find("sum");
  auto v = it.find("value");
  if (p == it.end() || s == it.end() || v == it.end()) return false;
  int64_t sum = 0, round = 0;
  if (!s->second.n().ToInt64(&sum) || !v->second.n().ToInt64(&round)) return false;
  return sum == Checksum(p->second.s()) + round;
}

TEST(StorageConcurrencyTest, EightWritersEightReadersNoLostWriteNoTornRead) {
  TempDir dir;
  Options o;
  o.path = dir.File("c.db");
  auto opened = Storage::Open(o);
  ASSERT_TRUE(opened.ok()) << opened.status().ToString();
  Storage* db = opened->get();
  ASSERT_TRUE(db->CreateTable("telemetry", DeviceTsSchema()).ok());

  std::atomic<bool> writers_done{false};
  std::atomic<int64_t> write_errors{0}, bad_reads{0}, reads{0}, busy{0};
  std::vector<std::vector<int>> last_round(kWriters, std::vector<int>(kKeysPerWriter, -1));

  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      std::mt19937 rng(static_cast<unsigned>(w));
      for (int round = 0; round < kRoundsPerWriter; ++round) {
        for (int k = 0; k < kKeysPerWriter; ++k) {
          for (;;) {
            auto r = db->Put("telemetry", MakeItem(w, k, round, rng));
            if (r.ok()) {
              last_round[static_cast<size_t>(w)][static_cast<size_t>(k)] = round;
              break;
            }
            if (r.status().code() == Status::Code::kBusy) {
              ++busy;
              std::this_thread::yield();
              continue;
            }
            ++write_errors;
            break;
          }
        }
      }
    });
  }
  for (int rd = 0; rd < kReaders; ++rd) {
    threads.emplace_back([&, rd] {
      std::mt19937 rng(static_cast<unsigned>(1000 + rd));
      while (!writers_done.load()) {
        const std::string dev = "w" + std::to_string(rng() % kWriters);
        if (rng() % 2 == 0) {
          auto g = db->Get("telemetry", Key(dev, static_cast<int64_t>(rng() % kKeysPerWriter)));
          if (!g.ok()) {
            ++bad_reads;
          } else if (g->has_value() && !Verify(**g)) {
            ++bad_reads;
          }
        } else {
          auto page = db->Query(QueryRequest{"telemetry", S(dev), {}, rng() % 2 == 0, 20,
                                             limits::kQueryPageBytesMax, std::nullopt});
          if (!page.ok()) {
            ++bad_reads;
          } else {
            for (const auto& it : page->items) {
              if (!Verify(it)) ++bad_reads;
            }
          }
        }
        ++reads;
      }
    });
  }
  for (int w = 0; w < kWriters; ++w) threads[static_cast<size_t>(w)].join();
  writers_done = true;
  for (size_t i = kWriters; i < threads.size(); ++i) threads[i].join();

  EXPECT_EQ(write_errors.load(), 0);
  EXPECT_EQ(bad_reads.load(), 0);
  EXPECT_GT(reads.load(), 0);

  // Every key holds its last acknowledged round.
  for (int w = 0; w < kWriters; ++w) {
    for (int k = 0; k < kKeysPerWriter; ++k) {
      auto g = db->Get("telemetry", Key("w" + std::to_string(w), k));
      ASSERT_TRUE(g.ok() && g->has_value());
      ASSERT_TRUE(Verify(**g));
      int64_t round = -1;
      ASSERT_TRUE((**g).at("value").n().ToInt64(&round));
      EXPECT_EQ(round, last_round[static_cast<size_t>(w)][static_cast<size_t>(k)]);
    }
  }
  auto d = db->DescribeTable("telemetry");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->item_count, kWriters * kKeysPerWriter);

  // One change record per write, dense, versions strictly increasing.
  auto log = db->ReadChanges(0, 1'000'000);
  ASSERT_TRUE(log.ok());
  ASSERT_EQ(log->size(), static_cast<size_t>(kWriters * kKeysPerWriter * kRoundsPerWriter));
  for (size_t i = 0; i < log->size(); ++i) {
    ASSERT_EQ((*log)[i].seq, static_cast<int64_t>(i) + 1);
    if (i > 0) {
      ASSERT_GT((*log)[i].version, (*log)[i - 1].version);
    }
  }
  StorageStats st = db->Stats();
  std::printf("commits %lld for %lld writes, largest group %lld, busy %lld, reads %lld\n",
              static_cast<long long>(st.commits), static_cast<long long>(st.writes),
              static_cast<long long>(st.group_writes_max), static_cast<long long>(busy.load()),
              static_cast<long long>(reads.load()));
}

}  // namespace
}  // namespace edgetable::storage
