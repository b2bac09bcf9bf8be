// sync/transport over HTTPS against an in-process edge/net server (mbedTLS),
// with certificates made by the openssl command line: an external process,
// so these tests are labelled "integration", not "unit".

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "sync/transport/transport.h"
#include "tests/edge/net/net_test_util.h"
#include "tests/support/temp_dir.h"
#include "tests/sync/transport/hub_stub.h"

namespace edgetable::sync {
namespace {

using Code = Status::Code;
using net::testing::CertFiles;
using testing::HubStub;

class TransportTlsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = std::make_unique<edgetable::testing::TempDir>();
    const std::string& d = dir_->path();
    ca_ = std::make_unique<CertFiles>(net::testing::MakeCa(d, "ca", "EdgeTable Hub CA"));
    other_ca_ = std::make_unique<CertFiles>(net::testing::MakeCa(d, "other-ca", "Some Other CA"));
    hub_cert_ = std::make_unique<CertFiles>(net::testing::MakeLeaf(d, "hub", "127.0.0.1", *ca_, /*server=*/true));
    gateway_cert_ = std::make_unique<CertFiles>(net::testing::MakeLeaf(d, "gw", "gateway-7", *ca_, /*server=*/false));
  }
  static void TearDownTestSuite() {
    gateway_cert_.reset();
    hub_cert_.reset();
    other_ca_.reset();
    ca_.reset();
    dir_.reset();
  }

  static std::unique_ptr<HubStub> StartHub(net::ClientCertMode mode = net::ClientCertMode::kNone,
                                           const std::string& host = "127.0.0.1") {
    net::ServerOptions o;
    o.host = host;
    o.tls = net::TlsOptions{hub_cert_->cert, hub_cert_->key, mode == net::ClientCertMode::kNone ? "" : ca_->cert, mode};
    auto hub = HubStub::Start(std::move(o));
    EXPECT_TRUE(hub->ok()) << hub->start_error();
    return hub;
  }

  static CurlTransportOptions Https(const HubStub& hub) {
    CurlTransportOptions o;
    o.base_url = hub.Url(/*https=*/true);
    o.ca_file = ca_->cert;
    return o;
  }

  static std::unique_ptr<CurlTransport> Connect(const CurlTransportOptions& o) {
    auto t = CurlTransport::Create(o);
    EXPECT_TRUE(t.ok()) << t.status().ToString();
    return t.ok() ? std::move(t).value() : nullptr;
  }

  static std::unique_ptr<edgetable::testing::TempDir> dir_;
  static std::unique_ptr<CertFiles> ca_;
  static std::unique_ptr<CertFiles> other_ca_;
  static std::unique_ptr<CertFiles> hub_cert_;
  static std::unique_ptr<CertFiles> gateway_cert_;
};

std::unique_ptr<edgetable::testing::TempDir> TransportTlsTest::dir_;
std::unique_ptr<CertFiles> TransportTlsTest::ca_;
std::unique_ptr<CertFiles> TransportTlsTest::other_ca_;
std::unique_ptr<CertFiles> TransportTlsTest::hub_cert_;
std::unique_ptr<CertFiles> TransportTlsTest::gateway_cert_;

TEST_F(TransportTlsTest, PostRoundTripOnOneHandshake) {
  auto hub = StartHub();
  auto t = Connect(Https(*hub));
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 10; ++i) {
    auto r = t->Post("/sync/v1/push", "batch " + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(r->status, 200);
    EXPECT_EQ(r->body, "batch " + std::to_string(i));
  }
  EXPECT_TRUE(hub->last().tls);
  EXPECT_EQ(hub->last().client_cert_subject, "");  // none configured
  EXPECT_EQ(t->Stats().connections, 1);
  EXPECT_EQ(hub->server().stats().handshakes, 1);
}

TEST_F(TransportTlsTest, CompressedBodyOverTls) {
  auto hub = StartHub();
  CurlTransportOptions o = Https(*hub);
  o.bearer_token = "tok";
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  std::string body;
  while (body.size() < 100'000) body += "{\"device\":\"gw-1\",\"temp\":21.5}";
  auto r = t->Post("/sync/v1/push", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(hub->last().content_encoding, "zstd");
  EXPECT_EQ(hub->last().authorization, "Bearer tok");
  EXPECT_LT(t->Stats().bytes_sent, t->Stats().bytes_sent_raw);
}

TEST_F(TransportTlsTest, HubNotSignedByTheCaIsUnauthenticated) {
  auto hub = StartHub();
  CurlTransportOptions o = Https(*hub);
  o.ca_file = other_ca_->cert;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
  EXPECT_NE(r.status().message().find(other_ca_->cert), std::string::npos) << r.status().ToString();
  EXPECT_TRUE(hub->arrived().empty());
  EXPECT_EQ(t->Stats().failures, 1);

  // Nor do the system's CAs know a private hub CA.
  o.ca_file.clear();
  auto system = Connect(o);
  ASSERT_NE(system, nullptr);
  auto s = system->Post("/sync/v1/push", "x");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), Code::kUnauthenticated) << s.status().ToString();
}

TEST_F(TransportTlsTest, HubNameMustMatchItsCertificate) {
  // The hub's certificate names 127.0.0.1 and localhost; a hub at another
  // address presenting it fails verification.
  auto hub = StartHub(net::ClientCertMode::kNone, "127.0.0.2");
  if (!hub->ok()) GTEST_SKIP() << "cannot listen on 127.0.0.2 here";
  CurlTransportOptions o = Https(*hub);
  o.base_url = "https://127.0.0.2:" + std::to_string(hub->port());
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnauthenticated) << r.status().ToString();
}

TEST_F(TransportTlsTest, ClientCertificateIsSeenByTheHub) {
  auto hub = StartHub(net::ClientCertMode::kRequired);
  CurlTransportOptions o = Https(*hub);
  o.client_cert_file = gateway_cert_->cert;
  o.client_key_file = gateway_cert_->key;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "from gateway 7");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(hub->last().client_cert_subject.find("CN=gateway-7"), std::string::npos) << hub->last().client_cert_subject;
}

TEST_F(TransportTlsTest, HubThatRequiresACertificateRefusesOneWithout) {
  auto hub = StartHub(net::ClientCertMode::kRequired);
  auto t = Connect(Https(*hub));
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "anonymous");
  ASSERT_FALSE(r.ok());
  // The hub ends the handshake; from the client's side that is a handshake
  // cut short (transport.h: kUnavailable).
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_TRUE(hub->arrived().empty());
}

TEST_F(TransportTlsTest, ReconnectsAfterTheHubCloses) {
  auto hub = StartHub();
  auto t = Connect(Https(*hub));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Post("/close", "one").ok());
  auto r = t->Post("/sync/v1/push", "two");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->body, "two");
  EXPECT_EQ(t->Stats().connections, 2);
  EXPECT_EQ(hub->server().stats().handshakes, 2);
}

}  // namespace
}  // namespace edgetable::sync
