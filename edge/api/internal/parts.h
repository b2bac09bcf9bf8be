#pragma once
// Request parts shared by several operations: the table, the key, the
// condition (ConditionExpression or the legacy Expected), the projection
// (ProjectionExpression or AttributesToGet), the filter (FilterExpression or
// QueryFilter/ScanFilter), ReturnValues, ConsumedCapacity. Internal.

#include <optional>
#include <string>

#include "edge/api/internal/ops.h"
#include "edge/expr/ast.h"
#include "edge/expr/context.h"
#include "edge/expr/expr.h"

namespace edgetable::api::internal {

// The table, or ResourceNotFoundException "Requested resource not found".
Result<storage::TableInfo> LookupTable(OpEnv& env, const std::string& name);

// request[member] as a key of `schema`: exactly its key attributes, of the
// right types; otherwise DynamoDB's "The provided key element does not match
// the schema".
Result<item::Map> ParseKey(const Json& request, std::string_view member,
                           const item::KeySchema& schema);

// ConditionExpression, or Expected + ConditionalOperator (not both).
Result<std::optional<expr::Condition>> ParseConditionParam(const Json& request,
                                                           expr::ExpressionContext& ctx);

// FilterExpression, or the legacy `legacy_member` (QueryFilter / ScanFilter)
// + ConditionalOperator.
Result<std::optional<expr::Condition>> ParseFilterParam(const Json& request,
                                                        std::string_view legacy_member,
                                                        expr::ExpressionContext& ctx);

// ProjectionExpression, or AttributesToGet (not both).
Result<std::optional<expr::Projection>> ParseProjectionParam(const Json& request,
                                                             expr::ExpressionContext& ctx);

// The legacy KeyConditions of a Query, validated against the schema.
Result<expr::KeyCondition> ParseLegacyKeyConditions(const Json& key_conditions,
                                                    const item::KeySchema& schema);

// The legacy AttributeUpdates of an UpdateItem as an update expression.
Result<expr::UpdateExpression> ParseAttributeUpdates(const Json& updates);

// ReturnConsumedCapacity: when TOTAL or INDEXES, adds "ConsumedCapacity" to
// `out` for `units` capacity units on `table`.
Status AddConsumedCapacity(const Json& request, const std::string& table, double units, Json* out);

// Capacity units: writes 1 per KB (rounded up), reads 0.5 per 4 KB
// (eventually consistent) or 1 per 4 KB (consistent).
double WriteUnits(const item::Item* a, const item::Item* b);
double ReadUnits(int64_t bytes, bool consistent);

// Evaluates a caller's condition (none: always true) against the current
// item (nullptr: no item, evaluated as {}). When it is false, copies the
// current item into *seen (for ReturnValuesOnConditionCheckFailure) and
// returns kConditionFailed. Runs inside a MutateFn, on the writer thread.
Status CheckCondition(const std::optional<expr::Condition>& cond, const item::Item* current,
                      std::optional<item::Item>* seen);

// kInvalidArgument when an update writes a key attribute (DynamoDB's message).
Status CheckNotKeyUpdate(const expr::UpdateExpression& update, const item::KeySchema& schema);

// An item (or none) as the "Item"/"Attributes" JSON.
Json ItemJson(const item::Item& item);

}  // namespace edgetable::api::internal
