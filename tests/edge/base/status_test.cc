#include "edge/base/status.h"

#include <gtest/gtest.h>

#include <memory>

namespace edgetable {
namespace {

TEST(StatusTest, OkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, CarriesCodeAndMessage) {
  Status s = Status::InvalidArgument("attribute 'a.b': bad number");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(s.ToString(), "InvalidArgument: attribute 'a.b': bad number");
  EXPECT_EQ(s.WithPrefix("PutItem").message(), "PutItem: attribute 'a.b': bad number");
}

Result<int> Half(int x) {
  if (x % 2 != 0) return Status::InvalidArgument("odd");
  return x / 2;
}

Result<int> Quarter(int x) {
  ET_ASSIGN_OR_RETURN(int h, Half(x));
  ET_ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

TEST(ResultTest, ValueOrError) {
  EXPECT_EQ(*Quarter(8), 2);
  Result<int> r = Quarter(6);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "odd");
}

TEST(ResultTest, MoveOnlyValue) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(7);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 7);
}

Status FailIfNegative(int x) {
  if (x < 0) return Status::Busy("negative");
  return Status::Ok();
}

Status Chain(int x) {
  ET_RETURN_IF_ERROR(FailIfNegative(x));
  return Status::Ok();
}

TEST(StatusTest, ReturnIfError) {
  EXPECT_TRUE(Chain(1).ok());
  EXPECT_EQ(Chain(-1).code(), Status::Code::kBusy);
}

TEST(StatusDeathTest, ResultFromOkStatusIsAProgrammerError) {
  EXPECT_DEATH({ Result<int> r(Status::Ok()); (void)r; }, "assertion failed");
}

}  // namespace
}  // namespace edgetable
