#include "edge/api/internal/parts.h"

#include <cmath>

#include "edge/item/validate.h"

namespace edgetable::api::internal {
namespace {

using expr::Condition;
using expr::Operand;

expr::Path TopLevel(const std::string& name) {
  expr::Path p;
  p.elements.push_back(expr::PathElement::Name(name));
  return p;
}

Condition Leaf(Condition::Kind kind, std::vector<Operand> operands) {
  Condition c;
  c.kind = kind;
  c.operands = std::move(operands);
  return c;
}

Condition Compare(expr::CompareOp op, const std::string& attr, item::Value v) {
  Condition c = Leaf(Condition::Kind::kCompare, {Operand::OfPath(TopLevel(attr)), Operand::OfValue(std::move(v))});
  c.op = op;
  return c;
}

Condition Combine(Condition::Kind kind, Condition a, Condition b) {
  Condition c;
  c.kind = kind;
  c.children.push_back(std::move(a));
  c.children.push_back(std::move(b));
  return c;
}

Result<std::vector<item::Value>> ValueList(const Json& cond, const std::string& attr) {
  std::vector<item::Value> out;
  const Json* list = Member(cond, "AttributeValueList");
  if (list == nullptr) return out;
  if (!list->is_array()) {
    return Status::InvalidArgument(std::string(kSerializationPrefix) +
                                   "AttributeValueList must be a list");
  }
  for (const Json& j : *list) {
    ET_ASSIGN_OR_RETURN(item::Value v, item::ValueFromJson(j, attr));
    out.push_back(std::move(v));
  }
  return out;
}

// One legacy {ComparisonOperator, AttributeValueList} on `attr`.
Result<Condition> LegacyComparison(const std::string& attr, const std::string& op,
                                   std::vector<item::Value> values) {
  auto need = [&](size_t n) -> Status {
    if (values.size() != n) {
      return Status::InvalidArgument("One or more parameter values were invalid: Invalid number of "
                                     "argument(s) for the " + op + " ComparisonOperator");
    }
    return Status::Ok();
  };
  auto scalar = [&]() -> Status {
    for (const item::Value& v : values) {
      if (!v.is(item::Type::kS) && !v.is(item::Type::kN) && !v.is(item::Type::kB)) {
        return Status::InvalidArgument("One or more parameter values were invalid: ComparisonOperator " +
                                       op + " is not valid for " + std::string(item::TypeName(v.type())) +
                                       " AttributeValue type");
      }
    }
    return Status::Ok();
  };
  static const std::map<std::string, expr::CompareOp, std::less<>> kCompare = {
      {"EQ", expr::CompareOp::kEq}, {"NE", expr::CompareOp::kNe}, {"LT", expr::CompareOp::kLt},
      {"LE", expr::CompareOp::kLe}, {"GT", expr::CompareOp::kGt}, {"GE", expr::CompareOp::kGe}};
  if (auto it = kCompare.find(op); it != kCompare.end()) {
    ET_RETURN_IF_ERROR(need(1));
    if (it->second != expr::CompareOp::kEq && it->second != expr::CompareOp::kNe) ET_RETURN_IF_ERROR(scalar());
    return Compare(it->second, attr, std::move(values[0]));
  }
  if (op == "NOT_NULL" || op == "NULL") {
    ET_RETURN_IF_ERROR(need(0));
    return Leaf(op == "NULL" ? Condition::Kind::kAttributeNotExists : Condition::Kind::kAttributeExists,
                {Operand::OfPath(TopLevel(attr))});
  }
  if (op == "CONTAINS" || op == "NOT_CONTAINS" || op == "BEGINS_WITH") {
    ET_RETURN_IF_ERROR(need(1));
    ET_RETURN_IF_ERROR(scalar());
    Condition c = Leaf(op == "BEGINS_WITH" ? Condition::Kind::kBeginsWith : Condition::Kind::kContains,
                       {Operand::OfPath(TopLevel(attr)), Operand::OfValue(std::move(values[0]))});
    if (op != "NOT_CONTAINS") return c;
    // NOT_CONTAINS is true only when the attribute exists and lacks the value.
    Condition n;
    n.kind = Condition::Kind::kNot;
    n.children.push_back(std::move(c));
    return Combine(Condition::Kind::kAnd,
                   Leaf(Condition::Kind::kAttributeExists, {Operand::OfPath(TopLevel(attr))}), std::move(n));
  }
  if (op == "IN") {
    if (values.empty()) ET_RETURN_IF_ERROR(need(1));
    ET_RETURN_IF_ERROR(scalar());
    std::vector<Operand> ops{Operand::OfPath(TopLevel(attr))};
    for (item::Value& v : values) ops.push_back(Operand::OfValue(std::move(v)));
    return Leaf(Condition::Kind::kIn, std::move(ops));
  }
  if (op == "BETWEEN") {
    ET_RETURN_IF_ERROR(need(2));
    ET_RETURN_IF_ERROR(scalar());
    if (values[0].type() != values[1].type() || item::CompareScalar(values[0], values[1]) > 0) {
      return Status::InvalidArgument("One or more parameter values were invalid: Invalid values for "
                                     "BETWEEN: the first value must be less than or equal to the second");
    }
    return Leaf(Condition::Kind::kBetween, {Operand::OfPath(TopLevel(attr)), Operand::OfValue(std::move(values[0])),
                                            Operand::OfValue(std::move(values[1]))});
  }
  return Status::InvalidArgument("1 validation error detected: Value '" + op +
                                 "' at 'comparisonOperator' failed to satisfy constraint: Member must "
                                 "satisfy enum value set: [IN, NULL, BETWEEN, LT, NOT_CONTAINS, EQ, GT, "
                                 "NOT_NULL, NE, LE, BEGINS_WITH, GE, CONTAINS]");
}

// Expected / QueryFilter / ScanFilter combined by ConditionalOperator.
Result<std::optional<Condition>> LegacyConditions(const Json& request, const Json& conditions,
                                                  bool allow_exists_form) {
  if (!conditions.is_object()) {
    return Status::InvalidArgument(std::string(kSerializationPrefix) + "conditions must be a map");
  }
  ET_ASSIGN_OR_RETURN(std::string joiner, Enum(request, "ConditionalOperator", {"AND", "OR"}, "AND"));
  std::optional<Condition> all;
  for (auto it = conditions.begin(); it != conditions.end(); ++it) {
    const std::string& attr = it.key();
    const Json& c = it.value();
    Condition one;
    const Json* op = Member(c, "ComparisonOperator");
    if (op != nullptr) {
      if (!op->is_string()) return Status::InvalidArgument(std::string(kSerializationPrefix) + "ComparisonOperator must be a string");
      if (allow_exists_form && (Member(c, "Value") || Member(c, "Exists"))) {
        return Status::InvalidArgument("One or more parameter values were invalid: Value or Exists "
                                       "cannot be used with ComparisonOperator for Attribute: " + attr);
      }
      ET_ASSIGN_OR_RETURN(std::vector<item::Value> values, ValueList(c, attr));
      ET_ASSIGN_OR_RETURN(one, LegacyComparison(attr, op->get<std::string>(), std::move(values)));
    } else if (allow_exists_form) {
      ET_ASSIGN_OR_RETURN(std::optional<bool> exists, OptBool(c, "Exists"));
      const Json* value = Member(c, "Value");
      if (exists.value_or(true)) {
        if (value == nullptr) {
          return Status::InvalidArgument("One or more parameter values were invalid: Value must be "
                                         "provided when Exists is true for Attribute: " + attr);
        }
        ET_ASSIGN_OR_RETURN(item::Value v, item::ValueFromJson(*value, attr));
        one = Compare(expr::CompareOp::kEq, attr, std::move(v));
      } else {
        if (value != nullptr) {
          return Status::InvalidArgument("One or more parameter values were invalid: Value cannot be "
                                         "used when Exists is false for Attribute: " + attr);
        }
        one = Leaf(Condition::Kind::kAttributeNotExists, {Operand::OfPath(TopLevel(attr))});
      }
    } else {
      return MissingParameter("ComparisonOperator");
    }
    all = all ? Combine(joiner == "OR" ? Condition::Kind::kOr : Condition::Kind::kAnd, std::move(*all),
                        std::move(one))
              : std::move(one);
  }
  return all;
}

}  // namespace

Result<TableKeys> LookupTable(OpEnv& env, const std::string& name) {
  Result<TableKeys> info = env.tables->Lookup(env.storage, name);
  if (!info.ok() && info.status().code() == Status::Code::kNotFound) {
    return Status::NotFound("Requested resource not found");
  }
  return info;
}

Result<item::Map> ParseKey(const Json& request, std::string_view member, const item::KeySchema& schema,
                           std::optional<item::Item>* taken) {
  const Json* k = Member(request, member);
  if (k == nullptr) return MissingParameter(member);
  item::Map key;
  if (taken != nullptr && taken->has_value()) {
    key = std::move(**taken);
    taken->reset();
  } else {
    ET_ASSIGN_OR_RETURN(key, AttributeMap(*k, member));
  }
  Result<item::EncodedKey> enc = item::ExtractKey(key, schema, /*key_only=*/true);
  if (!enc.ok()) return enc.status();
  return key;
}

Result<std::optional<expr::Condition>> ParseConditionParam(const Json& request, expr::ExpressionContext& ctx) {
  ET_RETURN_IF_ERROR(CheckNotBoth(request, "Expected", "ConditionExpression"));
  ET_ASSIGN_OR_RETURN(std::optional<std::string> text, OptString(request, "ConditionExpression"));
  if (text) {
    ET_ASSIGN_OR_RETURN(expr::Condition c, expr::ParseCondition(*text, expr::ExprKind::kCondition, ctx));
    return std::optional<expr::Condition>(std::move(c));
  }
  if (const Json* expected = Member(request, "Expected")) {
    return LegacyConditions(request, *expected, /*allow_exists_form=*/true);
  }
  return std::optional<expr::Condition>();
}

Result<std::optional<expr::Condition>> ParseFilterParam(const Json& request, std::string_view legacy_member,
                                                        expr::ExpressionContext& ctx) {
  ET_RETURN_IF_ERROR(CheckNotBoth(request, legacy_member, "FilterExpression"));
  ET_ASSIGN_OR_RETURN(std::optional<std::string> text, OptString(request, "FilterExpression"));
  if (text) {
    ET_ASSIGN_OR_RETURN(expr::Condition c, expr::ParseCondition(*text, expr::ExprKind::kFilter, ctx));
    return std::optional<expr::Condition>(std::move(c));
  }
  if (const Json* legacy = Member(request, legacy_member)) {
    return LegacyConditions(request, *legacy, /*allow_exists_form=*/false);
  }
  return std::optional<expr::Condition>();
}

Result<std::optional<expr::Projection>> ParseProjectionParam(const Json& request, expr::ExpressionContext& ctx) {
  ET_RETURN_IF_ERROR(CheckNotBoth(request, "AttributesToGet", "ProjectionExpression"));
  ET_ASSIGN_OR_RETURN(std::optional<std::string> text, OptString(request, "ProjectionExpression"));
  if (text) {
    ET_ASSIGN_OR_RETURN(expr::Projection p, expr::ParseProjection(*text, ctx));
    return std::optional<expr::Projection>(std::move(p));
  }
  if (const Json* names = Member(request, "AttributesToGet")) {
    if (!names->is_array() || names->empty()) {
      return Status::InvalidArgument("1 validation error detected: Value at 'attributesToGet' failed to "
                                     "satisfy constraint: Member must have length greater than or equal to 1");
    }
    expr::Projection p;
    std::set<std::string> seen;
    for (const Json& n : *names) {
      if (!n.is_string()) return Status::InvalidArgument(std::string(kSerializationPrefix) + "AttributesToGet must be strings");
      if (!seen.insert(n.get<std::string>()).second) {
        return Status::InvalidArgument("One or more parameter values were invalid: Duplicate value in "
                                       "attribute name: " + n.get<std::string>());
      }
      p.paths.push_back(TopLevel(n.get<std::string>()));
    }
    return std::optional<expr::Projection>(std::move(p));
  }
  return std::optional<expr::Projection>();
}

Result<expr::KeyCondition> ParseLegacyKeyConditions(const Json& key_conditions, const item::KeySchema& schema) {
  if (!key_conditions.is_object()) {
    return Status::InvalidArgument(std::string(kSerializationPrefix) + "KeyConditions must be a map");
  }
  expr::KeyCondition kc;
  bool have_partition = false;
  for (auto it = key_conditions.begin(); it != key_conditions.end(); ++it) {
    const std::string& attr = it.key();
    ET_ASSIGN_OR_RETURN(std::string op, RequiredString(it.value(), "ComparisonOperator"));
    ET_ASSIGN_OR_RETURN(std::vector<item::Value> values, ValueList(it.value(), attr));
    const item::KeyAttribute* key =
        attr == schema.partition.name ? &schema.partition
        : (schema.sort && attr == schema.sort->name) ? &*schema.sort : nullptr;
    if (key == nullptr) return Status::InvalidArgument("Query condition missed key schema element: " + attr);
    for (const item::Value& v : values) {
      if (v.type() != key->type) {
        return Status::InvalidArgument("One or more parameter values were invalid: Condition parameter "
                                       "type does not match schema type");
      }
    }
    auto need = [&](size_t n) -> Status {
      if (values.size() != n) {
        return Status::InvalidArgument("One or more parameter values were invalid: Invalid number of "
                                       "argument(s) for the " + op + " ComparisonOperator");
      }
      return Status::Ok();
    };
    if (key == &schema.partition) {
      if (op != "EQ") return Status::InvalidArgument("Query key condition not supported");
      ET_RETURN_IF_ERROR(need(1));
      kc.partition = values[0];
      have_partition = true;
      continue;
    }
    expr::SortCondition sc;
    using Op = expr::SortCondition::Op;
    static const std::map<std::string, Op, std::less<>> kOps = {
        {"EQ", Op::kEq}, {"LT", Op::kLt}, {"LE", Op::kLe}, {"GT", Op::kGt},
        {"GE", Op::kGe}, {"BETWEEN", Op::kBetween}, {"BEGINS_WITH", Op::kBeginsWith}};
    auto found = kOps.find(op);
    if (found == kOps.end()) {
      return Status::InvalidArgument("Attempted conditional constraint is not an indexable operation");
    }
    sc.op = found->second;
    ET_RETURN_IF_ERROR(need(sc.op == Op::kBetween ? 2 : 1));
    sc.value1 = values[0];
    if (sc.op == Op::kBetween) sc.value2 = values[1];
    kc.sort = std::move(sc);
  }
  if (!have_partition) {
    return Status::InvalidArgument("Query condition missed key schema element: " + schema.partition.name);
  }
  return kc;
}

Result<expr::UpdateExpression> ParseAttributeUpdates(const Json& updates) {
  if (!updates.is_object()) {
    return Status::InvalidArgument(std::string(kSerializationPrefix) + "AttributeUpdates must be a map");
  }
  expr::UpdateExpression u;
  for (auto it = updates.begin(); it != updates.end(); ++it) {
    const std::string& attr = it.key();
    ET_ASSIGN_OR_RETURN(std::string action, Enum(it.value(), "Action", {"ADD", "PUT", "DELETE"}, "PUT"));
    const Json* value = Member(it.value(), "Value");
    expr::UpdateAction a;
    a.path = TopLevel(attr);
    if (value != nullptr) {
      ET_ASSIGN_OR_RETURN(item::Value v, item::ValueFromJson(*value, attr));
      a.value = Operand::OfValue(std::move(v));
    }
    if (action == "PUT") {
      if (value == nullptr) return Status::InvalidArgument("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified");
      a.kind = expr::UpdateAction::Kind::kSet;
    } else if (action == "ADD") {
      if (value == nullptr) return Status::InvalidArgument("One or more parameter values were invalid: Only DELETE action is allowed when no attribute value is specified");
      if (!a.value.value.is(item::Type::kN) && !a.value.value.is_set() && !a.value.value.is(item::Type::kL)) {
        return Status::InvalidArgument("One or more parameter values were invalid: ADD action is not supported for the type " +
                                       std::string(item::TypeName(a.value.value.type())));
      }
      a.kind = expr::UpdateAction::Kind::kAdd;
    } else {
      a.kind = value == nullptr ? expr::UpdateAction::Kind::kRemove : expr::UpdateAction::Kind::kDelete;
      if (value != nullptr && !a.value.value.is_set()) {
        return Status::InvalidArgument("One or more parameter values were invalid: DELETE action with value is not supported for the type " +
                                       std::string(item::TypeName(a.value.value.type())));
      }
    }
    u.actions.push_back(std::move(a));
  }
  return u;
}

Result<std::optional<Json>> ConsumedCapacity(const Json& request, const std::string& table,
                                             const std::function<double()>& units_fn) {
  ET_ASSIGN_OR_RETURN(std::string mode, Enum(request, "ReturnConsumedCapacity", {"INDEXES", "TOTAL", "NONE"}, "NONE"));
  if (mode == "NONE") return std::optional<Json>();
  const double units = units_fn();
  Json cc{{"TableName", table}, {"CapacityUnits", units}};
  if (mode == "INDEXES") cc["Table"] = {{"CapacityUnits", units}};
  return std::optional<Json>(std::move(cc));
}


double WriteUnits(const item::Item* a, const item::Item* b) {
  int64_t bytes = 0;
  if (a) bytes = std::max(bytes, item::ItemSize(*a));
  if (b) bytes = std::max(bytes, item::ItemSize(*b));
  return std::max(1.0, std::ceil(static_cast<double>(bytes) / 1024.0));
}

double ReadUnits(int64_t bytes, bool consistent) {
  double units = std::max(1.0, std::ceil(static_cast<double>(bytes) / 4096.0));
  return consistent ? units : units / 2.0;
}

Status CheckCondition(const std::optional<expr::Condition>& cond, const item::Item* current,
                      std::optional<item::Item>* seen) {
  if (!cond || expr::EvaluateCondition(*cond, current ? *current : item::Item{})) return Status::Ok();
  if (current) *seen = *current;
  return Status::ConditionFailed("The conditional request failed");
}

Status CheckNotKeyUpdate(const expr::UpdateExpression& update, const item::KeySchema& schema) {
  for (const expr::UpdateAction& a : update.actions) {
    const std::string& top = a.path.elements.front().name;
    if (top == schema.partition.name || (schema.sort && top == schema.sort->name)) {
      return Status::InvalidArgument("One or more parameter values were invalid: Cannot update attribute " +
                                     top + ". This attribute is part of the key");
    }
  }
  return Status::Ok();
}

Json ItemJson(const item::Item& item) { return item::ItemToJson(item); }

}  // namespace edgetable::api::internal
