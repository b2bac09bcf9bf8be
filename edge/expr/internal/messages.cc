#include "edge/expr/internal/messages.h"

namespace edgetable::expr::internal {

Status InvalidExpression(ExprKind kind, std::string_view message) {
  std::string m = "Invalid ";
  m += ExprKindName(kind);
  m += ": ";
  m += message;
  return Status::InvalidArgument(std::move(m));
}

std::string_view OperandTypeName(item::Type t) {
  switch (t) {
    case item::Type::kS:
      return "STRING";
    case item::Type::kN:
      return "NUMBER";
    case item::Type::kB:
      return "BINARY";
    case item::Type::kBool:
      return "BOOLEAN";
    case item::Type::kNull:
      return "NULL";
    case item::Type::kM:
      return "MAP";
    case item::Type::kL:
      return "LIST";
    case item::Type::kSS:
      return "STRING_SET";
    case item::Type::kNS:
      return "NUMBER_SET";
    case item::Type::kBS:
      return "BINARY_SET";
  }
  return "UNKNOWN";
}

}  // namespace edgetable::expr::internal
