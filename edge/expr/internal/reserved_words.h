#pragma once
// DynamoDB's reserved words: a bare attribute name in an expression must not
// be one of them (case-insensitive); a `#name` placeholder must be used instead.
// Threads: pure function.

#include <string_view>

namespace edgetable::expr::internal {

// True if `word` is a DynamoDB reserved word, ignoring ASCII case.
bool IsReservedWord(std::string_view word);

}  // namespace edgetable::expr::internal
