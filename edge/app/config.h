#pragma once
// edge/app configuration: one TOML file, every key optional, flags override.
//
// The only module that reads configuration. Unknown sections and keys are
// errors (a typo must not silently fall back to a default), and every error
// names the file, the key and what was expected. See README.md, "Configuration",
// for the reference and examples/edge.toml for a commented example.
// Threads: plain values.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"
#include "edge/ingest/ingest.h"
#include "edge/ingest/rules.h"

namespace edgetable::app {

// "HOST:PORT" or "[IPv6]:PORT"; port 0 means "pick a free port".
struct ListenAddress {
  std::string host;
  int32_t port = 0;
  bool empty() const { return host.empty(); }
  std::string ToString() const;
};

// Parses "HOST:PORT" / "[::1]:PORT". Returns kInvalidArgument naming the text.
Result<ListenAddress> ParseListenAddress(std::string_view text);

enum class Durability : uint8_t { kNormal, kFull };

struct NodeConfig {
  std::string data_dir = "./data";
  std::string log_level = "info";
};

struct StorageConfig {
  Durability durability = Durability::kNormal;
  int64_t cache_bytes = 16 * 1024 * 1024;
};

struct AccessKey {
  std::string access_key_id;
  std::string secret_access_key;
};

struct ApiConfig {
  ListenAddress listen{"127.0.0.1", 8000};  // plain HTTP; empty host disables it
  ListenAddress tls_listen;                 // HTTPS; empty disables it
  std::string tls_cert_file;                // PEM chain, required with tls_listen
  std::string tls_key_file;                 // PEM key, required with tls_listen
  std::string tls_client_ca_file;           // optional: verify client certificates
  std::vector<AccessKey> access_keys;       // empty: unsigned requests accepted
  std::string region = "local";
};

// [mqtt]: the broker ingest subscribes to (edge/ingest/ingest.h, MqttOptions).
// [ingest]: dead_letter_table, and [[ingest.rules]] (edge/ingest/rules.h,
// RuleConfig). Ingest runs when at least one rule is configured.
struct IngestConfig {
  std::vector<ingest::RuleConfig> rules;
  std::string dead_letter_table = "edgetable_dead_letters";
  bool enabled() const { return !rules.empty(); }
};

struct Config {
  std::string source = "(defaults)";  // where it came from, for messages
  NodeConfig node;
  StorageConfig storage;
  ApiConfig api;
  ingest::MqttOptions mqtt;
  IngestConfig ingest;
};

// Parses TOML text. `source` names the file in messages.
// Returns kInvalidArgument: "<source>: <key>: <problem>" for a syntax error
// (with line and column), an unknown key, a wrong type or a bad value.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source);

// Reads and parses a file. Returns kNotFound if it cannot be read, otherwise
// as ParseConfig.
Result<Config> LoadConfigFile(const std::string& path);

// Cross-field checks (TLS files present when TLS is on, ...). Returns
// kInvalidArgument naming the key.
Status ValidateConfig(const Config& config);

}  // namespace edgetable::app
