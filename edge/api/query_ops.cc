// Query and Scan: one page of items, filtered and projected.

#include "edge/api/internal/parts.h"
#include "edge/item/validate.h"

namespace edgetable::api::internal {
namespace {

storage::SortCondition ToStorage(const expr::SortCondition& s) {
  using In = expr::SortCondition::Op;
  using Out = storage::SortOp;
  storage::SortCondition out;
  switch (s.op) {
    case In::kEq: out.op = Out::kEq; break;
    case In::kLt: out.op = Out::kLt; break;
    case In::kLe: out.op = Out::kLe; break;
    case In::kGt: out.op = Out::kGt; break;
    case In::kGe: out.op = Out::kGe; break;
    case In::kBetween: out.op = Out::kBetween; break;
    case In::kBeginsWith: out.op = Out::kBeginsWith; break;
  }
  out.a = s.value1;
  out.b = s.value2;
  return out;
}

// The parameters Query and Scan share.
struct ReadParams {
  std::string table;
  std::string select;
  std::optional<int64_t> limit;
  bool consistent = false;
  std::optional<expr::Condition> filter;
  std::optional<expr::Projection> projection;
  std::optional<item::Map> exclusive_start_key;
  TableKeys info;
};

Result<ReadParams> ParseRead(OpEnv& env, const Json& req, std::string_view legacy_filter,
                             expr::ExpressionContext& ctx) {
  ReadParams p;
  ET_ASSIGN_OR_RETURN(p.table, TableName(req));
  if (Member(req, "IndexName") != nullptr) {
    return Status::InvalidArgument("EdgeTable does not support secondary indexes (IndexName)");
  }
  ET_ASSIGN_OR_RETURN(p.select, Enum(req, "Select", {"ALL_ATTRIBUTES", "ALL_PROJECTED_ATTRIBUTES", "SPECIFIC_ATTRIBUTES", "COUNT"}, ""));
  ET_ASSIGN_OR_RETURN(p.limit, OptInt(req, "Limit"));
  if (p.limit && *p.limit < 1) {
    return Status::InvalidArgument("1 validation error detected: Value '" + std::to_string(*p.limit) +
                                   "' at 'limit' failed to satisfy constraint: Member must have value "
                                   "greater than or equal to 1");
  }
  ET_ASSIGN_OR_RETURN(std::optional<bool> consistent, OptBool(req, "ConsistentRead"));
  p.consistent = consistent.value_or(false);
  ET_ASSIGN_OR_RETURN(p.filter, ParseFilterParam(req, legacy_filter, ctx));
  ET_ASSIGN_OR_RETURN(p.projection, ParseProjectionParam(req, ctx));
  if (p.projection) {
    if (p.select.empty()) p.select = "SPECIFIC_ATTRIBUTES";
    if (p.select != "SPECIFIC_ATTRIBUTES") {
      const char* param = Member(req, "ProjectionExpression") ? "ProjectionExpression" : "AttributesToGet";
      return Status::InvalidArgument(std::string("Cannot specify the ") + param + " when choosing to get " + p.select);
    }
  } else if (p.select == "SPECIFIC_ATTRIBUTES") {
    return Status::InvalidArgument(
        "Must specify the AttributesToGet or ProjectionExpression when choosing to get SPECIFIC_ATTRIBUTES");
  } else if (p.select == "ALL_PROJECTED_ATTRIBUTES") {
    return Status::InvalidArgument("ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName");
  }
  if (p.select.empty()) p.select = "ALL_ATTRIBUTES";
  ET_ASSIGN_OR_RETURN(p.info, LookupTable(env, p.table));
  if (const Json* esk = Member(req, "ExclusiveStartKey")) {
    ET_ASSIGN_OR_RETURN(item::Map key, AttributeMap(*esk, "ExclusiveStartKey"));
    if (!item::ExtractKey(key, p.info.key_schema, /*key_only=*/true).ok()) {
      return Status::InvalidArgument(
          "The provided starting key is invalid: The provided key element does not match the schema");
    }
    p.exclusive_start_key = std::move(key);
  }
  return p;
}

// Filters and projects a page into the response, written as text.
// Members in name order (see ObjectWriter).
JsonText PageReply(const ReadParams& p, const storage::Page& page, const std::optional<Json>& consumed) {
  ObjectWriter resp;
  if (consumed) resp.Tree("ConsumedCapacity", *consumed);
  int64_t count = 0;
  const bool count_only = p.select == "COUNT";
  std::string items;
  if (!count_only) items.reserve(page.items.size() * 128);
  for (const item::Item& it : page.items) {
    if (p.filter && !expr::EvaluateCondition(*p.filter, it)) continue;
    ++count;
    if (count_only) continue;
    if (!items.empty()) items.push_back(',');
    if (p.projection) {
      item::AppendItemJson(expr::Project(*p.projection, it), &items);
    } else {
      item::AppendItemJson(it, &items);
    }
  }
  resp.Int("Count", count);
  if (!count_only) {
    std::string* out = resp.Member("Items");
    out->push_back('[');
    out->append(items);
    out->push_back(']');
  }
  if (page.last_evaluated_key) item::AppendItemJson(*page.last_evaluated_key, resp.Member("LastEvaluatedKey"));
  resp.Int("ScannedCount", static_cast<int64_t>(page.items.size()));
  return std::move(resp).Finish();
}

// DynamoDB refuses a Query filter that reads a key attribute.
Status CheckFilterHasNoKey(const expr::Condition& c, const item::KeySchema& schema) {
  for (const expr::Operand& o : c.operands) {
    std::vector<const expr::Operand*> stack{&o};
    while (!stack.empty()) {
      const expr::Operand* op = stack.back();
      stack.pop_back();
      if (!op->path.elements.empty()) {
        const std::string& top = op->path.elements.front().name;
        if (top == schema.partition.name || (schema.sort && top == schema.sort->name)) {
          return Status::InvalidArgument(
              "Filter Expression can only contain non-primary key attributes: Primary key attribute: " + top);
        }
      }
      for (const expr::Operand& a : op->args) stack.push_back(&a);
    }
  }
  for (const expr::Condition& child : c.children) ET_RETURN_IF_ERROR(CheckFilterHasNoKey(child, schema));
  return Status::Ok();
}

}  // namespace

Reply Query(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  ET_RETURN_IF_ERROR(CheckNotBoth(req, "KeyConditions", "KeyConditionExpression"));
  ET_ASSIGN_OR_RETURN(ReadParams p, ParseRead(env, req, "QueryFilter", ctx));
  ET_ASSIGN_OR_RETURN(std::optional<std::string> kce, OptString(req, "KeyConditionExpression"));
  expr::KeyCondition kc;
  if (kce) {
    ET_ASSIGN_OR_RETURN(kc, expr::ParseKeyCondition(*kce, p.info.key_schema, ctx));
  } else if (const Json* legacy = Member(req, "KeyConditions")) {
    ET_ASSIGN_OR_RETURN(kc, ParseLegacyKeyConditions(*legacy, p.info.key_schema));
  } else {
    return Status::InvalidArgument(
        "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.");
  }
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  if (p.filter) ET_RETURN_IF_ERROR(CheckFilterHasNoKey(*p.filter, p.info.key_schema));
  ET_ASSIGN_OR_RETURN(std::optional<bool> forward, OptBool(req, "ScanIndexForward"));

  storage::QueryRequest q;
  q.table = p.table;
  q.partition = kc.partition;
  if (kc.sort) q.sort = ToStorage(*kc.sort);
  q.forward = forward.value_or(true);
  q.limit = p.limit ? static_cast<int>(std::min<int64_t>(*p.limit, 1'000'000)) : 0;
  q.exclusive_start_key = p.exclusive_start_key;
  Result<storage::Page> page = env.storage->Query(q);
  if (!page.ok()) {
    if (page.status().code() == Status::Code::kInvalidArgument && p.exclusive_start_key) {
      return Status::InvalidArgument("The provided starting key is invalid: " + page.status().message());
    }
    return page.status();
  }
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc, ConsumedCapacity(req, p.table, [&] { return ReadUnits(page->bytes_read, p.consistent); }));
  return PageReply(p, *page, cc);
}

Reply Scan(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(expr::ExpressionContext ctx, Context(req));
  ET_ASSIGN_OR_RETURN(ReadParams p, ParseRead(env, req, "ScanFilter", ctx));
  ET_RETURN_IF_ERROR(ctx.CheckAllUsed());
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> segment, OptInt(req, "Segment"));
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> total, OptInt(req, "TotalSegments"));
  if (segment && !total) {
    return Status::InvalidArgument(
        "The TotalSegments parameter is required but was not present in the request when Segment "
        "parameter is present");
  }
  if (total && !segment) {
    return Status::InvalidArgument(
        "The Segment parameter is required but was not present in the request when parameter "
        "TotalSegments is present");
  }
  if (total && (*total < 1 || *total > limits::kScanSegmentsMax)) {
    return Status::InvalidArgument("1 validation error detected: Value '" + std::to_string(*total) +
                                   "' at 'totalSegments' failed to satisfy constraint: Member must have "
                                   "value less than or equal to 1000000 and greater than or equal to 1");
  }
  if (segment && (*segment < 0 || *segment >= *total)) {
    return Status::InvalidArgument("The Segment parameter is zero-based and must be less than parameter "
                                   "TotalSegments: Segment: " + std::to_string(*segment) +
                                   " is not less than TotalSegments: " + std::to_string(*total));
  }
  storage::ScanRequest s;
  s.table = p.table;
  s.limit = p.limit ? static_cast<int>(std::min<int64_t>(*p.limit, 1'000'000)) : 0;
  s.exclusive_start_key = p.exclusive_start_key;
  s.segment = static_cast<int>(segment.value_or(0));
  s.total_segments = static_cast<int>(total.value_or(1));
  ET_ASSIGN_OR_RETURN(storage::Page page, env.storage->Scan(s));
  ET_ASSIGN_OR_RETURN(std::optional<Json> cc, ConsumedCapacity(req, p.table, [&] { return ReadUnits(page.bytes_read, p.consistent); }));
  return PageReply(p, page, cc);
}

}  // namespace edgetable::api::internal
