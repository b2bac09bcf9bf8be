#include "edge/app/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "edge/item/number.h"

namespace edgetable::app {
namespace {

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
  ET_RETURN_IF_ERROR(top.Sub("node", &node));
  ET_RETURN_IF_ERROR(top.Sub("storage", &storage));
  ET_RETURN_IF_ERROR(top.Sub("api", &api));
  ET_RETURN_IF_ERROR(top.Sub("mqtt", &mqtt));
  ET_RETURN_IF_ERROR(top.Sub("ingest", &ingest_section));
  ET_RETURN_IF_ERROR(top.CheckNoUnknownKeys());
  ET_RETURN_IF_ERROR(ParseNode(node, &config.node));
  ET_RETURN_IF_ERROR(ParseStorage(storage, &config.storage));
  ET_RETURN_IF_ERROR(ParseApi(api, &config.api));
  ET_RETURN_IF_ERROR(ParseMqtt(mqtt, &config.mqtt));
  ET_RETURN_IF_ERROR(ParseIngest(ingest_section, &config.ingest));
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read config file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return ParseConfig(buf.str(), path);
}

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
  return Status::Ok();
}

}  // namespace edgetable::app
