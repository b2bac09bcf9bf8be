#include "edge/base/log.h"

#include <string>

namespace edgetable::log {

bool SetLevel(std::string_view level) {
  auto l = spdlog::level::from_str(std::string(level));
  // from_str maps unknown names to "off"; only accept "off" when asked for it.
  if (l == spdlog::level::off && level != "off") return false;
  spdlog::set_level(l);
  return true;
}

}  // namespace edgetable::log
