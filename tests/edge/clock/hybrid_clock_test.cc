#include "edge/clock/hybrid_clock.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <thread>
#include <vector>

namespace edgetable::clock {
namespace {

constexpr uint64_t kReplica = 0xA1B2C3D4E5F60708ULL;

TEST(VersionTest, TotalOrderIsHlcThenCounterThenUnsignedReplica) {
  Version a{100, 0, 5};
  Version b{100, 1, 1};
  Version c{101, 0, 0};
  Version d{100, 1, 0xFFFFFFFFFFFFFFFFULL};  // larger than any signed view would say
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  EXPECT_LT(b, d);
  EXPECT_LT(d, c);
  EXPECT_EQ(a, (Version{100, 0, 5}));
  EXPECT_TRUE(Version{}.is_zero());
  EXPECT_FALSE(a.is_zero());
  EXPECT_EQ((Version{12, 3, 255}).ToString(), "12.3@00000000000000ff");
}

TEST(HybridClockTest, FollowsTheWallClockWhenItMovesForward) {
  FakeClock wall(1'000);
  HybridClock hlc(&wall, kReplica);
  Version v1 = hlc.Now();
  EXPECT_EQ(v1, (Version{1'000, 0, kReplica}));
  wall.AdvanceMs(5);
  Version v2 = hlc.Now();
  EXPECT_EQ(v2, (Version{1'005, 0, kReplica}));
  Version v3 = hlc.Now();  // wall clock stood still
  EXPECT_EQ(v3, (Version{1'005, 1, kReplica}));
}

TEST(HybridClockTest, StrictlyIncreasesWhileTheWallClockJumpsBack) {
  FakeClock wall(1'700'000'000'000);
  HybridClock hlc(&wall, kReplica);
  Version prev = hlc.Now();
  for (int i = 0; i < 1000; ++i) {
    if (i % 100 == 50) wall.SetMs(wall.NowMs() - 3'600'000);  // an hour back
    if (i % 7 == 0) wall.AdvanceMs(1);
    Version v = hlc.Now();
    ASSERT_GT(v, prev) << "at step " << i;
    prev = v;
  }
  // The clock never went below what it had issued before the jumps.
  EXPECT_GE(prev.hlc_ms, 1'700'000'000'000);
}

TEST(HybridClockTest, ObserveOrdersLaterWritesAfterRemoteOnes) {
  FakeClock wall(1'000);
  HybridClock hlc(&wall, kReplica);
  Version remote{5'000, 7, 1};  // a replica whose clock runs ahead
  hlc.Observe(remote);
  Version v = hlc.Now();
  EXPECT_GT(v, remote);
  EXPECT_EQ(v.hlc_ms, 5'000);
  EXPECT_EQ(v.counter, 8);
  // Equal time parts and a larger replica id: still ordered after it.
  Version tie{5'000, 9, 0xFFFFFFFFFFFFFFFFULL};
  hlc.Observe(tie);
  EXPECT_GT(hlc.Now(), tie);
  // Observing an older version changes nothing.
  Version before = hlc.Last();
  hlc.Observe(Version{10, 0, 1});
  EXPECT_EQ(hlc.Last(), before);
  // Once the wall clock passes the observed time, it leads again.
  wall.SetMs(6'000);
  EXPECT_EQ(hlc.Now(), (Version{6'000, 0, kReplica}));
}

TEST(HybridClockTest, FloorSurvivesARestartWithTheWallClockSetBack) {
  FakeClock wall(2'000'000);
  Version last;
  {
    HybridClock hlc(&wall, kReplica);
    for (int i = 0; i < 10; ++i) last = hlc.Now();
  }
  wall.SetMs(1'000);  // rebooted without a real-time clock
  HybridClock restarted(&wall, kReplica);
  restarted.SetFloor(last);
  Version v = restarted.Now();
  EXPECT_GT(v, last);
  EXPECT_EQ(v.hlc_ms, last.hlc_ms);
}

TEST(HybridClockTest, CounterNeverOverflows) {
  FakeClock wall(1'000);
  HybridClock hlc(&wall, kReplica);
  hlc.Observe(Version{1'000, std::numeric_limits<int32_t>::max() - 1, 1});
  Version a = hlc.Now();
  EXPECT_EQ(a.counter, std::numeric_limits<int32_t>::max());
  Version b = hlc.Now();
  EXPECT_GT(b, a);
  EXPECT_EQ(b, (Version{1'001, 0, kReplica}));
}

TEST(HybridClockTest, TimesAfter2038) {
  // 2100-01-01T00:00:00Z: past the 32-bit time_t limit of armhf.
  const int64_t y2100 = 4'102'444'800'000;
  FakeClock wall(y2100);
  HybridClock hlc(&wall, kReplica);
  Version v = hlc.Now();
  EXPECT_EQ(v.hlc_ms, y2100);
  wall.SetMs(2'147'483'647'000 + 1);  // just past 2038-01-19 in ms, behind 2100
  Version w = hlc.Now();
  EXPECT_GT(w, v);
  EXPECT_EQ(w.hlc_ms, y2100);
}

TEST(HybridClockTest, ConcurrentCallersGetDistinctIncreasingVersions) {
  FakeClock wall(1'000);
  HybridClock hlc(&wall, kReplica);
  constexpr int kThreads = 4;
  constexpr int kPerThread = 2000;
  std::vector<std::vector<Version>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) got[t].push_back(hlc.Now());
    });
  }
  for (auto& th : threads) th.join();
  std::vector<Version> all;
  for (const auto& g : got) {
    for (size_t i = 1; i < g.size(); ++i) ASSERT_GT(g[i], g[i - 1]);
    all.insert(all.end(), g.begin(), g.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(std::adjacent_find(all.begin(), all.end()), all.end());
}

TEST(SkewBoundTest, FlagsVersionsTooFarAhead) {
  const int64_t now = 1'700'000'000'000;
  EXPECT_FALSE(ExceedsSkewBound(Version{now, 0, 1}, now, 0));
  EXPECT_FALSE(ExceedsSkewBound(Version{now - 1'000'000, 0, 1}, now, 0));  // behind is fine
  EXPECT_FALSE(ExceedsSkewBound(Version{now + 60'000, 0, 1}, now, 60'000));
  EXPECT_TRUE(ExceedsSkewBound(Version{now + 60'001, 0, 1}, now, 60'000));
  // A Pi that booted in 2099, and extreme values that must not overflow.
  EXPECT_TRUE(ExceedsSkewBound(Version{4'070'908'800'000, 0, 1}, now, 3'600'000));
  EXPECT_TRUE(ExceedsSkewBound(Version{std::numeric_limits<int64_t>::max(), 0, 1},
                               std::numeric_limits<int64_t>::min(), 0));
  EXPECT_FALSE(ExceedsSkewBound(Version{std::numeric_limits<int64_t>::min(), 0, 1},
                                std::numeric_limits<int64_t>::max(), 0));
}

}  // namespace
}  // namespace edgetable::clock
