#pragma once
// The one door to SQLite (STYLE.md, section 2). RAII handles for a database
// connection, a prepared statement, a transaction and a savepoint; every
// SQLITE_* result code becomes a Status here and nowhere else:
//   SQLITE_BUSY, SQLITE_LOCKED            -> kBusy
//   SQLITE_CORRUPT, SQLITE_NOTADB         -> kCorruption
//   SQLITE_TOOBIG                         -> kLimitExceeded
//   SQLITE_CONSTRAINT                     -> kAlreadyExists
//   SQLITE_IOERR, SQLITE_FULL, SQLITE_CANTOPEN, SQLITE_READONLY,
//   SQLITE_PERM, SQLITE_PROTOCOL          -> kIOError
//   anything else                         -> kInternal
// Messages carry SQLite's own message and what was being done.
//
// Only EdgeTable types appear here; <sqlite3.h> is included by sqlite.cc only.
// Threads: a Db and its Statements are used by one thread at a time (the
// connection is opened without SQLite's per-connection mutex).

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "edge/base/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace edgetable::storage::sqlite {

class Statement;

class Db {
 public:
  // kReadWrite: an existing file only (kIOError when it is missing).
  enum class Mode { kReadWriteCreate, kReadOnly, kReadWrite };

  // Opens (or creates, in kReadWriteCreate) the database file at path.
  // Returns kIOError when the file cannot be opened, kCorruption when it is
  // not a database.
  static Result<std::unique_ptr<Db>> Open(const std::string& path, Mode mode);
  ~Db();
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Runs one or more SQL statements that return no rows that matter.
  Status Exec(std::string_view sql);

  // Prepares one statement. persistent: it will be reused many times.
  // The Statement must not outlive this Db.
  Result<std::unique_ptr<Statement>> Prepare(std::string_view sql, bool persistent = true);

  // Runs a statement returning one integer (e.g. "PRAGMA x" or "SELECT count(*)").
  Result<int64_t> QueryInt(std::string_view sql);
  // Runs a statement returning one text value (e.g. "PRAGMA journal_mode=WAL").
  Result<std::string> QueryText(std::string_view sql);

  // Rows changed by the last INSERT/UPDATE/DELETE on this connection.
  int64_t Changes() const;
  // The rowid of the last row inserted on this connection.
  int64_t LastInsertRowid() const;
  // True inside BEGIN ... COMMIT. SQLite ends a transaction by itself after
  // some errors (disk full, I/O error); the writer checks this after each.
  bool InTransaction() const;

  // Copies this database ("main") into `dest` with SQLite's online backup
  // API, `step_pages` pages per sqlite3_backup_step. After each step that
  // left pages to copy, after_step(pages_done, pages_total) is called (the
  // caller sleeps there, so that other connections get their turn); it
  // returns false to abandon the copy (then kIOError "backup abandoned").
  // A step that finds a lock (SQLITE_BUSY/LOCKED) is retried after
  // after_step, at most busy_retries_max times in a row (then kBusy).
  // The copy is a snapshot of whatever this connection reads: when the
  // caller holds a read transaction open on it (BEGIN + a SELECT) the
  // snapshot is that transaction's, and writes committed meanwhile by
  // other connections neither restart nor reach the copy.
  // REQUIRES: dest is not this Db, and has no transaction open.
  Status BackupTo(Db* dest, int step_pages, int busy_retries_max,
                  const std::function<bool(int64_t pages_done, int64_t pages_total)>& after_step);

  // WAL checkpoints. WatchWal() replaces SQLite's automatic checkpoint on
  // this connection (its commits then never copy the WAL back themselves)
  // with a hook recording the WAL's size after each commit: WalPages().
  // Checkpoint() runs a PASSIVE checkpoint (it copies what no reader still
  // needs, never waits for a lock and never blocks writers) and returns the
  // frames in the WAL and the last frame copied (kBusy when another
  // checkpoint is running). The WAL restarts from its beginning at the
  // next write transaction once every frame is copied.
  void WatchWal();
  int WalPages() const { return wal_pages_.load(std::memory_order_relaxed); }
  Result<std::pair<int, int>> Checkpoint();

  // SQLite's version string, e.g. "3.40.1".
  static std::string_view LibraryVersion();

 private:
  explicit Db(sqlite3* db);
  friend class Statement;
  friend class Savepoint;
  friend class Transaction;
  Status Error(int rc, std::string_view what) const;
  // Runs one of the cached transaction-control statements below.
  Status RunCached(std::unique_ptr<Statement>* slot, std::string_view sql);
  sqlite3* db_;
  std::atomic<int> wal_pages_{0};  // written by the WAL hook (WatchWal)
  // Prepared once: a savepoint per write must not cost a parse each time.
  std::unique_ptr<Statement> begin_, commit_, rollback_;
  std::unique_ptr<Statement> sp_begin_, sp_release_, sp_rollback_;
};

class Statement {
 public:
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based. Blob and text bytes are copied by SQLite.
  Status BindInt64(int index, int64_t v);
  Status BindBlob(int index, std::string_view bytes);
  // Binds without a copy. REQUIRES: `bytes` stay valid until the next
  // Reset() (hold a ScopedReset declared after the bytes).
  Status BindBlobRef(int index, std::string_view bytes);
  Status BindText(int index, std::string_view text);
  Status BindNull(int index);

  // Advances. Returns true when a row is available, false when done.
  Result<bool> Step();
  // Steps until done (for statements that return no rows).
  Status Run();
  // Resets for re-execution and clears every binding.
  void Reset();

  // Columns are 0-based; valid until the next Step()/Reset().
  bool ColumnIsNull(int col) const;
  int64_t ColumnInt64(int col) const;
  std::string_view ColumnBlob(int col) const;
  std::string_view ColumnText(int col) const;

  std::string_view sql() const { return sql_; }

 private:
  friend class Db;
  Statement(Db* db, sqlite3_stmt* stmt, std::string sql)
      : db_(db), stmt_(stmt), sql_(std::move(sql)) {}
  Status Check(int rc, std::string_view what) const;
  Db* db_;
  sqlite3_stmt* stmt_;
  std::string sql_;
};

// Resets a statement when leaving a scope, so that a read statement does not
// hold its snapshot open (which would keep the WAL from being checkpointed).
class ScopedReset {
 public:
  explicit ScopedReset(Statement* s) : s_(s) {}
  ~ScopedReset() { s_->Reset(); }
  ScopedReset(const ScopedReset&) = delete;
  ScopedReset& operator=(const ScopedReset&) = delete;

 private:
  Statement* s_;
};

// BEGIN IMMEDIATE ... COMMIT; rolled back on destruction unless committed.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> BeginImmediate(Db* db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  // After a failed Commit() the transaction is still open; the destructor
  // (or Rollback()) rolls it back.
  Status Commit();
  Status Rollback();

 private:
  explicit Transaction(Db* db) : db_(db) {}
  Db* db_;
  bool open_ = true;
};

// SAVEPOINT name ... RELEASE; rolled back to (and released) on destruction
// unless released. Nested inside a Transaction.
class Savepoint {
 public:
  static Result<std::unique_ptr<Savepoint>> Begin(Db* db);
  ~Savepoint();
  Savepoint(const Savepoint&) = delete;
  Savepoint& operator=(const Savepoint&) = delete;
  // After a failed Release() the savepoint is still open.
  Status Release();
  // Undoes everything since Begin() and ends the savepoint.
  Status Rollback();

 private:
  explicit Savepoint(Db* db) : db_(db) {}
  Db* db_;
  bool open_ = true;
};

}  // namespace edgetable::storage::sqlite
