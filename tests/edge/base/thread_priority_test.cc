#include "edge/base/thread_priority.h"

#include <gtest/gtest.h>

#include <thread>

namespace edgetable {
namespace {

// Each test works on a thread of its own: a lowered thread cannot always go
// back, and the test runner's main thread must not stay lowered.
template <typename F>
void OnThread(F f) {
  std::thread t(f);
  t.join();
}

#ifdef __linux__

TEST(ThreadPriorityTest, BackgroundLowersOnlyTheCallingThread) {
  const int main_nice = CurrentThreadNice();
  if (main_nice >= kBackgroundNice) GTEST_SKIP() << "the tests run at background priority already";
  OnThread([&] {
    EXPECT_TRUE(SetCurrentThreadBackground());
    EXPECT_EQ(CurrentThreadNice(), kBackgroundNice);
    EXPECT_TRUE(SetCurrentThreadBackground());  // already there: unchanged
    EXPECT_EQ(CurrentThreadNice(), kBackgroundNice);
  });
  EXPECT_EQ(CurrentThreadNice(), main_nice);  // per thread, not per process
}

TEST(ThreadPriorityTest, BackgroundNeverRaisesALowerPriority) {
  OnThread([&] {
    ASSERT_TRUE(SetCurrentThreadNice(kBackgroundNice + 3));
    EXPECT_TRUE(SetCurrentThreadBackground());
    EXPECT_EQ(CurrentThreadNice(), kBackgroundNice + 3);
  });
}

TEST(ThreadPriorityTest, ScopeLowersAndRestoresWhenPermitted) {
  if (CurrentThreadNice() >= kBackgroundNice) GTEST_SKIP() << "the tests run at background priority already";
  OnThread([&] {
    const int before = CurrentThreadNice();
    const bool can = CanRestoreThreadNice(before);
    {
      BackgroundPriorityScope scope;
      EXPECT_EQ(scope.lowered(), can);
      EXPECT_EQ(CurrentThreadNice(), can ? kBackgroundNice : before);
      scope.Restore();
      EXPECT_FALSE(scope.lowered());
      EXPECT_EQ(CurrentThreadNice(), before);
      scope.Restore();  // idempotent
    }
    {
      BackgroundPriorityScope scope;
      EXPECT_EQ(scope.lowered(), can);
    }
    EXPECT_EQ(CurrentThreadNice(), before);  // the destructor restored it
  });
}

TEST(ThreadPriorityTest, ScopeLeavesABackgroundThreadAlone) {
  OnThread([&] {
    ASSERT_TRUE(SetCurrentThreadNice(kBackgroundNice + 2));
    {
      BackgroundPriorityScope scope;
      EXPECT_FALSE(scope.lowered());
      EXPECT_EQ(CurrentThreadNice(), kBackgroundNice + 2);
    }
    EXPECT_EQ(CurrentThreadNice(), kBackgroundNice + 2);
  });
}

TEST(ThreadPriorityTest, RaisingIsAlwaysRestorableLoweringDependsOnThePrivilege) {
  OnThread([&] {
    ASSERT_TRUE(SetCurrentThreadNice(kBackgroundNice));
    EXPECT_TRUE(CanRestoreThreadNice(kBackgroundNice + 1));  // a lower priority: always permitted
    // Going back to a higher priority works exactly when it is reported to.
    const int target = kBackgroundNice - 5;
    const bool can = CanRestoreThreadNice(target);
    EXPECT_EQ(SetCurrentThreadNice(target), can);
  });
}

#else

TEST(ThreadPriorityTest, DoesNothingElsewhere) {
  BackgroundPriorityScope scope;
  EXPECT_FALSE(scope.lowered());
  EXPECT_FALSE(SetCurrentThreadBackground());
}

#endif

}  // namespace
}  // namespace edgetable
