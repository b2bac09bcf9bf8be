#pragma once
// Item builders shared by the storage tests, the fault tests and the benchmark.

#include <cstdint>
#include <string>

#include "edge/item/key.h"
#include "edge/item/number.h"
#include "edge/item/value.h"

namespace edgetable::storage::testing {

inline item::Value S(std::string s) { return item::Value::S(std::move(s)); }
inline item::Value N(int64_t v) { return item::Value::N(item::Number::FromInt(v)); }

// The telemetry schema: device (S) + ts (N).
inline item::KeySchema DeviceTsSchema() {
  item::KeySchema k;
  k.partition = {"device", item::Type::kS};
  k.sort = item::KeyAttribute{"ts", item::Type::kN};
  return k;
}

inline item::Map Key(const std::string& device, int64_t ts) {
  return item::Map{{"device", S(device)}, {"ts", N(ts)}};
}

inline item::Item Reading(const std::string& device, int64_t ts, int64_t value,
                          const std::string& payload = "") {
  item::Item it{{"device", S(device)}, {"ts", N(ts)}, {"value", N(value)}};
  if (!payload.empty()) it["payload"] = S(payload);
  return it;
}

// FNV-1a, for checksum attributes that readers verify.
inline int64_t Checksum(const std::string& s) {
  uint32_t h = 2166136261u;
  for (unsigned char c : s) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int64_t>(h);
}

}  // namespace edgetable::storage::testing
