#pragma once
// DynamoDB JSON <-> Value, and plain JSON sensor payloads -> Value.
//
// edge/item is EdgeTable's one door to the JSON library: this header exposes
// nlohmann::json (linked PUBLIC) so that the API module can build requests
// and responses with it; no other module includes the library directly.
// No exception escapes these functions: the library's exceptions are caught
// here and become a Status.
//
// DynamoDB JSON: an attribute value is an object with exactly one type key:
//   {"S":"x"} {"N":"1.5"} {"B":"<base64>"} {"BOOL":true} {"NULL":true}
//   {"M":{"name":<value>,...}} {"L":[<value>,...]}
//   {"SS":["a"]} {"NS":["1"]} {"BS":["<base64>"]}
// Decoding checks the shape and the scalar syntax (numbers, base64) and the
// nesting depth (limits::kNestingDepthMax, so that hostile input cannot
// exhaust the stack); DynamoDB's set and size rules are validate.h's job.
// Errors are kInvalidArgument with DynamoDB's wording where it has one,
// followed by the attribute path, e.g.
//   "Supplied AttributeValue has more than one datatypes set, must contain
//    exactly one of the supported datatypes (attribute a.b[0])"
//   "One or more parameter values were invalid: Null attribute value types
//    must have the value of true (attribute flag)"
//   "The parameter cannot be converted to a numeric value: abc (attribute t)"
//
// Threads: pure functions.

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edge/base/status.h"
#include "edge/item/value.h"

namespace edgetable::item {

// Parses JSON text (RFC 8259, UTF-8 checked). Returns kInvalidArgument
// naming the 0-based byte offset where parsing failed (the length of the
// text for a premature end), e.g. "Invalid JSON at byte 17: ...".
Result<nlohmann::json> ParseJson(std::string_view text);

// ParseJson for a request body that carries an item or a key in its
// top-level member `member` (PutItem's "Item", GetItem's "Key"): when that
// member is an object of attribute values ItemFromJson accepts, it is
// decoded straight into *taken, without a tree, and the returned tree holds
// an empty object in its place; *taken then equals what ItemFromJson would
// have made of the member. Otherwise *taken is left empty and the result is
// exactly ParseJson's (the caller decodes the member, errors included, as
// before).
Result<nlohmann::json> ParseJsonTakingItem(std::string_view text, std::string_view member,
                                           std::optional<Item>* taken);

// One DynamoDB JSON attribute value. `path` names it in error messages.
Result<Value> ValueFromJson(const nlohmann::json& j, std::string_view path = "value");

// An object of attribute name -> DynamoDB JSON attribute value.
// Returns kInvalidArgument if j is not an object or any value is invalid.
Result<Item> ItemFromJson(const nlohmann::json& j);

// DynamoDB JSON for a value / an item, as DynamoDB returns it: N in plain
// notation (number.h), B/BS base64, sets in canonical order.
nlohmann::json ValueToJson(const Value& v);
nlohmann::json ItemToJson(const Item& item);

// Direct writers: append the JSON text of a string / value / item to *out,
// byte for byte what ValueToJson / ItemToJson followed by
// nlohmann::json::dump(-1, ' ', false, error_handler_t::replace) produce
// (members in name order, the same escaping: \" \\ \b \f \n \r \t, other
// control characters as \u00xx, non-ASCII UTF-8 kept as is, invalid UTF-8
// replaced by U+FFFD), without building a JSON tree. For response bodies.
void AppendJsonString(std::string_view s, std::string* out);
void AppendValueJson(const Value& v, std::string* out);
void AppendItemJson(const Item& item, std::string* out);

// Plain JSON (a sensor payload) -> Value with exact numbers:
//   object -> M, array -> L, string -> S, true/false -> BOOL, null -> NULL,
//   number -> N taken from its exact source text, never through a double
//   (integers beyond 64 bits and long fractions stay exact).
// Returns kInvalidArgument:
//   - "Invalid JSON at byte <offset>: <reason>" for malformed text (0-based
//     offset of the byte where parsing failed);
//   - Number's messages (number.h) plus the JSON path for a number DynamoDB
//     cannot store (more than 38 significant digits, out of range);
//   - for an object with a duplicate key, naming the key and its path;
//   - for nesting deeper than limits::kNestingDepthMax + 1 (the root value
//     counts as level 0, its members as level 1).
Result<Value> ValueFromPlainJson(std::string_view text);

}  // namespace edgetable::item
