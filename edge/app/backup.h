#pragma once
// `edgetable backup` and `edgetable restore` (README.md, "Backups").
//
// backup reads the node's database beside the running node, in this
// process: Storage::BackupFile opens DATA_DIR/edgetable.db read-only (WAL
// lets a second process read while the node writes) and copies one
// snapshot with SQLite's online backup API. It neither takes DATA_DIR/LOCK
// nor asks the node: it works the same whether the node runs or not, needs
// no admin route on the node's listener, and writes DEST with the
// operator's permissions (a node under systemd may write only its data
// directory). It needs read access to the database and write access to its
// -shm file: run it as the node's user or root.
//
// restore puts a copy into a STOPPED node's data directory: it takes
// DATA_DIR/LOCK itself (so a node cannot start meanwhile, and a running one
// is detected), refuses a data directory holding anything but LOCK unless
// `force`, copies SRC beside the database (Storage::BackupFile: SRC must be
// an EdgeTable database; it is never written), checks and re-identifies the
// copy (Storage::PrepareRestored: integrity check, new replica id), and only
// then replaces the database files and renames the copy in.
// Threads: plain functions, one call at a time per data directory.

#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"
#include "edge/storage/storage.h"

namespace edgetable::app {

// The database file RunNode opens in its data directory.
inline constexpr std::string_view kDatabaseFileName = "edgetable.db";
std::string DatabasePath(const std::string& data_dir);

// The data directory a subcommand works on: --data-dir when given, else
// node.data_dir of the --config file when given, else the built-in default.
// Returns LoadConfigFile's errors.
Result<std::string> ResolveDataDir(const std::string& config_path, const std::string& data_dir_flag);

struct BackupResult {
  std::string path;  // the file written
  storage::BackupProgress progress;
};

// Copies DATA_DIR's database to `dest`: a file path, or an existing
// directory (then a file "edgetable-backup-<UTC time>.db" in it). Returns
// kNotFound when the data directory holds no database, kAlreadyExists when
// the destination file exists and !force, else Storage::BackupFile's errors.
Result<BackupResult> BackupDataDir(const std::string& data_dir, const std::string& dest, bool force);

// "backup: PATH (BYTES bytes, last seq SEQ, replica HEX, PAGES pages in MS ms)".
std::string DescribeBackup(const BackupResult& result);

struct RestoreResult {
  std::string db_path;                // the node's database, now the copy
  storage::RestoreInfo info;
  std::vector<std::string> replaced;  // files of the previous database removed (with force)
};

// Restores `src` into the stopped node's data directory (see above).
// Returns kAlreadyExists when a process holds DATA_DIR/LOCK, or the
// directory holds other files than LOCK and !force; kNotFound when src does
// not exist; kCorruption when src is not an EdgeTable database or fails the
// integrity check; kIOError for file errors. On error the data directory's
// database is as it was.
Result<RestoreResult> RestoreDataDir(const std::string& src, const std::string& data_dir, bool force);

// Lines for the operator: old and new replica ids, the cursors kept.
std::string DescribeRestore(const RestoreResult& result);

}  // namespace edgetable::app
