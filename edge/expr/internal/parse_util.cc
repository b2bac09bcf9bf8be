#include "edge/expr/internal/parse_util.h"

#include <algorithm>

#include "edge/expr/internal/messages.h"

namespace edgetable::expr::internal {

bool ParseListIndex(std::string_view digits, uint32_t* out) {
  if (digits.empty()) return false;
  uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
    v = v * 10 + static_cast<uint64_t>(c - '0');
    if (v > 0x7FFFFFFFu) return false;
  }
  *out = static_cast<uint32_t>(v);
  return true;
}

std::optional<item::Type> ParseTypeName(std::string_view name) {
  static constexpr std::pair<std::string_view, item::Type> kTypes[] = {
      {"S", item::Type::kS},       {"N", item::Type::kN},       {"B", item::Type::kB},
      {"BOOL", item::Type::kBool}, {"NULL", item::Type::kNull}, {"M", item::Type::kM},
      {"L", item::Type::kL},       {"SS", item::Type::kSS},     {"NS", item::Type::kNS},
      {"BS", item::Type::kBS},
  };
  for (const auto& [text, type] : kTypes) {
    if (text == name) return type;
  }
  return std::nullopt;
}

std::string ScalarText(const item::Value& v) {
  switch (v.type()) {
    case item::Type::kS:
      return "S:" + v.s();
    case item::Type::kN:
      return "N:" + v.n().ToString();
    default:
      return std::string(OperandTypeName(v.type()));
  }
}

Status CheckPathsDisjoint(const std::vector<const Path*>& paths, ExprKind kind) {
  for (size_t i = 0; i < paths.size(); ++i) {
    for (size_t j = i + 1; j < paths.size(); ++j) {
      const auto& a = paths[i]->elements;
      const auto& b = paths[j]->elements;
      const size_t n = std::min(a.size(), b.size());
      size_t k = 0;
      while (k < n && a[k] == b[k]) ++k;
      std::string what;
      if (k == n) {
        what = "overlap";
      } else if (a[k].is_index != b[k].is_index) {
        what = "conflict";
      } else {
        continue;
      }
      return InvalidExpression(kind, "Two document paths " + what +
                                         " with each other; must remove or rewrite one of these "
                                         "paths; path one: " +
                                         paths[i]->ToBracketString() +
                                         ", path two: " + paths[j]->ToBracketString());
    }
  }
  return Status::Ok();
}

}  // namespace edgetable::expr::internal
