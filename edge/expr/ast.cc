#include "edge/expr/ast.h"

#include <string>

namespace edgetable::expr {

std::string Path::ToString() const {
  std::string out;
  for (size_t i = 0; i < elements.size(); ++i) {
    const PathElement& e = elements[i];
    if (e.is_index) {
      out += "[" + std::to_string(e.index) + "]";
    } else {
      if (i > 0) out += ".";
      out += e.name;
    }
  }
  return out;
}

std::string Path::ToBracketString() const {
  std::string out = "[";
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ", ";
    const PathElement& e = elements[i];
    out += e.is_index ? "[" + std::to_string(e.index) + "]" : e.name;
  }
  out += "]";
  return out;
}

std::string_view CompareOpText(CompareOp op) {
  switch (op) {
    case CompareOp::kEq:
      return "=";
    case CompareOp::kNe:
      return "<>";
    case CompareOp::kLt:
      return "<";
    case CompareOp::kLe:
      return "<=";
    case CompareOp::kGt:
      return ">";
    case CompareOp::kGe:
      return ">=";
  }
  return "?";
}

}  // namespace edgetable::expr
