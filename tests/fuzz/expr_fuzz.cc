// Fuzz target: DynamoDB expressions. The input is the text of an expression;
// it goes through all four parsers with a fixed set of
// ExpressionAttributeNames and ExpressionAttributeValues, and whatever
// parses is evaluated against a fixed item and the missing item ({}):
// conditions evaluated, updates applied (twice, the second time to the
// first result), projections and sort key conditions applied. Nothing may
// crash; a projection only returns attributes the item has.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "edge/expr/expr.h"
#include "edge/item/json.h"
#include "edge/item/key.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using edgetable::expr::ExpressionContext;
using edgetable::item::Item;
using edgetable::item::KeySchema;
using edgetable::item::Type;

Item ItemOf(std::string_view json_text) {
  auto j = edgetable::item::ParseJson(json_text);
  FUZZ_CHECK(j.ok(), "fixture JSON does not parse");
  auto item = edgetable::item::ItemFromJson(*j);
  FUZZ_CHECK(item.ok(), item.status().message().c_str());
  return *std::move(item);
}

// Every type, nested maps and lists, a number at the top of the range (for
// overflowing sums), a name with a dot, a reserved word as a name.
const Item& FixtureItem() {
  static const Item item = ItemOf(R"({
    "pk": {"S": "dev-1"}, "sk": {"N": "42"}, "bk": {"B": "AAEC"},
    "a": {"N": "3"}, "b": {"S": "hello"}, "status": {"S": "on"},
    "c": {"L": [{"N": "1"}, {"S": "x"}, {"M": {"d": {"L": [{"N": "2"}]}}}, {"L": []}]},
    "m": {"M": {"x": {"M": {"y": {"N": "-1.5"}}}, "e": {"M": {}}}},
    "ss": {"SS": ["a", "b"]}, "ns": {"NS": ["1", "2.5"]}, "bs": {"BS": ["AA==", "AQ=="]},
    "t": {"BOOL": true}, "z": {"NULL": true},
    "c.d": {"S": "dotted"},
    "big": {"N": "9.9999999999999999999999999999999999999E+125"}
  })");
  return item;
}

ExpressionContext FreshContext() {
  static const Item values = ItemOf(R"({
    ":v": {"N": "5"}, ":s": {"S": "he"}, ":e": {"S": ""}, ":b": {"B": "AAE="},
    ":l": {"L": [{"N": "7"}, {"S": "y"}]}, ":m": {"M": {"k": {"N": "1"}}},
    ":ss": {"SS": ["a", "z"]}, ":ns": {"NS": ["1", "-3"]}, ":bs": {"BS": ["AA=="]},
    ":t": {"BOOL": false}, ":z": {"NULL": true},
    ":big": {"N": "9.9999999999999999999999999999999999999E+125"},
    ":tiny": {"N": "-1E-130"}, ":type": {"S": "N"}
  })");
  edgetable::expr::NameMap names{{"#a", "a"},   {"#b", "b"},      {"#k", "pk"},
                                 {"#s", "sk"},  {"#r", "status"}, {"#d", "c.d"},
                                 {"#m", "m"},   {"#c", "c"}};
  edgetable::expr::ValueMap vals(values.begin(), values.end());
  return ExpressionContext(std::move(names), std::move(vals));
}

void CheckProjected(const Item& projected, const Item& source) {
  for (const auto& [name, value] : projected) {
    FUZZ_CHECK(source.count(name) == 1, "projection returned an attribute the item lacks");
    static_cast<void>(value);
  }
}

void RunKeyCondition(std::string_view text, const KeySchema& schema, const Item& item) {
  ExpressionContext ctx = FreshContext();
  auto kc = edgetable::expr::ParseKeyCondition(text, schema, ctx);
  if (!kc.ok()) return;
  FUZZ_CHECK(kc->partition.type() == schema.partition.type,
             "partition value of a type other than the schema's");
  if (!kc->sort.has_value()) return;
  FUZZ_CHECK(schema.sort.has_value(), "sort condition without a sort key");
  const auto it = item.find(schema.sort->name);
  if (it != item.end() && it->second.type() == schema.sort->type) {
    static_cast<void>(edgetable::expr::SortKeyMatches(*kc->sort, it->second));
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const Item& item = FixtureItem();
  const Item empty;

  {
    ExpressionContext ctx = FreshContext();
    auto cond = edgetable::expr::ParseCondition(text, edgetable::expr::ExprKind::kCondition, ctx);
    if (cond.ok()) {
      static_cast<void>(edgetable::expr::EvaluateCondition(*cond, item));
      static_cast<void>(edgetable::expr::EvaluateCondition(*cond, empty));
    }
    edgetable::Status unused = ctx.CheckAllUsed();
    static_cast<void>(unused);
  }
  {
    ExpressionContext ctx = FreshContext();
    auto update = edgetable::expr::ParseUpdate(text, ctx);
    if (update.ok()) {
      auto once = edgetable::expr::ApplyUpdate(*update, item);
      if (once.ok()) {
        auto twice = edgetable::expr::ApplyUpdate(*update, *once);
        static_cast<void>(twice);
      }
      auto from_empty = edgetable::expr::ApplyUpdate(*update, empty);
      static_cast<void>(from_empty);
    }
  }
  {
    ExpressionContext ctx = FreshContext();
    auto projection = edgetable::expr::ParseProjection(text, ctx);
    if (projection.ok()) {
      CheckProjected(edgetable::expr::Project(*projection, item), item);
      FUZZ_CHECK(edgetable::expr::Project(*projection, empty).empty(),
                 "projection of the missing item is not empty");
    }
  }
  static const KeySchema kNumberSort{{"pk", Type::kS},
                                     edgetable::item::KeyAttribute{"sk", Type::kN}};
  static const KeySchema kBinaryHash{{"bk", Type::kB}, std::nullopt};
  static const KeySchema kStringSort{{"a", Type::kN},
                                     edgetable::item::KeyAttribute{"b", Type::kS}};
  RunKeyCondition(text, kNumberSort, item);
  RunKeyCondition(text, kBinaryHash, item);
  RunKeyCondition(text, kStringSort, item);
  return 0;
}
