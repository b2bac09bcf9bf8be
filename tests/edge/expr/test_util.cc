#include "tests/edge/expr/test_util.h"

#include <gtest/gtest.h>

#include "edge/item/json.h"

namespace edgetable::expr::testing {

item::Item ItemOf(std::string_view json) {
  Result<nlohmann::json> j = item::ParseJson(json);
  EXPECT_TRUE(j.ok()) << j.status().ToString() << " in " << json;
  if (!j.ok()) return {};
  Result<item::Item> it = item::ItemFromJson(*j);
  EXPECT_TRUE(it.ok()) << it.status().ToString() << " in " << json;
  if (!it.ok()) return {};
  return *it;
}

ValueMap ValuesOf(std::string_view json) {
  item::Item m = ItemOf(json);
  return ValueMap(m.begin(), m.end());
}

item::Value ValueOf(std::string_view json) {
  Result<nlohmann::json> j = item::ParseJson(json);
  EXPECT_TRUE(j.ok()) << json;
  if (!j.ok()) return {};
  Result<item::Value> v = item::ValueFromJson(*j);
  EXPECT_TRUE(v.ok()) << json;
  if (!v.ok()) return {};
  return *v;
}

std::string Dump(const item::Item& item) { return item::ItemToJson(item).dump(); }

std::string Canon(std::string_view json) { return Dump(ItemOf(json)); }

std::string Show(const Operand& o) {
  switch (o.kind) {
    case Operand::Kind::kPath:
      return o.path.ToString();
    case Operand::Kind::kValue:
      return item::ValueToJson(o.value).dump();
    case Operand::Kind::kSize:
      return "size(" + (o.args.empty() ? o.path.ToString() : Show(o.args[0])) + ")";
    case Operand::Kind::kIfNotExists:
      return "if_not_exists(" + o.path.ToString() + ", " + Show(o.args[0]) + ")";
    case Operand::Kind::kListAppend:
      return "list_append(" + Show(o.args[0]) + ", " + Show(o.args[1]) + ")";
    case Operand::Kind::kPlus:
      return "(" + Show(o.args[0]) + " + " + Show(o.args[1]) + ")";
    case Operand::Kind::kMinus:
      return "(" + Show(o.args[0]) + " - " + Show(o.args[1]) + ")";
  }
  return "?";
}

std::string Show(const Condition& c) {
  auto operands = [&](std::string head) {
    std::string out = "(" + head;
    for (const Operand& o : c.operands) out += " " + Show(o);
    return out + ")";
  };
  switch (c.kind) {
    case Condition::Kind::kCompare:
      return operands(std::string(CompareOpText(c.op)));
    case Condition::Kind::kBetween:
      return operands("BETWEEN");
    case Condition::Kind::kIn:
      return operands("IN");
    case Condition::Kind::kAttributeExists:
      return operands("attribute_exists");
    case Condition::Kind::kAttributeNotExists:
      return operands("attribute_not_exists");
    case Condition::Kind::kAttributeType:
      return operands("attribute_type");
    case Condition::Kind::kBeginsWith:
      return operands("begins_with");
    case Condition::Kind::kContains:
      return operands("contains");
    case Condition::Kind::kAnd:
      return "(AND " + Show(c.children[0]) + " " + Show(c.children[1]) + ")";
    case Condition::Kind::kOr:
      return "(OR " + Show(c.children[0]) + " " + Show(c.children[1]) + ")";
    case Condition::Kind::kNot:
      return "(NOT " + Show(c.children[0]) + ")";
  }
  return "?";
}

}  // namespace edgetable::expr::testing
