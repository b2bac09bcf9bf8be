#pragma once
// Helpers shared by the evaluators.
// Threads: pure functions.

#include <cstdint>
#include <optional>
#include <string_view>

#include "edge/item/value.h"

namespace edgetable::expr::internal {

// Length of UTF-8 text in UTF-16 code units: the "length of the string" that
// DynamoDB's size() returns (a character past U+FFFF counts 2).
size_t Utf16Length(std::string_view s);

// What size() returns: UTF-16 length of an S, bytes of a B, elements of a set,
// L or M; nullopt for N, BOOL and NULL (size() of them is absent).
std::optional<int64_t> SizeOf(const item::Value& v);

}  // namespace edgetable::expr::internal
