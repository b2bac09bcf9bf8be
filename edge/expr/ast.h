#pragma once
// edge/expr: the parsed form of DynamoDB's expressions.
//
// Every expression of a request is parsed once (edge/expr/expr.h) into the
// plain values below and then evaluated against any number of items. The
// parsed form is fully resolved: `#name` placeholders are replaced by the
// attribute names they stand for and `:value` placeholders by copies of their
// values, so a parsed expression does not refer to the request any more.
//
// The types are public and may be built by hand: the API layer can translate
// DynamoDB's legacy parameters (Expected, QueryFilter, KeyConditions,
// AttributeUpdates, AttributesToGet) into them and reuse the evaluators.
// Threads: plain values; safe to share read-only between threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "edge/item/value.h"

namespace edgetable::expr {

// One step of a document path: a map key (`a`, `#n`) or a list index (`[3]`).
struct PathElement {
  bool is_index = false;
  std::string name;    // when !is_index
  uint32_t index = 0;  // when is_index

  static PathElement Name(std::string n) { return {false, std::move(n), 0}; }
  static PathElement Index(uint32_t i) { return {true, {}, i}; }
  bool operator==(const PathElement&) const = default;
};

// A document path: a top-level attribute name followed by map keys and list
// indexes. The first element is always a name.
struct Path {
  std::vector<PathElement> elements;

  // "a.b[2].c" (names as they are, without quoting).
  std::string ToString() const;
  // DynamoDB's form in error messages: "[a, b, [2], c]".
  std::string ToBracketString() const;
  bool operator==(const Path&) const = default;
};

// A value-producing part of an expression.
//   kPath         the value at `path` (absent if the item has no such path)
//   kValue        a constant (an ExpressionAttributeValue)
//   kSize         size(path), or size(args[0]) when args holds a kValue: an N,
//                 absent when the path is absent or the value has no size
//   kIfNotExists  if_not_exists(path, args[0])             (update only)
//   kListAppend   list_append(args[0], args[1])            (update only)
//   kPlus/kMinus  args[0] + args[1], args[0] - args[1]     (update only)
struct Operand {
  enum class Kind : uint8_t { kPath, kValue, kSize, kIfNotExists, kListAppend, kPlus, kMinus };
  Kind kind = Kind::kValue;
  Path path;
  item::Value value;
  std::vector<Operand> args;

  static Operand OfPath(Path p) {
    Operand o;
    o.kind = Kind::kPath;
    o.path = std::move(p);
    return o;
  }
  static Operand OfValue(item::Value v) {
    Operand o;
    o.kind = Kind::kValue;
    o.value = std::move(v);
    return o;
  }
};

enum class CompareOp : uint8_t { kEq, kNe, kLt, kLe, kGt, kGe };
// "=", "<>", "<", "<=", ">", ">=".
std::string_view CompareOpText(CompareOp op);

// A condition (ConditionExpression, FilterExpression; also the raw form of a
// KeyConditionExpression). Operands per kind:
//   kCompare              operands[0] op operands[1]
//   kBetween              operands[0] BETWEEN operands[1] AND operands[2]
//   kIn                   operands[0] IN (operands[1..])
//   kAttributeExists      attribute_exists(operands[0].path)
//   kAttributeNotExists   attribute_not_exists(operands[0].path)
//   kAttributeType        attribute_type(operands[0].path, operands[1])
//   kBeginsWith           begins_with(operands[0], operands[1])
//   kContains             contains(operands[0], operands[1])
//   kAnd, kOr             children[0] AND/OR children[1]
//   kNot                  NOT children[0]
// REQUIRES (hand-built conditions): the operand and child counts above, and
// only kPath, kValue and kSize operands; the evaluator does not check them.
struct Condition {
  enum class Kind : uint8_t {
    kCompare,
    kBetween,
    kIn,
    kAttributeExists,
    kAttributeNotExists,
    kAttributeType,
    kBeginsWith,
    kContains,
    kAnd,
    kOr,
    kNot,
  };
  Kind kind = Kind::kCompare;
  CompareOp op = CompareOp::kEq;  // kCompare only
  std::vector<Operand> operands;
  std::vector<Condition> children;
};

// One action of an UpdateExpression.
//   kSet     path = value (value may use +, -, if_not_exists, list_append)
//   kRemove  path (value unused)
//   kAdd     path value: add a number, or union a set
//   kDelete  path value: subtract a set
struct UpdateAction {
  enum class Kind : uint8_t { kSet, kRemove, kAdd, kDelete };
  Kind kind = Kind::kSet;
  Path path;
  Operand value;
};

struct UpdateExpression {
  std::vector<UpdateAction> actions;  // in the order written, clause by clause
};

// A ProjectionExpression: the paths to return. No two paths overlap.
struct Projection {
  std::vector<Path> paths;
};

// A sort key condition of a Query, ready for the storage layer:
//   kEq..kGe      sort op value1
//   kBetween      value1 <= sort <= value2
//   kBeginsWith   sort starts with value1 (S or B)
struct SortCondition {
  enum class Op : uint8_t { kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };
  Op op = Op::kEq;
  item::Value value1;
  item::Value value2;  // kBetween only
};

// A validated KeyConditionExpression: the partition key value (of the
// schema's type) and, optionally, a condition on the sort key whose values
// have the sort key's type.
struct KeyCondition {
  item::Value partition;
  std::optional<SortCondition> sort;
};

}  // namespace edgetable::expr
