// KeyConditionExpression: parsed with the condition grammar, then checked
// against the key schema and reduced to what the storage layer runs.

#include <string>
#include <utility>
#include <vector>

#include "edge/expr/expr.h"

namespace edgetable::expr {
namespace {

using item::Type;
using item::Value;

Status NotSupported() { return Status::InvalidArgument("Query key condition not supported"); }

Status InvalidOperator(std::string_view op) {
  return Status::InvalidArgument("Invalid operator used in KeyConditionExpression: " +
                                 std::string(op));
}

// One `key op value` of the expression, with the key on the left.
struct Leaf {
  std::string name;
  SortCondition cond;
};

void Flatten(const Condition& c, std::vector<const Condition*>* out) {
  if (c.kind == Condition::Kind::kAnd) {
    Flatten(c.children[0], out);
    Flatten(c.children[1], out);
  } else {
    out->push_back(&c);
  }
}

// The key side of a leaf must be a top-level attribute name.
Status CheckKeyOperand(const Operand& o) {
  if (o.kind == Operand::Kind::kSize) {
    return Status::InvalidArgument("KeyConditionExpressions cannot contain nested operations");
  }
  if (o.kind != Operand::Kind::kPath) return NotSupported();
  if (o.path.elements.size() != 1) {
    return Status::InvalidArgument(
        "Key attributes must be scalars; list random access '[]' and map lookup '.' are not "
        "allowed: Key: " +
        o.path.elements[0].name);
  }
  return Status::Ok();
}

// The value side of a leaf must be a constant.
Status CheckValueOperand(const Operand& o) {
  if (o.kind == Operand::Kind::kValue) return Status::Ok();
  if (o.kind == Operand::Kind::kSize) {
    return Status::InvalidArgument("KeyConditionExpressions cannot contain nested operations");
  }
  return Status::InvalidArgument(
      "Invalid condition in KeyConditionExpression: Multiple attribute names used in one "
      "condition");
}

SortCondition::Op SortOpOf(CompareOp op, bool swapped) {
  switch (op) {
    case CompareOp::kEq:
      return SortCondition::Op::kEq;
    case CompareOp::kLt:
      return swapped ? SortCondition::Op::kGt : SortCondition::Op::kLt;
    case CompareOp::kLe:
      return swapped ? SortCondition::Op::kGe : SortCondition::Op::kLe;
    case CompareOp::kGt:
      return swapped ? SortCondition::Op::kLt : SortCondition::Op::kGt;
    case CompareOp::kGe:
      return swapped ? SortCondition::Op::kLe : SortCondition::Op::kGe;
    case CompareOp::kNe:
      break;
  }
  return SortCondition::Op::kEq;  // unreachable: <> is rejected before
}

Result<Leaf> ToLeaf(const Condition& c) {
  Leaf leaf;
  switch (c.kind) {
    case Condition::Kind::kCompare: {
      if (c.op == CompareOp::kNe) return InvalidOperator("<>");
      bool swapped = false;
      const Operand* key = &c.operands[0];
      const Operand* value = &c.operands[1];
      if (key->kind == Operand::Kind::kValue && value->kind != Operand::Kind::kValue) {
        swapped = true;
        std::swap(key, value);
      }
      ET_RETURN_IF_ERROR(CheckKeyOperand(*key));
      ET_RETURN_IF_ERROR(CheckValueOperand(*value));
      leaf.name = key->path.elements[0].name;
      leaf.cond.op = SortOpOf(c.op, swapped);
      leaf.cond.value1 = value->value;
      return leaf;
    }
    case Condition::Kind::kBetween: {
      ET_RETURN_IF_ERROR(CheckKeyOperand(c.operands[0]));
      ET_RETURN_IF_ERROR(CheckValueOperand(c.operands[1]));
      ET_RETURN_IF_ERROR(CheckValueOperand(c.operands[2]));
      leaf.name = c.operands[0].path.elements[0].name;
      leaf.cond.op = SortCondition::Op::kBetween;
      leaf.cond.value1 = c.operands[1].value;
      leaf.cond.value2 = c.operands[2].value;
      return leaf;
    }
    case Condition::Kind::kBeginsWith: {
      ET_RETURN_IF_ERROR(CheckKeyOperand(c.operands[0]));
      ET_RETURN_IF_ERROR(CheckValueOperand(c.operands[1]));
      leaf.name = c.operands[0].path.elements[0].name;
      leaf.cond.op = SortCondition::Op::kBeginsWith;
      leaf.cond.value1 = c.operands[1].value;
      return leaf;
    }
    case Condition::Kind::kOr:
      return InvalidOperator("OR");
    case Condition::Kind::kNot:
      return InvalidOperator("NOT");
    case Condition::Kind::kIn:
      return InvalidOperator("IN");
    case Condition::Kind::kContains:
      return InvalidOperator("contains");
    case Condition::Kind::kAttributeExists:
      return InvalidOperator("attribute_exists");
    case Condition::Kind::kAttributeNotExists:
      return InvalidOperator("attribute_not_exists");
    case Condition::Kind::kAttributeType:
      return InvalidOperator("attribute_type");
    case Condition::Kind::kAnd:
      break;  // flattened before
  }
  return NotSupported();
}

Status TypeMismatch() {
  return Status::InvalidArgument(
      "One or more parameter values were invalid: Condition parameter type does not match schema "
      "type");
}

Status CheckKeyValue(const Value& v, const item::KeyAttribute& key) {
  if (v.type() != key.type) return TypeMismatch();
  if ((v.is(Type::kS) || v.is(Type::kB)) && v.s().empty()) {
    return Status::InvalidArgument(
        "One or more parameter values are not valid. The AttributeValue for a key attribute cannot "
        "contain an empty " +
        std::string(v.is(Type::kS) ? "string" : "binary") + " value. Key: " + key.name);
  }
  return Status::Ok();
}

}  // namespace

Result<KeyCondition> ParseKeyCondition(std::string_view text, const item::KeySchema& schema,
                                       ExpressionContext& ctx) {
  ET_ASSIGN_OR_RETURN(Condition cond, ParseCondition(text, ExprKind::kKeyCondition, ctx));
  std::vector<const Condition*> parts;
  Flatten(cond, &parts);
  std::vector<Leaf> leaves;
  for (const Condition* c : parts) {
    ET_ASSIGN_OR_RETURN(Leaf leaf, ToLeaf(*c));
    leaves.push_back(std::move(leaf));
  }
  const Leaf* partition = nullptr;
  const Leaf* sort = nullptr;
  bool other = false;
  for (const Leaf& leaf : leaves) {
    const Leaf** slot = nullptr;
    if (leaf.name == schema.partition.name) {
      slot = &partition;
    } else if (schema.sort.has_value() && leaf.name == schema.sort->name) {
      slot = &sort;
    } else {
      other = true;
      continue;
    }
    if (*slot != nullptr) {
      return Status::InvalidArgument(
          "KeyConditionExpressions must only contain one condition per key");
    }
    *slot = &leaf;
  }
  if (partition == nullptr) {
    return Status::InvalidArgument("Query condition missed key schema element: " +
                                   schema.partition.name);
  }
  if (other) {
    // A condition on a non-key attribute: DynamoDB names the key it expected.
    if (schema.sort.has_value() && sort == nullptr) {
      return Status::InvalidArgument("Query condition missed key schema element: " +
                                     schema.sort->name);
    }
    return NotSupported();
  }
  if (partition->cond.op != SortCondition::Op::kEq) return NotSupported();
  ET_RETURN_IF_ERROR(CheckKeyValue(partition->cond.value1, schema.partition));

  KeyCondition out;
  out.partition = partition->cond.value1;
  if (sort != nullptr) {
    const item::KeyAttribute& key = *schema.sort;
    const SortCondition& sc = sort->cond;
    if (sc.value1.type() != key.type) return TypeMismatch();
    if (sc.op == SortCondition::Op::kBetween && sc.value2.type() != key.type) return TypeMismatch();
    out.sort = sc;
  }
  return out;
}

}  // namespace edgetable::expr
