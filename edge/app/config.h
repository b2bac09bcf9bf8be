#pragma once
// edge/app configuration: one TOML file, every key optional, flags override.
//
// The only module that reads configuration. Unknown sections and keys are
// errors (a typo must not silently fall back to a default), and every error
// names the file, the key and what was expected. See README.md, "Configuration",
// for the reference and examples/edge.toml for a commented example.
// Threads: plain values.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"
#include "edge/ingest/ingest.h"
#include "edge/ingest/rules.h"
#include "edge/storage/storage.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"
#include "sync/transport/transport.h"

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
  // Shifts this node's wall clock (storage versions, TTL, sync's skew
  // checks) by this much. For tests that need a gateway with a wrong clock;
  // never for production. (The replica id is not configurable: it is made
  // once, at random, when the database is created.)
  int64_t clock_offset_ms = 0;
};

// [storage]: the storage engine's settings (edge/storage/storage.h, Options;
// the defaults are its defaults). Hours in the file, milliseconds here.
struct StorageConfig {
  Durability durability = Durability::kNormal;
  int64_t cache_bytes = 16 * 1024 * 1024;
  int wal_autocheckpoint_pages = storage::Options{}.wal_autocheckpoint_pages;
  // TTL.
  int64_t ttl_sweep_interval_ms = storage::Options{}.ttl_sweep_interval_ms;  // 0: no background work
  int ttl_sweep_batch_items = storage::Options{}.ttl_sweep_batch_items;
  bool hide_expired_on_read = storage::Options{}.hide_expired_on_read;
  // Change log and edge retention.
  int64_t stream_retention_ms = storage::Options{}.stream_retention_ms;
  int64_t retention_max_age_ms = 0;  // 0: kept forever
  std::map<std::string, int64_t, std::less<>> retention_max_age_ms_by_table;
  int64_t disk_budget_bytes = 0;     // 0: no budget
  storage::BudgetPolicy budget_policy = storage::BudgetPolicy::kEvict;
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

// [sync]: replication. A node with `upstream` runs a sync::Client against
// it (through a sync::CurlTransport); a node with [[sync.peers]] serves the
// hub routes (sync::Hub) on its API listeners. A node may do both (tiers).
// The clocks in these options are left at their defaults here: the node
// sets its own (see NodeConfig::clock_offset_ms).
struct SyncConfig {
  // base_url is `upstream`; the credentials are the upstream's.
  sync::CurlTransportOptions transport;
  // Directions, batch bounds, timing, skew bound and policy.
  sync::ClientOptions client;
  // Peers; skew bound and policy (the same keys as the client's).
  sync::HubOptions hub;
  bool has_upstream() const { return !transport.base_url.empty(); }
  bool is_hub() const { return !hub.peers.empty(); }
};

struct Config {
  std::string source = "(defaults)";  // where it came from, for messages
  NodeConfig node;
  StorageConfig storage;
  ApiConfig api;
  ingest::MqttOptions mqtt;
  IngestConfig ingest;
  SyncConfig sync;
};

// Parses TOML text. `source` names the file in messages.
// Returns kInvalidArgument: "<source>: <key>: <problem>" for a syntax error
// (with line and column), an unknown key, a wrong type or a bad value.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source);

// Reads and parses a file. Returns kNotFound if it cannot be read, otherwise
// as ParseConfig.
Result<Config> LoadConfigFile(const std::string& path);

// Cross-field checks: TLS files present when TLS is on; sync credentials
// only with an upstream, a client key only with its certificate; every peer
// identified by a token or a certificate subject, no two peers with the same
// name, token or subject, certificate subjects only where client
// certificates are verified (api.tls_client_ca_file), peers only with a
// listener. Returns kInvalidArgument naming the key.
Status ValidateConfig(const Config& config);

}  // namespace edgetable::app
