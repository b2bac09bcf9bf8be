// The control plane: CreateTable, DescribeTable, ListTables, DeleteTable,
// UpdateTable, UpdateTimeToLive, DescribeTimeToLive.

#include <set>

#include "edge/api/internal/ops.h"
#include "edge/api/internal/table_cache.h"

namespace edgetable::api::internal {
namespace {

std::string_view StreamViewName(storage::StreamViewType t) {
  switch (t) {
    case storage::StreamViewType::kKeysOnly: return "KEYS_ONLY";
    case storage::StreamViewType::kNewImage: return "NEW_IMAGE";
    case storage::StreamViewType::kOldImage: return "OLD_IMAGE";
    case storage::StreamViewType::kNewAndOldImages: return "NEW_AND_OLD_IMAGES";
    case storage::StreamViewType::kNone: break;
  }
  return "";
}

// StreamSpecification {StreamEnabled, StreamViewType} -> the view type.
Result<std::optional<storage::StreamViewType>> ParseStreamSpec(const Json& req) {
  const Json* spec = Member(req, "StreamSpecification");
  if (spec == nullptr) return std::optional<storage::StreamViewType>();
  if (!spec->is_object()) return Status::InvalidArgument("StreamSpecification must be an object");
  ET_ASSIGN_OR_RETURN(std::optional<bool> enabled, OptBool(*spec, "StreamEnabled"));
  if (!enabled) return MissingParameter("StreamSpecification.StreamEnabled");
  ET_ASSIGN_OR_RETURN(std::optional<std::string> view, OptString(*spec, "StreamViewType"));
  if (!*enabled) {
    if (view) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: StreamViewType cannot be specified when "
          "StreamEnabled is false");
    }
    return std::optional<storage::StreamViewType>(storage::StreamViewType::kNone);
  }
  if (!view) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: You must specify a StreamViewType when "
        "StreamEnabled is true");
  }
  if (*view == "KEYS_ONLY") return std::optional(storage::StreamViewType::kKeysOnly);
  if (*view == "NEW_IMAGE") return std::optional(storage::StreamViewType::kNewImage);
  if (*view == "OLD_IMAGE") return std::optional(storage::StreamViewType::kOldImage);
  if (*view == "NEW_AND_OLD_IMAGES") return std::optional(storage::StreamViewType::kNewAndOldImages);
  return Status::InvalidArgument(
      "1 validation error detected: Value '" + *view +
      "' at 'streamSpecification.streamViewType' failed to satisfy constraint: Member must "
      "satisfy enum value set: [NEW_IMAGE, OLD_IMAGE, NEW_AND_OLD_IMAGES, KEYS_ONLY]");
}

Result<item::KeySchema> ParseKeySchema(const Json& req) {
  const Json* ks = Member(req, "KeySchema");
  if (ks == nullptr) return MissingParameter("KeySchema");
  const Json* defs = Member(req, "AttributeDefinitions");
  if (defs == nullptr) return MissingParameter("AttributeDefinitions");
  if (!ks->is_array() || !defs->is_array()) {
    return Status::InvalidArgument(std::string(kSerializationPrefix) +
                                   "KeySchema and AttributeDefinitions must be lists");
  }
  if (ks->empty() || ks->size() > 2) {
    return Status::InvalidArgument(
        "1 validation error detected: Value at 'keySchema' failed to satisfy constraint: "
        "Member must have length less than or equal to 2 and greater than or equal to 1");
  }
  std::map<std::string, std::string> types;
  std::vector<std::string> def_names;
  for (const Json& d : *defs) {
    ET_ASSIGN_OR_RETURN(std::string name, RequiredString(d, "AttributeName"));
    ET_ASSIGN_OR_RETURN(std::string type, Enum(d, "AttributeType", {"S", "N", "B"}, ""));
    if (type.empty()) return MissingParameter("AttributeDefinitions.AttributeType");
    if (!types.emplace(name, type).second) {
      return Status::InvalidArgument("Cannot have two attributes with the same name: " + name);
    }
    def_names.push_back(name);
  }
  item::KeySchema schema;
  std::vector<std::string> key_names;
  bool have_hash = false;
  for (size_t i = 0; i < ks->size(); ++i) {
    const Json& e = (*ks)[i];
    ET_ASSIGN_OR_RETURN(std::string name, RequiredString(e, "AttributeName"));
    ET_ASSIGN_OR_RETURN(std::string key_type, Enum(e, "KeyType", {"HASH", "RANGE"}, ""));
    if (key_type.empty()) return MissingParameter("KeySchema.KeyType");
    if (i == 0 && key_type != "HASH") {
      return Status::InvalidArgument("Invalid KeySchema: The first KeySchemaElement is not a HASH key type");
    }
    if (key_type == "HASH") {
      if (have_hash) {
        return Status::InvalidArgument(
            "Too many hash keys specified.  All Dynamo DB tables must have exactly one hash key");
      }
      have_hash = true;
    } else if (i != 1) {
      return Status::InvalidArgument("Invalid KeySchema: The second KeySchemaElement is not a RANGE key type");
    }
    key_names.push_back(name);
  }
  if (key_names.size() == 2 && key_names[0] == key_names[1]) {
    return Status::InvalidArgument(
        "Both the Hash Key and the Range Key element in the KeySchema have the same name");
  }
  std::vector<std::string> missing;
  for (const std::string& n : key_names) {
    if (types.count(n) == 0) missing.push_back(n);
  }
  auto list = [](const std::vector<std::string>& v) {
    std::string s;
    for (const std::string& x : v) s += (s.empty() ? "" : ", ") + x;
    return "[" + s + "]";
  };
  if (!missing.empty()) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Some index key attributes are not defined in "
        "AttributeDefinitions. Keys: " + list(key_names) + ", AttributeDefinitions: " + list(def_names));
  }
  if (defs->size() != key_names.size()) {
    return Status::InvalidArgument(
        "One or more parameter values were invalid: Number of attributes in KeySchema does not "
        "exactly match number of attributes defined in AttributeDefinitions");
  }
  auto type_of = [](const std::string& t) {
    return t == "S" ? item::Type::kS : t == "N" ? item::Type::kN : item::Type::kB;
  };
  schema.partition = {key_names[0], type_of(types[key_names[0]])};
  if (key_names.size() == 2) schema.sort = item::KeyAttribute{key_names[1], type_of(types[key_names[1]])};
  return schema;
}

}  // namespace

Json TableDescription(const storage::TableInfo& info, const ApiOptions& options,
                      std::string_view status) {
  Json d;
  d["TableName"] = info.name;
  d["TableStatus"] = status;
  d["KeySchema"] = KeySchemaJson(info.key_schema);
  d["AttributeDefinitions"] = AttributeDefinitionsJson(info.key_schema);
  d["CreationDateTime"] = static_cast<double>(info.created_ms) / 1000.0;
  d["ItemCount"] = info.item_count;
  d["TableSizeBytes"] = info.item_bytes;
  std::string arn = "arn:aws:dynamodb:" + options.region + ":000000000000:table/" + info.name;
  d["TableArn"] = arn;
  d["TableId"] = "edgetable-" + std::to_string(info.id);
  d["ProvisionedThroughput"] = {
      {"NumberOfDecreasesToday", 0}, {"ReadCapacityUnits", 0}, {"WriteCapacityUnits", 0}};
  d["BillingModeSummary"] = {{"BillingMode", "PAY_PER_REQUEST"},
                             {"LastUpdateToPayPerRequestDateTime", d["CreationDateTime"]}};
  if (info.settings.stream_view_type != storage::StreamViewType::kNone) {
    d["StreamSpecification"] = {{"StreamEnabled", true},
                                {"StreamViewType", StreamViewName(info.settings.stream_view_type)}};
    // The label is the table's creation time: one stream per table life.
    std::string label = std::to_string(info.created_ms);
    d["LatestStreamLabel"] = label;
    d["LatestStreamArn"] = arn + "/stream/" + label;
  }
  return d;
}

Reply CreateTable(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  for (std::string_view unsupported : {"GlobalSecondaryIndexes", "LocalSecondaryIndexes"}) {
    if (Member(req, unsupported) != nullptr) {
      return Status::InvalidArgument("EdgeTable does not support secondary indexes (" +
                                     std::string(unsupported) + ")");
    }
  }
  ET_ASSIGN_OR_RETURN(item::KeySchema schema, ParseKeySchema(req));
  ET_ASSIGN_OR_RETURN(std::string billing, Enum(req, "BillingMode", {"PROVISIONED", "PAY_PER_REQUEST"}, "PROVISIONED"));
  (void)billing;  // capacity is not metered on a gateway; accepted for compatibility
  ET_ASSIGN_OR_RETURN(std::optional<storage::StreamViewType> stream, ParseStreamSpec(req));
  storage::TableSettings settings;
  if (stream) settings.stream_view_type = *stream;
  Result<storage::TableInfo> info = env.storage->CreateTable(name, schema, settings);
  env.tables->Forget(name);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kAlreadyExists) {
      return MakeError(error_type::kResourceInUse, "Table already exists: " + name);
    }
    return info.status();
  }
  return Json{{"TableDescription", TableDescription(*info, *env.options)}};
}

namespace {
ApiError TableNotFound(const std::string& name) {
  (void)name;
  return MakeError(error_type::kResourceNotFound, "Requested resource not found");
}
}  // namespace

Reply DescribeTable(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  Result<storage::TableInfo> info = env.storage->DescribeTable(name);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) {
      return MakeError(error_type::kResourceNotFound, "Requested resource not found: Table: " + name + " not found");
    }
    return info.status();
  }
  return Json{{"Table", TableDescription(*info, *env.options)}};
}

Reply ListTables(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::optional<std::string> start, OptString(req, "ExclusiveStartTableName"));
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> limit, OptInt(req, "Limit"));
  if (limit && (*limit < 1 || *limit > limits::kListTablesLimitMax)) {
    return Status::InvalidArgument(
        "1 validation error detected: Value '" + std::to_string(*limit) +
        "' at 'limit' failed to satisfy constraint: Member must have value less than or equal to "
        "100 and greater than or equal to 1");
  }
  ET_ASSIGN_OR_RETURN(storage::TableList list,
                      env.storage->ListTables(start, static_cast<int>(limit.value_or(100))));
  Json out{{"TableNames", list.names}};
  if (list.last_evaluated_name) out["LastEvaluatedTableName"] = *list.last_evaluated_name;
  return out;
}

Reply DeleteTable(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  Result<storage::TableInfo> info = env.storage->DeleteTable(name);
  env.tables->Forget(name);  // table_cache.h invariant (1)
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) return TableNotFound(name);
    return info.status();
  }
  return Json{{"TableDescription", TableDescription(*info, *env.options, "DELETING")}};
}

Reply UpdateTable(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  for (std::string_view unsupported : {"GlobalSecondaryIndexUpdates", "AttributeDefinitions", "ReplicaUpdates"}) {
    if (Member(req, unsupported) != nullptr) {
      return Status::InvalidArgument("EdgeTable does not support " + std::string(unsupported) +
                                     " in UpdateTable");
    }
  }
  Result<storage::TableInfo> info = env.storage->DescribeTable(name);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) return TableNotFound(name);
    return info.status();
  }
  ET_ASSIGN_OR_RETURN(std::optional<storage::StreamViewType> stream, ParseStreamSpec(req));
  if (stream) {
    storage::TableSettings settings = info->settings;
    bool enabled_now = settings.stream_view_type != storage::StreamViewType::kNone;
    if (*stream != storage::StreamViewType::kNone && enabled_now) {
      return Status::InvalidArgument("Table already has an enabled stream: TableName: " + name);
    }
    if (*stream == storage::StreamViewType::kNone && !enabled_now) {
      return Status::InvalidArgument("Table already has no stream enabled: TableName: " + name);
    }
    settings.stream_view_type = *stream;
    ET_ASSIGN_OR_RETURN(storage::TableInfo updated, env.storage->UpdateTableSettings(name, settings));
    return Json{{"TableDescription", TableDescription(updated, *env.options)}};
  }
  // Billing and throughput changes have no meaning on a gateway: accepted.
  return Json{{"TableDescription", TableDescription(*info, *env.options)}};
}

Reply UpdateTimeToLive(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  const Json* spec = Member(req, "TimeToLiveSpecification");
  if (spec == nullptr) return MissingParameter("TimeToLiveSpecification");
  ET_ASSIGN_OR_RETURN(std::optional<bool> enabled, OptBool(*spec, "Enabled"));
  if (!enabled) return MissingParameter("TimeToLiveSpecification.Enabled");
  ET_ASSIGN_OR_RETURN(std::string attribute, RequiredString(*spec, "AttributeName"));
  if (attribute.empty()) {
    return Status::InvalidArgument("TimeToLiveSpecification.AttributeName must not be empty");
  }
  Result<storage::TableInfo> info = env.storage->DescribeTable(name);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) return TableNotFound(name);
    return info.status();
  }
  storage::TableSettings settings = info->settings;
  if (*enabled) {
    if (!settings.ttl_attribute.empty() && settings.ttl_attribute != attribute) {
      return Status::InvalidArgument("TimeToLive is active on a different AttributeName: current "
                                     "AttributeName is " + settings.ttl_attribute);
    }
    if (!settings.ttl_attribute.empty()) return Status::InvalidArgument("TimeToLive is already enabled");
    settings.ttl_attribute = attribute;
  } else {
    if (settings.ttl_attribute.empty()) return Status::InvalidArgument("TimeToLive is already disabled");
    if (settings.ttl_attribute != attribute) {
      return Status::InvalidArgument("TimeToLive is active on a different AttributeName: current "
                                     "AttributeName is " + settings.ttl_attribute);
    }
    settings.ttl_attribute.clear();
  }
  ET_ASSIGN_OR_RETURN(storage::TableInfo updated, env.storage->UpdateTableSettings(name, settings));
  (void)updated;
  return Json{{"TimeToLiveSpecification", {{"Enabled", *enabled}, {"AttributeName", attribute}}}};
}

Reply DescribeTimeToLive(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string name, TableName(req));
  Result<storage::TableInfo> info = env.storage->DescribeTable(name);
  if (!info.ok()) {
    if (info.status().code() == Status::Code::kNotFound) return TableNotFound(name);
    return info.status();
  }
  Json d;
  if (info->settings.ttl_attribute.empty()) {
    d["TimeToLiveStatus"] = "DISABLED";
  } else {
    d["TimeToLiveStatus"] = "ENABLED";
    d["AttributeName"] = info->settings.ttl_attribute;
  }
  return Json{{"TimeToLiveDescription", d}};
}

}  // namespace edgetable::api::internal
