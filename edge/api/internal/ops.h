#pragma once
// The DynamoDB operations, one function each. Internal to edge/api.
// Each takes the parsed request body and answers a Reply.

#include <optional>

#include "edge/api/api.h"
#include "edge/api/internal/params.h"
#include "edge/storage/storage.h"

namespace edgetable::api::internal {

class TokenCache;
class TableCache;

struct OpEnv {
  storage::Storage* storage;
  const ApiOptions* options;
  TokenCache* tokens;
  TableCache* tables;  // key schemas for the item operations
  // The request's item (PutItem) or key (GetItem, UpdateItem, DeleteItem)
  // when the body parser already decoded it (item::ParseJsonTakingItem); the
  // tree then holds an empty object in its place. nullptr or empty: decode
  // it from the tree.
  std::optional<item::Item>* taken_item = nullptr;
};

// table_ops.cc
Reply CreateTable(OpEnv& env, const Json& req);
Reply DescribeTable(OpEnv& env, const Json& req);
Reply ListTables(OpEnv& env, const Json& req);
Reply DeleteTable(OpEnv& env, const Json& req);
Reply UpdateTable(OpEnv& env, const Json& req);
Reply UpdateTimeToLive(OpEnv& env, const Json& req);
Reply DescribeTimeToLive(OpEnv& env, const Json& req);

// item_ops.cc
Reply PutItem(OpEnv& env, const Json& req);
Reply GetItem(OpEnv& env, const Json& req);
Reply UpdateItem(OpEnv& env, const Json& req);
Reply DeleteItem(OpEnv& env, const Json& req);

// query_ops.cc
Reply Query(OpEnv& env, const Json& req);
Reply Scan(OpEnv& env, const Json& req);

// batch_ops.cc
Reply BatchWriteItem(OpEnv& env, const Json& req);
Reply BatchGetItem(OpEnv& env, const Json& req);
Reply TransactWriteItems(OpEnv& env, const Json& req);
Reply TransactGetItems(OpEnv& env, const Json& req);

// The TableDescription DynamoDB returns for a table.
Json TableDescription(const storage::TableInfo& info, const ApiOptions& options,
                      std::string_view status = "ACTIVE");

}  // namespace edgetable::api::internal
