#include "edge/storage/storage.h"

#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <condition_variable>
#include <cstdio>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <thread>
#include <tuple>
#include <utility>

#include "edge/base/log.h"
#include "edge/base/thread_priority.h"
#include "edge/clock/hybrid_clock.h"
#include "edge/item/validate.h"
#include "edge/storage/internal/sqlite.h"
#include "edge/wire/item_codec.h"

namespace edgetable::storage {
namespace {

// Bumped with every change of the tables below; a database with a newer
// version is refused (it was written by a newer EdgeTable).
// 2: items.seq (edge retention). 3: prev versions, changes.source and
// sync_state (replication).
constexpr int64_t kSchemaVersion = 3;

// On-disk format. Integers are SQLite's (64-bit, the same on every
// architecture); a replica id is stored as the int64 with its bit pattern.
// Key columns hold the order-preserving encoding (item/key.h), compared by
// memcmp as SQLite compares BLOBs. `seg` is SegmentHash(pk), for parallel
// scans. A tombstone has deleted = 1, item NULL, and keeps its version.
// prev_* is the version a row's (or record's) write replaced (see
// ChangeRecord::prev_version), zero for none; changes.source is the peer
// that delivered a remote change, 0 for a local write. The columns added by
// an upgrade come last, in the order kUpgradeColumns adds them, so that a
// created and an upgraded database have the same shape.
constexpr char kSchemaSql[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(
  key TEXT PRIMARY KEY,
  value INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS tables(
  table_id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  pk_name TEXT NOT NULL,
  pk_type TEXT NOT NULL,
  sk_name TEXT,
  sk_type TEXT,
  ttl_attribute TEXT NOT NULL DEFAULT '',
  stream_view_type INTEGER NOT NULL DEFAULT 0,
  created_ms INTEGER NOT NULL,
  item_count INTEGER NOT NULL DEFAULT 0,
  item_bytes INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS items(
  table_id INTEGER NOT NULL,
  pk BLOB NOT NULL,
  sk BLOB NOT NULL,
  seg INTEGER NOT NULL,
  hlc_ms INTEGER NOT NULL,
  counter INTEGER NOT NULL,
  replica INTEGER NOT NULL,
  expires_s INTEGER,
  deleted INTEGER NOT NULL,
  item BLOB,
  seq INTEGER,
  prev_hlc_ms INTEGER NOT NULL DEFAULT 0,
  prev_counter INTEGER NOT NULL DEFAULT 0,
  prev_replica INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY(table_id, pk, sk)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS changes(
  seq INTEGER PRIMARY KEY,
  txn_id INTEGER NOT NULL,
  table_id INTEGER NOT NULL,
  pk BLOB NOT NULL,
  sk BLOB NOT NULL,
  op INTEGER NOT NULL,
  old_image BLOB,
  new_image BLOB,
  hlc_ms INTEGER NOT NULL,
  counter INTEGER NOT NULL,
  replica INTEGER NOT NULL,
  origin INTEGER NOT NULL,
  ttl_delete INTEGER NOT NULL,
  prev_hlc_ms INTEGER NOT NULL DEFAULT 0,
  prev_counter INTEGER NOT NULL DEFAULT 0,
  prev_replica INTEGER NOT NULL DEFAULT 0,
  source INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS sync_state(
  key TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS items_by_expiry ON items(expires_s) WHERE expires_s IS NOT NULL;
)sql";

// Columns added since version 1, in the order they were added: an older
// database gets the ones it lacks at Open (ALTER TABLE ... ADD COLUMN only
// rewrites the schema, not the rows, so it is quick on a large database).
// Rows written before version 3 read a zero prev version: ApplyRemote then
// takes a stale redelivery of a write older than them for a "rejected"
// conflict, an extra record, never a missed one.
struct UpgradeColumn {
  const char* table;
  const char* column;
  const char* declaration;
};
constexpr UpgradeColumn kUpgradeColumns[] = {
    {"items", "seq", "INTEGER"},  // 2
    {"items", "prev_hlc_ms", "INTEGER NOT NULL DEFAULT 0"},  // 3
    {"items", "prev_counter", "INTEGER NOT NULL DEFAULT 0"},
    {"items", "prev_replica", "INTEGER NOT NULL DEFAULT 0"},
    {"changes", "prev_hlc_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"changes", "prev_counter", "INTEGER NOT NULL DEFAULT 0"},
    {"changes", "prev_replica", "INTEGER NOT NULL DEFAULT 0"},
    {"changes", "source", "INTEGER NOT NULL DEFAULT 0"},
};

// items.seq is the sequence of the row's last change record: the row's
// changes are acknowledged by the upstream when seq <= upstream_acked_seq.
// Rows of a version-1 database have it NULL: never acknowledged (kept by
// retention unless the disk budget forces their eviction).
// items_by_age orders live items by their version time for retention; it
// exists only while retention is configured (it costs every write).
constexpr char kAgeIndexSql[] =
    "CREATE INDEX IF NOT EXISTS items_by_age ON items(hlc_ms) WHERE deleted=0";

// DynamoDB never deletes (and EdgeTable never hides) items whose TTL value
// is more than five years in the past: such a value was most likely not
// meant as an expiry (e.g. milliseconds written where seconds were meant,
// or a creation date).
constexpr int64_t kTtlIgnoredAgeS = 5 * 365 * 86400 + 86400;  // five years, leap days included

// Meta keys of the TTL recompute pass: 'ttl_rescan_<table_id>' = 1 while a
// table's expiry column must be recomputed after its TTL attribute changed.
constexpr std::string_view kRescanPrefix = "ttl_rescan_";

// ceil(ms / 1000) for any sign, without overflow.
int64_t CeilSeconds(int64_t ms) {
  int64_t q = ms / 1000;
  if (ms % 1000 > 0) ++q;
  return q;
}

// The expiry window at wall-clock time now_ms: an item is expired when
// floor_s <= expires_s < now_s (expires_s < now: the value is strictly
// before the current time).
struct ExpiryWindow {
  int64_t now_s;
  int64_t floor_s;
  bool Expired(std::optional<int64_t> expires_s) const {
    return expires_s && *expires_s < now_s && *expires_s >= floor_s;
  }
};

ExpiryWindow WindowAt(int64_t now_ms) {
  const int64_t now_s = CeilSeconds(now_ms);
  return ExpiryWindow{now_s, now_s - kTtlIgnoredAgeS};
}

constexpr int64_t kSegmentHashSpace = int64_t{1} << 32;

// The clock's high-water mark is persisted as a lease: meta 'hlc_lease_ms'
// is kept above the hlc_ms of every version issued or observed (a commit
// moves it this far ahead when the clock reaches it), and is the clock's
// floor at open. So a commit writes the meta row about once a second
// instead of every time, and a reopened clock starts at most this far ahead
// of the last stored version.
constexpr int64_t kHlcLeaseMs = 1000;

// FNV-1a over the encoded partition key, then MurmurHash3's 32-bit
// finaliser: FNV alone leaves the high bits of keys that differ only in
// their last bytes ("sensor-17", "sensor-18") close together, and segments
// are ranges of the high bits. Part of the on-disk format: fixed forever.
int64_t SegmentHash(std::string_view pk) {
  uint32_t h = 2166136261u;
  for (unsigned char c : pk) {
    h ^= c;
    h *= 16777619u;
  }
  h ^= h >> 16;
  h *= 0x85ebca6bu;
  h ^= h >> 13;
  h *= 0xc2b2ae35u;
  h ^= h >> 16;
  return static_cast<int64_t>(h);
}

int64_t ToDb(uint64_t v) { return static_cast<int64_t>(v); }  // modular since C++20
uint64_t FromDb(int64_t v) { return static_cast<uint64_t>(v); }

const char* TypeCode(item::Type t) {
  switch (t) {
    case item::Type::kS: return "S";
    case item::Type::kN: return "N";
    case item::Type::kB: return "B";
    default: return nullptr;
  }
}

Result<item::Type> ParseTypeCode(std::string_view code) {
  if (code == "S") return item::Type::kS;
  if (code == "N") return item::Type::kN;
  if (code == "B") return item::Type::kB;
  return Status::Corruption("storage: unknown key type '" + std::string(code) + "' in catalog");
}

Status ValidateTableName(const std::string& name) {
  if (static_cast<int64_t>(name.size()) < limits::kTableNameBytesMin ||
      static_cast<int64_t>(name.size()) > limits::kTableNameBytesMax) {
    return Status::InvalidArgument("TableName must be at least 3 characters long and at most 255 "
                                   "characters long (table " + name + ")");
  }
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == '.';
    if (!ok) {
      return Status::InvalidArgument("TableName must satisfy regular expression pattern: "
                                     "[a-zA-Z0-9_.-]+ (table " + name + ")");
    }
  }
  return Status::Ok();
}

Status ValidateKeySchema(const item::KeySchema& schema) {
  auto check = [](const item::KeyAttribute& a, const char* role) -> Status {
    if (a.name.empty()) return Status::InvalidArgument(std::string(role) + " key name is empty");
    if (TypeCode(a.type) == nullptr) {
      return Status::InvalidArgument(std::string(role) + " key " + a.name +
                                     " must be of type S, N or B");
    }
    return Status::Ok();
  };
  ET_RETURN_IF_ERROR(check(schema.partition, "partition"));
  if (schema.sort) {
    ET_RETURN_IF_ERROR(check(*schema.sort, "sort"));
    if (schema.sort->name == schema.partition.name) {
      return Status::InvalidArgument("partition and sort key have the same name " + schema.sort->name);
    }
  }
  return Status::Ok();
}

// The smallest byte string greater than every string starting with prefix,
// or nullopt when there is none (prefix is all 0xff).
std::optional<std::string> PrefixSuccessor(std::string prefix) {
  while (!prefix.empty()) {
    unsigned char last = static_cast<unsigned char>(prefix.back());
    if (last != 0xff) {
      prefix.back() = static_cast<char>(last + 1);
      return prefix;
    }
    prefix.pop_back();
  }
  return std::nullopt;
}

// The table's TTL attribute as epoch seconds, when it is an integer N.
std::optional<int64_t> ExpiryOf(const TableSettings& s, const item::Item& it) {
  if (s.ttl_attribute.empty()) return std::nullopt;
  auto f = it.find(s.ttl_attribute);
  if (f == it.end() || !f->second.is(item::Type::kN)) return std::nullopt;
  int64_t v = 0;
  if (!f->second.n().ToInt64(&v)) return std::nullopt;
  return v;
}

// A replica id as the conflict records show it: 16 hex digits, as in
// clock::Version::ToString().
std::string Hex(uint64_t v) {
  char buf[24];
  std::snprintf(buf, sizeof(buf), "%016" PRIx64, v);
  return buf;
}

// The sort key of a conflict record: the loser's version, its time
// zero-padded so that a table's conflicts sort by the time of the lost write.
std::string ConflictId(const clock::Version& v) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%015" PRId64 ".%" PRId32 "@%016" PRIx64, v.hlc_ms, v.counter, v.replica);
  return buf;
}

int HistogramBucket(int64_t n) {
  int b = 0;
  while (n > 1 && b < 11) {
    n >>= 1;
    ++b;
  }
  return b;
}

}  // namespace

std::string_view ChangeOpName(ChangeOp op) {
  switch (op) {
    case ChangeOp::kInsert: return "INSERT";
    case ChangeOp::kModify: return "MODIFY";
    case ChangeOp::kRemove: return "REMOVE";
  }
  return "UNKNOWN";
}

// A queued unit of work for the writer: a write call, a transaction, a batch
// of remote changes or a catalog change. `run` executes on the writer thread
// inside a savepoint; Complete() is called once, after the commit (or the
// failure), and is the writer's last touch of the job.
class Job {
 public:
  virtual ~Job() = default;
  virtual void Complete(Status s) = 0;
  std::function<Status()> run;
  // A bulk job (ApplyRemote: a batch from another replica) commits in a
  // group of its own, and local writes queued behind it go first, so that a
  // sync catch-up never makes an application's write wait for it (see
  // WriterLoop).
  bool bulk = false;
  // A job whose undo record can grow without bound (DeleteTable of a large
  // table). It runs in a group whose savepoint journals may spill to a
  // temporary file; every other group keeps them in memory (see
  // SetSubJournalInMemory).
  bool unbounded_undo = false;
};

// A job whose caller blocks until it completes. Its outputs go to the
// caller's stack through `run`'s captures, which is safe because the caller
// waits. Complete() notifies while holding `mu_`, so the caller cannot
// destroy the job before the writer has let go of it.
class WaitedJob final : public Job {
 public:
  void Complete(Status s) override {
    std::lock_guard<std::mutex> lock(mu_);
    result_ = std::move(s);
    done_ = true;
    cv_.notify_one();
  }
  Status Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    return std::move(result_);
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  Status result_;
};

// A job nobody waits for: it owns its write and its outcome, hands them to
// the callback and deletes itself.
class AsyncJob final : public Job {
 public:
  explicit AsyncJob(WriteCallback cb) : cb_(std::move(cb)) {}
  void Complete(Status s) override {
    if (s.ok()) {
      cb_(std::move(outcome));
    } else {
      cb_(std::move(s));
    }
    delete this;  // owned by the queue until now
  }
  Write write;
  WriteOutcome outcome;

 private:
  WriteCallback cb_;
};

// A read connection with its prepared statements: the hot ones in fixed
// slots, the rest (query and scan shapes) keyed by SQL text.
struct Reader {
  enum Slot { kGetItem, kGetLiveItem, kTableByName, kSlots };
  std::unique_ptr<sqlite::Db> db;
  std::array<std::unique_ptr<sqlite::Statement>, kSlots> fixed;
  std::map<std::string, std::unique_ptr<sqlite::Statement>, std::less<>> stmts;

  Result<sqlite::Statement*> Fixed(Slot slot, std::string_view sql) {
    auto& s = fixed[slot];
    if (s == nullptr) {
      ET_ASSIGN_OR_RETURN(s, db->Prepare(sql, true));
    }
    return s.get();
  }

  Result<sqlite::Statement*> Get(std::string_view sql) {
    auto it = stmts.find(sql);
    if (it != stmts.end()) return it->second.get();
    ET_ASSIGN_OR_RETURN(auto stmt, db->Prepare(sql, true));
    sqlite::Statement* raw = stmt.get();
    stmts.emplace(std::string(sql), std::move(stmt));
    return raw;
  }
};

// Not expired (see ExpiryWindow): ?6 is the window's now_s, ?7 its floor_s.
constexpr char kVisibleSql[] = " AND (expires_s IS NULL OR expires_s >= ?6 OR expires_s < ?7)";

constexpr char kTableByNameSql[] =
    "SELECT table_id, name, pk_name, pk_type, sk_name, sk_type, ttl_attribute, stream_view_type, "
    "created_ms, item_count, item_bytes FROM tables WHERE name=?1";

struct Storage::Impl {
  Options opts;
  Storage* owner = nullptr;  // for the maintenance thread
  uint64_t replica = 0;
  std::unique_ptr<clock::HybridClock> hlc;

  // ---- Writer thread only (and Open before it starts). ----
  std::unique_ptr<sqlite::Db> wdb;
  std::unique_ptr<sqlite::Statement> w_get_row, w_put_row, w_add_change, w_table_by_name,
      w_set_meta, w_add_table_stats, w_set_expiry, w_expired, w_evict, w_set_sync_state;
  std::map<std::string, TableInfo, std::less<>> w_tables;  // cleared on any doubt
  int64_t next_seq = 1;
  int64_t job_bytes = 0;
  bool job_catalog = false;
  // Per table: (item count delta, item bytes delta).
  std::map<int64_t, std::pair<int64_t, int64_t>> job_deltas, batch_deltas;
  int64_t hlc_lease_ms = 0;  // committed value of meta 'hlc_lease_ms'
  // TTL recompute pass: table id -> the last key (pk, sk) recomputed. Lost
  // (the pass restarts from the table's first key) on any failure.
  std::map<int64_t, std::pair<std::string, std::string>> rescan_cursors;

  // ---- Maintenance thread. ----
  std::mutex mmu;
  std::condition_variable mcv;
  bool maintenance_stopping = false;  // GUARDED_BY(mmu)
  std::thread maintenance;
  std::atomic<int64_t> upstream_acked{0};
  std::atomic<int64_t> trimmed_seq{0};
  // SetChangeLogHold: stream retention trims no record above it.
  std::atomic<int64_t> change_log_hold{INT64_MAX};
  // Over the disk budget with BudgetPolicy::kBackpressure: writes get kBusy.
  std::atomic<bool> budget_exceeded{false};

  Status CheckBudget() {
    if (!budget_exceeded.load(std::memory_order_relaxed)) return Status::Ok();
    {
      std::lock_guard<std::mutex> lock(smu);
      ++stats.busy_rejections;
    }
    return Status::Busy("storage: disk budget of " + std::to_string(opts.disk_budget_bytes) +
                        " bytes reached and nothing acknowledged to evict; retry later");
  }

  // ---- Write queue. ----
  std::mutex qmu;
  std::condition_variable qcv;
  std::deque<Job*> queue;      // GUARDED_BY(qmu)
  // Groups committed while a bulk job waited at the front of the queue.
  int bulk_skips = 0;          // GUARDED_BY(qmu)
  static constexpr int kBulkSkipsMax = 4;
  bool stopping = false;       // GUARDED_BY(qmu)
  bool writer_waiting = false;  // GUARDED_BY(qmu): the writer sleeps on qcv
  // Queued jobs that are not bulk; written under qmu, read by a running bulk
  // job (ApplyRemoteOptions::yield_to_local_writes) without it.
  std::atomic<int> local_queued{0};
  // steady_clock nanoseconds of the last commit that carried a local
  // (not bulk) job: while local writes are recent, a bulk job that may
  // yield commits every kRecentLocalChunk changes, so that the next local
  // write never waits for the commit of a long run of remote changes.
  std::atomic<int64_t> last_local_commit_ns{0};
  static constexpr int64_t kRecentLocalNs = 200'000'000;
  static constexpr size_t kRecentLocalChunk = 16;
  bool LocalWritesRecent() const {
    const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch()).count();
    return now - last_local_commit_ns.load(std::memory_order_relaxed) < kRecentLocalNs;
  }
  std::thread writer;
  // Writer thread only: set while the writer runs a bulk job (a remote
  // batch) at background priority; reset (normal priority again) after its
  // commit, or as soon as a local write waits (see ApplyRemote), so that a
  // local write never waits for a writer that lost the CPU to the API.
  std::optional<BackgroundPriorityScope> bulk_priority;
  // Writer thread only: the savepoint journal mode of the writer connection
  // (see SetSubJournalInMemory) and whether the last switch took.
  bool subjournal_in_memory = false;
  bool subjournal_switch_ok = true;
  // Writer thread only: back to normal priority (idempotent).
  void EndBulkPriority() { bulk_priority.reset(); }

  // ---- Checkpoint thread (Options::wal_autocheckpoint_pages). ----
  std::unique_ptr<sqlite::Db> cdb;  // used by the checkpoint thread only
  std::mutex kmu;
  std::condition_variable kcv;
  bool checkpoint_wanted = false;    // GUARDED_BY(kmu)
  bool checkpoint_stopping = false;  // GUARDED_BY(kmu)
  std::thread checkpointer;
  int writer_checkpoint_pages = 0;  // writer thread only: WAL size at its last full checkpoint
  int last_wal_pages = 0;           // writer thread only: WAL size after the last commit
  // Set by the checkpoint thread when the WAL holds at most
  // kTopUpFramesMax frames it has not copied: the writer copies those
  // itself after its next commit, between two transactions, so that the
  // next transaction starts the WAL from its beginning. (Under a steady
  // stream of commits a checkpoint on another connection never catches the
  // last frame, and only a checkpoint between two writes lets the WAL
  // restart; without it the WAL would grow without end.)
  std::atomic<bool> topup_ready{false};
  // The writer copied the last frame: its next transaction restarts the WAL
  // (unless a checkpoint runs then), so the thread starts no pass.
  std::atomic<bool> restart_pending{false};
  static constexpr int kTopUpFramesMax = 256;
  // Writer thread only: top-ups put off in a row because local writes waited.
  int topup_deferrals = 0;
  static constexpr int kTopUpDeferralsMax = 16;
  static constexpr int kPassesMax = 4;

  // Writer thread, after a commit.
  void AfterCommitWal() {
    const int pages = wdb->WalPages();
    if (pages < last_wal_pages) {
      std::lock_guard<std::mutex> lock(smu);
      ++stats.wal_restarts;
    }
    last_wal_pages = pages;
    if (pages < opts.wal_autocheckpoint_pages) {
      writer_checkpoint_pages = 0;
      topup_ready.store(false, std::memory_order_relaxed);  // the WAL restarted
      restart_pending.store(false, std::memory_order_relaxed);
      return;
    }
    // Still large after a top-up: something (a reader) kept the WAL from
    // restarting; the thread takes over again.
    restart_pending.store(false, std::memory_order_relaxed);
    // Past 2x the threshold the disk is not keeping up with the writes (the
    // thread's copy ends with a sync of everything it copied, and the
    // writer, with synchronous=NORMAL, never waits for the disk): the writer
    // waits for the thread's pass and copies the rest itself, which bounds
    // the WAL and holds writes back to what the disk takes, as SQLite's own
    // automatic checkpoint would. Once per threshold of growth.
    const bool fell_behind = pages >= 2 * static_cast<int64_t>(opts.wal_autocheckpoint_pages) &&
                             pages - writer_checkpoint_pages >= opts.wal_autocheckpoint_pages;
    const bool topup = topup_ready.load(std::memory_order_relaxed);
    // A top-up while local writes wait would hold them for its copy and
    // syncs: it is put off to a later commit, a bounded number of times in a
    // row (under a steady queue the WAL must still restart).
    if (topup && !fell_behind && local_queued.load(std::memory_order_relaxed) > 0 &&
        topup_deferrals < kTopUpDeferralsMax) {
      ++topup_deferrals;
      return;
    }
    topup_deferrals = 0;
    if (topup || fell_behind) {
      if (fell_behind) writer_checkpoint_pages = pages;
      // Set first: the thread must not start another pass now, or the next
      // transaction could not restart the WAL.
      restart_pending.store(true, std::memory_order_relaxed);
      auto r = wdb->Checkpoint();
      // Busy: the thread is in a pass. A top-up is tried again after the
      // next commit; a writer that fell behind waits for the pass (bounded).
      for (int waited_ms = 0; fell_behind && !r.ok() && r.status().code() == Status::Code::kBusy && waited_ms < 10'000;
           ++waited_ms) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
        r = wdb->Checkpoint();
      }
      if (!r.ok()) {
        restart_pending.store(false, std::memory_order_relaxed);
        return;
      }
      topup_ready.store(false, std::memory_order_relaxed);
      std::lock_guard<std::mutex> lock(smu);
      ++(topup ? stats.wal_topups : stats.wal_writer_checkpoints);
      return;
    }
    {
      std::lock_guard<std::mutex> lock(kmu);
      if (checkpoint_wanted) return;
      checkpoint_wanted = true;
    }
    kcv.notify_one();
  }

  void CheckpointLoop() {
#ifdef __linux__
    pthread_setname_np(pthread_self(), "et-checkpoint");
#endif
    // Copying the WAL back never holds up a write (the writer waits for a
    // pass only once the WAL is past 2x the threshold): the API goes first.
    SetCurrentThreadBackground();
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(kmu);
        kcv.wait(lock, [&] { return checkpoint_wanted || checkpoint_stopping; });
        if (checkpoint_stopping) return;
        checkpoint_wanted = false;
      }
      auto writer_finishes = [&] {
        return topup_ready.load(std::memory_order_relaxed) || restart_pending.load(std::memory_order_relaxed);
      };
      if (writer_finishes()) continue;
      // Passes copy what the WAL holds without stopping anyone, each one
      // what the writer added during the last, until the writer can finish
      // with a short top-up (see topup_ready); after kPassesMax the writer
      // finishes whatever is left (it writes faster than this thread copies
      // and syncs: a top-up still costs less than the whole copy).
      for (int pass = 0; pass < kPassesMax && !writer_finishes(); ++pass) {
        const auto start = std::chrono::steady_clock::now();
        auto r = cdb->Checkpoint();
        const int64_t ms =
            std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - start).count();
        if (!r.ok()) {
          if (r.status().code() != Status::Code::kBusy) ET_LOG_WARN("storage: WAL checkpoint: {}", r.status().ToString());
          break;
        }
        ET_LOG_DEBUG("storage: WAL checkpoint copied up to frame {} of {} in {} ms", r->second, r->first, ms);
        {
          std::lock_guard<std::mutex> lock(smu);
          ++stats.wal_checkpoints;
          stats.wal_checkpoint_ms_max = std::max(stats.wal_checkpoint_ms_max, ms);
        }
        if (r->second < r->first) break;  // a reader still needs the rest: copy it next time
        const int behind = wdb->WalPages() - r->second;  // the WAL may have restarted: then <= 0
        if (behind <= kTopUpFramesMax || pass == kPassesMax - 1) {
          if (behind > 0) topup_ready.store(true, std::memory_order_relaxed);
          break;
        }
      }
    }
  }

  // ---- Read connections. ----
  std::mutex rmu;
  std::condition_variable rcv;
  std::vector<std::unique_ptr<Reader>> free_readers;  // GUARDED_BY(rmu)
  int readers_open = 0;                               // GUARDED_BY(rmu)

  // ---- Catalog cache for readers: invalidated after a catalog commit. ----
  std::mutex cmu;
  std::map<std::string, std::shared_ptr<const TableInfo>, std::less<>> cache;  // GUARDED_BY(cmu)
  uint64_t cache_gen = 0;                                                     // GUARDED_BY(cmu)

  // ---- Stats. ----
  mutable std::mutex smu;
  StorageStats stats;  // GUARDED_BY(smu)
  std::atomic<int64_t> last_seq{0};

  // ======================= Setup =======================

  bool RetentionConfigured() const {
    if (opts.retention_max_age_ms > 0 || opts.disk_budget_bytes > 0) return true;
    for (const auto& [name, age] : opts.retention_max_age_ms_by_table) {
      if (age > 0) return true;
    }
    return false;
  }

  Status ApplyPragmas(sqlite::Db* db, int64_t cache_bytes) {
    ET_RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout=5000"));
    ET_RETURN_IF_ERROR(
        db->Exec("PRAGMA cache_size=-" + std::to_string(std::max<int64_t>(cache_bytes / 1024, 64))));
    return Status::Ok();
  }

  Status OpenWriter() {
    ET_ASSIGN_OR_RETURN(wdb, sqlite::Db::Open(opts.path, sqlite::Db::Mode::kReadWriteCreate));
    ET_RETURN_IF_ERROR(ApplyPragmas(wdb.get(), opts.writer_cache_bytes));
    // Evicted space goes back to the file system (PRAGMA incremental_vacuum
    // after each eviction batch). auto_vacuum can only be switched on before
    // the first table exists, or by a VACUUM, which rewrites the file: an
    // older database is converted when retention is configured.
    {
      ET_ASSIGN_OR_RETURN(int64_t auto_vacuum, wdb->QueryInt("PRAGMA auto_vacuum"));
      if (auto_vacuum != 2) {
        ET_ASSIGN_OR_RETURN(int64_t objects, wdb->QueryInt("SELECT count(*) FROM sqlite_master"));
        ET_RETURN_IF_ERROR(wdb->Exec("PRAGMA auto_vacuum=INCREMENTAL"));
        if (objects > 0 && RetentionConfigured()) {
          ET_LOG_INFO("storage: converting {} to incremental auto-vacuum (VACUUM; may take a while)", opts.path);
          ET_RETURN_IF_ERROR(wdb->Exec("VACUUM"));
        } else if (objects > 0) {
          ET_LOG_INFO("storage: {} has no incremental auto-vacuum; it is converted once retention is "
                      "configured", opts.path);
        }
      }
    }
    ET_ASSIGN_OR_RETURN(std::string mode, wdb->QueryText("PRAGMA journal_mode=WAL"));
    if (mode != "wal") return Status::IOError("storage: cannot enable WAL mode (got " + mode + ")");
    ET_RETURN_IF_ERROR(wdb->Exec(opts.durability == Durability::kFull ? "PRAGMA synchronous=FULL"
                                                                      : "PRAGMA synchronous=NORMAL"));
    // The checkpoint thread copies the WAL back (CheckpointLoop); the
    // writer's commits only record the WAL's size.
    wdb->WatchWal();
    // Truncate the -wal file after a checkpoint if it grew past this, so an
    // ingest burst does not keep hundreds of MB of an SD card.
    ET_RETURN_IF_ERROR(wdb->Exec("PRAGMA journal_size_limit=67108864"));
    ET_RETURN_IF_ERROR(wdb->Exec("PRAGMA foreign_keys=OFF"));

    {
      ET_ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::BeginImmediate(wdb.get()));
      ET_RETURN_IF_ERROR(wdb->Exec(kSchemaSql));
      for (const UpgradeColumn& c : kUpgradeColumns) {
        ET_ASSIGN_OR_RETURN(int64_t has, wdb->QueryInt(std::string("SELECT count(*) FROM pragma_table_info('") +
                                                       c.table + "') WHERE name='" + c.column + "'"));
        if (has == 0) {
          ET_RETURN_IF_ERROR(wdb->Exec(std::string("ALTER TABLE ") + c.table + " ADD COLUMN " + c.column + " " +
                                       c.declaration));
        }
      }
      if (RetentionConfigured()) ET_RETURN_IF_ERROR(wdb->Exec(kAgeIndexSql));
      ET_ASSIGN_OR_RETURN(auto get_meta, wdb->Prepare("SELECT value FROM meta WHERE key=?1", false));
      auto read_meta = [&](const char* key) -> Result<std::optional<int64_t>> {
        get_meta->Reset();
        ET_RETURN_IF_ERROR(get_meta->BindText(1, key));
        ET_ASSIGN_OR_RETURN(bool row, get_meta->Step());
        std::optional<int64_t> v;
        if (row) v = get_meta->ColumnInt64(0);
        get_meta->Reset();
        return v;
      };
      ET_ASSIGN_OR_RETURN(auto put_meta,
                          wdb->Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", false));
      auto write_meta = [&](const char* key, int64_t v) -> Status {
        put_meta->Reset();
        ET_RETURN_IF_ERROR(put_meta->BindText(1, key));
        ET_RETURN_IF_ERROR(put_meta->BindInt64(2, v));
        Status s = put_meta->Run();
        put_meta->Reset();
        return s;
      };

      ET_ASSIGN_OR_RETURN(auto version, read_meta("schema_version"));
      if (!version || *version < kSchemaVersion) {
        ET_RETURN_IF_ERROR(write_meta("schema_version", kSchemaVersion));
      } else if (*version > kSchemaVersion) {
        return Status::InvalidArgument("storage: " + opts.path + " has schema version " +
                                       std::to_string(*version) + ", this build knows up to " +
                                       std::to_string(kSchemaVersion));
      }

      ET_ASSIGN_OR_RETURN(auto stored_replica, read_meta("replica_id"));
      if (stored_replica) {
        replica = FromDb(*stored_replica);
      } else {
        replica = opts.replica_id;
        if (replica == 0) {
          std::random_device rd;
          std::uniform_int_distribution<uint64_t> dist(1, UINT64_MAX);
          replica = dist(rd);
        }
        ET_RETURN_IF_ERROR(write_meta("replica_id", ToDb(replica)));
        ET_LOG_INFO("storage: new database {} with replica id {:016x}", opts.path, replica);
      }
      if (replica == 0) return Status::Corruption("storage: replica id 0 in " + opts.path);

      ET_ASSIGN_OR_RETURN(auto lease, read_meta("hlc_lease_ms"));
      hlc = std::make_unique<clock::HybridClock>(opts.clock, replica);
      if (lease) {
        hlc_lease_ms = *lease;
        hlc->SetFloor(clock::Version{hlc_lease_ms, 0, 0});  // invariant (4), see kHlcLeaseMs
      }

      // Dense across restarts (invariant 3): the next sequence follows the
      // last record. Whatever trims the log later keeps its newest record,
      // or records meta 'last_seq' first.
      ET_ASSIGN_OR_RETURN(auto meta_seq, read_meta("last_seq"));
      ET_ASSIGN_OR_RETURN(int64_t max_seq, wdb->QueryInt("SELECT coalesce(max(seq), 0) FROM changes"));
      next_seq = std::max<int64_t>(meta_seq.value_or(0), max_seq) + 1;
      last_seq.store(next_seq - 1);
      ET_ASSIGN_OR_RETURN(auto acked, read_meta("upstream_acked_seq"));
      upstream_acked.store(acked.value_or(0));
      ET_ASSIGN_OR_RETURN(auto trimmed, read_meta("trimmed_seq"));
      trimmed_seq.store(trimmed.value_or(0));
      get_meta.reset();
      put_meta.reset();
      ET_RETURN_IF_ERROR(txn->Commit());
    }

    ET_ASSIGN_OR_RETURN(w_get_row, wdb->Prepare("SELECT hlc_ms, counter, replica, deleted, item, prev_hlc_ms, "
                                                "prev_counter, prev_replica FROM items "
                                                "WHERE table_id=?1 AND pk=?2 AND sk=?3"));
    ET_ASSIGN_OR_RETURN(w_put_row,
                        wdb->Prepare("INSERT OR REPLACE INTO items(table_id, pk, sk, seg, hlc_ms, counter, "
                                     "replica, expires_s, deleted, item, seq, prev_hlc_ms, prev_counter, "
                                     "prev_replica) "
                                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)"));
    ET_ASSIGN_OR_RETURN(w_add_change,
                        wdb->Prepare("INSERT INTO changes(seq, txn_id, table_id, pk, sk, op, old_image, "
                                     "new_image, hlc_ms, counter, replica, origin, ttl_delete, prev_hlc_ms, "
                                     "prev_counter, prev_replica, source) "
                                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
                                     "?16, ?17)"));
    ET_ASSIGN_OR_RETURN(w_set_sync_state,
                        wdb->Prepare("INSERT OR REPLACE INTO sync_state(key, value) VALUES(?1, ?2)"));
    ET_ASSIGN_OR_RETURN(w_table_by_name, wdb->Prepare(kTableByNameSql));
    ET_ASSIGN_OR_RETURN(w_set_meta, wdb->Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"));
    ET_ASSIGN_OR_RETURN(w_add_table_stats,
                        wdb->Prepare("UPDATE tables SET item_count=item_count+?2, item_bytes=item_bytes+?3 "
                                     "WHERE table_id=?1"));
    return Status::Ok();
  }

  // ======================= Catalog rows =======================

  static Result<TableInfo> TableFromRow(const sqlite::Statement& s) {
    TableInfo t;
    t.id = s.ColumnInt64(0);
    t.name = std::string(s.ColumnText(1));
    t.key_schema.partition.name = std::string(s.ColumnText(2));
    ET_ASSIGN_OR_RETURN(t.key_schema.partition.type, ParseTypeCode(s.ColumnText(3)));
    if (!s.ColumnIsNull(4)) {
      item::KeyAttribute sk;
      sk.name = std::string(s.ColumnText(4));
      ET_ASSIGN_OR_RETURN(sk.type, ParseTypeCode(s.ColumnText(5)));
      t.key_schema.sort = std::move(sk);
    }
    t.settings.ttl_attribute = std::string(s.ColumnText(6));
    int64_t svt = s.ColumnInt64(7);
    if (svt < 0 || svt > static_cast<int64_t>(StreamViewType::kNewAndOldImages)) {
      return Status::Corruption("storage: bad stream view type in catalog for table " + t.name);
    }
    t.settings.stream_view_type = static_cast<StreamViewType>(svt);
    t.created_ms = s.ColumnInt64(8);
    t.item_count = s.ColumnInt64(9);
    t.item_bytes = s.ColumnInt64(10);
    return t;
  }

  static Result<std::optional<TableInfo>> LookupTable(sqlite::Statement* s, std::string_view name) {
    sqlite::ScopedReset reset(s);
    ET_RETURN_IF_ERROR(s->BindText(1, name));
    ET_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) return std::optional<TableInfo>();
    ET_ASSIGN_OR_RETURN(TableInfo t, TableFromRow(*s));
    return std::optional<TableInfo>(std::move(t));
  }

  // Writer thread: the table as this transaction sees it.
  Result<const TableInfo*> WriterTable(std::string_view name) {
    auto it = w_tables.find(name);
    if (it != w_tables.end()) return &it->second;
    ET_ASSIGN_OR_RETURN(auto t, LookupTable(w_table_by_name.get(), name));
    if (!t) return Status::NotFound("Requested resource not found: table " + std::string(name));
    auto [pos, inserted] = w_tables.emplace(std::string(name), std::move(*t));
    (void)inserted;
    return &pos->second;
  }

  // ======================= Write path (writer thread) =======================

  struct Row {
    bool exists = false;  // a live item or a tombstone
    bool live = false;
    clock::Version version;
    clock::Version prev_version;  // what the row's write replaced (ChangeRecord::prev_version)
    std::string bytes;  // encoded item when live
    item::Item item;    // decoded when live
  };

  Status ReadRow(int64_t table_id, const item::EncodedKey& k, Row* row) {
    sqlite::Statement* s = w_get_row.get();
    sqlite::ScopedReset reset(s);
    ET_RETURN_IF_ERROR(s->BindInt64(1, table_id));
    ET_RETURN_IF_ERROR(s->BindBlobRef(2, k.partition));
    ET_RETURN_IF_ERROR(s->BindBlobRef(3, k.sort));
    ET_ASSIGN_OR_RETURN(bool found, s->Step());
    if (!found) return Status::Ok();
    row->exists = true;
    row->version = clock::Version{s->ColumnInt64(0), static_cast<int32_t>(s->ColumnInt64(1)),
                                  FromDb(s->ColumnInt64(2))};
    row->live = s->ColumnInt64(3) == 0;
    row->prev_version = clock::Version{s->ColumnInt64(5), static_cast<int32_t>(s->ColumnInt64(6)),
                                       FromDb(s->ColumnInt64(7))};
    if (row->live) {
      row->bytes = std::string(s->ColumnBlob(4));
      ET_ASSIGN_OR_RETURN(row->item, wire::DecodeItem(row->bytes));
    }
    return Status::Ok();
  }

  Status WriteRow(int64_t table_id, const item::EncodedKey& k, const clock::Version& v,
                  const clock::Version& prev, std::optional<int64_t> expires_s, const std::string* bytes) {
    sqlite::Statement* s = w_put_row.get();
    sqlite::ScopedReset reset(s);
    ET_RETURN_IF_ERROR(s->BindInt64(1, table_id));
    ET_RETURN_IF_ERROR(s->BindBlobRef(2, k.partition));
    ET_RETURN_IF_ERROR(s->BindBlobRef(3, k.sort));
    ET_RETURN_IF_ERROR(s->BindInt64(4, SegmentHash(k.partition)));
    ET_RETURN_IF_ERROR(s->BindInt64(5, v.hlc_ms));
    ET_RETURN_IF_ERROR(s->BindInt64(6, v.counter));
    ET_RETURN_IF_ERROR(s->BindInt64(7, ToDb(v.replica)));
    if (expires_s) ET_RETURN_IF_ERROR(s->BindInt64(8, *expires_s));
    ET_RETURN_IF_ERROR(s->BindInt64(9, bytes == nullptr ? 1 : 0));
    if (bytes != nullptr) ET_RETURN_IF_ERROR(s->BindBlobRef(10, *bytes));
    // Every WriteRow is followed by the AppendChange that takes next_seq.
    ET_RETURN_IF_ERROR(s->BindInt64(11, next_seq));
    ET_RETURN_IF_ERROR(s->BindInt64(12, prev.hlc_ms));
    ET_RETURN_IF_ERROR(s->BindInt64(13, prev.counter));
    ET_RETURN_IF_ERROR(s->BindInt64(14, ToDb(prev.replica)));
    return s->Run();
  }

  // Who made a change and what it replaced, as logged with it.
  struct Stamp {
    clock::Version version;
    clock::Version prev;  // ChangeRecord::prev_version
    uint64_t origin = 0;
    uint64_t source = 0;  // 0: a local write
    bool ttl_delete = false;
  };

  // Appends one change record (invariants 2, 3, 6). Returns its sequence.
  Result<int64_t> AppendChange(int64_t table_id, const item::EncodedKey& k, ChangeOp op,
                               const std::string* old_image, const std::string* new_image, const Stamp& st,
                               int64_t* txn_id) {
    const int64_t seq = next_seq;
    if (*txn_id == 0) *txn_id = seq;
    sqlite::Statement* s = w_add_change.get();
    sqlite::ScopedReset reset(s);
    ET_RETURN_IF_ERROR(s->BindInt64(1, seq));
    ET_RETURN_IF_ERROR(s->BindInt64(2, *txn_id));
    ET_RETURN_IF_ERROR(s->BindInt64(3, table_id));
    ET_RETURN_IF_ERROR(s->BindBlobRef(4, k.partition));
    ET_RETURN_IF_ERROR(s->BindBlobRef(5, k.sort));
    ET_RETURN_IF_ERROR(s->BindInt64(6, static_cast<int64_t>(op)));
    if (old_image != nullptr) ET_RETURN_IF_ERROR(s->BindBlobRef(7, *old_image));
    if (new_image != nullptr) ET_RETURN_IF_ERROR(s->BindBlobRef(8, *new_image));
    ET_RETURN_IF_ERROR(s->BindInt64(9, st.version.hlc_ms));
    ET_RETURN_IF_ERROR(s->BindInt64(10, st.version.counter));
    ET_RETURN_IF_ERROR(s->BindInt64(11, ToDb(st.version.replica)));
    ET_RETURN_IF_ERROR(s->BindInt64(12, ToDb(st.origin)));
    ET_RETURN_IF_ERROR(s->BindInt64(13, st.ttl_delete ? 1 : 0));
    ET_RETURN_IF_ERROR(s->BindInt64(14, st.prev.hlc_ms));
    ET_RETURN_IF_ERROR(s->BindInt64(15, st.prev.counter));
    ET_RETURN_IF_ERROR(s->BindInt64(16, ToDb(st.prev.replica)));
    ET_RETURN_IF_ERROR(s->BindInt64(17, ToDb(st.source)));
    ET_RETURN_IF_ERROR(s->Run());
    ++next_seq;
    job_bytes += static_cast<int64_t>((old_image ? old_image->size() : 0) +
                                      (new_image ? new_image->size() : 0));
    return seq;
  }

  void AddDelta(int64_t table_id, int64_t count, int64_t bytes) {
    auto& d = job_deltas[table_id];
    d.first += count;
    d.second += bytes;
  }

  // A version for a local write on a key whose row is `row`: from the clock,
  // and above the stored one even if the clock was somehow behind it
  // (invariant 5).
  clock::Version NextVersion(const Row& row) {
    clock::Version v = hlc->Now();
    if (row.exists && !(v > row.version)) {
      hlc->Observe(row.version);
      v = hlc->Now();
    }
    return v;
  }

  Status CheckNewItem(const TableInfo& t, const item::EncodedKey& k, const item::Item& it) {
    ET_RETURN_IF_ERROR(item::ValidateItem(it, t.key_schema));
    ET_ASSIGN_OR_RETURN(item::EncodedKey got, item::ExtractKey(it, t.key_schema));
    if (!(got == k)) {
      return Status::InvalidArgument(
          "One or more parameter values were invalid: the new item's key differs from the key "
          "written (table " + t.name + ")");
    }
    return Status::Ok();
  }

  // Runs one local write on a key (writer thread, inside a savepoint).
  Status ExecuteLocal(const TableInfo& t, const item::EncodedKey& k, const MutateFn& fn,
                      bool ttl_delete, int64_t* txn_id, WriteOutcome* out) {
    Row row;
    ET_RETURN_IF_ERROR(ReadRow(t.id, k, &row));
    ET_ASSIGN_OR_RETURN(Decision d, fn(row.live ? &row.item : nullptr));
    switch (d.kind()) {
      case Decision::Kind::kKeep:
        if (row.live) {
          out->old_item = row.item;
          out->new_item = std::move(row.item);
        }
        return Status::Ok();
      case Decision::Kind::kDelete: {
        if (!row.live) return Status::Ok();
        clock::Version v = NextVersion(row);
        ET_RETURN_IF_ERROR(WriteRow(t.id, k, v, row.version, std::nullopt, nullptr));
        ET_ASSIGN_OR_RETURN(out->seq, AppendChange(t.id, k, ChangeOp::kRemove, &row.bytes, nullptr,
                                                   Stamp{v, row.version, replica, 0, ttl_delete}, txn_id));
        AddDelta(t.id, -1, -static_cast<int64_t>(row.bytes.size()));
        out->changed = true;
        out->version = v;
        out->old_item = std::move(row.item);
        return Status::Ok();
      }
      case Decision::Kind::kPut: {
        ET_RETURN_IF_ERROR(CheckNewItem(t, k, d.item()));
        std::string bytes = wire::EncodeItem(d.item());
        clock::Version v = NextVersion(row);
        // row.version: a tombstone's too, zero when the key was never stored here.
        ET_RETURN_IF_ERROR(WriteRow(t.id, k, v, row.version, ExpiryOf(t.settings, d.item()), &bytes));
        ChangeOp op = row.live ? ChangeOp::kModify : ChangeOp::kInsert;
        ET_ASSIGN_OR_RETURN(out->seq, AppendChange(t.id, k, op, row.live ? &row.bytes : nullptr, &bytes,
                                                   Stamp{v, row.version, replica, 0, false}, txn_id));
        AddDelta(t.id, row.live ? 0 : 1,
                 static_cast<int64_t>(bytes.size()) - static_cast<int64_t>(row.bytes.size()));
        out->changed = true;
        out->version = v;
        if (row.live) out->old_item = std::move(row.item);
        out->new_item = std::move(d.item());
        return Status::Ok();
      }
    }
    return Status::Internal("storage: unknown decision");
  }

  Status ExecuteWrite(const Write& w, WriteOutcome* out) {
    ET_ASSIGN_OR_RETURN(const TableInfo* t, WriterTable(w.table));
    ET_ASSIGN_OR_RETURN(item::EncodedKey k, item::ExtractKey(w.key, t->key_schema, true));
    int64_t txn_id = 0;
    return ExecuteLocal(*t, k, w.fn, w.ttl_delete, &txn_id, out);
  }

  // One ApplyRemote call as the writer runs it.
  struct RemoteBatch {
    const ApplyRemoteOptions* options = nullptr;
    // A copy: a failing write clears the writer's table cache.
    std::optional<TableInfo> conflicts_table;
    int64_t txn_id = 0;  // every record of the call, conflict records included (invariant 6)
    int64_t conflicts = 0;
  };

  // Observes a received version, up to the batch's cap (observe_max_hlc_ms):
  // the version is stored as it is, but a clock dragged far ahead would
  // stamp every later local write with that future too.
  void ObserveRemote(const clock::Version& v, int64_t max_hlc_ms) {
    if (max_hlc_ms > 0 && v.hlc_ms > max_hlc_ms) {
      hlc->Observe(clock::Version{max_hlc_ms, 0, 0});
    } else {
      hlc->Observe(v);
    }
  }

  // Counts a conflict and, with a conflicts table, writes its item (the
  // format of ConflictsTableSchema()) through the local write path, so that
  // it is versioned, logged and streamed like any write, in the batch's
  // transaction. loser_item / winner_put: nullptr / false for a delete.
  Status RecordConflict(const TableInfo& t, const item::Map& key, std::string_view reason,
                        const clock::Version& loser, const item::Item* loser_item, const clock::Version& winner,
                        bool winner_put, RemoteBatch* b) {
    ++b->conflicts;
    if (!b->conflicts_table) return Status::Ok();
    const TableInfo& ct = *b->conflicts_table;
    item::Item rec;
    rec["table"] = item::Value::S(t.name);
    rec["conflict_id"] = item::Value::S(ConflictId(loser));
    rec["key"] = item::Value::M(key);
    rec["reason"] = item::Value::S(std::string(reason));
    rec["loser_version"] = item::Value::S(loser.ToString());
    rec["winner_version"] = item::Value::S(winner.ToString());
    rec["loser_replica"] = item::Value::S(Hex(loser.replica));
    rec["winner_replica"] = item::Value::S(Hex(winner.replica));
    rec["loser_op"] = item::Value::S(loser_item != nullptr ? "PUT" : "DELETE");
    rec["winner_op"] = item::Value::S(winner_put ? "PUT" : "DELETE");
    rec["detected_ms"] = item::Value::N(item::Number::FromInt(opts.clock->NowMs()));
    rec["detected_by"] = item::Value::S(Hex(replica));
    if (loser_item != nullptr) {
      // One level deeper and with the record's own attributes, a valid item
      // may no longer be one (size, nesting); the record must not fail the
      // batch, so it goes without the item.
      rec["loser_item"] = item::Value::M(*loser_item);
      if (!item::ValidateItem(rec, ct.key_schema).ok()) {
        rec.erase("loser_item");
        rec["loser_item_omitted"] = item::Value::Bool(true);
      }
    }
    ET_ASSIGN_OR_RETURN(item::EncodedKey k, item::ExtractKey(rec, ct.key_schema));
    MutateFn fn = [&rec](const item::Item*) -> Result<Decision> { return Decision::Put(std::move(rec)); };
    WriteOutcome out;
    return ExecuteLocal(ct, k, fn, false, &b->txn_id, &out)
        .WithPrefix("storage: recording a conflict in " + ct.name);
  }

  // Applies one remote change (see "Conflicts" at ApplyRemote in storage.h).
  Status ExecuteRemote(const RemoteChange& c, RemoteBatch* b, bool* applied) {
    ET_ASSIGN_OR_RETURN(const TableInfo* t, WriterTable(c.table));
    ET_ASSIGN_OR_RETURN(item::EncodedKey k, item::ExtractKey(c.key, t->key_schema, true));
    if (c.version.is_zero()) return Status::InvalidArgument("storage: remote change without a version");
    ObserveRemote(c.version, b->options->observe_max_hlc_ms);
    Row row;
    ET_RETURN_IF_ERROR(ReadRow(t->id, k, &row));
    if (row.exists && !(c.version > row.version)) {  // invariant (5), idempotent apply
      *applied = false;
      // Older than the stored write, whose writer had not seen it: it lost.
      // Otherwise a duplicate, or a stale redelivery of a write the stored
      // one replaced knowingly.
      // Two deletes (e.g. two replicas' TTL sweeps) agree: no conflict.
      const bool both_deletes = !c.new_item && !row.live;
      if (c.version < row.version && row.prev_version < c.version && !both_deletes) {
        ET_RETURN_IF_ERROR(RecordConflict(*t, c.key, "rejected", c.version, c.new_item ? &*c.new_item : nullptr,
                                          row.version, row.live, b));
      }
      return Status::Ok();
    }
    const uint64_t origin = c.origin_replica != 0 ? c.origin_replica : c.version.replica;
    // The prev version travels unchanged, so that every replica judges a
    // later change against the same history.
    Stamp stamp{c.version, c.prev_version, origin, b->options->source_replica, false};
    if (c.new_item) {
      ET_RETURN_IF_ERROR(CheckNewItem(*t, k, *c.new_item));
      std::string bytes = wire::EncodeItem(*c.new_item);
      ET_RETURN_IF_ERROR(
          WriteRow(t->id, k, c.version, c.prev_version, ExpiryOf(t->settings, *c.new_item), &bytes));
      ChangeOp op = row.live ? ChangeOp::kModify : ChangeOp::kInsert;
      ET_ASSIGN_OR_RETURN(int64_t seq, AppendChange(t->id, k, op, row.live ? &row.bytes : nullptr, &bytes,
                                                    stamp, &b->txn_id));
      (void)seq;
      AddDelta(t->id, row.live ? 0 : 1,
               static_cast<int64_t>(bytes.size()) - static_cast<int64_t>(row.bytes.size()));
    } else {
      // A tombstone even where nothing was stored, so that an older write
      // arriving later cannot resurrect the item; logged for forwarding.
      stamp.ttl_delete = c.ttl_delete;
      ET_RETURN_IF_ERROR(WriteRow(t->id, k, c.version, c.prev_version, std::nullopt, nullptr));
      ET_ASSIGN_OR_RETURN(int64_t seq, AppendChange(t->id, k, ChangeOp::kRemove,
                                                    row.live ? &row.bytes : nullptr, nullptr, stamp, &b->txn_id));
      (void)seq;
      if (row.live) AddDelta(t->id, -1, -static_cast<int64_t>(row.bytes.size()));
    }
    *applied = true;
    // Newer, but made without knowledge of the stored write: that one lost.
    if (row.exists && c.prev_version < row.version && (c.new_item || row.live)) {
      ET_RETURN_IF_ERROR(RecordConflict(*t, c.key, "overwritten", row.version, row.live ? &row.item : nullptr,
                                        c.version, c.new_item.has_value(), b));
    }
    return Status::Ok();
  }

  Status PutSyncState(std::string_view key, std::string_view value) {
    if (key.empty()) return Status::InvalidArgument("storage: empty sync state key");
    sqlite::ScopedReset reset(w_set_sync_state.get());
    ET_RETURN_IF_ERROR(w_set_sync_state->BindText(1, key));
    ET_RETURN_IF_ERROR(w_set_sync_state->BindBlobRef(2, value));
    return w_set_sync_state->Run();
  }

  // ======================= Maintenance (writer thread, inside a job) =======================

  // One batch of the TTL recompute pass of one table (see "TTL" in
  // storage.h): at most `n` items. Sets *more when the table has more.
  Status RecomputeExpiryStep(int n, int64_t* recomputed, bool* more) {
    ET_ASSIGN_OR_RETURN(auto find, wdb->Prepare(
        "SELECT m.key, t.name FROM meta m LEFT JOIN tables t "
        "ON t.table_id = CAST(substr(m.key, 12) AS INTEGER) "
        "WHERE m.key >= 'ttl_rescan_' AND m.key < 'ttl_rescan`' LIMIT 1", false));
    ET_ASSIGN_OR_RETURN(bool row, find->Step());
    if (!row) return Status::Ok();
    const std::string meta_key(find->ColumnText(0));
    const bool table_gone = find->ColumnIsNull(1);
    const std::string name(find->ColumnText(1));
    find->Reset();
    const int64_t table_id = std::stoll(meta_key.substr(kRescanPrefix.size()));
    auto done = [&]() -> Status {
      rescan_cursors.erase(table_id);
      ET_ASSIGN_OR_RETURN(auto del, wdb->Prepare("DELETE FROM meta WHERE key=?1", false));
      ET_RETURN_IF_ERROR(del->BindText(1, meta_key));
      return del->Run();
    };
    if (table_gone) return done();
    ET_ASSIGN_OR_RETURN(const TableInfo* tp, WriterTable(name));
    const TableInfo t = *tp;
    auto& cursor = rescan_cursors[table_id];
    ET_ASSIGN_OR_RETURN(auto sel, wdb->Prepare(
        "SELECT pk, sk, item, expires_s FROM items WHERE table_id=?1 AND deleted=0 "
        "AND (pk, sk) > (?2, ?3) ORDER BY pk, sk LIMIT ?4", false));
    ET_RETURN_IF_ERROR(sel->BindInt64(1, table_id));
    ET_RETURN_IF_ERROR(sel->BindBlob(2, cursor.first));
    ET_RETURN_IF_ERROR(sel->BindBlob(3, cursor.second));
    ET_RETURN_IF_ERROR(sel->BindInt64(4, n));
    struct Fix {
      std::string pk, sk;
      std::optional<int64_t> expires_s;
    };
    std::vector<Fix> fixes;
    int seen = 0;
    for (;;) {
      ET_ASSIGN_OR_RETURN(bool r, sel->Step());
      if (!r) break;
      ++seen;
      cursor = {std::string(sel->ColumnBlob(0)), std::string(sel->ColumnBlob(1))};
      ET_ASSIGN_OR_RETURN(item::Item it, wire::DecodeItem(sel->ColumnBlob(2)));
      std::optional<int64_t> stored;
      if (!sel->ColumnIsNull(3)) stored = sel->ColumnInt64(3);
      std::optional<int64_t> want = ExpiryOf(t.settings, it);
      if (want != stored) fixes.push_back(Fix{cursor.first, cursor.second, want});
    }
    sel->Reset();
    for (const Fix& f : fixes) ET_RETURN_IF_ERROR(SetExpiry(table_id, f.pk, f.sk, f.expires_s));
    *recomputed += static_cast<int64_t>(fixes.size());
    if (seen < n) return done();
    *more = true;
    return Status::Ok();
  }

  Status SetExpiry(int64_t table_id, std::string_view pk, std::string_view sk,
                   std::optional<int64_t> expires_s) {
    if (w_set_expiry == nullptr) {
      ET_ASSIGN_OR_RETURN(w_set_expiry, wdb->Prepare(
          "UPDATE items SET expires_s=?4 WHERE table_id=?1 AND pk=?2 AND sk=?3"));
    }
    sqlite::ScopedReset reset(w_set_expiry.get());
    ET_RETURN_IF_ERROR(w_set_expiry->BindInt64(1, table_id));
    ET_RETURN_IF_ERROR(w_set_expiry->BindBlobRef(2, pk));
    ET_RETURN_IF_ERROR(w_set_expiry->BindBlobRef(3, sk));
    if (expires_s) ET_RETURN_IF_ERROR(w_set_expiry->BindInt64(4, *expires_s));
    return w_set_expiry->Run();
  }

  // One sweep batch: deletes at most `n` expired items, each a kRemove
  // with ttl_delete set and its own txn_id. Every candidate is re-checked
  // against its table's current TTL attribute; a stale expiry column (a
  // recompute pass not yet there) is corrected instead.
  Status SweepStep(int n, int64_t* deleted, bool* more) {
    const ExpiryWindow w = WindowAt(opts.clock->NowMs());
    if (w_expired == nullptr) {
      ET_ASSIGN_OR_RETURN(w_expired, wdb->Prepare(
          "SELECT t.name, i.pk, i.sk FROM items i JOIN tables t ON t.table_id = i.table_id "
          "WHERE i.expires_s IS NOT NULL AND i.expires_s < ?1 AND i.expires_s >= ?2 "
          "ORDER BY i.expires_s LIMIT ?3"));
    }
    struct Candidate {
      std::string table;
      item::EncodedKey key;
    };
    std::vector<Candidate> found;
    {
      sqlite::ScopedReset reset(w_expired.get());
      ET_RETURN_IF_ERROR(w_expired->BindInt64(1, w.now_s));
      ET_RETURN_IF_ERROR(w_expired->BindInt64(2, w.floor_s));
      ET_RETURN_IF_ERROR(w_expired->BindInt64(3, n));
      for (;;) {
        ET_ASSIGN_OR_RETURN(bool r, w_expired->Step());
        if (!r) break;
        Candidate c;
        c.table = std::string(w_expired->ColumnText(0));
        c.key.partition = std::string(w_expired->ColumnBlob(1));
        c.key.sort = std::string(w_expired->ColumnBlob(2));
        found.push_back(std::move(c));
      }
    }
    for (const Candidate& c : found) {
      ET_ASSIGN_OR_RETURN(const TableInfo* tp, WriterTable(c.table));
      const TableInfo t = *tp;
      std::optional<int64_t> current_expiry;
      MutateFn fn = [&](const item::Item* cur) -> Result<Decision> {
        if (cur == nullptr) return Decision::Keep();
        current_expiry = ExpiryOf(t.settings, *cur);
        return w.Expired(current_expiry) ? Decision::Delete() : Decision::Keep();
      };
      int64_t txn_id = 0;  // each TTL delete is its own transaction in the log
      WriteOutcome out;
      ET_RETURN_IF_ERROR(ExecuteLocal(t, c.key, fn, /*ttl_delete=*/true, &txn_id, &out));
      if (out.changed) {
        ++*deleted;
      } else {
        ET_RETURN_IF_ERROR(SetExpiry(t.id, c.key.partition, c.key.sort, current_expiry));
      }
    }
    if (static_cast<int>(found.size()) >= n) *more = true;
    return Status::Ok();
  }

  // One trim batch of the change log (see "Change log retention"): the
  // records after `from` with seq <= ack and version time < cutoff_ms, a
  // prefix in seq order. Returns the new trimmed sequence in *trimmed_to.
  Status TrimStep(int n, int64_t from, int64_t ack, int64_t cutoff_ms, int64_t* trimmed,
                  int64_t* trimmed_to, bool* more) {
    *trimmed_to = from;
    ET_ASSIGN_OR_RETURN(auto sel, wdb->Prepare(
        "SELECT seq, hlc_ms FROM changes WHERE seq > ?1 ORDER BY seq LIMIT ?2", false));
    ET_RETURN_IF_ERROR(sel->BindInt64(1, from));
    ET_RETURN_IF_ERROR(sel->BindInt64(2, n));
    int seen = 0;
    bool stopped = false;
    int64_t bound = from;
    for (;;) {
      ET_ASSIGN_OR_RETURN(bool r, sel->Step());
      if (!r) break;
      ++seen;
      const int64_t seq = sel->ColumnInt64(0);
      if (seq > ack || sel->ColumnInt64(1) >= cutoff_ms) {
        stopped = true;
        break;
      }
      bound = seq;
    }
    sel->Reset();
    if (bound == from) return Status::Ok();
    // Invariant (3): the next sequence must survive the log's last record.
    ET_RETURN_IF_ERROR(SetMeta("last_seq", next_seq - 1));
    ET_ASSIGN_OR_RETURN(auto del, wdb->Prepare("DELETE FROM changes WHERE seq > ?1 AND seq <= ?2", false));
    ET_RETURN_IF_ERROR(del->BindInt64(1, from));
    ET_RETURN_IF_ERROR(del->BindInt64(2, bound));
    ET_RETURN_IF_ERROR(del->Run());
    *trimmed += wdb->Changes();
    ET_RETURN_IF_ERROR(SetMeta("trimmed_seq", bound));
    *trimmed_to = bound;
    if (!stopped && seen >= n) *more = true;
    return Status::Ok();
  }

  // One eviction batch (see "Edge retention" in storage.h): by age, then by
  // the disk budget. Counts into *evicted / *forced; sets *more when a bound
  // was reached with work left.
  // *trimmed_to: in, the trimmed sequence so far (this job included); out,
  // after any trim of this step.
  Status RetentionStep(int n, int64_t* evicted, int64_t* forced, int64_t* trimmed, int64_t* forced_trimmed,
                       int64_t* trimmed_to, int64_t* db_bytes, bool* more) {
    const int64_t acked = opts.no_upstream ? INT64_MAX : upstream_acked.load();
    // Records above the hold are as good as unacknowledged: a downstream
    // peer still needs them (only a forced trim takes them).
    const int64_t trim_acked = std::min(acked, change_log_hold.load());
    struct Victim {
      int64_t table_id;
      std::string pk, sk;
      int64_t bytes;
    };
    auto evict = [&](std::vector<Victim>& victims) -> Status {
      if (w_evict == nullptr) {
        ET_ASSIGN_OR_RETURN(w_evict, wdb->Prepare("DELETE FROM items WHERE table_id=?1 AND pk=?2 AND sk=?3"));
      }
      for (const Victim& v : victims) {
        sqlite::ScopedReset reset(w_evict.get());
        ET_RETURN_IF_ERROR(w_evict->BindInt64(1, v.table_id));
        ET_RETURN_IF_ERROR(w_evict->BindBlobRef(2, v.pk));
        ET_RETURN_IF_ERROR(w_evict->BindBlobRef(3, v.sk));
        ET_RETURN_IF_ERROR(w_evict->Run());
        AddDelta(v.table_id, -1, -v.bytes);
      }
      return Status::Ok();
    };
    // Oldest live items first; `where` narrows them, ?1 .. bound by `bind`.
    auto select = [&](const std::string& where, const std::function<Status(sqlite::Statement*)>& bind,
                      std::vector<Victim>* out) -> Status {
      ET_ASSIGN_OR_RETURN(auto sel, wdb->Prepare(
          // The index exists whenever a retention rule does (RetentionConfigured).
          "SELECT table_id, pk, sk, length(item) FROM items INDEXED BY items_by_age WHERE deleted=0 AND " + where +
          " ORDER BY hlc_ms LIMIT " + std::to_string(n), false));
      ET_RETURN_IF_ERROR(bind(sel.get()));
      for (;;) {
        ET_ASSIGN_OR_RETURN(bool r, sel->Step());
        if (!r) break;
        out->push_back(Victim{sel->ColumnInt64(0), std::string(sel->ColumnBlob(1)),
                              std::string(sel->ColumnBlob(2)), sel->ColumnInt64(3)});
      }
      return Status::Ok();
    };

    // Age, per table.
    ET_ASSIGN_OR_RETURN(auto tables, wdb->Prepare("SELECT table_id, name FROM tables", false));
    std::vector<std::pair<int64_t, int64_t>> ages;  // table id, max age
    for (;;) {
      ET_ASSIGN_OR_RETURN(bool r, tables->Step());
      if (!r) break;
      int64_t age = opts.retention_max_age_ms;
      auto it = opts.retention_max_age_ms_by_table.find(tables->ColumnText(1));
      if (it != opts.retention_max_age_ms_by_table.end()) age = it->second;
      if (age > 0) ages.emplace_back(tables->ColumnInt64(0), age);
    }
    tables.reset();
    const int64_t now_ms = opts.clock->NowMs();
    for (const auto& [table_id, age] : ages) {
      std::vector<Victim> victims;
      const int64_t id = table_id;
      const int64_t cutoff = now_ms - age;
      auto bind = [&](sqlite::Statement* s) -> Status {
        ET_RETURN_IF_ERROR(s->BindInt64(1, id));
        ET_RETURN_IF_ERROR(s->BindInt64(2, cutoff));
        return s->BindInt64(3, acked);
      };
      ET_RETURN_IF_ERROR(select("table_id=?1 AND hlc_ms < ?2 AND seq <= ?3", bind, &victims));
      ET_RETURN_IF_ERROR(evict(victims));
      *evicted += static_cast<int64_t>(victims.size());
      if (static_cast<int>(victims.size()) >= n) *more = true;
    }

    // The disk budget. What goes, in order, while over it: acknowledged
    // change records at or below the hold (the stream horizon gives way),
    // acknowledged items, then with kEvict the oldest unacknowledged or held
    // records and unacknowledged items (forced, counted, logged).
    auto measure = [&]() -> Status {
      ET_ASSIGN_OR_RETURN(int64_t page_size, wdb->QueryInt("PRAGMA page_size"));
      ET_ASSIGN_OR_RETURN(int64_t pages, wdb->QueryInt("PRAGMA page_count"));
      ET_ASSIGN_OR_RETURN(int64_t free_pages, wdb->QueryInt("PRAGMA freelist_count"));
      *db_bytes = (pages - free_pages) * page_size;
      return Status::Ok();
    };
    ET_RETURN_IF_ERROR(measure());
    bool over = opts.disk_budget_bytes > 0 && *db_bytes > opts.disk_budget_bytes;
    if (over) {
      bool unused = false;
      int64_t n_trimmed = 0;
      ET_RETURN_IF_ERROR(TrimStep(n, *trimmed_to, trim_acked, INT64_MAX, &n_trimmed, trimmed_to, &unused));
      *trimmed += n_trimmed;
      std::vector<Victim> victims;
      auto bind_acked = [&](sqlite::Statement* s) { return s->BindInt64(1, acked); };
      if (n_trimmed == 0) {
        ET_RETURN_IF_ERROR(select("seq <= ?1", bind_acked, &victims));
        ET_RETURN_IF_ERROR(evict(victims));
        *evicted += static_cast<int64_t>(victims.size());
      }
      if (n_trimmed == 0 && victims.empty() && opts.budget_policy == BudgetPolicy::kEvict) {
        ET_RETURN_IF_ERROR(TrimStep(n, *trimmed_to, INT64_MAX, INT64_MAX, &n_trimmed, trimmed_to, &unused));
        *forced_trimmed += n_trimmed;
        ET_RETURN_IF_ERROR(select("(seq IS NULL OR seq > ?1)", bind_acked, &victims));
        ET_RETURN_IF_ERROR(evict(victims));
        *forced += static_cast<int64_t>(victims.size());
        if (n_trimmed > 0 || !victims.empty()) {
          ET_LOG_WARN("storage: disk budget of {} bytes reached ({} bytes in use) with nothing "
                      "acknowledged: dropped {} unacknowledged or held change records and {} items, which "
                      "the upstream or a downstream peer may never receive", opts.disk_budget_bytes, *db_bytes, n_trimmed, victims.size());
        }
      }
      const bool progress = n_trimmed > 0 || !victims.empty();
      if (progress) {
        *more = true;
        ET_RETURN_IF_ERROR(measure());
      }
      over = *db_bytes > opts.disk_budget_bytes && !progress;
    }
    budget_exceeded.store(over && opts.budget_policy == BudgetPolicy::kBackpressure);
    if (*evicted > 0 || *forced > 0 || *trimmed > 0 || *forced_trimmed > 0) {
      // Return the freed pages to the file system (auto_vacuum=INCREMENTAL).
      ET_RETURN_IF_ERROR(wdb->Exec("PRAGMA incremental_vacuum"));
    }
    return Status::Ok();
  }

  void MaintenanceLoop() {
#ifdef __linux__
    pthread_setname_np(pthread_self(), "et-maint");
#endif
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mmu);
        mcv.wait_for(lock, std::chrono::milliseconds(opts.ttl_sweep_interval_ms),
                     [&] { return maintenance_stopping; });
        if (maintenance_stopping) return;
      }
      // Batches follow each other while there is work, each queued behind
      // the writes already waiting; a bounded number per round, so that a
      // huge backlog cannot keep this thread from seeing a stop.
      for (int round = 0; round < 1000; ++round) {
        {
          std::lock_guard<std::mutex> lock(mmu);
          if (maintenance_stopping) return;
        }
        auto r = owner->RunMaintenanceOnce();
        if (!r.ok()) {
          if (r.status().code() != Status::Code::kBusy && r.status().code() != Status::Code::kUnavailable) {
            ET_LOG_WARN("storage: maintenance failed: {}", r.status().ToString());
          }
          break;
        }
        if (!r->more) break;
      }
    }
  }

  // ======================= Writer loop =======================

  Status SetMeta(std::string_view key, int64_t v) {
    sqlite::ScopedReset reset(w_set_meta.get());
    ET_RETURN_IF_ERROR(w_set_meta->BindText(1, key));
    ET_RETURN_IF_ERROR(w_set_meta->BindInt64(2, v));
    return w_set_meta->Run();
  }

  // Writes what a commit carries besides the jobs: table stats deltas and,
  // when the clock has reached it, a new clock lease (invariant 4).
  Status FinishBatch(int64_t* new_lease_ms) {
    for (const auto& [table_id, d] : batch_deltas) {
      if (d.first == 0 && d.second == 0) continue;
      sqlite::ScopedReset reset(w_add_table_stats.get());
      ET_RETURN_IF_ERROR(w_add_table_stats->BindInt64(1, table_id));
      ET_RETURN_IF_ERROR(w_add_table_stats->BindInt64(2, d.first));
      ET_RETURN_IF_ERROR(w_add_table_stats->BindInt64(3, d.second));
      ET_RETURN_IF_ERROR(w_add_table_stats->Run());
    }
    *new_lease_ms = hlc_lease_ms;
    const int64_t last_ms = hlc->Last().hlc_ms;
    if (last_ms >= hlc_lease_ms) {
      *new_lease_ms = last_ms + kHlcLeaseMs;
      ET_RETURN_IF_ERROR(SetMeta("hlc_lease_ms", *new_lease_ms));
    }
    return Status::Ok();
  }

  // The job the writer takes next. Local writes go ahead of queued bulk
  // jobs, except that a bulk job waiting at the front gets its turn after
  // kBulkSkipsMax groups, so that a steady local load cannot starve sync.
  // REQUIRES(qmu), queue not empty.
  std::deque<Job*>::iterator NextJob() {
    auto it = queue.begin();
    if ((*it)->bulk && bulk_skips < kBulkSkipsMax) {
      it = std::find_if(queue.begin(), queue.end(), [](const Job* j) { return !j->bulk; });
      if (it == queue.end()) it = queue.begin();
    }
    return it;
  }

  // Every job runs under a savepoint, and SQLite keeps a savepoint's undo
  // record (the statement journal) in memory only up to 64 KiB, then spills
  // it to a temporary file: a group of ingest writes went past that with
  // every job, and the file writes were about a sixth of the writer's CPU.
  // With temp_store=MEMORY, which SQLite reads when a write transaction
  // begins, the journal stays in memory, bounded by the pages one job
  // changes and freed at its RELEASE. A job whose undo is unbounded
  // (DeleteTable) gets a group with the file-backed journal instead.
  // Returns false (and changes nothing) when SQLite refuses the switch.
  bool SetSubJournalInMemory(bool in_memory) {
    if (subjournal_in_memory == in_memory) return true;
    Status s = wdb->Exec(in_memory ? "PRAGMA temp_store=MEMORY" : "PRAGMA temp_store=DEFAULT");
    if (!s.ok()) {
      ET_LOG_WARN("storage: cannot switch the savepoint journal to {}: {}", in_memory ? "memory" : "file",
                  s.ToString());
      return false;
    }
    subjournal_in_memory = in_memory;
    return true;
  }

  // Runs one job under its own savepoint; on failure undoes the job's
  // effects on the transaction and on the writer's state.
  Status RunJob(Job* job) {
    const int64_t seq_before = next_seq;
    job_deltas.clear();
    job_catalog = false;
    auto sp = sqlite::Savepoint::Begin(wdb.get());
    if (!sp.ok()) return sp.status();
    Status s = job->run();
    if (s.ok()) s = (*sp)->Release();
    if (!s.ok()) {
      (*sp).reset();  // rolls back to the savepoint
      next_seq = seq_before;
      job_deltas.clear();
      w_tables.clear();
      rescan_cursors.clear();
      return s;
    }
    for (const auto& [id, d] : job_deltas) {
      auto& b = batch_deltas[id];
      b.first += d.first;
      b.second += d.second;
    }
    return Status::Ok();
  }

  void WriterLoop() {
#ifdef __linux__
    pthread_setname_np(pthread_self(), "et-writer");  // visible in top -H and perf
#endif
    std::vector<std::pair<Job*, Status>> batch;
    batch.reserve(static_cast<size_t>(opts.group_commit_writes_max));
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(qmu);
        writer_waiting = true;
        qcv.wait(lock, [&] { return !queue.empty() || stopping; });
        writer_waiting = false;
        if (queue.empty()) return;  // stopping, and every queued job is done
      }
      batch.clear();
      batch_deltas.clear();
      bool catalog_changed = false;
      const int64_t seq_at_begin = next_seq;
      {
        bool unbounded = false;
        {
          std::lock_guard<std::mutex> lock(qmu);
          unbounded = (*NextJob())->unbounded_undo;
        }
        subjournal_switch_ok = SetSubJournalInMemory(!unbounded);
      }
      auto txn = sqlite::Transaction::BeginImmediate(wdb.get());
      Status commit_status;
      if (!txn.ok()) {
        commit_status = txn.status();
        std::lock_guard<std::mutex> lock(qmu);
        batch.emplace_back(queue.front(), Status::Ok());  // fail one job per attempt, never spin
        queue.pop_front();
      } else {
        int64_t batch_bytes = 0;
        bool batch_has_bulk = false;
        for (;;) {
          Job* job = nullptr;
          {
            std::lock_guard<std::mutex> lock(qmu);
            if (queue.empty() || static_cast<int>(batch.size()) >= opts.group_commit_writes_max ||
                batch_bytes >= opts.group_commit_bytes_max || batch_has_bulk) {
              break;
            }
            auto it = NextJob();
            if ((*it)->bulk && !batch.empty()) break;  // a bulk job commits alone
            // A job with an unbounded undo needs the file-backed journal:
            // it starts the next group (chosen before BEGIN) unless the
            // switch to that journal failed, then it runs as things are.
            if ((*it)->unbounded_undo && subjournal_in_memory && (!batch.empty() || subjournal_switch_ok)) break;
            job = *it;
            queue.erase(it);
            if (!job->bulk) local_queued.fetch_sub(1, std::memory_order_relaxed);
            if (job->bulk) {
              batch_has_bulk = true;
              bulk_skips = 0;
              // Alone in its group (see above): only remote work runs lowered.
              if (local_queued.load(std::memory_order_relaxed) == 0) bulk_priority.emplace();
            } else if (batch.empty() && !queue.empty() && queue.front()->bulk) {
              ++bulk_skips;
            }
          }
          job_bytes = 0;
          Status s = RunJob(job);
          catalog_changed |= s.ok() && job_catalog;
          batch.emplace_back(job, std::move(s));
          batch_bytes += job_bytes;
          if (!wdb->InTransaction()) {
            // SQLite rolled the whole transaction back (disk full, I/O
            // error): every job of the batch is undone.
            commit_status = Status::IOError("storage: transaction aborted by SQLite: " +
                                            batch.back().second.message());
            break;
          }
        }
        int64_t new_lease_ms = 0;
        if (commit_status.ok()) commit_status = FinishBatch(&new_lease_ms);
        if (commit_status.ok()) commit_status = (*txn)->Commit();
        EndBulkPriority();
        if (commit_status.ok()) {
          hlc_lease_ms = new_lease_ms;
        } else {
          (*txn).reset();  // rolls back
        }
      }
      if (!commit_status.ok()) {
        ET_LOG_ERROR("storage: commit of {} writes failed: {}", batch.size(), commit_status.ToString());
        next_seq = seq_at_begin;
        w_tables.clear();
        rescan_cursors.clear();
        for (auto& [job, s] : batch) {
          if (s.ok()) s = commit_status;
        }
      } else {
        last_seq.store(next_seq - 1, std::memory_order_release);
        if (std::any_of(batch.begin(), batch.end(), [](const auto& js) { return !js.first->bulk; })) {
          last_local_commit_ns.store(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                         std::chrono::steady_clock::now().time_since_epoch()).count(),
                                     std::memory_order_relaxed);
        }
        if (catalog_changed) {
          std::lock_guard<std::mutex> lock(cmu);
          cache.clear();
          ++cache_gen;
        }
      }
      {
        std::lock_guard<std::mutex> lock(smu);
        if (commit_status.ok()) {
          ++stats.commits;
          const int64_t n = static_cast<int64_t>(batch.size());
          stats.group_writes_max = std::max(stats.group_writes_max, n);
          ++stats.group_size_histogram[static_cast<size_t>(HistogramBucket(n))];
        } else {
          ++stats.commit_failures;
        }
        for (const auto& [job, s] : batch) {
          if (s.ok()) {
            ++stats.writes;
          } else {
            ++stats.write_failures;
          }
        }
      }
      // Only now, after the commit, does any caller learn its answer (invariant 1).
      for (auto& [job, s] : batch) job->Complete(std::move(s));
      // Only after the answers: a WAL top-up (a copy and two syncs, ~10 ms
      // here, more on an SD card) must not hold the writes just committed.
      if (commit_status.ok()) AfterCommitWal();
    }
  }

  // Queues a job. Returns kBusy (the job is not queued) when the queue is
  // full, kUnavailable when closing.
  // front: a maintenance job, bounded by its batch size, goes ahead of the
  // queued writes and is never refused for a full queue; otherwise a sweep
  // would get one turn per pass through a full queue and fall behind a
  // steady ingest whose items expire as fast as they arrive.
  Status Enqueue(Job* job, bool front = false) {
    bool wake = false;
    {
      std::lock_guard<std::mutex> lock(qmu);
      if (stopping) return Status::Unavailable("storage: closing");
      if (front) {
        queue.push_front(job);
      } else if (static_cast<int>(queue.size()) >= opts.write_queue_depth_max) {
        std::lock_guard<std::mutex> slock(smu);
        ++stats.busy_rejections;
        return Status::Busy("storage: write queue full (" + std::to_string(queue.size()) +
                            " writes waiting); retry later");
      }
      if (!front) queue.push_back(job);
      if (!job->bulk) local_queued.fetch_add(1, std::memory_order_relaxed);
      // A busy writer looks at the queue again before it commits: waking it
      // would only cost a futex call.
      wake = writer_waiting;
    }
    if (wake) qcv.notify_one();
    return Status::Ok();
  }

  Status Submit(std::function<Status()> run, bool front = false, bool bulk = false,
                bool unbounded_undo = false) {
    WaitedJob job;
    job.run = std::move(run);
    job.bulk = bulk;
    job.unbounded_undo = unbounded_undo;
    ET_RETURN_IF_ERROR(Enqueue(&job, front));
    return job.Wait();
  }

  // ======================= Read path =======================

  class Lease {
   public:
    Lease(Impl* impl, std::unique_ptr<Reader> r) : impl_(impl), r_(std::move(r)) {}
    ~Lease() {
      if (r_ == nullptr) return;
      {
        std::lock_guard<std::mutex> lock(impl_->rmu);
        impl_->free_readers.push_back(std::move(r_));
      }
      impl_->rcv.notify_one();
    }
    Lease(Lease&&) = default;
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    Lease& operator=(Lease&&) = delete;
    Reader* operator->() { return r_.get(); }
    Reader* get() { return r_.get(); }

   private:
    Impl* impl_;
    std::unique_ptr<Reader> r_;
  };

  Result<Lease> AcquireReader() {
    {
      std::unique_lock<std::mutex> lock(rmu);
      rcv.wait(lock, [&] { return !free_readers.empty() || readers_open < opts.reader_connections_max; });
      if (!free_readers.empty()) {
        std::unique_ptr<Reader> r = std::move(free_readers.back());
        free_readers.pop_back();
        return Lease(this, std::move(r));
      }
      ++readers_open;
    }
    auto r = std::make_unique<Reader>();
    auto db = sqlite::Db::Open(opts.path, sqlite::Db::Mode::kReadOnly);
    Status s = db.status();
    if (s.ok()) {
      r->db = std::move(*db);
      s = ApplyPragmas(r->db.get(), opts.reader_cache_bytes);
    }
    if (!s.ok()) {
      {
        std::lock_guard<std::mutex> lock(rmu);
        --readers_open;
      }
      rcv.notify_one();
      return s;
    }
    return Lease(this, std::move(r));
  }

  Result<std::shared_ptr<const TableInfo>> ReaderTable(Reader* r, const std::string& name) {
    uint64_t gen = 0;
    {
      std::lock_guard<std::mutex> lock(cmu);
      auto it = cache.find(name);
      if (it != cache.end()) return it->second;
      gen = cache_gen;
    }
    ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Fixed(Reader::kTableByName, kTableByNameSql));
    ET_ASSIGN_OR_RETURN(auto t, LookupTable(s, name));
    if (!t) return Status::NotFound("Requested resource not found: table " + name);
    auto shared = std::make_shared<const TableInfo>(std::move(*t));
    {
      // A catalog commit since we read would make this entry stale.
      std::lock_guard<std::mutex> lock(cmu);
      if (gen == cache_gen) cache.emplace(name, shared);
    }
    return shared;
  }

  static Result<std::vector<ChangeRecord>> ReadChangeRows(sqlite::Statement* s);

  bool HidesExpired(const TableInfo& t) const {
    return opts.hide_expired_on_read && !t.settings.ttl_attribute.empty();
  }

  // Binds the expiry window of now to parameters first and first + 1.
  Status BindWindow(sqlite::Statement* s, int first) const {
    const ExpiryWindow w = WindowAt(opts.clock->NowMs());
    ET_RETURN_IF_ERROR(s->BindInt64(first, w.now_s));
    return s->BindInt64(first + 1, w.floor_s);
  }

  Result<Page> RunPage(sqlite::Statement* s, const TableInfo& t, int limit, int64_t bytes_max,
                       int item_col) {
    sqlite::ScopedReset reset(s);
    Page page;
    for (;;) {
      ET_ASSIGN_OR_RETURN(bool row, s->Step());
      if (!row) return page;
      const bool full = (limit > 0 && static_cast<int>(page.items.size()) >= limit) ||
                        page.bytes_read >= bytes_max;
      if (full) {
        // One more item exists: the caller resumes after the last one returned.
        page.last_evaluated_key = item::KeyOf(page.items.back(), t.key_schema);
        return page;
      }
      std::string_view bytes = s->ColumnBlob(item_col);
      ET_ASSIGN_OR_RETURN(item::Item it, wire::DecodeItem(bytes));
      // DynamoDB measures the 1 MB page in its own item size, not in bytes stored.
      page.bytes_read += item::ItemSize(it);
      page.items.push_back(std::move(it));
    }
  }
};

// ============================================================================

Storage::Storage(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Storage::~Storage() {
  {
    // The maintenance thread submits writer jobs: it stops first.
    std::lock_guard<std::mutex> lock(impl_->mmu);
    impl_->maintenance_stopping = true;
  }
  impl_->mcv.notify_all();
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
  {
    std::lock_guard<std::mutex> lock(impl_->qmu);
    impl_->stopping = true;  // the writer completes what is queued, then exits
  }
  impl_->qcv.notify_all();
  if (impl_->writer.joinable()) impl_->writer.join();
  {
    std::lock_guard<std::mutex> lock(impl_->kmu);
    impl_->checkpoint_stopping = true;
  }
  impl_->kcv.notify_all();
  if (impl_->checkpointer.joinable()) impl_->checkpointer.join();
}

Result<std::unique_ptr<Storage>> Storage::Open(const Options& options) {
  if (options.path.empty()) return Status::InvalidArgument("storage: empty database path");
  if (options.clock == nullptr) return Status::InvalidArgument("storage: no clock");
  if (options.reader_connections_max < 1 || options.write_queue_depth_max < 1 ||
      options.group_commit_writes_max < limits::kTransactItemsMax ||
      options.group_commit_bytes_max < 2 * limits::kItemBytesMax || options.wal_autocheckpoint_pages < 1 ||
      options.ttl_sweep_interval_ms < 0 || options.ttl_sweep_batch_items < 1 ||
      options.stream_retention_ms < 0 || options.change_log_trim_batch < 1 ||
      options.retention_max_age_ms < 0 || options.disk_budget_bytes < 0 || options.retention_batch_items < 1) {
    return Status::InvalidArgument("storage: an option is out of range");
  }
  auto impl = std::make_unique<Impl>();
  impl->opts = options;
  ET_RETURN_IF_ERROR(impl->OpenWriter().WithPrefix("storage: open " + options.path));
  {
    auto cdb = sqlite::Db::Open(options.path, sqlite::Db::Mode::kReadWrite);
    if (!cdb.ok()) return cdb.status().WithPrefix("storage: open " + options.path + " for checkpoints");
    impl->cdb = std::move(*cdb);
    // A connection knows the database is in WAL mode only once it has read
    // it; before that a checkpoint on it does nothing.
    ET_ASSIGN_OR_RETURN(std::string mode, impl->cdb->QueryText("PRAGMA journal_mode"));
    if (mode != "wal") return Status::IOError("storage: " + options.path + " is not in WAL mode (" + mode + ")");
  }
  Impl* raw = impl.get();
  impl->checkpointer = std::thread([raw] { raw->CheckpointLoop(); });
  impl->writer = std::thread([raw] { raw->WriterLoop(); });
  std::unique_ptr<Storage> storage(new Storage(std::move(impl)));
  raw->owner = storage.get();
  if (options.ttl_sweep_interval_ms > 0) {
    raw->maintenance = std::thread([raw] { raw->MaintenanceLoop(); });
  }
  return storage;
}

uint64_t Storage::replica_id() const { return impl_->replica; }
clock::Version Storage::LastVersion() const { return impl_->hlc->Last(); }
void Storage::ObserveVersion(const clock::Version& v) { impl_->hlc->Observe(v); }

// ---- Catalog ----

Result<TableInfo> Storage::CreateTable(const std::string& name, const item::KeySchema& schema,
                                       const TableSettings& settings) {
  ET_RETURN_IF_ERROR(ValidateTableName(name));
  ET_RETURN_IF_ERROR(ValidateKeySchema(schema));
  TableInfo info;
  Impl* d = impl_.get();
  auto job = [&]() -> Status {
    ET_ASSIGN_OR_RETURN(auto existing, Impl::LookupTable(d->w_table_by_name.get(), name));
    if (existing) return Status::AlreadyExists("Table already exists: " + name);
    ET_ASSIGN_OR_RETURN(auto ins, d->wdb->Prepare(
        "INSERT INTO tables(name, pk_name, pk_type, sk_name, sk_type, ttl_attribute, stream_view_type, "
        "created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", false));
    ET_RETURN_IF_ERROR(ins->BindText(1, name));
    ET_RETURN_IF_ERROR(ins->BindText(2, schema.partition.name));
    ET_RETURN_IF_ERROR(ins->BindText(3, TypeCode(schema.partition.type)));
    if (schema.sort) {
      ET_RETURN_IF_ERROR(ins->BindText(4, schema.sort->name));
      ET_RETURN_IF_ERROR(ins->BindText(5, TypeCode(schema.sort->type)));
    }
    ET_RETURN_IF_ERROR(ins->BindText(6, settings.ttl_attribute));
    ET_RETURN_IF_ERROR(ins->BindInt64(7, static_cast<int64_t>(settings.stream_view_type)));
    ET_RETURN_IF_ERROR(ins->BindInt64(8, d->opts.clock->NowMs()));
    ET_RETURN_IF_ERROR(ins->Run());
    d->w_tables.clear();
    d->job_catalog = true;
    ET_ASSIGN_OR_RETURN(auto created, Impl::LookupTable(d->w_table_by_name.get(), name));
    if (!created) return Status::Internal("storage: created table not found");
    info = std::move(*created);
    return Status::Ok();
  };
  ET_RETURN_IF_ERROR(d->Submit(job));
  return info;
}

Result<TableInfo> Storage::DeleteTable(const std::string& name) {
  TableInfo info;
  Impl* d = impl_.get();
  auto job = [&]() -> Status {
    ET_ASSIGN_OR_RETURN(const TableInfo* t, d->WriterTable(name));
    info = *t;
    for (const char* sql : {"DELETE FROM items WHERE table_id=?1", "DELETE FROM tables WHERE table_id=?1"}) {
      ET_ASSIGN_OR_RETURN(auto del, d->wdb->Prepare(sql, false));
      ET_RETURN_IF_ERROR(del->BindInt64(1, info.id));
      ET_RETURN_IF_ERROR(del->Run());
    }
    d->w_tables.clear();
    d->job_catalog = true;
    return Status::Ok();
  };
  ET_RETURN_IF_ERROR(d->Submit(job, /*front=*/false, /*bulk=*/false, /*unbounded_undo=*/true));
  return info;
}

Result<TableInfo> Storage::UpdateTableSettings(const std::string& name, const TableSettings& settings) {
  TableInfo info;
  Impl* d = impl_.get();
  auto job = [&]() -> Status {
    ET_ASSIGN_OR_RETURN(const TableInfo* t, d->WriterTable(name));
    info = *t;
    if (settings.ttl_attribute != info.settings.ttl_attribute) {
      // The stored expiry follows the old attribute: recompute it in batches.
      ET_RETURN_IF_ERROR(d->SetMeta(std::string(kRescanPrefix) + std::to_string(info.id), 1));
      d->rescan_cursors.erase(info.id);
    }
    ET_ASSIGN_OR_RETURN(auto upd, d->wdb->Prepare(
        "UPDATE tables SET ttl_attribute=?2, stream_view_type=?3 WHERE table_id=?1", false));
    ET_RETURN_IF_ERROR(upd->BindInt64(1, info.id));
    ET_RETURN_IF_ERROR(upd->BindText(2, settings.ttl_attribute));
    ET_RETURN_IF_ERROR(upd->BindInt64(3, static_cast<int64_t>(settings.stream_view_type)));
    ET_RETURN_IF_ERROR(upd->Run());
    info.settings = settings;
    d->w_tables.clear();
    d->job_catalog = true;
    return Status::Ok();
  };
  ET_RETURN_IF_ERROR(d->Submit(job));
  return info;
}

Result<TableInfo> Storage::DescribeTable(const std::string& name) {
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  // Straight from the catalog (not the cache): counts change with every commit.
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Fixed(Reader::kTableByName, kTableByNameSql));
  ET_ASSIGN_OR_RETURN(auto t, Impl::LookupTable(s, name));
  if (!t) return Status::NotFound("Requested resource not found: Table: " + name + " not found");
  return std::move(*t);
}

Result<TableList> Storage::ListTables(const std::optional<std::string>& exclusive_start_name, int limit) {
  if (limit < 1 || limit > limits::kListTablesLimitMax) {
    return Status::InvalidArgument("ListTables limit must be between 1 and " +
                                   std::to_string(limits::kListTablesLimitMax));
  }
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s,
                      r->Get("SELECT name FROM tables WHERE name > ?1 ORDER BY name LIMIT ?2"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindText(1, exclusive_start_name.value_or("")));
  ET_RETURN_IF_ERROR(s->BindInt64(2, limit + 1));
  TableList list;
  for (;;) {
    ET_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    if (static_cast<int>(list.names.size()) == limit) {
      list.last_evaluated_name = list.names.back();
      break;
    }
    list.names.emplace_back(s->ColumnText(0));
  }
  return list;
}

// ---- Writes ----

Result<WriteOutcome> Storage::Apply(Write write) {
  WriteOutcome out;
  Impl* d = impl_.get();
  ET_RETURN_IF_ERROR(d->CheckBudget());
  auto job = [&]() -> Status { return d->ExecuteWrite(write, &out); };
  ET_RETURN_IF_ERROR(d->Submit(job));
  return out;
}

Status Storage::ApplyAsync(Write write, WriteCallback done) {
  Impl* d = impl_.get();
  ET_RETURN_IF_ERROR(d->CheckBudget());
  auto job = std::make_unique<AsyncJob>(std::move(done));
  AsyncJob* raw = job.get();
  raw->write = std::move(write);
  raw->run = [d, raw]() -> Status { return d->ExecuteWrite(raw->write, &raw->outcome); };
  ET_RETURN_IF_ERROR(d->Enqueue(raw));
  (void)job.release();  // the writer completes and deletes it
  return Status::Ok();
}

TransactOutcome Storage::Transact(std::vector<Write> writes) {
  TransactOutcome result;
  if (writes.empty() || static_cast<int>(writes.size()) > limits::kTransactItemsMax) {
    result.status = Status::InvalidArgument("TransactItems must have between 1 and " +
                                            std::to_string(limits::kTransactItemsMax) + " items");
    return result;
  }
  Impl* d = impl_.get();
  if (Status b = d->CheckBudget(); !b.ok()) {
    result.status = b;
    return result;
  }
  std::vector<Status> reasons(writes.size());
  std::vector<WriteOutcome> outcomes(writes.size());
  bool cancelled = false;
  Status s = d->Submit([&]() -> Status {
    cancelled = false;
    std::set<std::tuple<int64_t, std::string, std::string>> seen;
    // Resolve every table and key first: a bad request fails as a whole,
    // before any write runs.
    std::vector<TableInfo> tables;  // copies: the writer's cache may be cleared by a failure
    tables.reserve(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) {
      auto t = d->WriterTable(writes[i].table);
      if (!t.ok()) return t.status();
      tables.push_back(**t);
    }
    std::vector<item::EncodedKey> enc(writes.size());
    for (size_t i = 0; i < writes.size(); ++i) {
      ET_ASSIGN_OR_RETURN(enc[i], item::ExtractKey(writes[i].key, tables[i].key_schema, true));
      if (!seen.emplace(tables[i].id, enc[i].partition, enc[i].sort).second) {
        return Status::InvalidArgument("Transaction request cannot include multiple operations on one "
                                       "item (table " + tables[i].name + ")");
      }
    }
    int64_t txn_id = 0;
    Status first_failure;
    for (size_t i = 0; i < writes.size(); ++i) {
      // Later writes still run after a failure, so that every reason is reported.
      reasons[i] = d->ExecuteLocal(tables[i], enc[i], writes[i].fn, writes[i].ttl_delete, &txn_id,
                                   &outcomes[i]);
      if (!reasons[i].ok() && first_failure.ok()) first_failure = reasons[i];
    }
    if (first_failure.ok()) return Status::Ok();
    cancelled = true;
    bool condition = std::any_of(reasons.begin(), reasons.end(), [](const Status& r) {
      return r.code() == Status::Code::kConditionFailed;
    });
    std::string msg = "Transaction cancelled, please refer cancellation reasons for specific reasons [";
    for (size_t i = 0; i < reasons.size(); ++i) {
      if (i > 0) msg += ", ";
      msg += reasons[i].ok() ? std::string("None") : std::string(CodeName(reasons[i].code()));
    }
    msg += "]";
    return Status(condition ? Status::Code::kConditionFailed : first_failure.code(), msg);
  });
  result.status = s;
  if (s.ok()) {
    result.outcomes = std::move(outcomes);
  } else if (cancelled) {
    result.reasons = std::move(reasons);
  }
  return result;
}

Result<WriteOutcome> Storage::Put(const std::string& table, item::Item it) {
  WriteOutcome out;
  Impl* d = impl_.get();
  ET_RETURN_IF_ERROR(d->CheckBudget());
  auto job = [&]() -> Status {
    ET_ASSIGN_OR_RETURN(const TableInfo* t, d->WriterTable(table));
    ET_ASSIGN_OR_RETURN(item::EncodedKey k, item::ExtractKey(it, t->key_schema));
    int64_t txn_id = 0;
    MutateFn fn = [&it](const item::Item*) -> Result<Decision> { return Decision::Put(std::move(it)); };
    return d->ExecuteLocal(*t, k, fn, false, &txn_id, &out);
  };
  ET_RETURN_IF_ERROR(d->Submit(job));
  return out;
}

Result<WriteOutcome> Storage::Delete(const std::string& table, const item::Map& key) {
  return Apply(Write{table, key, [](const item::Item*) -> Result<Decision> { return Decision::Delete(); },
                     false});
}

Result<std::vector<bool>> Storage::ApplyRemote(std::vector<RemoteChange> changes) {
  ET_ASSIGN_OR_RETURN(RemoteOutcome out, ApplyRemote(std::move(changes), ApplyRemoteOptions{}));
  return std::move(out.applied);
}

Result<RemoteOutcome> Storage::ApplyRemote(std::vector<RemoteChange> changes, const ApplyRemoteOptions& options) {
  if (options.sync_state_at && (!options.yield_to_local_writes || !options.sync_state.empty())) {
    return Status::InvalidArgument("storage: ApplyRemote: sync_state_at needs yield_to_local_writes and no sync_state");
  }
  if (options.yield_to_local_writes && !options.sync_state.empty()) {
    return Status::InvalidArgument("storage: ApplyRemote: a call that may yield takes its sync state from sync_state_at");
  }
  RemoteOutcome outcome;
  outcome.applied.assign(changes.size(), false);
  if (changes.empty() && options.sync_state.empty() && !options.sync_state_at) return outcome;
  Impl* d = impl_.get();
  size_t consumed = changes.size();
  auto job = [&]() -> Status {
    Impl::RemoteBatch b;
    b.options = &options;
    if (!options.conflicts_table.empty()) {
      // Checked whether or not a conflict comes: a misconfigured table fails
      // every batch, not only the first one with a conflict.
      ET_ASSIGN_OR_RETURN(const TableInfo* ct, d->WriterTable(options.conflicts_table));
      if (!(ct->key_schema == ConflictsTableSchema())) {
        return Status::InvalidArgument("storage: conflicts table " + ct->name +
                                       " does not have the key schema of ConflictsTableSchema()");
      }
      b.conflicts_table = *ct;
    }
    consumed = changes.size();
    const bool short_runs = options.yield_to_local_writes && d->LocalWritesRecent();
    for (size_t i = 0; i < changes.size(); ++i) {
      const bool boundary = i == 0 || changes[i].txn_group == 0 || changes[i].txn_group != changes[i - 1].txn_group;
      const bool local_waits = d->local_queued.load(std::memory_order_relaxed) > 0;
      // A local write waits for this transaction: finish it at full priority.
      if (local_waits) d->EndBulkPriority();
      if (boundary && i > 0 && options.yield_to_local_writes &&
          (local_waits || (short_runs && i >= Impl::kRecentLocalChunk))) {
        consumed = i;  // the local writes go next; the caller resubmits the rest
        break;
      }
      // A new sender transaction starts a new txn_id (invariant 6).
      if (changes[i].txn_group != 0 && boundary) b.txn_id = 0;
      bool a = false;
      ET_RETURN_IF_ERROR(d->ExecuteRemote(changes[i], &b, &a).WithPrefix("change " + std::to_string(i)));
      outcome.applied[i] = a;
    }
    if (options.sync_state_at) {
      for (const auto& [key, value] : options.sync_state_at(consumed)) ET_RETURN_IF_ERROR(d->PutSyncState(key, value));
    }
    for (const auto& [key, value] : options.sync_state) ET_RETURN_IF_ERROR(d->PutSyncState(key, value));
    outcome.conflicts = b.conflicts;
    return Status::Ok();
  };
  ET_RETURN_IF_ERROR(d->Submit(job, /*front=*/false, /*bulk=*/true));
  if (consumed < changes.size()) {
    outcome.applied.resize(consumed);
    outcome.rest.assign(std::make_move_iterator(changes.begin() + static_cast<std::ptrdiff_t>(consumed)),
                        std::make_move_iterator(changes.end()));
  }
  return outcome;
}

item::KeySchema ConflictsTableSchema() {
  item::KeySchema k;
  k.partition = {"table", item::Type::kS};
  k.sort = item::KeyAttribute{"conflict_id", item::Type::kS};
  return k;
}

// ---- Reads ----

Result<std::optional<StoredItem>> Storage::GetStored(const std::string& table, const item::Map& key) {
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(auto t, impl_->ReaderTable(r.get(), table));
  ET_ASSIGN_OR_RETURN(item::EncodedKey k, item::ExtractKey(key, t->key_schema, true));
  const bool hide = impl_->HidesExpired(*t);
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s,
                      hide ? r->Fixed(Reader::kGetLiveItem,
                                      "SELECT item, hlc_ms, counter, replica FROM items "
                                      "WHERE table_id=?1 AND pk=?2 AND sk=?3 AND deleted=0 AND "
                                      "(expires_s IS NULL OR expires_s >= ?4 OR expires_s < ?5)")
                           : r->Fixed(Reader::kGetItem, "SELECT item, hlc_ms, counter, replica FROM items "
                                                        "WHERE table_id=?1 AND pk=?2 AND sk=?3 AND deleted=0"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindInt64(1, t->id));
  ET_RETURN_IF_ERROR(s->BindBlobRef(2, k.partition));
  ET_RETURN_IF_ERROR(s->BindBlobRef(3, k.sort));
  if (hide) ET_RETURN_IF_ERROR(impl_->BindWindow(s, 4));
  ET_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<StoredItem>();
  StoredItem out;
  ET_ASSIGN_OR_RETURN(out.item, wire::DecodeItem(s->ColumnBlob(0)));
  out.version = clock::Version{s->ColumnInt64(1), static_cast<int32_t>(s->ColumnInt64(2)),
                               FromDb(s->ColumnInt64(3))};
  return std::optional<StoredItem>(std::move(out));
}

Result<std::optional<item::Item>> Storage::Get(const std::string& table, const item::Map& key) {
  ET_ASSIGN_OR_RETURN(auto stored, GetStored(table, key));
  if (!stored) return std::optional<item::Item>();
  return std::optional<item::Item>(std::move(stored->item));
}

Result<Page> Storage::Query(const QueryRequest& req) {
  if (req.limit < 0) return Status::InvalidArgument("Limit must be positive");
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(auto t, impl_->ReaderTable(r.get(), req.table));
  const item::KeySchema& schema = t->key_schema;
  if (!req.partition.is(schema.partition.type)) {
    return Status::InvalidArgument("One or more parameter values were invalid: Condition parameter type "
                                   "does not match schema type (partition key " + schema.partition.name + ")");
  }
  ET_ASSIGN_OR_RETURN(std::string pk, item::EncodeKeyValue(req.partition));

  std::string sql = "SELECT item FROM items WHERE table_id=?1 AND pk=?2 AND deleted=0";
  std::string a, b;
  bool bind_b = false;
  if (req.sort.op != SortOp::kNone) {
    if (!schema.sort) {
      return Status::InvalidArgument("Query key condition not supported: table " + t->name +
                                     " has no sort key");
    }
    const item::Type st = schema.sort->type;
    if (!req.sort.a.is(st) || (req.sort.op == SortOp::kBetween && !req.sort.b.is(st))) {
      return Status::InvalidArgument("One or more parameter values were invalid: Condition parameter "
                                     "type does not match schema type (sort key " + schema.sort->name + ")");
    }
    if (req.sort.op == SortOp::kBeginsWith) {
      if (st == item::Type::kN) {
        return Status::InvalidArgument("Query key condition not supported: begins_with on a number "
                                       "sort key " + schema.sort->name);
      }
      // S and B encode as their own bytes, so a value prefix is a key prefix.
      a = req.sort.a.s();
      if (a.empty()) return Status::InvalidArgument("begins_with prefix must not be empty");
      sql += " AND sk >= ?3";
      if (auto succ = PrefixSuccessor(a)) {
        b = std::move(*succ);
        bind_b = true;
        sql += " AND sk < ?4";
      }
    } else {
      ET_ASSIGN_OR_RETURN(a, item::EncodeKeyValue(req.sort.a));
      switch (req.sort.op) {
        case SortOp::kEq: sql += " AND sk = ?3"; break;
        case SortOp::kLt: sql += " AND sk < ?3"; break;
        case SortOp::kLe: sql += " AND sk <= ?3"; break;
        case SortOp::kGt: sql += " AND sk > ?3"; break;
        case SortOp::kGe: sql += " AND sk >= ?3"; break;
        case SortOp::kBetween: {
          ET_ASSIGN_OR_RETURN(b, item::EncodeKeyValue(req.sort.b));
          if (b < a) {
            return Status::InvalidArgument("Invalid KeyConditionExpression: The BETWEEN operator requires "
                                           "upper bound to be greater than or equal to lower bound");
          }
          bind_b = true;
          sql += " AND sk >= ?3 AND sk <= ?4";
          break;
        }
        default: return Status::InvalidArgument("unknown sort key operator");
      }
    }
  }
  std::string start_sk;
  if (req.exclusive_start_key) {
    ET_ASSIGN_OR_RETURN(item::EncodedKey start, item::ExtractKey(*req.exclusive_start_key, schema, true));
    if (start.partition != pk) {
      return Status::InvalidArgument("The provided starting key is invalid: it is not in the queried "
                                     "partition");
    }
    start_sk = std::move(start.sort);
    sql += req.forward ? " AND sk > ?5" : " AND sk < ?5";
  }
  const bool hide = impl_->HidesExpired(*t);
  if (hide) sql += kVisibleSql;
  sql += req.forward ? " ORDER BY sk ASC" : " ORDER BY sk DESC";

  ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Get(sql));
  sqlite::ScopedReset reset(s);  // also on an early return: bindings point at locals
  ET_RETURN_IF_ERROR(s->BindInt64(1, t->id));
  ET_RETURN_IF_ERROR(s->BindBlobRef(2, pk));
  if (req.sort.op != SortOp::kNone) ET_RETURN_IF_ERROR(s->BindBlobRef(3, a));
  if (bind_b) ET_RETURN_IF_ERROR(s->BindBlobRef(4, b));
  if (req.exclusive_start_key) ET_RETURN_IF_ERROR(s->BindBlobRef(5, start_sk));
  if (hide) ET_RETURN_IF_ERROR(impl_->BindWindow(s, 6));
  return impl_->RunPage(s, *t, req.limit, req.bytes_max, 0);
}

Result<Page> Storage::Scan(const ScanRequest& req) {
  if (req.limit < 0) return Status::InvalidArgument("Limit must be positive");
  if (req.total_segments < 1 || req.total_segments > limits::kScanSegmentsMax || req.segment < 0 ||
      req.segment >= req.total_segments) {
    return Status::InvalidArgument("Segment must be in [0, TotalSegments) and TotalSegments in [1, " +
                                   std::to_string(limits::kScanSegmentsMax) + "]");
  }
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(auto t, impl_->ReaderTable(r.get(), req.table));
  std::string sql = "SELECT item FROM items WHERE table_id=?1 AND deleted=0";
  const bool segmented = req.total_segments > 1;
  if (segmented) sql += " AND seg >= ?2 AND seg < ?3";
  item::EncodedKey start;
  if (req.exclusive_start_key) {
    ET_ASSIGN_OR_RETURN(start, item::ExtractKey(*req.exclusive_start_key, t->key_schema, true));
    sql += " AND (pk, sk) > (?4, ?5)";
  }
  const bool hide = impl_->HidesExpired(*t);
  if (hide) sql += kVisibleSql;
  sql += " ORDER BY pk, sk";
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Get(sql));
  sqlite::ScopedReset reset(s);  // also on an early return: bindings point at locals
  ET_RETURN_IF_ERROR(s->BindInt64(1, t->id));
  if (segmented) {
    // Segment i holds hashes in [i * 2^32 / n, (i + 1) * 2^32 / n): a partition of [0, 2^32).
    const int64_t n = req.total_segments;
    ET_RETURN_IF_ERROR(s->BindInt64(2, req.segment * kSegmentHashSpace / n));
    ET_RETURN_IF_ERROR(s->BindInt64(3, (req.segment + 1) * kSegmentHashSpace / n));
  }
  if (req.exclusive_start_key) {
    ET_RETURN_IF_ERROR(s->BindBlobRef(4, start.partition));
    ET_RETURN_IF_ERROR(s->BindBlobRef(5, start.sort));
  }
  if (hide) ET_RETURN_IF_ERROR(impl_->BindWindow(s, 6));
  return impl_->RunPage(s, *t, req.limit, req.bytes_max, 0);
}

Result<std::vector<StoredRow>> Storage::ReadRows(const std::string& table, std::string_view after_partition_key,
                                                 std::string_view after_sort_key, int limit, int64_t bytes_max) {
  if (limit < 1) return Status::InvalidArgument("storage: ReadRows limit must be >= 1");
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(auto t, impl_->ReaderTable(r.get(), table));
  const bool from_start = after_partition_key.empty();
  // Tombstones too (deleted = 1), and no expiry window: a snapshot carries
  // every row with its version, exactly as ApplyRemote would have left it.
  std::string sql =
      "SELECT pk, sk, deleted, item, hlc_ms, counter, replica, prev_hlc_ms, prev_counter, prev_replica, seq "
      "FROM items WHERE table_id=?1";
  if (!from_start) sql += " AND (pk, sk) > (?2, ?3)";
  sql += " ORDER BY pk, sk LIMIT ?4";
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Get(sql));
  sqlite::ScopedReset reset(s);  // also on an early return: bindings point at the caller's bytes
  ET_RETURN_IF_ERROR(s->BindInt64(1, t->id));
  if (!from_start) {
    ET_RETURN_IF_ERROR(s->BindBlobRef(2, after_partition_key));
    ET_RETURN_IF_ERROR(s->BindBlobRef(3, after_sort_key));
  }
  ET_RETURN_IF_ERROR(s->BindInt64(4, limit));
  std::vector<StoredRow> out;
  int64_t bytes = 0;
  while (bytes < bytes_max) {
    ET_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    StoredRow row_out;
    row_out.partition_key = std::string(s->ColumnBlob(0));
    row_out.sort_key = std::string(s->ColumnBlob(1));
    if (s->ColumnInt64(2) == 0) {
      if (s->ColumnIsNull(3)) {
        return Status::Corruption("storage: a live row of table " + table + " without an item");
      }
      row_out.item = std::string(s->ColumnBlob(3));
      bytes += static_cast<int64_t>(row_out.item->size());
    }
    row_out.version = clock::Version{s->ColumnInt64(4), static_cast<int32_t>(s->ColumnInt64(5)),
                                     FromDb(s->ColumnInt64(6))};
    row_out.prev_version = clock::Version{s->ColumnInt64(7), static_cast<int32_t>(s->ColumnInt64(8)),
                                          FromDb(s->ColumnInt64(9))};
    row_out.seq = s->ColumnIsNull(10) ? 0 : s->ColumnInt64(10);
    bytes += static_cast<int64_t>(row_out.partition_key.size() + row_out.sort_key.size());
    out.push_back(std::move(row_out));
  }
  return out;
}

Result<std::vector<ChangeRecord>> Storage::ReadChanges(int64_t after_seq, int limit) {
  if (limit < 1) return Status::InvalidArgument("storage: ReadChanges limit must be >= 1");
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s,
                      r->Get("SELECT c.seq, c.txn_id, c.table_id, t.name, c.pk, c.sk, c.op, c.old_image, "
                             "c.new_image, c.hlc_ms, c.counter, c.replica, c.origin, c.ttl_delete, c.prev_hlc_ms, "
                             "c.prev_counter, c.prev_replica, c.source "
                             "FROM changes c LEFT JOIN tables t ON t.table_id = c.table_id "
                             "WHERE c.seq > ?1 ORDER BY c.seq LIMIT ?2"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindInt64(1, after_seq));
  ET_RETURN_IF_ERROR(s->BindInt64(2, limit));
  return Impl::ReadChangeRows(s);
}

Result<std::vector<ChangeRecord>> Storage::ReadTableChanges(int64_t table_id, int64_t after_seq,
                                                            int64_t through_seq, int limit) {
  if (limit < 1) return Status::InvalidArgument("storage: ReadTableChanges limit must be >= 1");
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s,
                      r->Get("SELECT c.seq, c.txn_id, c.table_id, t.name, c.pk, c.sk, c.op, c.old_image, "
                             "c.new_image, c.hlc_ms, c.counter, c.replica, c.origin, c.ttl_delete, c.prev_hlc_ms, "
                             "c.prev_counter, c.prev_replica, c.source "
                             "FROM changes c LEFT JOIN tables t ON t.table_id = c.table_id "
                             "WHERE c.seq > ?1 AND c.seq <= ?3 AND c.table_id = ?4 ORDER BY c.seq LIMIT ?2"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindInt64(1, after_seq));
  ET_RETURN_IF_ERROR(s->BindInt64(2, limit));
  ET_RETURN_IF_ERROR(s->BindInt64(3, through_seq));
  ET_RETURN_IF_ERROR(s->BindInt64(4, table_id));
  return Impl::ReadChangeRows(s);
}

Result<std::vector<ChangeRecord>> Storage::Impl::ReadChangeRows(sqlite::Statement* s) {
  std::vector<ChangeRecord> out;
  for (;;) {
    ET_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    ChangeRecord c;
    c.seq = s->ColumnInt64(0);
    c.txn_id = s->ColumnInt64(1);
    c.table_id = s->ColumnInt64(2);
    c.table = std::string(s->ColumnText(3));
    c.partition_key = std::string(s->ColumnBlob(4));
    c.sort_key = std::string(s->ColumnBlob(5));
    const int64_t op = s->ColumnInt64(6);
    if (op < 1 || op > 3) return Status::Corruption("storage: change " + std::to_string(c.seq) + " has op " +
                                                    std::to_string(op));
    c.op = static_cast<ChangeOp>(op);
    if (!s->ColumnIsNull(7)) c.old_image = std::string(s->ColumnBlob(7));
    if (!s->ColumnIsNull(8)) c.new_image = std::string(s->ColumnBlob(8));
    c.version = clock::Version{s->ColumnInt64(9), static_cast<int32_t>(s->ColumnInt64(10)),
                               FromDb(s->ColumnInt64(11))};
    c.origin_replica = FromDb(s->ColumnInt64(12));
    c.ttl_delete = s->ColumnInt64(13) != 0;
    c.prev_version = clock::Version{s->ColumnInt64(14), static_cast<int32_t>(s->ColumnInt64(15)),
                                    FromDb(s->ColumnInt64(16))};
    c.source_replica = FromDb(s->ColumnInt64(17));
    out.push_back(std::move(c));
  }
  return out;
}

int64_t Storage::TrimmedSeq() const { return impl_->trimmed_seq.load(); }
int64_t Storage::UpstreamAckedSeq() const { return impl_->upstream_acked.load(); }

Status Storage::SetUpstreamAckedSeq(int64_t seq) {
  Impl* d = impl_.get();
  if (seq < 0 || seq > d->last_seq.load(std::memory_order_acquire)) {
    return Status::InvalidArgument("storage: acknowledged sequence " + std::to_string(seq) +
                                   " is not a committed change");
  }
  if (seq <= d->upstream_acked.load()) return Status::Ok();
  bool moved = false;
  ET_RETURN_IF_ERROR(d->Submit([&]() -> Status {
    if (seq <= d->upstream_acked.load()) return Status::Ok();
    moved = true;
    return d->SetMeta("upstream_acked_seq", seq);
  }));
  if (moved) {
    // Concurrent callers are serialised by the writer: the last commit holds the maximum.
    int64_t cur = d->upstream_acked.load();
    while (cur < seq && !d->upstream_acked.compare_exchange_weak(cur, seq)) {
    }
  }
  return Status::Ok();
}

void Storage::SetChangeLogHold(int64_t seq) { impl_->change_log_hold.store(std::max<int64_t>(seq, 0)); }

Result<std::optional<std::string>> Storage::GetSyncState(std::string_view key) {
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s, r->Get("SELECT value FROM sync_state WHERE key=?1"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindText(1, std::string(key)));
  ET_ASSIGN_OR_RETURN(bool row, s->Step());
  if (!row) return std::optional<std::string>();
  return std::optional<std::string>(std::string(s->ColumnBlob(0)));
}

Result<std::map<std::string, std::string>> Storage::ListSyncState(std::string_view prefix) {
  ET_ASSIGN_OR_RETURN(auto r, impl_->AcquireReader());
  // Keys compare as bytes (TEXT, BINARY collation): a prefix is a range.
  const std::string low(prefix);
  const std::optional<std::string> high = PrefixSuccessor(low);
  ET_ASSIGN_OR_RETURN(sqlite::Statement * s,
                      r->Get(high ? "SELECT key, value FROM sync_state WHERE key >= ?1 AND key < ?2 ORDER BY key"
                                  : "SELECT key, value FROM sync_state WHERE key >= ?1 ORDER BY key"));
  sqlite::ScopedReset reset(s);
  ET_RETURN_IF_ERROR(s->BindText(1, low));
  if (high) ET_RETURN_IF_ERROR(s->BindText(2, *high));
  std::map<std::string, std::string> out;
  for (;;) {
    ET_ASSIGN_OR_RETURN(bool row, s->Step());
    if (!row) break;
    out.emplace(std::string(s->ColumnText(0)), std::string(s->ColumnBlob(1)));
  }
  return out;
}

Status Storage::SetSyncState(std::string_view key, std::string_view value) {
  if (key.empty()) return Status::InvalidArgument("storage: empty sync state key");
  Impl* d = impl_.get();
  return d->Submit([&]() -> Status { return d->PutSyncState(key, value); });
}

Result<MaintenanceReport> Storage::RunMaintenanceOnce() {
  Impl* d = impl_.get();
  MaintenanceReport rep;
  int64_t trimmed_to = 0;
  int64_t db_bytes = 0;
  // One writer job for every task: each task's work is bounded by its
  // batch, and one job costs one turn of the writer.
  ET_RETURN_IF_ERROR(d->Submit(
      [&]() -> Status {
        rep = MaintenanceReport{};
        bool more = false;
        ET_RETURN_IF_ERROR(d->RecomputeExpiryStep(d->opts.ttl_sweep_batch_items, &rep.expiry_recomputed, &more));
        ET_RETURN_IF_ERROR(d->SweepStep(d->opts.ttl_sweep_batch_items, &rep.ttl_deleted, &more));
        const int64_t ack = std::min(d->opts.no_upstream ? INT64_MAX : d->upstream_acked.load(),
                                     d->change_log_hold.load());
        const int64_t cutoff_ms = d->opts.clock->NowMs() - d->opts.stream_retention_ms;
        ET_RETURN_IF_ERROR(d->TrimStep(d->opts.change_log_trim_batch, d->trimmed_seq.load(), ack, cutoff_ms,
                                       &rep.changes_trimmed, &trimmed_to, &more));
        ET_RETURN_IF_ERROR(d->RetentionStep(d->opts.retention_batch_items, &rep.evicted, &rep.forced_evicted,
                                            &rep.budget_trimmed, &rep.forced_trimmed, &trimmed_to, &db_bytes,
                                            &more));
        rep.more = more;
        return Status::Ok();
      },
      /*front=*/true));
  rep.changes_trimmed += rep.budget_trimmed + rep.forced_trimmed;
  // Only writer jobs move it, and this one committed: no lost update.
  if (trimmed_to > d->trimmed_seq.load()) d->trimmed_seq.store(trimmed_to);
  {
    std::lock_guard<std::mutex> lock(d->smu);
    d->stats.expiry_recomputed += rep.expiry_recomputed;
    d->stats.ttl_deletes += rep.ttl_deleted;
    if (rep.ttl_deleted > 0) ++d->stats.ttl_sweep_batches;
    d->stats.ttl_sweep_batch_max = std::max(d->stats.ttl_sweep_batch_max, rep.ttl_deleted);
    d->stats.changes_trimmed += rep.changes_trimmed;
    d->stats.evictions += rep.evicted;
    d->stats.forced_evictions += rep.forced_evicted;
    d->stats.forced_trims += rep.forced_trimmed;
    d->stats.db_bytes = db_bytes;
  }
  if (rep.ttl_deleted > 0 || rep.changes_trimmed > 0) {
    ET_LOG_DEBUG("storage: maintenance deleted {} expired items, trimmed {} change records",
                 rep.ttl_deleted, rep.changes_trimmed);
  }
  return rep;
}

// ---- Backups ----

namespace {

// A backup step copies this many pages (1 MB at SQLite's 4 KB default page
// size), then pauses kBackupStepPauseMs: the copy of a 1 GB database then
// takes about 1000 steps, and the node's writer and readers find the disk
// between them. Neither step blocks the writer (WAL).
constexpr int kBackupStepPages = 256;
constexpr int64_t kBackupStepPauseMs = 2;
// Steps in a row that may find a lock (SQLITE_BUSY) before the backup gives
// up with kBusy: with the pause, about a second. A held read transaction
// never meets the writer; this covers a WAL recovery by another process.
constexpr int kBackupBusyRetriesMax = 500;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// fsync of a file or directory by path.
Status SyncPath(const std::string& path, bool directory) {
  const int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::IOError(Errno("open " + path + " to sync it"));
  const int rc = ::fsync(fd);
  const int saved = errno;
  ::close(fd);
  if (rc != 0) {
    errno = saved;
    return Status::IOError(Errno("fsync " + path));
  }
  return Status::Ok();
}

std::string ParentDir(const std::string& path) {
  std::filesystem::path p = std::filesystem::path(path).parent_path();
  return p.empty() ? std::string(".") : p.string();
}

bool FileExists(const std::string& path) {
  struct stat st {};
  return ::stat(path.c_str(), &st) == 0;
}

// Removes a file and what SQLite may leave beside it; errors ignored (it
// is cleanup after a failure or of a stale attempt).
void RemoveDbFiles(const std::string& path) {
  for (const char* suffix : {"", "-journal", "-wal", "-shm"}) ::unlink((path + suffix).c_str());
}

// Reads an EdgeTable database's identity on `db` (inside the caller's
// transaction): kCorruption when it is not one, kInvalidArgument when its
// schema is newer than this build.
struct Identity {
  uint64_t replica = 0;
  int64_t last_seq = 0;
  int64_t hlc_lease_ms = 0;
  int64_t upstream_acked_seq = 0;
};

Result<Identity> ReadIdentity(sqlite::Db* db, const std::string& path) {
  Result<int64_t> tables = db->QueryInt("SELECT count(*) FROM sqlite_master WHERE type='table' AND "
                                        "name IN ('meta', 'tables', 'items', 'changes')");
  if (!tables.ok() && tables.status().code() == Status::Code::kCorruption) {
    return Status::Corruption(path + " is not an SQLite database (" + tables.status().message() + ")");
  }
  if (!tables.ok()) return tables.status();
  if (*tables != 4) return Status::Corruption(path + " is not an EdgeTable database");
  ET_ASSIGN_OR_RETURN(auto get, db->Prepare("SELECT value FROM meta WHERE key=?1", false));
  auto meta = [&](const char* key) -> Result<std::optional<int64_t>> {
    sqlite::ScopedReset reset(get.get());
    ET_RETURN_IF_ERROR(get->BindText(1, key));
    ET_ASSIGN_OR_RETURN(bool row, get->Step());
    if (!row) return std::optional<int64_t>();
    return std::optional<int64_t>(get->ColumnInt64(0));
  };
  ET_ASSIGN_OR_RETURN(auto version, meta("schema_version"));
  ET_ASSIGN_OR_RETURN(auto replica, meta("replica_id"));
  if (!version || !replica || *replica == 0) {
    return Status::Corruption(path + " is not an EdgeTable database (no schema version or replica id)");
  }
  if (*version > kSchemaVersion) {
    return Status::InvalidArgument(path + " has schema version " + std::to_string(*version) +
                                   ", this build knows up to " + std::to_string(kSchemaVersion));
  }
  Identity id;
  id.replica = FromDb(*replica);
  ET_ASSIGN_OR_RETURN(auto meta_seq, meta("last_seq"));
  ET_ASSIGN_OR_RETURN(int64_t max_seq, db->QueryInt("SELECT coalesce(max(seq), 0) FROM changes"));
  id.last_seq = std::max<int64_t>(meta_seq.value_or(0), max_seq);  // as OpenWriter (invariant 3)
  ET_ASSIGN_OR_RETURN(auto lease, meta("hlc_lease_ms"));
  id.hlc_lease_ms = lease.value_or(0);
  ET_ASSIGN_OR_RETURN(auto acked, meta("upstream_acked_seq"));
  id.upstream_acked_seq = acked.value_or(0);
  return id;
}

Status CopyDatabase(const std::string& src_path, const std::string& dest_path, BackupProgress* progress) {
  const auto started = std::chrono::steady_clock::now();
  BackupProgress local;
  BackupProgress& p = progress != nullptr ? *progress : local;
  p = BackupProgress{};
  auto finish = [&] {
    p.elapsed_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - started)
                       .count();
  };
  if (dest_path.empty()) return Status::InvalidArgument("storage: backup: empty destination path");
  if (!FileExists(src_path)) return Status::NotFound("storage: backup: no database at " + src_path);
  {
    std::error_code ec;
    if (std::filesystem::equivalent(src_path, dest_path, ec)) {
      return Status::InvalidArgument("storage: backup: the destination " + dest_path + " is the database itself");
    }
  }
  const std::string tmp = dest_path + ".tmp";
  RemoveDbFiles(tmp);  // a stale attempt's
  Status s = [&]() -> Status {
    ET_ASSIGN_OR_RETURN(auto src, sqlite::Db::Open(src_path, sqlite::Db::Mode::kReadOnly));
    ET_RETURN_IF_ERROR(src->Exec("PRAGMA busy_timeout=5000"));
    // One read transaction for the whole copy: its snapshot is the copy
    // (see Db::BackupTo), and the identity below is the copy's.
    ET_RETURN_IF_ERROR(src->Exec("BEGIN"));
    ET_ASSIGN_OR_RETURN(Identity id, ReadIdentity(src.get(), src_path));
    p.replica_id = id.replica;
    p.last_seq = id.last_seq;
    {
      ET_ASSIGN_OR_RETURN(auto dest, sqlite::Db::Open(tmp, sqlite::Db::Mode::kReadWriteCreate));
      // The copy is one transaction on a new file: nothing to roll back to.
      ET_RETURN_IF_ERROR(dest->Exec("PRAGMA synchronous=OFF"));
      ET_RETURN_IF_ERROR(src->BackupTo(dest.get(), kBackupStepPages, kBackupBusyRetriesMax,
                                       [&](int64_t done, int64_t total) {
                                         p.pages_copied = done;
                                         p.pages_total = total;
                                         ++p.steps;
                                         std::this_thread::sleep_for(std::chrono::milliseconds(kBackupStepPauseMs));
                                         return true;
                                       }));
      ++p.steps;  // the last one
    }
    ET_RETURN_IF_ERROR(src->Exec("COMMIT"));
    src.reset();
    {
      // The copied header says WAL (the source's mode): switch the copy to
      // a rollback journal, so that it is one self-contained file that can
      // be read (or copied) without a -wal and -shm beside it. Opened
      // afresh, since the copying connection did not read the header.
      ET_ASSIGN_OR_RETURN(auto dest, sqlite::Db::Open(tmp, sqlite::Db::Mode::kReadWrite));
      ET_ASSIGN_OR_RETURN(std::string mode, dest->QueryText("PRAGMA journal_mode=DELETE"));
      if (mode != "delete") return Status::IOError("cannot set " + tmp + " to journal mode delete");
      ET_ASSIGN_OR_RETURN(p.pages_total, dest->QueryInt("PRAGMA page_count"));
      p.pages_copied = p.pages_total;
    }
    ET_RETURN_IF_ERROR(SyncPath(tmp, false));
    struct stat st {};
    if (::stat(tmp.c_str(), &st) != 0) return Status::IOError(Errno("stat " + tmp));
    p.bytes = static_cast<int64_t>(st.st_size);
    if (::rename(tmp.c_str(), dest_path.c_str()) != 0) {
      return Status::IOError(Errno("rename " + tmp + " to " + dest_path));
    }
    return SyncPath(ParentDir(dest_path), true);
  }();
  finish();
  if (!s.ok()) {
    RemoveDbFiles(tmp);
    return s.WithPrefix("storage: copy of " + src_path + " to " + dest_path);
  }
  return Status::Ok();
}

}  // namespace

Status Storage::Backup(const std::string& dest_path, BackupProgress* progress) {
  return CopyDatabase(impl_->opts.path, dest_path, progress);
}

Status Storage::BackupFile(const std::string& db_path, const std::string& dest_path, BackupProgress* progress) {
  return CopyDatabase(db_path, dest_path, progress);
}

Result<RestoreInfo> Storage::PrepareRestored(const std::string& path, uint64_t new_replica_id) {
  if (!FileExists(path)) return Status::NotFound("storage: restore: no database at " + path);
  ET_ASSIGN_OR_RETURN(auto db, sqlite::Db::Open(path, sqlite::Db::Mode::kReadWrite));
  ET_RETURN_IF_ERROR(db->Exec("PRAGMA busy_timeout=5000"));
  // Before anything is written: a damaged copy is refused whole.
  {
    ET_ASSIGN_OR_RETURN(auto check, db->Prepare("PRAGMA integrity_check", false));
    ET_ASSIGN_OR_RETURN(bool row, check->Step());
    const std::string first = row ? std::string(check->ColumnText(0)) : std::string("no answer");
    if (first != "ok") {
      return Status::Corruption("storage: restore: " + path + " fails PRAGMA integrity_check: " + first);
    }
  }
  ET_ASSIGN_OR_RETURN(auto txn, sqlite::Transaction::BeginImmediate(db.get()));
  Result<Identity> read = ReadIdentity(db.get(), path);
  if (!read.ok()) return read.status().WithPrefix("storage: restore");
  const Identity id = *read;
  RestoreInfo info;
  info.previous_replica_id = id.replica;
  info.last_seq = id.last_seq;
  info.upstream_acked_seq = id.upstream_acked_seq;
  uint64_t fresh = new_replica_id;
  if (fresh == id.replica) {
    return Status::InvalidArgument("storage: restore: the new replica id " + Hex(fresh) + " is the old one");
  }
  if (fresh == 0) {
    std::random_device rd;
    std::uniform_int_distribution<uint64_t> dist(1, UINT64_MAX);
    do {
      fresh = dist(rd);
    } while (fresh == id.replica);
  }
  info.replica_id = fresh;
  // The new clock's floor is above every version stored here, whoever
  // issued it (invariant 4 for the new id, and invariant 5 for every key
  // without a read of its row): the lease already is for a database closed
  // cleanly, and this makes it so whatever the copy's history.
  ET_ASSIGN_OR_RETURN(int64_t items_ms, db->QueryInt("SELECT coalesce(max(hlc_ms), 0) FROM items"));
  ET_ASSIGN_OR_RETURN(int64_t changes_ms, db->QueryInt("SELECT coalesce(max(hlc_ms), 0) FROM changes"));
  info.hlc_floor_ms = std::max({id.hlc_lease_ms, items_ms + 1, changes_ms + 1});
  ET_ASSIGN_OR_RETURN(auto put_meta, db->Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)", false));
  auto write_meta = [&](const char* key, int64_t v) -> Status {
    sqlite::ScopedReset reset(put_meta.get());
    ET_RETURN_IF_ERROR(put_meta->BindText(1, key));
    ET_RETURN_IF_ERROR(put_meta->BindInt64(2, v));
    return put_meta->Run();
  };
  ET_RETURN_IF_ERROR(write_meta("replica_id", ToDb(fresh)));
  ET_RETURN_IF_ERROR(write_meta("hlc_lease_ms", info.hlc_floor_ms));
  // A schema-1 or -2 copy has no sync_state yet (Open adds the rest of
  // schema 3 when the node starts).
  ET_RETURN_IF_ERROR(db->Exec("CREATE TABLE IF NOT EXISTS sync_state(key TEXT PRIMARY KEY, value BLOB NOT NULL) "
                              "WITHOUT ROWID"));
  {
    ET_ASSIGN_OR_RETURN(auto put_state,
                        db->Prepare("INSERT OR REPLACE INTO sync_state(key, value) VALUES(?1, ?2)", false));
    ET_RETURN_IF_ERROR(put_state->BindText(1, "restore/previous_replica"));
    ET_RETURN_IF_ERROR(put_state->BindBlob(2, Hex(id.replica)));
    ET_RETURN_IF_ERROR(put_state->Run());
    ET_ASSIGN_OR_RETURN(auto get_state, db->Prepare("SELECT value FROM sync_state WHERE key=?1", false));
    ET_RETURN_IF_ERROR(get_state->BindText(1, "client/pull_cursor"));
    ET_ASSIGN_OR_RETURN(bool row, get_state->Step());
    if (row) info.pull_cursor = std::string(get_state->ColumnBlob(0));
  }
  put_meta.reset();
  ET_RETURN_IF_ERROR(txn->Commit());
  ET_LOG_DEBUG("storage: restored {}: replica id {:016x} (was {:016x}), clock floor {} ms", path, fresh, id.replica,
              info.hlc_floor_ms);
  return info;
}

StorageStats Storage::Stats() const {
  StorageStats s;
  {
    std::lock_guard<std::mutex> lock(impl_->smu);
    s = impl_->stats;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->qmu);
    s.queue_depth = static_cast<int64_t>(impl_->queue.size());
  }
  s.last_seq = impl_->last_seq.load(std::memory_order_acquire);
  s.trimmed_seq = impl_->trimmed_seq.load();
  s.upstream_acked_seq = impl_->upstream_acked.load();
  s.over_budget = impl_->budget_exceeded.load();
  return s;
}

}  // namespace edgetable::storage
