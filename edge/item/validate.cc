#include "edge/item/validate.h"

#include <functional>
#include <string>

#include "edge/base/limits.h"
#include "edge/item/base64.h"

namespace edgetable::item {
namespace {

constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";
// Elements listed in a duplicates message, at most.
constexpr size_t kListedElementsMax = 16;

std::string At(std::string_view path) { return " (attribute " + std::string(path) + ")"; }

template <typename T, typename Show>
std::string ListElements(const std::vector<T>& v, Show show) {
  std::string out = "[";
  for (size_t i = 0; i < v.size() && i < kListedElementsMax; ++i) {
    if (i > 0) out += ", ";
    out += show(v[i]);
  }
  if (v.size() > kListedElementsMax) out += ", ...";
  return out + "]";
}

// Sets are kept sorted (value.h), so duplicates are neighbours.
template <typename T, typename Eq>
bool HasAdjacentDuplicates(const std::vector<T>& v, Eq eq) {
  for (size_t i = 1; i < v.size(); ++i) {
    if (eq(v[i - 1], v[i])) return true;
  }
  return false;
}

}  // namespace

int64_t NumberSize(const Number& n) {
  if (n.is_zero()) return 1;
  const auto digits = static_cast<int64_t>(n.digits().size());
  int64_t size = 1 + (digits + 1) / 2;
  if (digits % 2 == 0 && n.exponent() % 2 == 0) ++size;  // pairs straddle the base-100 digits
  if (n.negative()) ++size;
  return size;
}

int64_t ValueSize(const Value& v) {
  switch (v.type()) {
    case Type::kS:
    case Type::kB:
      return static_cast<int64_t>(v.s().size());
    case Type::kN:
      return NumberSize(v.n());
    case Type::kBool:
    case Type::kNull:
      return 1;
    case Type::kSS:
    case Type::kBS: {
      int64_t size = 0;
      for (const std::string& s : v.strings()) size += static_cast<int64_t>(s.size());
      return size;
    }
    case Type::kNS: {
      int64_t size = 0;
      for (const Number& n : v.numbers()) size += NumberSize(n);
      return size;
    }
    case Type::kM: {
      int64_t size = 3;
      for (const auto& [name, child] : v.m()) size += 1 + AttributeSize(name, child);
      return size;
    }
    case Type::kL: {
      int64_t size = 3;
      for (const Value& child : v.l()) size += 1 + ValueSize(child);
      return size;
    }
  }
  return 0;
}

int64_t AttributeSize(std::string_view name, const Value& v) {
  return static_cast<int64_t>(name.size()) + ValueSize(v);
}

int64_t ItemSize(const Item& item) {
  int64_t size = 0;
  for (const auto& [name, v] : item) size += AttributeSize(name, v);
  return size;
}

Status ValidateValue(const Value& v, std::string_view path, int level) {
  if (level > limits::kNestingDepthMax) {
    return Status::InvalidArgument(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
        "beyond supported limit" +
        At(path));
  }
  switch (v.type()) {
    case Type::kSS:
      if (v.strings().empty()) {
        return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                       "An string set  may not be empty" + At(path));
      }
      if (HasAdjacentDuplicates(v.strings(), std::equal_to<>())) {
        return Status::InvalidArgument(
            std::string(kInvalidPrefix) + "Input collection " +
            ListElements(v.strings(), [](const std::string& s) { return s; }) +
            " contains duplicates." + At(path));
      }
      return Status::Ok();
    case Type::kBS:
      if (v.strings().empty()) {
        return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                       "Binary sets should not be empty" + At(path));
      }
      if (HasAdjacentDuplicates(v.strings(), std::equal_to<>())) {
        return Status::InvalidArgument(
            std::string(kInvalidPrefix) + "Input collection " +
            ListElements(v.strings(), [](const std::string& s) { return Base64Encode(s); }) +
            "of type BS contains duplicates." + At(path));
      }
      return Status::Ok();
    case Type::kNS:
      if (v.numbers().empty()) {
        return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                       "An number set  may not be empty" + At(path));
      }
      if (HasAdjacentDuplicates(v.numbers(),
                                [](const Number& a, const Number& b) { return a == b; })) {
        return Status::InvalidArgument(
            std::string(kInvalidPrefix) + "Input collection " +
            ListElements(v.numbers(), [](const Number& n) { return n.ToString(); }) +
            " contains duplicates." + At(path));
      }
      return Status::Ok();
    case Type::kM:
      for (const auto& [name, child] : v.m()) {
        ET_RETURN_IF_ERROR(ValidateValue(child, std::string(path) + "." + name, level + 1));
      }
      return Status::Ok();
    case Type::kL: {
      const List& l = v.l();
      for (size_t i = 0; i < l.size(); ++i) {
        ET_RETURN_IF_ERROR(
            ValidateValue(l[i], std::string(path) + "[" + std::to_string(i) + "]", level + 1));
      }
      return Status::Ok();
    }
    default:
      return Status::Ok();
  }
}

Status ValidateItem(const Item& item, const KeySchema& schema) {
  for (const auto& [name, v] : item) {
    if (static_cast<int64_t>(name.size()) > limits::kAttributeNameBytesMax) {
      return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                     "Attribute name is too long, must be at most " +
                                     std::to_string(limits::kAttributeNameBytesMax) +
                                     " bytes" + At(name.substr(0, 64) + "..."));
    }
    ET_RETURN_IF_ERROR(ValidateValue(v, name));
  }
  ET_RETURN_IF_ERROR(ExtractKey(item, schema).status());
  if (ItemSize(item) > limits::kItemBytesMax) {
    return Status::InvalidArgument("Item size has exceeded the maximum allowed size");
  }
  return Status::Ok();
}

}  // namespace edgetable::item
