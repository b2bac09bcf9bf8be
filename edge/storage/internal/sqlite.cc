#include "edge/storage/internal/sqlite.h"

#include <sqlite3.h>

#include <climits>

namespace edgetable::storage::sqlite {
namespace {

Status FromCode(int rc, std::string message) {
  switch (rc & 0xff) {  // primary code; extended codes keep it in the low byte
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
      return Status::Busy(std::move(message));
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return Status::Corruption(std::move(message));
    case SQLITE_TOOBIG:
      return Status::LimitExceeded(std::move(message));
    case SQLITE_CONSTRAINT:
      return Status::AlreadyExists(std::move(message));
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_PROTOCOL:
      return Status::IOError(std::move(message));
    default:
      return Status::Internal(std::move(message));
  }
}

std::string Describe(int rc, std::string_view what, sqlite3* db) {
  std::string m = "sqlite: ";
  m += what;
  m += ": ";
  m += db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
  m += " (code ";
  m += std::to_string(rc);
  m += ")";
  return m;
}

// Process-wide settings, applied once before SQLite initializes itself (it
// refuses them afterwards). Memory statistics off: with them on, every
// allocation SQLite makes takes a global mutex to count bytes, about a
// twentieth of the writer's time under ingest, and EdgeTable reads no SQLite
// memory figure (its own counters come from the kernel).
void ConfigureSqliteOnce() {
  static const bool configured = [] {
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);  // SQLITE_MISUSE if already initialized: harmless
    return true;
  }();
  (void)configured;
}

}  // namespace

Db::Db(sqlite3* db) : db_(db) {}

Result<std::unique_ptr<Db>> Db::Open(const std::string& path, Mode mode) {
  int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
  switch (mode) {
    case Mode::kReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    case Mode::kReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::kReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
  }
  ConfigureSqliteOnce();
  sqlite3* raw = nullptr;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  if (rc != SQLITE_OK) {
    Status s = FromCode(rc, Describe(rc, "open " + path, raw));
    sqlite3_close_v2(raw);  // a handle is returned even on failure
    return s;
  }
  std::unique_ptr<Db> db(new Db(raw));
  return db;
}

Db::~Db() {
  // Cached statements first: closing with live statements would leave a zombie.
  begin_.reset();
  commit_.reset();
  rollback_.reset();
  sp_begin_.reset();
  sp_release_.reset();
  sp_rollback_.reset();
  sqlite3_close_v2(db_);
}

void Db::WatchWal() {
  sqlite3_wal_hook(
      db_,
      [](void* arg, sqlite3*, const char*, int pages) -> int {
        static_cast<std::atomic<int>*>(arg)->store(pages, std::memory_order_relaxed);
        return SQLITE_OK;
      },
      &wal_pages_);
}

Result<std::pair<int, int>> Db::Checkpoint() {
  int log = 0, done = 0;
  const int rc = sqlite3_wal_checkpoint_v2(db_, "main", SQLITE_CHECKPOINT_PASSIVE, &log, &done);
  if (rc != SQLITE_OK) return Error(rc, "wal checkpoint");
  return std::make_pair(log, done);
}

Status Db::Error(int rc, std::string_view what) const { return FromCode(rc, Describe(rc, what, db_)); }

Status Db::Exec(std::string_view sql) {
  std::string text(sql);
  char* err = nullptr;
  int rc = sqlite3_exec(db_, text.c_str(), nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string m = "sqlite: exec \"" + text.substr(0, 80) + "\": " + (err ? err : sqlite3_errstr(rc));
  sqlite3_free(err);
  return FromCode(rc, std::move(m));
}

Result<std::unique_ptr<Statement>> Db::Prepare(std::string_view sql, bool persistent) {
  if (sql.size() > static_cast<size_t>(INT_MAX)) return Status::LimitExceeded("sqlite: statement too long");
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              persistent ? SQLITE_PREPARE_PERSISTENT : 0, &stmt, nullptr);
  if (rc != SQLITE_OK) return Error(rc, "prepare \"" + std::string(sql.substr(0, 80)) + "\"");
  if (stmt == nullptr) return Status::Internal("sqlite: prepare: empty statement");
  return std::unique_ptr<Statement>(new Statement(this, stmt, std::string(sql)));
}

Result<int64_t> Db::QueryInt(std::string_view sql) {
  ET_ASSIGN_OR_RETURN(auto stmt, Prepare(sql, false));
  ET_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Status::Internal("sqlite: no row from \"" + std::string(sql) + "\"");
  return stmt->ColumnInt64(0);
}

Result<std::string> Db::QueryText(std::string_view sql) {
  ET_ASSIGN_OR_RETURN(auto stmt, Prepare(sql, false));
  ET_ASSIGN_OR_RETURN(bool row, stmt->Step());
  if (!row) return Status::Internal("sqlite: no row from \"" + std::string(sql) + "\"");
  return std::string(stmt->ColumnText(0));
}

int64_t Db::Changes() const { return static_cast<int64_t>(sqlite3_changes64(db_)); }

int64_t Db::LastInsertRowid() const { return static_cast<int64_t>(sqlite3_last_insert_rowid(db_)); }

bool Db::InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }

std::string_view Db::LibraryVersion() { return sqlite3_libversion(); }

Status Db::BackupTo(Db* dest, int step_pages, int busy_retries_max,
                    const std::function<bool(int64_t pages_done, int64_t pages_total)>& after_step) {
  ET_ASSERT(dest != nullptr && dest != this && step_pages > 0);
  sqlite3_backup* b = sqlite3_backup_init(dest->db_, "main", db_, "main");
  if (b == nullptr) return dest->Error(sqlite3_errcode(dest->db_), "backup init");
  int busy_in_a_row = 0;
  int rc = SQLITE_OK;
  bool abandoned = false;
  for (;;) {
    rc = sqlite3_backup_step(b, step_pages);
    if (rc == SQLITE_DONE) break;
    const int primary = rc & 0xff;
    if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
      if (++busy_in_a_row > busy_retries_max) break;
    } else if (rc != SQLITE_OK) {
      break;
    } else {
      busy_in_a_row = 0;
    }
    const int64_t total = sqlite3_backup_pagecount(b);
    if (!after_step(total - sqlite3_backup_remaining(b), total)) {
      abandoned = true;
      break;
    }
  }
  // finish() releases both connections' locks whatever happened; it
  // returns the error of the last step, if any.
  const int finish_rc = sqlite3_backup_finish(b);
  if (abandoned) return Status::IOError("sqlite: backup abandoned");
  if (rc == SQLITE_DONE && finish_rc == SQLITE_OK) return Status::Ok();
  const int err = rc != SQLITE_DONE ? rc : finish_rc;
  // A failed step reports its error on the destination connection.
  return FromCode(err, Describe(err, "backup step", nullptr) + "; destination: " + sqlite3_errmsg(dest->db_));
}

Status Db::RunCached(std::unique_ptr<Statement>* slot, std::string_view sql) {
  if (*slot == nullptr) {
    ET_ASSIGN_OR_RETURN(*slot, Prepare(sql, true));
  }
  Status s = (*slot)->Run();
  (*slot)->Reset();
  return s;
}

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status Statement::Check(int rc, std::string_view what) const {
  if (rc == SQLITE_OK) return Status::Ok();
  std::string w(what);
  w += " in \"";
  w += sql_.substr(0, 80);
  w += "\"";
  return db_->Error(rc, w);
}

Status Statement::BindInt64(int index, int64_t v) {
  return Check(sqlite3_bind_int64(stmt_, index, static_cast<sqlite3_int64>(v)), "bind");
}

Status Statement::BindBlob(int index, std::string_view bytes) {
  // A zero-length blob is bound as an empty blob, never as NULL.
  return Check(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(),
                                   static_cast<sqlite3_uint64>(bytes.size()), SQLITE_TRANSIENT),
               "bind blob");
}

Status Statement::BindBlobRef(int index, std::string_view bytes) {
  return Check(sqlite3_bind_blob64(stmt_, index, bytes.empty() ? "" : bytes.data(),
                                   static_cast<sqlite3_uint64>(bytes.size()), SQLITE_STATIC),
               "bind blob");
}

Status Statement::BindText(int index, std::string_view text) {
  return Check(sqlite3_bind_text64(stmt_, index, text.data(), static_cast<sqlite3_uint64>(text.size()),
                                   SQLITE_TRANSIENT, SQLITE_UTF8),
               "bind text");
}

Status Statement::BindNull(int index) { return Check(sqlite3_bind_null(stmt_, index), "bind null"); }

Result<bool> Statement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Check(rc, "step");
}

Status Statement::Run() {
  for (;;) {
    ET_ASSIGN_OR_RETURN(bool row, Step());
    if (!row) return Status::Ok();
  }
}

void Statement::Reset() {
  // The error of a failed step was already returned by Step(); reset repeats it.
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::ColumnIsNull(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }

int64_t Statement::ColumnInt64(int col) const {
  return static_cast<int64_t>(sqlite3_column_int64(stmt_, col));
}

std::string_view Statement::ColumnBlob(int col) const {
  const void* p = sqlite3_column_blob(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);  // after the pointer, as SQLite documents
  if (p == nullptr || n <= 0) return {};
  return std::string_view(static_cast<const char*>(p), static_cast<size_t>(n));
}

std::string_view Statement::ColumnText(int col) const {
  const unsigned char* p = sqlite3_column_text(stmt_, col);
  int n = sqlite3_column_bytes(stmt_, col);
  if (p == nullptr || n <= 0) return {};
  return std::string_view(reinterpret_cast<const char*>(p), static_cast<size_t>(n));
}

Result<std::unique_ptr<Transaction>> Transaction::BeginImmediate(Db* db) {
  ET_RETURN_IF_ERROR(db->RunCached(&db->begin_, "BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (open_) (void)Rollback();
}

Status Transaction::Commit() {
  ET_ASSERT(open_);
  Status s = db_->RunCached(&db_->commit_, "COMMIT");
  if (s.ok()) open_ = false;
  return s;
}

Status Transaction::Rollback() {
  ET_ASSERT(open_);
  open_ = false;
  // After some errors SQLite has already rolled back; then ROLLBACK fails
  // with "no transaction is active", which is the state we want.
  if (sqlite3_get_autocommit(db_->db_)) return Status::Ok();
  return db_->RunCached(&db_->rollback_, "ROLLBACK");
}

Result<std::unique_ptr<Savepoint>> Savepoint::Begin(Db* db) {
  ET_RETURN_IF_ERROR(db->RunCached(&db->sp_begin_, "SAVEPOINT w"));
  return std::unique_ptr<Savepoint>(new Savepoint(db));
}

Savepoint::~Savepoint() {
  if (open_) (void)Rollback();
}

Status Savepoint::Release() {
  ET_ASSERT(open_);
  Status s = db_->RunCached(&db_->sp_release_, "RELEASE w");
  if (s.ok()) open_ = false;
  return s;
}

Status Savepoint::Rollback() {
  ET_ASSERT(open_);
  open_ = false;
  if (sqlite3_get_autocommit(db_->db_)) return Status::Ok();  // whole transaction already gone
  ET_RETURN_IF_ERROR(db_->RunCached(&db_->sp_rollback_, "ROLLBACK TO w"));
  return db_->RunCached(&db_->sp_release_, "RELEASE w");
}

}  // namespace edgetable::storage::sqlite
