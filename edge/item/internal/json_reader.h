#pragma once
// A fast path for ParseJson (json.h). Internal to edge/item.
//
// Parses the common shapes of request bodies straight into a nlohmann::json
// tree, without the library's lexer (which copies every byte of every token
// twice). It accepts only a subset of JSON: anything else, or anything
// malformed, makes it give up, and ParseJson parses the text again with the
// library, so errors, their byte offsets and the odd forms (floats, integers
// beyond 64 bits, duplicate keys, deep nesting, a byte-order mark) keep the
// library's behaviour exactly. For what it accepts, the tree is the one the
// library builds (the same value types: non-negative integers unsigned,
// negative ones signed).
// Threads: pure function.

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "edge/item/value.h"

namespace edgetable::item::internal {

// True with *out set when `text` is in the subset; false (and *out
// unspecified) otherwise.
bool FastParseJson(std::string_view text, nlohmann::json* out);

// The same, and when `text` is an object whose member `member` is an object
// of attribute values that ItemFromJson would accept, that member is decoded
// straight into *taken (equal to what ItemFromJson would give) and *out holds
// an empty object in its place. Any attribute value ItemFromJson would
// refuse makes the whole call return false (ParseJson then parses with the
// library, and the caller converts the tree, errors included, as before).
// *taken is unspecified when false is returned.
bool FastParseJsonTakingItem(std::string_view text, std::string_view member, nlohmann::json* out,
                             std::optional<Item>* taken);

}  // namespace edgetable::item::internal
