#pragma once
// Small pieces of the parser that are worth testing on their own.
// Threads: pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"
#include "edge/expr/ast.h"
#include "edge/expr/context.h"
#include "edge/item/value.h"

namespace edgetable::expr::internal {

// Parses the digits of a list index. False if it does not fit in 31 bits.
bool ParseListIndex(std::string_view digits, uint32_t* out);

// The type named by attribute_type's argument ("S", "N", ..., "BS"), exact case.
std::optional<item::Type> ParseTypeName(std::string_view name);

// "N:5" or "S:abc" for a scalar in DynamoDB's AttributeValue: {...} messages.
std::string ScalarText(const item::Value& v);

// Rejects two paths of which one is a prefix of the other (or equal), or that
// first differ where one has a map key and the other a list index:
//   "Invalid <Kind>: Two document paths overlap with each other; must remove or
//    rewrite one of these paths; path one: [a], path two: [a, b]"
//   "Invalid <Kind>: Two document paths conflict with each other; must remove
//    or rewrite one of these paths; path one: [a, b], path two: [a, [0]]"
Status CheckPathsDisjoint(const std::vector<const Path*>& paths, ExprKind kind);

}  // namespace edgetable::expr::internal
