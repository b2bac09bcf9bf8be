// Projection of items: nested structure is kept, list elements compacted in
// index order, absent paths left out (checked against DynamoDB Local).

#include <gtest/gtest.h>

#include <string>

#include "edge/expr/expr.h"
#include "tests/edge/expr/test_util.h"

namespace edgetable::expr {
namespace {

using testing::Canon;
using testing::Dump;
using testing::ItemOf;

constexpr std::string_view kItem = R"({
  "a": {"N": "1"}, "s": {"S": "str"},
  "l": {"L": [{"N": "0"}, {"N": "1"}, {"N": "2"}]},
  "m": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"S": "q"}]},
              "z": {"M": {"deep": {"S": "d"}, "other": {"S": "o"}}}}},
  "lm": {"L": [{"M": {"k": {"N": "1"}, "j": {"N": "2"}}}, {"M": {"k": {"N": "3"}}}]}
})";

std::string ProjectText(std::string_view text) {
  ExpressionContext ctx({{"#m", "m"}}, {});
  Result<Projection> p = ParseProjection(text, ctx);
  EXPECT_TRUE(p.ok()) << text << ": " << p.status().ToString();
  if (!p.ok()) return "";
  return Dump(Project(*p, ItemOf(kItem)));
}

TEST(ProjectTest, Cases) {
  struct Case {
    std::string_view text;
    std::string_view want;
  };
  const Case cases[] = {
      {"a", R"({"a": {"N": "1"}})"},
      {"a, s", R"({"a": {"N": "1"}, "s": {"S": "str"}})"},
      {"nope", "{}"},
      {"a, nope", R"({"a": {"N": "1"}})"},
      {"m.x", R"({"m": {"M": {"x": {"N": "1"}}}})"},
      {"#m.z.deep", R"({"m": {"M": {"z": {"M": {"deep": {"S": "d"}}}}}})"},
      {"m.x, m.z.deep", R"({"m": {"M": {"x": {"N": "1"}, "z": {"M": {"deep": {"S": "d"}}}}}})"},
      {"m.nope", "{}"},
      {"m.x.nope", "{}"},
      {"a.b", "{}"},
      {"l[1]", R"({"l": {"L": [{"N": "1"}]}})"},
      {"l[2], l[0]", R"({"l": {"L": [{"N": "0"}, {"N": "2"}]}})"},
      {"l[9]", "{}"},
      {"l[1], l[9]", R"({"l": {"L": [{"N": "1"}]}})"},
      {"m.y[1], l[2], l[0], m.nope, nope",
       R"({"l": {"L": [{"N": "0"}, {"N": "2"}]}, "m": {"M": {"y": {"L": [{"S": "q"}]}}}})"},
      {"lm[1].k, lm[0].j",
       R"({"lm": {"L": [{"M": {"j": {"N": "2"}}}, {"M": {"k": {"N": "3"}}}]}})"},
      {"lm[0].nope, lm[1].k", R"({"lm": {"L": [{"M": {"k": {"N": "3"}}}]}})"},
      {"m", R"({"m": {"M": {"x": {"N": "1"}, "y": {"L": [{"S": "p"}, {"S": "q"}]},
                            "z": {"M": {"deep": {"S": "d"}, "other": {"S": "o"}}}}}})"},
  };
  for (const Case& c : cases) EXPECT_EQ(ProjectText(c.text), Canon(c.want)) << c.text;
}

TEST(ProjectTest, EmptyItem) {
  ExpressionContext ctx;
  Result<Projection> p = ParseProjection("a, m.x", ctx);
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(Project(*p, {}).empty());
}

}  // namespace
}  // namespace edgetable::expr
