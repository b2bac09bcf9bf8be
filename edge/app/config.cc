#include "edge/app/config.h"

#include <charconv>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "edge/base/limits.h"
#include "edge/item/number.h"

namespace edgetable::app {
namespace {

constexpr int64_t kClockOffsetMsMax = 100LL * 365 * 24 * 3600 * 1000;  // a century either way
constexpr int64_t kRetentionHoursMax = 10LL * 366 * 24;                // ten years
constexpr int64_t kDiskBudgetMbMax = 1024 * 1024;                      // 1 TiB
constexpr int64_t kMaxSkewMsMax = 366LL * 24 * 3600 * 1000;            // a year
// A push batch is bounded by the hub's request body limit (with room for
// the message's framing); below the lower bound a batch would rarely hold
// more than one item.
constexpr int64_t kSyncBatchBytesMin = 64 * 1024;
constexpr int64_t kSyncBatchBytesMax = limits::kRequestBodyBytesMax / 2;
static_assert(kSyncBatchBytesMax >= 2 * limits::kItemBytesMax,
              "a sync batch can hold a maximal item with its old image");

// Every character one of a-z A-Z 0-9 _ - . (table names, peer names).
bool NameCharsOnly(std::string_view name) {
  for (char ch : name) {
    bool allowed = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                   ch == '_' || ch == '-' || ch == '.';
    if (!allowed) return false;
  }
  return true;
}

// DynamoDB's table name rule (storage refuses other names); "" when fine.
std::string TableNameProblem(const std::string& name) {
  if (static_cast<int>(name.size()) >= limits::kTableNameBytesMin &&
      static_cast<int>(name.size()) <= limits::kTableNameBytesMax && NameCharsOnly(name)) {
    return "";
  }
  return "'" + name + "' is not a table name (3 to 255 characters of a-z A-Z 0-9 _ - .)";
}

// Peer names appear in logs, status and the hub's records.
std::string PeerNameProblem(const std::string& name) {
  if (!name.empty() && name.size() <= 64 && NameCharsOnly(name)) return "";
  return "'" + name + "' is not 1 to 64 characters of a-z A-Z 0-9 _ - .";
}

// Reads a TOML table, remembering which keys were consumed so that anything
// left over can be reported as unknown.
class Section {
 public:
  Section(const toml::table* table, std::string path, std::string_view source)
      : table_(table), path_(std::move(path)), source_(source) {}

  bool present() const { return table_ != nullptr; }

  Status String(std::string_view key, std::string* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    if (const auto* s = n->as_string()) {
      *out = s->get();
      return Status::Ok();
    }
    return TypeError(key, "a string");
  }

  Status Bool(std::string_view key, bool* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    if (const auto* b = n->as_boolean()) {
      *out = b->get();
      return Status::Ok();
    }
    return TypeError(key, "true or false");
  }

  // An integer that must lie in [lo, hi].
  template <typename T>
  Status IntIn(std::string_view key, T* out, int64_t lo, int64_t hi) {
    bool had = Has(key);
    int64_t v = static_cast<int64_t>(*out);
    ET_RETURN_IF_ERROR(Int(key, &v));
    if (!had) return Status::Ok();
    if (v < lo || v > hi) {
      return Error(key, "must be " + std::to_string(lo) + " to " + std::to_string(hi));
    }
    *out = static_cast<T>(v);
    return Status::Ok();
  }

  // A table of scalars (string, integer, float, boolean) -> item values.
  Status Attributes(std::string_view key, item::Map* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    const auto* t = n->as_table();
    if (t == nullptr) return TypeError(key, "a table of name = value");
    for (const auto& [k, v] : *t) {
      std::string name(k.str());
      if (const auto* s = v.as_string()) {
        (*out)[name] = item::Value::S(s->get());
      } else if (const auto* i = v.as_integer()) {
        (*out)[name] = item::Value::N(item::Number::FromInt(i->get()));
      } else if (v.as_floating_point() != nullptr) {
        // The source text of a TOML float is not kept by the parser; go
        // through the shortest round-trip form.
        std::ostringstream text;
        text.precision(17);
        text << v.as_floating_point()->get();
        Result<item::Number> num = item::Number::Parse(text.str());
        if (!num.ok()) return Error(std::string(key) + "." + name, num.status().message());
        (*out)[name] = item::Value::N(std::move(num).value());
      } else if (const auto* b = v.as_boolean()) {
        (*out)[name] = item::Value::Bool(b->get());
      } else {
        return Error(std::string(key) + "." + name, "expected a string, number or boolean");
      }
    }
    return Status::Ok();
  }

  Status Int(std::string_view key, int64_t* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    if (const auto* i = n->as_integer()) {
      *out = i->get();
      return Status::Ok();
    }
    return TypeError(key, "an integer");
  }

  // A duration written in hours, integer or fractional (0.25 = 15 minutes),
  // 0 to hours_max, stored in milliseconds.
  Status Hours(std::string_view key, int64_t* out_ms, int64_t hours_max) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    double hours = 0;
    if (const auto* i = n->as_integer()) {
      hours = static_cast<double>(i->get());
    } else if (const auto* f = n->as_floating_point()) {
      hours = f->get();
    } else {
      return TypeError(key, "a number of hours");
    }
    if (!(hours >= 0 && hours <= static_cast<double>(hours_max))) {
      return Error(key, "must be 0 to " + std::to_string(hours_max) + " hours");
    }
    int64_t ms = std::llround(hours * 3600.0 * 1000.0);
    if (hours > 0 && ms == 0) return Error(key, "must be 0 or at least 1 ms");
    *out_ms = ms;
    return Status::Ok();
  }

  // An array of strings.
  Status Strings(std::string_view key, std::vector<std::string>* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    const auto* arr = n->as_array();
    if (arr == nullptr) return TypeError(key, "an array of strings");
    out->clear();
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto* str = arr->get(i)->as_string();
      if (str == nullptr) return TypeError(key, "an array of strings");
      out->push_back(str->get());
    }
    return Status::Ok();
  }

  // The names of this table's keys, in file order, for tables whose keys are
  // data (table names). Each is taken.
  std::vector<std::string> Keys() {
    std::vector<std::string> keys;
    if (table_ == nullptr) return keys;
    for (const auto& [k, v] : *table_) {
      keys.emplace_back(k.str());
      taken_.insert(keys.back());
    }
    return keys;
  }

  Status Address(std::string_view key, ListenAddress* out) {
    std::string text;
    bool had = Has(key);
    ET_RETURN_IF_ERROR(String(key, &text));
    if (!had) return Status::Ok();
    if (text.empty()) {
      *out = ListenAddress{};
      return Status::Ok();
    }
    Result<ListenAddress> a = ParseListenAddress(text);
    if (!a.ok()) return Error(key, a.status().message());
    *out = *a;
    return Status::Ok();
  }

  // An array of tables, e.g. [[api.access_keys]].
  Status Tables(std::string_view key, std::vector<Section>* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) return Status::Ok();
    const auto* arr = n->as_array();
    if (arr == nullptr) return TypeError(key, "an array of tables");
    for (size_t i = 0; i < arr->size(); ++i) {
      const auto* t = arr->get(i)->as_table();
      if (t == nullptr) return TypeError(key, "an array of tables");
      out->emplace_back(t, Key(key) + "[" + std::to_string(i) + "]", source_);
    }
    return Status::Ok();
  }

  Status Sub(std::string_view key, Section* out) {
    const toml::node* n = Take(key);
    if (n == nullptr) {
      *out = Section(nullptr, Key(key), source_);
      return Status::Ok();
    }
    const auto* t = n->as_table();
    if (t == nullptr) return TypeError(key, "a table");
    *out = Section(t, Key(key), source_);
    return Status::Ok();
  }

  bool Has(std::string_view key) const {
    return table_ != nullptr && table_->get(key) != nullptr;
  }

  // Fails on the first key that no reader asked for.
  Status CheckNoUnknownKeys() const {
    if (table_ == nullptr) return Status::Ok();
    for (const auto& [k, v] : *table_) {
      if (taken_.count(std::string(k.str())) == 0) {
        return Status::InvalidArgument(std::string(source_) + ": " + Key(k.str()) +
                                       ": unknown key");
      }
    }
    return Status::Ok();
  }

  std::string_view source() const { return source_; }

  Status Error(std::string_view key, std::string_view problem) const {
    return Status::InvalidArgument(std::string(source_) + ": " + Key(key) + ": " +
                                   std::string(problem));
  }

 private:
  std::string Key(std::string_view key) const {
    return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
  }
  const toml::node* Take(std::string_view key) {
    if (table_ == nullptr) return nullptr;
    taken_.insert(std::string(key));
    return table_->get(key);
  }
  Status TypeError(std::string_view key, std::string_view want) const {
    return Error(key, "expected " + std::string(want));
  }

  const toml::table* table_;
  std::string path_;
  std::string_view source_;
  std::set<std::string> taken_;
};

Status ParseNode(Section& s, NodeConfig* node) {
  ET_RETURN_IF_ERROR(s.String("data_dir", &node->data_dir));
  ET_RETURN_IF_ERROR(s.String("log_level", &node->log_level));
  ET_RETURN_IF_ERROR(s.IntIn("clock_offset_ms", &node->clock_offset_ms, -kClockOffsetMsMax, kClockOffsetMsMax));
  if (s.Has("replica_id")) {
    return s.Error("replica_id", "is not configurable: a node's replica id is made at random when its database is created");
  }
  static const std::set<std::string, std::less<>> kLevels = {"trace", "debug", "info",
                                                             "warn",  "error", "off"};
  if (kLevels.count(node->log_level) == 0) {
    return s.Error("log_level", "'" + node->log_level +
                                    "' is not one of trace, debug, info, warn, error, off");
  }
  if (node->data_dir.empty()) return s.Error("data_dir", "must not be empty");
  return s.CheckNoUnknownKeys();
}

Status ParseStorage(Section& s, StorageConfig* storage) {
  std::string durability = storage->durability == Durability::kFull ? "full" : "normal";
  ET_RETURN_IF_ERROR(s.String("durability", &durability));
  if (durability == "normal") {
    storage->durability = Durability::kNormal;
  } else if (durability == "full") {
    storage->durability = Durability::kFull;
  } else {
    return s.Error("durability", "'" + durability + "' is not one of normal, full");
  }
  int64_t cache_mb = storage->cache_bytes / (1024 * 1024);
  ET_RETURN_IF_ERROR(s.Int("cache_mb", &cache_mb));
  if (cache_mb < 1 || cache_mb > 4096) return s.Error("cache_mb", "must be 1 to 4096");
  storage->cache_bytes = cache_mb * 1024 * 1024;
  ET_RETURN_IF_ERROR(s.IntIn("wal_autocheckpoint_pages", &storage->wal_autocheckpoint_pages, 1, 1'000'000));
  ET_RETURN_IF_ERROR(s.IntIn("ttl_sweep_interval_ms", &storage->ttl_sweep_interval_ms, 0, 3'600'000));
  ET_RETURN_IF_ERROR(s.IntIn("ttl_sweep_batch_items", &storage->ttl_sweep_batch_items, 1, 10'000));
  ET_RETURN_IF_ERROR(s.Bool("hide_expired_on_read", &storage->hide_expired_on_read));
  ET_RETURN_IF_ERROR(s.Hours("stream_retention_hours", &storage->stream_retention_ms, kRetentionHoursMax));
  ET_RETURN_IF_ERROR(s.Hours("retention_max_age_hours", &storage->retention_max_age_ms, kRetentionHoursMax));
  Section by_table(nullptr, "", s.source());
  ET_RETURN_IF_ERROR(s.Sub("retention_max_age_hours_by_table", &by_table));
  for (const std::string& table : by_table.Keys()) {
    if (std::string why = TableNameProblem(table); !why.empty()) return by_table.Error(table, why);
    int64_t ms = 0;
    ET_RETURN_IF_ERROR(by_table.Hours(table, &ms, kRetentionHoursMax));
    storage->retention_max_age_ms_by_table[table] = ms;
  }
  int64_t budget_mb = storage->disk_budget_bytes / (1024 * 1024);
  ET_RETURN_IF_ERROR(s.IntIn("disk_budget_mb", &budget_mb, 0, kDiskBudgetMbMax));
  storage->disk_budget_bytes = budget_mb * 1024 * 1024;
  std::string policy = storage->budget_policy == storage::BudgetPolicy::kEvict ? "evict" : "backpressure";
  ET_RETURN_IF_ERROR(s.String("budget_policy", &policy));
  if (policy == "evict") {
    storage->budget_policy = storage::BudgetPolicy::kEvict;
  } else if (policy == "backpressure") {
    storage->budget_policy = storage::BudgetPolicy::kBackpressure;
  } else {
    return s.Error("budget_policy", "'" + policy + "' is not one of evict, backpressure");
  }
  return s.CheckNoUnknownKeys();
}

Status ParseApi(Section& s, ApiConfig* api) {
  ET_RETURN_IF_ERROR(s.Address("listen", &api->listen));
  ET_RETURN_IF_ERROR(s.Address("tls_listen", &api->tls_listen));
  ET_RETURN_IF_ERROR(s.String("tls_cert_file", &api->tls_cert_file));
  ET_RETURN_IF_ERROR(s.String("tls_key_file", &api->tls_key_file));
  ET_RETURN_IF_ERROR(s.String("tls_client_ca_file", &api->tls_client_ca_file));
  ET_RETURN_IF_ERROR(s.String("region", &api->region));
  std::vector<Section> keys;
  ET_RETURN_IF_ERROR(s.Tables("access_keys", &keys));
  for (Section& k : keys) {
    AccessKey key;
    ET_RETURN_IF_ERROR(k.String("access_key_id", &key.access_key_id));
    ET_RETURN_IF_ERROR(k.String("secret_access_key", &key.secret_access_key));
    if (key.access_key_id.empty()) return k.Error("access_key_id", "is required");
    if (key.secret_access_key.empty()) return k.Error("secret_access_key", "is required");
    ET_RETURN_IF_ERROR(k.CheckNoUnknownKeys());
    api->access_keys.push_back(std::move(key));
  }
  return s.CheckNoUnknownKeys();
}

Status ParseMqtt(Section& s, ingest::MqttOptions* m) {
  ET_RETURN_IF_ERROR(s.String("broker", &m->broker));
  ET_RETURN_IF_ERROR(s.String("client_id", &m->client_id));
  ET_RETURN_IF_ERROR(s.String("client", &m->client));
  if (m->client != "builtin" && m->client != "paho") {
    return s.Error("client", "'" + m->client + "' is not \"builtin\" or \"paho\"");
  }
  ET_RETURN_IF_ERROR(s.String("username", &m->username));
  ET_RETURN_IF_ERROR(s.String("password", &m->password));
  ET_RETURN_IF_ERROR(s.String("ca_file", &m->ca_file));
  ET_RETURN_IF_ERROR(s.String("cert_file", &m->cert_file));
  ET_RETURN_IF_ERROR(s.String("key_file", &m->key_file));
  ET_RETURN_IF_ERROR(s.String("key_password", &m->key_password));
  ET_RETURN_IF_ERROR(s.Bool("tls_verify", &m->tls_verify));
  ET_RETURN_IF_ERROR(s.IntIn("keepalive_s", &m->keepalive_s, 5, 3600));
  ET_RETURN_IF_ERROR(s.IntIn("reconnect_min_ms", &m->reconnect_min_ms, 10, 600000));
  ET_RETURN_IF_ERROR(s.IntIn("reconnect_max_ms", &m->reconnect_max_ms, 10, 3600000));
  ET_RETURN_IF_ERROR(s.IntIn("qos", &m->qos, 0, 1));
  ET_RETURN_IF_ERROR(s.IntIn("connections", &m->connections, 1, ingest::kConnectionsMax));
  ET_RETURN_IF_ERROR(s.IntIn("uncommitted_max", &m->uncommitted_max, 1, ingest::kUncommittedMax));
  // Paho acknowledges before EdgeTable commits: its window is what a crash
  // can lose, so it is one message unless the file says otherwise.
  if (m->client == "paho" && !s.Has("uncommitted_max")) m->uncommitted_max = 1;
  bool tcp = m->broker.rfind("tcp://", 0) == 0 || m->broker.rfind("mqtt://", 0) == 0;
  bool ssl = m->broker.rfind("ssl://", 0) == 0 || m->broker.rfind("mqtts://", 0) == 0;
  if (!tcp && !ssl) return s.Error("broker", "'" + m->broker + "' is not tcp://HOST:PORT or ssl://HOST:PORT");
  if (m->client_id.empty()) return s.Error("client_id", "must not be empty (a persistent session needs a stable id)");
  if (m->client_id.size() > 200) return s.Error("client_id", "must be at most 200 bytes");
  if (m->reconnect_max_ms < m->reconnect_min_ms) return s.Error("reconnect_max_ms", "must be >= reconnect_min_ms");
  if (!ssl) {
    for (const char* k : {"ca_file", "cert_file", "key_file"}) {
      if (s.Has(k)) return s.Error(k, "needs an ssl:// broker");
    }
  }
  if (m->cert_file.empty() != m->key_file.empty()) {
    return s.Error(m->cert_file.empty() ? "cert_file" : "key_file", "cert_file and key_file go together");
  }
  return s.CheckNoUnknownKeys();
}

Status ParseIngest(Section& s, IngestConfig* cfg) {
  ET_RETURN_IF_ERROR(s.String("dead_letter_table", &cfg->dead_letter_table));
  std::vector<Section> rules;
  ET_RETURN_IF_ERROR(s.Tables("rules", &rules));
  std::vector<ingest::Rule> compiled;
  for (size_t i = 0; i < rules.size(); ++i) {
    Section& r = rules[i];
    ingest::RuleConfig rc;
    ET_RETURN_IF_ERROR(r.String("topic", &rc.topic));
    ET_RETURN_IF_ERROR(r.String("table", &rc.table));
    ET_RETURN_IF_ERROR(r.String("format", &rc.format));
    ET_RETURN_IF_ERROR(r.String("partition_key", &rc.partition_key));
    ET_RETURN_IF_ERROR(r.String("partition_from", &rc.partition_from));
    ET_RETURN_IF_ERROR(r.String("sort_key", &rc.sort_key));
    ET_RETURN_IF_ERROR(r.String("sort_from", &rc.sort_from));
    ET_RETURN_IF_ERROR(r.String("time_format", &rc.time_format));
    ET_RETURN_IF_ERROR(r.String("ttl", &rc.ttl));
    ET_RETURN_IF_ERROR(r.String("ttl_attribute", &rc.ttl_attribute));
    ET_RETURN_IF_ERROR(r.Attributes("attributes", &rc.attributes));
    ET_RETURN_IF_ERROR(r.CheckNoUnknownKeys());
    Result<ingest::Rule> c = ingest::CompileRule(rc, static_cast<int>(i));
    if (!c.ok()) return c.status().WithPrefix(std::string(s.source()));
    if (c->table == cfg->dead_letter_table) {
      return Status::InvalidArgument(std::string(s.source()) + ": " + c->label +
                                     ": table: is the dead-letter table");
    }
    compiled.push_back(std::move(c).value());
    cfg->rules.push_back(std::move(rc));
  }
  Status agree = ingest::CheckRulesAgree(compiled);
  if (!agree.ok()) return agree.WithPrefix(std::string(s.source()));
  return s.CheckNoUnknownKeys();
}

// The words of the config file for sync::Direction (sync::ParseDirection
// reads the same ones); kept here with the error that lists them, so that
// reading a config needs only the sync headers.
Status SyncDirection(Section& s, std::string_view key, const std::string& text, sync::Direction* out) {
  static const std::pair<std::string_view, sync::Direction> kNames[] = {
      {"both", sync::Direction::kBoth},
      {"up", sync::Direction::kUp},
      {"down", sync::Direction::kDown},
      {"none", sync::Direction::kNone}};
  for (const auto& [name, d] : kNames) {
    if (text == name) {
      *out = d;
      return Status::Ok();
    }
  }
  return s.Error(key, "'" + text + "' is not one of both, up, down, none");
}

// Upstream URLs: http(s)://HOST[:PORT][/PATH], no query, fragment or user
// info (credentials go in `token` or the client certificate). A trailing
// '/' is dropped: the protocol's paths are appended to it.
Status SyncUpstream(Section& s, std::string* url) {
  std::string_view text = *url;
  size_t scheme = text.rfind("https://", 0) == 0 ? 8 : text.rfind("http://", 0) == 0 ? 7 : 0;
  if (scheme == 0) return s.Error("upstream", "'" + *url + "' is not an http:// or https:// URL");
  std::string_view rest = text.substr(scheme);
  std::string_view host = rest.substr(0, rest.find('/'));
  if (host.empty()) return s.Error("upstream", "'" + *url + "' has no host");
  for (char c : rest) {
    if (c == '?' || c == '#' || c == '@' || c == ' ' || c == '\t') {
      return s.Error("upstream", "'" + *url + "' may not hold a query, fragment, user name or space");
    }
  }
  while (url->size() > scheme + host.size() && url->back() == '/') url->pop_back();
  return Status::Ok();
}

// A table that sync may name: a valid table name, not one of the node's own
// tables (edgetable_*), which never replicate.
std::string SyncTableProblem(const std::string& table) {
  if (std::string why = TableNameProblem(table); !why.empty()) return why;
  if (table.rfind(sync::kLocalTablePrefix, 0) == 0) {
    return "'" + table + "' is one of the node's own tables (" + std::string(sync::kLocalTablePrefix) +
           "*), which never replicate";
  }
  return "";
}

Status ParseSync(Section& s, SyncConfig* cfg) {
  sync::CurlTransportOptions& t = cfg->transport;
  sync::ClientOptions& c = cfg->client;
  ET_RETURN_IF_ERROR(s.String("upstream", &t.base_url));
  if (s.Has("upstream")) ET_RETURN_IF_ERROR(SyncUpstream(s, &t.base_url));
  ET_RETURN_IF_ERROR(s.String("ca_file", &t.ca_file));
  ET_RETURN_IF_ERROR(s.String("client_cert_file", &t.client_cert_file));
  ET_RETURN_IF_ERROR(s.String("client_key_file", &t.client_key_file));
  ET_RETURN_IF_ERROR(s.String("token", &t.bearer_token));
  const std::pair<const char*, const std::string*> credentials[] = {
      {"ca_file", &t.ca_file},
      {"client_cert_file", &t.client_cert_file},
      {"client_key_file", &t.client_key_file},
      {"token", &t.bearer_token}};
  for (const auto& [key, value] : credentials) {
    if (s.Has(key) && value->empty()) return s.Error(key, "must not be empty (leave the key out instead)");
  }
  ET_RETURN_IF_ERROR(s.IntIn("interval_ms", &c.interval_ms, 10, 3'600'000));
  ET_RETURN_IF_ERROR(s.IntIn("batch_bytes_max", &c.batch_bytes_max, kSyncBatchBytesMin, kSyncBatchBytesMax));
  ET_RETURN_IF_ERROR(s.IntIn("batch_changes_max", &c.batch_changes_max, limits::kTransactItemsMax, 100'000));
  ET_RETURN_IF_ERROR(s.IntIn("backoff_min_ms", &c.backoff_min_ms, 10, 600'000));
  ET_RETURN_IF_ERROR(s.IntIn("backoff_max_ms", &c.backoff_max_ms, 10, 3'600'000));
  if (c.backoff_max_ms < c.backoff_min_ms) return s.Error("backoff_max_ms", "must be >= backoff_min_ms");
  ET_RETURN_IF_ERROR(s.IntIn("max_skew_ms", &c.max_skew_ms, 1000, kMaxSkewMsMax));
  cfg->hub.max_skew_ms = c.max_skew_ms;
  std::string policy(c.skew_policy == sync::SkewPolicy::kRefuse ? "refuse" : "clamp");
  ET_RETURN_IF_ERROR(s.String("skew_policy", &policy));
  if (policy == "refuse") {
    c.skew_policy = sync::SkewPolicy::kRefuse;
  } else if (policy == "clamp") {
    c.skew_policy = sync::SkewPolicy::kClamp;
  } else {
    return s.Error("skew_policy", "'" + policy + "' is not one of refuse, clamp");
  }
  cfg->hub.skew_policy = c.skew_policy;
  if (s.Has("default_direction")) {
    std::string text;
    ET_RETURN_IF_ERROR(s.String("default_direction", &text));
    ET_RETURN_IF_ERROR(SyncDirection(s, "default_direction", text, &c.default_direction));
  }
  Section tables(nullptr, "", s.source());
  ET_RETURN_IF_ERROR(s.Sub("tables", &tables));
  for (const std::string& table : tables.Keys()) {
    if (std::string why = SyncTableProblem(table); !why.empty()) return tables.Error(table, why);
    std::string text;
    ET_RETURN_IF_ERROR(tables.String(table, &text));
    sync::Direction d = sync::Direction::kBoth;
    ET_RETURN_IF_ERROR(SyncDirection(tables, table, text, &d));
    c.table_directions[table] = d;
  }

  std::vector<Section> peers;
  ET_RETURN_IF_ERROR(s.Tables("peers", &peers));
  for (Section& p : peers) {
    sync::PeerConfig peer;
    ET_RETURN_IF_ERROR(p.String("name", &peer.name));
    ET_RETURN_IF_ERROR(p.String("token", &peer.token));
    ET_RETURN_IF_ERROR(p.String("cert_subject", &peer.cert_subject));
    ET_RETURN_IF_ERROR(p.Strings("tables", &peer.scope.tables));
    ET_RETURN_IF_ERROR(p.Strings("key_prefixes", &peer.scope.key_prefixes));
    if (!p.Has("name")) return p.Error("name", "is required");
    if (std::string why = PeerNameProblem(peer.name); !why.empty()) return p.Error("name", why);
    if (p.Has("token") && peer.token.empty()) {
      return p.Error("token", "must not be empty (leave the key out instead)");
    }
    if (p.Has("cert_subject") && peer.cert_subject.empty()) {
      return p.Error("cert_subject", "must not be empty (leave the key out instead)");
    }
    if (p.Has("tables") && peer.scope.tables.empty()) {
      return p.Error("tables", "must not be empty (leave the key out for every table)");
    }
    for (const std::string& table : peer.scope.tables) {
      if (std::string why = SyncTableProblem(table); !why.empty()) return p.Error("tables", why);
    }
    if (p.Has("key_prefixes") && peer.scope.key_prefixes.empty()) {
      return p.Error("key_prefixes", "must not be empty (leave the key out for any partition key)");
    }
    for (const std::string& prefix : peer.scope.key_prefixes) {
      if (prefix.empty()) return p.Error("key_prefixes", "'' would allow every key (leave the key out instead)");
    }
    ET_RETURN_IF_ERROR(p.CheckNoUnknownKeys());
    cfg->hub.peers.push_back(std::move(peer));
  }
  return s.CheckNoUnknownKeys();
}

}  // namespace

std::string ListenAddress::ToString() const {
  if (host.find(':') != std::string::npos) return "[" + host + "]:" + std::to_string(port);
  return host + ":" + std::to_string(port);
}

Result<ListenAddress> ParseListenAddress(std::string_view text) {
  auto bad = [&](std::string_view why) {
    // Appended piece by piece: GCC 12 warns (-Wrestrict, a false positive)
    // on the chain of operator+ here at -O3.
    std::string m = "'";
    m.append(text).append("' is not HOST:PORT (").append(why).append(")");
    return Status::InvalidArgument(std::move(m));
  };
  ListenAddress a;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') {
      return bad("IPv6 addresses are written [ADDR]:PORT");
    }
    a.host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return bad("no port");
    a.host = std::string(text.substr(0, colon));
    if (a.host.find(':') != std::string::npos) return bad("IPv6 addresses are written [ADDR]:PORT");
    port_text = text.substr(colon + 1);
  }
  if (a.host.empty()) return bad("no host");
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 ||
      port > 65535) {
    return bad("port must be 0 to 65535");
  }
  a.port = port;
  return a;
}

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source) {
  Config config;
  config.source = std::string(source);
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    std::ostringstream m;
    m << source << ":" << where.line << ":" << where.column << ": " << e.description();
    return Status::InvalidArgument(m.str());
  }
  Section top(&root, "", config.source);
  Section node(nullptr, "", config.source);
  Section storage(nullptr, "", config.source);
  Section api(nullptr, "", config.source);
  Section mqtt(nullptr, "", config.source);
  Section ingest_section(nullptr, "", config.source);
  Section sync_section(nullptr, "", config.source);
  ET_RETURN_IF_ERROR(top.Sub("node", &node));
  ET_RETURN_IF_ERROR(top.Sub("storage", &storage));
  ET_RETURN_IF_ERROR(top.Sub("api", &api));
  ET_RETURN_IF_ERROR(top.Sub("mqtt", &mqtt));
  ET_RETURN_IF_ERROR(top.Sub("ingest", &ingest_section));
  ET_RETURN_IF_ERROR(top.Sub("sync", &sync_section));
  ET_RETURN_IF_ERROR(top.CheckNoUnknownKeys());
  ET_RETURN_IF_ERROR(ParseNode(node, &config.node));
  ET_RETURN_IF_ERROR(ParseStorage(storage, &config.storage));
  ET_RETURN_IF_ERROR(ParseApi(api, &config.api));
  ET_RETURN_IF_ERROR(ParseMqtt(mqtt, &config.mqtt));
  ET_RETURN_IF_ERROR(ParseIngest(ingest_section, &config.ingest));
  ET_RETURN_IF_ERROR(ParseSync(sync_section, &config.sync));
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read config file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

namespace {

template <typename Err>
Status ValidateSync(const Config& config, const Err& err) {
  const SyncConfig& sc = config.sync;
  const sync::CurlTransportOptions& t = sc.transport;
  // The upstream's credentials.
  if (!sc.has_upstream()) {
    if (!t.ca_file.empty()) {
      return err("sync.ca_file", "needs sync.upstream (it verifies the upstream's certificate; a hub "
                                 "verifies its peers' certificates with api.tls_client_ca_file)");
    }
    if (!t.client_cert_file.empty()) return err("sync.client_cert_file", "needs sync.upstream");
    if (!t.client_key_file.empty()) return err("sync.client_key_file", "needs sync.upstream");
    if (!t.bearer_token.empty()) {
      return err("sync.token", "needs sync.upstream (a hub's peers have their tokens in [[sync.peers]])");
    }
  }
  if (!t.client_key_file.empty() && t.client_cert_file.empty()) {
    return err("sync.client_key_file", "needs sync.client_cert_file");
  }
  if (!t.client_cert_file.empty() && t.client_key_file.empty()) {
    return err("sync.client_cert_file", "needs sync.client_key_file");
  }
  bool https = t.base_url.rfind("https://", 0) == 0;
  if (sc.has_upstream() && !https) {
    if (!t.ca_file.empty()) return err("sync.ca_file", "needs an https:// upstream");
    if (!t.client_cert_file.empty()) return err("sync.client_cert_file", "needs an https:// upstream");
  }
  // The hub's peers.
  if (sc.is_hub() && (config.api.listen.empty() && config.api.tls_listen.empty())) {
    return err("sync.peers", "needs api.listen or api.tls_listen (the hub answers on the API listeners)");
  }
  const std::vector<sync::PeerConfig>& peers = sc.hub.peers;
  for (size_t i = 0; i < peers.size(); ++i) {
    const sync::PeerConfig& p = peers[i];
    std::string key = "sync.peers[" + std::to_string(i) + "]";
    if (p.token.empty() && p.cert_subject.empty()) {
      return err(key, "peer '" + p.name + "' needs a token or a cert_subject");
    }
    if (!p.cert_subject.empty() && config.api.tls_client_ca_file.empty()) {
      return err(key + ".cert_subject", "needs api.tls_client_ca_file (client certificates are verified against it)");
    }
    for (size_t j = 0; j < i; ++j) {
      const sync::PeerConfig& q = peers[j];
      std::string other = "sync.peers[" + std::to_string(j) + "] ('" + q.name + "')";
      if (p.name == q.name) return err(key + ".name", "'" + p.name + "' is also the name of " + other);
      // Never repeat a token in a message: it is a secret.
      if (!p.token.empty() && p.token == q.token) return err(key + ".token", "is also the token of " + other);
      if (!p.cert_subject.empty() && p.cert_subject == q.cert_subject) {
        return err(key + ".cert_subject", "'" + p.cert_subject + "' is also the subject of " + other);
      }
    }
  }
  return Status::Ok();
}

}  // namespace

Status ValidateConfig(const Config& config) {
  const ApiConfig& api = config.api;
  auto err = [&](std::string_view key, std::string_view problem) {
    return Status::InvalidArgument(config.source + ": " + std::string(key) + ": " +
                                   std::string(problem));
  };
  if (!api.tls_listen.empty()) {
    if (api.tls_cert_file.empty()) return err("api.tls_cert_file", "is required with api.tls_listen");
    if (api.tls_key_file.empty()) return err("api.tls_key_file", "is required with api.tls_listen");
  }
  if (!api.tls_client_ca_file.empty() && api.tls_listen.empty()) {
    return err("api.tls_client_ca_file", "needs api.tls_listen");
  }
  return ValidateSync(config, err);
}

}  // namespace edgetable::app
