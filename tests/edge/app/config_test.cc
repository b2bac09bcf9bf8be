#include "edge/app/config.h"

#include <gtest/gtest.h>

namespace edgetable::app {
namespace {

TEST(ConfigTest, EmptyFileGivesDefaults) {
  Result<Config> c = ParseConfig("", "edge.toml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->node.data_dir, "./data");
  EXPECT_EQ(c->api.listen.ToString(), "127.0.0.1:8000");
  EXPECT_TRUE(c->api.tls_listen.empty());
  EXPECT_EQ(c->storage.durability, Durability::kNormal);
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

// Each bad config is refused with a message that names the key.
struct BadCase {
  const char* toml;
  const char* expect_in_message;
};

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
