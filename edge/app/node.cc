#include "edge/app/node.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "edge/api/api.h"
#include "edge/app/version.h"
#include "edge/base/limits.h"
#include "edge/item/json.h"
#include "edge/base/log.h"
#include "edge/ingest/ingest.h"
#include "edge/net/server.h"
#include "edge/storage/storage.h"

namespace edgetable::app {
namespace {

// Holds an exclusive flock on DATA_DIR/LOCK for the life of the process, so
// that two processes never open the same database files.
class DirLock {
 public:
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& dir) {
    std::string path = dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::AlreadyExists("data directory '" + dir +
                                   "' is in use by another edgetable process");
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create data directory '" + dir + "': " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    return Status::IOError("data directory '" + dir + "' is not writable");
  }
  return Status::Ok();
}

}  // namespace

Status RunNode(const Config& config) {
  // Signals are taken synchronously by this thread; every thread started
  // after this inherits the mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ET_RETURN_IF_ERROR(MakeDataDir(config.node.data_dir));
  DirLock lock;
  ET_RETURN_IF_ERROR(lock.Acquire(config.node.data_dir));

  storage::Options storage_options;
  storage_options.path = config.node.data_dir + "/edgetable.db";
  storage_options.durability = config.storage.durability == Durability::kFull
                                   ? storage::Durability::kFull
                                   : storage::Durability::kNormal;
  storage_options.writer_cache_bytes = config.storage.cache_bytes;
  storage_options.reader_cache_bytes = std::max<int64_t>(config.storage.cache_bytes / 4, 1 << 20);
  ET_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> store, storage::Storage::Open(storage_options));
  ET_LOG_INFO("storage open: {} (replica {:016x}, durability {})", storage_options.path,
              store->replica_id(), config.storage.durability == Durability::kFull ? "full" : "normal");

  api::ApiOptions api_options;
  for (const AccessKey& k : config.api.access_keys) {
    api_options.access_keys[k.access_key_id] = k.secret_access_key;
  }
  api_options.region = config.api.region;
  api::Api dynamo(store.get(), api_options);

  // GET /status: the live counters, for `edgetable status` and operators.
  std::vector<std::unique_ptr<net::Server>> servers;
  const int64_t started_ms = Clock::System()->NowMs();
  auto status_json = [&]() {
    nlohmann::json j;
    j["version"] = VersionString();
    char replica[17];
    std::snprintf(replica, sizeof(replica), "%016llx", static_cast<unsigned long long>(store->replica_id()));
    j["node"] = {{"replica_id", replica}, {"data_dir", config.node.data_dir},
                 {"uptime_s", (Clock::System()->NowMs() - started_ms) / 1000}};
    storage::StorageStats st = store->Stats();
    j["storage"] = {{"writes", st.writes}, {"write_failures", st.write_failures},
                    {"busy_rejections", st.busy_rejections}, {"commits", st.commits},
                    {"largest_group", st.group_writes_max}, {"queue_depth", st.queue_depth},
                    {"last_change_seq", st.last_seq}};
    nlohmann::json tables = nlohmann::json::array();
    Result<storage::TableList> list = store->ListTables(std::nullopt, limits::kListTablesLimitMax);
    if (list.ok()) {
      for (const std::string& name : list->names) {
        Result<storage::TableInfo> info = store->DescribeTable(name);
        if (info.ok()) tables.push_back({{"name", name}, {"items", info->item_count}, {"bytes", info->item_bytes}});
      }
    }
    j["tables"] = tables;
    nlohmann::json ops = nlohmann::json::object();
    for (const api::OperationStats& op : dynamo.Stats()) {
      if (op.requests > 0) ops[op.operation] = {{"requests", op.requests}, {"errors", op.errors}};
    }
    j["api"] = ops;
    for (size_t i = 0; i < servers.size(); ++i) {
      net::ServerStats ns = servers[i]->stats();
      j["listeners"].push_back({{"port", servers[i]->port()}, {"connections_active", ns.connections_active},
                                {"requests", ns.requests}, {"bad_requests", ns.bad_requests},
                                {"tls_handshakes", ns.handshakes}, {"tls_handshake_failures", ns.handshake_failures},
                                {"timeouts", ns.timeouts}});
    }
    return j;
  };
  auto add_status_routes = [&](net::Router& router) -> Status {
    ET_RETURN_IF_ERROR(router.Add("GET", "/status", [&](const net::Request&, net::Response& resp) {
      resp.SetHeader("Content-Type", "application/json");
      resp.body = status_json().dump(2);
    }));
    return router.Add("GET", "/health", [](const net::Request&, net::Response& resp) {
      resp.SetHeader("Content-Type", "text/plain");
      resp.body = "ok\n";
    });
  };

  // One server per listener; each gets its own copy of the routes.
  auto serve = [&](const ListenAddress& address, std::optional<net::TlsOptions> tls) -> Status {
    net::Router router;
    ET_RETURN_IF_ERROR(dynamo.Register(router));
    ET_RETURN_IF_ERROR(add_status_routes(router));
    net::ServerOptions options;
    options.host = address.host;
    options.port = address.port;
    options.tls = std::move(tls);
    bool secure = options.tls.has_value();
    Result<std::unique_ptr<net::Server>> server = net::Server::Create(std::move(options), std::move(router));
    if (!server.ok()) return server.status().WithPrefix(secure ? "api.tls_listen" : "api.listen");
    ET_LOG_INFO("DynamoDB API on {}://{}:{}", secure ? "https" : "http", address.host, (*server)->port());
    servers.push_back(std::move(server).value());
    return Status::Ok();
  };
  if (!config.api.listen.empty()) ET_RETURN_IF_ERROR(serve(config.api.listen, std::nullopt));
  if (!config.api.tls_listen.empty()) {
    net::TlsOptions tls;
    tls.cert_chain_file = config.api.tls_cert_file;
    tls.key_file = config.api.tls_key_file;
    if (!config.api.tls_client_ca_file.empty()) {
      tls.client_ca_file = config.api.tls_client_ca_file;
      tls.client_cert = net::ClientCertMode::kOptional;
    }
    ET_RETURN_IF_ERROR(serve(config.api.tls_listen, std::move(tls)));
  }
  if (api_options.access_keys.empty()) {
    ET_LOG_INFO("no access keys configured: unsigned API requests are accepted");
  }

  // --- MQTT ingest (edge/ingest): starts after storage and the API are up,
  // stops before them (see the shutdown below).
  std::unique_ptr<ingest::Ingest> ingester;
  if (config.ingest.enabled()) {
    ingest::Options ingest_options;
    ingest_options.mqtt = config.mqtt;
    ingest_options.dead_letter_table = config.ingest.dead_letter_table;
    for (size_t i = 0; i < config.ingest.rules.size(); ++i) {
      ET_ASSIGN_OR_RETURN(ingest::Rule rule, ingest::CompileRule(config.ingest.rules[i], static_cast<int>(i)));
      ingest_options.rules.push_back(std::move(rule));
    }
    ET_ASSIGN_OR_RETURN(ingester, ingest::Ingest::Start(store.get(), std::move(ingest_options)));
  }
  // --- end MQTT ingest

  ET_LOG_INFO("edgetable serving: data in {}", config.node.data_dir);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  ET_LOG_INFO("edgetable stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // --- MQTT ingest: stop first; every message taken from the broker commits.
  if (ingester) ingester->Stop();
  ingester.reset();
  // --- end MQTT ingest
  // Listeners first (in-flight requests finish), then storage (queued writes commit).
  for (auto& server : servers) server->Shutdown(5000);
  servers.clear();
  store.reset();
  return Status::Ok();
}

}  // namespace edgetable::app
