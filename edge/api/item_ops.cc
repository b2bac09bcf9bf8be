// Single-item operations: PutItem, GetItem, UpdateItem, DeleteItem.

#include "edge/api/internal/parts.h"
#include "edge/item/validate.h"

namespace edgetable::api::internal {
namespace {

// ReturnValuesOnConditionCheckFailure=ALL_OLD puts the current item in the
// ConditionalCheckFailedException.
ApiError ConditionFailedError(const std::optional<item::Item>& current, bool return_old) {
  ApiError e = MakeError(error_type::kConditionalCheckFailed, "The conditional request failed");
  if (return_old && current) e.extra["Item"] = ItemJson(*current);
  return e;
}

// The paths an update writes, as a projection (for UPDATED_OLD/UPDATED_NEW).
expr::Projection UpdatedPaths(const expr::UpdateExpression& u) {
  expr::Projection p;
  for (const expr::UpdateAction& a : u.actions) p.paths.push_back(a.path);
  return p;
}


}  // namespace

Reply PutItem(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string table, TableName(req));
  const Json* item_json = Member(req, "Item");
  if (item_json == nullptr) return MissingParameter("Item");
  ET_ASSIGN_OR_RETURN(std::string return_values, Enum(req, "ReturnValues", {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"}, "NONE"));
  if (return_values != "NONE" && return_values != "ALL_OLD") {
    return Status::InvalidArgument("ReturnValues can only be ALL_OLD or NONE");
  }
  ET_ASSIGN_OR_RETURN(std::string on_fail, Enum(req, "ReturnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, "NONE"));
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  ET_ASSIGN_OR_RETURN(std::optional<expr::Condition> cond, ParseConditionParam(req, ctx));
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  item::Item item;
  if (env.taken_item != nullptr && env.taken_item->has_value()) {
    item = std::move(**env.taken_item);  // decoded with the body
    env.taken_item->reset();
  } else {
    ET_ASSIGN_OR_RETURN(item, AttributeMap(*item_json, "Item"));
  }
  ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
  ET_RETURN_IF_ERROR(item::ValidateItem(item, info.key_schema));

  std::optional<item::Item> seen;  // the current item when the condition failed
  storage::Write w;
  w.table = table;
  w.key = item::KeyOf(item, info.key_schema);
  w.fn = [&](const item::Item* current) -> Result<storage::Decision> {
    ET_RETURN_IF_ERROR(CheckCondition(cond, current, &seen));
    return storage::Decision::Put(item);
  };
  Result<storage::WriteOutcome> out = env.storage->Apply(std::move(w));
  if (!out.ok()) {
    if (out.status().code() == Status::Code::kConditionFailed) return ConditionFailedError(seen, on_fail == "ALL_OLD");
    return out.status();
  }
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc,
                      ConsumedCapacity(req, table, [&] { return WriteUnits(out->old_item ? &*out->old_item : nullptr, &item); }));
  ObjectWriter resp;
  if (return_values == "ALL_OLD" && out->old_item) item::AppendItemJson(*out->old_item, resp.Member("Attributes"));
  if (cc) resp.Tree("ConsumedCapacity", *cc);
  return std::move(resp).Finish();
}

Reply GetItem(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string table, TableName(req));
  ET_ASSIGN_OR_RETURN(std::optional<bool> consistent, OptBool(req, "ConsistentRead"));
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  ET_ASSIGN_OR_RETURN(std::optional<expr::Projection> projection, ParseProjectionParam(req, ctx));
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
  ET_ASSIGN_OR_RETURN(item::Map key, ParseKey(req, "Key", info.key_schema, env.taken_item));
  ET_ASSIGN_OR_RETURN(std::optional<item::Item> found, env.storage->Get(table, key));
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc, ConsumedCapacity(req, table, [&] {
                        return ReadUnits(found ? item::ItemSize(*found) : 0, consistent.value_or(false));
                      }));
  ObjectWriter resp;
  if (cc) resp.Tree("ConsumedCapacity", *cc);
  if (found) {
    if (projection) {
      item::AppendItemJson(expr::Project(*projection, *found), resp.Member("Item"));
    } else {
      item::AppendItemJson(*found, resp.Member("Item"));
    }
  }
  return std::move(resp).Finish();
}

Reply UpdateItem(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string table, TableName(req));
  ET_ASSIGN_OR_RETURN(std::string return_values, Enum(req, "ReturnValues", {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"}, "NONE"));
  ET_ASSIGN_OR_RETURN(std::string on_fail, Enum(req, "ReturnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, "NONE"));
  ET_RETURN_IF_ERROR(CheckNotBoth(req, "AttributeUpdates", "UpdateExpression"));
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  expr::UpdateExpression update;
  ET_ASSIGN_OR_RETURN(std::optional<std::string> update_text, OptString(req, "UpdateExpression"));
  if (update_text) {
    ET_ASSIGN_OR_RETURN(update, expr::ParseUpdate(*update_text, ctx));
  } else if (const Json* legacy = Member(req, "AttributeUpdates")) {
    ET_ASSIGN_OR_RETURN(update, ParseAttributeUpdates(*legacy));
  }
  ET_ASSIGN_OR_RETURN(std::optional<expr::Condition> cond, ParseConditionParam(req, ctx));
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
  ET_ASSIGN_OR_RETURN(item::Map key, ParseKey(req, "Key", info.key_schema, env.taken_item));
  ET_RETURN_IF_ERROR(CheckNotKeyUpdate(update, info.key_schema));

  std::optional<item::Item> seen;
  storage::Write w;
  w.table = table;
  w.key = key;
  w.fn = [&](const item::Item* current) -> Result<storage::Decision> {
    ET_RETURN_IF_ERROR(CheckCondition(cond, current, &seen));
    // A new item starts as its key (DynamoDB creates it).
    ET_ASSIGN_OR_RETURN(item::Item next, expr::ApplyUpdate(update, current ? *current : key));
    ET_RETURN_IF_ERROR(item::ValidateItem(next, info.key_schema));
    return storage::Decision::Put(std::move(next));
  };
  Result<storage::WriteOutcome> out = env.storage->Apply(std::move(w));
  if (!out.ok()) {
    if (out.status().code() == Status::Code::kConditionFailed) return ConditionFailedError(seen, on_fail == "ALL_OLD");
    return out.status();
  }
  const std::optional<item::Item>& old_item = out->old_item;
  const std::optional<item::Item>& new_item = out->new_item;
  std::optional<item::Item> projected;  // UPDATED_*: the updated paths only
  const item::Item* attrs = nullptr;
  if (return_values == "ALL_OLD" && old_item) attrs = &*old_item;
  if (return_values == "ALL_NEW" && new_item) attrs = &*new_item;
  if (return_values == "UPDATED_OLD" && old_item) attrs = &projected.emplace(expr::Project(UpdatedPaths(update), *old_item));
  if (return_values == "UPDATED_NEW" && new_item) attrs = &projected.emplace(expr::Project(UpdatedPaths(update), *new_item));
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc,
                      ConsumedCapacity(req, table, [&] {
                        return WriteUnits(old_item ? &*old_item : nullptr, new_item ? &*new_item : nullptr);
                      }));
  ObjectWriter resp;
  if (attrs && !attrs->empty()) item::AppendItemJson(*attrs, resp.Member("Attributes"));
  if (cc) resp.Tree("ConsumedCapacity", *cc);
  return std::move(resp).Finish();
}

Reply DeleteItem(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string table, TableName(req));
  ET_ASSIGN_OR_RETURN(std::string return_values, Enum(req, "ReturnValues", {"NONE", "ALL_OLD", "UPDATED_OLD", "ALL_NEW", "UPDATED_NEW"}, "NONE"));
  if (return_values != "NONE" && return_values != "ALL_OLD") {
    return Status::InvalidArgument("ReturnValues can only be ALL_OLD or NONE");
  }
  ET_ASSIGN_OR_RETURN(std::string on_fail, Enum(req, "ReturnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, "NONE"));
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  ET_ASSIGN_OR_RETURN(std::optional<expr::Condition> cond, ParseConditionParam(req, ctx));
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
  ET_ASSIGN_OR_RETURN(item::Map key, ParseKey(req, "Key", info.key_schema, env.taken_item));

  std::optional<item::Item> seen;
  storage::Write w;
  w.table = table;
  w.key = key;
  w.fn = [&](const item::Item* current) -> Result<storage::Decision> {
    ET_RETURN_IF_ERROR(CheckCondition(cond, current, &seen));
    return storage::Decision::Delete();
  };
  Result<storage::WriteOutcome> out = env.storage->Apply(std::move(w));
  if (!out.ok()) {
    if (out.status().code() == Status::Code::kConditionFailed) return ConditionFailedError(seen, on_fail == "ALL_OLD");
    return out.status();
  }
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc,
                      ConsumedCapacity(req, table, [&] { return WriteUnits(out->old_item ? &*out->old_item : nullptr, nullptr); }));
  ObjectWriter resp;
  if (return_values == "ALL_OLD" && out->old_item) item::AppendItemJson(*out->old_item, resp.Member("Attributes"));
  if (cc) resp.Tree("ConsumedCapacity", *cc);
  return std::move(resp).Finish();
}

}  // namespace edgetable::api::internal
