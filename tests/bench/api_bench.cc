// api_bench: load on the DynamoDB API over real HTTP(S), next to the peers.
//
// Starts EdgeTable (HTTP and HTTPS listeners, certificates made with
// openssl), and, when found, dynalite and DynamoDB Local; drives each with N
// kept-alive libcurl clients doing PutItem, GetItem and a 100-item Query,
// and prints ops/s, p50 and p99 per (server, protocol, operation, clients),
// with EdgeTable's throughput as a multiple of each peer's.
//
// The same clients also load a null server (a thread per connection that
// answers every request at once with "{}", inside this program): the most
// any server can reach with this load generator on this machine, measured in
// the same run. The last table puts each target of "5x dynalite" next to it.
//
//   api_bench --edgetable BIN [--dynalite CLI_JS] [--dynamodb-local DIR]
//             [--seconds S] [--clients 1,8]
//
// dynalite: the path of dynalite's cli.js (npm package `dynalite`); DynamoDB
// Local: the folder holding DynamoDBLocal.jar and DynamoDBLocal_lib (npm
// package `amplify-dynamodb-simulator`). platforms/peers/install-peers.sh
// installs both and tests/bench/run-api-bench.sh finds them.

#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <strings.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace {

struct Target {
  std::string name;   // "edgetable", "dynalite", "dynamodb-local"
  std::string proto;  // "http" or "https"
  std::string url;
  std::string ca_file;  // https only
};

// The null server: reads a request (headers, then Content-Length bytes) and
// answers at once. Blocking I/O on a thread per connection is the cheapest
// server there is for a few kept-alive clients.
class NullServer {
 public:
  NullServer() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    socklen_t len = sizeof(a);
    getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    listen(fd_, 64);
    accepter_ = std::thread([this] {
      for (;;) {
        int c = accept(fd_, nullptr, nullptr);
        if (c < 0) return;
        int yes = 1;
        setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &yes, sizeof(yes));
        std::lock_guard lock(mu_);
        conns_.push_back(c);
        workers_.emplace_back([c] { Serve(c); });
      }
    });
  }
  ~NullServer() {
    shutdown(fd_, SHUT_RDWR);
    close(fd_);
    accepter_.join();
    std::lock_guard lock(mu_);
    for (int c : conns_) shutdown(c, SHUT_RDWR);
    for (auto& w : workers_) w.join();
    for (int c : conns_) close(c);
  }
  int port() const { return port_; }

 private:
  static void Serve(int c) {
    static const char kReply[] =
        "HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}";
    std::string buf;
    char chunk[16384];
    for (;;) {
      size_t end;
      while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
        ssize_t n = recv(c, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      size_t body = 0;
      for (size_t at = 0; at < end;) {
        size_t eol = buf.find("\r\n", at);
        if (eol == std::string::npos || eol > end) break;
        if (strncasecmp(buf.c_str() + at, "content-length:", 15) == 0) {
          body = static_cast<size_t>(std::atol(buf.c_str() + at + 15));
        }
        at = eol + 2;
      }
      while (buf.size() < end + 4 + body) {
        ssize_t n = recv(c, chunk, sizeof(chunk), 0);
        if (n <= 0) return;
        buf.append(chunk, static_cast<size_t>(n));
      }
      buf.erase(0, end + 4 + body);
      if (send(c, kReply, sizeof(kReply) - 1, MSG_NOSIGNAL) < 0) return;
    }
  }

  int fd_ = -1;
  int port_ = 0;
  std::thread accepter_;
  std::mutex mu_;
  std::vector<int> conns_;
  std::vector<std::thread> workers_;
};

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

bool PortOpen(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
  close(fd);
  return ok;
}

// A child process, killed when this object dies.
class Child {
 public:
  Child(std::vector<std::string> argv, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* f = std::fopen(log.c_str(), "w");
      if (f) {
        dup2(fileno(f), 1);
        dup2(fileno(f), 2);
      }
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      for (int i = 0; i < 50 && waitpid(pid_, &status, WNOHANG) == 0; ++i) usleep(100'000);
      kill(pid_, SIGKILL);
      waitpid(pid_, &status, 0);
    }
  }
  bool WaitPort(int port, int seconds) const {
    for (int i = 0; i < seconds * 20; ++i) {
      if (PortOpen(port)) return true;
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) return false;
      usleep(50'000);
    }
    return false;
  }

 private:
  pid_t pid_ = -1;
};

size_t Sink(char* ptr, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(ptr, size * n);
  return size * n;
}

// One kept-alive connection.
class Client {
 public:
  explicit Client(const Target& t) : url_(t.url + "/") {
    curl_ = curl_easy_init();
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Sink);
    curl_easy_setopt(curl_, CURLOPT_WRITEDATA, &body_);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30'000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
    if (!t.ca_file.empty()) {
      curl_easy_setopt(curl_, CURLOPT_CAINFO, t.ca_file.c_str());
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYPEER, 1L);
      curl_easy_setopt(curl_, CURLOPT_SSL_VERIFYHOST, 2L);
    }
  }
  ~Client() {
    if (headers_) curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }
  // Returns the HTTP status (0 on a transport error).
  long Call(const std::string& op, const std::string& json) {
    if (headers_) curl_slist_free_all(headers_);
    headers_ = nullptr;
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-amz-json-1.0");
    headers_ = curl_slist_append(headers_, ("X-Amz-Target: DynamoDB_20120810." + op).c_str());
    // A well-formed signature header: the peers want one; EdgeTable with no
    // keys configured does not check it.
    headers_ = curl_slist_append(headers_, "X-Amz-Date: 20260101T000000Z");
    headers_ = curl_slist_append(headers_,
        "Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/dynamodb/aws4_request, "
        "SignedHeaders=host;x-amz-date;x-amz-target, Signature=00");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, json.c_str());
    curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(json.size()));
    body_.clear();
    if (curl_easy_perform(curl_) != CURLE_OK) return 0;
    long code = 0;
    curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &code);
    return code;
  }
  const std::string& body() const { return body_; }

 private:
  std::string url_;
  CURL* curl_;
  curl_slist* headers_ = nullptr;
  std::string body_;
};

constexpr const char* kTable = "bench";
constexpr int kQueryItems = 100;
constexpr int kGetKeys = 1000;

std::string Item(const std::string& device, int64_t ts) {
  return "{\"device\":{\"S\":\"" + device + "\"},\"ts\":{\"N\":\"" + std::to_string(ts) +
         "\"},\"temp\":{\"N\":\"21.5\"},\"hum\":{\"N\":\"40.25\"},\"site\":{\"S\":\"plant-7\"},"
         "\"ok\":{\"BOOL\":true}}";
}

bool Setup(const Target& t) {
  Client c(t);
  c.Call("DeleteTable", std::string("{\"TableName\":\"") + kTable + "\"}");
  // Deleting a large table takes a moment (and is asynchronous on some
  // servers): wait until it is gone.
  for (int i = 0; i < 400; ++i) {
    if (c.Call("DescribeTable", std::string("{\"TableName\":\"") + kTable + "\"}") == 400 &&
        c.body().find("ResourceNotFoundException") != std::string::npos) {
      break;
    }
    usleep(50'000);
  }
  long code = c.Call("CreateTable", std::string("{\"TableName\":\"") + kTable +
                     "\",\"KeySchema\":[{\"AttributeName\":\"device\",\"KeyType\":\"HASH\"},"
                     "{\"AttributeName\":\"ts\",\"KeyType\":\"RANGE\"}],\"AttributeDefinitions\":["
                     "{\"AttributeName\":\"device\",\"AttributeType\":\"S\"},{\"AttributeName\":"
                     "\"ts\",\"AttributeType\":\"N\"}],\"BillingMode\":\"PAY_PER_REQUEST\"}");
  if (code != 200) {
    std::fprintf(stderr, "%s: CreateTable answered %ld: %s\n", t.name.c_str(), code, c.body().c_str());
    return false;
  }
  // dynalite creates tables asynchronously: wait until ACTIVE.
  for (int i = 0; i < 200; ++i) {
    c.Call("DescribeTable", std::string("{\"TableName\":\"") + kTable + "\"}");
    if (c.body().find("\"ACTIVE\"") != std::string::npos) break;
    usleep(50'000);
  }
  // Items to read: kGetKeys keys over 10 devices, and one partition of kQueryItems.
  for (int i = 0; i < kGetKeys; i += 25) {
    std::string batch = std::string("{\"RequestItems\":{\"") + kTable + "\":[";
    for (int j = i; j < i + 25; ++j) {
      if (j > i) batch += ",";
      batch += "{\"PutRequest\":{\"Item\":" + Item("get-" + std::to_string(j % 10), j) + "}}";
    }
    batch += "]}}";
    if (c.Call("BatchWriteItem", batch) != 200) {
      std::fprintf(stderr, "%s: BatchWriteItem answered: %s\n", t.name.c_str(), c.body().c_str());
      return false;
    }
  }
  for (int i = 0; i < kQueryItems; i += 25) {
    std::string batch = std::string("{\"RequestItems\":{\"") + kTable + "\":[";
    for (int j = i; j < i + 25; ++j) {
      if (j > i) batch += ",";
      batch += "{\"PutRequest\":{\"Item\":" + Item("query-dev", j) + "}}";
    }
    batch += "]}}";
    if (c.Call("BatchWriteItem", batch) != 200) return false;
  }
  return true;
}

struct Figures {
  double ops_per_s = 0;
  double p50_ms = 0;
  double p99_ms = 0;
  int64_t errors = 0;
};

Figures Run(const Target& t, const std::string& op, int clients, double seconds) {
  std::atomic<bool> stop{false};
  std::vector<std::vector<double>> lat(static_cast<size_t>(clients));
  std::vector<int64_t> errors(static_cast<size_t>(clients), 0);
  std::vector<std::thread> threads;
  for (int c = 0; c < clients; ++c) {
    threads.emplace_back([&, c] {
      Client client(t);
      int64_t i = 0;
      while (!stop.load(std::memory_order_relaxed)) {
        std::string body;
        if (op == "PutItem") {
          body = std::string("{\"TableName\":\"") + kTable + "\",\"Item\":" +
                 Item("put-" + std::to_string(c), 1'000'000 + i) + "}";
        } else if (op == "GetItem") {
          int k = static_cast<int>((i * 7919 + c * 131) % kGetKeys);
          body = std::string("{\"TableName\":\"") + kTable + "\",\"Key\":{\"device\":{\"S\":\"get-" +
                 std::to_string(k % 10) + "\"},\"ts\":{\"N\":\"" + std::to_string(k) + "\"}}}";
        } else {
          body = std::string("{\"TableName\":\"") + kTable +
                 "\",\"KeyConditionExpression\":\"device = :d\",\"ExpressionAttributeValues\":"
                 "{\":d\":{\"S\":\"query-dev\"}}}";
        }
        auto t0 = std::chrono::steady_clock::now();
        long code = client.Call(op, body);
        auto t1 = std::chrono::steady_clock::now();
        if (code != 200) {
          ++errors[static_cast<size_t>(c)];
        } else {
          lat[static_cast<size_t>(c)].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
        ++i;
      }
    });
  }
  auto start = std::chrono::steady_clock::now();
  std::this_thread::sleep_for(std::chrono::duration<double>(seconds));
  stop = true;
  for (auto& th : threads) th.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::vector<double> all;
  Figures f;
  for (int c = 0; c < clients; ++c) {
    all.insert(all.end(), lat[static_cast<size_t>(c)].begin(), lat[static_cast<size_t>(c)].end());
    f.errors += errors[static_cast<size_t>(c)];
  }
  if (all.empty()) return f;
  std::sort(all.begin(), all.end());
  f.ops_per_s = static_cast<double>(all.size()) / elapsed;
  f.p50_ms = all[all.size() / 2];
  f.p99_ms = all[std::min(all.size() - 1, all.size() * 99 / 100)];
  return f;
}

std::string Arg(int argc, char** argv, const char* name, const char* def = "") {
  for (int i = 1; i + 1 < argc; ++i) {
    if (std::strcmp(argv[i], name) == 0) return argv[i + 1];
  }
  return def;
}

}  // namespace

int main(int argc, char** argv) {
  std::string edgetable = Arg(argc, argv, "--edgetable");
  std::string dynalite = Arg(argc, argv, "--dynalite");
  std::string ddb_local = Arg(argc, argv, "--dynamodb-local");
  double seconds = std::atof(Arg(argc, argv, "--seconds", "3").c_str());
  std::vector<int> client_counts;
  {
    std::string list = Arg(argc, argv, "--clients", "1,8");
    size_t pos = 0;
    while (pos < list.size()) {
      size_t comma = list.find(',', pos);
      client_counts.push_back(std::atoi(list.substr(pos, comma - pos).c_str()));
      if (comma == std::string::npos) break;
      pos = comma + 1;
    }
  }
  if (edgetable.empty()) {
    std::fprintf(stderr, "usage: api_bench --edgetable BIN [--dynalite CLI_JS] [--dynamodb-local DIR] "
                         "[--seconds S] [--clients 1,8]\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  curl_global_init(CURL_GLOBAL_DEFAULT);

  char dir_template[] = "/tmp/edgetable-api-bench-XXXXXX";
  std::string dir = mkdtemp(dir_template);
  // Certificates for the HTTPS listener.
  std::string sh =
      "cd " + dir + " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-keyout ca.key -out ca.crt -days 2 -subj /CN=bench-ca >/dev/null 2>&1 && "
      "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout server.key "
      "-out server.csr -subj /CN=localhost >/dev/null 2>&1 && "
      "printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > ext && "
      "openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt "
      "-days 2 -extfile ext >/dev/null 2>&1";
  if (std::system(sh.c_str()) != 0) {
    std::fprintf(stderr, "api_bench: openssl failed\n");
    return 1;
  }
  int http_port = FreePort(), https_port = FreePort();
  {
    FILE* cfg = std::fopen((dir + "/edge.toml").c_str(), "w");
    std::fprintf(cfg,
                 "[node]\ndata_dir = \"%s/data\"\nlog_level = \"warn\"\n[api]\nlisten = \"127.0.0.1:%d\"\n"
                 "tls_listen = \"127.0.0.1:%d\"\ntls_cert_file = \"%s/server.crt\"\ntls_key_file = \"%s/server.key\"\n",
                 dir.c_str(), http_port, https_port, dir.c_str(), dir.c_str());
    std::fclose(cfg);
  }
  std::vector<std::unique_ptr<Child>> children;
  std::vector<Target> targets;
  children.push_back(std::make_unique<Child>(
      std::vector<std::string>{edgetable, "serve", "--config", dir + "/edge.toml"}, dir + "/edgetable.log"));
  if (!children.back()->WaitPort(http_port, 20) || !children.back()->WaitPort(https_port, 5)) {
    std::fprintf(stderr, "api_bench: edgetable did not start (see %s/edgetable.log)\n", dir.c_str());
    return 1;
  }
  targets.push_back({"edgetable", "http", "http://127.0.0.1:" + std::to_string(http_port), ""});
  targets.push_back({"edgetable", "https", "https://localhost:" + std::to_string(https_port), dir + "/ca.crt"});
  if (!dynalite.empty()) {
    int port = FreePort();
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{"node", dynalite, "--port", std::to_string(port)}, dir + "/dynalite.log"));
    if (children.back()->WaitPort(port, 30)) {
      targets.push_back({"dynalite", "http", "http://127.0.0.1:" + std::to_string(port), ""});
    } else {
      std::fprintf(stderr, "api_bench: dynalite did not start; skipped\n");
    }
  }
  if (!ddb_local.empty()) {
    int port = FreePort();
    children.push_back(std::make_unique<Child>(
        std::vector<std::string>{"java", "-Djava.library.path=" + ddb_local + "/DynamoDBLocal_lib", "-jar",
                                 ddb_local + "/DynamoDBLocal.jar", "-inMemory", "-port", std::to_string(port)},
        dir + "/dynamodb-local.log"));
    if (children.back()->WaitPort(port, 60)) {
      targets.push_back({"dynamodb-local", "http", "http://127.0.0.1:" + std::to_string(port), ""});
    } else {
      std::fprintf(stderr, "api_bench: DynamoDB Local did not start; skipped\n");
    }
  }

  const std::vector<std::string> ops = {"PutItem", "GetItem", "Query"};
  std::map<std::string, Figures> results;  // name/proto/op/clients
  NullServer null_server;
  {
    Target null_target{"null-server", "http", "http://127.0.0.1:" + std::to_string(null_server.port()), ""};
    for (int c : client_counts) {
      // The request bodies differ per op; the answer never does.
      for (const std::string& op : ops) results["null-server/http/" + op + "/" + std::to_string(c)] =
          Run(null_target, op, c, seconds);
    }
  }
  for (const Target& t : targets) {
    if (!Setup(t)) {
      std::fprintf(stderr, "api_bench: setup failed on %s %s\n", t.name.c_str(), t.proto.c_str());
      continue;
    }
    for (const std::string& op : ops) {
      for (int c : client_counts) {
        results[t.name + "/" + t.proto + "/" + op + "/" + std::to_string(c)] = Run(t, op, c, seconds);
      }
    }
  }

  std::printf("\nDynamoDB API load: %.0f s per cell, kept-alive libcurl clients on loopback\n", seconds);
  std::printf("%-15s %-6s %-8s %7s %10s %8s %8s %7s %12s\n", "server", "proto", "op", "clients", "ops/s",
              "p50 ms", "p99 ms", "errors", "edgetable x");
  for (const Target& t : targets) {
    for (const std::string& op : ops) {
      for (int c : client_counts) {
        std::string key = t.name + "/" + t.proto + "/" + op + "/" + std::to_string(c);
        auto it = results.find(key);
        if (it == results.end()) continue;
        const Figures& f = it->second;
        std::string ratio = "";
        if (t.name != "edgetable") {
          const Figures& e = results["edgetable/http/" + op + "/" + std::to_string(c)];
          if (f.ops_per_s > 0) {
            char buf[32];
            std::snprintf(buf, sizeof(buf), "%.1fx", e.ops_per_s / f.ops_per_s);
            ratio = buf;
          }
        }
        std::printf("%-15s %-6s %-8s %7d %10.0f %8.2f %8.2f %7lld %12s\n", t.name.c_str(), t.proto.c_str(),
                    op.c_str(), c, f.ops_per_s, f.p50_ms, f.p99_ms, static_cast<long long>(f.errors),
                    ratio.c_str());
      }
    }
  }
  std::printf("\nnull-server: the same clients against a server that answers at once (the floor of this load "
              "generator on this machine)\n");
  std::printf("%-8s %7s %14s %14s %16s %16s\n", "op", "clients", "null ops/s", "5x dynalite", "edgetable ops/s",
              "edgetable/null");
  for (const std::string& op : ops) {
    for (int c : client_counts) {
      std::string suffix = "/" + op + "/" + std::to_string(c);
      const Figures& n = results["null-server/http" + suffix];
      const Figures& e = results["edgetable/http" + suffix];
      auto d = results.find("dynalite/http" + suffix);
      char need[32] = "-";
      if (d != results.end() && d->second.ops_per_s > 0) {
        std::snprintf(need, sizeof(need), "%.0f%s", 5 * d->second.ops_per_s,
                      5 * d->second.ops_per_s > n.ops_per_s ? " (>null)" : "");
      }
      std::printf("%-8s %7d %14.0f %14s %16.0f %15.0f%%\n", op.c_str(), c, n.ops_per_s, need, e.ops_per_s,
                  n.ops_per_s > 0 ? 100 * e.ops_per_s / n.ops_per_s : 0.0);
    }
  }
  children.clear();
  std::string rm = "rm -rf " + dir;
  if (std::system(rm.c_str()) != 0) std::fprintf(stderr, "api_bench: could not remove %s\n", dir.c_str());
  curl_global_cleanup();
  return 0;
}
