// edge/net over TLS: certificates made by the openssl command line, libcurl
// (OpenSSL) as the client with verification on, raw sockets for truncated
// handshakes.

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "edge/net/server.h"
#include "tests/edge/net/net_test_util.h"
#include "tests/support/temp_dir.h"

namespace edgetable::net {
namespace {

using testing::CertFiles;
using testing::Connect;
using testing::CurlClient;
using testing::MakeTestRouter;
using testing::SendAll;
using testing::WaitForClose;

class TlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new edgetable::testing::TempDir();
    const std::string& d = dir_->path();
    ca_ = new CertFiles(testing::MakeCa(d, "ca", "EdgeTable Test CA"));
    other_ca_ = new CertFiles(testing::MakeCa(d, "other-ca", "Some Other CA"));
    server_cert_ = new CertFiles(testing::MakeLeaf(d, "server", "127.0.0.1", *ca_, /*server=*/true));
    client_cert_ = new CertFiles(testing::MakeLeaf(d, "gw", "gateway-7", *ca_, /*server=*/false));
    stranger_cert_ = new CertFiles(testing::MakeLeaf(d, "stranger", "gateway-7", *other_ca_, /*server=*/false));
  }
  static void TearDownTestSuite() {
    delete ca_;
    delete other_ca_;
    delete server_cert_;
    delete client_cert_;
    delete stranger_cert_;
    delete dir_;
  }

  static ServerOptions Options(ClientCertMode mode = ClientCertMode::kNone) {
    ServerOptions o;
    o.tls = TlsOptions{server_cert_->cert, server_cert_->key, mode == ClientCertMode::kNone ? "" : ca_->cert, mode};
    return o;
  }
  static std::unique_ptr<Server> Start(ServerOptions options) {
    auto server = Server::Create(std::move(options), MakeTestRouter());
    EXPECT_TRUE(server.ok()) << server.status().ToString();
    return server.ok() ? std::move(server).value() : nullptr;
  }
  static std::string Url(const Server& s, const std::string& path) {
    return "https://127.0.0.1:" + std::to_string(s.port()) + path;
  }

  static edgetable::testing::TempDir* dir_;
  static CertFiles* ca_;
  static CertFiles* other_ca_;
  static CertFiles* server_cert_;
  static CertFiles* client_cert_;
  static CertFiles* stranger_cert_;
};

edgetable::testing::TempDir* TlsTest::dir_ = nullptr;
CertFiles* TlsTest::ca_ = nullptr;
CertFiles* TlsTest::other_ca_ = nullptr;
CertFiles* TlsTest::server_cert_ = nullptr;
CertFiles* TlsTest::client_cert_ = nullptr;
CertFiles* TlsTest::stranger_cert_ = nullptr;

TEST_F(TlsTest, HttpsRoundTripWithVerificationAndKeepAlive) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  CurlClient client;
  client.SetTls(ca_->cert);
  for (int i = 0; i < 50; ++i) {
    auto r = client.Post(Url(*server, "/echo"), "tls-" + std::to_string(i));
    ASSERT_EQ(r.curl_code, 0) << r.error;
    ASSERT_EQ(r.status, 200);
    ASSERT_EQ(r.body, "tls-" + std::to_string(i));
  }
  // Large bodies both ways: many records, partial writes.
  std::string big(2 * 1024 * 1024 + 17, 'q');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('A' + i % 26);
  auto r = client.Post(Url(*server, "/echo"), big);
  ASSERT_EQ(r.curl_code, 0) << r.error;
  EXPECT_EQ(r.body, big);
  EXPECT_EQ(server->stats().handshakes, 1);
  EXPECT_EQ(server->stats().connections_accepted, 1);
  // Without a client certificate the handler sees none.
  auto cert = client.Get(Url(*server, "/cert"));
  EXPECT_EQ(cert.body, "\n");
}

TEST_F(TlsTest, ClientThatDoesNotTrustTheServerFails) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  CurlClient client;
  client.SetTls(other_ca_->cert);
  auto r = client.Get(Url(*server, "/health"));
  EXPECT_NE(r.curl_code, 0);
}

TEST_F(TlsTest, PlainHttpToTlsPortIsRefused) {
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);
  EXPECT_EQ(server->stats().handshake_failures, 1);
}

TEST_F(TlsTest, TruncatedHandshakeTimesOutWithoutBlockingOthers) {
  ServerOptions options = Options();
  options.handshake_timeout_ms = 2000;  // generous: an emulated handshake takes ~400 ms
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  // Says nothing at all.
  int silent = Connect(server->port());
  // Half a ClientHello: a record header announcing 512 bytes, then 40 of them.
  int half = Connect(server->port());
  ASSERT_GE(silent, 0);
  ASSERT_GE(half, 0);
  std::string hello = {'\x16', '\x03', '\x01', '\x02', '\x00', '\x01', '\x00', '\x01', '\xfc', '\x03', '\x03'};
  hello += std::string(29, '\x42');
  ASSERT_TRUE(SendAll(half, hello));
  // Meanwhile TLS clients are served, each with a fresh handshake.
  for (int i = 0; i < 10; ++i) {
    CurlClient client;
    client.SetTls(ca_->cert);
    auto r = client.Get(Url(*server, "/health"));
    ASSERT_EQ(r.curl_code, 0) << r.error;
    EXPECT_EQ(r.status, 200);
  }
  EXPECT_TRUE(WaitForClose(silent, 5000));
  EXPECT_TRUE(WaitForClose(half, 5000));
  ServerStats s = server->stats();
  EXPECT_EQ(s.handshakes, 10);
  EXPECT_EQ(s.handshake_failures, 2);
  EXPECT_EQ(s.timeouts, 2);
  ::close(silent);
  ::close(half);
}

TEST_F(TlsTest, RequiredClientCertificate) {
  auto server = Start(Options(ClientCertMode::kRequired));
  ASSERT_NE(server, nullptr);
  {
    CurlClient none;
    none.SetTls(ca_->cert);
    auto r = none.Get(Url(*server, "/cert"));
    EXPECT_NE(r.curl_code, 0) << "served without a client certificate: " << r.body;
  }
  {
    CurlClient stranger;
    stranger.SetTls(ca_->cert, stranger_cert_->cert, stranger_cert_->key);
    auto r = stranger.Get(Url(*server, "/cert"));
    EXPECT_NE(r.curl_code, 0) << "served a certificate from another CA: " << r.body;
  }
  {
    CurlClient gateway;
    gateway.SetTls(ca_->cert, client_cert_->cert, client_cert_->key);
    auto r = gateway.Get(Url(*server, "/cert"));
    ASSERT_EQ(r.curl_code, 0) << r.error;
    ASSERT_EQ(r.status, 200);
    size_t nl = r.body.find('\n');
    ASSERT_NE(nl, std::string::npos);
    EXPECT_NE(r.body.substr(0, nl).find("CN=gateway-7"), std::string::npos) << r.body;
    EXPECT_NE(r.body.substr(0, nl).find("O=EdgeTable Tests"), std::string::npos) << r.body;
    EXPECT_EQ(r.body.substr(nl + 1), testing::OpensslFingerprint(client_cert_->cert));
  }
  ServerStats s = server->stats();
  EXPECT_EQ(s.handshakes, 1);
  EXPECT_EQ(s.handshake_failures, 2);
}

TEST_F(TlsTest, OptionalClientCertificate) {
  auto server = Start(Options(ClientCertMode::kOptional));
  ASSERT_NE(server, nullptr);
  CurlClient none;
  none.SetTls(ca_->cert);
  auto anonymous = none.Get(Url(*server, "/cert"));
  ASSERT_EQ(anonymous.curl_code, 0) << anonymous.error;
  EXPECT_EQ(anonymous.body, "\n");

  CurlClient gateway;
  gateway.SetTls(ca_->cert, client_cert_->cert, client_cert_->key);
  auto known = gateway.Get(Url(*server, "/cert"));
  ASSERT_EQ(known.curl_code, 0) << known.error;
  EXPECT_NE(known.body.find("CN=gateway-7"), std::string::npos);

  CurlClient stranger;
  stranger.SetTls(ca_->cert, stranger_cert_->cert, stranger_cert_->key);
  auto refused = stranger.Get(Url(*server, "/cert"));
  EXPECT_NE(refused.curl_code, 0) << "a certificate that does not verify was accepted: " << refused.body;
}

TEST_F(TlsTest, BadTlsFilesAreNamed) {
  ServerOptions o = Options();
  o.tls->key_file = client_cert_->key;  // does not match the certificate
  auto r = Server::Create(o, MakeTestRouter());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find(client_cert_->key), std::string::npos) << r.status().ToString();

  ServerOptions no_ca = Options(ClientCertMode::kRequired);
  no_ca.tls->client_ca_file = "";
  EXPECT_EQ(Server::Create(no_ca, MakeTestRouter()).status().code(), Status::Code::kInvalidArgument);
}

TEST_F(TlsTest, ManyTlsClients) {
  constexpr int kClients = 8;
  constexpr int kRequests = 100;
  auto server = Start(Options());
  ASSERT_NE(server, nullptr);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      CurlClient client;
      client.SetTls(ca_->cert);
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(c) + "/" + std::to_string(i);
        auto r = client.Post(Url(*server, "/echo"), body);
        if (r.curl_code == 0 && r.body == body) good.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  EXPECT_EQ(server->stats().handshakes, kClients);
}

}  // namespace
}  // namespace edgetable::net
