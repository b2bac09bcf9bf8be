#include "edge/clock/version.h"

#include <cinttypes>
#include <cstdio>

namespace edgetable::clock {

std::string Version::ToString() const {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%" PRId64 ".%" PRId32 "@%016" PRIx64, hlc_ms, counter, replica);
  return buf;
}

}  // namespace edgetable::clock
