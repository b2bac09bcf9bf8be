// sync_bench: replication edge -> hub over HTTPS on loopback, in one run.
//
// Prints one table of figures with their targets; asserts nothing (STYLE.md:
// performance is measured by benchmarks, never by timed tests). In one
// process:
//   hub     Storage + sync::Hub on a net::Server with TLS (client
//           certificates required, verified against a CA made here)
//   edge A  Storage + sync::CurlTransport (server certificate verified, a
//           client certificate "CN=edge-1") + sync::Client
//   edge C  a fresh Storage + CurlTransport ("CN=edge-2") + Client, and the
//           DynamoDB API (edge/api) on a plain-HTTP net::Server
// Phases:
//   1. load edge A with N telemetry items (ApplyAsync, pipelined; not timed),
//      then time Client::PushOnce until the hub acknowledged everything;
//   2. read edge A's change log again in the batch sizes the push used and
//      time Storage::ApplyRemote of each batch on a fresh hub database, next
//      to raw SQLite inserting the same items (items row + change-log row,
//      EdgeTable's schema and pragmas) in the same batches;
//   3. wire bytes per item (TransportStats::bytes_sent / N, zstd) next to
//      the item's DynamoDB JSON (item::ItemToJson(...).dump().size());
//   4. TLS handshakes (TransportStats::connections) per million items;
//   5. edge C pulls the hub's backlog of N changes (Client::PullOnce until
//      caught up) while a thread issues API PutItem calls at a fixed rate;
//      their p99 is compared with the p99 of the same load while idle.
// Also printed: where the push's time goes (time inside Transport::Post,
// CPU per thread group) and what edge A's first pull after the push costs
// (the hub's log holds only A's own changes, all filtered out).
//
// Certificates are made with the openssl command line, as tests/edge/net does.
//
// Flags (either "--flag N" or "--flag=N"):
//   --items N          telemetry items (default 1000000)
//   --devices N        partition keys "dev-000".. (default 100, at most 1000)
//   --idle-seconds S   length of the idle latency probe (default 5)
//   --put-rate R       API calls per second during the probes (default 200)
//   --batch-changes N  ClientOptions::batch_changes_max (default 5000)
//   --batch-bytes N    ClientOptions::batch_bytes_max (default 4194304)
//   --dir PATH         where the databases go (default: a fresh temp dir)
//   --skip-raw         skip phase 2 (saves a fresh database's worth of time)
//   --no-prepare-push  ClientOptions::prepare_next_push = false (no pipelining)
// Diagnostics for phase 5 (edge C only; defaults are the shipped ones):
//   --edge-wal-autocheckpoint N   storage::Options::wal_autocheckpoint_pages
//   --apply-chunk N               ClientOptions::apply_chunk_changes
//   --probe-op get                the probe calls GetItem (a read, never queued
//                                 behind the writer) instead of PutItem

#include <curl/curl.h>
#include <sqlite3.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "edge/api/api.h"
#include "edge/item/json.h"
#include "edge/item/key.h"
#include "edge/item/number.h"
#include "edge/net/server.h"
#include "edge/storage/storage.h"
#include "edge/wire/item_codec.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"
#include "sync/transport/transport.h"
#include "tests/edge/net/net_test_util.h"
#include "tests/support/temp_dir.h"

namespace edgetable::sync {
namespace {

using SteadyClock = std::chrono::steady_clock;

constexpr char kTable[] = "telemetry";
constexpr char kApiTable[] = "gw_writes";
constexpr int64_t kTs0 = 1'760'000'000'000;  // first reading's ts (epoch ms)

struct Flags {
  int64_t items = 1'000'000;
  int64_t devices = 100;
  double idle_seconds = 5;
  double put_rate = 200;
  int64_t batch_changes = sync::ClientOptions{}.batch_changes_max;
  int64_t batch_bytes = sync::ClientOptions{}.batch_bytes_max;
  bool no_prepare_push = false;
  std::string dir;
  bool skip_raw = false;
  int64_t edge_wal_autocheckpoint = 0;  // 0: the default
  int64_t apply_chunk = 0;              // 0: the default
  bool probe_get = false;
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "sync_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const std::string& what) {
  if (!r.ok()) Die(what + ": " + r.status().ToString());
  return std::move(r).value();
}

void MustOk(const Status& s, const std::string& what) {
  if (!s.ok()) Die(what + ": " + s.ToString());
}

double Seconds(SteadyClock::time_point a, SteadyClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// --- the machine and its threads --------------------------------------------

std::string LoadAverage() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (f == nullptr) return "?";
  double a = 0, b = 0, c = 0;
  const int n = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  if (n != 3) return "?";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.2f %.2f %.2f", a, b, c);
  return buf;
}

int64_t PeakRssMb() {
  std::FILE* f = std::fopen("/proc/self/status", "r");
  if (f == nullptr) return 0;
  char line[256];
  int64_t kb = 0;
  while (std::fgets(line, sizeof line, f) != nullptr) {
    if (std::strncmp(line, "VmHWM:", 6) == 0) kb = std::strtoll(line + 6, nullptr, 10);
  }
  std::fclose(f);
  return kb / 1024;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double ThisThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

std::string ThreadName(int tid) {
  std::FILE* f = std::fopen(("/proc/self/task/" + std::to_string(tid) + "/comm").c_str(), "r");
  if (f == nullptr) return "";
  char comm[64] = {0};
  const bool got = std::fgets(comm, sizeof comm, f) != nullptr;
  std::fclose(f);
  std::string s = got ? comm : "";
  while (!s.empty() && s.back() == '\n') s.pop_back();
  return s;
}

std::set<int> ThreadIds() {
  std::set<int> out;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return out;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] != '.') out.insert(std::atoi(e->d_name));
  }
  closedir(d);
  return out;
}

std::set<int> NewThreads(const std::set<int>& before, const char* name = nullptr) {
  std::set<int> out;
  // A thread names itself once it runs: wait a little for it.
  for (int tries = 0; tries < 100; ++tries) {
    for (int tid : ThreadIds()) {
      if (before.count(tid) == 0 && (name == nullptr || ThreadName(tid) == name)) out.insert(tid);
    }
    if (!out.empty() || name == nullptr) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return out;
}

// CPU seconds used so far by these threads (utime + stime; clock ticks).
double ThreadsCpuSeconds(const std::set<int>& tids) {
  double total = 0;
  for (int tid : tids) {
    std::FILE* f = std::fopen(("/proc/self/task/" + std::to_string(tid) + "/stat").c_str(), "r");
    if (f == nullptr) continue;
    char buf[1024] = {0};
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) continue;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2) {
      total += static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  return total;
}

// CPU of the process split by the thread groups of one phase.
struct CpuGroups {
  std::vector<std::pair<std::string, std::set<int>>> groups;  // name -> tids
  std::vector<double> start;
  double main0 = 0, process0 = 0;
  std::vector<double> used;
  double main = 0, process = 0;

  void Start() {
    start.clear();
    for (const auto& g : groups) start.push_back(ThreadsCpuSeconds(g.second));
    main0 = ThisThreadCpuSeconds();
    process0 = ProcessCpuSeconds();
  }
  void Stop() {
    used.clear();
    for (size_t i = 0; i < groups.size(); ++i) used.push_back(ThreadsCpuSeconds(groups[i].second) - start[i]);
    main = ThisThreadCpuSeconds() - main0;
    process = ProcessCpuSeconds() - process0;
  }
};

// --- the data ---------------------------------------------------------------

uint64_t Mix(uint64_t x) {  // splitmix64: cheap deterministic "sensor noise"
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

item::Value Num(const std::string& text) { return item::Value::N(Must(item::Number::Parse(text), "number " + text)); }

item::KeySchema TelemetrySchema() {
  item::KeySchema k;
  k.partition = {"device", item::Type::kS};
  k.sort = item::KeyAttribute{"ts", item::Type::kN};
  return k;
}

// Reading i: device i % devices, one reading a second per device, and the
// fields examples/sensor_sim.py sends (temp, hum, state) plus battery, rssi
// and firmware, as a gateway's telemetry typically carries.
item::Item Telemetry(int64_t i, int64_t devices) {
  const uint64_t h = Mix(static_cast<uint64_t>(i));
  char device[32];
  std::snprintf(device, sizeof device, "dev-%03" PRId64, i % devices);
  char temp[16], battery[16];
  std::snprintf(temp, sizeof temp, "%d.%03d", 20 + static_cast<int>(h % 5), static_cast<int>((h >> 8) % 1000));
  std::snprintf(battery, sizeof battery, "3.%02d", 50 + static_cast<int>((h >> 20) % 50));
  item::Item it;
  it["device"] = item::Value::S(device);
  it["ts"] = item::Value::N(item::Number::FromInt(kTs0 + (i / devices) * 1000));
  it["temp"] = Num(temp);
  it["hum"] = item::Value::N(item::Number::FromInt(30 + static_cast<int64_t>((h >> 32) % 40)));
  it["state"] = item::Value::S((h >> 40) % 50 == 0 ? "warn" : "ok");
  it["battery"] = Num(battery);
  it["rssi"] = item::Value::N(item::Number::FromInt(-40 - static_cast<int64_t>((h >> 48) % 60)));
  it["fw"] = item::Value::S("1.4.2");
  return it;
}

// --- a Transport that times Post() -------------------------------------------

class TimedTransport final : public Transport {
 public:
  explicit TimedTransport(Transport* inner) : inner_(inner) {}
  Result<HttpReply> Post(std::string_view path, std::string_view body) override {
    const auto t0 = SteadyClock::now();
    Result<HttpReply> r = inner_->Post(path, body);
    post_seconds_ += Seconds(t0, SteadyClock::now());
    ++posts_;
    return r;
  }
  TransportStats Stats() const override { return inner_->Stats(); }
  double post_seconds() const { return post_seconds_; }
  int64_t posts() const { return posts_; }

 private:
  Transport* inner_;
  double post_seconds_ = 0;
  int64_t posts_ = 0;
};

// --- raw SQLite: the same rows in the same batches --------------------------

// EdgeTable's items and changes tables (edge/storage/storage.cc), its writer
// pragmas and default cache, written with plain prepared statements: what
// the apply would cost with no engine around it (no version lookup, no
// savepoints, no catalog counters, no conflict check).
class RawSqlite {
 public:
  explicit RawSqlite(const std::string& path) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      Die("raw open " + path);
    }
    storage::Options defaults;
    Exec("PRAGMA auto_vacuum=INCREMENTAL");
    Exec("PRAGMA journal_mode=WAL");
    Exec("PRAGMA synchronous=NORMAL");
    Exec("PRAGMA cache_size=-" + std::to_string(defaults.writer_cache_bytes / 1024));
    Exec("PRAGMA wal_autocheckpoint=" + std::to_string(defaults.wal_autocheckpoint_pages));
    Exec("PRAGMA journal_size_limit=67108864");
    Exec("CREATE TABLE items(table_id INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, seg INTEGER NOT NULL,"
         " hlc_ms INTEGER NOT NULL, counter INTEGER NOT NULL, replica INTEGER NOT NULL, expires_s INTEGER,"
         " deleted INTEGER NOT NULL, item BLOB, seq INTEGER, prev_hlc_ms INTEGER NOT NULL DEFAULT 0,"
         " prev_counter INTEGER NOT NULL DEFAULT 0, prev_replica INTEGER NOT NULL DEFAULT 0,"
         " PRIMARY KEY(table_id, pk, sk)) WITHOUT ROWID");
    Exec("CREATE TABLE changes(seq INTEGER PRIMARY KEY, txn_id INTEGER NOT NULL, table_id INTEGER NOT NULL,"
         " pk BLOB NOT NULL, sk BLOB NOT NULL, op INTEGER NOT NULL, old_image BLOB, new_image BLOB,"
         " hlc_ms INTEGER NOT NULL, counter INTEGER NOT NULL, replica INTEGER NOT NULL, origin INTEGER NOT NULL,"
         " ttl_delete INTEGER NOT NULL, prev_hlc_ms INTEGER NOT NULL DEFAULT 0,"
         " prev_counter INTEGER NOT NULL DEFAULT 0, prev_replica INTEGER NOT NULL DEFAULT 0,"
         " source INTEGER NOT NULL DEFAULT 0)");
    Exec("CREATE INDEX items_by_expiry ON items(expires_s) WHERE expires_s IS NOT NULL");
    item_ = Prepare(
        "INSERT OR REPLACE INTO items VALUES(1, ?1, ?2, ?3, ?4, ?5, ?6, NULL, 0, ?7, ?8, ?9, ?10, ?11)");
    log_ = Prepare(
        "INSERT INTO changes VALUES(?1, ?2, 1, ?3, ?4, 1, NULL, ?5, ?6, ?7, ?8, ?9, 0, ?10, ?11, ?12, ?13)");
  }
  ~RawSqlite() {
    sqlite3_finalize(item_);
    sqlite3_finalize(log_);
    sqlite3_close_v2(db_);
  }

  // One transaction: per change, encode its key and item (as the engine
  // must) and insert the item row and its change-log row.
  void ApplyBatch(const std::vector<storage::RemoteChange>& changes, uint64_t source) {
    Exec("BEGIN IMMEDIATE");
    const int64_t txn = seq_ + 1;
    for (const storage::RemoteChange& c : changes) {
      const std::string pk = Must(item::EncodeKeyValue(c.key.at("device")), "raw key");
      const std::string sk = Must(item::EncodeKeyValue(c.key.at("ts")), "raw key");
      const std::string bytes = wire::EncodeItem(*c.new_item);
      const int64_t seq = ++seq_;
      const int64_t seg = static_cast<int64_t>(Mix(std::hash<std::string>{}(pk)) & 0xffff);
      const uint64_t origin = c.origin_replica != 0 ? c.origin_replica : c.version.replica;
      sqlite3_bind_blob(item_, 1, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
      sqlite3_bind_blob(item_, 2, sk.data(), static_cast<int>(sk.size()), SQLITE_STATIC);
      sqlite3_bind_int64(item_, 3, seg);
      sqlite3_bind_int64(item_, 4, c.version.hlc_ms);
      sqlite3_bind_int64(item_, 5, c.version.counter);
      sqlite3_bind_int64(item_, 6, static_cast<int64_t>(c.version.replica));
      sqlite3_bind_blob(item_, 7, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
      sqlite3_bind_int64(item_, 8, seq);
      sqlite3_bind_int64(item_, 9, c.prev_version.hlc_ms);
      sqlite3_bind_int64(item_, 10, c.prev_version.counter);
      sqlite3_bind_int64(item_, 11, static_cast<int64_t>(c.prev_version.replica));
      if (sqlite3_step(item_) != SQLITE_DONE) Die(std::string("raw item insert: ") + sqlite3_errmsg(db_));
      sqlite3_reset(item_);
      sqlite3_bind_int64(log_, 1, seq);
      sqlite3_bind_int64(log_, 2, txn);
      sqlite3_bind_blob(log_, 3, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
      sqlite3_bind_blob(log_, 4, sk.data(), static_cast<int>(sk.size()), SQLITE_STATIC);
      sqlite3_bind_blob(log_, 5, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
      sqlite3_bind_int64(log_, 6, c.version.hlc_ms);
      sqlite3_bind_int64(log_, 7, c.version.counter);
      sqlite3_bind_int64(log_, 8, static_cast<int64_t>(c.version.replica));
      sqlite3_bind_int64(log_, 9, static_cast<int64_t>(origin));
      sqlite3_bind_int64(log_, 10, c.prev_version.hlc_ms);
      sqlite3_bind_int64(log_, 11, c.prev_version.counter);
      sqlite3_bind_int64(log_, 12, static_cast<int64_t>(c.prev_version.replica));
      sqlite3_bind_int64(log_, 13, static_cast<int64_t>(source));
      if (sqlite3_step(log_) != SQLITE_DONE) Die(std::string("raw log insert: ") + sqlite3_errmsg(db_));
      sqlite3_reset(log_);
    }
    Exec("COMMIT");
  }

 private:
  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
      Die("raw " + sql + ": " + (err != nullptr ? err : "?"));
    }
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) {
      Die(std::string("raw prepare: ") + sqlite3_errmsg(db_));
    }
    return s;
  }

  sqlite3* db_ = nullptr;
  sqlite3_stmt* item_ = nullptr;
  sqlite3_stmt* log_ = nullptr;
  int64_t seq_ = 0;
};

// A change record of edge A -> the change the hub hands to ApplyRemote
// (what the hub's batch decoding produces).
storage::RemoteChange ToRemote(const storage::ChangeRecord& r) {
  storage::RemoteChange c;
  c.table = r.table;
  c.key = item::Map{{"device", Must(item::DecodeKeyValue(r.partition_key, item::Type::kS), "pk")},
                    {"ts", Must(item::DecodeKeyValue(r.sort_key, item::Type::kN), "sk")}};
  if (r.new_image) c.new_item = Must(wire::DecodeItem(*r.new_image), "image");
  c.version = r.version;
  c.origin_replica = r.origin_replica;
  c.ttl_delete = r.ttl_delete;
  c.prev_version = r.prev_version;
  return c;
}

// --- the API write probe ----------------------------------------------------

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

// PutItem (or GetItem) calls of small items at a fixed rate over one kept-alive
// connection; each call's latency (request to answer) is recorded.
class ApiProbe {
 public:
  ApiProbe(int port, double rate, bool get) : period_(1.0 / rate), get_(get) {
    url_ = "http://127.0.0.1:" + std::to_string(port) + "/";
    curl_ = curl_easy_init();
    headers_ = curl_slist_append(headers_, "Content-Type: application/x-amz-json-1.0");
    headers_ = curl_slist_append(headers_, get ? "X-Amz-Target: DynamoDB_20120810.GetItem"
                                               : "X-Amz-Target: DynamoDB_20120810.PutItem");
    headers_ = curl_slist_append(headers_, "Expect:");
    curl_easy_setopt(curl_, CURLOPT_URL, url_.c_str());
    curl_easy_setopt(curl_, CURLOPT_POST, 1L);
    curl_easy_setopt(curl_, CURLOPT_HTTPHEADER, headers_);
    curl_easy_setopt(curl_, CURLOPT_WRITEFUNCTION, Discard);
    curl_easy_setopt(curl_, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(curl_, CURLOPT_TIMEOUT_MS, 30'000L);
    curl_easy_setopt(curl_, CURLOPT_NOSIGNAL, 1L);
  }
  ~ApiProbe() {
    Stop();
    curl_slist_free_all(headers_);
    curl_easy_cleanup(curl_);
  }

  void Start() {
    latencies_ms_.clear();
    errors_ = 0;
    stop_ = false;
    thread_ = std::thread([this] { Run(); });
  }
  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  const std::vector<double>& latencies_ms() const { return latencies_ms_; }
  int64_t errors() const { return errors_; }

 private:
  void Run() {
    auto next = SteadyClock::now();
    const auto period = std::chrono::duration_cast<SteadyClock::duration>(std::chrono::duration<double>(period_));
    while (!stop_) {
      std::this_thread::sleep_until(next);
      next += period;
      // A call that ran past its slot does not make the next ones burst.
      if (next < SteadyClock::now()) next = SteadyClock::now();
      const int64_t k = key_++;
      const std::string body = get_ ? "{\"TableName\":\"" + std::string(kApiTable) +
                                          "\",\"Key\":{\"id\":{\"S\":\"k-" + std::to_string(k % 100) + "\"}}}" : "{\"TableName\":\"" + std::string(kApiTable) + "\",\"Item\":{\"id\":{\"S\":\"k-" +
                               std::to_string(k) + "\"},\"v\":{\"N\":\"" + std::to_string(k % 997) +
                               "\"},\"note\":{\"S\":\"probe\"}}}";
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDS, body.c_str());
      curl_easy_setopt(curl_, CURLOPT_POSTFIELDSIZE, static_cast<long>(body.size()));
      const auto t0 = SteadyClock::now();
      const CURLcode rc = curl_easy_perform(curl_);
      const double ms = Seconds(t0, SteadyClock::now()) * 1e3;
      long status = 0;
      curl_easy_getinfo(curl_, CURLINFO_RESPONSE_CODE, &status);
      if (rc != CURLE_OK || status != 200) {
        ++errors_;
      } else {
        latencies_ms_.push_back(ms);
      }
    }
  }

  double period_;
  bool get_;
  std::string url_;
  CURL* curl_ = nullptr;
  curl_slist* headers_ = nullptr;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::vector<double> latencies_ms_;
  int64_t errors_ = 0;
  int64_t key_ = 0;
};

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size() - 1) + 0.5));
  return v[i];
}

// --- output -----------------------------------------------------------------

struct Line {
  std::string figure;
  std::string value;
  std::string target;
  std::string met;  // "yes", "NO", or "" for figures without a target
  std::string note;
};

// One printf conversion of v; fmt is always a literal at the call site.
std::string Fmt(const char* fmt, double v) {
  char buf[64];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
  std::snprintf(buf, sizeof buf, fmt, v);
#pragma GCC diagnostic pop
  return buf;
}

std::string Grouped(double v) {  // 1234567 -> "1,234,567"
  const std::string digits = std::to_string(static_cast<int64_t>(v + 0.5));
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

// --- the run ----------------------------------------------------------------

storage::Options StorageOptions(const std::string& path, bool hub) {
  storage::Options o;
  o.path = path;
  o.no_upstream = hub;  // a hub has no upstream: its log is trimmed by retention alone
  return o;
}

void Run(const Flags& f) {
  const std::string load_start = LoadAverage();
  const auto run0 = SteadyClock::now();
  curl_global_init(CURL_GLOBAL_DEFAULT);

  std::unique_ptr<edgetable::testing::TempDir> tmp;
  std::string dir = f.dir;
  if (dir.empty()) {
    tmp = std::make_unique<edgetable::testing::TempDir>();
    dir = tmp->path();
  }

  // Certificates: a CA, the hub's server certificate (SAN IP:127.0.0.1,
  // localhost) and one client certificate per edge.
  namespace nt = edgetable::net::testing;
  const nt::CertFiles ca = nt::MakeCa(dir, "ca", "EdgeTable Bench CA");
  const nt::CertFiles hub_cert = nt::MakeLeaf(dir, "hub", "hub", ca, /*server=*/true);
  const nt::CertFiles edge1_cert = nt::MakeLeaf(dir, "edge-1", "edge-1", ca, /*server=*/false);
  const nt::CertFiles edge2_cert = nt::MakeLeaf(dir, "edge-2", "edge-2", ca, /*server=*/false);
  // The subject as edge/net reports a verified client certificate.
  auto subject = [](const std::string& cn) { return "CN=" + cn + ", O=EdgeTable Tests"; };

  // --- the hub
  std::set<int> before = ThreadIds();
  auto hub_storage = Must(storage::Storage::Open(StorageOptions(dir + "/hub.db", true)), "open hub");
  const std::set<int> hub_writer = NewThreads(before, "et-writer");
  HubOptions hub_options;
  hub_options.peers = {PeerConfig{"edge-1", "", subject("edge-1"), {}},
                       PeerConfig{"edge-2", "", subject("edge-2"), {}}};
  auto hub = Must(Hub::Create(hub_storage.get(), hub_options), "hub");
  net::Router hub_router;
  MustOk(hub->Register(hub_router), "hub routes");
  net::ServerOptions hub_server_options;
  hub_server_options.tls = net::TlsOptions{hub_cert.cert, hub_cert.key, ca.cert, net::ClientCertMode::kRequired};
  before = ThreadIds();
  auto hub_server = Must(net::Server::Create(hub_server_options, std::move(hub_router)), "hub server");
  const std::set<int> hub_net = NewThreads(before);
  const std::string hub_url = "https://localhost:" + std::to_string(hub_server->port());

  // --- edge A: load N items (not timed)
  before = ThreadIds();
  auto edge = Must(storage::Storage::Open(StorageOptions(dir + "/edge-a.db", false)), "open edge A");
  const std::set<int> edge_writer = NewThreads(before, "et-writer");
  Must(edge->CreateTable(kTable, TelemetrySchema()), "create table");
  double json_bytes = 0, encoded_bytes = 0;
  const auto load0 = SteadyClock::now();
  {
    std::mutex mu;
    std::condition_variable cv;
    int64_t in_flight = 0, failures = 0;
    for (int64_t i = 0; i < f.items; ++i) {
      item::Item it = Telemetry(i, f.devices);
      json_bytes += static_cast<double>(item::ItemToJson(it).dump().size());
      if (i % 64 == 0) encoded_bytes += 64.0 * static_cast<double>(wire::EncodeItem(it).size());
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return in_flight < 2000; });
        ++in_flight;
      }
      item::Map key = item::KeyOf(it, TelemetrySchema());
      storage::Write w{kTable, std::move(key),
                       [it = std::move(it)](const item::Item*) mutable -> Result<storage::Decision> {
                         return storage::Decision::Put(std::move(it));
                       },
                       false};
      MustOk(edge->ApplyAsync(std::move(w),
                              [&](Result<storage::WriteOutcome> r) {
                                std::lock_guard<std::mutex> lock(mu);
                                if (!r.ok()) ++failures;
                                if (--in_flight == 1000 || in_flight == 0) cv.notify_one();
                              }),
             "load");
    }
    std::unique_lock<std::mutex> lock(mu);
    cv.wait(lock, [&] { return in_flight == 0; });
    if (failures != 0) Die("load: " + std::to_string(failures) + " writes failed");
  }
  const double load_s = Seconds(load0, SteadyClock::now());
  json_bytes /= static_cast<double>(f.items);
  encoded_bytes /= static_cast<double>((f.items + 63) / 64 * 64);
  const int64_t edge_last_seq = edge->Stats().last_seq;

  // --- 1. push edge A -> hub
  CurlTransportOptions t1;
  t1.base_url = hub_url;
  t1.ca_file = ca.cert;
  t1.client_cert_file = edge1_cert.cert;
  t1.client_key_file = edge1_cert.key;
  auto curl1 = Must(CurlTransport::Create(t1), "transport A");
  TimedTransport timed1(curl1.get());
  ClientOptions client_options;
  client_options.batch_changes_max = static_cast<int>(f.batch_changes);
  client_options.batch_bytes_max = f.batch_bytes;
  client_options.prepare_next_push = !f.no_prepare_push;
  auto client = Must(Client::Create(edge.get(), &timed1, client_options), "client A");

  CpuGroups push_cpu;
  push_cpu.groups = {{"hub net (TLS, HTTP, decode, checks)", hub_net},
                     {"hub writer (apply, commit)", hub_writer},
                     {"edge A writer (ack cursor)", edge_writer}};
  push_cpu.Start();
  const auto push0 = SteadyClock::now();
  int64_t push_calls = 0;
  for (bool more = true; more;) {
    MustOk(client->PushOnce(&more), "push");
    ++push_calls;
  }
  const double push_s = Seconds(push0, SteadyClock::now());
  push_cpu.Stop();
  const double push_post_s = timed1.post_seconds();
  const ClientStats push_stats = client->Stats();
  const TransportStats push_transport = curl1->Stats();
  const HubStats hub_after_push = hub->Stats();
  if (edge->UpstreamAckedSeq() != edge_last_seq) {
    Die("push: acknowledged through " + std::to_string(edge->UpstreamAckedSeq()) + ", log ends at " +
        std::to_string(edge_last_seq));
  }
  const int64_t hub_items = Must(hub_storage->DescribeTable(kTable), "hub table").item_count;
  if (hub_items != f.items) Die("push: the hub holds " + std::to_string(hub_items) + " items");
  const double batch_avg = push_stats.push_batches > 0 ? static_cast<double>(push_stats.changes_pushed) /
                                                             static_cast<double>(push_stats.push_batches)
                                                       : 0;

  // Edge A's pull round after its push: the hub's log holds only A's own
  // changes, which the hub filters out (never echoed back).
  const int64_t posts_before_echo = timed1.posts();
  const auto echo0 = SteadyClock::now();
  for (bool more = true; more;) MustOk(client->PullOnce(&more), "pull after push");
  const double echo_s = Seconds(echo0, SteadyClock::now());
  const int64_t echo_posts = timed1.posts() - posts_before_echo;
  client.reset();

  // --- 2. ApplyRemote on a fresh hub database vs raw SQLite, same batches
  double apply_s = 0, raw_s = 0, apply_cpu = 0, raw_cpu = 0;
  int64_t applied = 0;
  if (!f.skip_raw) {
    auto fresh = Must(storage::Storage::Open(StorageOptions(dir + "/hub-direct.db", true)), "open fresh hub");
    Must(fresh->CreateTable(kTable, TelemetrySchema()), "create table");
    Must(fresh->CreateTable(std::string(kConflictsTable), storage::ConflictsTableSchema()), "conflicts table");
    RawSqlite raw(dir + "/raw.db");
    storage::ApplyRemoteOptions apply_options;
    apply_options.source_replica = edge->replica_id();
    apply_options.conflicts_table = std::string(kConflictsTable);
    const int batch = std::max(1, static_cast<int>(batch_avg + 0.5));
    int64_t after = 0;
    for (;;) {
      std::vector<storage::ChangeRecord> records = Must(edge->ReadChanges(after, batch), "read changes");
      if (records.empty()) break;
      after = records.back().seq;
      std::vector<storage::RemoteChange> changes;
      changes.reserve(records.size());
      for (const storage::ChangeRecord& r : records) {
        if (r.table == kTable) changes.push_back(ToRemote(r));
      }
      records.clear();
      records.shrink_to_fit();
      // Interleaved batch by batch, so that the machine's noise falls on both.
      const auto r0 = SteadyClock::now();
      const double rc0 = ProcessCpuSeconds();
      raw.ApplyBatch(changes, apply_options.source_replica);
      raw_s += Seconds(r0, SteadyClock::now());
      raw_cpu += ProcessCpuSeconds() - rc0;
      const int64_t n = static_cast<int64_t>(changes.size());
      const auto a0 = SteadyClock::now();
      const double ac0 = ProcessCpuSeconds();
      storage::RemoteOutcome out = Must(fresh->ApplyRemote(std::move(changes), apply_options), "apply remote");
      apply_s += Seconds(a0, SteadyClock::now());
      apply_cpu += ProcessCpuSeconds() - ac0;
      applied += static_cast<int64_t>(std::count(out.applied.begin(), out.applied.end(), true));
      if (static_cast<int64_t>(out.applied.size()) != n) Die("apply remote: outcome size");
    }
    if (applied != f.items) Die("apply remote: applied " + std::to_string(applied));
  }

  // --- 5. catch-up: a fresh edge C pulls the hub's backlog while the API
  // answers PutItem at a steady rate.
  before = ThreadIds();
  storage::Options edge_c_options = StorageOptions(dir + "/edge-c.db", false);
  if (f.edge_wal_autocheckpoint > 0) edge_c_options.wal_autocheckpoint_pages = static_cast<int>(f.edge_wal_autocheckpoint);
  auto edge_c = Must(storage::Storage::Open(edge_c_options), "open edge C");
  const std::set<int> edge_c_writer = NewThreads(before, "et-writer");
  item::KeySchema api_schema;
  api_schema.partition = {"id", item::Type::kS};
  Must(edge_c->CreateTable(kApiTable, api_schema), "create api table");
  api::Api api(edge_c.get(), api::ApiOptions{});
  net::Router api_router;
  MustOk(api.Register(api_router), "api routes");
  net::ServerOptions api_server_options;
  api_server_options.worker_threads = 4;
  auto api_server = Must(net::Server::Create(api_server_options, std::move(api_router)), "api server");
  ApiProbe probe(api_server->port(), f.put_rate, f.probe_get);

  probe.Start();
  std::this_thread::sleep_for(std::chrono::duration<double>(f.idle_seconds));
  probe.Stop();
  const std::vector<double> idle_ms = probe.latencies_ms();
  const int64_t idle_errors = probe.errors();

  CurlTransportOptions t2 = t1;
  t2.client_cert_file = edge2_cert.cert;
  t2.client_key_file = edge2_cert.key;
  auto curl2 = Must(CurlTransport::Create(t2), "transport C");
  TimedTransport timed2(curl2.get());
  ClientOptions client_c_options;
  if (f.apply_chunk > 0) client_c_options.apply_chunk_changes = static_cast<int>(f.apply_chunk);
  auto client_c = Must(Client::Create(edge_c.get(), &timed2, client_c_options), "client C");
  CpuGroups pull_cpu;
  pull_cpu.groups = {{"hub net (TLS, HTTP, read log, encode)", hub_net}, {"edge C writer (apply)", edge_c_writer}};
  probe.Start();
  pull_cpu.Start();
  const auto pull0 = SteadyClock::now();
  for (bool more = true; more;) MustOk(client_c->PullOnce(&more), "catch-up pull");
  const double pull_s = Seconds(pull0, SteadyClock::now());
  pull_cpu.Stop();
  probe.Stop();
  const std::vector<double> busy_ms = probe.latencies_ms();
  const int64_t busy_errors = probe.errors();
  const ClientStats pull_stats = client_c->Stats();
  const TransportStats pull_transport = curl2->Stats();
  const double pull_post_s = timed2.post_seconds();
  const int64_t c_items = Must(edge_c->DescribeTable(kTable), "edge C table").item_count;
  if (c_items != f.items) Die("catch-up: edge C holds " + std::to_string(c_items) + " items");
  const net::ServerStats hub_net_stats = hub_server->stats();
  // The transactions of the hub's log (a pull applies them whole): counted
  // over its first records.
  int64_t hub_txns = 0, hub_txn_max = 0, hub_records = 0;
  {
    std::vector<storage::ChangeRecord> head = Must(hub_storage->ReadChanges(0, 20'000), "hub log");
    int64_t run = 0;
    for (size_t i = 0; i < head.size(); ++i) {
      if (head[i].table != kTable) continue;
      ++hub_records;
      if (i == 0 || head[i].txn_id != head[i - 1].txn_id) {
        ++hub_txns;
        run = 0;
      }
      hub_txn_max = std::max(hub_txn_max, ++run);
    }
  }
  client_c.reset();

  // --- the table
  const double n = static_cast<double>(f.items);
  const double push_rate = n / push_s;
  const double apply_rate = applied > 0 ? static_cast<double>(applied) / apply_s : 0;
  const double raw_rate = applied > 0 ? static_cast<double>(applied) / raw_s : 0;
  const double wire_per_item = static_cast<double>(push_transport.bytes_sent) / n;
  const double wire_raw_per_item = static_cast<double>(push_transport.bytes_sent_raw) / n;
  const double handshakes_per_m = static_cast<double>(push_transport.connections) * 1e6 / n;
  const double idle_p99 = Percentile(idle_ms, 0.99);
  const double busy_p99 = Percentile(busy_ms, 0.99);
  const auto yes = [](bool b) { return std::string(b ? "yes" : "NO"); };

  std::vector<Line> lines;
  lines.push_back({"push edge->hub, HTTPS (items/s)", Grouped(push_rate), ">= 50,000", yes(push_rate >= 50'000),
                   Fmt("%.2f s, ", push_s) + std::to_string(push_stats.push_batches) + " batches of ~" +
                       Grouped(batch_avg) + Fmt(", %.1f us CPU/item", push_cpu.process * 1e6 / n) + ", " +
                       std::to_string(push_stats.push_prepared_used) + " prepared during the previous round trip"});
  if (applied > 0) {
    lines.push_back({"hub ApplyRemote, direct (items/s)", Grouped(apply_rate), "", "",
                     "fresh hub db, the push's batches" +
                         Fmt(", %.1f us CPU/item", apply_cpu * 1e6 / static_cast<double>(applied))});
    lines.push_back({"raw SQLite, same batches (items/s)", Grouped(raw_rate), "", "",
                     "items row + change-log row per item" +
                         Fmt(", %.1f us CPU/item", raw_cpu * 1e6 / static_cast<double>(applied))});
    lines.push_back({"  ApplyRemote / raw", Fmt("%.0f%%", 100.0 * apply_rate / raw_rate), ">= 50%",
                     yes(apply_rate >= 0.5 * raw_rate),
                     Fmt("by CPU per item: %.0f%%", 100.0 * raw_cpu / std::max(apply_cpu, 1e-9))});
  }
  lines.push_back({"wire bytes per item (zstd)", Fmt("%.1f", wire_per_item), "", "",
                   Fmt("%.1f before zstd", wire_raw_per_item)});
  lines.push_back({"DynamoDB JSON bytes per item", Fmt("%.1f", json_bytes), "", "",
                   Fmt("stored encoding %.1f", encoded_bytes)});
  lines.push_back({"  wire / JSON", Fmt("%.3fx", wire_per_item / json_bytes), "<= 0.5x",
                   yes(wire_per_item <= 0.5 * json_bytes), ""});
  lines.push_back({"TLS handshakes per 1M items (push)", Fmt("%.2f", handshakes_per_m), "1 in the run",
                   yes(push_transport.connections == 1),
                   std::to_string(push_transport.connections) + " for " + Grouped(n) + " items, " +
                       std::to_string(push_transport.requests) + " requests"});
  lines.push_back({"catch-up pull by a fresh edge (changes/s)", Grouped(n / pull_s), "", "",
                   Fmt("%.2f s for ", pull_s) + Grouped(n) + " changes, " +
                       std::to_string(pull_stats.pull_batches) + " batches, " +
                       std::to_string(pull_transport.connections) + " handshake(s)"});
  const std::string probe_op = f.probe_get ? "GetItem" : "PutItem";
  lines.push_back({"API " + probe_op + " p99, idle (ms)", Fmt("%.2f", idle_p99), "", "",
                   Grouped(static_cast<double>(idle_ms.size())) + Fmt(" calls at %.0f/s", f.put_rate) +
                       Fmt(", p50 %.2f", Percentile(idle_ms, 0.5)) +
                       (idle_errors > 0 ? ", " + std::to_string(idle_errors) + " errors" : "")});
  lines.push_back({"API " + probe_op + " p99, during catch-up (ms)", Fmt("%.2f", busy_p99), "<= 2x idle",
                   yes(busy_p99 <= 2 * idle_p99),
                   Grouped(static_cast<double>(busy_ms.size())) + " calls" +
                       Fmt(", p50 %.2f", Percentile(busy_ms, 0.5)) + Fmt(", max %.1f", Percentile(busy_ms, 1.0)) +
                       Fmt(", %.1fx idle", idle_p99 > 0 ? busy_p99 / idle_p99 : 0) +
                       Fmt(", %.0f calls > 10 ms", static_cast<double>(std::count_if(
                                                        busy_ms.begin(), busy_ms.end(), [](double v) { return v > 10; }))) +
                       (busy_errors > 0 ? ", " + std::to_string(busy_errors) + " errors" : "")});

  std::printf("sync_bench: %s items over %" PRId64 " devices; %d cores; load average %s at start, %s at end\n",
              Grouped(n).c_str(), f.devices, static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN)), load_start.c_str(),
              LoadAverage().c_str());
  std::printf("edge -> hub over HTTPS on loopback (libcurl -> mbedTLS, client certificates, verification on); "
              "SQLite %s, synchronous=NORMAL\n\n",
              sqlite3_libversion());
  std::printf("%-42s %12s  %-13s %-4s %s\n", "figure", "value", "target", "met", "note");
  for (const Line& l : lines) {
    std::printf("%-42s %12s  %-13s %-4s %s\n", l.figure.c_str(), l.value.c_str(), l.target.c_str(), l.met.c_str(),
                l.note.c_str());
  }
  std::printf("(latency probe: API %s over HTTP on edge C, one kept-alive libcurl client; "
              "per-call latency; edge C wal_autocheckpoint_pages %d, apply_chunk_changes %d)\n\n",
              probe_op.c_str(), edge_c_options.wal_autocheckpoint_pages, client_c_options.apply_chunk_changes);

  std::printf("push, where the time goes (%.2f s wall, %s Post calls):\n", push_s,
              std::to_string(push_calls).c_str());
  std::printf("  inside Transport::Post (TLS, HTTP, hub decode + apply)  %6.2f s  %5.1f%%\n", push_post_s,
              100.0 * push_post_s / push_s);
  std::printf("  outside it (edge reads its log, encodes, moves its ack)  %6.2f s  %5.1f%%\n", push_s - push_post_s,
              100.0 * (push_s - push_post_s) / push_s);
  std::printf("  CPU per item by thread group:\n");
  double grouped = 0;
  for (size_t i = 0; i < push_cpu.groups.size(); ++i) {
    std::printf("    %-40s %7.2f us\n", push_cpu.groups[i].first.c_str(), push_cpu.used[i] * 1e6 / n);
    grouped += push_cpu.used[i];
  }
  std::printf("    %-40s %7.2f us\n", "edge A main thread (client, libcurl)", push_cpu.main * 1e6 / n);
  std::printf("    %-40s %7.2f us\n", "other threads",
              std::max(0.0, push_cpu.process - grouped - push_cpu.main) * 1e6 / n);
  std::printf("    %-40s %7.2f us  (%.2f cores busy)\n", "process", push_cpu.process * 1e6 / n,
              push_cpu.process / push_s);
  std::printf("  hub: %" PRId64 " pushes, %" PRId64 " changes applied, %" PRId64 " skipped, %" PRId64
              " conflicts, %" PRId64 " refused\n",
              hub_after_push.pushes, hub_after_push.changes_applied, hub_after_push.changes_skipped,
              hub_after_push.conflicts, hub_after_push.refused);
  std::printf("edge A's pull round after its push (its own changes, all filtered out at the hub): %.2f s, "
              "%" PRId64 " requests\n\n",
              echo_s, echo_posts);

  std::printf("catch-up, where the time goes (%.2f s wall):\n", pull_s);
  std::printf("  inside Transport::Post (hub reads its log, encodes; TLS)  %6.2f s  %5.1f%%\n", pull_post_s,
              100.0 * pull_post_s / pull_s);
  std::printf("  outside it (edge C decodes, applies in chunks)            %6.2f s  %5.1f%%\n", pull_s - pull_post_s,
              100.0 * (pull_s - pull_post_s) / pull_s);
  grouped = 0;
  for (size_t i = 0; i < pull_cpu.groups.size(); ++i) {
    std::printf("    %-40s %7.2f us/change\n", pull_cpu.groups[i].first.c_str(), pull_cpu.used[i] * 1e6 / n);
    grouped += pull_cpu.used[i];
  }
  std::printf("    %-40s %7.2f us/change\n", "edge C main thread (client, libcurl)", pull_cpu.main * 1e6 / n);
  std::printf("    %-40s %7.2f us/change\n", "other threads (API probe included)",
              std::max(0.0, pull_cpu.process - grouped - pull_cpu.main) * 1e6 / n);
  std::printf("  pull bytes received %.1f per change (zstd)\n",
              static_cast<double>(pull_transport.bytes_received) / n);
  {
    const storage::StorageStats es = edge_c->Stats();
    std::printf("  edge C: %s pulled transactions cut short for local writes; %s commits; WAL checkpoints %s by "
                "the checkpoint thread (longest %s ms), %s by the writer\n",
                Grouped(static_cast<double>(pull_stats.apply_yields)).c_str(), Grouped(static_cast<double>(es.commits)).c_str(),
                Grouped(static_cast<double>(es.wal_checkpoints)).c_str(), Grouped(static_cast<double>(es.wal_checkpoint_ms_max)).c_str(),
                Grouped(static_cast<double>(es.wal_writer_checkpoints)).c_str());
  }
  std::printf("  the hub's log holds %s changes in %s transactions (largest %s) among its first records: a pull\n"
              "  applies a transaction whole, so apply_chunk_changes cannot cut below that\n",
              Grouped(static_cast<double>(hub_records)).c_str(), Grouped(static_cast<double>(hub_txns)).c_str(),
              Grouped(static_cast<double>(hub_txn_max)).c_str());
  std::printf("hub server: %" PRId64 " TLS handshakes, %" PRId64 " requests, %" PRId64 " failed handshakes\n",
              hub_net_stats.handshakes, hub_net_stats.requests, hub_net_stats.handshake_failures);
  std::printf("untimed: loading edge A took %.1f s (%s items/s, ApplyAsync); whole run %.0f s; peak RSS %" PRId64
              " MB\n",
              load_s, Grouped(n / load_s).c_str(), Seconds(run0, SteadyClock::now()), PeakRssMb());

  api_server->Shutdown(1000);
  hub_server->Shutdown(1000);
  curl_global_cleanup();
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    std::string value;
    bool has_value = false;
    if (const size_t eq = a.find('='); eq != std::string::npos) {
      value = a.substr(eq + 1);
      a = a.substr(0, eq);
      has_value = true;
    }
    auto take = [&]() -> std::string {
      if (has_value) return value;
      if (i + 1 >= argc) Die("flag " + a + " needs a value");
      return argv[++i];
    };
    auto number = [&]() {
      const std::string v = take();
      char* end = nullptr;
      const double d = std::strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != 0 || d <= 0) Die("bad value for " + a + ": " + v);
      return d;
    };
    if (a == "--items") {
      f.items = static_cast<int64_t>(number());
    } else if (a == "--devices") {
      f.devices = static_cast<int64_t>(number());
      if (f.devices > 1000) Die("--devices: at most 1000 (dev-000 .. dev-999)");
    } else if (a == "--idle-seconds") {
      f.idle_seconds = number();
    } else if (a == "--put-rate") {
      f.put_rate = number();
    } else if (a == "--batch-changes") {
      f.batch_changes = static_cast<int64_t>(number());
    } else if (a == "--batch-bytes") {
      f.batch_bytes = static_cast<int64_t>(number());
    } else if (a == "--dir") {
      f.dir = take();
    } else if (a == "--edge-wal-autocheckpoint") {
      f.edge_wal_autocheckpoint = static_cast<int64_t>(number());
    } else if (a == "--apply-chunk") {
      f.apply_chunk = static_cast<int64_t>(number());
    } else if (a == "--probe-op") {
      const std::string op = take();
      if (op != "get" && op != "put") Die("--probe-op: get or put");
      f.probe_get = op == "get";
    } else if (a == "--skip-raw") {
      f.skip_raw = true;
    } else if (a == "--no-prepare-push") {
      f.no_prepare_push = true;
    } else {
      Die("unknown flag " + a + " (see the comment at the top of sync_bench.cc)");
    }
  }
  return f;
}

}  // namespace
}  // namespace edgetable::sync

int main(int argc, char** argv) {
  edgetable::sync::Run(edgetable::sync::ParseFlags(argc, argv));
  return 0;
}
