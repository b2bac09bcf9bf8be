// storage_bench: the storage engine next to raw SQLite doing the same work.
//
// Prints one table; asserts nothing (STYLE.md: performance is measured by
// benchmarks, never by timed tests). Rows:
//   put, 1 caller       engine Put() one at a time   vs raw: 1 row + 1 log row per txn
//   put, 8 callers      engine Put() from 8 threads  vs raw: 1000 rows (+ log rows) per txn
//   put, async          engine ApplyAsync() with up to 2000 writes in flight (the ingest
//                       path) vs the same raw batches
//   point get           engine Get() on one thread   vs raw: SELECT by key + decode
//   query 100 items     engine Query(limit 100)      vs raw: range SELECT LIMIT 100 + decode
//   bytes on disk/item  database + WAL after a checkpoint, per item
// Raw SQLite uses the engine's schema (items + change log, WITHOUT ROWID
// items keyed by encoded keys), the same pragmas and the same item encoding,
// so the ratio is the cost of the engine's own machinery (queue, group
// commit, savepoints, catalog, versions).
//
// Flags: --items=N (default 50000) --single=N (puts with one caller,
// default 5000) --gets=N (default 50000) --queries=N (default 5000)
// --devices=N (default 100) --dir=PATH (default: a fresh temp dir)
// --full (Durability::kFull and synchronous=FULL).

#include <sqlite3.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "edge/item/key.h"
#include "edge/storage/storage.h"
#include "edge/wire/item_codec.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)
using Clock_ = std::chrono::steady_clock;

struct Flags {
  int64_t items = 50'000;
  int64_t single = 5'000;
  int64_t gets = 50'000;
  int64_t queries = 5'000;
  int64_t devices = 100;
  bool full = false;
  std::string dir;
};

double Seconds(Clock_::time_point a, Clock_::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// CPU seconds of the whole process (every thread): on a shared, loaded
// machine CPU per operation is steadier than wall-clock rates.
double CpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU seconds used so far by the thread named `name` (Linux /proc), or 0.
double ThreadCpuSeconds(const std::string& name) {
  double total = 0;
  DIR* d = opendir("/proc/self/task");
  if (d == nullptr) return 0;
  while (dirent* e = readdir(d)) {
    if (e->d_name[0] == '.') continue;
    const std::string base = std::string("/proc/self/task/") + e->d_name;
    std::FILE* c = std::fopen((base + "/comm").c_str(), "r");
    if (c == nullptr) continue;
    char comm[64] = {0};
    const bool got = std::fgets(comm, sizeof(comm), c) != nullptr;
    std::fclose(c);
    if (!got || std::string(comm).rfind(name, 0) != 0) continue;
    std::FILE* st = std::fopen((base + "/stat").c_str(), "r");
    if (st == nullptr) continue;
    char buf[1024] = {0};
    const size_t n = std::fread(buf, 1, sizeof(buf) - 1, st);
    std::fclose(st);
    buf[n] = 0;
    // Fields after the ")" that closes comm: state is field 3; utime, stime are 14 and 15.
    const char* p = std::strrchr(buf, ')');
    if (p == nullptr) continue;
    unsigned long long utime = 0, stime = 0;
    if (std::sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) == 2) {
      total += static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
    }
  }
  closedir(d);
  return total;
}

// Wall time and CPU time of one measured phase.
struct Span {
  Clock_::time_point wall0 = Clock_::now();
  double cpu0 = CpuSeconds();
  double wall = 0, cpu = 0;
  void Stop() {
    wall = Seconds(wall0, Clock_::now());
    cpu = CpuSeconds() - cpu0;
  }
};

int64_t FileBytes(const std::string& path) {
  struct stat st{};
  if (::stat(path.c_str(), &st) != 0) return 0;
  return static_cast<int64_t>(st.st_size);
}

void Die(const std::string& what) {
  std::fprintf(stderr, "storage_bench: %s\n", what.c_str());
  std::exit(1);
}

template <typename T>
T Must(Result<T> r, const char* what) {
  if (!r.ok()) Die(std::string(what) + ": " + r.status().ToString());
  return std::move(r).value();
}

std::string Device(int64_t i) { return "sensor-" + std::to_string(i); }

// A telemetry reading of about 120 bytes encoded.
item::Item BenchItem(int64_t device, int64_t ts) {
  item::Item it = Reading(Device(device), ts, ts * 7 % 1000);
  it["temp"] = item::Value::N(*item::Number::Parse("21.5"));
  it["unit"] = S("celsius");
  it["ok"] = item::Value::Bool(true);
  return it;
}

// ---------------------------------------------------------------- raw SQLite

class Raw {
 public:
  Raw(const std::string& path, bool full) {
    if (sqlite3_open_v2(path.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        nullptr) != SQLITE_OK) {
      Die("raw open");
    }
    Exec("PRAGMA journal_mode=WAL");
    Exec(full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
    Options defaults;
    Exec("PRAGMA cache_size=-" + std::to_string(defaults.writer_cache_bytes / 1024));
    Exec("PRAGMA wal_autocheckpoint=" + std::to_string(defaults.wal_autocheckpoint_pages));
    Exec("CREATE TABLE items(table_id INTEGER NOT NULL, pk BLOB NOT NULL, sk BLOB NOT NULL, seg INTEGER NOT "
         "NULL, hlc_ms INTEGER NOT NULL, counter INTEGER NOT NULL, replica INTEGER NOT NULL, expires_s "
         "INTEGER, deleted INTEGER NOT NULL, item BLOB, PRIMARY KEY(table_id, pk, sk)) WITHOUT ROWID");
    Exec("CREATE TABLE changes(seq INTEGER PRIMARY KEY, txn_id INTEGER NOT NULL, table_id INTEGER NOT NULL, "
         "pk BLOB NOT NULL, sk BLOB NOT NULL, op INTEGER NOT NULL, old_image BLOB, new_image BLOB, hlc_ms "
         "INTEGER NOT NULL, counter INTEGER NOT NULL, replica INTEGER NOT NULL, origin INTEGER NOT NULL, "
         "ttl_delete INTEGER NOT NULL)");
    ins_ = Prepare("INSERT OR REPLACE INTO items VALUES(1, ?1, ?2, 0, ?3, 0, 1, NULL, 0, ?4)");
    log_ = Prepare("INSERT INTO changes VALUES(?1, ?1, 1, ?2, ?3, 1, NULL, ?4, ?5, 0, 1, 1, 0)");
    get_ = Prepare("SELECT item FROM items WHERE table_id=1 AND pk=?1 AND sk=?2 AND deleted=0");
    query_ = Prepare("SELECT item FROM items WHERE table_id=1 AND pk=?1 AND deleted=0 ORDER BY sk LIMIT 100");
  }
  ~Raw() {
    for (sqlite3_stmt* s : {ins_, log_, get_, query_}) sqlite3_finalize(s);
    sqlite3_close_v2(db_);
  }

  void Exec(const std::string& sql) {
    char* err = nullptr;
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &err) != SQLITE_OK) Die("raw exec " + sql + ": " + err);
  }
  sqlite3_stmt* Prepare(const char* sql) {
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s, nullptr) != SQLITE_OK) Die(sql);
    return s;
  }

  // Encodes and inserts one item and its change record (the engine's work).
  void Insert(const item::Item& it) {
    auto pk = Must(item::EncodeKeyValue(it.at("device")), "key");
    auto sk = Must(item::EncodeKeyValue(it.at("ts")), "key");
    std::string bytes = wire::EncodeItem(it);
    ++seq_;
    sqlite3_bind_blob(ins_, 1, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
    sqlite3_bind_blob(ins_, 2, sk.data(), static_cast<int>(sk.size()), SQLITE_STATIC);
    sqlite3_bind_int64(ins_, 3, seq_);
    sqlite3_bind_blob(ins_, 4, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
    if (sqlite3_step(ins_) != SQLITE_DONE) Die("raw insert");
    sqlite3_reset(ins_);
    sqlite3_bind_int64(log_, 1, seq_);
    sqlite3_bind_blob(log_, 2, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
    sqlite3_bind_blob(log_, 3, sk.data(), static_cast<int>(sk.size()), SQLITE_STATIC);
    sqlite3_bind_blob(log_, 4, bytes.data(), static_cast<int>(bytes.size()), SQLITE_STATIC);
    sqlite3_bind_int64(log_, 5, seq_);
    if (sqlite3_step(log_) != SQLITE_DONE) Die("raw log insert");
    sqlite3_reset(log_);
  }

  bool Get(const std::string& pk, const std::string& sk) {
    sqlite3_bind_blob(get_, 1, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
    sqlite3_bind_blob(get_, 2, sk.data(), static_cast<int>(sk.size()), SQLITE_STATIC);
    bool found = false;
    if (sqlite3_step(get_) == SQLITE_ROW) {
      auto* p = static_cast<const char*>(sqlite3_column_blob(get_, 0));
      auto it = wire::DecodeItem(std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(get_, 0))));
      found = it.ok();
    }
    sqlite3_reset(get_);
    return found;
  }

  int Query(const std::string& pk) {
    sqlite3_bind_blob(query_, 1, pk.data(), static_cast<int>(pk.size()), SQLITE_STATIC);
    int n = 0;
    while (sqlite3_step(query_) == SQLITE_ROW) {
      auto* p = static_cast<const char*>(sqlite3_column_blob(query_, 0));
      auto it = wire::DecodeItem(std::string_view(p, static_cast<size_t>(sqlite3_column_bytes(query_, 0))));
      if (it.ok()) ++n;
    }
    sqlite3_reset(query_);
    return n;
  }

  void Checkpoint() { Exec("PRAGMA wal_checkpoint(TRUNCATE)"); }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* ins_ = nullptr;
  sqlite3_stmt* log_ = nullptr;
  sqlite3_stmt* get_ = nullptr;
  sqlite3_stmt* query_ = nullptr;
  int64_t seq_ = 0;
};

struct Row {
  const char* name;
  double engine;      // ops/s (or bytes)
  double raw;
  double engine_cpu;  // CPU us per op (0: not applicable)
  double raw_cpu;
  const char* note;
};

Row Rate(const char* name, int64_t engine_ops, const Span& e, int64_t raw_ops, const Span& r, const char* note) {
  return Row{name,
             static_cast<double>(engine_ops) / e.wall,
             static_cast<double>(raw_ops) / r.wall,
             e.cpu * 1e6 / static_cast<double>(engine_ops),
             r.cpu * 1e6 / static_cast<double>(raw_ops),
             note};
}

// Checkpoints a closed database's WAL into its file, so that its size is
// what it keeps on disk.
void Checkpoint(const std::string& path) {
  sqlite3* h = nullptr;
  if (sqlite3_open_v2(path.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK) {
    sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr);
  }
  sqlite3_close_v2(h);
}

void Run(const Flags& f) {
  std::unique_ptr<edgetable::testing::TempDir> tmp;
  std::string dir = f.dir;
  if (dir.empty()) {
    tmp = std::make_unique<edgetable::testing::TempDir>();
    dir = tmp->path();
  }
  // Every put phase writes the same keys into a fresh database on both sides.
  auto open_engine = [&](const std::string& name) {
    Options o;
    o.path = dir + "/" + name;
    o.durability = f.full ? Durability::kFull : Durability::kNormal;
    auto db = Must(Storage::Open(o), "open");
    Must(db->CreateTable("telemetry", DeviceTsSchema()), "create table");
    return db;
  };
  auto item_at = [&](int64_t i) { return BenchItem(i % f.devices, i / f.devices); };
  std::vector<Row> rows;

  // --- put, 1 caller vs raw one row per transaction.
  {
    auto db = open_engine("engine-single.db");
    Span e;
    for (int64_t i = 0; i < f.single; ++i) Must(db->Put("telemetry", item_at(i)), "put");
    e.Stop();
    Raw raw(dir + "/raw-single.db", f.full);
    Span r;
    for (int64_t i = 0; i < f.single; ++i) {
      raw.Exec("BEGIN IMMEDIATE");
      raw.Insert(item_at(i));
      raw.Exec("COMMIT");
    }
    r.Stop();
    rows.push_back(Rate("put, 1 caller (puts/s)", f.single, e, f.single, r, "raw: 1 row per txn"));
  }

  // --- put, 8 callers: group commit.
  Span engine_group;
  StorageStats group_stats;
  {
    auto db = open_engine("engine-8.db");
    constexpr int kCallers = 8;
    std::atomic<int64_t> next{0};
    std::vector<std::thread> threads;
    engine_group = Span();
    for (int c = 0; c < kCallers; ++c) {
      threads.emplace_back([&] {
        for (;;) {
          const int64_t i = next.fetch_add(1);
          if (i >= f.items) return;
          for (;;) {
            auto r = db->Put("telemetry", item_at(i));
            if (r.ok()) break;
            if (r.status().code() != Status::Code::kBusy) Die("put: " + r.status().ToString());
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    engine_group.Stop();
    group_stats = db->Stats();
  }

  // --- put, pipelined: one producer keeps up to 2000 ApplyAsync writes in flight.
  const std::string engine_path = dir + "/engine-async.db";
  auto db = open_engine("engine-async.db");
  Span engine_async;
  double writer_cpu_async = 0;
  {
    // The producer sleeps while 2000 writes are in flight (below the queue
    // bound, so kBusy cannot happen); callbacks wake it.
    std::mutex mu;
    std::condition_variable cv;
    int64_t in_flight = 0;
    int64_t failures = 0;
    engine_async = Span();
    const double writer_cpu0 = ThreadCpuSeconds("et-writer");
    for (int64_t i = 0; i < f.items; ++i) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return in_flight < 2000; });
        ++in_flight;
      }
      item::Item it = item_at(i);
      item::Map key = item::KeyOf(it, DeviceTsSchema());
      Write w{"telemetry", std::move(key),
              [it = std::move(it)](const item::Item*) mutable -> Result<Decision> {
                return Decision::Put(std::move(it));
              },
              false};
      Status s = db->ApplyAsync(std::move(w), [&](Result<WriteOutcome> r) {
        std::lock_guard<std::mutex> lock(mu);
        if (!r.ok()) ++failures;
        if (--in_flight == 1000 || in_flight == 0) cv.notify_one();
      });
      if (!s.ok()) Die("apply async: " + s.ToString());
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return in_flight == 0; });
    }
    engine_async.Stop();
    writer_cpu_async = ThreadCpuSeconds("et-writer") - writer_cpu0;
    if (failures != 0) Die("apply async: failed writes");
  }
  const StorageStats async_stats = db->Stats();

  const std::string raw_path = dir + "/raw-batched.db";
  {
    Raw raw(raw_path, f.full);
    Span raw_batched;
    for (int64_t i = 0; i < f.items; ++i) {
      if (i % 1000 == 0) raw.Exec("BEGIN IMMEDIATE");
      raw.Insert(item_at(i));
      if (i % 1000 == 999 || i == f.items - 1) raw.Exec("COMMIT");
    }
    raw_batched.Stop();
    rows.push_back(Rate("put, 8 callers (puts/s)", f.items, engine_group, f.items, raw_batched,
                        "raw: 1000 rows per txn"));
    rows.push_back(Rate("put, async pipelined (puts/s)", f.items, engine_async, f.items, raw_batched,
                        "raw: 1000 rows per txn"));

    // --- point get, one thread, random keys; both databases hold the same items.
    std::mt19937_64 rng(1);
    std::vector<item::Map> keys;
    keys.reserve(static_cast<size_t>(f.gets));
    for (int64_t i = 0; i < f.gets; ++i) {
      const int64_t n = static_cast<int64_t>(rng() % static_cast<uint64_t>(f.items));
      keys.push_back(Key(Device(n % f.devices), n / f.devices));
    }
    int64_t found = 0;
    Span e;
    for (const auto& k : keys) {
      auto g = Must(db->Get("telemetry", k), "get");
      found += g.has_value() ? 1 : 0;
    }
    e.Stop();
    if (found != f.gets) Die("get: missing items");
    found = 0;
    Span r;
    for (const auto& k : keys) {
      // Key encoding and item decoding are part of the work on both sides.
      auto pk = Must(item::EncodeKeyValue(k.at("device")), "key");
      auto sk = Must(item::EncodeKeyValue(k.at("ts")), "key");
      found += raw.Get(pk, sk) ? 1 : 0;
    }
    r.Stop();
    if (found != f.gets) Die("raw get: missing items");
    rows.push_back(Rate("point get (gets/s)", f.gets, e, f.gets, r, "1 thread"));

    // --- query 100 items of one partition.
    int64_t got = 0;
    Span eq;
    for (int64_t i = 0; i < f.queries; ++i) {
      QueryRequest q{"telemetry", S(Device(i % f.devices)), {}, true, 100, limits::kQueryPageBytesMax, {}};
      got += static_cast<int64_t>(Must(db->Query(q), "query").items.size());
    }
    eq.Stop();
    const int64_t engine_got = got;
    got = 0;
    Span rq;
    for (int64_t i = 0; i < f.queries; ++i) {
      got += raw.Query(Must(item::EncodeKeyValue(S(Device(i % f.devices))), "key"));
    }
    rq.Stop();
    if (got != engine_got) Die("query: engine and raw disagree");
    rows.push_back(Rate("query 100 items (queries/s)", f.queries, eq, f.queries, rq, "1 thread"));
  }

  // --- bytes on disk per item, after a checkpoint.
  db.reset();
  Checkpoint(engine_path);
  Checkpoint(raw_path);
  const double engine_bytes = static_cast<double>(FileBytes(engine_path) + FileBytes(engine_path + "-wal")) /
                              static_cast<double>(f.items);
  const double raw_bytes =
      static_cast<double>(FileBytes(raw_path) + FileBytes(raw_path + "-wal")) / static_cast<double>(f.items);
  rows.push_back(Row{"bytes on disk per item", engine_bytes, raw_bytes, 0, 0, "items + change log"});
  const double item_bytes = static_cast<double>(wire::EncodeItem(BenchItem(1, 1)).size());

  std::printf("storage_bench: %" PRId64 " items over %" PRId64 " devices, %s, SQLite %s\n", f.items, f.devices,
              f.full ? "synchronous=FULL" : "synchronous=NORMAL", sqlite3_libversion());
  std::printf("%-30s %12s %12s %7s %11s %11s %7s  %s\n", "", "engine", "raw SQLite", "ratio",
              "engine CPU", "raw CPU", "ratio", "note");
  for (const Row& r : rows) {
    std::printf("%-30s %12.1f %12.1f %6.0f%%", r.name, r.engine, r.raw, 100.0 * r.engine / r.raw);
    if (r.engine_cpu > 0) {
      std::printf(" %8.1f us %8.1f us %6.0f%%", r.engine_cpu, r.raw_cpu, 100.0 * r.raw_cpu / r.engine_cpu);
    } else {
      std::printf(" %11s %11s %7s", "", "", "");
    }
    std::printf("  %s\n", r.note);
  }
  std::printf("encoded item: %.0f bytes. ratio = engine / raw for rates and sizes, raw / engine for CPU per op\n",
              item_bytes);
  auto per_commit = [](const StorageStats& st) {
    return st.commits > 0 ? static_cast<double>(st.writes) / static_cast<double>(st.commits) : 0.0;
  };
  std::printf("group commit, 8 callers: %.1f writes per commit (largest %" PRId64 "); async: %.1f (largest %" PRId64
              ")\n",
              per_commit(group_stats), group_stats.group_writes_max, per_commit(async_stats),
              async_stats.group_writes_max);
  std::printf("async: the writer thread used %.1f us of CPU per put (the rest is the producer and callbacks)\n",
              writer_cpu_async * 1e6 / static_cast<double>(f.items));
}

Flags ParseFlags(int argc, char** argv) {
  Flags f;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto num = [&](const char* name, int64_t* out) {
      std::string p = std::string("--") + name + "=";
      if (a.rfind(p, 0) != 0) return false;
      *out = std::strtoll(a.c_str() + p.size(), nullptr, 10);
      if (*out <= 0) Die("bad value in " + a);
      return true;
    };
    if (num("items", &f.items) || num("single", &f.single) || num("gets", &f.gets) ||
        num("queries", &f.queries) || num("devices", &f.devices)) {
      continue;
    }
    if (a == "--full") {
      f.full = true;
    } else if (a.rfind("--dir=", 0) == 0) {
      f.dir = a.substr(6);
    } else {
      Die("unknown flag " + a + " (see the comment at the top of storage_bench.cc)");
    }
  }
  return f;
}

}  // namespace
}  // namespace edgetable::storage

int main(int argc, char** argv) {
  edgetable::storage::Run(edgetable::storage::ParseFlags(argc, argv));
  return 0;
}
