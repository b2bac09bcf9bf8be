// Applying UpdateExpressions: every action on top-level and nested paths and
// list indexes, and every evaluation-time error. Expected results were
// checked against DynamoDB Local.

#include <gtest/gtest.h>

#include <string>

#include "edge/expr/expr.h"
#include "tests/edge/expr/test_util.h"

namespace edgetable::expr {
namespace {

using testing::Canon;
using testing::Dump;
using testing::ItemOf;
using testing::ValuesOf;

constexpr std::string_view kValues = R"({
  ":1": {"N": "1"}, ":2": {"N": "2"}, ":m1": {"N": "-1"}, ":big": {"N": "9E+125"},
  ":s": {"S": "x"}, ":t": {"S": "t"}, ":l": {"L": [{"N": "8"}, {"N": "9"}]}, ":el": {"L": []},
  ":m": {"M": {"k": {"S": "v"}}}, ":ssx": {"SS": ["x"]}, ":ssyz": {"SS": ["y", "z"]},
  ":ssxyz": {"SS": ["x", "y", "z"]}, ":ns": {"NS": ["1", "3"]}, ":bs": {"BS": ["AQ=="]},
  ":bool": {"BOOL": false}, ":null": {"NULL": true}
})";

// The new item as DynamoDB JSON, or "ERROR <message>".
std::string Apply(std::string_view item_json, std::string_view expr) {
  ExpressionContext ctx({{"#a", "a"}, {"#k", "k"}}, ValuesOf(kValues));
  Result<UpdateExpression> u = ParseUpdate(expr, ctx);
  EXPECT_TRUE(u.ok()) << expr << ": " << u.status().ToString();
  if (!u.ok()) return "PARSE " + u.status().message();
  Result<item::Item> out = ApplyUpdate(*u, ItemOf(item_json));
  if (!out.ok()) {
    EXPECT_EQ(out.status().code(), Status::Code::kInvalidArgument) << expr;
    return "ERROR " + out.status().message();
  }
  return Dump(*out);
}

struct Case {
  std::string_view item;
  std::string_view expr;
  std::string_view want;  // DynamoDB JSON of the new item, or "ERROR ..."
};

void RunCases(const Case* begin, const Case* end) {
  for (const Case* c = begin; c != end; ++c) {
    std::string want(c->want);
    if (want.rfind("ERROR", 0) != 0) want = Canon(want);
    EXPECT_EQ(Apply(c->item, c->expr), want) << c->item << " | " << c->expr;
  }
}

constexpr std::string_view kNested = R"({
  "a": {"N": "1"}, "s": {"S": "str"},
  "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]},
  "m": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"S": "q"}]}, "z": {"M": {}}}},
  "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}
})";

TEST(ApplyUpdateTest, Set) {
  const Case cases[] = {
      {"{}", "SET a = :1", R"({"a": {"N": "1"}})"},
      {R"({"a": {"N": "5"}})", "SET a = :s", R"({"a": {"S": "x"}})"},
      {R"({"a": {"N": "5"}})", "SET #a = :m", R"({"a": {"M": {"k": {"S": "v"}}}})"},
      {R"({"a": {"N": "5"}})", "SET b = a", R"({"a": {"N": "5"}, "b": {"N": "5"}})"},
      // Operands read the original item: a swap.
      {R"({"a": {"N": "1"}, "b": {"N": "2"}})", "SET a = b, b = a",
       R"({"a": {"N": "2"}, "b": {"N": "1"}})"},
      // Arithmetic.
      {R"({"a": {"N": "5"}})", "SET a = a + :1", R"({"a": {"N": "6"}})"},
      {R"({"a": {"N": "5"}})", "SET a = a - :2", R"({"a": {"N": "3"}})"},
      {R"({"a": {"N": "5"}})", "SET a = :1 - a", R"({"a": {"N": "-4"}})"},
      {R"({"a": {"N": "0.1"}})", "SET a = a + a", R"({"a": {"N": "0.2"}})"},
      {R"({"a": {"N": "5"}})", "SET a = (a + :1)", R"({"a": {"N": "6"}})"},
      // if_not_exists.
      {"{}", "SET a = if_not_exists(a, :1)", R"({"a": {"N": "1"}})"},
      {R"({"a": {"N": "5"}})", "SET a = if_not_exists(a, :1)", R"({"a": {"N": "5"}})"},
      {"{}", "SET a = if_not_exists(a, :1) + :2", R"({"a": {"N": "3"}})"},
      {R"({"b": {"N": "7"}})", "SET a = if_not_exists(a, b)",
       R"({"a": {"N": "7"}, "b": {"N": "7"}})"},
      // list_append, either side, with if_not_exists.
      {R"({"a": {"L": [{"N": "1"}]}})", "SET a = list_append(a, :l)",
       R"({"a": {"L": [{"N": "1"}, {"N": "8"}, {"N": "9"}]}})"},
      {R"({"a": {"L": [{"N": "1"}]}})", "SET a = list_append(:l, a)",
       R"({"a": {"L": [{"N": "8"}, {"N": "9"}, {"N": "1"}]}})"},
      {"{}", "SET a = list_append(if_not_exists(a, :el), :l)",
       R"({"a": {"L": [{"N": "8"}, {"N": "9"}]}})"},
      // Nested maps.
      {kNested, "SET m.x = :2, m.z.nw = :s",
       R"({"a": {"N": "1"}, "s": {"S": "str"}, "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]},
           "m": {"M": {"x": {"N": "2"}, "y": {"L": [{"S": "p"}, {"S": "q"}]},
                       "z": {"M": {"nw": {"S": "x"}}}}},
           "ss": {"SS": ["x", "y"]}, "ns": {"NS": ["1", "2"]}})"},
      // List elements: replace, and past the end appends (in index order).
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}]}})", "SET l[1] = :s",
       R"({"l": {"L": [{"N": "0"}, {"S": "x"}]}})"},
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}]}})", "SET l[10] = :s",
       R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"S": "x"}]}})"},
      {R"({"l": {"L": [{"N": "0"}]}})", "SET l[11] = :t, l[10] = :s",
       R"({"l": {"L": [{"N": "0"}, {"S": "x"}, {"S": "t"}]}})"},
      {R"({"l": {"L": [{"M": {"k": {"N": "1"}}}]}})", "SET l[0].k = :2, l[0].j = :1",
       R"({"l": {"L": [{"M": {"j": {"N": "1"}, "k": {"N": "2"}}}]}})"},
      {R"({"l": {"L": [{"L": [{"N": "1"}]}]}})", "SET l[0][0] = :2",
       R"({"l": {"L": [{"L": [{"N": "2"}]}]}})"},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(ApplyUpdateTest, Remove) {
  const Case cases[] = {
      {R"({"a": {"N": "1"}, "b": {"N": "2"}})", "REMOVE a", R"({"b": {"N": "2"}})"},
      {R"({"a": {"N": "1"}})", "REMOVE nope", R"({"a": {"N": "1"}})"},
      {R"({"a": {"N": "1"}, "b": {"N": "2"}})", "REMOVE a, b", "{}"},
      {R"({"m": {"M": {"x": {"N": "1"}, "y": {"N": "2"}}}})", "REMOVE m.x",
       R"({"m": {"M": {"y": {"N": "2"}}}})"},
      {R"({"m": {"M": {"x": {"N": "1"}}}})", "REMOVE m.nope", R"({"m": {"M": {"x": {"N": "1"}}}})"},
      // List removal shifts the rest; indexes refer to the original list.
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})", "REMOVE l[0]",
       R"({"l": {"L": [{"N": "1"}, {"N": "2"}]}})"},
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})", "REMOVE l[0], l[1]",
       R"({"l": {"L": [{"N": "2"}]}})"},
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})", "REMOVE l[2], l[0]",
       R"({"l": {"L": [{"N": "1"}]}})"},
      {R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})", "REMOVE l[7]",
       R"({"l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]}})"},
      // SET and REMOVE in the same list both use original positions.
      {R"({"l": {"L": [{"S": "p"}, {"S": "q"}]}})", "SET l[1] = :1 REMOVE l[0]",
       R"({"l": {"L": [{"N": "1"}]}})"},
      {R"({"m": {"M": {"y": {"L": [{"M": {"k": {"N": "1"}}}]}}}})", "REMOVE m.y[0].#k",
       R"({"m": {"M": {"y": {"L": [{"M": {}}]}}}})"},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(ApplyUpdateTest, Add) {
  const Case cases[] = {
      {"{}", "ADD a :1", R"({"a": {"N": "1"}})"},
      {R"({"a": {"N": "5"}})", "ADD a :m1", R"({"a": {"N": "4"}})"},
      {"{}", "ADD ss :ssx", R"({"ss": {"SS": ["x"]}})"},
      {R"({"ss": {"SS": ["x", "y"]}})", "ADD ss :ssyz", R"({"ss": {"SS": ["x", "y", "z"]}})"},
      {R"({"ns": {"NS": ["1", "2"]}})", "ADD ns :ns", R"({"ns": {"NS": ["1", "2", "3"]}})"},
      {R"({"bs": {"BS": ["Ag=="]}})", "ADD bs :bs", R"({"bs": {"BS": ["AQ==", "Ag=="]}})"},
      {R"({"m": {"M": {"x": {"N": "1"}}}})", "ADD m.x :1, m.z :1",
       R"({"m": {"M": {"x": {"N": "2"}, "z": {"N": "1"}}}})"},
      {R"({"l": {"L": [{"N": "2"}]}})", "ADD l[0] :1, l[5] :1",
       R"({"l": {"L": [{"N": "3"}, {"N": "1"}]}})"},
      {R"({"a": {"S": "str"}})", "ADD a :1",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"a": {"N": "1"}})", "ADD a :ssx",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"ss": {"SS": ["x"]}})", "ADD ss :ns",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"a": {"N": "9E+125"}})", "ADD a :big", "ERROR *"},
  };
  for (const Case& c : cases) {
    if (c.want == "ERROR *") {
      std::string got = Apply(c.item, c.expr);
      EXPECT_EQ(got.rfind("ERROR ", 0), 0u) << got;  // Number's range error
      continue;
    }
    RunCases(&c, &c + 1);
  }
}

TEST(ApplyUpdateTest, Delete) {
  const Case cases[] = {
      {R"({"ss": {"SS": ["x", "y"]}})", "DELETE ss :ssx", R"({"ss": {"SS": ["y"]}})"},
      {R"({"ss": {"SS": ["x", "y"]}})", "DELETE ss :ssyz", R"({"ss": {"SS": ["x"]}})"},
      // Deleting every element removes the attribute.
      {R"({"ss": {"SS": ["x", "y"]}, "a": {"N": "1"}})", "DELETE ss :ssxyz",
       R"({"a": {"N": "1"}})"},
      {R"({"ns": {"NS": ["1", "2"]}})", "DELETE ns :ns", R"({"ns": {"NS": ["2"]}})"},
      {R"({"bs": {"BS": ["AQ=="]}})", "DELETE bs :bs", "{}"},
      {"{}", "DELETE ss :ssx", "{}"},
      {R"({"m": {"M": {"s": {"SS": ["x", "y"]}}}})", "DELETE m.s :ssx",
       R"({"m": {"M": {"s": {"SS": ["y"]}}}})"},
      {R"({"ss": {"SS": ["x"]}})", "DELETE ss :ns",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"a": {"S": "x"}})", "DELETE a :ssx",
       "ERROR An operand in the update expression has an incorrect data type"},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(ApplyUpdateTest, AllClausesTogether) {
  const Case cases[] = {
      {kNested, "SET a = a + :1, m.y[0] = :t REMOVE l[1], m.x ADD ns :ns DELETE ss :ssx",
       R"({"a": {"N": "2"}, "s": {"S": "str"}, "l": {"L": [{"N": "0"}, {"N": "2"}]},
           "m": {"M": {"y": {"L": [{"S": "t"}, {"S": "q"}]}, "z": {"M": {}}}},
           "ss": {"SS": ["y"]}, "ns": {"NS": ["1", "2", "3"]}})"},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(ApplyUpdateTest, EvaluationErrors) {
  const Case cases[] = {
      {"{}", "SET a = b",
       "ERROR The provided expression refers to an attribute that does not exist in the item"},
      {"{}", "SET a = b + :1",
       "ERROR The provided expression refers to an attribute that does not exist in the item"},
      {"{}", "SET a = list_append(a, :l)",
       "ERROR The provided expression refers to an attribute that does not exist in the item"},
      {R"({"s": {"S": "str"}})", "SET s = s + :1",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"s": {"S": "str"}})", "SET a = :1 - s",
       "ERROR An operand in the update expression has an incorrect data type"},
      {R"({"s": {"S": "str"}})", "SET s = list_append(s, :l)",
       "ERROR An operand in the update expression has an incorrect data type"},
      {"{}", "SET nope.b = :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {"{}", "REMOVE nope.b",
       "ERROR The document path provided in the update expression is invalid for update"},
      {"{}", "ADD nope.b :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {R"({"a": {"N": "1"}})", "SET a.b = :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {R"({"m": {"M": {}}})", "SET m[0] = :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {R"({"l": {"L": []}})", "SET l.x = :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {R"({"l": {"L": [{"N": "1"}]}})", "SET l[3].x = :1",
       "ERROR The document path provided in the update expression is invalid for update"},
      {R"({"m": {"M": {"y": {"L": [{"N": "1"}]}}}})", "REMOVE m.y[0].z",
       "ERROR The document path provided in the update expression is invalid for update"},
  };
  RunCases(std::begin(cases), std::end(cases));
}

TEST(ApplyUpdateTest, ErrorLeavesInputUntouched) {
  ExpressionContext ctx({}, ValuesOf(kValues));
  Result<UpdateExpression> u = ParseUpdate("SET a = :1, s = s + :1", ctx);
  ASSERT_TRUE(u.ok());
  const item::Item before = ItemOf(R"({"s": {"S": "str"}})");
  const item::Item copy = before;
  EXPECT_FALSE(ApplyUpdate(*u, before).ok());
  EXPECT_EQ(Dump(before), Dump(copy));
}

}  // namespace
}  // namespace edgetable::expr
