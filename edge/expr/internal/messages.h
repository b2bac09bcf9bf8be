#pragma once
// DynamoDB's wording for expression errors, shared by the parser and the
// evaluators so that each message is spelled in one place.

#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/expr/context.h"
#include "edge/item/value.h"

namespace edgetable::expr::internal {

// kInvalidArgument "Invalid <Kind>: <message>".
Status InvalidExpression(ExprKind kind, std::string_view message);

// Operand type names as DynamoDB spells them in operator messages:
// STRING, NUMBER, BINARY, BOOLEAN, NULL, MAP, LIST, STRING_SET, NUMBER_SET, BINARY_SET.
std::string_view OperandTypeName(item::Type t);

inline constexpr std::string_view kMissingAttribute =
    "The provided expression refers to an attribute that does not exist in the item";
inline constexpr std::string_view kIncorrectDataType =
    "An operand in the update expression has an incorrect data type";
inline constexpr std::string_view kInvalidPathForUpdate =
    "The document path provided in the update expression is invalid for update";

}  // namespace edgetable::expr::internal
