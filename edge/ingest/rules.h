#pragma once
// edge/ingest rules: how an MQTT message becomes items.
//
// A rule maps a topic filter to a table. The filter is an MQTT filter whose
// single-level wildcards may carry a name: "sensors/{device}/telemetry" is
// subscribed as "sensors/+/telemetry" and the level's value is available as
// "topic:device". '+' and a final '#' are allowed as usual.
//
// A message on a matching topic is decoded by the rule's format:
//   json         an object -> one item; an array of objects -> one item each
//                (an empty array -> no item); numbers stay exact
//                (item::ValueFromPlainJson).
//   flatbuffers  schemas/telemetry.fbs: one item per reading, made from the
//                record {"device": <frame device>, "ts": <ts_ms>, <fields>}.
// Each record (the object, or the reading's record) becomes an item:
//   1. every field of the record is an attribute;
//   2. the partition key attribute (type S) is set from a named topic level
//      ("topic:NAME") or a record field ("payload:FIELD", which must be a
//      non-empty string);
//   3. the sort key attribute (type N, epoch MILLISECONDS) is set from a
//      record field ("payload:FIELD") read as `time_format` (epoch_s: an N in
//      seconds, a fraction is kept to the millisecond and below that
//      truncated; epoch_ms: an N in milliseconds, truncated to an integer;
//      iso8601: an S like 2024-05-01T12:00:00.250Z or ...+02:00, a zone is
//      required), or from the arrival time ("arrival": the receive time in
//      epoch ms plus a 6-digit fraction from a process-wide counter, so
//      that messages arriving in the same millisecond never overwrite each
//      other);
//   4. the static attributes are set (they win over record fields);
//   5. with a ttl, the TTL attribute is set to arrival time + ttl in epoch
//      SECONDS (DynamoDB's TTL convention) and the table's TTL attribute is
//      this attribute name.
// Mapping is all-or-nothing per message and rule: any problem (bad JSON,
// wrong FlatBuffers, an element that is not an object, a missing or
// ill-typed key field, a payload over kPayloadBytesMax) makes the whole
// message a dead letter with the reason (see ingest.h).
//
// Threads: pure functions and immutable values.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/limits.h"
#include "edge/base/status.h"
#include "edge/item/key.h"
#include "edge/item/value.h"

namespace edgetable::ingest {

// A payload larger than this is a dead letter without being parsed (an item
// is at most 400 KB, and a message is decoded in memory at once).
inline constexpr int64_t kPayloadBytesMax = limits::kItemBytesMax;

// A rule as written in the configuration ([[ingest.rules]] in TOML).
// Empty strings mean "the default" where one is stated.
struct RuleConfig {
  std::string topic;                         // required: filter with {name} levels
  std::string table;                         // required
  std::string format = "json";               // json | flatbuffers
  std::string partition_key = "device";      // attribute name (S)
  std::string partition_from;                // topic:NAME | payload:FIELD;
                                             // default: topic:<first named level>
                                             // if any, else payload:<partition_key>
  std::string sort_key = "ts";               // attribute name (N, epoch ms)
  std::string sort_from;                     // payload:FIELD | arrival;
                                             // default payload:<sort_key>
  std::string time_format = "epoch_ms";      // epoch_s | epoch_ms | iso8601
  std::string ttl;                           // e.g. "30d", "12h", "90m", "3600s"; empty: none
  std::string ttl_attribute = "expires_at";  // used only with ttl
  item::Map attributes;                      // static attributes
};

enum class PayloadFormat : uint8_t { kJson, kFlatBuffers };
enum class TimeFormat : uint8_t { kEpochS, kEpochMs, kIso8601 };

struct ValueSource {
  enum class Kind : uint8_t { kTopicLevel, kPayloadField, kArrival };
  Kind kind = Kind::kPayloadField;
  std::string name;  // the level or field name; empty for kArrival
  int level = -1;    // kTopicLevel: index of the level in the topic
};

// A validated rule.
struct Rule {
  std::string label;   // "ingest.rules[2] (sensors/{device}/t)" for messages
  std::string topic;   // as configured
  std::string filter;  // the MQTT filter subscribed: {name} -> +
  std::vector<std::string> level_names;  // per filter level; "" when unnamed
  std::string table;
  PayloadFormat format = PayloadFormat::kJson;
  item::KeySchema key_schema;  // partition S, sort N
  ValueSource partition_from;
  ValueSource sort_from;
  TimeFormat time_format = TimeFormat::kEpochMs;
  int64_t ttl_s = 0;  // 0: no TTL attribute
  std::string ttl_attribute;
  item::Map attributes;
};

// Validates a configured rule. `index` is its position in the config.
// Returns kInvalidArgument "ingest.rules[<index>] (<topic>): <key>: <problem>"
// for: an empty or malformed topic ('#' not last, wildcards or {name} not a
// whole level, a name used twice, $share/ prefixes), a table name DynamoDB
// would refuse, an unknown format or time_format, a partition_from that
// names no level of the topic or is not topic:/payload:, a sort_from that is
// not payload:/arrival, equal or empty key names, a bad ttl, a static
// attribute that is a key attribute or the TTL attribute or is invalid, a
// flatbuffers rule whose sort comes from "ts" with a time_format other than
// epoch_ms.
Result<Rule> CompileRule(const RuleConfig& config, int index);

// Checks a set of rules together: two rules that name the same table must
// agree on its key schema and TTL attribute. Returns kInvalidArgument naming
// the later rule.
Status CheckRulesAgree(const std::vector<Rule>& rules);

// MQTT topic matching (MQTT 3.1.1, 4.7): '+' matches one level (also an
// empty one), a final '#' matches the parent and any number of levels;
// topics starting with '$' match no filter that starts with a wildcard.
bool TopicMatches(std::string_view filter, std::string_view topic);

// Parses "30d", "12h", "90m", "45s" (a positive integer and one unit) into
// seconds. Returns kInvalidArgument naming the text.
Result<int64_t> ParseDurationSeconds(std::string_view text);

// Parses an ISO-8601 date-time with a zone ("2024-05-01T12:00:00Z",
// "2024-05-01 12:00:00.25+02:00", "...-0330") into epoch milliseconds
// (fractions below a millisecond are truncated). kInvalidArgument otherwise.
Result<int64_t> ParseIso8601Ms(std::string_view text);

// What a message arrival supplies besides its bytes.
struct Arrival {
  int64_t now_ms = 0;    // wall-clock receive time
  uint64_t seq = 0;      // process-wide counter, for arrival sort keys
};

// Maps one message on `topic` (which must match rule.filter) to items.
// Returns the items (possibly none), or kInvalidArgument with the reason
// that goes into the dead-letter item.
Result<std::vector<item::Item>> MapMessage(const Rule& rule, std::string_view topic,
                                           std::string_view payload, const Arrival& arrival);

}  // namespace edgetable::ingest
