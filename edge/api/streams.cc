// The DynamoDB Streams operations: ListStreams, DescribeStream,
// GetShardIterator, GetRecords (see streams.h for the mapping onto the
// change log).

#include "edge/api/streams.h"

#include <charconv>
#include <cstdio>

#include "edge/api/internal/parts.h"
#include "edge/item/key.h"
#include "edge/item/validate.h"
#include "edge/wire/item_codec.h"

namespace edgetable::api::internal {
namespace {

constexpr std::string_view kIteratorTag = "et1";

std::string ViewName(storage::StreamViewType t) {
  switch (t) {
    case storage::StreamViewType::kKeysOnly: return "KEYS_ONLY";
    case storage::StreamViewType::kNewImage: return "NEW_IMAGE";
    case storage::StreamViewType::kOldImage: return "OLD_IMAGE";
    case storage::StreamViewType::kNewAndOldImages: return "NEW_AND_OLD_IMAGES";
    case storage::StreamViewType::kNone: break;
  }
  return "";
}

std::string TableArn(const OpEnv& env, const std::string& table) {
  return "arn:aws:dynamodb:" + env.options->region + ":000000000000:table/" + table;
}

std::string StreamArn(const OpEnv& env, const storage::TableInfo& t) {
  return TableArn(env, t.name) + "/stream/" + std::to_string(t.created_ms);
}

std::string ShardId(const storage::TableInfo& t) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "shardId-%020lld-00000001", static_cast<long long>(t.created_ms));
  return buf;
}

std::string SequenceNumber(int64_t seq) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*lld", kSequenceNumberDigits, static_cast<long long>(seq));
  return buf;
}

bool ParseInt64(std::string_view s, int64_t* out) {
  if (s.empty() || s.size() > 40) return false;
  // Leading zeros of a padded sequence number are fine; the value must fit.
  size_t i = 0;
  while (i + 1 < s.size() && s[i] == '0') ++i;
  s.remove_prefix(i);
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && p == s.data() + s.size() && *out >= 0;
}

ApiError NotFound(const std::string& what) {
  return MakeError(error_type::kResourceNotFound, "Requested resource not found: " + what);
}

ApiError Validation(const std::string& message) { return MakeError(error_type::kValidation, message); }

// A stream ARN names table and label; the stream exists while that table
// life exists with a stream enabled.
struct StreamRef {
  storage::TableInfo table;
};

Result<std::pair<std::string, int64_t>> ParseStreamArn(const OpEnv& env, const std::string& arn) {
  const std::string prefix = "arn:aws:dynamodb:" + env.options->region + ":000000000000:table/";
  const size_t stream = arn.find("/stream/");
  if (arn.compare(0, prefix.size(), prefix) != 0 || stream == std::string::npos || stream < prefix.size()) {
    return Status::InvalidArgument("Invalid StreamArn: " + arn);
  }
  std::string table = arn.substr(prefix.size(), stream - prefix.size());
  int64_t label = 0;
  if (!ParseInt64(std::string_view(arn).substr(stream + 8), &label)) {
    return Status::InvalidArgument("Invalid StreamArn: " + arn);
  }
  return std::make_pair(std::move(table), label);
}

// The table behind a stream ARN, or ResourceNotFoundException.
Result<storage::TableInfo> ResolveStream(OpEnv& env, const std::string& table, int64_t label,
                                         const std::string& arn, ApiError* not_found) {
  Result<storage::TableInfo> info = env.storage->DescribeTable(table);
  if (!info.ok()) {
    if (info.status().code() != Status::Code::kNotFound) return info.status();
  } else if (info->created_ms == label &&
             info->settings.stream_view_type != storage::StreamViewType::kNone) {
    return info;
  }
  *not_found = NotFound("Stream: " + arn + " not found");
  return Status::NotFound(arn);
}

// Iterator text: et1|<table>|<created_ms>|<after_seq>|<issued_ms>. Table
// names cannot contain '|'.
std::string MakeIterator(const storage::TableInfo& t, int64_t after_seq, int64_t issued_ms) {
  return std::string(kIteratorTag) + "|" + t.name + "|" + std::to_string(t.created_ms) + "|" +
         std::to_string(after_seq) + "|" + std::to_string(issued_ms);
}

struct Iterator {
  std::string table;
  int64_t label = 0;
  int64_t after_seq = 0;
  int64_t issued_ms = 0;
};

bool ParseIterator(std::string_view text, Iterator* it) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    size_t bar = text.find('|', start);
    parts.push_back(text.substr(start, bar == std::string_view::npos ? std::string_view::npos : bar - start));
    if (bar == std::string_view::npos) break;
    start = bar + 1;
  }
  if (parts.size() != 5 || parts[0] != kIteratorTag || parts[1].empty()) return false;
  it->table = std::string(parts[1]);
  return ParseInt64(parts[2], &it->label) && ParseInt64(parts[3], &it->after_seq) &&
         ParseInt64(parts[4], &it->issued_ms);
}

Json StreamDescriptionJson(OpEnv& env, const storage::TableInfo& t) {
  Json d;
  d["StreamArn"] = StreamArn(env, t);
  d["StreamLabel"] = std::to_string(t.created_ms);
  d["StreamStatus"] = "ENABLED";
  d["StreamViewType"] = ViewName(t.settings.stream_view_type);
  d["CreationRequestDateTime"] = static_cast<double>(t.created_ms) / 1000.0;
  d["TableName"] = t.name;
  d["KeySchema"] = KeySchemaJson(t.key_schema);
  Json shard;
  shard["ShardId"] = ShardId(t);
  shard["SequenceNumberRange"] = {{"StartingSequenceNumber", SequenceNumber(env.storage->TrimmedSeq() + 1)}};
  d["Shards"] = Json::array({shard});
  return d;
}

// The key attributes of a change: from an image when there is one, else
// decoded from the stored key bytes.
Result<item::Map> ChangeKeys(const storage::ChangeRecord& c, const item::KeySchema& schema,
                             const std::optional<item::Item>& any_image) {
  if (any_image) return item::KeyOf(*any_image, schema);
  item::Map keys;
  ET_ASSIGN_OR_RETURN(keys[schema.partition.name], item::DecodeKeyValue(c.partition_key, schema.partition.type));
  if (schema.sort) {
    ET_ASSIGN_OR_RETURN(keys[schema.sort->name], item::DecodeKeyValue(c.sort_key, schema.sort->type));
  }
  return keys;
}

Result<Json> RecordJson(OpEnv& env, const storage::TableInfo& t, const storage::ChangeRecord& c) {
  std::optional<item::Item> old_image, new_image;
  if (c.old_image) {
    ET_ASSIGN_OR_RETURN(old_image, wire::DecodeItem(*c.old_image));
  }
  if (c.new_image) {
    ET_ASSIGN_OR_RETURN(new_image, wire::DecodeItem(*c.new_image));
  }
  ET_ASSIGN_OR_RETURN(item::Map keys, ChangeKeys(c, t.key_schema, new_image ? new_image : old_image));
  const storage::StreamViewType view = t.settings.stream_view_type;
  Json d;
  d["ApproximateCreationDateTime"] = c.version.hlc_ms / 1000;
  d["Keys"] = ItemJson(keys);
  int64_t size = item::ItemSize(keys);
  const bool want_new = view == storage::StreamViewType::kNewImage ||
                        view == storage::StreamViewType::kNewAndOldImages;
  const bool want_old = view == storage::StreamViewType::kOldImage ||
                        view == storage::StreamViewType::kNewAndOldImages;
  if (want_new && new_image) {
    d["NewImage"] = ItemJson(*new_image);
    size += item::ItemSize(*new_image);
  }
  if (want_old && old_image) {
    d["OldImage"] = ItemJson(*old_image);
    size += item::ItemSize(*old_image);
  }
  d["SequenceNumber"] = SequenceNumber(c.seq);
  d["SizeBytes"] = size;
  d["StreamViewType"] = ViewName(view);
  Json r;
  r["eventID"] = SequenceNumber(c.seq);
  r["eventName"] = std::string(storage::ChangeOpName(c.op));
  r["eventVersion"] = "1.1";
  r["eventSource"] = "aws:dynamodb";
  r["awsRegion"] = env.options->region;
  r["dynamodb"] = std::move(d);
  if (c.ttl_delete) {
    // The Streams API spells the members PrincipalId / Type (Lambda's event
    // JSON lowercases them).
    r["userIdentity"] = {{"Type", "Service"}, {"PrincipalId", "dynamodb.amazonaws.com"}};
  }
  return r;
}

}  // namespace

Reply ListStreams(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::optional<std::string> table_filter, OptString(req, "TableName"));
  ET_ASSIGN_OR_RETURN(std::optional<std::string> start_arn, OptString(req, "ExclusiveStartStreamArn"));
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> limit, OptInt(req, "Limit"));
  if (limit && (*limit < 1 || *limit > kListStreamsLimitMax)) {
    return Validation("1 validation error detected: Value '" + std::to_string(*limit) +
                      "' at 'limit' failed to satisfy constraint: Member must have value less than or "
                      "equal to 100 and greater than or equal to 1");
  }
  const size_t max = static_cast<size_t>(limit.value_or(kListStreamsLimitMax));
  Json streams = Json::array();
  std::optional<std::string> last_arn;
  auto add = [&](const storage::TableInfo& t) {
    if (t.settings.stream_view_type == storage::StreamViewType::kNone) return;
    streams.push_back({{"StreamArn", StreamArn(env, t)},
                       {"TableName", t.name},
                       {"StreamLabel", std::to_string(t.created_ms)}});
  };
  if (table_filter) {
    Result<storage::TableInfo> t = env.storage->DescribeTable(*table_filter);
    if (!t.ok()) {
      if (t.status().code() == Status::Code::kNotFound) return NotFound("Table: " + *table_filter + " not found");
      return t.status();
    }
    if (!start_arn || *start_arn < StreamArn(env, *t)) add(*t);
    return Json{{"Streams", streams}};
  }
  std::optional<std::string> after;
  if (start_arn) {
    Result<std::pair<std::string, int64_t>> parsed = ParseStreamArn(env, *start_arn);
    if (!parsed.ok()) return Validation(parsed.status().message());
    after = parsed->first;
  }
  for (;;) {
    ET_ASSIGN_OR_RETURN(storage::TableList page, env.storage->ListTables(after));
    for (const std::string& name : page.names) {
      Result<storage::TableInfo> t = env.storage->DescribeTable(name);
      if (!t.ok()) continue;  // deleted since the listing
      if (streams.size() == max) {
        if (t->settings.stream_view_type != storage::StreamViewType::kNone) {
          last_arn = streams.back()["StreamArn"].get<std::string>();
          break;
        }
        continue;
      }
      add(*t);
    }
    if (last_arn || !page.last_evaluated_name) break;
    after = page.last_evaluated_name;
  }
  Json out{{"Streams", streams}};
  if (last_arn) out["LastEvaluatedStreamArn"] = *last_arn;
  return out;
}

Reply DescribeStream(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string arn, RequiredString(req, "StreamArn"));
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> limit, OptInt(req, "Limit"));
  if (limit && (*limit < 1 || *limit > 100)) {
    return Validation("1 validation error detected: Value '" + std::to_string(*limit) +
                      "' at 'limit' failed to satisfy constraint: Member must have value less than or "
                      "equal to 100 and greater than or equal to 1");
  }
  ET_ASSIGN_OR_RETURN(std::optional<std::string> start_shard, OptString(req, "ExclusiveStartShardId"));
  Result<std::pair<std::string, int64_t>> parsed = ParseStreamArn(env, arn);
  if (!parsed.ok()) return Validation(parsed.status().message());
  ApiError not_found;
  Result<storage::TableInfo> t = ResolveStream(env, parsed->first, parsed->second, arn, &not_found);
  if (!t.ok()) {
    if (t.status().code() == Status::Code::kNotFound) return not_found;
    return t.status();
  }
  Json d = StreamDescriptionJson(env, *t);
  if (start_shard && *start_shard >= ShardId(*t)) d["Shards"] = Json::array();
  return Json{{"StreamDescription", d}};
}

Reply GetShardIterator(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string arn, RequiredString(req, "StreamArn"));
  ET_ASSIGN_OR_RETURN(std::string shard, RequiredString(req, "ShardId"));
  ET_ASSIGN_OR_RETURN(std::string type, Enum(req, "ShardIteratorType",
                                             {"TRIM_HORIZON", "LATEST", "AT_SEQUENCE_NUMBER",
                                              "AFTER_SEQUENCE_NUMBER"}, ""));
  if (type.empty()) return MissingParameter("shardIteratorType");
  ET_ASSIGN_OR_RETURN(std::optional<std::string> seq_text, OptString(req, "SequenceNumber"));
  Result<std::pair<std::string, int64_t>> parsed = ParseStreamArn(env, arn);
  if (!parsed.ok()) return Validation(parsed.status().message());
  ApiError not_found;
  Result<storage::TableInfo> t = ResolveStream(env, parsed->first, parsed->second, arn, &not_found);
  if (!t.ok()) {
    if (t.status().code() == Status::Code::kNotFound) return not_found;
    return t.status();
  }
  if (shard != ShardId(*t)) return NotFound("Shard: " + shard + " in Stream: " + arn + " not found");
  const bool by_seq = type == "AT_SEQUENCE_NUMBER" || type == "AFTER_SEQUENCE_NUMBER";
  if (by_seq != seq_text.has_value()) {
    return Validation(by_seq ? "SequenceNumber is required for ShardIteratorType " + type
                             : "SequenceNumber must not be given for ShardIteratorType " + type);
  }
  const int64_t trimmed = env.storage->TrimmedSeq();
  int64_t after = 0;
  if (type == "TRIM_HORIZON") {
    after = trimmed;
  } else if (type == "LATEST") {
    after = env.storage->Stats().last_seq;
  } else {
    int64_t seq = 0;
    if (!ParseInt64(*seq_text, &seq) || seq < 1) {
      return Validation("Invalid SequenceNumber: " + *seq_text);
    }
    after = type == "AT_SEQUENCE_NUMBER" ? seq - 1 : seq;
    if (after < trimmed) {
      return MakeError(error_type::kTrimmedDataAccess,
                       "The requested sequence number " + *seq_text +
                           " is beyond the trim horizon of the stream (records up to " +
                           SequenceNumber(trimmed) + " were trimmed)");
    }
    if (after > env.storage->Stats().last_seq) {
      return Validation("Invalid SequenceNumber: " + *seq_text + " is after the last record of the stream");
    }
  }
  return Json{{"ShardIterator", MakeIterator(*t, after, env.options->clock->NowMs())}};
}

Reply GetRecords(OpEnv& env, const Json& req) {
  ET_ASSIGN_OR_RETURN(std::string text, RequiredString(req, "ShardIterator"));
  ET_ASSIGN_OR_RETURN(std::optional<int64_t> limit, OptInt(req, "Limit"));
  if (limit && (*limit < 1 || *limit > kGetRecordsLimitMax)) {
    return Validation("1 validation error detected: Value '" + std::to_string(*limit) +
                      "' at 'limit' failed to satisfy constraint: Member must have value less than or "
                      "equal to 1000 and greater than or equal to 1");
  }
  Iterator it;
  if (!ParseIterator(text, &it)) return Validation("Invalid ShardIterator");
  const int64_t now_ms = env.options->clock->NowMs();
  if (now_ms - it.issued_ms > kIteratorLifetimeMs) {
    return MakeError(error_type::kExpiredIterator,
                     "Iterator expired. The iterator was created at time " + std::to_string(it.issued_ms / 1000) +
                         " while right now the time is " + std::to_string(now_ms / 1000));
  }
  const std::string arn = TableArn(env, it.table) + "/stream/" + std::to_string(it.label);
  ApiError not_found;
  Result<storage::TableInfo> t = ResolveStream(env, it.table, it.label, arn, &not_found);
  if (!t.ok()) {
    if (t.status().code() == Status::Code::kNotFound) return not_found;
    return t.status();
  }
  if (it.after_seq < env.storage->TrimmedSeq()) {
    return MakeError(error_type::kTrimmedDataAccess,
                     "The iterator's position " + SequenceNumber(it.after_seq + 1) +
                         " is beyond the trim horizon of the stream");
  }
  const int64_t last = env.storage->Stats().last_seq;
  const int64_t through = std::min(last, it.after_seq + kGetRecordsScanMax);
  const int n = static_cast<int>(limit.value_or(kGetRecordsLimitMax));
  std::vector<storage::ChangeRecord> changes;
  if (through > it.after_seq) {
    ET_ASSIGN_OR_RETURN(changes, env.storage->ReadTableChanges(t->id, it.after_seq, through, n));
  }
  Json records = Json::array();
  for (const storage::ChangeRecord& c : changes) {
    ET_ASSIGN_OR_RETURN(Json r, RecordJson(env, *t, c));
    records.push_back(std::move(r));
  }
  // A full page resumes after its last record; a short one covered the
  // whole scanned range.
  const int64_t next = static_cast<int>(changes.size()) == n ? changes.back().seq : std::max(through, it.after_seq);
  return Json{{"Records", records}, {"NextShardIterator", MakeIterator(*t, next, now_ms)}};
}

}  // namespace edgetable::api::internal
