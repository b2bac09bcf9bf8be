#pragma once
// Seeded random attribute values for property tests (item and wire).
// Deterministic for a given seed on every platform: only std::mt19937_64 and
// explicit arithmetic, no std::*_distribution (their output is
// implementation-defined).

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "edge/item/value.h"

namespace edgetable::item::testing {

class RandomValues {
 public:
  explicit RandomValues(uint64_t seed) : rng_(seed) {}

  // Uniform in [lo, hi].
  int64_t Int(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi - lo) + 1;
    return lo + static_cast<int64_t>(rng_() % span);
  }
  bool Coin() { return (rng_() & 1) != 0; }

  // Bytes of length [min_len, max_len]; sometimes from a tiny alphabet so
  // that prefixes and equal values are common.
  std::string Bytes(int64_t min_len, int64_t max_len) {
    const int64_t len = Int(min_len, max_len);
    const bool tiny = Coin();
    std::string s;
    for (int64_t i = 0; i < len; ++i) {
      s.push_back(static_cast<char>(tiny ? (Coin() ? 0x00 : 0xFF) : Int(0, 255)));
    }
    return s;
  }

  // Printable UTF-8 text (ASCII letters and a two-byte character).
  std::string Text(int64_t min_len, int64_t max_len) {
    const int64_t len = Int(min_len, max_len);
    std::string s;
    for (int64_t i = 0; i < len; ++i) {
      if (Int(0, 9) == 0) {
        s += "\xC3\xA9";  // e acute
      } else {
        s.push_back(static_cast<char>('a' + Int(0, 3)));
      }
    }
    return s;
  }

  // A valid number over the whole range: sign, 1..38 digits, exponent
  // -130..125; sometimes narrow ranges so that close values collide.
  Number Num() {
    if (Int(0, 30) == 0) return Number();
    const bool narrow = Coin();
    const int64_t n = narrow ? Int(1, 4) : Int(1, 38);
    std::string digits;
    for (int64_t i = 0; i < n; ++i) {
      int64_t d = narrow ? Int(0, 2) : Int(0, 9);
      if ((i == 0 || i == n - 1) && d == 0) d = 1;
      digits.push_back(static_cast<char>('0' + d));
    }
    const auto exponent = static_cast<int32_t>(narrow ? Int(-2, 2) : Int(-130, 125));
    auto r = Number::FromParts(Coin(), digits, exponent);
    return r.ok() ? *r : Number();
  }

  Value Scalar(Type t) {
    switch (t) {
      case Type::kS: return Value::S(Text(1, 12));
      case Type::kB: return Value::B(Bytes(1, 12));
      default: return Value::N(Num());
    }
  }

  // Any value, nesting at most `depth_left` more M/L levels.
  Value Any(int depth_left) {
    const int64_t pick = Int(0, depth_left > 0 ? 9 : 7);
    switch (pick) {
      case 0: return Value::S(Text(0, 10));
      case 1: return Value::N(Num());
      case 2: return Value::B(Bytes(0, 10));
      case 3: return Value::Bool(Coin());
      case 4: return Value::Null();
      case 5: {
        std::vector<std::string> v;
        for (int64_t i = Int(1, 4); i > 0; --i) v.push_back(Text(0, 6));
        return Value::SS(std::move(v));
      }
      case 6: {
        std::vector<Number> v;
        for (int64_t i = Int(1, 4); i > 0; --i) v.push_back(Num());
        return Value::NS(std::move(v));
      }
      case 7: {
        std::vector<std::string> v;
        for (int64_t i = Int(1, 4); i > 0; --i) v.push_back(Bytes(0, 6));
        return Value::BS(std::move(v));
      }
      case 8: {
        Map m;
        for (int64_t i = Int(0, 4); i > 0; --i) m.emplace(Text(1, 5), Any(depth_left - 1));
        return Value::M(std::move(m));
      }
      default: {
        List l;
        for (int64_t i = Int(0, 4); i > 0; --i) l.push_back(Any(depth_left - 1));
        return Value::L(std::move(l));
      }
    }
  }

  Item AnyItem(int depth) {
    Item item;
    for (int64_t i = Int(1, 6); i > 0; --i) item.emplace(Text(1, 8), Any(depth));
    return item;
  }

 private:
  std::mt19937_64 rng_;
};

}  // namespace edgetable::item::testing
