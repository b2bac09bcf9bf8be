#pragma once
// edge/storage: EdgeTable's tables, items and change log in one SQLite
// database in WAL mode.
//
// What it owns: the database file (and its -wal and -shm files), one writer
// thread with its connection, and a small pool of read connections. It is the
// only module that talks to SQLite (through internal/sqlite.h).
//
// Writes. Every write goes through one writer thread that commits queued
// writes in groups (group commit): callers enqueue, the writer takes as many
// queued writes as fit (limits::kGroupCommitWritesMax writes,
// limits::kGroupCommitBytesMax bytes), runs each under its own SAVEPOINT
// inside ONE SQLite transaction, commits, and only then answers every caller.
// A write is a key plus a function (MutateFn) run on the writer thread, inside
// the transaction, against the item currently stored under that key; it
// decides the new item, a delete, nothing, or an error. PutItem, DeleteItem
// and UpdateItem with a ConditionExpression and ReturnValues are built on it.
//
// Reads run on their own connections and are never blocked by the writer
// (WAL). A read sees only committed writes: everything whose write call has
// returned, and possibly writes whose calls are about to return.
//
// Invariants (tests/edge/storage/storage_test.cc, tests/fault/crash_test.cc):
//  (1) A write call returns OK only after the transaction holding it has
//      committed. With Durability::kNormal it then survives a crash of the
//      process (kill -9); with Durability::kFull it also survives a power
//      loss or an OS crash.
//  (2) Each committed change of an item appends exactly one change record in
//      the same SQLite transaction; a write that fails (its function returned
//      an error, or it was part of a cancelled transaction) changes nothing
//      and appends nothing.
//  (3) Change sequence numbers are dense and increasing in commit order:
//      each record is the previous one plus 1, never reused, also across
//      restarts.
//  (4) Every change carries a version; the versions issued by this replica
//      strictly increase in commit order, also across restarts and with the
//      wall clock set back: a lease above the clock's high-water mark
//      commits with the groups (moved about once a second) and is the
//      clock's floor when the database is opened.
//  (5) The version stored for a key never decreases. A delete leaves a
//      tombstone that keeps its version, so that an older write arriving
//      later (ApplyRemote) cannot resurrect the item. Reads, queries and
//      scans never return tombstones.
//  (6) The records of one write call (one item, every item of a Transact,
//      or every change one ApplyRemote applied with its conflict records)
//      share one txn_id, the sequence number of their first record, and are
//      contiguous in the log, so that a transaction can be shipped whole.
//      ApplyRemote changes that carry a txn_group keep their sender's
//      transactions instead: each run of consecutive changes with one
//      txn_group (and its conflict records) has its own txn_id, so that a
//      receiver can ship those transactions on whole, and no bigger.
//  (7) Every change record and every stored row (tombstones included)
//      carries prev_version, the version its write replaced: for a local
//      write the version stored before it, for a remote change the one it
//      replaced at its origin, copied unchanged, so that every replica
//      judges a later change against the same history (see "Conflicts" at
//      ApplyRemote; tests/edge/storage/sync_support_test.cc).
//  (8) ApplyRemote commits its applied changes, its conflict records and
//      its sync state entries in one transaction, or none of them.
//
// TTL (DynamoDB's rules). The expiry of an item is its table's TTL attribute
// when that is a number holding an integer (epoch seconds); it is stored in
// items.expires_s at every write. An item is expired when expires_s < now
// (the storage Clock, in seconds) and expires_s is not more than 5 years
// (kTtlIgnoredAgeS) in the past; items whose attribute is missing, not a
// number, or older than that are never deleted by TTL (and never hidden).
// The maintenance thread deletes expired items in batches of at most
// ttl_sweep_batch_items, each batch one writer job, logging a kRemove with
// ttl_delete set per item (each its own txn_id). Reads hide expired items
// when hide_expired_on_read (default), so that an application never sees
// data past its expiry whatever the sweeper's backlog. When a table's TTL
// attribute changes, the expiry of its stored items is recomputed in
// batches; until that pass reaches an item, reads judge it by its old
// expiry, and the sweeper re-checks every item against the current
// attribute before deleting it, so the change never deletes wrongly.
//
// Edge retention. Items are evicted locally, oldest version time first:
// per table when older than its retention_max_age_ms, and store-wide while
// the database is over disk_budget_bytes. An eviction is not a delete: it
// removes the item's row (no tombstone) and appends NO change record, so
// it is never replicated nor streamed; invariant (2) concerns changes, and
// an eviction is not one. After an eviction the key is as if never stored
// here: a later ApplyRemote of any version may store it again (invariant 5
// holds for stored rows only). Only items whose last change is acknowledged
// (its seq <= UpstreamAckedSeq(), or no_upstream) are evicted, except under
// the disk budget with BudgetPolicy::kEvict when nothing acknowledged is
// left: then the oldest go first, each counted in forced_evictions and
// logged. With kBackpressure, writes answer kBusy instead while over budget.
// Evicted pages are returned to the file system (incremental auto-vacuum;
// the file shrinks at the next WAL checkpoint). Over the budget, the change
// log goes first: acknowledged records are trimmed before the stream
// retention says (stream readers lose them, the upstream has them), then
// acknowledged items are evicted; with kEvict and nothing acknowledged
// left, the oldest unacknowledged or held records (forced_trims, see
// SetChangeLogHold) and unacknowledged items (forced_evictions) go, counted
// and logged.
//
// Change log retention. A record is trimmed when its version time is older
// than stream_retention_ms, its seq <= UpstreamAckedSeq() (or always, with
// no_upstream) and its seq <= the change log hold (SetChangeLogHold: a hub
// keeps what a downstream peer has not pulled yet). Only the disk budget
// trims above the hold, each such record counted in forced_trims. Trimming
// removes a prefix of the log in seq order and records meta 'last_seq'
// first, so invariant (3) holds across restarts; TrimmedSeq() tells stream
// readers what is gone.
//
// Threads: every method may be called from any thread, concurrently. The
// Storage object must outlive every call; the destructor completes queued
// writes, then stops the maintenance thread and the writer.

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/base/clock.h"
#include "edge/base/limits.h"
#include "edge/base/status.h"
#include "edge/clock/version.h"
#include "edge/item/key.h"
#include "edge/item/value.h"

namespace edgetable::storage {

// What a committed write promises (invariant 1). Set per database opening.
enum class Durability : uint8_t {
  // PRAGMA synchronous=NORMAL in WAL mode: a committed write survives a
  // crash of the EdgeTable process, but the last commits before a power loss
  // or OS crash may be lost (the database stays consistent).
  kNormal,
  // PRAGMA synchronous=FULL: the WAL is fsync'ed at every commit; a
  // committed write survives a power loss. About 6x fewer commits per
  // second on an SD card (group commit amortises it).
  kFull,
};

// What happens when the disk budget is reached and no acknowledged item is
// left to evict.
enum class BudgetPolicy : uint8_t {
  // Evict the oldest unacknowledged items: each one is counted
  // (StorageStats::forced_evictions) and logged. The upstream never gets
  // those changes.
  kEvict,
  // Refuse writes with kBusy (the API answers ThrottlingException, ingest
  // stops acknowledging) until acknowledgements let eviction make room.
  kBackpressure,
};

struct Options {
  std::string path;  // the database file; created when missing
  Durability durability = Durability::kNormal;
  // Reads wall-clock time for versions and created_ms. Not owned; must
  // outlive the Storage.
  const Clock* clock = Clock::System();
  // Used only when the database is created: its replica id (0 = random).
  uint64_t replica_id = 0;
  // SQLite page cache of the writer connection and of each reader. Larger
  // caches keep more B-tree pages of a batch in memory (FINDINGS.md: 64 MB
  // roughly doubles batched ingest over the 2 MB default).
  int64_t writer_cache_bytes = 32 * 1024 * 1024;
  int64_t reader_cache_bytes = 4 * 1024 * 1024;
  // WAL pages after which the WAL is checkpointed into the database (>= 1).
  // A thread of its own copies the WAL, on a connection of its own, while
  // commits go on; the writer only copies the last few frames (at most
  // about 1 MB, written during the thread's copy) between two transactions,
  // which lets the WAL restart from its beginning. Only when the WAL
  // outgrows 2x this (the disk cannot keep up) does the writer wait for the
  // thread and copy the rest, which holds writes back to the disk's pace.
  // The thread runs at background CPU priority (edge/base/thread_priority.h).
  // The writer answers a group's callers before its top-up (a copy and two
  // syncs), and puts a top-up off, at most 16 commits in a row, while local
  // writes are waiting for it.
  // Larger means fewer, bigger checkpoints (fewer SD card rewrites) and a
  // larger -wal file (up to about pages * 4 KB).
  int wal_autocheckpoint_pages = 10000;
  // Read connections kept open; readers beyond this wait for a free one.
  int reader_connections_max = 8;
  // Bounds of the write queue (past it: kBusy) and of one group commit
  // (group_commit_writes_max >= limits::kTransactItemsMax and
  // group_commit_bytes_max >= 2 * limits::kItemBytesMax, else Open() fails).
  int write_queue_depth_max = limits::kWriteQueueDepthMax;
  int group_commit_writes_max = limits::kGroupCommitWritesMax;
  int64_t group_commit_bytes_max = limits::kGroupCommitBytesMax;

  // --- TTL (see "TTL" above) ---
  // How often the maintenance thread looks for work (TTL sweep, expiry
  // recompute, change log trim); 0 = no thread (call RunMaintenanceOnce()).
  // Expiry itself is judged by `clock`, never by this timer.
  int64_t ttl_sweep_interval_ms = 1000;
  // Items one sweep deletes at most (>= 1). Each sweep is one writer job,
  // put ahead of the queued writes (so that expiry keeps pace with a steady
  // ingest) and committed in the same group as them.
  int ttl_sweep_batch_items = 100;
  // Hide items already past their expiry from Get, Query and Scan at once
  // (true), or show them until the sweeper deletes them (false, DynamoDB's
  // behaviour).
  bool hide_expired_on_read = true;

  // --- Change log retention ---
  // Records older than this (by their version's time) are trimmed once
  // acknowledged (see UpstreamAckedSeq). 24 h, as DynamoDB Streams.
  int64_t stream_retention_ms = 24LL * 3600 * 1000;
  // True when this node has no upstream: the log is then trimmed by
  // retention alone. False (default): only records at or below the
  // upstream's acknowledgement cursor are ever trimmed.
  bool no_upstream = false;
  // Change records one trim transaction removes at most (>= 1).
  int change_log_trim_batch = 1000;

  // --- Edge retention (see "Edge retention" above) ---
  // Live items whose last write (its version time) is older than this are
  // evicted once acknowledged; 0 = kept forever. Per table by name, which
  // overrides the default.
  int64_t retention_max_age_ms = 0;
  std::map<std::string, int64_t, std::less<>> retention_max_age_ms_by_table;
  // Bytes the database may use (its pages in use; the -wal file and freed
  // pages not yet returned are excluded); 0 = no budget.
  int64_t disk_budget_bytes = 0;
  BudgetPolicy budget_policy = BudgetPolicy::kEvict;
  // Items one eviction transaction removes at most (>= 1).
  int retention_batch_items = 200;
};

// DynamoDB's StreamViewType; kNone when the table has no stream.
enum class StreamViewType : uint8_t { kNone, kKeysOnly, kNewImage, kOldImage, kNewAndOldImages };

// Per-table settings beyond the key schema. Room for later settings.
struct TableSettings {
  // DynamoDB TTL: the attribute holding the expiry time in epoch seconds
  // (an integer N); empty when TTL is disabled. Stored in an expiry column
  // at every write. Changing it recomputes the column of the items already
  // stored, in bounded batches by the maintenance thread (see "TTL").
  std::string ttl_attribute;
  StreamViewType stream_view_type = StreamViewType::kNone;
  bool operator==(const TableSettings&) const = default;
};

struct TableInfo {
  int64_t id = 0;  // never reused, also after the table is deleted
  std::string name;
  item::KeySchema key_schema;
  TableSettings settings;
  int64_t created_ms = 0;
  // Live items (tombstones excluded) and the bytes of their stored encoding,
  // as of the last commit.
  int64_t item_count = 0;
  int64_t item_bytes = 0;
};

struct TableList {
  std::vector<std::string> names;
  // Set when more names follow: pass it as exclusive_start_name.
  std::optional<std::string> last_evaluated_name;
};

// --- The write primitive ----------------------------------------------------

// What a MutateFn decides for its key.
class Decision {
 public:
  // Store this item. REQUIRES (checked, kInvalidArgument otherwise): it has
  // the write's key and passes item::ValidateItem.
  static Decision Put(item::Item item) { return Decision(Kind::kPut, std::move(item)); }
  // Delete the item (nothing happens when there is none).
  static Decision Delete() { return Decision(Kind::kDelete, {}); }
  // Leave everything as it is; no version, no change record.
  static Decision Keep() { return Decision(Kind::kKeep, {}); }

  enum class Kind : uint8_t { kPut, kDelete, kKeep };
  Kind kind() const { return kind_; }
  item::Item& item() { return item_; }

 private:
  Decision(Kind k, item::Item it) : kind_(k), item_(std::move(it)) {}
  Kind kind_;
  item::Item item_;
};

// Runs on the writer thread inside the write's transaction. `current` is
// the live item stored under the key, or nullptr when there is none (never a
// tombstone); it is valid for the call only. Returning an error (e.g.
// Status::ConditionFailed when a caller's condition is false) fails the
// write and changes nothing. It must not call back into Storage (it would
// deadlock on the writer), and should be quick: every queued write waits.
using MutateFn = std::function<Result<Decision>(const item::Item* current)>;

struct Write {
  std::string table;
  item::Map key;  // exactly the key attributes of the table's schema
  MutateFn fn;
  // Marks a resulting delete as a TTL expiry in the change log.
  bool ttl_delete = false;
};

struct WriteOutcome {
  bool changed = false;                 // false for Keep and for deleting nothing
  std::optional<item::Item> old_item;   // the live item before the write
  std::optional<item::Item> new_item;   // the live item after the write
  clock::Version version;               // zero when !changed
  int64_t seq = 0;                      // the change record's sequence; 0 when !changed
};

// Receives the answer of ApplyAsync().
using WriteCallback = std::function<void(Result<WriteOutcome>)>;

// The answer to Transact(). `status` is OK when every write applied. When the
// writes themselves cancelled the transaction, `reasons` has one Status per
// write (OK for writes that did not fail: DynamoDB's CancellationReasons,
// "None") and `status` is kConditionFailed when any reason is one, else the
// first failing reason's code. For errors of the whole call (kBusy, storage
// errors) `reasons` is empty.
struct TransactOutcome {
  Status status;
  std::vector<Status> reasons;
  std::vector<WriteOutcome> outcomes;  // one per write when status is OK
};

// --- Reads ------------------------------------------------------------------

enum class SortOp : uint8_t { kNone, kEq, kLt, kLe, kGt, kGe, kBetween, kBeginsWith };

// A condition on the sort key: `sort_key op a` (BETWEEN: a <= sk <= b).
// kBeginsWith applies to S and B sort keys only.
struct SortCondition {
  SortOp op = SortOp::kNone;
  item::Value a;
  item::Value b;
};

struct QueryRequest {
  std::string table;
  item::Value partition;  // the partition key's value
  SortCondition sort;
  bool forward = true;    // ScanIndexForward
  int limit = 0;          // items per page; 0 = bounded by bytes only
  // The page ends after the item that brings the bytes read (DynamoDB item
  // size, item::ItemSize) to this.
  int64_t bytes_max = limits::kQueryPageBytesMax;
  std::optional<item::Map> exclusive_start_key;  // a LastEvaluatedKey
};

struct ScanRequest {
  std::string table;
  int limit = 0;
  int64_t bytes_max = limits::kQueryPageBytesMax;
  std::optional<item::Map> exclusive_start_key;
  // Parallel scan: segment in [0, total_segments). The segments partition the
  // table by a hash of the partition key: together they return every item
  // exactly once, and all items of a partition fall in one segment.
  int segment = 0;
  int total_segments = 1;
};

struct Page {
  std::vector<item::Item> items;  // in key order (reversed for a backward query)
  // The key of the last item returned, when more items may follow.
  std::optional<item::Map> last_evaluated_key;
  int64_t bytes_read = 0;  // DynamoDB size (item::ItemSize) of the items returned
};

// A stored item with its version (for sync and tests).
struct StoredItem {
  item::Item item;
  clock::Version version;
};

// A stored row, live item or tombstone, with what sync needs to apply it
// elsewhere (Storage::ReadRows; sync's snapshot re-seeds a peer with them).
struct StoredRow {
  std::string partition_key;        // encoded key bytes (item/key.h)
  std::string sort_key;             // empty when the table has no sort key
  std::optional<std::string> item;  // edge/wire EncodeItem bytes; nullopt for a tombstone
  clock::Version version;
  clock::Version prev_version;      // invariant (7)
  int64_t seq = 0;                  // the row's last change record; 0 when unknown (a version-1 row)
};

// --- Change log ----------------------------------------------------------

enum class ChangeOp : uint8_t { kInsert = 1, kModify = 2, kRemove = 3 };

struct ChangeRecord {
  int64_t seq = 0;
  int64_t txn_id = 0;          // invariant (6)
  int64_t table_id = 0;
  std::string table;           // empty when the table was deleted since
  std::string partition_key;   // encoded key bytes (item/key.h)
  std::string sort_key;        // empty when the table has no sort key
  ChangeOp op = ChangeOp::kInsert;
  std::optional<std::string> old_image;  // edge/wire EncodeItem bytes
  std::optional<std::string> new_image;  // absent for kRemove
  clock::Version version;
  // The version this change replaced: for a local write the version stored
  // before it (a tombstone's included; zero when the key was never stored
  // here); for a change applied by ApplyRemote the one it replaced at its
  // origin (RemoteChange::prev_version), so that it travels unchanged.
  clock::Version prev_version;
  uint64_t origin_replica = 0;  // the replica the change came from
  // The peer that delivered the change here (ApplyRemoteOptions::
  // source_replica); 0 for a local write. Sync never sends a change back to
  // the peer it came from.
  uint64_t source_replica = 0;
  bool ttl_delete = false;      // a kRemove made by TTL expiry
};

// A change made on another replica, to apply here (sync).
struct RemoteChange {
  std::string table;
  item::Map key;
  std::optional<item::Item> new_item;  // nullopt: a delete
  clock::Version version;
  uint64_t origin_replica = 0;  // 0: version.replica
  bool ttl_delete = false;
  // The version the change replaced at its origin (ChangeRecord::
  // prev_version there); zero when none. Used to tell a conflict from an
  // update (see "Conflicts" at ApplyRemote).
  clock::Version prev_version;
  // The transaction the change belonged to in its sender's log (its
  // txn_id there), or 0. See invariant (6).
  int64_t txn_group = 0;
};

// How ApplyRemote applies a batch.
struct ApplyRemoteOptions {
  // The peer that delivered the batch; logged as ChangeRecord::source_replica.
  uint64_t source_replica = 0;
  // When not empty: the name of a table (created by the caller with
  // ConflictsTableSchema()) where every conflict found by this call is
  // recorded, in the same transaction (see "Conflicts").
  std::string conflicts_table;
  // When > 0: the clock observes the versions of the batch only up to this
  // time (a version further ahead is still applied with its own version, so
  // that every replica keeps the same winner, but it cannot drag this node's
  // clock along: sync's "clamp" skew policy).
  int64_t observe_max_hlc_ms = 0;
  // Sync state entries (see SetSyncState) written in the same transaction,
  // e.g. a pull cursor that must move exactly when the batch is applied.
  std::vector<std::pair<std::string, std::string>> sync_state;
  // When true the call may stop early, at a boundary between two of the
  // sender's transactions (txn_group; every change is one when it has
  // none), as soon as local writes are waiting for the writer: what it
  // applied so far commits, the local writes commit next, and the changes
  // not consumed come back in RemoteOutcome::rest for the caller to submit
  // again. While local writes are recent (the last 200 ms) it also stops
  // after about 16 changes, so that the next local write does not wait for
  // the commit of a long run of them. At least one transaction is applied
  // per call, so a caller that resubmits always progresses. This bounds
  // what a long catch-up adds to an application's write latency to about
  // one sender transaction and a small commit.
  bool yield_to_local_writes = false;
  // With yield_to_local_writes: the sync state entries to write with the
  // first `consumed` changes (used instead of sync_state, which must then
  // be empty).
  std::function<std::vector<std::pair<std::string, std::string>>(size_t consumed)> sync_state_at;
};

struct RemoteOutcome {
  // Per consumed change (the first applied.size() of the batch): newer than
  // the stored version, so applied.
  std::vector<bool> applied;
  int64_t conflicts = 0;  // conflicts recorded (or found, without a conflicts table)
  // The changes not consumed (in order) when the call yielded to local
  // writes (ApplyRemoteOptions::yield_to_local_writes); empty otherwise.
  std::vector<RemoteChange> rest;
};

// The key schema of a conflicts table: partition key "table" (S), sort key
// "conflict_id" (S). Each conflict is one item, written as a local write of
// this node (a version of its own, a change record, streamed like any
// write); the same lost write found again overwrites its item:
//   table         S  the table of the item in conflict
//   conflict_id   S  "<loser version hlc_ms, 15 digits zero-padded>.<counter>@<replica hex>"
//   key           M  the item's key
//   reason        S  "overwritten": the stored write lost to the incoming one;
//                    "rejected": the incoming write lost to the stored one
//   loser_version, winner_version  S  clock::Version::ToString()
//   loser_replica, winner_replica  S  the replicas that issued them (hex)
//   loser_op, winner_op            S  "PUT" or "DELETE"
//   loser_item    M  the losing item (absent for a DELETE, or when the record
//                    would pass the item size limit, or the nesting limit one
//                    level deeper: then loser_item_omitted BOOL true)
//   detected_ms   N  this node's wall clock when the conflict was found
//   detected_by   S  this node's replica id (hex)
item::KeySchema ConflictsTableSchema();

// --- Stats -----------------------------------------------------------------

struct StorageStats {
  int64_t writes = 0;            // write calls answered OK (a Transact is one)
  int64_t write_failures = 0;    // write calls answered with an error
  int64_t busy_rejections = 0;   // refused with kBusy (queue full)
  int64_t commits = 0;           // SQLite transactions committed
  int64_t commit_failures = 0;
  int64_t group_writes_max = 0;  // the largest group committed
  // Groups by size: bucket i holds groups of [2^i, 2^(i+1)) writes.
  std::array<int64_t, 12> group_size_histogram{};
  int64_t queue_depth = 0;       // writes waiting now
  int64_t last_seq = 0;          // the last committed change sequence
  // WAL checkpoints (see Options::wal_autocheckpoint_pages).
  int64_t wal_checkpoints = 0;        // run by the checkpoint thread
  int64_t wal_checkpoint_ms_max = 0;  // the longest of them
  int64_t wal_restarts = 0;           // times the WAL started again from its beginning
  int64_t wal_topups = 0;             // short final copies by the writer that let the WAL restart
  int64_t wal_writer_checkpoints = 0; // run by the writer because the WAL outgrew 2x the threshold
  // TTL.
  int64_t ttl_deletes = 0;         // items deleted by the sweeper
  int64_t ttl_sweep_batches = 0;   // sweep transactions that deleted something
  int64_t ttl_sweep_batch_max = 0; // the most items one sweep transaction deleted
  int64_t expiry_recomputed = 0;   // items whose expiry was recomputed
  // Change log retention.
  int64_t changes_trimmed = 0;     // change records removed by retention
  int64_t trimmed_seq = 0;         // every record <= this has been trimmed
  int64_t upstream_acked_seq = 0;
  // Edge retention.
  int64_t evictions = 0;          // acknowledged items evicted (age or budget)
  int64_t forced_evictions = 0;   // unacknowledged items evicted by the budget: data the upstream never got
  // Unacknowledged or held (SetChangeLogHold) change records trimmed by the
  // budget: changes the upstream or a downstream peer may never get.
  int64_t forced_trims = 0;
  int64_t db_bytes = 0;           // pages in use, as last measured by maintenance
  bool over_budget = false;       // kBackpressure is refusing writes
};

// What one RunMaintenanceOnce() did.
struct MaintenanceReport {
  int64_t expiry_recomputed = 0;
  int64_t ttl_deleted = 0;
  int64_t changes_trimmed = 0;
  int64_t evicted = 0;         // acknowledged items evicted
  int64_t forced_evicted = 0;  // unacknowledged items evicted by the budget
  int64_t budget_trimmed = 0;  // acknowledged change records trimmed by the budget (in changes_trimmed)
  int64_t forced_trimmed = 0;  // unacknowledged or held change records trimmed by the budget (in changes_trimmed)
  bool more = false;  // a task stopped at its batch bound: call again
};

// --- Backups --------------------------------------------------------------

// What a backup copied (Storage::Backup, Storage::BackupFile). Filled when
// the call returns, on failure as far as it got.
struct BackupProgress {
  int64_t pages_total = 0;   // pages of the database at the snapshot
  int64_t pages_copied = 0;
  int64_t steps = 0;         // sqlite3_backup_step calls
  int64_t bytes = 0;         // size of the finished copy
  int64_t last_seq = 0;      // the last change sequence in the copy
  uint64_t replica_id = 0;   // the replica id the copy holds (its source's)
  int64_t elapsed_ms = 0;
};

// What PrepareRestored() did to a copied database.
struct RestoreInfo {
  uint64_t previous_replica_id = 0;
  uint64_t replica_id = 0;       // the new one
  int64_t last_seq = 0;          // the last change sequence in the copy
  int64_t hlc_floor_ms = 0;      // meta 'hlc_lease_ms' after the restore
  int64_t upstream_acked_seq = 0;
  std::optional<std::string> pull_cursor;  // sync state "client/pull_cursor", kept
};

// Backups. Backup() copies the database while it serves: SQLite's online
// backup API from a read connection of its own that holds ONE read
// transaction for the whole copy, so the copy is the database as of one
// commit (every write whose call returned before Backup() was called is in
// it; later ones are not), and writers go on committing meanwhile (WAL: a
// reader never blocks the writer; the -wal file grows during the copy,
// since a checkpoint cannot pass the backup's snapshot). The copy goes
// a few hundred pages at a time (kBackupStepPages in storage.cc) with a
// short pause between steps, so that the copy shares the disk with ingest
// instead of saturating it. It is written to dest_path + ".tmp", switched to a rollback journal (one
// self-contained file, no -wal beside it), fsync'ed, then renamed over
// dest_path and the directory fsync'ed: dest_path is either the previous
// file or a complete copy, never half of one.
//
// Restoring. A copy restored in place of a node's database must take a NEW
// replica id (PrepareRestored). The versions a replica issues are (HLC time,
// counter, replica id); the old replica went on issuing versions after the
// backup, and those writes may have reached the hub. A restored node that
// kept the old id would issue versions again from the backup's clock lease:
// it could issue a version it had already issued, after the backup, for
// other contents, and every replica would take the two for one write (the
// same version is a duplicate, invariant 5 and ApplyRemote: it is never
// applied), so replicas would keep different contents forever. It would
// also be skipped by the hub's pulls as the origin of its own lost writes.
// With a new id every version it issues is new everywhere; the old id's
// writes are, to it, another replica's, which it pulls back from the hub
// (its own writes made after the backup included). The pull cursor (sync
// state "client/pull_cursor") is kept, so it pulls only what the copy
// lacks; the push cursor (UpstreamAckedSeq) is kept too: changes after it
// are pushed again and the hub's apply is idempotent. A hub restored from a
// copy takes a new id as well, which tells its edges to pull its log from
// the start (sync/protocol/client.h). The old id is recorded in sync state
// "restore/previous_replica" (16 hex digits) for operators.

class Storage {
 public:
  // Opens or creates the database: WAL mode, the schema, the replica id
  // (random 64-bit, generated once and persisted), the clock's floor.
  // Returns kIOError when the file cannot be opened or set up, kCorruption
  // when it is not an EdgeTable database, kInvalidArgument when its schema
  // version is newer than this build knows or an option is out of range. An
  // older schema is upgraded in place (columns added, never rows rewritten).
  static Result<std::unique_ptr<Storage>> Open(const Options& options);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  uint64_t replica_id() const;
  // The highest version issued or observed so far.
  clock::Version LastVersion() const;
  // Advances the clock past a version received from elsewhere (sync checks
  // it with clock::ExceedsSkewBound first).
  void ObserveVersion(const clock::Version& v);

  // --- Catalog (each call is a write: it goes through the writer) ---------

  // Creates a table. Returns its info; kAlreadyExists when the name is
  // taken; kInvalidArgument for a name DynamoDB would refuse (3-255 chars of
  // a-z A-Z 0-9 _ - .) or a key schema whose types are not S, N or B, or
  // whose names are empty or equal; kBusy when the queue is full.
  Result<TableInfo> CreateTable(const std::string& name, const item::KeySchema& schema,
                                const TableSettings& settings = {});
  // Deletes a table and its items (its change records stay). Returns the
  // info it had; kNotFound when there is no such table.
  Result<TableInfo> DeleteTable(const std::string& name);
  // Replaces a table's settings. kNotFound when there is no such table.
  Result<TableInfo> UpdateTableSettings(const std::string& name, const TableSettings& settings);
  // kNotFound when there is no such table.
  Result<TableInfo> DescribeTable(const std::string& name);
  // Names in byte order after exclusive_start_name, at most limit
  // (REQUIRES 1..limits::kListTablesLimitMax, else kInvalidArgument).
  Result<TableList> ListTables(const std::optional<std::string>& exclusive_start_name,
                               int limit = limits::kListTablesLimitMax);

  // --- Writes ----------------------------------------------------------

  // One write (see Write, MutateFn). Returns its outcome, or: kNotFound (no
  // such table), kInvalidArgument (bad key, or the new item breaks the
  // item rules or changes the key), the MutateFn's own error (e.g.
  // kConditionFailed), kBusy (queue full: nothing was done; retry later),
  // kIOError/kCorruption (SQLite failed; nothing was committed).
  Result<WriteOutcome> Apply(Write write);
  // All-or-nothing over up to limits::kTransactItemsMax writes on different
  // keys (kInvalidArgument otherwise, in `status`). See TransactOutcome.
  TransactOutcome Transact(std::vector<Write> writes);

  // Apply() without waiting: for a producer that keeps many writes in
  // flight (MQTT ingest), so that group commits are large. Returns kBusy
  // (nothing queued; `done` is not called) when the queue is full, else OK,
  // and then `done` is called exactly once, on the writer thread, after the
  // write's transaction committed (or with the error Apply() would return).
  // `done` must be quick and must not call a Storage write method (the
  // writer would wait for itself); the destructor waits for every queued
  // write's callback.
  Status ApplyAsync(Write write, WriteCallback done);

  // Conveniences on Apply(): store / delete unconditionally.
  Result<WriteOutcome> Put(const std::string& table, item::Item item);
  Result<WriteOutcome> Delete(const std::string& table, const item::Map& key);

  // Applies changes from another replica in one transaction, each only when
  // its version is newer than the one stored for its key (tombstones
  // included), so that applying the same change twice, or an older one
  // after a newer, is a no-op. A delete stores a tombstone with its version
  // even when no item exists. Observes every version on the clock (up to
  // options.observe_max_hlc_ms). Applied changes are logged with their own
  // version, prev_version and origin, and options.source_replica; they and
  // the conflict records share one txn_id (invariant 6). options.sync_state
  // is written in the same transaction (invariant 8). Returns, per change,
  // whether it was applied, and the conflicts found. Errors as Apply(), and
  // kNotFound when options.conflicts_table does not exist, kInvalidArgument
  // when its key schema is not ConflictsTableSchema() or a sync state key is
  // empty. Any error: nothing was applied, no conflict and no sync state
  // was written.
  //
  // Conflicts. With last-writer-wins every replica keeps the same winner; a
  // conflict is a write that lost to a write made without knowledge of it.
  // With S the stored row (live or tombstone) and C the incoming change:
  //  - C.version == S.version: a duplicate; no conflict.
  //  - C newer than S: applied; a conflict ("overwritten", S lost) when S
  //    exists and C.prev_version < S.version (C's writer had not seen S).
  //  - C older than S: not applied; a conflict ("rejected", C lost) when
  //    S.prev_version < C.version (S's writer had not seen C); otherwise C is
  //    a stale redelivery of a write S already superseded.
  //  - A delete meeting a delete (C and S both remove the item, e.g. the TTL
  //    sweeps of two replicas) is never a conflict: both writers agree.
  // (The items table keeps each row's prev_version for this, invariant 7.)
  // Two concurrent deletes of one item conflict as well (one of them lost),
  // though both leave the same tombstone. A row stored before schema
  // version 3 has a zero prev_version: an older change arriving for it
  // counts as "rejected" even when it is a stale redelivery.
  // Scheduling: an ApplyRemote commits in a group of its own, and local
  // writes queued behind it are committed first (it waits at most a few
  // groups), so that a long sync catch-up adds at most one bounded batch to
  // an application's write latency; with yield_to_local_writes at most one
  // sender transaction. CPU: the writer runs the batch at background
  // priority (edge/base/thread_priority.h, when the process may restore it)
  // so that the API's threads preempt it; it returns to normal priority for
  // the commit and as soon as a local write waits for it.
  Result<RemoteOutcome> ApplyRemote(std::vector<RemoteChange> changes,
                                    const ApplyRemoteOptions& options);
  // The same with default options: no source, conflicts only counted.
  Result<std::vector<bool>> ApplyRemote(std::vector<RemoteChange> changes);

  // --- Reads -----------------------------------------------------------

  // The live item under a key (exactly the key attributes), or nullopt.
  // kNotFound when there is no such table; kInvalidArgument for a bad key.
  Result<std::optional<item::Item>> Get(const std::string& table, const item::Map& key);
  // The same with the stored version.
  Result<std::optional<StoredItem>> GetStored(const std::string& table, const item::Map& key);
  // One page of one partition (see QueryRequest). kInvalidArgument for a
  // sort condition the schema does not allow, or an exclusive start key of
  // another partition; kNotFound when there is no such table.
  Result<Page> Query(const QueryRequest& request);
  // One page of a whole table, or of one segment of it, in key order
  // (partition key bytes, then sort key bytes).
  Result<Page> Scan(const ScanRequest& request);

  // The rows of a table in key order (partition key bytes, then sort key
  // bytes), live items AND tombstones, expired items included whatever
  // hide_expired_on_read says: those after the key (after_partition_key,
  // after_sort_key), or from the first when after_partition_key is empty;
  // at most `limit` (>= 1), ending after the row that brings the bytes of
  // the images read to bytes_max. Each call is one consistent read; a
  // caller paging with it sees each row as of the call that read it. For
  // sync's snapshot. kNotFound when there is no such table;
  // kInvalidArgument for limit < 1.
  Result<std::vector<StoredRow>> ReadRows(const std::string& table, std::string_view after_partition_key,
                                          std::string_view after_sort_key, int limit, int64_t bytes_max);

  // Change records with seq > after_seq in order, at most limit (>= 1).
  Result<std::vector<ChangeRecord>> ReadChanges(int64_t after_seq, int limit);
  // The change records of one table (by id) with after_seq < seq <=
  // through_seq, in order, at most limit (>= 1). The rows examined are
  // bounded by through_seq - after_seq (sequences are dense), so a caller
  // bounds the cost of a scan over other tables' records with through_seq.
  Result<std::vector<ChangeRecord>> ReadTableChanges(int64_t table_id, int64_t after_seq,
                                                     int64_t through_seq, int limit);

  // The sequence below which every change record has been trimmed (0 when
  // none was): records with seq <= TrimmedSeq() are gone for good.
  int64_t TrimmedSeq() const;

  // --- Upstream acknowledgement (sync moves it) ---------------------------

  // The highest change sequence the upstream has acknowledged (0 at first).
  int64_t UpstreamAckedSeq() const;
  // Moves the cursor forward (persisted through the writer). A lower value
  // than the current one is ignored (OK). kInvalidArgument when seq is
  // negative or above the last committed sequence; kBusy as Apply().
  Status SetUpstreamAckedSeq(int64_t seq);

  // Holds stream-retention trimming of the change log at `seq`: records
  // above it are not trimmed by age (a hub sets the lowest pull cursor of its
  // downstream peers, so that a peer offline for a while still finds its
  // changes). The disk budget still trims, counted as forced_trims when
  // above the hold. Not persisted (the caller sets it again after Open);
  // default, and INT64_MAX: no hold; a negative seq holds everything, as 0.
  void SetChangeLogHold(int64_t seq);

  // --- Sync state: small named values persisted with the data -------------

  // Keys are compared as bytes; values are opaque bytes. Reads see committed
  // values only (as every read).
  // The value, or nullopt when the key was never set (never kNotFound);
  // kIOError/kCorruption when SQLite fails.
  Result<std::optional<std::string>> GetSyncState(std::string_view key);
  // Every entry whose key starts with `prefix` (all for ""), in key order.
  Result<std::map<std::string, std::string>> ListSyncState(std::string_view prefix);
  // Sets (through the writer, committed when it returns). kInvalidArgument
  // for an empty key; kBusy and storage errors as Apply().
  Status SetSyncState(std::string_view key, std::string_view value);

  // --- Maintenance ----------------------------------------------------------

  // One bounded step of each background task, together one writer job
  // queued ahead of waiting writes (never refused for a full queue):
  // recompute expiry after a TTL attribute change (at most
  // ttl_sweep_batch_items items), delete expired items (at most
  // ttl_sweep_batch_items), trim the change log (at most
  // change_log_trim_batch records), evict for edge retention (at most
  // retention_batch_items items, or change records, per rule). The maintenance thread calls it; tests
  // with a FakeClock call it directly. Errors as Apply().
  Result<MaintenanceReport> RunMaintenanceOnce();

  StorageStats Stats() const;

  // --- Backups (see "Backups" above) -------------------------------------

  // A consistent copy of this database at dest_path (see "Backups").
  // Returns kInvalidArgument for an empty dest_path or this database's own
  // path; kIOError when the copy cannot be written (disk full, permission,
  // rename), leaving dest_path as it was and no .tmp file behind; kBusy
  // when SQLite stayed locked. `progress` (optional, owned by the caller)
  // is filled when the call returns. May run concurrently with every other
  // call; two backups at once each make their own copy.
  Status Backup(const std::string& dest_path, BackupProgress* progress = nullptr);

  // The same for a database file this process has not opened: beside a node
  // serving it in another process (WAL lets a second process read; the
  // reader needs write access to its -shm file, i.e. the node's user or
  // root), or of a stopped node. Opens db_path read-only and never writes
  // it. Returns as Backup(), and kNotFound when db_path does not exist,
  // kCorruption when it is not an EdgeTable database.
  static Status BackupFile(const std::string& db_path, const std::string& dest_path,
                           BackupProgress* progress = nullptr);

  // Prepares a copied database file (a backup) to be opened as a node's
  // database: checks it (PRAGMA integrity_check, an EdgeTable schema this
  // build knows), then in one transaction gives it a new replica id
  // (new_replica_id, or random when 0), raises the clock lease above every
  // version it stores (so that the new replica never issues a version <= one
  // it holds), and records the old id in sync state
  // "restore/previous_replica". Keeps every stored version, the change log,
  // the push and pull cursors. See "Restoring" above for why.
  // REQUIRES: no process has the file open (the node is stopped).
  // Returns what it did, or kNotFound (no such file), kCorruption (not an
  // SQLite or EdgeTable database, or the integrity check failed: the
  // message holds SQLite's first complaint), kInvalidArgument (a schema
  // newer than this build, or new_replica_id equal to the old id), kIOError
  // / kBusy (cannot write it). On error the file is unchanged.
  static Result<RestoreInfo> PrepareRestored(const std::string& path, uint64_t new_replica_id = 0);

 private:
  struct Impl;
  explicit Storage(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

std::string_view ChangeOpName(ChangeOp op);  // "INSERT", "MODIFY", "REMOVE"

}  // namespace edgetable::storage
