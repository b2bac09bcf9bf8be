#include "edge/ingest/internal/window.h"

#include <gtest/gtest.h>

namespace edgetable::ingest::internal {
namespace {

TEST(UncommittedWindowTest, FullAtTheMessageBoundReopensAtHalf) {
  UncommittedWindow w({/*messages=*/4, /*items=*/100, /*bytes=*/1000});
  EXPECT_FALSE(w.Full());
  EXPECT_TRUE(w.Reopened());
  for (int i = 0; i < 3; ++i) w.Add(1, 10);
  EXPECT_FALSE(w.Full());
  w.Add(1, 10);
  EXPECT_TRUE(w.Full());
  EXPECT_FALSE(w.Reopened());
  w.Remove(1, 10);
  EXPECT_FALSE(w.Reopened()) << "3 of 4 messages in use is more than half";
  w.Remove(1, 10);
  EXPECT_TRUE(w.Reopened());
  EXPECT_EQ(w.messages(), 2);
  EXPECT_EQ(w.items(), 2);
  EXPECT_EQ(w.bytes(), 20);
}

TEST(UncommittedWindowTest, FullAtTheItemBound) {
  UncommittedWindow w({/*messages=*/512, /*items=*/100, /*bytes=*/1 << 20});
  w.Add(60, 10);
  EXPECT_FALSE(w.Full());
  w.Add(40, 10);
  EXPECT_TRUE(w.Full());
  w.Remove(40, 10);
  EXPECT_FALSE(w.Reopened()) << "60 of 100 items";
  w.Remove(60, 10);
  EXPECT_TRUE(w.Reopened());
}

TEST(UncommittedWindowTest, FullAtTheByteBoundSoAWideWindowOfLargeMessagesHoldsLittle) {
  // 512 messages of 400 KB would hold 200 MB; the byte bound stops the
  // receive thread at 8 MiB whatever the message count allows.
  const int64_t kMessage = 400 * 1000;
  UncommittedWindow w({/*messages=*/512, /*items=*/2048, /*bytes=*/8 << 20});
  int taken = 0;
  while (!w.Full()) {
    w.Add(1, kMessage);
    ++taken;
  }
  EXPECT_EQ(taken, 21);  // the 21st crosses 8 MiB
  EXPECT_LT(w.bytes(), (8 << 20) + kMessage);
  while (!w.Reopened()) w.Remove(1, kMessage);
  EXPECT_LT(w.bytes(), 4 << 20);
  EXPECT_EQ(w.messages(), 10);
}

TEST(UncommittedWindowTest, ALargerMessageThanABoundIsTakenWhenTheWindowIsEmpty) {
  UncommittedWindow w({/*messages=*/64, /*items=*/100, /*bytes=*/1000});
  EXPECT_FALSE(w.Full());
  w.Add(500, 5000);  // a batched payload larger than both bounds
  EXPECT_TRUE(w.Full());
  w.Remove(500, 5000);
  EXPECT_TRUE(w.Reopened());
  EXPECT_FALSE(w.Full());
}

TEST(UncommittedWindowTest, AWindowOfOneReopensOnlyWhenEmpty) {
  UncommittedWindow w({/*messages=*/1, /*items=*/2048, /*bytes=*/8 << 20});
  w.Add(1, 1);
  EXPECT_TRUE(w.Full());
  EXPECT_FALSE(w.Reopened());
  w.Remove(1, 1);
  EXPECT_TRUE(w.Reopened());
}

}  // namespace
}  // namespace edgetable::ingest::internal
