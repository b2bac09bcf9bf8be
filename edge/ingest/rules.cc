#include "edge/ingest/rules.h"

#include <charconv>
#include <set>

#include "edge/item/json.h"
#include "edge/item/number.h"
#include "edge/item/validate.h"
#include "edge/wire/telemetry_codec.h"

namespace edgetable::ingest {
namespace {

std::vector<std::string_view> SplitLevels(std::string_view s) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    size_t slash = s.find('/', start);
    if (slash == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, slash - start));
    start = slash + 1;
  }
}

bool ValidTableName(std::string_view name) {
  if (static_cast<int64_t>(name.size()) < limits::kTableNameBytesMin ||
      static_cast<int64_t>(name.size()) > limits::kTableNameBytesMax) {
    return false;
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

// Parses "topic:NAME", "payload:FIELD" or "arrival".
Result<ValueSource> ParseSource(std::string_view text) {
  ValueSource s;
  if (text == "arrival") {
    s.kind = ValueSource::Kind::kArrival;
    return s;
  }
  auto colon = text.find(':');
  if (colon != std::string_view::npos) {
    std::string_view kind = text.substr(0, colon);
    s.name = std::string(text.substr(colon + 1));
    if (!s.name.empty()) {
      if (kind == "topic") {
        s.kind = ValueSource::Kind::kTopicLevel;
        return s;
      }
      if (kind == "payload") {
        s.kind = ValueSource::Kind::kPayloadField;
        return s;
      }
    }
  }
  return Status::InvalidArgument("'" + std::string(text) +
                                 "' is not topic:NAME, payload:FIELD or arrival");
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar.
int64_t DaysFromCivil(int64_t y, int64_t m, int64_t d) {
  y -= m <= 2;
  const int64_t era = FloorDiv(y, 400);
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

bool Digits(std::string_view s, size_t pos, size_t n, int64_t* out) {
  if (pos + n > s.size()) return false;
  int64_t v = 0;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return true;
}

// A non-negative N scaled by 10^scale, truncated to an integer.
Result<int64_t> ScaledInt(const item::Number& n, int scale) {
  if (n.negative()) return Status::InvalidArgument("is negative");
  if (n.is_zero()) return int64_t{0};
  int64_t exp = static_cast<int64_t>(n.exponent()) + scale;  // value = d1.d2.. * 10^exp
  if (exp < 0) return int64_t{0};
  if (exp > 17) return Status::InvalidArgument("is too large for a time");
  const std::string& d = n.digits();
  int64_t v = 0;
  for (int64_t i = 0; i <= exp; ++i) {
    v = v * 10 + (i < static_cast<int64_t>(d.size()) ? d[static_cast<size_t>(i)] - '0' : 0);
  }
  return v;
}

Result<item::Number> ArrivalNumber(const Arrival& a) {
  std::string frac = std::to_string(a.seq % 1000000);
  frac.insert(0, 6 - frac.size(), '0');
  return item::Number::Parse(std::to_string(a.now_ms) + "." + frac);
}

// Turns the decoded payload into records (one per future item).
Result<std::vector<item::Map>> Records(const Rule& rule, std::string_view payload) {
  std::vector<item::Map> records;
  if (rule.format == PayloadFormat::kJson) {
    Result<item::Value> v = item::ValueFromPlainJson(payload);
    if (!v.ok()) return v.status();
    if (v->is(item::Type::kM)) {
      records.push_back(std::move(v->m()));
      return records;
    }
    if (!v->is(item::Type::kL)) {
      return Status::InvalidArgument("payload is a JSON " +
                                     std::string(item::TypeName(v->type())) +
                                     ", not an object or an array of objects");
    }
    records.reserve(v->l().size());
    for (size_t i = 0; i < v->l().size(); ++i) {
      item::Value& e = v->l()[i];
      if (!e.is(item::Type::kM)) {
        return Status::InvalidArgument("payload element [" + std::to_string(i) +
                                       "] is not a JSON object");
      }
      records.push_back(std::move(e.m()));
    }
    return records;
  }
  Result<wire::TelemetryFrame> frame = wire::DecodeTelemetryFrame(payload);
  if (!frame.ok()) return frame.status();
  records.reserve(frame->readings.size());
  for (size_t i = 0; i < frame->readings.size(); ++i) {
    wire::TelemetryReading& r = frame->readings[i];
    item::Map m;
    for (auto& [name, value] : r.fields) {
      if (name == "device" || name == "ts") {
        return Status::InvalidArgument("readings[" + std::to_string(i) + "]: field name '" +
                                       name + "' is reserved");
      }
      m[name] = std::move(value);
    }
    m["device"] = item::Value::S(frame->device);
    m["ts"] = item::Value::N(item::Number::FromInt(r.ts_ms));
    records.push_back(std::move(m));
  }
  return records;
}

}  // namespace

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic.front() == '$' && !filter.empty() &&
      (filter.front() == '+' || filter.front() == '#')) {
    return false;
  }
  std::vector<std::string_view> f = SplitLevels(filter);
  std::vector<std::string_view> t = SplitLevels(topic);
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == "#") return true;  // also matches the parent level
    if (i >= t.size()) return false;
    if (f[i] != "+" && f[i] != t[i]) return false;
  }
  return f.size() == t.size();
}

Result<int64_t> ParseDurationSeconds(std::string_view text) {
  auto bad = [&] {
    return Status::InvalidArgument("'" + std::string(text) +
                                   "' is not a duration like 30d, 12h, 90m or 45s");
  };
  if (text.size() < 2) return bad();
  int64_t n = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size() - 1, n);
  if (ec != std::errc() || ptr != text.data() + text.size() - 1 || n <= 0) return bad();
  int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = 1; break;
    case 'm': unit = 60; break;
    case 'h': unit = 3600; break;
    case 'd': unit = 86400; break;
    default: return bad();
  }
  if (n > (int64_t{100} * 365 * 86400) / unit) {
    return Status::InvalidArgument("'" + std::string(text) + "' is longer than 100 years");
  }
  return n * unit;
}

Result<int64_t> ParseIso8601Ms(std::string_view s) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument("'" + std::string(s) + "' is not an ISO-8601 time (" +
                                   std::string(why) + ")");
  };
  int64_t y, mo, d, h, mi, sec;
  if (!Digits(s, 0, 4, &y) || s.size() < 19 || s[4] != '-' || !Digits(s, 5, 2, &mo) ||
      s[7] != '-' || !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !Digits(s, 11, 2, &h) || s[13] != ':' || !Digits(s, 14, 2, &mi) || s[16] != ':' ||
      !Digits(s, 17, 2, &sec)) {
    return bad("expected YYYY-MM-DDTHH:MM:SS");
  }
  static constexpr int kMonthDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kMonthDays[mo - 1] || h > 23 || mi > 59 || sec > 60) {
    return bad("field out of range");
  }
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return bad("February 29 in a common year");
  size_t pos = 19;
  int64_t ms = 0;
  if (pos < s.size() && (s[pos] == '.' || s[pos] == ',')) {
    ++pos;
    size_t start = pos;
    int64_t scale = 100;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      ms += (s[pos] - '0') * scale;
      scale /= 10;
      ++pos;
    }
    if (pos == start || pos - start > 9) return bad("fraction of 1 to 9 digits");
  }
  int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int sign = s[pos] == '-' ? -1 : 1;
    int64_t oh, om;
    if (!Digits(s, pos + 1, 2, &oh)) return bad("zone offset");
    size_t mpos = pos + 3;
    if (mpos < s.size() && s[mpos] == ':') ++mpos;
    if (!Digits(s, mpos, 2, &om) || oh > 23 || om > 59) return bad("zone offset");
    offset_min = sign * (oh * 60 + om);
    pos = mpos + 2;
  } else {
    return bad("a zone, Z or +HH:MM, is required");
  }
  if (pos != s.size()) return bad("trailing characters");
  if (sec == 60) sec = 59;  // a leap second is held at the previous second
  int64_t days = DaysFromCivil(y, mo, d);
  int64_t secs = days * 86400 + h * 3600 + mi * 60 + sec - offset_min * 60;
  return secs * 1000 + ms;
}

Result<Rule> CompileRule(const RuleConfig& c, int index) {
  Rule r;
  r.label = "ingest.rules[" + std::to_string(index) + "] (" + c.topic + ")";
  auto err = [&](std::string_view key, std::string_view problem) {
    return Status::InvalidArgument(r.label + ": " + std::string(key) + ": " +
                                   std::string(problem));
  };

  // Topic and its named levels.
  if (c.topic.empty()) return err("topic", "is required");
  if (c.topic.rfind("$share/", 0) == 0) {
    return err("topic", "give the plain filter; shared subscriptions are set by mqtt.connections");
  }
  std::vector<std::string_view> levels = SplitLevels(c.topic);
  std::set<std::string, std::less<>> names;
  std::string filter;
  for (size_t i = 0; i < levels.size(); ++i) {
    std::string_view lv = levels[i];
    std::string name;
    if (lv == "#") {
      if (i + 1 != levels.size()) return err("topic", "'#' must be the last level");
    } else if (lv.size() >= 2 && lv.front() == '{' && lv.back() == '}') {
      name = std::string(lv.substr(1, lv.size() - 2));
      if (name.empty() || name.find_first_of("{}+#") != std::string::npos) {
        return err("topic", "level '" + std::string(lv) + "' is not a valid {name}");
      }
      if (!names.insert(name).second) return err("topic", "level name '" + name + "' is used twice");
      lv = "+";
    } else if (lv != "+" && lv.find_first_of("+#{}") != std::string_view::npos) {
      return err("topic", "wildcards and {name} must be a whole level, in '" + std::string(lv) + "'");
    }
    if (i > 0) filter += '/';
    filter += lv;
    r.level_names.push_back(std::move(name));
  }
  r.topic = c.topic;
  r.filter = std::move(filter);

  if (c.table.empty()) return err("table", "is required");
  if (!ValidTableName(c.table)) {
    return err("table", "'" + c.table + "' is not 3 to 255 characters of a-z A-Z 0-9 _ - .");
  }
  r.table = c.table;

  if (c.format == "json") {
    r.format = PayloadFormat::kJson;
  } else if (c.format == "flatbuffers") {
    r.format = PayloadFormat::kFlatBuffers;
  } else {
    return err("format", "'" + c.format + "' is not one of json, flatbuffers");
  }

  if (c.partition_key.empty()) return err("partition_key", "must not be empty");
  if (c.sort_key.empty()) return err("sort_key", "must not be empty");
  if (c.partition_key == c.sort_key) return err("sort_key", "must differ from partition_key");
  r.key_schema.partition = item::KeyAttribute{c.partition_key, item::Type::kS};
  r.key_schema.sort = item::KeyAttribute{c.sort_key, item::Type::kN};

  std::string pfrom = c.partition_from;
  if (pfrom.empty()) {
    pfrom = "payload:" + c.partition_key;
    for (const std::string& n : r.level_names) {
      if (!n.empty()) {
        pfrom = "topic:" + n;
        break;
      }
    }
  }
  Result<ValueSource> ps = ParseSource(pfrom);
  if (!ps.ok() || ps->kind == ValueSource::Kind::kArrival) {
    return err("partition_from", "'" + pfrom + "' is not topic:NAME or payload:FIELD");
  }
  r.partition_from = std::move(ps).value();
  if (r.partition_from.kind == ValueSource::Kind::kTopicLevel) {
    for (size_t i = 0; i < r.level_names.size(); ++i) {
      if (r.level_names[i] == r.partition_from.name) r.partition_from.level = static_cast<int>(i);
    }
    if (r.partition_from.level < 0) {
      return err("partition_from", "the topic has no level named {" + r.partition_from.name + "}");
    }
  }

  std::string sfrom = c.sort_from.empty() ? "payload:" + c.sort_key : c.sort_from;
  Result<ValueSource> ss = ParseSource(sfrom);
  if (!ss.ok() || ss->kind == ValueSource::Kind::kTopicLevel) {
    return err("sort_from", "'" + sfrom + "' is not payload:FIELD or arrival");
  }
  r.sort_from = std::move(ss).value();

  if (c.time_format == "epoch_s") {
    r.time_format = TimeFormat::kEpochS;
  } else if (c.time_format == "epoch_ms") {
    r.time_format = TimeFormat::kEpochMs;
  } else if (c.time_format == "iso8601") {
    r.time_format = TimeFormat::kIso8601;
  } else {
    return err("time_format", "'" + c.time_format + "' is not one of epoch_s, epoch_ms, iso8601");
  }
  if (r.format == PayloadFormat::kFlatBuffers &&
      r.sort_from.kind == ValueSource::Kind::kPayloadField && r.sort_from.name == "ts" &&
      r.time_format != TimeFormat::kEpochMs) {
    return err("time_format", "a FlatBuffers reading's ts is in epoch_ms");
  }

  if (!c.ttl.empty()) {
    Result<int64_t> ttl = ParseDurationSeconds(c.ttl);
    if (!ttl.ok()) return err("ttl", ttl.status().message());
    r.ttl_s = *ttl;
    if (c.ttl_attribute.empty()) return err("ttl_attribute", "must not be empty");
    if (c.ttl_attribute == c.partition_key || c.ttl_attribute == c.sort_key) {
      return err("ttl_attribute", "must not be a key attribute");
    }
    r.ttl_attribute = c.ttl_attribute;
  }

  for (const auto& [name, value] : c.attributes) {
    std::string key = "attributes." + name;
    if (name.empty()) return err("attributes", "an attribute name is empty");
    if (name == c.partition_key || name == c.sort_key) {
      return err(key, "is a key attribute of the table");
    }
    if (r.ttl_s > 0 && name == r.ttl_attribute) return err(key, "is the TTL attribute");
    Status st = item::ValidateValue(value, name);
    if (!st.ok()) return err(key, st.message());
  }
  r.attributes = c.attributes;
  return r;
}

Status CheckRulesAgree(const std::vector<Rule>& rules) {
  for (size_t i = 0; i < rules.size(); ++i) {
    for (size_t j = 0; j < i; ++j) {
      if (rules[i].table != rules[j].table) continue;
      if (!(rules[i].key_schema == rules[j].key_schema)) {
        return Status::InvalidArgument(rules[i].label + ": table: '" + rules[i].table +
                                       "' has another key schema in " + rules[j].label);
      }
      if (rules[i].ttl_s > 0 && rules[j].ttl_s > 0 &&
          rules[i].ttl_attribute != rules[j].ttl_attribute) {
        return Status::InvalidArgument(rules[i].label + ": ttl_attribute: '" + rules[i].table +
                                       "' has TTL attribute '" + rules[j].ttl_attribute +
                                       "' in " + rules[j].label);
      }
    }
  }
  return Status::Ok();
}

Result<std::vector<item::Item>> MapMessage(const Rule& rule, std::string_view topic,
                                           std::string_view payload, const Arrival& arrival) {
  if (static_cast<int64_t>(payload.size()) > kPayloadBytesMax) {
    return Status::InvalidArgument("payload is " + std::to_string(payload.size()) +
                                   " bytes, over the limit of " +
                                   std::to_string(kPayloadBytesMax));
  }
  std::vector<std::string_view> levels = SplitLevels(topic);
  ET_ASSIGN_OR_RETURN(std::vector<item::Map> records, Records(rule, payload));

  // Values that are the same for every record of the message.
  std::optional<item::Value> topic_partition;
  if (rule.partition_from.kind == ValueSource::Kind::kTopicLevel) {
    size_t at = static_cast<size_t>(rule.partition_from.level);
    if (at >= levels.size() || levels[at].empty()) {
      return Status::InvalidArgument("topic level {" + rule.partition_from.name +
                                     "} is empty in '" + std::string(topic) + "'");
    }
    topic_partition = item::Value::S(std::string(levels[at]));
  }
  std::optional<item::Value> ttl_value;
  if (rule.ttl_s > 0) {
    int64_t expires_s = FloorDiv(arrival.now_ms, 1000) + rule.ttl_s;
    ttl_value = item::Value::N(item::Number::FromInt(expires_s));
  }
  const std::string& pk = rule.key_schema.partition.name;
  const std::string& sk = rule.key_schema.sort->name;

  std::vector<item::Item> items;
  items.reserve(records.size());
  for (size_t i = 0; i < records.size(); ++i) {
    item::Map& rec = records[i];
    std::string where = records.size() > 1 ? "element [" + std::to_string(i) + "]: " : "";
    item::Item it = std::move(rec);

    if (topic_partition) {
      it[pk] = *topic_partition;
    } else {
      auto f = it.find(rule.partition_from.name);
      if (f == it.end()) {
        return Status::InvalidArgument(where + "missing partition key field '" +
                                       rule.partition_from.name + "'");
      }
      if (!f->second.is(item::Type::kS) || f->second.s().empty()) {
        return Status::InvalidArgument(
            where + "partition key field '" + rule.partition_from.name + "' is " +
            (f->second.is(item::Type::kS) ? std::string("an empty string")
                                          : "of type " + std::string(item::TypeName(f->second.type()))) +
            ", expected a non-empty string");
      }
      item::Value v = f->second;
      it[pk] = std::move(v);
    }

    if (rule.sort_from.kind == ValueSource::Kind::kArrival) {
      ET_ASSIGN_OR_RETURN(item::Number n, ArrivalNumber(arrival));
      it[sk] = item::Value::N(std::move(n));
    } else {
      const std::string& field = rule.sort_from.name;
      auto f = it.find(field);
      if (f == it.end()) {
        return Status::InvalidArgument(where + "missing sort key field '" + field + "'");
      }
      int64_t ms = 0;
      if (rule.time_format == TimeFormat::kIso8601) {
        if (!f->second.is(item::Type::kS)) {
          return Status::InvalidArgument(where + "sort key field '" + field + "' is of type " +
                                         std::string(item::TypeName(f->second.type())) +
                                         ", expected an ISO-8601 string");
        }
        Result<int64_t> t = ParseIso8601Ms(f->second.s());
        if (!t.ok()) return Status::InvalidArgument(where + "sort key field '" + field + "': " + t.status().message());
        ms = *t;
      } else {
        if (!f->second.is(item::Type::kN)) {
          return Status::InvalidArgument(where + "sort key field '" + field + "' is of type " +
                                         std::string(item::TypeName(f->second.type())) +
                                         ", expected a number");
        }
        Result<int64_t> t =
            ScaledInt(f->second.n(), rule.time_format == TimeFormat::kEpochS ? 3 : 0);
        if (!t.ok()) return Status::InvalidArgument(where + "sort key field '" + field + "' " + t.status().message());
        ms = *t;
      }
      it[sk] = item::Value::N(item::Number::FromInt(ms));
    }

    for (const auto& [name, value] : rule.attributes) it[name] = value;
    if (ttl_value) it[rule.ttl_attribute] = *ttl_value;
    items.push_back(std::move(it));
  }
  return items;
}

}  // namespace edgetable::ingest
