#pragma once
// Helpers for the edge/expr tests: items and values from DynamoDB JSON text,
// and a compact rendering of parsed conditions for grammar tests.

#include <string>
#include <string_view>

#include "edge/expr/ast.h"
#include "edge/expr/context.h"
#include "edge/item/value.h"

namespace edgetable::expr::testing {

// An item (or a map of placeholders to values) from DynamoDB JSON; a test
// failure if the text is not valid.
item::Item ItemOf(std::string_view json);
ValueMap ValuesOf(std::string_view json);
item::Value ValueOf(std::string_view json);

// DynamoDB JSON of an item, and the same normalisation of expected text.
std::string Dump(const item::Item& item);
std::string Canon(std::string_view json);

// "(OR (= a :1) (AND ...))": paths as written, constants as DynamoDB JSON.
std::string Show(const Condition& c);
std::string Show(const Operand& o);

}  // namespace edgetable::expr::testing
