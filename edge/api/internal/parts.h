#pragma once
// Request parts shared by several operations: the table, the key, the
// condition (ConditionExpression or the legacy Expected), the projection
// (ProjectionExpression or AttributesToGet), the filter (FilterExpression or
// QueryFilter/ScanFilter), ReturnValues, ConsumedCapacity. Internal.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "edge/api/internal/ops.h"
#include "edge/api/internal/table_cache.h"
#include "edge/expr/ast.h"
#include "edge/expr/context.h"
#include "edge/expr/expr.h"

namespace edgetable::api::internal {

// The table's keys (from env.tables), or ResourceNotFoundException
// "Requested resource not found".
Result<TableKeys> LookupTable(OpEnv& env, const std::string& name);

// request[member] as a key of `schema`: exactly its key attributes, of the
// right types; otherwise DynamoDB's "The provided key element does not match
// the schema".
// `taken`: the key already decoded by the body parser (OpEnv::taken_item),
// used instead of the tree when set.
Result<item::Map> ParseKey(const Json& request, std::string_view member,
                           const item::KeySchema& schema, std::optional<item::Item>* taken = nullptr);

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

// ReturnConsumedCapacity: when TOTAL or INDEXES, the "ConsumedCapacity"
// member's value for `units()` capacity units on `table`; nullopt for NONE.
// `units` is called only when the member is asked for (item sizes cost).
Result<std::optional<Json>> ConsumedCapacity(const Json& request, const std::string& table,
                                             const std::function<double()>& units);

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

// Writes a reply object as text, member by member, for the operations whose
// replies carry items (no tree per item). Callers add the members in name
// order, the order the tree kept, so that the bytes are the tree's dump.
class ObjectWriter {
 public:
  ObjectWriter() { text_.push_back('{'); }
  // Starts member `name` (a plain ASCII name) and returns the text to append
  // its value to.
  std::string* Member(std::string_view name) {
    if (text_.size() > 1) text_.push_back(',');
    text_.push_back('"');
    text_.append(name);
    text_.append("\":");
    return &text_;
  }
  void Tree(std::string_view name, const Json& value) {
    Member(name)->append(value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
  }
  void Int(std::string_view name, int64_t value) { Member(name)->append(std::to_string(value)); }
  JsonText Finish() && {
    text_.push_back('}');
    return JsonText{std::move(text_)};
  }

 private:
  std::string text_;
};

}  // namespace edgetable::api::internal
