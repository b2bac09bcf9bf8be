#include "edge/base/clock.h"

#include <gtest/gtest.h>

namespace edgetable {
namespace {

TEST(ClockTest, SystemClockIsPlausibleAndMonotonic) {
  Clock* c = Clock::System();
  EXPECT_GT(c->NowMs(), int64_t{1'600'000'000'000});  // after 2020
  int64_t a = c->MonotonicNs();
  int64_t b = c->MonotonicNs();
  EXPECT_LE(a, b);
}

TEST(ClockTest, FakeClockMovesOnlyWhenTold) {
  FakeClock c(1000);
  EXPECT_EQ(c.NowMs(), 1000);
  c.AdvanceMs(250);
  EXPECT_EQ(c.NowMs(), 1250);
  EXPECT_EQ(c.MonotonicNs(), 250'000'000);
  c.SetMs(10);  // a wall clock may jump back; monotonic time does not
  EXPECT_EQ(c.NowMs(), 10);
  EXPECT_EQ(c.MonotonicNs(), 250'000'000);
}

TEST(ClockTest, TimesAfter2038AreRepresentable) {
  // 2100-01-01T00:00:00Z in ms: past the 32-bit time_t limit of armhf.
  FakeClock c(4'102'444'800'000);
  EXPECT_EQ(c.NowMs() / 1000, int64_t{4'102'444'800});
  OffsetClock skewed(&c, -3'600'000);
  EXPECT_EQ(skewed.NowMs(), 4'102'444'800'000 - 3'600'000);
}

}  // namespace
}  // namespace edgetable
