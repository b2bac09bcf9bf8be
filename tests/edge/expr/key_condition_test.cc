// KeyConditionExpression: every valid shape, and every way to get it wrong.
// Messages were checked against DynamoDB Local.

#include <gtest/gtest.h>

#include <string>

#include "edge/expr/expr.h"
#include "tests/edge/expr/test_util.h"

namespace edgetable::expr {
namespace {

using testing::ValuesOf;

constexpr std::string_view kValues = R"({
  ":d": {"S": "dev1"}, ":e": {"S": ""}, ":n0": {"N": "0"}, ":n5": {"N": "5"}, ":s": {"S": "x"},
  ":b": {"B": "AQ=="}
})";

const item::KeySchema kSchema{{"device", item::Type::kS}, item::KeyAttribute{"ts", item::Type::kN}};
const item::KeySchema kStringSort{{"device", item::Type::kS},
                                  item::KeyAttribute{"name", item::Type::kS}};
const item::KeySchema kHashOnly{{"device", item::Type::kS}, std::nullopt};

Result<KeyCondition> Parse(std::string_view text, const item::KeySchema& schema = kSchema) {
  ExpressionContext ctx({{"#d", "device"}, {"#t", "ts"}, {"#n", "name"}}, ValuesOf(kValues));
  return ParseKeyCondition(text, schema, ctx);
}

std::string Error(std::string_view text, const item::KeySchema& schema = kSchema) {
  Result<KeyCondition> k = Parse(text, schema);
  if (k.ok()) return "OK";
  EXPECT_EQ(k.status().code(), Status::Code::kInvalidArgument) << text;
  return k.status().message();
}

item::Value N(int64_t v) { return item::Value::N(item::Number::FromInt(v)); }

TEST(KeyConditionTest, PartitionOnly) {
  for (std::string_view text : {"device = :d", ":d = device", "#d = :d", "(device = :d)"}) {
    Result<KeyCondition> k = Parse(text);
    ASSERT_TRUE(k.ok()) << text << ": " << k.status().ToString();
    EXPECT_TRUE(k->partition == item::Value::S("dev1")) << text;
    EXPECT_FALSE(k->sort.has_value()) << text;
  }
}

TEST(KeyConditionTest, EverySortOperator) {
  struct Case {
    std::string_view text;
    SortCondition::Op op;
  };
  const Case cases[] = {
      {"device = :d AND ts = :n5", SortCondition::Op::kEq},
      {"device = :d AND ts < :n5", SortCondition::Op::kLt},
      {"device = :d AND ts <= :n5", SortCondition::Op::kLe},
      {"device = :d AND ts > :n5", SortCondition::Op::kGt},
      {"device = :d AND ts >= :n5", SortCondition::Op::kGe},
      {"ts >= :n5 AND device = :d", SortCondition::Op::kGe},
      // The key on the right flips the operator.
      {"device = :d AND :n5 > ts", SortCondition::Op::kLt},
      {"device = :d AND :n5 >= ts", SortCondition::Op::kLe},
      {"device = :d AND :n5 < ts", SortCondition::Op::kGt},
      {"device = :d AND :n5 <= ts", SortCondition::Op::kGe},
      {"(#d = :d) AND (#t = :n5)", SortCondition::Op::kEq},
  };
  for (const Case& c : cases) {
    Result<KeyCondition> k = Parse(c.text);
    ASSERT_TRUE(k.ok()) << c.text << ": " << k.status().ToString();
    ASSERT_TRUE(k->sort.has_value()) << c.text;
    EXPECT_EQ(k->sort->op, c.op) << c.text;
    EXPECT_TRUE(k->sort->value1 == N(5)) << c.text;
  }
}

TEST(KeyConditionTest, BetweenAndBeginsWith) {
  Result<KeyCondition> k = Parse("device = :d AND ts BETWEEN :n0 AND :n5");
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->sort->op, SortCondition::Op::kBetween);
  EXPECT_TRUE(k->sort->value1 == N(0));
  EXPECT_TRUE(k->sort->value2 == N(5));

  k = Parse("device = :d AND begins_with(#n, :s)", kStringSort);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->sort->op, SortCondition::Op::kBeginsWith);
  EXPECT_TRUE(k->sort->value1 == item::Value::S("x"));
}

TEST(KeyConditionTest, Errors) {
  struct Case {
    std::string_view text;
    std::string_view want;
    const item::KeySchema* schema = &kSchema;
  };
  const Case cases[] = {
      {"ts = :n0", "Query condition missed key schema element: device"},
      {"foo = :n0", "Query condition missed key schema element: device"},
      {"device = :d AND foo = :n0", "Query condition missed key schema element: ts"},
      {"device = :d AND foo = :n0", "Query key condition not supported", &kHashOnly},
      {"device = :d AND ts = :n0", "Query condition missed key schema element: name", &kStringSort},
      {"device = :d OR ts = :n0", "Invalid operator used in KeyConditionExpression: OR"},
      {"NOT device = :d", "Invalid operator used in KeyConditionExpression: NOT"},
      {"device IN (:d)", "Invalid operator used in KeyConditionExpression: IN"},
      {"device <> :d", "Invalid operator used in KeyConditionExpression: <>"},
      {"device = :d AND contains(ts, :n0)",
       "Invalid operator used in KeyConditionExpression: contains"},
      {"attribute_exists(device)",
       "Invalid operator used in KeyConditionExpression: attribute_exists"},
      {"attribute_not_exists(device)",
       "Invalid operator used in KeyConditionExpression: attribute_not_exists"},
      {"device < :d", "Query key condition not supported"},
      {"device BETWEEN :d AND :d", "Query key condition not supported"},
      {"begins_with(device, :d)", "Query key condition not supported"},
      {"device = :d AND device = :d",
       "KeyConditionExpressions must only contain one condition per key"},
      {"device = :d AND ts > :n0 AND ts < :n5",
       "KeyConditionExpressions must only contain one condition per key"},
      {"device = :n0",
       "One or more parameter values were invalid: Condition parameter type does not match "
       "schema type"},
      {"device = :d AND ts = :s",
       "One or more parameter values were invalid: Condition parameter type does not match "
       "schema type"},
      {"device = :d AND ts BETWEEN :n0 AND :n5", "OK"},
      {"device = :d AND begins_with(ts, :s)",
       "One or more parameter values were invalid: Condition parameter type does not match "
       "schema type"},
      {"device = :d AND begins_with(ts, :n0)",
       "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator "
       "or function: begins_with, operand type: N"},
      {"device = :e",
       "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
       "contain an empty string value. Key: device"},
      {"device = ts",
       "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
       "condition"},
      {"device.x = :d",
       "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
       "allowed: Key: device"},
      {"size(device) = :n0", "KeyConditionExpressions cannot contain nested operations"},
      {"device = :d AND",
       R"(Invalid KeyConditionExpression: Syntax error; token: "<EOF>", near: "AND")"},
      {"", "Invalid KeyConditionExpression: The expression can not be empty;"},
  };
  for (const Case& c : cases) EXPECT_EQ(Error(c.text, *c.schema), c.want) << c.text;
}

TEST(SortKeyMatchesTest, EveryOperator) {
  auto cond = [](SortCondition::Op op, item::Value v1, item::Value v2 = {}) {
    return SortCondition{op, std::move(v1), std::move(v2)};
  };
  using Op = SortCondition::Op;
  EXPECT_TRUE(SortKeyMatches(cond(Op::kEq, N(5)), N(5)));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kEq, N(5)), N(6)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kLt, N(5)), N(4)));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kLt, N(5)), N(5)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kLe, N(5)), N(5)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kGt, N(5)), N(6)));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kGt, N(5)), N(5)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kGe, N(5)), N(5)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kBetween, N(1), N(5)), N(1)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kBetween, N(1), N(5)), N(5)));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kBetween, N(1), N(5)), N(6)));
  EXPECT_TRUE(SortKeyMatches(cond(Op::kBeginsWith, item::Value::S("ab")), item::Value::S("abc")));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kBeginsWith, item::Value::S("b")), item::Value::S("abc")));
  EXPECT_TRUE(
      SortKeyMatches(cond(Op::kBeginsWith, item::Value::B("\x01")), item::Value::B("\x01\x02")));
  EXPECT_FALSE(SortKeyMatches(cond(Op::kEq, item::Value::S("5")), N(5)));
}

}  // namespace
}  // namespace edgetable::expr
