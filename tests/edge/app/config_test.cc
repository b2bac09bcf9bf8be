#include "edge/app/config.h"

#include <gtest/gtest.h>

#include <string>

namespace edgetable::app {
namespace {

// Parse, then ValidateConfig, as `edgetable serve` does: the first error.
Status Check(std::string_view toml) {
  Result<Config> c = ParseConfig(toml, "edge.toml");
  if (!c.ok()) return c.status();
  return ValidateConfig(*c);
}

// Each bad config is refused with a message that names the key.
struct BadCase {
  const char* toml;
  const char* expect_in_message;
};

void ExpectAllRefused(const BadCase* begin, const BadCase* end) {
  for (const BadCase* c = begin; c != end; ++c) {
    Status s = Check(c->toml);
    ASSERT_FALSE(s.ok()) << c->toml;
    EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << c->toml;
    EXPECT_NE(s.message().find(c->expect_in_message), std::string::npos)
        << "config:\n" << c->toml << "message: " << s.message() << "\nwanted: " << c->expect_in_message;
  }
}

TEST(ConfigTest, EmptyFileGivesDefaults) {
  Result<Config> c = ParseConfig("", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.data_dir, "./data");
  EXPECT_EQ(c->api.listen.ToString(), "127.0.0.1:8000");
  EXPECT_TRUE(c->api.tls_listen.empty());
  EXPECT_EQ(c->storage.durability, Durability::kNormal);
  EXPECT_EQ(c->node.clock_offset_ms, 0);
  // The storage engine's own defaults.
  const storage::Options defaults;
  EXPECT_EQ(c->storage.ttl_sweep_interval_ms, defaults.ttl_sweep_interval_ms);
  EXPECT_EQ(c->storage.ttl_sweep_batch_items, defaults.ttl_sweep_batch_items);
  EXPECT_EQ(c->storage.hide_expired_on_read, defaults.hide_expired_on_read);
  EXPECT_EQ(c->storage.stream_retention_ms, defaults.stream_retention_ms);
  EXPECT_EQ(c->storage.retention_max_age_ms, 0);
  EXPECT_TRUE(c->storage.retention_max_age_ms_by_table.empty());
  EXPECT_EQ(c->storage.disk_budget_bytes, 0);
  EXPECT_EQ(c->storage.budget_policy, storage::BudgetPolicy::kEvict);
  EXPECT_EQ(c->storage.wal_autocheckpoint_pages, defaults.wal_autocheckpoint_pages);
  // No sync: neither an upstream nor peers.
  EXPECT_FALSE(c->sync.has_upstream());
  EXPECT_FALSE(c->sync.is_hub());
  EXPECT_EQ(c->sync.client.default_direction, sync::Direction::kBoth);
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, ReadsEverySection) {
  Result<Config> c = ParseConfig(R"(
[node]
data_dir = "/var/lib/edgetable"
log_level = "debug"
[storage]
durability = "full"
cache_mb = 32
[api]
listen = "0.0.0.0:8000"
tls_listen = "[::1]:8443"
tls_cert_file = "server.crt"
tls_key_file = "server.key"
[[api.access_keys]]
access_key_id = "AKID"
secret_access_key = "secret"
)", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.data_dir, "/var/lib/edgetable");
  EXPECT_EQ(c->storage.durability, Durability::kFull);
  EXPECT_EQ(c->storage.cache_bytes, 32 * 1024 * 1024);
  EXPECT_EQ(c->api.listen.host, "0.0.0.0");
  EXPECT_EQ(c->api.tls_listen.host, "::1");
  EXPECT_EQ(c->api.tls_listen.port, 8443);
  ASSERT_EQ(c->api.access_keys.size(), 1u);
  EXPECT_EQ(c->api.access_keys[0].access_key_id, "AKID");
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, BadConfigsNameTheKey) {
  const BadCase cases[] = {
      {"[nod]\n", "edge.toml: nod: unknown key"},
      {"[node]\ndatadir = \"x\"\n", "node.datadir: unknown key"},
      {"[node]\ndata_dir = 5\n", "node.data_dir: expected a string"},
      {"[node]\nlog_level = \"loud\"\n", "node.log_level: 'loud' is not one of"},
      {"[storage]\ndurability = \"sometimes\"\n", "storage.durability: 'sometimes'"},
      {"[storage]\ncache_mb = 0\n", "storage.cache_mb: must be 1 to 4096"},
      {"[api]\nlisten = \"localhost\"\n", "api.listen: 'localhost' is not HOST:PORT"},
      {"[api]\nlisten = \"1.2.3.4:70000\"\n", "api.listen"},
      {"[[api.access_keys]]\naccess_key_id = \"a\"\n", "api.access_keys[0].secret_access_key"},
      {"[node\n", "edge.toml:1:"},
  };
  for (const BadCase& c : cases) {
    Result<Config> r = ParseConfig(c.toml, "edge.toml");
    ASSERT_FALSE(r.ok()) << c.toml;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find(c.expect_in_message), std::string::npos)
        << "message: " << r.status().message() << "\nwanted: " << c.expect_in_message;
  }
}

// --- [node] -----------------------------------------------------------------

TEST(ConfigTest, NodeClockOffset) {
  Result<Config> c = ParseConfig("[node]\nclock_offset_ms = -86400000\n", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.clock_offset_ms, -86400000);
  c = ParseConfig("[node]\nclock_offset_ms = 3153600000000\n", "edge.toml");  // a century ahead
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.clock_offset_ms, 3153600000000);
}

TEST(ConfigTest, BadNodeKeys) {
  const BadCase cases[] = {
      {"[node]\nclock_offset_ms = 99999999999999\n", "node.clock_offset_ms: must be"},
      {"[node]\nclock_offset_ms = \"1h\"\n", "node.clock_offset_ms: expected an integer"},
      {"[node]\nreplica_id = 7\n", "node.replica_id: is not configurable"},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
}

// --- [storage]: TTL and retention ---------------------------------------------

TEST(ConfigTest, StorageTtlAndRetention) {
  Result<Config> c = ParseConfig(R"(
[storage]
ttl_sweep_interval_ms = 250
ttl_sweep_batch_items = 500
hide_expired_on_read = false
stream_retention_hours = 48
retention_max_age_hours = 0.5
disk_budget_mb = 512
budget_policy = "backpressure"
wal_autocheckpoint_pages = 2000
[storage.retention_max_age_hours_by_table]
telemetry = 720
edgetable_dead_letters = 24
"a.b-c" = 0
)", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const StorageConfig& st = c->storage;
  EXPECT_EQ(st.ttl_sweep_interval_ms, 250);
  EXPECT_EQ(st.ttl_sweep_batch_items, 500);
  EXPECT_FALSE(st.hide_expired_on_read);
  EXPECT_EQ(st.stream_retention_ms, 48LL * 3600 * 1000);
  EXPECT_EQ(st.retention_max_age_ms, 30LL * 60 * 1000);
  EXPECT_EQ(st.disk_budget_bytes, 512LL * 1024 * 1024);
  EXPECT_EQ(st.budget_policy, storage::BudgetPolicy::kBackpressure);
  EXPECT_EQ(st.wal_autocheckpoint_pages, 2000);
  ASSERT_EQ(st.retention_max_age_ms_by_table.size(), 3u);
  EXPECT_EQ(st.retention_max_age_ms_by_table.at("telemetry"), 720LL * 3600 * 1000);
  EXPECT_EQ(st.retention_max_age_ms_by_table.at("edgetable_dead_letters"), 24LL * 3600 * 1000);
  EXPECT_EQ(st.retention_max_age_ms_by_table.at("a.b-c"), 0);
  EXPECT_TRUE(ValidateConfig(*c).ok());
}

TEST(ConfigTest, StorageZeroIntervalAndEvictPolicy) {
  Result<Config> c = ParseConfig(
      "[storage]\nttl_sweep_interval_ms = 0\nbudget_policy = \"evict\"\nstream_retention_hours = 0.001\n",
      "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->storage.ttl_sweep_interval_ms, 0);
  EXPECT_EQ(c->storage.budget_policy, storage::BudgetPolicy::kEvict);
  EXPECT_EQ(c->storage.stream_retention_ms, 3600);
}

TEST(ConfigTest, BadStorageKeys) {
  const BadCase cases[] = {
      {"[storage]\nttl_sweep_interval_ms = -1\n", "storage.ttl_sweep_interval_ms: must be 0 to"},
      {"[storage]\nttl_sweep_interval_ms = 3600001\n", "storage.ttl_sweep_interval_ms: must be 0 to"},
      {"[storage]\nttl_sweep_batch_items = 0\n", "storage.ttl_sweep_batch_items: must be 1 to"},
      {"[storage]\nhide_expired_on_read = \"no\"\n", "storage.hide_expired_on_read: expected true or false"},
      {"[storage]\nstream_retention_hours = -1\n", "storage.stream_retention_hours: must be 0 to"},
      {"[storage]\nstream_retention_hours = \"24h\"\n", "storage.stream_retention_hours: expected a number of hours"},
      {"[storage]\nstream_retention_hours = nan\n", "storage.stream_retention_hours: must be 0 to"},
      {"[storage]\nretention_max_age_hours = 1e9\n", "storage.retention_max_age_hours: must be 0 to"},
      {"[storage]\nretention_max_age_hours = 1e-12\n", "storage.retention_max_age_hours: must be 0 or at least 1 ms"},
      {"[storage]\nretention_max_age_ms = 5\n", "storage.retention_max_age_ms: unknown key"},
      {"[storage]\nretention_max_age_hours_by_table = 5\n", "storage.retention_max_age_hours_by_table: expected a table"},
      {"[storage.retention_max_age_hours_by_table]\nab = 1\n",
       "storage.retention_max_age_hours_by_table.ab: 'ab' is not a table name"},
      {"[storage.retention_max_age_hours_by_table]\ntelemetry = \"1\"\n",
       "storage.retention_max_age_hours_by_table.telemetry: expected a number of hours"},
      {"[storage.retention_max_age_hours_by_table]\ntelemetry = -2\n",
       "storage.retention_max_age_hours_by_table.telemetry: must be 0 to"},
      {"[storage]\ndisk_budget_mb = -1\n", "storage.disk_budget_mb: must be 0 to"},
      {"[storage]\ndisk_budget_bytes = 1000\n", "storage.disk_budget_bytes: unknown key"},
      {"[storage]\nbudget_policy = \"drop\"\n", "storage.budget_policy: 'drop' is not one of evict, backpressure"},
      {"[storage]\nwal_autocheckpoint_pages = 0\n", "storage.wal_autocheckpoint_pages: must be 1 to"},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
}

// --- [sync] -------------------------------------------------------------------

TEST(ConfigTest, SyncEdgeSide) {
  Result<Config> c = ParseConfig(R"(
[sync]
upstream = "https://hub.example:8443/"
ca_file = "ca.pem"
client_cert_file = "edge.crt"
client_key_file = "edge.key"
token = "s3cret"
interval_ms = 2500
batch_bytes_max = 262144
batch_changes_max = 500
backoff_min_ms = 100
backoff_max_ms = 60000
max_skew_ms = 120000
skew_policy = "clamp"
default_direction = "up"
[sync.tables]
readings = "both"
commands = "down"
scratch = "none"
)", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const SyncConfig& s = c->sync;
  EXPECT_TRUE(s.has_upstream());
  EXPECT_FALSE(s.is_hub());
  EXPECT_EQ(s.transport.base_url, "https://hub.example:8443");  // the trailing '/' dropped
  EXPECT_EQ(s.transport.ca_file, "ca.pem");
  EXPECT_EQ(s.transport.client_cert_file, "edge.crt");
  EXPECT_EQ(s.transport.client_key_file, "edge.key");
  EXPECT_EQ(s.transport.bearer_token, "s3cret");
  EXPECT_EQ(s.client.interval_ms, 2500);
  EXPECT_EQ(s.client.batch_bytes_max, 262144);
  EXPECT_EQ(s.client.batch_changes_max, 500);
  EXPECT_EQ(s.client.backoff_min_ms, 100);
  EXPECT_EQ(s.client.backoff_max_ms, 60000);
  EXPECT_EQ(s.client.max_skew_ms, 120000);
  EXPECT_EQ(s.client.skew_policy, sync::SkewPolicy::kClamp);
  EXPECT_EQ(s.hub.max_skew_ms, 120000);  // one skew bound and policy for the node
  EXPECT_EQ(s.hub.skew_policy, sync::SkewPolicy::kClamp);
  EXPECT_EQ(s.client.default_direction, sync::Direction::kUp);
  ASSERT_EQ(s.client.table_directions.size(), 3u);
  EXPECT_EQ(s.client.table_directions.at("readings"), sync::Direction::kBoth);
  EXPECT_EQ(s.client.table_directions.at("commands"), sync::Direction::kDown);
  EXPECT_EQ(s.client.table_directions.at("scratch"), sync::Direction::kNone);
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c).ToString();
}

TEST(ConfigTest, SyncUpstreamForms) {
  struct Case {
    const char* upstream;
    const char* base_url;
  };
  const Case cases[] = {
      {"http://127.0.0.1:9000", "http://127.0.0.1:9000"},
      {"https://hub", "https://hub"},
      {"https://[::1]:8443//", "https://[::1]:8443"},
      {"https://proxy.example/edgetable/", "https://proxy.example/edgetable"},
  };
  for (const Case& k : cases) {
    Result<Config> c = ParseConfig(std::string("[sync]\nupstream = \"") + k.upstream + "\"\n", "edge.toml");
    ASSERT_TRUE(c.ok()) << k.upstream << ": " << c.status().ToString();
    EXPECT_EQ(c->sync.transport.base_url, k.base_url);
  }
  // A token alone over http:// is accepted (tests, loopback); the node warns.
  EXPECT_TRUE(Check("[sync]\nupstream = \"http://127.0.0.1:9000\"\ntoken = \"t\"\n").ok());
}

TEST(ConfigTest, SyncHubSide) {
  Result<Config> c = ParseConfig(R"(
[api]
tls_listen = "0.0.0.0:8443"
tls_cert_file = "hub.crt"
tls_key_file = "hub.key"
tls_client_ca_file = "edges-ca.pem"
[[sync.peers]]
name = "gw-1"
cert_subject = "CN=gw-1"
tables = ["readings"]
key_prefixes = ["gw-1/"]
[[sync.peers]]
name = "gw-2"
token = "t2"
[[sync.peers]]
name = "gw.3_x"
token = "t3"
cert_subject = "CN=gw-3, O=Acme"
tables = ["readings", "events"]
)", "hub.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const SyncConfig& s = c->sync;
  EXPECT_FALSE(s.has_upstream());
  EXPECT_TRUE(s.is_hub());
  ASSERT_EQ(s.hub.peers.size(), 3u);
  EXPECT_EQ(s.hub.peers[0].name, "gw-1");
  EXPECT_EQ(s.hub.peers[0].cert_subject, "CN=gw-1");
  EXPECT_EQ(s.hub.peers[0].token, "");
  EXPECT_EQ(s.hub.peers[0].scope.tables, std::vector<std::string>{"readings"});
  EXPECT_EQ(s.hub.peers[0].scope.key_prefixes, std::vector<std::string>{"gw-1/"});
  EXPECT_EQ(s.hub.peers[1].token, "t2");
  EXPECT_TRUE(s.hub.peers[1].scope.tables.empty());
  EXPECT_TRUE(s.hub.peers[1].scope.key_prefixes.empty());
  EXPECT_EQ(s.hub.peers[2].cert_subject, "CN=gw-3, O=Acme");
  EXPECT_EQ(s.hub.peers[2].scope.tables, (std::vector<std::string>{"readings", "events"}));
  EXPECT_TRUE(ValidateConfig(*c).ok()) << ValidateConfig(*c).ToString();
}

TEST(ConfigTest, SyncHubWithUpstream) {
  // A middle tier: peers below, an upstream above.
  Status s = Check(R"(
[sync]
upstream = "https://cloud.example"
token = "up"
[[sync.peers]]
name = "gw-1"
token = "down"
)");
  EXPECT_TRUE(s.ok()) << s.ToString();
}

TEST(ConfigTest, BadSyncKeys) {
  const BadCase cases[] = {
      {"[sync]\nupstrem = \"https://h\"\n", "sync.upstrem: unknown key"},
      {"[sync]\nupstream = 5\n", "sync.upstream: expected a string"},
      {"[sync]\nupstream = \"ftp://hub\"\n", "sync.upstream: 'ftp://hub' is not an http:// or https:// URL"},
      {"[sync]\nupstream = \"hub.example:8443\"\n", "sync.upstream: 'hub.example:8443' is not an http://"},
      {"[sync]\nupstream = \"https://\"\n", "sync.upstream: 'https://' has no host"},
      {"[sync]\nupstream = \"https:///x\"\n", "sync.upstream: 'https:///x' has no host"},
      {"[sync]\nupstream = \"https://h/?a=1\"\n", "sync.upstream: 'https://h/?a=1' may not hold a query"},
      {"[sync]\nupstream = \"https://u:p@h\"\n", "sync.upstream: 'https://u:p@h' may not hold"},
      {"[sync]\nupstream = \"https://h\"\ntoken = \"\"\n", "sync.token: must not be empty"},
      {"[sync]\nupstream = \"https://h\"\nca_file = \"\"\n", "sync.ca_file: must not be empty"},
      {"[sync]\ninterval_ms = 0\n", "sync.interval_ms: must be 10 to"},
      {"[sync]\nbatch_bytes_max = 1000\n", "sync.batch_bytes_max: must be 65536 to"},
      {"[sync]\nbatch_bytes_max = 100000000\n", "sync.batch_bytes_max: must be 65536 to"},
      {"[sync]\nbatch_changes_max = 10\n", "sync.batch_changes_max: must be 100 to"},
      {"[sync]\nbackoff_min_ms = 5000\nbackoff_max_ms = 1000\n", "sync.backoff_max_ms: must be >= backoff_min_ms"},
      {"[sync]\nmax_skew_ms = 10\n", "sync.max_skew_ms: must be 1000 to"},
      {"[sync]\nskew_policy = \"ignore\"\n", "sync.skew_policy: 'ignore' is not one of refuse, clamp"},
      {"[sync]\ndefault_direction = \"sideways\"\n",
       "sync.default_direction: 'sideways' is not one of both, up, down, none"},
      {"[sync]\ndefault_direction = 1\n", "sync.default_direction: expected a string"},
      {"[sync.tables]\nreadings = \"upwards\"\n", "sync.tables.readings: 'upwards' is not one of both, up, down, none"},
      {"[sync.tables]\nreadings = true\n", "sync.tables.readings: expected a string"},
      {"[sync.tables]\nedgetable_conflicts = \"up\"\n",
       "sync.tables.edgetable_conflicts: 'edgetable_conflicts' is one of the node's own tables"},
      {"[sync.tables]\nx = \"up\"\n", "sync.tables.x: 'x' is not a table name"},
      {"[sync]\ntables = [\"readings\"]\n", "sync.tables: expected a table"},
      {"[sync]\npeers = 1\n", "sync.peers: expected an array of tables"},
      {"[[sync.peers]]\ntoken = \"t\"\n", "sync.peers[0].name: is required"},
      {"[[sync.peers]]\nname = \"gw 1\"\ntoken = \"t\"\n", "sync.peers[0].name: 'gw 1' is not 1 to 64 characters"},
      {"[[sync.peers]]\nname = \"\"\ntoken = \"t\"\n", "sync.peers[0].name: '' is not 1 to 64 characters"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"\"\n", "sync.peers[0].token: must not be empty"},
      {"[[sync.peers]]\nname = \"gw\"\ncert_subject = \"\"\n", "sync.peers[0].cert_subject: must not be empty"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\ntables = []\n", "sync.peers[0].tables: must not be empty"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\ntables = \"readings\"\n",
       "sync.peers[0].tables: expected an array of strings"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\ntables = [\"readings\", 3]\n",
       "sync.peers[0].tables: expected an array of strings"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\ntables = [\"edgetable_dead_letters\"]\n",
       "sync.peers[0].tables: 'edgetable_dead_letters' is one of the node's own tables"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\nkey_prefixes = []\n",
       "sync.peers[0].key_prefixes: must not be empty"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\nkey_prefixes = [\"a/\", \"\"]\n",
       "sync.peers[0].key_prefixes: '' would allow every key"},
      {"[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\nsubject = \"CN=gw\"\n", "sync.peers[0].subject: unknown key"},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
}

TEST(ConfigTest, BadSyncCombinations) {
  const char* kHubTls =
      "[api]\ntls_listen = \"127.0.0.1:8443\"\ntls_cert_file = \"c\"\ntls_key_file = \"k\"\n"
      "tls_client_ca_file = \"ca\"\n";
  const std::string dup_names = std::string(kHubTls) +
      "[[sync.peers]]\nname = \"gw\"\ntoken = \"a\"\n[[sync.peers]]\nname = \"gw\"\ntoken = \"b\"\n";
  const std::string dup_tokens = std::string(kHubTls) +
      "[[sync.peers]]\nname = \"gw-1\"\ntoken = \"same-secret\"\n"
      "[[sync.peers]]\nname = \"gw-2\"\ntoken = \"same-secret\"\n";
  const std::string dup_subjects = std::string(kHubTls) +
      "[[sync.peers]]\nname = \"gw-1\"\ncert_subject = \"CN=gw\"\n"
      "[[sync.peers]]\nname = \"gw-2\"\ncert_subject = \"CN=gw\"\n";
  const BadCase cases[] = {
      {"[sync]\nca_file = \"ca.pem\"\n", "sync.ca_file: needs sync.upstream"},
      {"[sync]\nclient_cert_file = \"e.crt\"\nclient_key_file = \"e.key\"\n", "sync.client_cert_file: needs sync.upstream"},
      {"[sync]\nclient_key_file = \"e.key\"\n", "sync.client_key_file: needs sync.upstream"},
      {"[sync]\ntoken = \"t\"\n", "sync.token: needs sync.upstream"},
      {"[sync]\nupstream = \"https://h\"\nclient_key_file = \"e.key\"\n", "sync.client_key_file: needs sync.client_cert_file"},
      {"[sync]\nupstream = \"https://h\"\nclient_cert_file = \"e.crt\"\n", "sync.client_cert_file: needs sync.client_key_file"},
      {"[sync]\nupstream = \"http://h\"\nca_file = \"ca.pem\"\n", "sync.ca_file: needs an https:// upstream"},
      {"[sync]\nupstream = \"http://h\"\nclient_cert_file = \"e.crt\"\nclient_key_file = \"e.key\"\n",
       "sync.client_cert_file: needs an https:// upstream"},
      {"[[sync.peers]]\nname = \"gw\"\n", "sync.peers[0]: peer 'gw' needs a token or a cert_subject"},
      {"[[sync.peers]]\nname = \"gw\"\ncert_subject = \"CN=gw\"\n",
       "sync.peers[0].cert_subject: needs api.tls_client_ca_file"},
      {"[api]\nlisten = \"\"\n[[sync.peers]]\nname = \"gw\"\ntoken = \"t\"\n",
       "sync.peers: needs api.listen or api.tls_listen"},
      {dup_names.c_str(), "sync.peers[1].name: 'gw' is also the name of sync.peers[0] ('gw')"},
      {dup_tokens.c_str(), "sync.peers[1].token: is also the token of sync.peers[0] ('gw-1')"},
      {dup_subjects.c_str(), "sync.peers[1].cert_subject: 'CN=gw' is also the subject of sync.peers[0] ('gw-1')"},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
  // A token is a secret: never repeated in a message.
  EXPECT_EQ(Check(dup_tokens).message().find("same-secret"), std::string::npos);
}

// --- [mqtt] and [ingest] ----------------------------------------------------------

TEST(ConfigTest, MqttKeys) {
  Result<Config> c = ParseConfig(R"(
[mqtt]
broker = "ssl://broker.local:8883"
client_id = "gw-7"
username = "u"
password = "p"
ca_file = "ca.pem"
cert_file = "c.pem"
key_file = "k.pem"
key_password = "kp"
tls_verify = false
keepalive_s = 60
reconnect_min_ms = 100
reconnect_max_ms = 5000
qos = 0
connections = 4
uncommitted_max = 64
client = "paho"
)", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  const ingest::MqttOptions& m = c->mqtt;
  EXPECT_EQ(m.broker, "ssl://broker.local:8883");
  EXPECT_EQ(m.client_id, "gw-7");
  EXPECT_EQ(m.username, "u");
  EXPECT_EQ(m.password, "p");
  EXPECT_EQ(m.ca_file, "ca.pem");
  EXPECT_EQ(m.cert_file, "c.pem");
  EXPECT_EQ(m.key_file, "k.pem");
  EXPECT_EQ(m.key_password, "kp");
  EXPECT_FALSE(m.tls_verify);
  EXPECT_EQ(m.keepalive_s, 60);
  EXPECT_EQ(m.reconnect_min_ms, 100);
  EXPECT_EQ(m.reconnect_max_ms, 5000);
  EXPECT_EQ(m.qos, 0);
  EXPECT_EQ(m.connections, 4);
  EXPECT_EQ(m.uncommitted_max, 64);
  EXPECT_EQ(m.client, "paho");
  EXPECT_EQ(ingest::MqttOptions{}.client, "builtin");  // the default acknowledges after commit
  EXPECT_FALSE(c->ingest.enabled());  // no rules: no ingest, whatever [mqtt] says
}

TEST(ConfigTest, TheUncommittedWindowDefaultsToTheClient) {
  // The builtin client acknowledges after commit: a wide window costs no
  // durability. Paho acknowledges before: its window is what a crash loses.
  Result<Config> builtin = ParseConfig("[mqtt]\nbroker = \"tcp://b:1883\"\n", "edge.toml");
  ASSERT_TRUE(builtin.ok()) << builtin.status().ToString();
  EXPECT_EQ(builtin->mqtt.uncommitted_max, 512);
  Result<Config> paho = ParseConfig("[mqtt]\nclient = \"paho\"\n", "edge.toml");
  ASSERT_TRUE(paho.ok()) << paho.status().ToString();
  EXPECT_EQ(paho->mqtt.uncommitted_max, 1);
  Result<Config> paho_set = ParseConfig("[mqtt]\nclient = \"paho\"\nuncommitted_max = 8\n", "edge.toml");
  ASSERT_TRUE(paho_set.ok()) << paho_set.status().ToString();
  EXPECT_EQ(paho_set->mqtt.uncommitted_max, 8);
}

TEST(ConfigTest, BadMqttKeys) {
  const BadCase cases[] = {
      {"[mqtt]\nbroker = \"http://b:1883\"\n", "mqtt.broker: 'http://b:1883' is not tcp://HOST:PORT"},
      {"[mqtt]\nclient_id = \"\"\n", "mqtt.client_id: must not be empty"},
      {"[mqtt]\nreconnect_min_ms = 5000\nreconnect_max_ms = 1000\n", "mqtt.reconnect_max_ms: must be >= reconnect_min_ms"},
      {"[mqtt]\nca_file = \"ca.pem\"\n", "mqtt.ca_file: needs an ssl:// broker"},
      {"[mqtt]\nbroker = \"ssl://b:8883\"\ncert_file = \"c.pem\"\n", "mqtt.key_file: cert_file and key_file go together"},
      {"[mqtt]\nqos = 2\n", "mqtt.qos: must be 0 to 1"},
      {"[mqtt]\nconnections = 0\n", "mqtt.connections: must be 1 to"},
      {"[mqtt]\nkeepalive_s = 1\n", "mqtt.keepalive_s: must be 5 to 3600"},
      {"[mqtt]\ntls_verify = 1\n", "mqtt.tls_verify: expected true or false"},
      {"[mqtt]\nport = 1883\n", "mqtt.port: unknown key"},
      {"[mqtt]\nclient = \"mosquitto\"\n", "mqtt.client: 'mosquitto' is not \"builtin\" or \"paho\""},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
}

TEST(ConfigTest, IngestRules) {
  Result<Config> c = ParseConfig(R"(
[ingest]
dead_letter_table = "bad_messages"
[[ingest.rules]]
topic = "sensors/{device}/telemetry"
table = "telemetry"
ttl = "30d"
attributes = { site = "plant-7", line = 3, ok = true }
[[ingest.rules]]
topic = "frames/+"
table = "telemetry_fb"
format = "flatbuffers"
partition_from = "payload:device"
)", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_TRUE(c->ingest.enabled());
  EXPECT_EQ(c->ingest.dead_letter_table, "bad_messages");
  ASSERT_EQ(c->ingest.rules.size(), 2u);
  EXPECT_EQ(c->ingest.rules[0].topic, "sensors/{device}/telemetry");
  EXPECT_EQ(c->ingest.rules[0].ttl, "30d");
  EXPECT_EQ(c->ingest.rules[0].attributes.size(), 3u);
  EXPECT_EQ(c->ingest.rules[1].format, "flatbuffers");
  EXPECT_EQ(c->ingest.rules[1].partition_from, "payload:device");
}

TEST(ConfigTest, BadIngestKeys) {
  const BadCase cases[] = {
      {"[[ingest.rules]]\ntable = \"telemetry\"\n", "ingest.rules[0] (): topic: is required"},
      {"[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"telemetry\"\nformat = \"xml\"\n",
       "ingest.rules[0] (a/+): format: 'xml' is not one of json, flatbuffers"},
      {"[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"telemetry\"\ntabel = \"x\"\n", "ingest.rules[0].tabel: unknown key"},
      {"[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"edgetable_dead_letters\"\n", "table: is the dead-letter table"},
      {"[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"telemetry\"\nattributes = { x = [1] }\n",
       "ingest.rules[0].attributes.x: expected a string, number or boolean"},
      {"[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"t1x\"\n[[ingest.rules]]\ntopic = \"b/+\"\ntable = \"t1x\"\n"
       "sort_key = \"at\"\n",
       "has another key schema"},
      {"[ingest]\nrules = 3\n", "ingest.rules: expected an array of tables"},
  };
  ExpectAllRefused(std::begin(cases), std::end(cases));
}

// --- The shipped examples parse and validate ----------------------------------------

TEST(ConfigTest, ExamplesAreValid) {
  for (const char* name : {"edge.toml", "hub.toml", "ingest.toml"}) {
    std::string path = std::string(EDGETABLE_SOURCE_DIR) + "/examples/" + name;
    Result<Config> c = LoadConfigFile(path);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    Status s = ValidateConfig(*c);
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
}

TEST(ConfigTest, TlsNeedsCertificateAndKey) {
  Result<Config> c = ParseConfig("[api]\ntls_listen = \"127.0.0.1:8443\"\n", "e.toml");
  ASSERT_TRUE(c.ok());
  Status s = ValidateConfig(*c);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("api.tls_cert_file"), std::string::npos);
}

TEST(ConfigTest, ListenAddresses) {
  EXPECT_EQ(ParseListenAddress("127.0.0.1:0")->port, 0);
  EXPECT_EQ(ParseListenAddress("[::]:8000")->host, "::");
  EXPECT_FALSE(ParseListenAddress(":80").ok());
  EXPECT_FALSE(ParseListenAddress("::1:80").ok());
  EXPECT_FALSE(ParseListenAddress("h:-1").ok());
  EXPECT_FALSE(ParseListenAddress("h:8x").ok());
}

TEST(ConfigTest, MissingFileIsNotFound) {
  Result<Config> c = LoadConfigFile("/nonexistent/edge.toml");
  EXPECT_EQ(c.status().code(), Status::Code::kNotFound);
}

}  // namespace
}  // namespace edgetable::app
