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
#include <mutex>
#include <optional>
#include <vector>

#include "edge/api/api.h"
#include "edge/app/metrics.h"
#include "edge/app/reload.h"
#include "edge/app/service.h"
#include "edge/app/version.h"
#include "edge/base/limits.h"
#include "edge/item/json.h"
#include "edge/base/log.h"
#include "edge/ingest/ingest.h"
#include "edge/net/server.h"
#include "edge/storage/storage.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"
#include "sync/transport/transport.h"

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

std::string Hex64(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016llx", static_cast<unsigned long long>(v));
  return text;
}

nlohmann::json StorageStatus(const storage::StorageStats& st) {
  return {{"writes", st.writes}, {"write_failures", st.write_failures},
          {"busy_rejections", st.busy_rejections}, {"commits", st.commits},
          {"commit_failures", st.commit_failures}, {"largest_group", st.group_writes_max},
          {"queue_depth", st.queue_depth}, {"last_change_seq", st.last_seq},
          {"wal_checkpoints", st.wal_checkpoints}, {"wal_checkpoint_ms_max", st.wal_checkpoint_ms_max},
          {"wal_restarts", st.wal_restarts}, {"wal_topups", st.wal_topups}, {"wal_writer_checkpoints", st.wal_writer_checkpoints},
          {"ttl_deletes", st.ttl_deletes}, {"ttl_sweep_batches", st.ttl_sweep_batches},
          {"expiry_recomputed", st.expiry_recomputed}, {"changes_trimmed", st.changes_trimmed},
          {"trimmed_seq", st.trimmed_seq}, {"upstream_acked_seq", st.upstream_acked_seq},
          {"evictions", st.evictions}, {"forced_evictions", st.forced_evictions},
          {"forced_trims", st.forced_trims}, {"db_bytes", st.db_bytes}, {"over_budget", st.over_budget}};
}

nlohmann::json IngestStatus(const ingest::IngestStats& st) {
  return {{"messages_received", st.messages_received}, {"messages_committed", st.messages_committed},
          {"items_stored", st.items_stored}, {"dead_lettered", st.dead_lettered},
          {"unmatched", st.unmatched}, {"storage_retries", st.storage_retries},
          {"connects", st.connects}, {"reconnects", st.reconnects},
          {"connection_losses", st.connection_losses}, {"lag", st.lag}, {"connected", st.connected}};
}

nlohmann::json SyncStatus(const std::string& upstream, const sync::ClientStats& st) {
  const sync::TransportStats& tr = st.transport;
  return {{"upstream", upstream},
          {"upstream_replica", st.upstream_replica == 0 ? std::string() : Hex64(st.upstream_replica)},
          {"acked_seq", st.acked_seq}, {"pull_cursor", st.pull_cursor},
          {"push_lag_changes", st.push_lag_changes}, {"push_lag_bytes", st.push_lag_bytes},
          {"push_lag_seconds", st.push_lag_seconds}, {"pull_lag_changes", st.pull_lag_changes},
          {"last_success_ms", st.last_success_ms}, {"last_error_ms", st.last_error_ms},
          {"last_error", st.last_error}, {"rounds", st.rounds}, {"failures", st.failures},
          {"push_batches", st.push_batches}, {"pull_batches", st.pull_batches},
          {"changes_pushed", st.changes_pushed}, {"changes_pulled", st.changes_pulled},
          {"changes_applied", st.changes_applied}, {"conflicts", st.conflicts},
          {"skew_flagged", st.skew_flagged}, {"apply_yields", st.apply_yields},
          {"snapshot_active", st.snapshot_active}, {"snapshots_started", st.snapshots_started},
          {"snapshots_completed", st.snapshots_completed}, {"snapshot_rows", st.snapshot_rows},
          {"snapshot_rows_applied", st.snapshot_rows_applied},
          {"transport", {{"requests", tr.requests}, {"failures", tr.failures},
                         {"connections", tr.connections}, {"bytes_sent", tr.bytes_sent},
                         {"bytes_sent_raw", tr.bytes_sent_raw}, {"bytes_received", tr.bytes_received}}}};
}

nlohmann::json HubStatus(const sync::HubStats& st) {
  nlohmann::json peers = nlohmann::json::array();
  for (const sync::HubPeerStats& p : st.peers) {
    peers.push_back({{"name", p.name}, {"replica", p.replica == 0 ? std::string() : Hex64(p.replica)},
                     {"last_seen_ms", p.last_seen_ms}, {"pull_cursor", p.pull_cursor},
                     {"pushed_through", p.pushed_through}});
  }
  return {{"pushes", st.pushes}, {"pulls", st.pulls}, {"refused", st.refused},
          {"unauthenticated", st.unauthenticated}, {"forbidden", st.forbidden},
          {"changes_applied", st.changes_applied}, {"changes_skipped", st.changes_skipped},
          {"changes_sent", st.changes_sent}, {"snapshots", st.snapshots},
          {"snapshot_pages", st.snapshot_pages}, {"snapshot_rows", st.snapshot_rows}, {"conflicts", st.conflicts},
          {"skew_flagged", st.skew_flagged}, {"bytes_in", st.bytes_in}, {"bytes_out", st.bytes_out},
          {"peers", peers}};
}

// Verbosity order of the log level names (edge/base/log.h); unknown: -1.
int LevelRank(std::string_view level) {
  constexpr std::string_view kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
  for (size_t i = 0; i < std::size(kLevels); ++i) {
    if (kLevels[i] == level) return static_cast<int>(i);
  }
  return -1;
}

}  // namespace

Status RunNode(const Config& config, const ServeOptions& serve_options) {
  // Signals are taken synchronously by this thread; every thread started
  // after this inherits the mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);  // reload, taken by the same sigwait
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ET_RETURN_IF_ERROR(MakeDataDir(config.node.data_dir));
  DirLock lock;
  ET_RETURN_IF_ERROR(lock.Acquire(config.node.data_dir));

  // Every part of the node reads the same wall clock: storage versions and
  // TTL, ingest arrival times, sync's skew checks.
  OffsetClock offset_clock(Clock::System(), config.node.clock_offset_ms);
  const Clock* clock = config.node.clock_offset_ms == 0 ? Clock::System() : &offset_clock;
  if (config.node.clock_offset_ms != 0) {
    ET_LOG_WARN("node.clock_offset_ms = {}: this node's wall clock is shifted (a test setting)",
                config.node.clock_offset_ms);
  }

  storage::Options storage_options;
  storage_options.path = config.node.data_dir + "/edgetable.db";
  storage_options.durability = config.storage.durability == Durability::kFull
                                   ? storage::Durability::kFull
                                   : storage::Durability::kNormal;
  storage_options.writer_cache_bytes = config.storage.cache_bytes;
  storage_options.reader_cache_bytes = std::max<int64_t>(config.storage.cache_bytes / 4, 1 << 20);
  storage_options.clock = clock;
  storage_options.wal_autocheckpoint_pages = config.storage.wal_autocheckpoint_pages;
  storage_options.ttl_sweep_interval_ms = config.storage.ttl_sweep_interval_ms;
  storage_options.ttl_sweep_batch_items = config.storage.ttl_sweep_batch_items;
  storage_options.hide_expired_on_read = config.storage.hide_expired_on_read;
  storage_options.stream_retention_ms = config.storage.stream_retention_ms;
  storage_options.retention_max_age_ms = config.storage.retention_max_age_ms;
  storage_options.retention_max_age_ms_by_table = config.storage.retention_max_age_ms_by_table;
  storage_options.disk_budget_bytes = config.storage.disk_budget_bytes;
  storage_options.budget_policy = config.storage.budget_policy;
  // Without an upstream nothing will ever acknowledge the change log: it is
  // trimmed by age alone, and retention evicts without waiting for one.
  storage_options.no_upstream = !config.sync.has_upstream();
  ET_ASSIGN_OR_RETURN(std::unique_ptr<storage::Storage> store, storage::Storage::Open(storage_options));
  ET_LOG_INFO("storage open: {} (replica {:016x}, durability {})", storage_options.path,
              store->replica_id(), config.storage.durability == Durability::kFull ? "full" : "normal");

  api::ApiOptions api_options;
  for (const AccessKey& k : config.api.access_keys) {
    api_options.access_keys[k.access_key_id] = k.secret_access_key;
  }
  api_options.region = config.api.region;
  api::Api dynamo(store.get(), api_options);

  // --- Sync, hub side: its routes go on every API listener, so the hub
  // exists before the servers and is destroyed after them.
  std::unique_ptr<sync::Hub> hub;
  if (config.sync.is_hub()) {
    sync::HubOptions hub_options = config.sync.hub;
    hub_options.clock = clock;
    Result<std::unique_ptr<sync::Hub>> created = sync::Hub::Create(store.get(), std::move(hub_options));
    if (!created.ok()) return created.status().WithPrefix("sync.peers");
    hub = std::move(created).value();
    ET_LOG_INFO("sync hub: {} peer(s)", config.sync.hub.peers.size());
  }
  // --- Parts started once the servers are up: MQTT ingest and the sync
  // client. GET /status reads them on the servers' workers while this
  // thread starts and stops them: the pointers change under parts_mu. The
  // client holds a pointer to the transport: declared after it, it goes
  // first.
  std::mutex parts_mu;
  std::unique_ptr<sync::CurlTransport> transport;
  std::unique_ptr<sync::Client> sync_client;  // GUARDED_BY(parts_mu)
  std::unique_ptr<ingest::Ingest> ingester;   // GUARDED_BY(parts_mu)

  // GET /status: the live counters, for `edgetable status` and operators.
  std::vector<std::unique_ptr<net::Server>> servers;
  const int64_t started_ms = Clock::System()->NowMs();
  auto status_json = [&]() {
    nlohmann::json j;
    j["version"] = VersionString();
    j["node"] = {{"replica_id", Hex64(store->replica_id())}, {"data_dir", config.node.data_dir},
                 {"uptime_s", (Clock::System()->NowMs() - started_ms) / 1000},
                 {"now_ms", clock->NowMs()}, {"clock_offset_ms", config.node.clock_offset_ms}};
    j["storage"] = StorageStatus(store->Stats());
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
    {
      std::lock_guard<std::mutex> parts_lock(parts_mu);
      if (ingester) j["ingest"] = IngestStatus(ingester->Stats());
      if (sync_client) j["sync"] = SyncStatus(config.sync.transport.base_url, sync_client->Stats());
    }
    if (hub) j["hub"] = HubStatus(hub->Stats());
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    for (size_t i = 0; i < servers.size(); ++i) {
      net::ServerStats ns = servers[i]->stats();
      j["listeners"].push_back({{"port", servers[i]->port()}, {"connections_active", ns.connections_active},
                                {"requests", ns.requests}, {"bad_requests", ns.bad_requests},
                                {"tls_handshakes", ns.handshakes}, {"tls_handshake_failures", ns.handshake_failures},
                                {"timeouts", ns.timeouts}});
    }
    return j;
  };
  // Storage is usable while a reader connection answers a query: what
  // /health, the edgetable_storage_healthy gauge and the watchdog check.
  auto storage_healthy = [&]() { return store->ListTables(std::nullopt, 1).ok(); };
  // GET /metrics: the Prometheus text format (edge/app/metrics.h).
  std::vector<metrics::Listener> listener_names;  // GUARDED_BY(parts_mu), stats filled per scrape
  auto metrics_text = [&]() {
    metrics::NodeSnapshot snap;
    snap.version = std::string(kVersion);
    snap.uptime_ms = Clock::System()->NowMs() - started_ms;
    snap.storage_healthy = storage_healthy();
    snap.storage = store->Stats();
    std::optional<std::string> after;
    for (;;) {
      Result<storage::TableList> list = store->ListTables(after, limits::kListTablesLimitMax);
      if (!list.ok()) break;
      for (const std::string& name : list->names) {
        Result<storage::TableInfo> info = store->DescribeTable(name);
        if (info.ok()) snap.tables.push_back({name, info->item_count, info->item_bytes});
      }
      if (!list->last_evaluated_name) break;
      after = list->last_evaluated_name;
    }
    snap.api = dynamo.Stats();
    {
      std::lock_guard<std::mutex> parts_lock(parts_mu);
      if (ingester) snap.ingest = ingester->Stats();
      if (sync_client) snap.sync = sync_client->Stats();
      for (size_t i = 0; i < servers.size() && i < listener_names.size(); ++i) {
        snap.listeners.push_back(listener_names[i]);
        snap.listeners.back().stats = servers[i]->stats();
      }
    }
    if (hub) snap.hub = hub->Stats();
    return metrics::RenderNodeMetrics(snap);
  };
  auto add_status_routes = [&](net::Router& router) -> Status {
    ET_RETURN_IF_ERROR(router.Add("GET", "/status", [&](const net::Request&, net::Response& resp) {
      resp.SetHeader("Content-Type", "application/json");
      resp.body = status_json().dump(2);
    }));
    ET_RETURN_IF_ERROR(router.Add("GET", "/metrics", [&](const net::Request&, net::Response& resp) {
      resp.SetHeader("Content-Type", std::string(metrics::kContentType));
      resp.body = metrics_text();
    }));
    // For load balancers and probes: 503 while storage does not answer.
    return router.Add("GET", "/health", [&](const net::Request&, net::Response& resp) {
      resp.SetHeader("Content-Type", "text/plain");
      if (storage_healthy()) {
        resp.body = "ok\n";
      } else {
        resp.status = 503;
        resp.body = "storage unavailable\n";
      }
    });
  };

  // One server per listener; each gets its own copy of the routes.
  auto serve = [&](const ListenAddress& address, std::optional<net::TlsOptions> tls) -> Status {
    net::Router router;
    ET_RETURN_IF_ERROR(dynamo.Register(router));
    ET_RETURN_IF_ERROR(add_status_routes(router));
    if (hub) ET_RETURN_IF_ERROR(hub->Register(router));
    net::ServerOptions options;
    options.host = address.host;
    options.port = address.port;
    options.tls = std::move(tls);
    bool secure = options.tls.has_value();
    Result<std::unique_ptr<net::Server>> server = net::Server::Create(std::move(options), std::move(router));
    if (!server.ok()) return server.status().WithPrefix(secure ? "api.tls_listen" : "api.listen");
    ET_LOG_INFO("DynamoDB API on {}://{}:{}", secure ? "https" : "http", address.host, (*server)->port());
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    listener_names.push_back(
        {ListenAddress{address.host, static_cast<int32_t>((*server)->port())}.ToString(), secure, {}});
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

  if (hub && !config.api.listen.empty()) {
    for (const sync::PeerConfig& p : config.sync.hub.peers) {
      if (!p.token.empty()) {
        ET_LOG_WARN("sync: the hub also answers on plain HTTP (api.listen); a peer token sent there "
                    "travels in clear");
        break;
      }
    }
  }

  // --- MQTT ingest (edge/ingest): starts after storage and the API are up,
  // stops before them (see the shutdown below).
  if (config.ingest.enabled()) {
    ingest::Options ingest_options;
    ingest_options.mqtt = config.mqtt;
    ingest_options.clock = clock;
    ingest_options.dead_letter_table = config.ingest.dead_letter_table;
    for (size_t i = 0; i < config.ingest.rules.size(); ++i) {
      ET_ASSIGN_OR_RETURN(ingest::Rule rule, ingest::CompileRule(config.ingest.rules[i], static_cast<int>(i)));
      ingest_options.rules.push_back(std::move(rule));
    }
    ET_ASSIGN_OR_RETURN(std::unique_ptr<ingest::Ingest> started,
                        ingest::Ingest::Start(store.get(), std::move(ingest_options)));
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    ingester = std::move(started);
  }
  // --- end MQTT ingest

  // --- Sync, edge side: rounds run on the client's thread from here on.
  if (config.sync.has_upstream()) {
    Result<std::unique_ptr<sync::CurlTransport>> t = sync::CurlTransport::Create(config.sync.transport);
    if (!t.ok()) return t.status().WithPrefix("sync");
    transport = std::move(t).value();
    sync::ClientOptions client_options = config.sync.client;
    client_options.clock = clock;
    Result<std::unique_ptr<sync::Client>> c = sync::Client::Create(store.get(), transport.get(), std::move(client_options));
    if (!c.ok()) return c.status().WithPrefix("sync");
    if (!config.sync.transport.bearer_token.empty() && config.sync.transport.base_url.rfind("http://", 0) == 0) {
      ET_LOG_WARN("sync.token travels in clear to an http:// upstream");
    }
    (*c)->Start();
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    sync_client = std::move(c).value();
    ET_LOG_INFO("sync: upstream {}", config.sync.transport.base_url);
  }

  ET_LOG_INFO("edgetable serving: data in {}", config.node.data_dir);
  // --- systemd (edge/app/service.h): ready, then watchdog pings while
  // storage answers. Declared after storage: the thread stops first.
  std::string serving_status = "serving " + std::to_string(servers.size()) + " listener(s)";
  if (ingester) serving_status += ", MQTT ingest";
  if (sync_client) serving_status += ", sync to " + config.sync.transport.base_url;
  if (hub) serving_status += ", hub for " + std::to_string(config.sync.hub.peers.size()) + " peer(s)";
  ServiceNotifier notifier;
  notifier.Ready(serving_status);
  if (uint64_t usec = notifier.StartWatchdog(storage_healthy); usec > 0) {
    ET_LOG_INFO("systemd watchdog: {} ms, pinged every {} ms while storage answers", usec / 1000, usec / 2000);
  }

  // SIGHUP: re-read the config; apply what can change now, name the rest.
  // The file's keys as read at start: keys that need a restart keep their
  // start value here, so every later reload names them again.
  FlatConfig running_file;
  if (!serve_options.config_path.empty()) {
    Result<FlatConfig> flat = FlattenConfigFile(serve_options.config_path);
    if (flat.ok()) running_file = std::move(flat).value();
  }
  std::string log_level = config.node.log_level;
  auto reload = [&]() {
    notifier.Reloading();
    if (serve_options.config_path.empty() || !serve_options.reload) {
      ET_LOG_WARN("SIGHUP: started without --config, nothing to reload");
      notifier.Ready(serving_status);
      return;
    }
    Result<Config> fresh = serve_options.reload();
    Result<FlatConfig> fresh_file = FlatConfig{};
    if (fresh.ok()) fresh_file = FlattenConfigFile(serve_options.config_path);
    if (!fresh.ok() || !fresh_file.ok()) {
      ET_LOG_ERROR("SIGHUP: config not reloaded, the running configuration stays: {}",
                   (fresh.ok() ? fresh_file.status() : fresh.status()).message());
      notifier.Ready(serving_status);
      return;
    }
    ConfigChanges changes = DiffConfig(running_file, *fresh_file);
    if (fresh->node.log_level != log_level) {
      // Said at whichever of the two levels shows info lines.
      std::string line = "SIGHUP: node.log_level " + log_level + " -> " + fresh->node.log_level + " (applied)";
      bool shown_before = LevelRank(log_level) <= LevelRank("info");
      if (shown_before) ET_LOG_INFO("{}", line);
      if (!log::SetLevel(fresh->node.log_level)) {
        ET_LOG_ERROR("SIGHUP: unknown log level '{}'", fresh->node.log_level);
      } else {
        if (!shown_before) ET_LOG_INFO("{}", line);
        log_level = fresh->node.log_level;
      }
    } else if (!changes.reloadable.empty()) {
      ET_LOG_INFO("SIGHUP: node.log_level stays {} (the --log-level flag overrides the file)", log_level);
    }
    for (const std::string& key : changes.reloadable) {
      auto it = fresh_file->find(key);
      if (it == fresh_file->end()) {
        running_file.erase(key);
      } else {
        running_file[key] = it->second;
      }
    }
    for (const std::string& key : changes.needs_restart) {
      ET_LOG_WARN("SIGHUP: {} changed in {}: needs a restart (the running node keeps its start value)", key,
                  serve_options.config_path);
    }
    ET_LOG_INFO("SIGHUP: config reloaded from {}: {} key(s) applied, {} need a restart", serve_options.config_path,
                changes.reloadable.size(), changes.needs_restart.size());
    notifier.Ready(serving_status);
  };
  int sig = 0;
  for (;;) {
    sigwait(&stop_signals, &sig);
    if (sig != SIGHUP) break;
    reload();
  }
  ET_LOG_INFO("edgetable stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
  notifier.Stopping("stopping");
  notifier.StopWatchdog();
  // Sync first: a round in flight finishes or fails; nothing it does is
  // lost (the cursors move only after a commit), it is repeated next start.
  // Stop() outside the lock: status keeps answering meanwhile.
  if (sync_client) sync_client->Stop();
  {
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    sync_client.reset();
  }
  transport.reset();
  // --- MQTT ingest: then ingest; every message taken from the broker commits.
  if (ingester) ingester->Stop();
  {
    std::lock_guard<std::mutex> parts_lock(parts_mu);
    ingester.reset();
  }
  // --- end MQTT ingest
  // Listeners first (in-flight requests finish), then storage (queued writes commit).
  for (auto& server : servers) server->Shutdown(5000);
  servers.clear();
  hub.reset();
  store.reset();
  return Status::Ok();
}

}  // namespace edgetable::app
