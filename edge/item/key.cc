#include "edge/item/key.h"

#include "edge/base/limits.h"

// Number key encoding (order-preserving; memcmp order == numeric order):
//
//   zero:      0x02
//   positive:  0x03, E, P1 ... Pk
//   negative:  0x01, 255 - E, 99 - P1 ... 99 - Pk, 0xFF
//
// E = exponent - kNumberExponentMin, which is 0..255 because the exponent
// (number.h's scientific convention) is -130..125. The significant digits are
// packed two per byte, Pi = 10 * d(2i-1) + d(2i) in 0..99, an odd count padded
// with a 0 digit (a normalised number never ends in 0, so the pad is
// unambiguous). For positives a longer digit string with the same prefix is
// larger and memcmp already ranks a prefix first. Negatives invert the
// exponent and every digit byte so larger magnitudes sort first, and end with
// 0xFF (above any inverted digit byte, which is <= 99) so that a prefix, the
// smaller magnitude, sorts after its extensions.
// Maximum length: 1 + 1 + 19 + 1 = 22 bytes.

namespace edgetable::item {
namespace {

constexpr uint8_t kNegativeTag = 0x01;
constexpr uint8_t kZeroTag = 0x02;
constexpr uint8_t kPositiveTag = 0x03;
constexpr uint8_t kNegativeEnd = 0xFF;

static_assert(limits::kNumberExponentMax - limits::kNumberExponentMin == 255,
              "the number key encoding keeps the exponent in one byte");

constexpr std::string_view kInvalidPrefix = "One or more parameter values were invalid: ";

std::string EncodeNumber(const Number& n) {
  std::string out;
  if (n.is_zero()) {
    out.push_back(static_cast<char>(kZeroTag));
    return out;
  }
  const bool neg = n.negative();
  const auto e = static_cast<uint8_t>(n.exponent() - limits::kNumberExponentMin);
  out.push_back(static_cast<char>(neg ? kNegativeTag : kPositiveTag));
  out.push_back(static_cast<char>(neg ? 255 - e : e));
  const std::string& d = n.digits();
  for (size_t i = 0; i < d.size(); i += 2) {
    const int hi = d[i] - '0';
    const int lo = i + 1 < d.size() ? d[i + 1] - '0' : 0;
    const int pair = hi * 10 + lo;
    out.push_back(static_cast<char>(neg ? 99 - pair : pair));
  }
  if (neg) out.push_back(static_cast<char>(kNegativeEnd));
  return out;
}

Result<Number> DecodeNumber(std::string_view bytes) {
  const auto bad = [] { return Status::Corruption("invalid number key encoding"); };
  if (bytes.empty()) return bad();
  const auto tag = static_cast<uint8_t>(bytes[0]);
  if (tag == kZeroTag) {
    if (bytes.size() != 1) return bad();
    return Number();
  }
  if (tag != kPositiveTag && tag != kNegativeTag) return bad();
  const bool neg = tag == kNegativeTag;
  size_t end = bytes.size();
  if (neg) {
    if (end < 4 || static_cast<uint8_t>(bytes[end - 1]) != kNegativeEnd) return bad();
    --end;
  } else if (end < 3) {
    return bad();
  }
  const auto e_byte = static_cast<uint8_t>(bytes[1]);
  const int32_t exponent = (neg ? 255 - e_byte : e_byte) + limits::kNumberExponentMin;
  std::string digits;
  for (size_t i = 2; i < end; ++i) {
    const auto b = static_cast<uint8_t>(bytes[i]);
    if (b > 99) return bad();
    const int pair = neg ? 99 - b : b;
    digits.push_back(static_cast<char>('0' + pair / 10));
    digits.push_back(static_cast<char>('0' + pair % 10));
  }
  if (digits.back() == '0') digits.pop_back();  // the pad of an odd count
  auto n = Number::FromParts(neg, std::move(digits), exponent);
  if (!n.ok()) return bad();
  // Exactly one encoding per number: reject anything that does not re-encode
  // to the same bytes (e.g. a pad digit that hid a real trailing zero).
  if (EncodeNumber(*n) != bytes) return bad();
  return n;
}

// The size DynamoDB's key limits count.
int64_t KeyBytes(const std::string& encoded) { return static_cast<int64_t>(encoded.size()); }

Result<std::string> EncodeKeyAttribute(const Map& item, const KeyAttribute& attr, bool partition,
                                       bool key_only) {
  auto it = item.find(attr.name);
  if (it == item.end()) {
    if (key_only) return Status::InvalidArgument("The provided key element does not match the schema");
    return Status::InvalidArgument(std::string(kInvalidPrefix) + "Missing the key " + attr.name +
                                   " in the item");
  }
  const Value& v = it->second;
  if (v.type() != attr.type) {
    if (key_only) return Status::InvalidArgument("The provided key element does not match the schema");
    return Status::InvalidArgument(std::string(kInvalidPrefix) + "Type mismatch for key " +
                                   attr.name + " expected: " + std::string(TypeName(attr.type)) +
                                   " actual: " + std::string(TypeName(v.type())));
  }
  if ((v.is(Type::kS) || v.is(Type::kB)) && v.s().empty()) {
    return Status::InvalidArgument(
        std::string(kInvalidPrefix) + "The AttributeValue for a key attribute cannot contain an empty " +
        (v.is(Type::kS) ? "string" : "binary") + " value. Key: " + attr.name);
  }
  ET_ASSIGN_OR_RETURN(std::string encoded, EncodeKeyValue(v));
  if (partition && KeyBytes(encoded) > limits::kPartitionKeyBytesMax) {
    return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                   "Size of hashkey has exceeded the maximum size limit of" +
                                   std::to_string(limits::kPartitionKeyBytesMax) +
                                   " bytes; key: " + attr.name);
  }
  if (!partition && KeyBytes(encoded) > limits::kSortKeyBytesMax) {
    return Status::InvalidArgument(std::string(kInvalidPrefix) +
                                   "Aggregated size of all range keys has exceeded the size limit of " +
                                   std::to_string(limits::kSortKeyBytesMax) +
                                   " bytes; key: " + attr.name);
  }
  return encoded;
}

}  // namespace

Result<std::string> EncodeKeyValue(const Value& v) {
  switch (v.type()) {
    case Type::kS:
    case Type::kB:
      if (v.s().empty()) {
        return Status::InvalidArgument(
            std::string(kInvalidPrefix) + "The AttributeValue for a key attribute cannot contain an empty " +
            (v.is(Type::kS) ? "string" : "binary") + " value");
      }
      return v.s();
    case Type::kN:
      return EncodeNumber(v.n());
    default:
      return Status::InvalidArgument("A key value must be of type S, N or B, not " +
                                     std::string(TypeName(v.type())));
  }
}

Result<Value> DecodeKeyValue(std::string_view bytes, Type t) {
  switch (t) {
    case Type::kS:
    case Type::kB:
      if (bytes.empty()) return Status::Corruption("empty key value");
      return t == Type::kS ? Value::S(std::string(bytes)) : Value::B(std::string(bytes));
    case Type::kN: {
      ET_ASSIGN_OR_RETURN(Number n, DecodeNumber(bytes));
      return Value::N(std::move(n));
    }
    default:
      return Status::Corruption("key type must be S, N or B, not " + std::string(TypeName(t)));
  }
}

Result<EncodedKey> ExtractKey(const Map& item, const KeySchema& schema, bool key_only) {
  EncodedKey key;
  ET_ASSIGN_OR_RETURN(key.partition, EncodeKeyAttribute(item, schema.partition, true, key_only));
  if (schema.sort) {
    ET_ASSIGN_OR_RETURN(key.sort, EncodeKeyAttribute(item, *schema.sort, false, key_only));
  }
  if (key_only) {
    const size_t expected = schema.sort ? 2 : 1;
    if (item.size() != expected) {
      return Status::InvalidArgument("The provided key element does not match the schema");
    }
  }
  return key;
}

Map KeyOf(const Map& item, const KeySchema& schema) {
  Map out;
  if (auto it = item.find(schema.partition.name); it != item.end()) out.insert(*it);
  if (schema.sort) {
    if (auto it = item.find(schema.sort->name); it != item.end()) out.insert(*it);
  }
  return out;
}

}  // namespace edgetable::item
