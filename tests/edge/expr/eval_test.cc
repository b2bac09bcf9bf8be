// Evaluation of conditions on items: every operator and function over every
// type combination that matters. Type mismatches and absent attributes make a
// condition false, never an error (DynamoDB).

#include <gtest/gtest.h>

#include <string>

#include "edge/expr/expr.h"
#include "tests/edge/expr/test_util.h"

namespace edgetable::expr {
namespace {

using testing::ItemOf;
using testing::ValuesOf;

// One item with an attribute of every type.
constexpr std::string_view kItem = R"({
  "s": {"S": "hello"}, "s2": {"S": "help"}, "e": {"S": "a\u00e9\ud83d\ude00"},
  "n": {"N": "10"}, "n2": {"N": "9.5"}, "neg": {"N": "-3"},
  "b": {"B": "AQID"}, "bool": {"BOOL": true}, "nul": {"NULL": true},
  "m": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"N": "2"}]}, "z": {"M": {"deep": {"S": "d"}}}}},
  "l": {"L": [{"S": "a"}, {"N": "1"}, {"L": [{"N": "7"}]}, {"M": {"k": {"S": "v"}}}]},
  "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AQ==", "Ag=="]},
  "empty_l": {"L": []}, "empty_m": {"M": {}}
})";

constexpr std::string_view kValues = R"({
  ":hello": {"S": "hello"}, ":hel": {"S": "hel"}, ":help": {"S": "help"}, ":ell": {"S": "ell"},
  ":x": {"S": "x"}, ":z": {"S": "z"}, ":a": {"S": "a"}, ":zz": {"S": "zz"}, ":empty": {"S": ""},
  ":10": {"N": "10"}, ":10_0": {"N": "10.0"}, ":9": {"N": "9"}, ":11": {"N": "11"},
  ":1": {"N": "1"}, ":2": {"N": "2"}, ":2_5": {"N": "2.5"}, ":3": {"N": "3"}, ":4": {"N": "4"},
  ":5": {"N": "5"}, ":0": {"N": "0"}, ":m5": {"N": "-5"}, ":7": {"N": "7"},
  ":b123": {"B": "AQID"}, ":b12": {"B": "AQI="}, ":b2": {"B": "Ag=="}, ":b1": {"B": "AQ=="},
  ":b9": {"B": "CQ=="},
  ":true": {"BOOL": true}, ":false": {"BOOL": false}, ":null": {"NULL": true},
  ":sv": {"S": "v"}, ":mv": {"M": {"k": {"S": "v"}}}, ":l7": {"L": [{"N": "7"}]},
  ":ssxy": {"SS": ["y", "x"]}, ":ssx": {"SS": ["x"]}, ":ns": {"NS": ["2.50", "1"]},
  ":mx": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"N": "2"}]}, "z": {"M": {"deep": {"S": "d"}}}}},
  ":tS": {"S": "S"}, ":tN": {"S": "N"}, ":tB": {"S": "B"}, ":tBOOL": {"S": "BOOL"},
  ":tNULL": {"S": "NULL"}, ":tM": {"S": "M"}, ":tL": {"S": "L"}, ":tSS": {"S": "SS"},
  ":tNS": {"S": "NS"}, ":tBS": {"S": "BS"}
})";

struct Case {
  std::string_view expr;
  bool want;
};

bool Eval(std::string_view text, const item::Item& item) {
  ExpressionContext ctx({{"#n", "n"}, {"#m", "m"}}, ValuesOf(kValues));
  Result<Condition> c = ParseCondition(text, ExprKind::kFilter, ctx);
  EXPECT_TRUE(c.ok()) << text << ": " << c.status().ToString();
  if (!c.ok()) return false;
  return EvaluateCondition(*c, item);
}

void RunCases(const Case* begin, const Case* end) {
  const item::Item item = ItemOf(kItem);
  for (const Case* c = begin; c != end; ++c) {
    EXPECT_EQ(Eval(c->expr, item), c->want) << c->expr;
  }
}

TEST(EvaluateTest, Comparisons) {
  const Case cases[] = {
      // Strings by bytes.
      {"s = :hello", true},
      {"s <> :hello", false},
      {"s < :help", true},
      {"s <= :hello", true},
      {"s > :hel", true},
      {"s >= :help", false},
      {"s2 > s", true},
      // Numbers numerically, whatever the spelling.
      {"n = :10", true},
      {"n = :10_0", true},
      {"n <> :10_0", false},
      {"n > :9", true},
      {"n < :11", true},
      {"n2 < n", true},
      {"neg < :0", true},
      {"neg > :m5", true},
      {"n >= :10", true},
      {"n <= :9", false},
      // Binary by unsigned bytes.
      {"b = :b123", true},
      {"b > :b12", true},
      {"b < :b2", true},
      {"b >= :b9", false},
      // Mixed types: = false, <> true, ordering false.
      {"n = :hello", false},
      {"n <> :hello", true},
      {"n < :hello", false},
      {"s > :10", false},
      {"s >= :b1", false},
      // Absent attributes: = false, <> true, ordering false.
      {"nope = :1", false},
      {"nope <> :1", true},
      {"nope < :1", false},
      {"nope >= :1", false},
      {"nope = nope2", false},
      {"m.nope = :1", false},
      {"l[9] = :1", false},
      // Equality of non-scalars; ordering of them is false.
      {"bool = :true", true},
      {"bool = :false", false},
      {"bool <> :false", true},
      {"nul = :null", true},
      {"ss = :ssxy", true},
      {"ss = :ssx", false},
      {"ns = :ns", true},
      {"l[3] = :mv", true},
      {"m = :mx", true},
      {"l[2] = :l7", true},
      {"ss < s", false},
      {"bool < n", false},
      // Nested paths and placeholders.
      {"m.x = :1", true},
      {"#m.y[1] = :2", true},
      {"m.y[0] = :a", false},
      {"m.z.deep > :a", true},
      {"l[2][0] = :7", true},
      {"l[0] = :a", true},
      {"#n = :10", true},
      // Path against path.
      {"s < s2", true},
      {"n = l[1]", false},
      {"m.x = l[1]", true},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, BetweenAndIn) {
  const Case cases[] = {
      {"n BETWEEN :9 AND :11", true},
      {"n BETWEEN :10 AND :10", true},
      {"n BETWEEN :1 AND :9", false},
      {"n BETWEEN :11 AND :11", false},
      {"s BETWEEN :hel AND :help", true},
      {"s BETWEEN :help AND :zz", false},
      {"b BETWEEN :b12 AND :b2", true},
      {"s BETWEEN :1 AND :9", false},
      {"nope BETWEEN :1 AND :9", false},
      {"bool BETWEEN n AND n2", false},
      {"n BETWEEN n2 AND :11", true},
      {"n IN (:1, :10)", true},
      {"n IN (:1, :2)", false},
      {"n IN (:10_0)", true},
      {"s IN (:x, :hello)", true},
      {"s IN (:10)", false},
      {"nope IN (:1)", false},
      {"ss IN (:ssx, :ssxy)", true},
      {"l[3] IN (:mv)", true},
      {"m.x IN (n, l[1])", true},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, AttributeExistsAndType) {
  const Case cases[] = {
      {"attribute_exists(s)", true},         {"attribute_exists(nope)", false},
      {"attribute_exists(m.z.deep)", true},  {"attribute_exists(m.z.nope)", false},
      {"attribute_exists(l[3].k)", true},    {"attribute_exists(l[4])", false},
      {"attribute_exists(s.x)", false},      {"attribute_exists(s[0])", false},
      {"attribute_exists(nul)", true},       {"attribute_not_exists(nope)", true},
      {"attribute_not_exists(s)", false},    {"attribute_not_exists(m.y[5])", true},
      {"attribute_type(s, :tS)", true},      {"attribute_type(n, :tN)", true},
      {"attribute_type(b, :tB)", true},      {"attribute_type(bool, :tBOOL)", true},
      {"attribute_type(nul, :tNULL)", true}, {"attribute_type(m, :tM)", true},
      {"attribute_type(l, :tL)", true},      {"attribute_type(ss, :tSS)", true},
      {"attribute_type(ns, :tNS)", true},    {"attribute_type(bs, :tBS)", true},
      {"attribute_type(s, :tN)", false},     {"attribute_type(ss, :tS)", false},
      {"attribute_type(l, :tM)", false},     {"attribute_type(nope, :tS)", false},
      {"attribute_type(m.y, :tL)", true},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, BeginsWithAndContains) {
  const Case cases[] = {
      {"begins_with(s, :hel)", true},      {"begins_with(s, :hello)", true},
      {"begins_with(s, :help)", false},    {"begins_with(s, :empty)", true},
      {"begins_with(s2, :hello)", false},  {"begins_with(b, :b12)", true},
      {"begins_with(b, :b2)", false},      {"begins_with(s, :b12)", false},
      {"begins_with(ss, :x)", false},      {"begins_with(nope, :a)", false},
      {"begins_with(m.z.deep, s)", false}, {"contains(s, :ell)", true},
      {"contains(s, :hello)", true},       {"contains(s, :z)", false},
      {"contains(s, :empty)", true},       {"contains(b, :b2)", true},
      {"contains(b, :b9)", false},         {"contains(ss, :x)", true},
      {"contains(ss, :z)", false},         {"contains(ss, :1)", false},
      {"contains(ns, :2_5)", true},        {"contains(ns, :2)", false},
      {"contains(ns, :x)", false},         {"contains(bs, :b2)", true},
      {"contains(bs, :b9)", false},        {"contains(l, :a)", true},
      {"contains(l, :1)", true},           {"contains(l, :l7)", true},
      {"contains(l, :mv)", true},          {"contains(l, :x)", false},
      {"contains(m.y, :2)", true},         {"contains(n, :1)", false},
      {"contains(m, :x)", false},          {"contains(nope, :x)", false},
      {"contains(s, :10)", false},         {"contains(:hello, :ell)", true},
      {"begins_with(:hello, s)", true},    {"contains(l, s2)", false},
      {"contains(m.y, l[1])", false},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, Size) {
  const Case cases[] = {
      {"size(s) = :5", true},  // 5 characters
      {"size(e) = :4", true},  // a, e-acute, and an emoji counted as 2 (UTF-16)
      {"size(b) = :3", true},  // bytes
      {"size(ss) = :2", true},
      {"size(ns) = :2", true},
      {"size(bs) = :2", true},
      {"size(l) = :4", true},
      {"size(m) = :3", true},
      {"size(m.y) = :2", true},
      {"size(empty_l) = :0", true},
      {"size(empty_m) = :0", true},
      {"size(n) = :2", false},
      {"size(n) <> :2", true},  // N has no size: absent
      {"size(bool) >= :0", false},
      {"size(nul) >= :0", false},
      {"size(nope) >= :0", false},
      {"size(nope) <> :0", true},
      {"size(s) BETWEEN :4 AND :5", true},
      {"size(l) IN (:1, :4)", true},
      {"size(s) > size(ss)", true},
      {"size(l[2]) = :1", true},
      {"size(:hello) = :5", true},
      {"size(:ssxy) = :2", true},
      {"size(:mv) = :1", true},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, Logic) {
  const Case cases[] = {
      {"n = :10 AND s = :hello", true},
      {"n = :10 AND s = :x", false},
      {"n = :1 OR s = :hello", true},
      {"n = :1 OR s = :x", false},
      {"NOT n = :1", true},
      {"NOT n = :10", false},
      {"NOT NOT n = :10", true},
      // a OR b AND c with a, b true and c false: AND first, so true.
      {"n = :10 OR s = :hello AND s = :x", true},
      {"(n = :10 OR s = :hello) AND s = :x", false},
      {"NOT n = :10 OR s = :hello", true},
      {"NOT (n = :10 OR s = :hello)", false},
      {"NOT attribute_exists(nope) AND attribute_not_exists(nope2)", true},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(EvaluateTest, MissingItemIsEmptyMap) {
  const item::Item none;
  EXPECT_TRUE(Eval("attribute_not_exists(n)", none));
  EXPECT_FALSE(Eval("attribute_exists(n)", none));
  EXPECT_FALSE(Eval("n = :10", none));
  EXPECT_TRUE(Eval("n <> :10", none));
  EXPECT_FALSE(Eval("size(s) >= :0", none));
}

TEST(EvaluateTest, ResolvePath) {
  const item::Item item = ItemOf(kItem);
  Path p;
  p.elements = {PathElement::Name("m"), PathElement::Name("y"), PathElement::Index(1)};
  const item::Value* v = ResolvePath(item, p);
  ASSERT_NE(v, nullptr);
  EXPECT_TRUE(*v == item::Value::N(item::Number::FromInt(2)));
  p.elements = {PathElement::Name("m"), PathElement::Index(0)};
  EXPECT_EQ(ResolvePath(item, p), nullptr);
  p.elements = {PathElement::Name("l"), PathElement::Name("x")};
  EXPECT_EQ(ResolvePath(item, p), nullptr);
  p.elements = {};
  EXPECT_EQ(ResolvePath(item, p), nullptr);
}

// The AST may be built by hand (the API layer's legacy parameters).
TEST(EvaluateTest, HandBuiltCondition) {
  Condition c;
  c.kind = Condition::Kind::kCompare;
  c.op = CompareOp::kGe;
  c.operands.push_back(Operand::OfPath(Path{{PathElement::Name("n")}}));
  c.operands.push_back(Operand::OfValue(item::Value::N(item::Number::FromInt(10))));
  EXPECT_TRUE(EvaluateCondition(c, ItemOf(kItem)));
  c.op = CompareOp::kGt;
  EXPECT_FALSE(EvaluateCondition(c, ItemOf(kItem)));
}

}  // namespace
}  // namespace edgetable::expr
