// A quick load figure for edge/net, not a test: requests/s of a trivial
// handler from N kept-alive libcurl clients, over HTTP and over HTTPS.
// Usage: net_load_probe [clients=8] [seconds=3]. The real benchmarks live
// in tests/bench.

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "edge/base/log.h"
#include "edge/net/server.h"
#include "tests/edge/net/net_test_util.h"
#include "tests/support/temp_dir.h"

namespace {

using edgetable::net::Router;
using edgetable::net::Server;
using edgetable::net::ServerOptions;

double Measure(ServerOptions options, const std::string& ca, int clients, int seconds) {
  auto server = Server::Create(std::move(options), edgetable::net::testing::MakeTestRouter());
  if (!server.ok()) {
    std::fprintf(stderr, "%s\n", server.status().ToString().c_str());
    std::exit(1);
  }
  std::string url = std::string(ca.empty() ? "http" : "https") + "://127.0.0.1:" +
                    std::to_string((*server)->port()) + "/health";
  std::atomic<bool> stop{false};
  std::atomic<int64_t> done{0};
  std::atomic<int64_t> failed{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < clients; ++i) {
    threads.emplace_back([&] {
      edgetable::net::testing::CurlClient client;
      if (!ca.empty()) client.SetTls(ca);
      (void)client.Get(url);  // connect (and handshake) outside the window
      while (!stop.load(std::memory_order_relaxed)) {
        auto r = client.Get(url);
        if (r.curl_code == 0 && r.status == 200) {
          done.fetch_add(1, std::memory_order_relaxed);
        } else {
          failed.fetch_add(1, std::memory_order_relaxed);
        }
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  int64_t start_count = done.load();
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  int64_t end_count = done.load();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  stop.store(true);
  for (auto& t : threads) t.join();
  if (failed.load() != 0) std::fprintf(stderr, "%lld failed requests\n", static_cast<long long>(failed.load()));
  return static_cast<double>(end_count - start_count) / elapsed;
}

}  // namespace

int main(int argc, char** argv) {
  int clients = argc > 1 ? std::atoi(argv[1]) : 8;
  int seconds = argc > 2 ? std::atoi(argv[2]) : 3;
  (void)edgetable::log::SetLevel("warn");
  edgetable::testing::TempDir dir;
  auto ca = edgetable::net::testing::MakeCa(dir.path(), "ca", "Probe CA");
  auto leaf = edgetable::net::testing::MakeLeaf(dir.path(), "server", "127.0.0.1", ca, true);

  double http = Measure(ServerOptions{}, "", clients, seconds);
  ServerOptions tls;
  tls.tls = edgetable::net::TlsOptions{leaf.cert, leaf.key, "", edgetable::net::ClientCertMode::kNone};
  double https = Measure(tls, ca.cert, clients, seconds);
  std::printf("clients=%d seconds=%d\nHTTP  %.0f requests/s\nHTTPS %.0f requests/s\n", clients, seconds, http, https);
  return 0;
}
