#pragma once
// DynamoDB's rules for attribute values and items, and DynamoDB's item size.
//
// Value (value.h) can hold anything; these functions say whether it is
// something DynamoDB would store:
//   - SS, NS, BS are non-empty and hold no duplicates (NS compared
//     numerically: "1" and "1.0" are duplicates);
//   - M/L nesting: the value of a top-level attribute is level 1, each M or L
//     puts its elements one level deeper, and no value may sit deeper than
//     limits::kNestingDepthMax (32) -- DynamoDB accepts 31 nested maps around
//     a scalar and rejects 32;
//   - the item's size (ItemSize) is at most limits::kItemBytesMax;
//   - key attributes are present, of the schema's type, non-empty and within
//     their size limits (key.h, ExtractKey). Empty S and B are allowed in
//     non-key attributes.
// Numbers are checked where they are made (Number::Parse, Add, FromParts).
//
// Errors are kInvalidArgument with DynamoDB's ValidationException message,
// followed by the attribute path in the form " (attribute a.b[2])" where it
// helps to find the culprit, e.g.
//   "One or more parameter values were invalid: An string set  may not be
//    empty (attribute tags)"
//   "One or more parameter values were invalid: Input collection [a, a]
//    contains duplicates. (attribute tags)"
//   "Nesting Levels have exceeded supported limits: Attributes in the item
//    have nested levels beyond supported limit (attribute a.b...)"
//   "Item size has exceeded the maximum allowed size"
//   "One or more parameter values were invalid: Missing the key device in the
//    item"
// Threads: pure functions.

#include <cstdint>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/key.h"
#include "edge/item/value.h"

namespace edgetable::item {

// Size rules, DynamoDB developer guide "Item sizes and formats":
//   S: UTF-8 bytes.  B: raw bytes.  BOOL, NULL: 1.
//   N: DynamoDB stores a number as an exponent byte plus its significant
//      digits in base 100, and a negative number one terminator byte more;
//      so 1 + ceil(digits / 2), + 1 when the digit count is even and the
//      pairs do not line up with the decimal exponent, + 1 if negative
//      (zero is 1). "About 1 byte per two significant digits, + 1 byte".
//   SS, BS, NS: the sum of the element sizes.
//   M, L: 3 + for each element 1 + its size (+ the name bytes in an M).
int64_t NumberSize(const Number& n);
int64_t ValueSize(const Value& v);
// UTF-8 bytes of the name + ValueSize(v).
int64_t AttributeSize(std::string_view name, const Value& v);
// Sum of AttributeSize over the attributes.
int64_t ItemSize(const Item& item);

// Checks a value against the set and nesting rules. `path` names the value
// in messages (a top-level attribute name, or "a.b[1]"); `level` is the
// nesting level of `v` itself (1 for a top-level attribute's value).
// Returns kInvalidArgument (messages above) naming the path of the culprit.
Status ValidateValue(const Value& v, std::string_view path, int level = 1);

// Checks every attribute (ValidateValue, and names of at most
// limits::kAttributeNameBytesMax bytes), the key attributes (ExtractKey
// rules) and the size limit. Returns the first problem found, as
// kInvalidArgument: attribute values first (DynamoDB checks them while
// reading the request), then key attributes, then "Item size has exceeded
// the maximum allowed size".
Status ValidateItem(const Item& item, const KeySchema& schema);

}  // namespace edgetable::item
