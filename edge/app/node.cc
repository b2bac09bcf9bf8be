#include "edge/app/node.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <algorithm>
#include <filesystem>
#include <memory>
#include <optional>
#include <vector>

#include "edge/api/api.h"
#include "edge/base/log.h"
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

  // One server per listener; each gets its own copy of the routes.
  std::vector<std::unique_ptr<net::Server>> servers;
  auto serve = [&](const ListenAddress& address, std::optional<net::TlsOptions> tls) -> Status {
    net::Router router;
    ET_RETURN_IF_ERROR(dynamo.Register(router));
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

  ET_LOG_INFO("edgetable serving: data in {}", config.node.data_dir);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  ET_LOG_INFO("edgetable stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
  // Listeners first (in-flight requests finish), then storage (queued writes commit).
  for (auto& server : servers) server->Shutdown(5000);
  servers.clear();
  store.reset();
  return Status::Ok();
}

}  // namespace edgetable::app
