// kill -9 rounds: a child process writes through the engine from several
// threads and reports every acknowledged key to the parent over a pipe; the
// parent kills it at a random moment, reopens the database and checks that
// every acknowledged item is there, the change log is dense and holds them,
// and PRAGMA integrity_check is ok. Seeded; the seed is printed, and
// EDGETABLE_SEED=N replays a run.

#include <poll.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "edge/storage/internal/sqlite.h"
#include "edge/storage/storage.h"
#include "tests/edge/storage/test_items.h"
#include "tests/support/temp_dir.h"

namespace edgetable::storage {
namespace {

using edgetable::testing::TempDir;
using namespace edgetable::storage::testing;  // NOLINT(google-build-using-namespace)

constexpr int kRounds = 20;
constexpr int kChildThreads = 4;

// What a child sends per acknowledged write: round-unique key and value.
struct Ack {
  int32_t thread;
  int32_t pad;
  int64_t ts;
  int64_t value;
};

void WriteAll(int fd, const void* data, size_t n) {
  const char* p = static_cast<const char*>(data);
  while (n > 0) {
    ssize_t w = ::write(fd, p, n);
    if (w <= 0) _exit(3);
    p += w;
    n -= static_cast<size_t>(w);
  }
}

// Runs in the child; never returns.
[[noreturn]] void ChildMain(const std::string& path, int round, int fd, Durability durability) {
  Options o;
  o.path = path;
  o.durability = durability;
  auto opened = Storage::Open(o);
  if (!opened.ok()) {
    std::fprintf(stderr, "child: open: %s\n", opened.status().ToString().c_str());
    _exit(2);
  }
  Storage* db = opened->get();
  if (db->DescribeTable("telemetry").status().code() == Status::Code::kNotFound &&
      !db->CreateTable("telemetry", DeviceTsSchema()).ok()) {
    _exit(2);
  }
  std::mutex pipe_mu;
  std::vector<std::thread> threads;
  for (int t = 0; t < kChildThreads; ++t) {
    threads.emplace_back([&, t] {
      const std::string dev = "r" + std::to_string(round) + "-t" + std::to_string(t);
      for (int64_t ts = 0;; ++ts) {
        // Every third write overwrites an earlier key of this round, so
        // reopened items must hold the latest acknowledged value.
        const int64_t key = ts % 3 == 2 ? ts / 2 : ts;
        const int64_t value = ts;
        auto r = db->Put("telemetry", Reading(dev, key, value, std::string(static_cast<size_t>(ts % 300), 'x')));
        if (!r.ok()) {
          if (r.status().code() == Status::Code::kBusy) continue;
          std::fprintf(stderr, "child: put: %s\n", r.status().ToString().c_str());
          _exit(4);
        }
        Ack a{t, 0, key, value};
        std::lock_guard<std::mutex> lock(pipe_mu);
        WriteAll(fd, &a, sizeof(a));
      }
    });
  }
  for (;;) pause();  // killed by the parent
}

TEST(StorageCrashTest, EveryAcknowledgedWriteSurvivesKill9) {
  uint64_t seed = std::random_device{}();
  if (const char* s = std::getenv("EDGETABLE_SEED")) seed = std::strtoull(s, nullptr, 10);
  std::printf("storage_crash_test seed=%llu (replay with EDGETABLE_SEED=%llu)\n",
              static_cast<unsigned long long>(seed), static_cast<unsigned long long>(seed));
  std::fflush(stdout);
  std::mt19937_64 rng(seed);
  TempDir dir;
  const std::string path = dir.File("crash.db");

  // Acknowledged (thread, key) -> value, across all rounds.
  std::map<std::pair<std::string, int64_t>, int64_t> acked;
  int64_t total_acks = 0;
  const auto started = std::chrono::steady_clock::now();
  for (int round = 0; round < kRounds; ++round) {
    SCOPED_TRACE("round " + std::to_string(round) + " seed " + std::to_string(seed));
    const Durability durability = round % 4 == 3 ? Durability::kFull : Durability::kNormal;
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    std::fflush(nullptr);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      ChildMain(path, round, fds[1], durability);
    }
    ::close(fds[1]);
    // Everything the child wrote to the pipe is an acknowledgement.
    Ack a{};
    size_t have = 0;
    int round_acks = 0;
    auto drain = [&](int timeout_ms) {
      pollfd p{fds[0], POLLIN, 0};
      if (::poll(&p, 1, timeout_ms) <= 0) return false;
      ssize_t n = ::read(fds[0], reinterpret_cast<char*>(&a) + have, sizeof(a) - have);
      if (n <= 0) return false;
      have += static_cast<size_t>(n);
      if (have == sizeof(a)) {
        acked[{"r" + std::to_string(round) + "-t" + std::to_string(a.thread), a.ts}] = a.value;
        ++round_acks;
        have = 0;
      }
      return true;
    };
    // Kill after a random delay: sometimes during open, mostly mid-write.
    const auto kill_at = std::chrono::steady_clock::now() + std::chrono::milliseconds(rng() % 300);
    while (std::chrono::steady_clock::now() < kill_at) {
      (void)drain(static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       kill_at - std::chrono::steady_clock::now()).count()) + 1);
    }
    ASSERT_EQ(::kill(pid, SIGKILL), 0);
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL)) {
      ADD_FAILURE() << "child exited by itself, status " << status;
    }
    while (drain(0)) {
    }
    ::close(fds[0]);
    total_acks += round_acks;

    // Reopen: every acknowledged item is there with its latest acknowledged value.
    {
      Options o;
      o.path = path;
      auto opened = Storage::Open(o);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      Storage* db = opened->get();
      for (const auto& [key, value] : acked) {
        auto g = db->Get("telemetry", Key(key.first, key.second));
        ASSERT_TRUE(g.ok()) << g.status().ToString();
        ASSERT_TRUE(g->has_value()) << "lost acknowledged write " << key.first << "/" << key.second;
        int64_t got = -1;
        ASSERT_TRUE((**g).at("value").n().ToInt64(&got));
        // A write after the last acknowledged one may also have committed.
        ASSERT_GE(got, value) << key.first << "/" << key.second;
      }
      // The change log is dense and has at least one record per acknowledged write.
      auto log = db->ReadChanges(0, 100'000'000);
      ASSERT_TRUE(log.ok());
      for (size_t i = 0; i < log->size(); ++i) ASSERT_EQ((*log)[i].seq, static_cast<int64_t>(i) + 1);
      ASSERT_GE(static_cast<int64_t>(log->size()), total_acks);
    }
    {
      auto db = sqlite::Db::Open(path, sqlite::Db::Mode::kReadOnly);
      ASSERT_TRUE(db.ok());
      auto check = (*db)->QueryText("PRAGMA integrity_check");
      ASSERT_TRUE(check.ok()) << check.status().ToString();
      ASSERT_EQ(*check, "ok");
    }
  }
  const double secs =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  std::printf("%d rounds, %lld acknowledged writes checked, %.1f s\n", kRounds,
              static_cast<long long>(total_acks), secs);
  EXPECT_GT(total_acks, 0);
}

}  // namespace
}  // namespace edgetable::storage
