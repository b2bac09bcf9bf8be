// Rule parsing and validation, topic matching, key extraction (rules.h).
#include "edge/ingest/rules.h"

#include <gtest/gtest.h>

#include "edge/item/json.h"
#include "edge/wire/telemetry_codec.h"

namespace edgetable::ingest {
namespace {

using item::Item;
using item::Number;
using item::Value;

RuleConfig Basic() {
  RuleConfig c;
  c.topic = "sensors/{device}/telemetry";
  c.table = "telemetry";
  return c;
}

Rule Compile(const RuleConfig& c) {
  Result<Rule> r = CompileRule(c, 0);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : Rule{};
}

std::string CompileError(const RuleConfig& c, int index = 2) {
  Result<Rule> r = CompileRule(c, index);
  EXPECT_FALSE(r.ok());
  return r.ok() ? "" : r.status().message();
}

Value N(const std::string& s) { return Value::N(*Number::Parse(s)); }

TEST(TopicMatches, Wildcards) {
  EXPECT_TRUE(TopicMatches("a/b/c", "a/b/c"));
  EXPECT_FALSE(TopicMatches("a/b/c", "a/b"));
  EXPECT_FALSE(TopicMatches("a/b", "a/b/c"));
  EXPECT_TRUE(TopicMatches("a/+/c", "a/x/c"));
  EXPECT_TRUE(TopicMatches("a/+/c", "a//c"));
  EXPECT_FALSE(TopicMatches("a/+/c", "a/x/y/c"));
  EXPECT_TRUE(TopicMatches("a/#", "a"));
  EXPECT_TRUE(TopicMatches("a/#", "a/b/c"));
  EXPECT_TRUE(TopicMatches("#", "x/y"));
  EXPECT_FALSE(TopicMatches("#", "$SYS/broker"));
  EXPECT_FALSE(TopicMatches("+/broker", "$SYS/broker"));
  EXPECT_TRUE(TopicMatches("$SYS/#", "$SYS/broker"));
  EXPECT_TRUE(TopicMatches("+", "x"));
  EXPECT_FALSE(TopicMatches("+", "x/y"));
}

TEST(CompileRule, NamedLevelsBecomePlus) {
  Rule r = Compile(Basic());
  EXPECT_EQ(r.filter, "sensors/+/telemetry");
  EXPECT_EQ(r.partition_from.kind, ValueSource::Kind::kTopicLevel);
  EXPECT_EQ(r.partition_from.level, 1);
  EXPECT_EQ(r.sort_from.kind, ValueSource::Kind::kPayloadField);
  EXPECT_EQ(r.sort_from.name, "ts");
  EXPECT_EQ(r.key_schema.partition.name, "device");
  EXPECT_EQ(r.key_schema.partition.type, item::Type::kS);
  EXPECT_EQ(r.key_schema.sort->type, item::Type::kN);
  EXPECT_EQ(r.label, "ingest.rules[0] (sensors/{device}/telemetry)");
}

TEST(CompileRule, DefaultsToPayloadWithoutNamedLevel) {
  RuleConfig c = Basic();
  c.topic = "sensors/+/telemetry";
  Rule r = Compile(c);
  EXPECT_EQ(r.partition_from.kind, ValueSource::Kind::kPayloadField);
  EXPECT_EQ(r.partition_from.name, "device");
}

TEST(CompileRule, ErrorsNameRuleAndKey) {
  RuleConfig c = Basic();
  c.topic = "sensors/+/t";
  c.table = "x";
  EXPECT_EQ(CompileError(c), "ingest.rules[2] (sensors/+/t): table: 'x' is not 3 to 255 characters of a-z A-Z 0-9 _ - .");
  c = Basic();
  c.topic = "a/#/b";
  EXPECT_NE(CompileError(c).find("ingest.rules[2] (a/#/b): topic: '#' must be the last level"), std::string::npos);
  c.topic = "a/b+/c";
  EXPECT_NE(CompileError(c).find("topic: wildcards"), std::string::npos);
  c.topic = "a/{d}/{d}";
  EXPECT_NE(CompileError(c).find("used twice"), std::string::npos);
  c.topic = "";
  EXPECT_NE(CompileError(c).find("topic: is required"), std::string::npos);
  c.topic = "$share/g/a";
  EXPECT_NE(CompileError(c).find("topic:"), std::string::npos);
  c = Basic();
  c.format = "xml";
  EXPECT_NE(CompileError(c).find("format: 'xml' is not one of json, flatbuffers"), std::string::npos);
  c = Basic();
  c.partition_from = "topic:site";
  EXPECT_NE(CompileError(c).find("partition_from: the topic has no level named {site}"), std::string::npos);
  c.partition_from = "arrival";
  EXPECT_NE(CompileError(c).find("partition_from:"), std::string::npos);
  c = Basic();
  c.sort_from = "topic:device";
  EXPECT_NE(CompileError(c).find("sort_from:"), std::string::npos);
  c = Basic();
  c.time_format = "unix";
  EXPECT_NE(CompileError(c).find("time_format:"), std::string::npos);
  c = Basic();
  c.ttl = "30x";
  EXPECT_NE(CompileError(c).find("ttl: '30x' is not a duration"), std::string::npos);
  c = Basic();
  c.sort_key = "device";
  EXPECT_NE(CompileError(c).find("sort_key: must differ"), std::string::npos);
  c = Basic();
  c.attributes["device"] = Value::S("x");
  EXPECT_NE(CompileError(c).find("attributes.device: is a key attribute"), std::string::npos);
  c = Basic();
  c.ttl = "1d";
  c.attributes["expires_at"] = Value::N(Number::FromInt(1));
  EXPECT_NE(CompileError(c).find("attributes.expires_at: is the TTL attribute"), std::string::npos);
  c = Basic();
  c.format = "flatbuffers";
  c.time_format = "epoch_s";
  EXPECT_NE(CompileError(c).find("time_format: a FlatBuffers reading's ts is in epoch_ms"), std::string::npos);
}

TEST(CheckRulesAgree, SameTableSameSchema) {
  RuleConfig a = Basic();
  RuleConfig b = Basic();
  b.topic = "other/{device}";
  b.sort_key = "time";
  std::vector<Rule> rules{Compile(a), *CompileRule(b, 1)};
  Status st = CheckRulesAgree(rules);
  ASSERT_FALSE(st.ok());
  EXPECT_NE(st.message().find("ingest.rules[1] (other/{device}): table: 'telemetry' has another key schema"),
            std::string::npos);
}

TEST(Duration, Units) {
  EXPECT_EQ(*ParseDurationSeconds("45s"), 45);
  EXPECT_EQ(*ParseDurationSeconds("90m"), 5400);
  EXPECT_EQ(*ParseDurationSeconds("12h"), 43200);
  EXPECT_EQ(*ParseDurationSeconds("30d"), 2592000);
  EXPECT_FALSE(ParseDurationSeconds("0d").ok());
  EXPECT_FALSE(ParseDurationSeconds("d").ok());
  EXPECT_FALSE(ParseDurationSeconds("-1d").ok());
  EXPECT_FALSE(ParseDurationSeconds("1w").ok());
  EXPECT_FALSE(ParseDurationSeconds("99999999999d").ok());
}

TEST(Iso8601, ParsesZonesAndFractions) {
  EXPECT_EQ(*ParseIso8601Ms("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(*ParseIso8601Ms("2024-05-01T12:00:00Z"), 1714564800000);
  EXPECT_EQ(*ParseIso8601Ms("2024-05-01T12:00:00.25Z"), 1714564800250);
  EXPECT_EQ(*ParseIso8601Ms("2024-05-01T12:00:00.123456789Z"), 1714564800123);
  EXPECT_EQ(*ParseIso8601Ms("2024-05-01T14:00:00+02:00"), 1714564800000);
  EXPECT_EQ(*ParseIso8601Ms("2024-05-01 08:30:00-0330"), 1714564800000);
  EXPECT_EQ(*ParseIso8601Ms("2000-02-29T00:00:00Z"), 951782400000);
  EXPECT_EQ(*ParseIso8601Ms("1969-12-31T23:59:59Z"), -1000);
  EXPECT_FALSE(ParseIso8601Ms("2024-05-01T12:00:00").ok());  // no zone
  EXPECT_FALSE(ParseIso8601Ms("2023-02-29T00:00:00Z").ok());
  EXPECT_FALSE(ParseIso8601Ms("2024-13-01T00:00:00Z").ok());
  EXPECT_FALSE(ParseIso8601Ms("2024-05-01T12:00:00Zx").ok());
  EXPECT_FALSE(ParseIso8601Ms("2024-05-01").ok());
  EXPECT_FALSE(ParseIso8601Ms("").ok());
}

TEST(MapMessage, JsonObjectKeysFromTopicAndPayload) {
  RuleConfig c = Basic();
  c.ttl = "1d";
  c.attributes["site"] = Value::S("plant-7");
  Rule r = Compile(c);
  Arrival a{1'700'000'000'500, 7};
  auto items = MapMessage(r, "sensors/dev-1/telemetry",
                          R"({"ts": 1700000000123, "temp": 21.50000000000000000001, "ok": true})", a);
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 1u);
  const Item& it = (*items)[0];
  EXPECT_EQ(it.at("device"), Value::S("dev-1"));
  EXPECT_EQ(it.at("ts"), N("1700000000123"));
  EXPECT_EQ(it.at("temp"), N("21.50000000000000000001"));  // exact
  EXPECT_EQ(it.at("ok"), Value::Bool(true));
  EXPECT_EQ(it.at("site"), Value::S("plant-7"));
  EXPECT_EQ(it.at("expires_at"), N(std::to_string(1'700'000'000 + 86400)));
}

TEST(MapMessage, JsonArrayMakesManyItems) {
  RuleConfig c = Basic();
  c.topic = "plant/+/batch";
  c.partition_from = "payload:id";
  c.sort_from = "payload:t";
  c.time_format = "epoch_s";
  Rule r = Compile(c);
  auto items = MapMessage(r, "plant/x/batch",
                          R"([{"id":"a","t":1700000000.5},{"id":"b","t":1700000001}])", Arrival{1, 0});
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 2u);
  EXPECT_EQ((*items)[0].at("device"), Value::S("a"));
  EXPECT_EQ((*items)[0].at("ts"), N("1700000000500"));
  EXPECT_EQ((*items)[0].at("id"), Value::S("a"));  // the source field stays
  EXPECT_EQ((*items)[1].at("ts"), N("1700000001000"));
  auto empty = MapMessage(r, "plant/x/batch", "[]", Arrival{1, 0});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
}

TEST(MapMessage, IsoAndArrivalSortKeys) {
  RuleConfig c = Basic();
  c.time_format = "iso8601";
  c.sort_from = "payload:time";
  Rule r = Compile(c);
  auto items = MapMessage(r, "sensors/d/telemetry", R"({"time":"2024-05-01T12:00:00.250Z"})", Arrival{1, 0});
  ASSERT_TRUE(items.ok()) << items.status().message();
  EXPECT_EQ((*items)[0].at("ts"), N("1714564800250"));
  EXPECT_EQ((*items)[0].at("time"), Value::S("2024-05-01T12:00:00.250Z"));

  c = Basic();
  c.sort_from = "arrival";
  r = Compile(c);
  auto a1 = MapMessage(r, "sensors/d/telemetry", R"({"v":1})", Arrival{1700000000000, 41});
  auto a2 = MapMessage(r, "sensors/d/telemetry", R"({"v":1})", Arrival{1700000000000, 42});
  ASSERT_TRUE(a1.ok() && a2.ok());
  EXPECT_EQ((*a1)[0].at("ts"), N("1700000000000.000041"));
  EXPECT_NE((*a1)[0].at("ts"), (*a2)[0].at("ts"));
}

TEST(MapMessage, BadInputReasons) {
  Rule r = Compile(Basic());
  auto reason = [&](std::string_view topic, std::string_view payload) {
    auto items = MapMessage(r, topic, payload, Arrival{1, 0});
    EXPECT_FALSE(items.ok());
    return items.ok() ? std::string() : items.status().message();
  };
  EXPECT_NE(reason("sensors/d/telemetry", "{\"ts\": 1,").find("Invalid JSON at byte"), std::string::npos);
  EXPECT_EQ(reason("sensors/d/telemetry", "{\"temp\": 1}"), "missing sort key field 'ts'");
  EXPECT_EQ(reason("sensors/d/telemetry", "{\"ts\": \"1\"}"),
            "sort key field 'ts' is of type S, expected a number");
  EXPECT_EQ(reason("sensors/d/telemetry", "{\"ts\": -5}"), "sort key field 'ts' is negative");
  EXPECT_EQ(reason("sensors/d/telemetry", "42"), "payload is a JSON N, not an object or an array of objects");
  EXPECT_EQ(reason("sensors/d/telemetry", "[{\"ts\":1}, 3]"), "payload element [1] is not a JSON object");
  EXPECT_EQ(reason("sensors//telemetry", "{\"ts\":1}"), "topic level {device} is empty in 'sensors//telemetry'");
  std::string big(kPayloadBytesMax + 1, ' ');
  EXPECT_NE(reason("sensors/d/telemetry", big).find("over the limit"), std::string::npos);

  RuleConfig c = Basic();
  c.topic = "sensors/+/telemetry";
  r = Compile(c);
  EXPECT_EQ(reason("sensors/d/telemetry", "{\"ts\":1}"), "missing partition key field 'device'");
  EXPECT_EQ(reason("sensors/d/telemetry", "{\"ts\":1, \"device\": 5}"),
            "partition key field 'device' is of type N, expected a non-empty string");
  EXPECT_EQ(reason("sensors/d/telemetry", "[{\"ts\":1, \"device\": \"a\"}, {\"ts\":1}]"),
            "element [1]: missing partition key field 'device'");
}

TEST(MapMessage, FlatBuffersBatch) {
  RuleConfig c = Basic();
  c.topic = "fb/+";
  c.format = "flatbuffers";
  c.attributes["site"] = Value::S("p7");
  Rule r = Compile(c);
  wire::TelemetryFrame f;
  f.device = "dev-9";
  for (int i = 0; i < 3; ++i) {
    wire::TelemetryReading rd;
    rd.ts_ms = 1700000000000 + i;
    rd.fields.emplace_back("temp", N("21.5"));
    rd.fields.emplace_back("count", Value::N(Number::FromInt(i)));
    rd.fields.emplace_back("state", Value::S("ok"));
    f.readings.push_back(rd);
  }
  std::string bytes = wire::EncodeTelemetryFrame(f);
  auto items = MapMessage(r, "fb/x", bytes, Arrival{1, 0});
  ASSERT_TRUE(items.ok()) << items.status().message();
  ASSERT_EQ(items->size(), 3u);
  EXPECT_EQ((*items)[2].at("device"), Value::S("dev-9"));
  EXPECT_EQ((*items)[2].at("ts"), N("1700000000002"));
  EXPECT_EQ((*items)[2].at("temp"), N("21.5"));
  EXPECT_EQ((*items)[2].at("count"), N("2"));
  EXPECT_EQ((*items)[2].at("state"), Value::S("ok"));
  EXPECT_EQ((*items)[2].at("site"), Value::S("p7"));

  auto bad = MapMessage(r, "fb/x", "{\"not\": \"flatbuffers\"}", Arrival{1, 0});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("not a valid telemetry frame"), std::string::npos);
}

}  // namespace
}  // namespace edgetable::ingest
