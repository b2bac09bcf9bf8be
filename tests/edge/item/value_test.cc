#include "edge/item/value.h"

#include <gtest/gtest.h>

namespace edgetable::item {
namespace {

Number N(std::string_view t) { return Number::Parse(t).value(); }

TEST(ValueTest, TypeNames) {
  EXPECT_EQ(TypeName(Type::kS), "S");
  EXPECT_EQ(TypeName(Type::kBool), "BOOL");
  EXPECT_EQ(TypeName(Type::kNull), "NULL");
  EXPECT_EQ(TypeName(Type::kBS), "BS");
}

TEST(ValueTest, EqualityIsDynamoDbEquality) {
  EXPECT_EQ(Value::N(N("1.50")), Value::N(N("1.5")));
  EXPECT_NE(Value::S("1"), Value::N(N("1")));
  EXPECT_NE(Value::S("a"), Value::B("a")) << "same bytes, different types";
  EXPECT_EQ(Value::SS({"b", "a"}), Value::SS({"a", "b"})) << "sets ignore order";
  EXPECT_EQ(Value::NS({N("2"), N("1.0")}), Value::NS({N("1"), N("2")}));
  EXPECT_NE(Value::SS({"a"}), Value::SS({"a", "b"}));
  EXPECT_NE(Value::L({Value::S("a"), Value::S("b")}), Value::L({Value::S("b"), Value::S("a")}))
      << "lists keep order";
  EXPECT_EQ(Value::M({{"x", Value::N(N("1e1"))}}), Value::M({{"x", Value::N(N("10"))}}));
  EXPECT_NE(Value::M({{"x", Value::Null()}}), Value::M({{"y", Value::Null()}}));
  EXPECT_EQ(Value::Null(), Value());
  EXPECT_NE(Value::Bool(true), Value::Bool(false));
}

TEST(ValueTest, SetsAreCanonicallySorted) {
  const Value ss = Value::SS({"b", "\xff", "a", "ab"});
  EXPECT_EQ(ss.strings(), (std::vector<std::string>{"a", "ab", "b", "\xff"}));
  const Value ns = Value::NS({N("10"), N("-1"), N("9.5")});
  EXPECT_EQ(ns.numbers()[0].ToString(), "-1");
  EXPECT_EQ(ns.numbers()[2].ToString(), "10");
}

TEST(ValueTest, CompareScalarOrders) {
  EXPECT_LT(CompareScalar(Value::S("a"), Value::S("b")), 0);
  EXPECT_LT(CompareScalar(Value::S("a"), Value::S("ab")), 0);
  EXPECT_GT(CompareScalar(Value::S("\xc3\xa9"), Value::S("z")), 0) << "unsigned bytes";
  EXPECT_LT(CompareScalar(Value::B(std::string(1, '\x00')), Value::B("\x80")), 0);
  EXPECT_LT(CompareScalar(Value::N(N("9")), Value::N(N("10"))), 0) << "numerically";
  EXPECT_EQ(CompareScalar(Value::N(N("1.0")), Value::N(N("1"))), 0);
}

}  // namespace
}  // namespace edgetable::item
