#include "sync/protocol/sync_types.h"

#include <algorithm>

namespace edgetable::sync {

bool ParseDirection(std::string_view text, Direction* out) {
  if (text == "both") *out = Direction::kBoth;
  else if (text == "up") *out = Direction::kUp;
  else if (text == "down") *out = Direction::kDown;
  else if (text == "none") *out = Direction::kNone;
  else return false;
  return true;
}

std::string_view DirectionName(Direction d) {
  switch (d) {
    case Direction::kBoth: return "both";
    case Direction::kUp: return "up";
    case Direction::kDown: return "down";
    case Direction::kNone: return "none";
  }
  return "?";
}

bool ParseSkewPolicy(std::string_view text, SkewPolicy* out) {
  if (text == "refuse") *out = SkewPolicy::kRefuse;
  else if (text == "clamp") *out = SkewPolicy::kClamp;
  else return false;
  return true;
}

std::string_view SkewPolicyName(SkewPolicy p) {
  return p == SkewPolicy::kRefuse ? "refuse" : "clamp";
}

bool Scope::AllowsTable(std::string_view table) const {
  return tables.empty() || std::find(tables.begin(), tables.end(), table) != tables.end();
}

bool Scope::AllowsPartitionKey(std::string_view key_text) const {
  if (key_prefixes.empty()) return true;
  return std::any_of(key_prefixes.begin(), key_prefixes.end(),
                     [&](const std::string& p) { return key_text.substr(0, p.size()) == p; });
}

}  // namespace edgetable::sync
