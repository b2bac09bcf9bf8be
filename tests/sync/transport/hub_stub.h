#pragma once
// An in-process stand-in for the hub's HTTP side, for sync/transport's tests:
// an edge/net server whose handlers record what arrived (after undoing
// Content-Encoding: zstd the way the hub does) and answer in the ways the
// tests need. Test-only.
//
// Routes (all POST):
//   /sync/v1/push  records the request; answers 200 with the decoded body
//   /close         like /sync/v1/push, and closes the connection after it
//   /zstd-reply    answers the body repeated 100 times, zstd-compressed
//   /big           answers <body> bytes (a decimal count)
//   /status        answers the status <body> (a decimal code)
//   /slow          sleeps <body> ms, then answers "slept"

#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "edge/net/router.h"
#include "edge/net/server.h"
#include "sync/transport/transport.h"

namespace edgetable::sync::testing {

struct ArrivedRequest {
  std::string path;
  std::string body;        // after decompression
  int64_t wire_bytes = 0;  // the body as it came over the connection
  std::string content_type;
  std::string content_encoding;
  std::string accept_encoding;
  std::string authorization;
  std::string client_cert_subject;
  std::string peer_address;
  bool tls = false;
};

class HubStub {
 public:
  // Starts a server on 127.0.0.1 with `options` (port 0: the kernel's pick).
  static std::unique_ptr<HubStub> Start(net::ServerOptions options) {
    auto stub = std::unique_ptr<HubStub>(new HubStub());
    auto server = net::Server::Create(std::move(options), stub->MakeRouter());
    if (!server.ok()) {
      stub->start_error_ = server.status().ToString();
      return stub;
    }
    stub->server_ = std::move(server).value();
    return stub;
  }

  ~HubStub() { Stop(); }
  HubStub(const HubStub&) = delete;
  HubStub& operator=(const HubStub&) = delete;

  bool ok() const { return server_ != nullptr; }
  const std::string& start_error() const { return start_error_; }
  net::Server& server() { return *server_; }
  int port() const { return server_->port(); }
  std::string Url(bool https = false) const {
    return std::string(https ? "https" : "http") + "://127.0.0.1:" + std::to_string(server_->port());
  }
  void Stop() {
    if (server_ != nullptr) server_->Shutdown(2000);
  }

  std::vector<ArrivedRequest> arrived() const {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_;
  }
  ArrivedRequest last() const {
    std::lock_guard<std::mutex> lock(mu_);
    return arrived_.empty() ? ArrivedRequest{} : arrived_.back();
  }

 private:
  HubStub() = default;

  static std::string Header(const net::Request& r, std::string_view name) {
    const std::string* v = r.FindHeader(name);
    return v != nullptr ? *v : std::string();
  }

  // Records the request; false (and a 400 in `resp`) when its body does not
  // decompress.
  bool Record(const net::Request& req, net::Response& resp, std::string* body) {
    ArrivedRequest a;
    a.path = req.path;
    a.wire_bytes = static_cast<int64_t>(req.body.size());
    a.content_type = Header(req, "Content-Type");
    a.content_encoding = Header(req, "Content-Encoding");
    a.accept_encoding = Header(req, "Accept-Encoding");
    a.authorization = Header(req, "Authorization");
    a.client_cert_subject = req.client_cert_subject;
    a.peer_address = req.peer_address;
    a.tls = req.tls;
    if (a.content_encoding == "zstd") {
      auto plain = ZstdDecompress(req.body, 64 * 1024 * 1024);
      if (!plain.ok()) {
        resp.status = 400;
        resp.body = plain.status().ToString();
        return false;
      }
      a.body = std::move(plain).value();
    } else {
      a.body = req.body;
    }
    *body = a.body;
    std::lock_guard<std::mutex> lock(mu_);
    arrived_.push_back(std::move(a));
    return true;
  }

  net::Router MakeRouter() {
    net::Router router;
    auto add = [&](const char* path, net::Handler h) {
      if (!router.Add("POST", path, std::move(h)).ok()) std::abort();
    };
    add("/sync/v1/push", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      resp.SetHeader("Content-Type", "application/x-edgetable-sync");
      resp.body = std::move(body);
    });
    add("/close", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      resp.SetHeader("Connection", "close");
      resp.body = std::move(body);
    });
    add("/zstd-reply", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      std::string plain;
      for (int i = 0; i < 100; ++i) plain += body;
      resp.SetHeader("Content-Encoding", "zstd");
      resp.body = ZstdCompress(plain, 3);
    });
    add("/big", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      resp.body.assign(static_cast<size_t>(std::stoll(body)), 'b');
    });
    add("/status", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      resp.status = std::stoi(body);
      resp.body = "status " + body;
    });
    add("/slow", [this](const net::Request& req, net::Response& resp) {
      std::string body;
      if (!Record(req, resp, &body)) return;
      std::this_thread::sleep_for(std::chrono::milliseconds(std::stoll(body)));
      resp.body = "slept";
    });
    return router;
  }

  std::string start_error_;
  mutable std::mutex mu_;
  std::vector<ArrivedRequest> arrived_;  // GUARDED_BY(mu_)
  // Last, so that it stops (and its handlers finish) before what they use dies.
  std::unique_ptr<net::Server> server_;
};

}  // namespace edgetable::sync::testing
