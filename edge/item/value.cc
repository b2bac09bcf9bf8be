#include "edge/item/value.h"

#include <algorithm>
#include <cstring>

#include "edge/base/assert.h"

namespace edgetable::item {
namespace {

// Unsigned byte order, DynamoDB's order for S and B.
int CompareBytes(std::string_view a, std::string_view b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return c < 0 ? -1 : 1;
  if (a.size() == b.size()) return 0;
  return a.size() < b.size() ? -1 : 1;
}

// Equality of two canonically sorted sets, ignoring duplicates (a set with
// duplicates is invalid; validation reports it, equality treats it as a set).
template <typename T, typename Eq>
bool SortedSetsEqual(const std::vector<T>& a, const std::vector<T>& b, Eq eq) {
  size_t i = 0;
  size_t j = 0;
  while (i < a.size() && j < b.size()) {
    if (!eq(a[i], b[j])) return false;
    const T& current = a[i];
    while (i < a.size() && eq(a[i], current)) ++i;
    while (j < b.size() && eq(b[j], current)) ++j;
  }
  return i == a.size() && j == b.size();
}

}  // namespace

std::string_view TypeName(Type t) {
  switch (t) {
    case Type::kS: return "S";
    case Type::kN: return "N";
    case Type::kB: return "B";
    case Type::kBool: return "BOOL";
    case Type::kNull: return "NULL";
    case Type::kM: return "M";
    case Type::kL: return "L";
    case Type::kSS: return "SS";
    case Type::kNS: return "NS";
    case Type::kBS: return "BS";
  }
  return "?";
}

Value Value::SS(std::vector<std::string> v) {
  std::sort(v.begin(), v.end(),
            [](const std::string& a, const std::string& b) { return CompareBytes(a, b) < 0; });
  return Value(Type::kSS, std::move(v));
}

Value Value::BS(std::vector<std::string> v) {
  std::sort(v.begin(), v.end(),
            [](const std::string& a, const std::string& b) { return CompareBytes(a, b) < 0; });
  return Value(Type::kBS, std::move(v));
}

Value Value::NS(std::vector<Number> v) {
  std::sort(v.begin(), v.end(), [](const Number& a, const Number& b) { return a < b; });
  return Value(Type::kNS, std::move(v));
}

bool Value::operator==(const Value& o) const {
  if (type_ != o.type_) return false;
  switch (type_) {
    case Type::kS:
    case Type::kB:
      return s() == o.s();
    case Type::kN:
      return n() == o.n();
    case Type::kBool:
      return boolean() == o.boolean();
    case Type::kNull:
      return true;
    case Type::kM: {
      const Map& a = m();
      const Map& b = o.m();
      if (a.size() != b.size()) return false;
      auto it = b.begin();
      for (const auto& [name, value] : a) {
        if (it->first != name || !(it->second == value)) return false;
        ++it;
      }
      return true;
    }
    case Type::kL: {
      const List& a = l();
      const List& b = o.l();
      if (a.size() != b.size()) return false;
      for (size_t i = 0; i < a.size(); ++i) {
        if (!(a[i] == b[i])) return false;
      }
      return true;
    }
    case Type::kSS:
    case Type::kBS:
      return SortedSetsEqual(strings(), o.strings(),
                             [](const std::string& x, const std::string& y) { return x == y; });
    case Type::kNS:
      return SortedSetsEqual(numbers(), o.numbers(),
                             [](const Number& x, const Number& y) { return x == y; });
  }
  return false;
}

int CompareScalar(const Value& a, const Value& b) {
  ET_ASSERT(a.type() == b.type());
  switch (a.type()) {
    case Type::kS:
    case Type::kB:
      return CompareBytes(a.s(), b.s());
    case Type::kN: {
      const int c = a.n().Compare(b.n());
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    default:
      ET_ASSERT(false && "CompareScalar needs S, N or B");
  }
  return 0;
}

}  // namespace edgetable::item
