// Multi-item operations: BatchWriteItem, BatchGetItem, TransactWriteItems,
// TransactGetItems.

#include <set>

#include "edge/api/internal/parts.h"
#include "edge/api/internal/token_cache.h"
#include "edge/item/validate.h"

namespace edgetable::api::internal {
namespace {

constexpr int64_t kBatchGetResponseBytesMax = 16 * 1024 * 1024;

Status TooMany(std::string_view op, int max) {
  return Status::InvalidArgument("Too many items requested for the " + std::string(op) +
                                 " call; the maximum is " + std::to_string(max));
}

Status Duplicates() { return Status::InvalidArgument("Provided list of item keys contains duplicates"); }

// A key's identity for duplicate checks: table + encoded key.
Result<std::string> KeyIdentity(const std::string& table, const item::Map& key, const item::KeySchema& schema) {
  ET_ASSIGN_OR_RETURN(item::EncodedKey enc, item::ExtractKey(key, schema));
  std::string id = table;
  id.push_back('\0');
  id += std::to_string(enc.partition.size()) + ":" + enc.partition + enc.sort;
  return id;
}

const Json* RequestItems(const Json& req, Status* error) {
  const Json* items = Member(req, "RequestItems");
  if (items == nullptr) {
    *error = MissingParameter("RequestItems");
  } else if (!items->is_object() || items->empty()) {
    *error = Status::InvalidArgument("1 validation error detected: Value at 'requestItems' failed to "
                                     "satisfy constraint: Member must have length greater than or equal to 1");
    items = nullptr;
  }
  return items;
}

std::string CancellationCode(const Status& s) {
  switch (s.code()) {
    case Status::Code::kOk: return "None";
    case Status::Code::kConditionFailed: return "ConditionalCheckFailed";
    case Status::Code::kBusy: return "ThrottlingError";
    case Status::Code::kInvalidArgument:
    case Status::Code::kLimitExceeded: return "ValidationError";
    default: return "InternalError";
  }
}

}  // namespace

Reply BatchWriteItem(OpEnv& env, const Json& req) {
  Status error;
  const Json* request_items = RequestItems(req, &error);
  if (request_items == nullptr) return error;
  std::vector<storage::Write> writes;
  std::set<std::string> seen;
  int64_t count = 0;
  for (auto it = request_items->begin(); it != request_items->end(); ++it) {
    Json named{{"TableName", it.key()}};
    ET_ASSIGN_OR_RETURN(std::string table, TableName(named));
    if (!it.value().is_array() || it.value().empty()) {
      return Status::InvalidArgument("1 validation error detected: Value at 'requestItems." + table +
                                     "' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    count += static_cast<int64_t>(it.value().size());
    if (count > limits::kBatchWriteItemsMax) return TooMany("BatchWriteItem", limits::kBatchWriteItemsMax);
    ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
    for (const Json& r : it.value()) {
      const Json* put = Member(r, "PutRequest");
      const Json* del = Member(r, "DeleteRequest");
      if ((put == nullptr) == (del == nullptr)) {
        return Status::InvalidArgument("Supplied AttributeValue has more than one datatypes set, must "
                                       "contain exactly one of the supported datatypes: a WriteRequest "
                                       "needs exactly one of PutRequest or DeleteRequest");
      }
      storage::Write w;
      w.table = table;
      if (put != nullptr) {
        const Json* item_json = Member(*put, "Item");
        if (item_json == nullptr) return MissingParameter("PutRequest.Item");
        ET_ASSIGN_OR_RETURN(item::Item item, AttributeMap(*item_json, "Item"));
        ET_RETURN_IF_ERROR(item::ValidateItem(item, info.key_schema));
        w.key = item::KeyOf(item, info.key_schema);
        w.fn = [item = std::move(item)](const item::Item*) -> Result<storage::Decision> {
          return storage::Decision::Put(item);
        };
      } else {
        ET_ASSIGN_OR_RETURN(w.key, ParseKey(*del, "Key", info.key_schema));
        w.fn = [](const item::Item*) -> Result<storage::Decision> { return storage::Decision::Delete(); };
      }
      ET_ASSIGN_OR_RETURN(std::string id, KeyIdentity(table, w.key, info.key_schema));
      if (!seen.insert(id).second) return Duplicates();
      writes.push_back(std::move(w));
    }
  }
  // One all-or-nothing commit; a full write queue returns everything as
  // unprocessed, for the SDK to retry.
  Json unprocessed = Json::object();
  storage::TransactOutcome out = env.storage->Transact(std::move(writes));
  if (!out.status.ok()) {
    if (out.status.code() != Status::Code::kBusy) return out.status;
    unprocessed = *request_items;
  }
  return Json{{"UnprocessedItems", unprocessed}};
}

Reply BatchGetItem(OpEnv& env, const Json& req) {
  Status error;
  const Json* request_items = RequestItems(req, &error);
  if (request_items == nullptr) return error;
  struct TableGet {
    std::string table;
    std::vector<item::Map> keys;
    std::optional<expr::Projection> projection;
    const Json* raw;
  };
  std::vector<TableGet> gets;
  int64_t count = 0;
  for (auto it = request_items->begin(); it != request_items->end(); ++it) {
    Json named{{"TableName", it.key()}};
    ET_ASSIGN_OR_RETURN(std::string table, TableName(named));
    const Json& spec = it.value();
    const Json* keys = Member(spec, "Keys");
    if (keys == nullptr) return MissingParameter("Keys");
    if (!keys->is_array() || keys->empty()) {
      return Status::InvalidArgument("1 validation error detected: Value at 'requestItems." + table +
                                     ".member.keys' failed to satisfy constraint: Member must have length greater than or equal to 1");
    }
    count += static_cast<int64_t>(keys->size());
    if (count > limits::kBatchGetKeysMax) return TooMany("BatchGetItem", limits::kBatchGetKeysMax);
    ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(spec));
    TableGet g{table, {}, {}, &spec};
    ET_ASSIGN_OR_RETURN(g.projection, ParseProjectionParam(spec, ctx));
    ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
    ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, table));
    std::set<std::string> seen;
    for (const Json& k : *keys) {
      Json wrapped{{"Key", k}};
      ET_ASSIGN_OR_RETURN(item::Map key, ParseKey(wrapped, "Key", info.key_schema));
      ET_ASSIGN_OR_RETURN(std::string id, KeyIdentity(table, key, info.key_schema));
      if (!seen.insert(id).second) return Duplicates();
      g.keys.push_back(std::move(key));
    }
    gets.push_back(std::move(g));
  }
  Json responses = Json::object();
  Json unprocessed = Json::object();
  int64_t bytes = 0;
  for (const TableGet& g : gets) {
    Json items = Json::array();
    Json left = Json::array();
    for (const item::Map& key : g.keys) {
      if (bytes >= kBatchGetResponseBytesMax) {
        left.push_back(ItemJson(key));
        continue;
      }
      ET_ASSIGN_OR_RETURN(std::optional<item::Item> found, env.storage->Get(g.table, key));
      if (!found) continue;
      bytes += item::ItemSize(*found);
      items.push_back(ItemJson(g.projection ? expr::Project(*g.projection, *found) : *found));
    }
    responses[g.table] = std::move(items);
    if (!left.empty()) {
      Json spec = *g.raw;
      spec["Keys"] = std::move(left);
      unprocessed[g.table] = std::move(spec);
    }
  }
  return Json{{"Responses", responses}, {"UnprocessedKeys", unprocessed}};
}

Reply TransactWriteItemsOnce(OpEnv& env, const Json& req);

Reply TransactWriteItems(OpEnv& env, const Json& req) {
  const Json* items = Member(req, "TransactItems");
  if (items == nullptr) return MissingParameter("TransactItems");
  if (!items->is_array() || items->empty() || static_cast<int64_t>(items->size()) > limits::kTransactItemsMax) {
    return Status::InvalidArgument("1 validation error detected: Value at 'transactItems' failed to satisfy "
                                   "constraint: Member must have length less than or equal to 100 and "
                                   "greater than or equal to 1");
  }
  ET_ASSIGN_OR_RETURN(std::optional<std::string> token, OptString(req, "ClientRequestToken"));
  if (token) {
    if (token->empty() || token->size() > 36) {
      return Status::InvalidArgument("1 validation error detected: Value at 'clientRequestToken' failed to "
                                     "satisfy constraint: Member must have length less than or equal to 36");
    }
    Json canonical = req;
    canonical.erase("ReturnConsumedCapacity");
    std::string answer;
    switch (env.tokens->Begin(*token, canonical.dump(), &answer)) {
      case TokenCache::Claim::kNew: {
        Reply r = TransactWriteItemsOnce(env, req);
        env.tokens->Finish(*token, r.ok(), r.ok() ? r.Text() : "");
        return r;
      }
      case TokenCache::Claim::kDone:
        return Json::parse(answer);
      case TokenCache::Claim::kMismatch:
        return MakeError(error_type::kIdempotentParameterMismatch,
                         "The request uses the same client token as a previous, but non-identical request. "
                         "Client token: " + *token);
      case TokenCache::Claim::kInProgress:
        return MakeError(error_type::kTransactionInProgress,
                         "Transaction is ongoing for the given client request token: " + *token);
    }
  }
  return TransactWriteItemsOnce(env, req);
}

Reply TransactWriteItemsOnce(OpEnv& env, const Json& req) {
  const Json* items = Member(req, "TransactItems");
  // Shared by the MutateFns below, which run while Transact() blocks here.
  struct Element {
    std::string kind;
    std::string table;
    std::optional<expr::Condition> cond;
    expr::UpdateExpression update;
    item::Item item;  // Put
    item::Map key;
    item::KeySchema schema;
    bool return_old_on_fail = false;
    std::optional<item::Item> seen;
  };
  std::vector<Element> elements(items->size());
  std::set<std::string> seen_keys;
  for (size_t i = 0; i < items->size(); ++i) {
    const Json& t = (*items)[i];
    Element& e = elements[i];
    const Json* body = nullptr;
    int kinds = 0;
    for (const char* k : {"ConditionCheck", "Put", "Delete", "Update"}) {
      if (const Json* b = Member(t, k)) {
        body = b;
        e.kind = k;
        ++kinds;
      }
    }
    if (kinds != 1) {
      return Status::InvalidArgument("TransactItems can only contain one of Check, Put, Update or Delete");
    }
    ET_ASSIGN_OR_RETURN(e.table, TableName(*body));
    ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, e.table));
    e.schema = info.key_schema;
    ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(*body));
    ET_ASSIGN_OR_RETURN(std::string on_fail, Enum(*body, "ReturnValuesOnConditionCheckFailure", {"ALL_OLD", "NONE"}, "NONE"));
    e.return_old_on_fail = on_fail == "ALL_OLD";
    if (e.kind == "Update") {
      ET_ASSIGN_OR_RETURN(std::string text, RequiredString(*body, "UpdateExpression"));
      ET_ASSIGN_OR_RETURN(e.update, expr::ParseUpdate(text, ctx));
    }
    ET_ASSIGN_OR_RETURN(e.cond, ParseConditionParam(*body, ctx));
    if (e.kind == "ConditionCheck" && !e.cond) return MissingParameter("ConditionExpression");
    ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
    if (e.kind == "Put") {
      const Json* item_json = Member(*body, "Item");
      if (item_json == nullptr) return MissingParameter("Item");
      ET_ASSIGN_OR_RETURN(e.item, AttributeMap(*item_json, "Item"));
      ET_RETURN_IF_ERROR(item::ValidateItem(e.item, e.schema));
      e.key = item::KeyOf(e.item, e.schema);
    } else {
      ET_ASSIGN_OR_RETURN(e.key, ParseKey(*body, "Key", e.schema));
    }
    if (e.kind == "Update") ET_RETURN_IF_ERROR(CheckNotKeyUpdate(e.update, e.schema));
    ET_ASSIGN_OR_RETURN(std::string id, KeyIdentity(e.table, e.key, e.schema));
    if (!seen_keys.insert(id).second) {
      return Status::InvalidArgument("Transaction request cannot include multiple operations on one item");
    }
  }
  std::vector<storage::Write> writes;
  for (Element& e : elements) {
    storage::Write w;
    w.table = e.table;
    w.key = e.key;
    w.fn = [&e](const item::Item* current) -> Result<storage::Decision> {
      ET_RETURN_IF_ERROR(CheckCondition(e.cond, current, &e.seen));
      if (e.kind == "ConditionCheck") return storage::Decision::Keep();
      if (e.kind == "Delete") return storage::Decision::Delete();
      if (e.kind == "Put") return storage::Decision::Put(e.item);
      ET_ASSIGN_OR_RETURN(item::Item next, expr::ApplyUpdate(e.update, current ? *current : e.key));
      ET_RETURN_IF_ERROR(item::ValidateItem(next, e.schema));
      return storage::Decision::Put(std::move(next));
    };
    writes.push_back(std::move(w));
  }
  storage::TransactOutcome out = env.storage->Transact(std::move(writes));
  if (!out.status.ok()) {
    if (out.reasons.empty()) return out.status;
    Json reasons = Json::array();
    std::string codes;
    for (size_t i = 0; i < out.reasons.size(); ++i) {
      const Status& s = out.reasons[i];
      Json r{{"Code", CancellationCode(s)}};
      if (!s.ok()) r["Message"] = s.message();
      if (s.code() == Status::Code::kConditionFailed && elements[i].return_old_on_fail && elements[i].seen) {
        r["Item"] = ItemJson(*elements[i].seen);
      }
      codes += (codes.empty() ? "" : ", ") + r["Code"].get<std::string>();
      reasons.push_back(std::move(r));
    }
    ApiError e = MakeError(error_type::kTransactionCanceled,
                           "Transaction cancelled, please refer cancellation reasons for specific reasons [" +
                               codes + "]");
    e.extra["CancellationReasons"] = std::move(reasons);
    return e;
  }
  return Json::object();
}

Reply TransactGetItems(OpEnv& env, const Json& req) {
  const Json* items = Member(req, "TransactItems");
  if (items == nullptr) return MissingParameter("TransactItems");
  if (!items->is_array() || items->empty() || static_cast<int64_t>(items->size()) > limits::kTransactItemsMax) {
    return Status::InvalidArgument("1 validation error detected: Value at 'transactItems' failed to satisfy "
                                   "constraint: Member must have length less than or equal to 100 and "
                                   "greater than or equal to 1");
  }
  struct GetSpec {
    std::string table;
    item::Map key;
    std::optional<expr::Projection> projection;
  };
  std::vector<GetSpec> specs;
  std::set<std::string> seen;
  for (const Json& t : *items) {
    const Json* get = Member(t, "Get");
    if (get == nullptr) return MissingParameter("Get");
    GetSpec g;
    ET_ASSIGN_OR_RETURN(g.table, TableName(*get));
    ET_ASSIGN_OR_RETURN(TableKeys info, LookupTable(env, g.table));
    ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(*get));
    ET_ASSIGN_OR_RETURN(g.projection, ParseProjectionParam(*get, ctx));
    ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
    ET_ASSIGN_OR_RETURN(g.key, ParseKey(*get, "Key", info.key_schema));
    ET_ASSIGN_OR_RETURN(std::string id, KeyIdentity(g.table, g.key, info.key_schema));
    if (!seen.insert(id).second) {
      return Status::InvalidArgument("Transaction request cannot include multiple operations on one item");
    }
    specs.push_back(std::move(g));
  }
  Json responses = Json::array();
  for (const GetSpec& g : specs) {
    ET_ASSIGN_OR_RETURN(std::optional<item::Item> found, env.storage->Get(g.table, g.key));
    Json r = Json::object();
    if (found) r["Item"] = ItemJson(g.projection ? expr::Project(*g.projection, *found) : *found);
    responses.push_back(std::move(r));
  }
  return Json{{"Responses", responses}};
}

}  // namespace edgetable::api::internal
