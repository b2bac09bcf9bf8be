#pragma once
// Key schemas and the order-preserving key encoding.
//
// A table's key is a partition key and an optional sort key, each of type S,
// N or B. Each key value is stored in its own SQLite BLOB column, encoded so
// that memcmp order of encodings equals DynamoDB's order of values:
//   S -> its UTF-8 bytes;  B -> its bytes;  N -> see key.cc (sign, exponent,
//   digits arranged so that byte order is numeric order).
// Invariant (tests/edge/item/key_test.cc property test):
//   (1) sign(memcmp(Encode(a), Encode(b))) == sign(CompareScalar(a, b)).
//   (2) Decode(Encode(v)) == v.
// Threads: pure functions.

#include <optional>
#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/value.h"

namespace edgetable::item {

struct KeyAttribute {
  std::string name;
  Type type = Type::kS;  // kS, kN or kB
  bool operator==(const KeyAttribute&) const = default;
};

struct KeySchema {
  KeyAttribute partition;
  std::optional<KeyAttribute> sort;
  bool operator==(const KeySchema&) const = default;
};

// Order-preserving encoding of one key value.
// Returns kInvalidArgument if v is not S, N or B, or is an empty S/B
// (DynamoDB rejects empty key values).
Result<std::string> EncodeKeyValue(const Value& v);

// Inverse of EncodeKeyValue. Returns kCorruption if bytes are not a valid
// encoding of type t.
Result<Value> DecodeKeyValue(std::string_view bytes, Type t);

// The encoded key of an item under a schema.
struct EncodedKey {
  std::string partition;
  std::string sort;  // empty when the schema has no sort key
  bool operator==(const EncodedKey&) const = default;
};

// Extracts and encodes the key attributes of an item (or of a key-only map).
// Returns kInvalidArgument naming the attribute when a key attribute is
// missing, has the wrong type, is empty, or is over its size limit
// (2048 bytes partition, 1024 bytes sort); also when `key_only` is set and
// the map has attributes that are not in the schema.
Result<EncodedKey> ExtractKey(const Map& item, const KeySchema& schema, bool key_only = false);

// The key attributes of `item` alone (for KEYS_ONLY images, LastEvaluatedKey).
Map KeyOf(const Map& item, const KeySchema& schema);

}  // namespace edgetable::item
