// ttl_bench: ingest throughput while the TTL sweeper deletes a backlog of
// expired items, next to the same ingest with nothing expiring, in one run.
//
// Prints one table; asserts nothing (STYLE.md). Both runs start from a
// database preloaded with --expiring items (so both B-trees have the same
// size): in the baseline their expiry lies in the future, in the sweep run
// it has passed (the FakeClock is moved past it after the preload), so the
// sweeper works through the whole backlog while --ingest new items arrive
// through ApplyAsync (the MQTT ingest path, up to 2000 writes in flight).
// Target: the sweeper costs at most 20 % of ingest throughput.
//
// Flags: --expiring=N (default 200000; --million for 1000000) --ingest=N
// (default 200000) --batch=N (ttl_sweep_batch_items, default 100)
// --interval_ms=N (ttl_sweep_interval_ms, default 10) --dir=PATH.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string>
#include <thread>

#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)
using Steady = std::chrono::steady_clock;

struct Flags {
  int64_t expiring = 200'000;
  int64_t ingest = 200'000;
  int batch = 100;
  int64_t interval_ms = 10;
  std::string dir;
};

constexpr int64_t kStartMs = 1'700'000'000'000;
constexpr int kInFlightMax = 2000;

// ApplyAsync with a bounded number of writes in flight; retries kBusy.
class Ingester {
 public:
  explicit Ingester(Storage* db) : db_(db) {}
  void Put(item::Item it) {
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return in_flight_ < kInFlightMax; });
      ++in_flight_;
    }
    for (;;) {
      Write w;
      w.table = "telemetry";
      w.key = item::Map{{"device", it.at("device")}, {"ts", it.at("ts")}};
      w.fn = [it](const item::Item*) -> Result<Decision> { return Decision::Put(it); };
      Status s = db_->ApplyAsync(std::move(w), [this](Result<WriteOutcome> r) {
        if (!r.ok()) failures_.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
        cv_.notify_all();
      });
      if (s.ok()) return;
      if (s.code() != Status::Code::kBusy) {
        failures_.fetch_add(1);
        std::lock_guard<std::mutex> lock(mu_);
        --in_flight_;
        return;
      }
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
  }
  void Drain() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return in_flight_ == 0; });
  }
  int64_t failures() const { return failures_.load(); }

 private:
  Storage* db_;
  std::mutex mu_;
  std::condition_variable cv_;
  int in_flight_ = 0;
  std::atomic<int64_t> failures_{0};
};

struct RunResult {
  double seconds = 0;
  int64_t expired_during = 0;
  double sweep_total_seconds = 0;  // until the whole backlog was gone
  int64_t failures = 0;
};

RunResult Run(const Flags& f, bool expire, const std::string& dir) {
  FakeClock clock(kStartMs);
  Options o;
  o.path = dir + (expire ? "/sweep.db" : "/base.db");
  o.clock = &clock;
  o.ttl_sweep_interval_ms = f.interval_ms;
  o.ttl_sweep_batch_items = f.batch;
  auto opened = Storage::Open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "open: %s\n", opened.status().ToString().c_str());
    std::exit(1);
  }
  std::unique_ptr<Storage> db = std::move(*opened);
  if (!db->CreateTable("telemetry", DeviceTsSchema(), TableSettings{"exp", StreamViewType::kNone}).ok()) {
    std::exit(1);
  }
  const int64_t now_s = kStartMs / 1000;
  {
    Ingester pre(db.get());
    for (int64_t i = 0; i < f.expiring; ++i) {
      item::Item it = Reading("old-" + std::to_string(i % 100), i, i, std::string(64, 'p'));
      it["exp"] = N(now_s + 60);  // expires in a minute of FakeClock time
      pre.Put(std::move(it));
    }
    pre.Drain();
  }
  // The sweep run moves time past the expiry: the whole preload is due.
  // The baseline leaves it in the future.
  if (expire) clock.AdvanceMs(120'000);
  const StorageStats before = db->Stats();
  Ingester in(db.get());
  const auto t0 = Steady::now();
  for (int64_t i = 0; i < f.ingest; ++i) {
    item::Item it = Reading("new-" + std::to_string(i % 100), i, i, std::string(64, 'p'));
    it["exp"] = N(now_s + 86400 * 30);
    in.Put(std::move(it));
  }
  in.Drain();
  RunResult r;
  r.seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  r.failures = in.failures();
  r.expired_during = db->Stats().ttl_deletes - before.ttl_deletes;
  if (expire) {
    while (db->Stats().ttl_deletes < f.expiring) std::this_thread::sleep_for(std::chrono::milliseconds(5));
    r.sweep_total_seconds = std::chrono::duration<double>(Steady::now() - t0).count();
  }
  return r;
}

}  // namespace
}  // namespace edgetable::storage

int main(int argc, char** argv) {
  using edgetable::storage::Flags;
  Flags f;
  for (int i = 1; i < argc; ++i) {
    const char* a = argv[i];
    auto val = [&](const char* name) -> const char* {
      size_t n = std::strlen(name);
      return std::strncmp(a, name, n) == 0 ? a + n : nullptr;
    };
    if (const char* v = val("--expiring=")) {
      f.expiring = std::atoll(v);
    } else if (std::strcmp(a, "--million") == 0) {
      f.expiring = 1'000'000;
    } else if (const char* v2 = val("--ingest=")) {
      f.ingest = std::atoll(v2);
    } else if (const char* v3 = val("--batch=")) {
      f.batch = std::atoi(v3);
    } else if (const char* v4 = val("--interval_ms=")) {
      f.interval_ms = std::atoll(v4);
    } else if (const char* v5 = val("--dir=")) {
      f.dir = v5;
    } else {
      std::fprintf(stderr, "unknown flag %s\n", a);
      return 2;
    }
  }
  edgetable::testing::TempDir tmp;
  const std::string dir = f.dir.empty() ? tmp.path() : f.dir;
  auto base = edgetable::storage::Run(f, false, dir);
  auto sweep = edgetable::storage::Run(f, true, dir);
  const double base_rate = static_cast<double>(f.ingest) / base.seconds;
  const double sweep_rate = static_cast<double>(f.ingest) / sweep.seconds;
  std::printf("ttl_bench: %lld preloaded items, %lld ingested, sweep batch %d, interval %lld ms\n",
              static_cast<long long>(f.expiring), static_cast<long long>(f.ingest), f.batch,
              static_cast<long long>(f.interval_ms));
  std::printf("%-28s %12s %14s %18s %10s\n", "run", "seconds", "ingest/s", "expired during", "failures");
  std::printf("%-28s %12.2f %14.0f %18lld %10lld\n", "no expiry (baseline)", base.seconds, base_rate,
              static_cast<long long>(base.expired_during), static_cast<long long>(base.failures));
  std::printf("%-28s %12.2f %14.0f %18lld %10lld\n", "sweeper expiring backlog", sweep.seconds, sweep_rate,
              static_cast<long long>(sweep.expired_during), static_cast<long long>(sweep.failures));
  std::printf("ingest cost of the sweeper: %.1f %% (target <= 20 %%); whole backlog swept in %.2f s\n",
              100.0 * (1.0 - sweep_rate / base_rate), sweep.sweep_total_seconds);
  return 0;
}
