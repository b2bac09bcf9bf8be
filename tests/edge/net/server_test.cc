// edge/net's HTTP server over loopback: real sockets, real clients (raw
// sockets for byte-level cases, libcurl otherwise). No timed assertions:
// timeouts are checked by what happens, with generous bounds.

#include "edge/net/server.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "tests/edge/net/net_test_util.h"

namespace edgetable::net {
namespace {

using testing::Connect;
using testing::CurlClient;
using testing::MakeTestRouter;
using testing::RawResponse;
using testing::ReadResponse;
using testing::SendAll;
using testing::WaitForClose;

std::unique_ptr<Server> Start(ServerOptions options, Router router = MakeTestRouter()) {
  auto server = Server::Create(std::move(options), std::move(router));
  EXPECT_TRUE(server.ok()) << server.status().ToString();
  return server.ok() ? std::move(server).value() : nullptr;
}

std::string Url(const Server& s, const std::string& path) {
  return "http://127.0.0.1:" + std::to_string(s.port()) + path;
}

std::string Post(const std::string& path, const std::string& body, const std::string& extra = "") {
  return "POST " + path + " HTTP/1.1\r\nHost: x\r\n" + extra + "Content-Length: " + std::to_string(body.size()) +
         "\r\n\r\n" + body;
}

TEST(ServerTest, PortZeroPicksAPort) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  EXPECT_GT(server->port(), 0);
  // A second server on the same port cannot bind.
  ServerOptions same;
  same.port = server->port();
  auto second = Server::Create(same, MakeTestRouter());
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), Status::Code::kIOError);
}

TEST(ServerTest, RejectsBadOptions) {
  ServerOptions bad;
  bad.worker_threads = 0;
  EXPECT_EQ(Server::Create(bad, Router()).status().code(), Status::Code::kInvalidArgument);
  ServerOptions tls;
  tls.tls = TlsOptions{"/nonexistent/cert.pem", "/nonexistent/key.pem", "", ClientCertMode::kNone};
  auto r = Server::Create(tls, Router());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("/nonexistent/cert.pem"), std::string::npos) << r.status().ToString();
}

TEST(ServerTest, GetAndPostRoundTrip) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  CurlClient client;
  auto get = client.Get(Url(*server, "/health"));
  ASSERT_EQ(get.curl_code, 0) << get.error;
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, "ok");
  EXPECT_NE(get.headers.find("Content-Length: 2\r\n"), std::string::npos) << get.headers;
  EXPECT_NE(get.headers.find("Date: "), std::string::npos) << get.headers;

  std::string body = "{\"TableName\":\"telemetry\"}";
  auto post = client.Post(Url(*server, "/echo?a=1&b=2"), body, {"x-AMZ-target: DynamoDB_20120810.GetItem"});
  ASSERT_EQ(post.curl_code, 0) << post.error;
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, body);
  EXPECT_NE(post.headers.find("X-Target: DynamoDB_20120810.GetItem"), std::string::npos) << post.headers;
  EXPECT_NE(post.headers.find("X-Query: a=1&b=2"), std::string::npos) << post.headers;
  EXPECT_NE(post.headers.find("X-Peer: 127.0.0.1:"), std::string::npos) << post.headers;
}

TEST(ServerTest, LargeBodyWithExpectContinueViaCurl) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  CurlClient client;
  std::string body(3 * 1024 * 1024, 'x');
  for (size_t i = 0; i < body.size(); i += 4099) body[i] = static_cast<char>('a' + i % 26);
  auto post = client.Post(Url(*server, "/echo"), body, {"Expect: 100-continue"});
  ASSERT_EQ(post.curl_code, 0) << post.error;
  EXPECT_EQ(post.status, 200);
  EXPECT_EQ(post.body, body);
  EXPECT_NE(post.headers.find("100 Continue"), std::string::npos);
}

TEST(ServerTest, ExpectContinueRawBytes) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"));
  std::string buf;
  RawResponse cont = ReadResponse(fd, &buf);
  ASSERT_TRUE(cont.ok);
  EXPECT_EQ(cont.status, 100);
  ASSERT_TRUE(SendAll(fd, "hello"));
  RawResponse r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello");
  ::close(fd);
}

TEST(ServerTest, KeepAliveReusesOneConnection) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  CurlClient client;
  for (int i = 0; i < 100; ++i) {
    auto r = client.Post(Url(*server, "/echo"), "n" + std::to_string(i));
    ASSERT_EQ(r.curl_code, 0) << r.error;
    ASSERT_EQ(r.body, "n" + std::to_string(i));
    if (i > 0) {
      EXPECT_EQ(client.new_connections(), 0) << "request " << i;
    }
  }
  EXPECT_EQ(server->stats().connections_accepted, 1);
  EXPECT_EQ(server->stats().requests, 100);
}

TEST(ServerTest, PipelinedRequestsAnsweredInOrder) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  // The first request is the slowest: order must come from the server, not
  // from which handler finishes first.
  std::string all = Post("/slow", "150") + Post("/slow", "1") + "GET /health HTTP/1.1\r\nHost: x\r\n\r\n" +
                    Post("/echo", "last");
  ASSERT_TRUE(SendAll(fd, all));
  std::string buf;
  RawResponse r1 = ReadResponse(fd, &buf);
  RawResponse r2 = ReadResponse(fd, &buf);
  RawResponse r3 = ReadResponse(fd, &buf);
  RawResponse r4 = ReadResponse(fd, &buf);
  ASSERT_TRUE(r1.ok && r2.ok && r3.ok && r4.ok);
  EXPECT_EQ(r1.body, "150");
  EXPECT_EQ(r2.body, "1");
  EXPECT_EQ(r3.body, "ok");
  EXPECT_EQ(r4.body, "last");
  ::close(fd);
}

TEST(ServerTest, NotFoundAndMethodNotAllowed) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  CurlClient client;
  auto missing = client.Get(Url(*server, "/nope"));
  ASSERT_EQ(missing.curl_code, 0);
  EXPECT_EQ(missing.status, 404);
  auto wrong = client.Post(Url(*server, "/health"), "x");
  ASSERT_EQ(wrong.curl_code, 0);
  EXPECT_EQ(wrong.status, 405);
  EXPECT_NE(wrong.headers.find("Allow: GET"), std::string::npos) << wrong.headers;
  // The connection survives both.
  auto ok = client.Get(Url(*server, "/health"));
  EXPECT_EQ(ok.status, 200);
  EXPECT_EQ(client.new_connections(), 0);
}

TEST(ServerTest, HandlerExceptionBecomes500) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  CurlClient client;
  auto r = client.Get(Url(*server, "/throw"));
  ASSERT_EQ(r.curl_code, 0);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(client.Get(Url(*server, "/health")).status, 200);
}

TEST(ServerTest, BodyOver16MiBGets413WithoutReadingItAndServerGoesOn) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  // Raw: declare 20 MB, send none of it; the answer comes at once.
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 20971520\r\n\r\nsome"));
  std::string buf;
  RawResponse r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);

  // curl with the whole 20 MB body.
  CurlClient client;
  std::string big(20 * 1024 * 1024, 'z');
  auto post = client.Post(Url(*server, "/echo"), big);
  EXPECT_EQ(post.status, 413) << post.error;

  // Others are served meanwhile and after.
  CurlClient other;
  EXPECT_EQ(other.Get(Url(*server, "/health")).status, 200);
  EXPECT_GE(server->stats().bad_requests, 2);
}

TEST(ServerTest, ChunkedBodyOverLimitGets413) {
  ServerOptions options;
  options.body_bytes_max = 1000;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  std::string chunk(600, 'c');
  ASSERT_TRUE(SendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n258\r\n" + chunk +
                              "\r\n258\r\n" + chunk + "\r\n0\r\n\r\n"));
  std::string buf;
  RawResponse r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 413);
  ::close(fd);

  // A chunked body under the limit is decoded.
  fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  ASSERT_TRUE(SendAll(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"
                          "6\r\n world\r\n0\r\n\r\n"));
  buf.clear();
  r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "hello world");
  ::close(fd);
}

TEST(ServerTest, BufferedBodyBudgetSheds503AndRecovers) {
  ServerOptions options;
  options.body_bytes_max = 1000;
  options.buffered_body_bytes_max = 1000;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  // A holds 600 budget bytes while its handler sleeps.
  int a = Connect(server->port());
  ASSERT_TRUE(SendAll(a, Post("/slow", "300" + std::string(597, 'x'))));
  while (server->stats().requests < 1) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // B's 600 do not fit: 503 at the headers, with Retry-After.
  int b = Connect(server->port());
  ASSERT_TRUE(SendAll(b, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 600\r\n\r\n"));
  std::string buf_b;
  RawResponse rb = ReadResponse(b, &buf_b);
  ASSERT_TRUE(rb.ok);
  EXPECT_EQ(rb.status, 503);
  EXPECT_NE(rb.head.find("Retry-After: 1"), std::string::npos) << rb.head;
  ::close(b);
  // Small bodies still fit meanwhile.
  int small = Connect(server->port());
  ASSERT_TRUE(SendAll(small, Post("/echo", std::string(300, 's'))));
  std::string buf_s;
  RawResponse rs = ReadResponse(small, &buf_s);
  ASSERT_TRUE(rs.ok);
  EXPECT_EQ(rs.status, 200);
  ::close(small);
  std::string buf_a;
  RawResponse ra = ReadResponse(a, &buf_a);
  ASSERT_TRUE(ra.ok);
  EXPECT_EQ(ra.status, 200);
  ::close(a);
  // A's budget came back: 600 bytes fit again.
  CurlClient client;
  auto r = client.Post(Url(*server, "/echo"), std::string(600, 'c'));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(server->stats().overloaded, 1);
}

TEST(ServerTest, HeadGetsHeadersOnly) {
  Router router = MakeTestRouter();
  ASSERT_TRUE(router.Add("HEAD", "/health", [](const Request&, Response& resp) { resp.body = "ok"; }).ok());
  auto server = Start(ServerOptions{}, std::move(router));
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "HEAD /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string all;
  char chunk[4096];
  while (all.find("\r\n\r\nok") == std::string::npos) {
    ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
    ASSERT_GT(n, 0);
    all.append(chunk, static_cast<size_t>(n));
  }
  // HEAD: Content-Length 2 but no body; the GET's answer follows at once.
  size_t first_end = all.find("\r\n\r\n");
  EXPECT_NE(all.substr(0, first_end).find("Content-Length: 2"), std::string::npos);
  EXPECT_EQ(all.compare(first_end + 4, 9, "HTTP/1.1 "), 0) << all;
  ::close(fd);
}

TEST(ServerTest, OversizedHeadersGet431) {
  auto server = Start(ServerOptions{});  // 64 KB of headers allowed
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 100; ++i) request += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'f') + "\r\n";
  request += "\r\n";
  ASSERT_TRUE(SendAll(fd, request));
  std::string buf;
  RawResponse r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 431);
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);

  // Just under the limit is fine.
  fd = Connect(server->port());
  request = "GET /health HTTP/1.1\r\nHost: x\r\n";
  for (int i = 0; i < 50; ++i) request += "X-Filler-" + std::to_string(i) + ": " + std::string(1000, 'f') + "\r\n";
  request += "\r\n";
  ASSERT_TRUE(SendAll(fd, request));
  buf.clear();
  r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  ::close(fd);
}

TEST(ServerTest, MalformedRequestsGet400AndClose) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  const char* bad[] = {
      "GARBAGE\r\n\r\n",
      "GET /health HTTP/9.9\r\n\r\n",
      "GET /health HTTP/1.1\r\nBad\x01Name: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nNoColonHere\r\n\r\n",
      "GET /he alth HTTP/1.1\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
      "POST /echo HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!",
      "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
  };
  for (const char* request : bad) {
    int fd = Connect(server->port());
    ASSERT_GE(fd, 0);
    ASSERT_TRUE(SendAll(fd, request));
    std::string buf;
    RawResponse r = ReadResponse(fd, &buf);
    ASSERT_TRUE(r.ok) << request;
    EXPECT_EQ(r.status, 400) << request;
    EXPECT_TRUE(WaitForClose(fd, 5000)) << request;
    ::close(fd);
  }
  CurlClient client;
  EXPECT_EQ(client.Get(Url(*server, "/health")).status, 200);
}

TEST(ServerTest, ConnectionCloseAndHttp10AreHonoured) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string buf;
  RawResponse r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);

  fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "GET /bye HTTP/1.1\r\nHost: x\r\n\r\n"));
  buf.clear();
  r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "bye");
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);

  fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "GET /health HTTP/1.0\r\n\r\n"));
  buf.clear();
  r = ReadResponse(fd, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.body, "ok");
  EXPECT_TRUE(WaitForClose(fd, 5000));
  ::close(fd);
}

TEST(ServerTest, SlowClientIsCutOffWhileOthersAreServed) {
  ServerOptions options;
  options.header_timeout_ms = 400;
  options.body_timeout_ms = 400;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);

  // Slow headers: one byte every 100 ms.
  int slow_headers = Connect(server->port());
  // Slow body: headers at once, then one body byte every 100 ms.
  int slow_body = Connect(server->port());
  ASSERT_GE(slow_headers, 0);
  ASSERT_GE(slow_body, 0);
  ASSERT_TRUE(SendAll(slow_body, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"));
  std::atomic<bool> stop{false};
  std::atomic<int> headers_sent{0};
  std::thread trickler([&] {
    std::string request = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(100, 's') + "\r\n\r\n";
    for (size_t i = 0; i < request.size() && !stop.load(); ++i) {
      if (!SendAll(slow_headers, std::string(1, request[i]))) break;
      (void)SendAll(slow_body, "b");
      headers_sent.fetch_add(1);
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });
  // Meanwhile, another client gets through, many times.
  CurlClient fast;
  for (int i = 0; i < 20; ++i) {
    auto r = fast.Get(Url(*server, "/health"));
    ASSERT_EQ(r.status, 200);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(WaitForClose(slow_headers, 5000));
  EXPECT_TRUE(WaitForClose(slow_body, 5000));
  stop.store(true);
  trickler.join();
  // Cut off long before the slow request could have finished (~13 s).
  EXPECT_LT(headers_sent.load(), 60);
  EXPECT_GE(server->stats().timeouts, 2);
  ::close(slow_headers);
  ::close(slow_body);
}

TEST(ServerTest, IdleKeepAliveConnectionIsClosed) {
  ServerOptions options;
  options.idle_timeout_ms = 300;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string buf;
  ASSERT_TRUE(ReadResponse(fd, &buf).ok);
  EXPECT_TRUE(WaitForClose(fd, 5000));
  EXPECT_EQ(server->stats().timeouts, 1);
  ::close(fd);
  // A connection that never says anything is closed too (header timeout).
  ServerOptions quiet;
  quiet.header_timeout_ms = 300;
  auto server2 = Start(quiet);
  int silent = Connect(server2->port());
  EXPECT_TRUE(WaitForClose(silent, 5000));
  ::close(silent);
}

TEST(ServerTest, ClientThatNeverReadsIsCutOff) {
  ServerOptions options;
  options.idle_timeout_ms = 300;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_GE(fd, 0);
  // A 12 MB echo: more than the socket buffers hold, and the client never reads.
  ASSERT_TRUE(SendAll(fd, Post("/echo", std::string(12 * 1024 * 1024, 'r'))));
  for (int i = 0; i < 100 && (server->stats().timeouts == 0 || server->stats().connections_active != 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(server->stats().timeouts, 1);
  EXPECT_EQ(server->stats().connections_active, 0);
  ::close(fd);
}

TEST(ServerTest, ConnectionCapRefusesExtraConnections) {
  ServerOptions options;
  options.connections_max = 2;
  auto server = Start(options);
  ASSERT_NE(server, nullptr);
  int a = Connect(server->port());
  int b = Connect(server->port());
  ASSERT_TRUE(SendAll(a, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string buf;
  ASSERT_TRUE(ReadResponse(a, &buf).ok);  // both are registered by now
  ASSERT_TRUE(SendAll(b, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string buf_b;
  ASSERT_TRUE(ReadResponse(b, &buf_b).ok);
  int c = Connect(server->port());
  ASSERT_GE(c, 0);
  EXPECT_TRUE(WaitForClose(c, 5000));
  EXPECT_EQ(server->stats().connections_rejected, 1);
  ::close(a);
  ::close(b);
  ::close(c);
}

TEST(ServerTest, HandlersRunConcurrently) {
  constexpr int kTogether = 4;
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  Router router;
  ASSERT_TRUE(router
                  .Add("GET", "/together",
                       [&](const Request&, Response& resp) {
                         std::unique_lock<std::mutex> lock(mu);
                         ++inside;
                         cv.notify_all();
                         bool all = cv.wait_for(lock, std::chrono::seconds(5), [&] { return inside >= kTogether; });
                         resp.body = all ? "together" : "alone";
                       })
                  .ok());
  ServerOptions options;
  options.worker_threads = kTogether;
  auto server = Start(options, std::move(router));
  ASSERT_NE(server, nullptr);
  std::vector<std::thread> clients;
  std::atomic<int> together{0};
  for (int i = 0; i < kTogether; ++i) {
    clients.emplace_back([&] {
      CurlClient c;
      if (c.Get(Url(*server, "/together")).body == "together") together.fetch_add(1);
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(together.load(), kTogether);
}

TEST(ServerTest, GracefulShutdownFinishesInFlightRequest) {
  std::atomic<bool> entered{false};
  Router router = MakeTestRouter();
  ASSERT_TRUE(router
                  .Add("POST", "/inflight",
                       [&](const Request&, Response& resp) {
                         entered.store(true);
                         std::this_thread::sleep_for(std::chrono::milliseconds(300));
                         resp.body = "finished";
                       })
                  .ok());
  auto server = Start(ServerOptions{}, std::move(router));
  ASSERT_NE(server, nullptr);
  int port = server->port();
  int busy = Connect(port);
  int idle = Connect(port);
  ASSERT_TRUE(SendAll(idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::string idle_buf;
  ASSERT_TRUE(ReadResponse(idle, &idle_buf).ok);
  ASSERT_TRUE(SendAll(busy, Post("/inflight", "")));
  while (!entered.load()) std::this_thread::sleep_for(std::chrono::milliseconds(1));

  std::thread stopper([&] { server->Shutdown(5000); });
  // The idle connection is closed; the busy one gets its answer, then closes.
  EXPECT_TRUE(WaitForClose(idle, 3000));
  std::string buf;
  RawResponse r = ReadResponse(busy, &buf);
  ASSERT_TRUE(r.ok);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "finished");
  EXPECT_NE(r.head.find("Connection: close"), std::string::npos);
  EXPECT_TRUE(WaitForClose(busy, 3000));
  stopper.join();
  // No longer accepting.
  EXPECT_LT(Connect(port), 0);
  ::close(busy);
  ::close(idle);
}

TEST(ServerTest, ShutdownDeadlineBoundsASlowHandler) {
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  int fd = Connect(server->port());
  ASSERT_TRUE(SendAll(fd, Post("/slow", "1500")));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  server->Shutdown(100);  // returns once the handler is done; its answer is dropped
  EXPECT_TRUE(WaitForClose(fd, 3000));
  ::close(fd);
}

TEST(ServerTest, ManyClientsManyRequests) {
  constexpr int kClients = 32;
  constexpr int kRequests = 200;
  auto server = Start(ServerOptions{});
  ASSERT_NE(server, nullptr);
  std::atomic<int> good{0};
  std::vector<std::thread> threads;
  for (int c = 0; c < kClients; ++c) {
    threads.emplace_back([&, c] {
      CurlClient client;
      for (int i = 0; i < kRequests; ++i) {
        std::string body = std::to_string(c) + ":" + std::to_string(i);
        auto r = client.Post(Url(*server, "/echo"), body);
        if (r.curl_code == 0 && r.status == 200 && r.body == body) good.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(good.load(), kClients * kRequests);
  ServerStats s = server->stats();
  EXPECT_EQ(s.requests, kClients * kRequests);
  EXPECT_EQ(s.connections_accepted, kClients);
  EXPECT_GT(s.bytes_in, 0);
  EXPECT_GT(s.bytes_out, 0);
}

}  // namespace
}  // namespace edgetable::net
