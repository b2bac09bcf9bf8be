#pragma once
// edge/expr: DynamoDB's expression language, parsed once and evaluated on items.
//
// Parsing turns the text of a ConditionExpression, FilterExpression,
// KeyConditionExpression, ProjectionExpression or UpdateExpression into the
// values of edge/expr/ast.h, resolving placeholders through the request's
// ExpressionContext (edge/expr/context.h). Evaluation applies them to items.
//
// How the API layer uses it, per operation (one ExpressionContext per
// request, or per TransactWriteItems element; ctx.CheckAllUsed() after the
// last parse):
//   PutItem / DeleteItem   ParseCondition(kCondition) -> EvaluateCondition(old item or {})
//   UpdateItem             ParseUpdate, ParseCondition(kCondition) ->
//                          EvaluateCondition(old or {}), ApplyUpdate(old or {}) -> new item
//                          (then key and size validation of the new item)
//   GetItem / BatchGet     ParseProjection -> Project(item)
//   Query                  ParseKeyCondition(schema) -> storage range;
//                          ParseCondition(kFilter) -> EvaluateCondition per item;
//                          ParseProjection -> Project per returned item
//   Scan                   ParseCondition(kFilter), ParseProjection
//
// Errors: every parse error is kInvalidArgument with DynamoDB's message, which
// the API returns as a ValidationException. Messages about one expression are
// prefixed "Invalid <Kind>: " as DynamoDB does, e.g.
//   Invalid ConditionExpression: Syntax error; token: "=", near: "= = :v"
//   Invalid UpdateExpression: Attribute name is a reserved keyword; reserved keyword: status
// (a syntax error names the offending token, "<EOF>" at the end, and the text
// from the token before it through the token after it).
// Evaluation errors (ApplyUpdate) carry no prefix, as in DynamoDB.
// Threads: pure functions; parsed expressions may be evaluated concurrently.

#include <string_view>

#include "edge/base/status.h"
#include "edge/expr/ast.h"
#include "edge/expr/context.h"
#include "edge/item/key.h"
#include "edge/item/value.h"

namespace edgetable::expr {

// --- Parsing ---------------------------------------------------------------
// Each returns kInvalidArgument for: an empty expression; an expression over
// limits::kExpressionBytesMax; a syntax error; a reserved word used as a bare
// name; an undefined placeholder; a document path deeper than
// limits::kNestingDepthMax; parentheses nested deeper than 128 or directly
// doubled ("((x))"); a function used where it is not allowed, with the wrong
// number of operands, with the same path twice, or with a constant operand of
// the wrong type. As DynamoDB, the whole text is checked for syntax first,
// then for reserved words, then for undefined placeholders, then the rest;
// the first error of the earliest check is returned.

// ConditionExpression or FilterExpression (same grammar), kind names the
// parameter in messages. REQUIRES: kind is kCondition or kFilter.
// Also rejects: IN with more than 100 values; BETWEEN with constant bounds in
// the wrong order or of different types; <, <=, >, >=, BETWEEN with a
// constant that is not S, N or B; an operator whose first operand (a path)
// reappears among the others (`a = a`); attribute_type with an unknown type
// name; size() of a constant without a size.
Result<Condition> ParseCondition(std::string_view text, ExprKind kind, ExpressionContext& ctx);

// UpdateExpression: SET, REMOVE, ADD, DELETE, each at most once, in any order.
// Also rejects: two target paths that overlap or conflict; ADD with a
// constant that is not a number or set; DELETE with a constant that is not a
// set; size() and condition functions in SET.
Result<UpdateExpression> ParseUpdate(std::string_view text, ExpressionContext& ctx);

// ProjectionExpression: comma-separated document paths, none overlapping.
Result<Projection> ParseProjection(std::string_view text, ExpressionContext& ctx);

// KeyConditionExpression, validated against the table's (or index's) schema:
// `pk = :v` and optionally AND one sort key condition (=, <, <=, >, >=,
// BETWEEN, begins_with); the key may stand on either side of a comparison.
// Besides the parse errors above, returns kInvalidArgument (DynamoDB's
// messages, without the "Invalid KeyConditionExpression: " prefix):
//   "Invalid operator used in KeyConditionExpression: OR"   (also NOT, IN, <>,
//       contains, attribute_exists, attribute_not_exists, attribute_type)
//   "Query key condition not supported"  (a non-equality on the partition key)
//   "Query condition missed key schema element: <name>"  (no partition key
//       condition, or a condition on a non-key attribute)
//   "KeyConditionExpressions must only contain one condition per key"
//   "KeyConditionExpressions cannot contain nested operations"  (size())
//   "Invalid condition in KeyConditionExpression: Multiple attribute names used
//    in one condition"
//   "Key attributes must be scalars; list random access '[]' and map lookup '.'
//    are not allowed: Key: <name>"
//   "One or more parameter values were invalid: Condition parameter type does
//    not match schema type"
//   "One or more parameter values are not valid. The AttributeValue for a key
//    attribute cannot contain an empty string value. Key: <name>"
Result<KeyCondition> ParseKeyCondition(std::string_view text, const item::KeySchema& schema,
                                       ExpressionContext& ctx);

// --- Evaluation ------------------------------------------------------------

// Whether `item` satisfies `cond`. A missing item is the empty map. Type
// mismatches make a comparison or function false, never an error (DynamoDB):
// = needs equal type and value; <> is true unless both sides exist and are
// equal; <, <=, >, >=, BETWEEN compare S, N or B of the same type only.
bool EvaluateCondition(const Condition& cond, const item::Item& item);

// The value at `path` in `item`, or nullptr. The pointer is into `item`.
const item::Value* ResolvePath(const item::Item& item, const Path& path);

// The item after applying `update` to `item` (a missing item is {}). All
// operands read the original item. Returns kInvalidArgument:
//   "The provided expression refers to an attribute that does not exist in the item"
//       (a path operand of +, -, list_append, or of SET itself, is absent)
//   "An operand in the update expression has an incorrect data type"
//       (+/- on non-numbers, list_append on non-lists, ADD/DELETE type mismatch)
//   "The document path provided in the update expression is invalid for update"
//       (the parent of a nested target is absent or not a map/list as the
//        path needs)
//   or Number's error when a sum leaves the number range.
// The key attributes and the size of the result are not checked here.
Result<item::Item> ApplyUpdate(const UpdateExpression& update, const item::Item& item);

// The attributes of `item` selected by `projection`. Nested paths keep their
// structure (only the selected parts of maps); selected list elements are
// kept in index order, compacted. Absent paths are left out.
item::Item Project(const Projection& projection, const item::Item& item);

// Whether a sort key value satisfies `cond` (for the storage layer, when it
// filters in memory rather than by key range).
bool SortKeyMatches(const SortCondition& cond, const item::Value& sort_value);

}  // namespace edgetable::expr
