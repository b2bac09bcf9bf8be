// sync/transport over plain HTTP against an in-process edge/net server, and
// the zstd helpers. No external process: the "unit" label.

#include "sync/transport/transport.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zstd.h>

#include <chrono>
#include <random>
#include <string>
#include <thread>

#include "tests/support/temp_dir.h"
#include "tests/sync/transport/hub_stub.h"

namespace edgetable::sync {
namespace {

using Code = Status::Code;
using testing::HubStub;

std::unique_ptr<HubStub> StartHub(net::ServerOptions options = {}) {
  auto hub = HubStub::Start(std::move(options));
  EXPECT_TRUE(hub->ok()) << hub->start_error();
  return hub;
}

std::unique_ptr<CurlTransport> Connect(CurlTransportOptions options) {
  auto t = CurlTransport::Create(options);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t.ok() ? std::move(t).value() : nullptr;
}

CurlTransportOptions Plain(const HubStub& hub) {
  CurlTransportOptions o;
  o.base_url = hub.Url();
  o.connect_timeout_ms = 5000;
  o.request_timeout_ms = 10000;
  return o;
}

// Text that compresses well, like a batch of similar readings.
std::string Compressible(size_t bytes) {
  std::string s;
  for (int i = 0; s.size() < bytes; ++i) {
    s += "{\"device\":\"gw-" + std::to_string(i % 10) + "\",\"temp\":" + std::to_string(20 + i % 7) + "}";
  }
  s.resize(bytes);
  return s;
}

std::string Incompressible(size_t bytes) {
  std::mt19937_64 rng(7);
  std::string s(bytes, '\0');
  for (char& c : s) c = static_cast<char>(rng() & 0xFF);
  return s;
}

// A port on 127.0.0.1 where nothing listens (bound, then released).
int UnusedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) return -1;
  socklen_t len = sizeof(addr);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// --- Create ------------------------------------------------------------------

TEST(CurlTransportTest, RefusesBadOptions) {
  edgetable::testing::TempDir dir;
  const auto refused = [](CurlTransportOptions o, const std::string& needle) {
    auto t = CurlTransport::Create(o);
    ASSERT_FALSE(t.ok()) << "accepted; expected a refusal mentioning " << needle;
    EXPECT_EQ(t.status().code(), Code::kInvalidArgument) << t.status().ToString();
    EXPECT_NE(t.status().message().find(needle), std::string::npos) << t.status().ToString();
  };
  CurlTransportOptions o;
  refused(o, "base_url is empty");
  o.base_url = "ftp://hub.example";
  refused(o, "not http:// or https://");
  o.base_url = "hub.example:8443";
  refused(o, "hub.example:8443");
  o.base_url = "https://hub.example:8443/?x=1";
  refused(o, "query or a fragment");
  o.base_url = "https://hub.example:8443";
  o.ca_file = dir.File("missing-ca.pem");
  refused(o, "ca_file \"" + dir.File("missing-ca.pem") + "\" cannot be read");
  o.ca_file.clear();
  o.client_key_file = dir.File("gw.key");
  refused(o, "client_key_file is set without client_cert_file");
  o.client_cert_file = dir.File("gw.crt");
  refused(o, "client_cert_file \"" + dir.File("gw.crt") + "\" cannot be read");
  o.client_cert_file.clear();
  o.client_key_file.clear();
  o.bearer_token = "abc\r\nX-Evil: 1";
  refused(o, "bearer_token contains a control character");
  o.bearer_token.clear();
  o.zstd_level = 99;
  refused(o, "zstd_level 99");
  o.zstd_level = 3;
  o.request_timeout_ms = 0;
  refused(o, "request_timeout_ms");
  o.request_timeout_ms = 1000;
  o.connect_timeout_ms = -1;
  refused(o, "connect_timeout_ms");
  o.connect_timeout_ms = 1000;
  o.reply_bytes_max = 0;
  refused(o, "reply_bytes_max");
  o.reply_bytes_max = 1024;
  o.compress_min_bytes = -1;
  refused(o, "compress_min_bytes");
  o.compress_min_bytes = 0;
  EXPECT_TRUE(CurlTransport::Create(o).ok());
  o.base_url = "https://hub.example:8443/edgetable/";  // a path prefix is fine
  EXPECT_TRUE(CurlTransport::Create(o).ok());
}

TEST(CurlTransportTest, RefusesBadPath) {
  auto hub = StartHub();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  for (const char* path : {"", "sync/v1/push", "/a b", "/a\r\nX: y"}) {
    auto r = t->Post(path, "x");
    ASSERT_FALSE(r.ok()) << path;
    EXPECT_EQ(r.status().code(), Code::kInvalidArgument);
  }
  EXPECT_EQ(t->Stats().failures, 4);
  EXPECT_TRUE(hub->arrived().empty());
}

// --- requests ------------------------------------------------------------------

TEST(CurlTransportTest, PostRoundTrip) {
  auto hub = StartHub();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  const std::string body("batch\0bytes", 11);
  auto r = t->Post("/sync/v1/push", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body);
  EXPECT_EQ(r->content_type, "application/x-edgetable-sync");
  const testing::ArrivedRequest a = hub->last();
  EXPECT_EQ(a.path, "/sync/v1/push");
  EXPECT_EQ(a.body, body);
  EXPECT_EQ(a.content_type, "application/x-edgetable-sync");
  EXPECT_EQ(a.content_encoding, "");  // below compress_min_bytes
  EXPECT_EQ(a.accept_encoding, "zstd");
  EXPECT_EQ(a.authorization, "");
  EXPECT_FALSE(a.tls);
  const TransportStats s = t->Stats();
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.failures, 0);
  EXPECT_EQ(s.connections, 1);
  EXPECT_EQ(s.bytes_sent, 11);
  EXPECT_EQ(s.bytes_sent_raw, 11);
  EXPECT_EQ(s.bytes_received, 11);

  // An empty body, and a base URL with a trailing slash.
  CurlTransportOptions slash = Plain(*hub);
  slash.base_url += "/";
  auto t2 = Connect(slash);
  ASSERT_NE(t2, nullptr);
  auto empty = t2->Post("/sync/v1/push", std::string_view());
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(empty->body, "");
  EXPECT_EQ(hub->last().path, "/sync/v1/push");
  EXPECT_EQ(hub->last().body, "");
}

TEST(CurlTransportTest, KeepsOneConnectionAlive) {
  auto hub = StartHub();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  for (int i = 0; i < 10; ++i) {
    auto r = t->Post("/sync/v1/push", "batch " + std::to_string(i));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->body, "batch " + std::to_string(i));
  }
  EXPECT_EQ(t->Stats().requests, 10);
  EXPECT_EQ(t->Stats().connections, 1);
  EXPECT_EQ(hub->server().stats().connections_accepted, 1);
  // Every request came from the same client port.
  for (const auto& a : hub->arrived()) EXPECT_EQ(a.peer_address, hub->arrived().front().peer_address);
}

TEST(CurlTransportTest, CompressesLargeBodies) {
  auto hub = StartHub();
  CurlTransportOptions o = Plain(*hub);
  o.compress_min_bytes = 512;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  const std::string body = Compressible(256 * 1024);
  auto r = t->Post("/sync/v1/push", body);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, body);
  testing::ArrivedRequest a = hub->last();
  EXPECT_EQ(a.content_encoding, "zstd");
  EXPECT_EQ(a.body, body);
  EXPECT_LT(a.wire_bytes, static_cast<int64_t>(body.size()) / 10);
  TransportStats s = t->Stats();
  EXPECT_EQ(s.bytes_sent, a.wire_bytes);
  EXPECT_EQ(s.bytes_sent_raw, static_cast<int64_t>(body.size()));
  EXPECT_LT(s.bytes_sent, s.bytes_sent_raw);

  // Below the threshold: sent as is.
  const std::string small = Compressible(511);
  ASSERT_TRUE(t->Post("/sync/v1/push", small).ok());
  a = hub->last();
  EXPECT_EQ(a.content_encoding, "");
  EXPECT_EQ(a.wire_bytes, 511);

  // Bytes that do not compress: sent as is, since compressing would not pay.
  const std::string noise = Incompressible(64 * 1024);
  auto n = t->Post("/sync/v1/push", noise);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->body, noise);
  a = hub->last();
  EXPECT_EQ(a.content_encoding, "");
  EXPECT_EQ(a.wire_bytes, static_cast<int64_t>(noise.size()));
  EXPECT_EQ(t->Stats().connections, 1);
}

TEST(CurlTransportTest, DecompressesCompressedReplies) {
  auto hub = StartHub();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/zstd-reply", "reading;");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string expected;
  for (int i = 0; i < 100; ++i) expected += "reading;";
  EXPECT_EQ(r->body, expected);
  EXPECT_LT(t->Stats().bytes_received, static_cast<int64_t>(expected.size()));
}

TEST(CurlTransportTest, SendsTheBearerToken) {
  auto hub = StartHub();
  CurlTransportOptions o = Plain(*hub);
  o.bearer_token = "gw-7.s3cr3t";
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Post("/sync/v1/push", "x").ok());
  EXPECT_EQ(hub->last().authorization, "Bearer gw-7.s3cr3t");
  // Also on a compressed request (the other header list).
  ASSERT_TRUE(t->Post("/sync/v1/push", Compressible(4096)).ok());
  EXPECT_EQ(hub->last().content_encoding, "zstd");
  EXPECT_EQ(hub->last().authorization, "Bearer gw-7.s3cr3t");
}

TEST(CurlTransportTest, AnyHttpStatusIsAReply) {
  auto hub = StartHub();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/status", "503");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->status, 503);
  EXPECT_EQ(r->body, "status 503");
  auto missing = t->Post("/no/such/route", "x");
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_EQ(missing->status, 404);
  EXPECT_EQ(t->Stats().failures, 0);
}

// --- failures --------------------------------------------------------------------

TEST(CurlTransportTest, NothingListeningIsUnavailable) {
  const int port = UnusedPort();
  ASSERT_GT(port, 0);
  CurlTransportOptions o;
  o.base_url = "http://127.0.0.1:" + std::to_string(port);
  o.connect_timeout_ms = 2000;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("127.0.0.1:" + std::to_string(port)), std::string::npos) << r.status().ToString();
  const TransportStats s = t->Stats();
  EXPECT_EQ(s.requests, 1);
  EXPECT_EQ(s.failures, 1);
  EXPECT_EQ(s.connections, 0);
}

TEST(CurlTransportTest, UnresolvableHostIsUnavailable) {
  CurlTransportOptions o;
  o.base_url = "http://no-such-host.invalid:8443";
  o.connect_timeout_ms = 2000;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/sync/v1/push", "x");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
}

TEST(CurlTransportTest, RequestTimeoutIsUnavailable) {
  auto hub = StartHub();
  CurlTransportOptions o = Plain(*hub);
  o.request_timeout_ms = 300;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto r = t->Post("/slow", "1500");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Code::kUnavailable) << r.status().ToString();
  EXPECT_NE(r.status().message().find("curl error 28"), std::string::npos) << r.status().ToString();
  // The next request works, on a new connection.
  auto again = t->Post("/sync/v1/push", "after");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(t->Stats().connections, 2);
}

TEST(CurlTransportTest, ReplyOverTheBoundIsRefused) {
  auto hub = StartHub();
  CurlTransportOptions o = Plain(*hub);
  o.reply_bytes_max = 1000;
  auto t = Connect(o);
  ASSERT_NE(t, nullptr);
  auto ok = t->Post("/big", "1000");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->body.size(), 1000u);
  auto big = t->Post("/big", "1001");
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), Code::kLimitExceeded) << big.status().ToString();
  // A compressed reply whose content passes the bound.
  auto zstd = t->Post("/zstd-reply", std::string(20, 'z'));  // 2000 bytes once decompressed
  ASSERT_FALSE(zstd.ok());
  EXPECT_EQ(zstd.status().code(), Code::kCorruption) << zstd.status().ToString();
  EXPECT_EQ(t->Stats().failures, 2);
}

// --- reconnecting ------------------------------------------------------------------

TEST(CurlTransportTest, ReconnectsAfterTheServerCloses) {
  net::ServerOptions options;
  options.idle_timeout_ms = 200;
  auto hub = StartHub(options);
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);

  // The server closes after answering.
  auto closing = t->Post("/close", "one");
  ASSERT_TRUE(closing.ok()) << closing.status().ToString();
  auto next = t->Post("/sync/v1/push", "two");
  ASSERT_TRUE(next.ok()) << next.status().ToString();
  EXPECT_EQ(next->body, "two");
  EXPECT_EQ(t->Stats().connections, 2);

  // The server closes an idle connection.
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  auto after_idle = t->Post("/sync/v1/push", "three");
  ASSERT_TRUE(after_idle.ok()) << after_idle.status().ToString();
  EXPECT_EQ(t->Stats().connections, 3);
  EXPECT_EQ(t->Stats().failures, 0);
}

TEST(CurlTransportTest, ReconnectsAfterTheServerRestarts) {
  auto hub = StartHub();
  const int port = hub->port();
  auto t = Connect(Plain(*hub));
  ASSERT_NE(t, nullptr);
  ASSERT_TRUE(t->Post("/sync/v1/push", "before").ok());
  hub.reset();  // stops the server; the kept-alive connection is closed

  auto down = t->Post("/sync/v1/push", "while down");
  ASSERT_FALSE(down.ok());
  EXPECT_EQ(down.status().code(), Code::kUnavailable) << down.status().ToString();

  net::ServerOptions same;
  same.port = port;
  hub = StartHub(same);
  ASSERT_TRUE(hub->ok());
  auto back = t->Post("/sync/v1/push", "after");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->body, "after");
  EXPECT_EQ(t->Stats().connections, 2);
}

// --- zstd helpers -------------------------------------------------------------------

TEST(ZstdTest, RoundTrips) {
  for (const std::string& s : {std::string(), std::string("x"), Compressible(100'000), Incompressible(10'000)}) {
    const std::string z = ZstdCompress(s, 3);
    auto back = ZstdDecompress(z, static_cast<int64_t>(s.size()));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, s);
  }
  EXPECT_LT(ZstdCompress(Compressible(100'000), 3).size(), 10'000u);
  EXPECT_LE(ZstdCompress(Compressible(100'000), 19).size(), ZstdCompress(Compressible(100'000), 1).size());
}

TEST(ZstdTest, RefusesWhatIsNotOneFrame) {
  const std::string z = ZstdCompress(Compressible(10'000), 3);
  const auto refused = [](std::string_view bytes, int64_t max, const std::string& needle) {
    auto r = ZstdDecompress(bytes, max);
    ASSERT_FALSE(r.ok()) << "accepted; expected " << needle;
    EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
    EXPECT_NE(r.status().message().find(needle), std::string::npos) << r.status().ToString();
  };
  refused("", 100, "not a zstd frame");
  refused("plain text, not zstd", 100, "not a zstd frame");
  refused(z.substr(0, z.size() - 1), 10'000, "bad frame");
  refused(z.substr(0, 6), 10'000, "bad frame");
  refused(z + z, 20'000, "bytes after the frame's end");
  refused(z + "x", 20'000, "bytes after the frame's end");
  refused(z, 9'999, "exceeds the bound");
  // A skippable frame carries no content.
  const std::string skippable = std::string("\x50\x2a\x4d\x18\x04\x00\x00\x00", 8) + "abcd";
  refused(skippable, 100, "not a zstd frame");
  // Every truncation and a flipped byte in the blocks are refused, not read past.
  for (size_t n = 0; n < z.size(); ++n) EXPECT_FALSE(ZstdDecompress(z.substr(0, n), 10'000).ok()) << n;
  std::string flipped = z;
  flipped[flipped.size() / 2] = static_cast<char>(flipped[flipped.size() / 2] ^ 0x5A);
  auto f = ZstdDecompress(flipped, 10'000);
  if (f.ok()) {
    EXPECT_NE(*f, Compressible(10'000));  // no checksum in these frames: garbage may decode
  }
}

// A frame that does not declare its content size, as a streaming compressor
// writes it.
std::string StreamedFrame(const std::string& s) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  std::string out(ZSTD_compressBound(s.size()) + 64, '\0');
  ZSTD_inBuffer in{s.data(), s.size(), 0};
  ZSTD_outBuffer o{out.data(), out.size(), 0};
  const size_t left = ZSTD_compressStream2(cctx, &o, &in, ZSTD_e_end);
  ZSTD_freeCCtx(cctx);
  EXPECT_EQ(left, 0u);
  out.resize(o.pos);
  return out;
}

TEST(ZstdTest, StreamedFramesAreBounded) {
  const std::string s = Compressible(1'000'000);
  const std::string z = StreamedFrame(s);
  ASSERT_EQ(ZSTD_getFrameContentSize(z.data(), z.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  auto back = ZstdDecompress(z, static_cast<int64_t>(s.size()));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, s);
  auto over = ZstdDecompress(z, static_cast<int64_t>(s.size()) - 1);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.status().code(), Code::kCorruption);
  EXPECT_NE(over.status().message().find("exceeds the bound"), std::string::npos) << over.status().ToString();
  auto empty = ZstdDecompress(StreamedFrame(""), 0);
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_EQ(*empty, "");
}

}  // namespace
}  // namespace edgetable::sync
