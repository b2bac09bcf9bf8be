#include "edge/app/backup.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <filesystem>

#include "edge/app/config.h"

namespace edgetable::app {
namespace {

namespace fs = std::filesystem;

std::string Hex64(uint64_t v) {
  char text[17];
  std::snprintf(text, sizeof(text), "%016" PRIx64, v);
  return text;
}

// DATA_DIR/LOCK, the flock RunNode holds for its whole life: held here for
// the whole restore, so that a node cannot start on a half-restored
// directory, and failing to get it means a node runs there.
class DataDirLock {
 public:
  ~DataDirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& dir) {
    const std::string path = dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::AlreadyExists("data directory '" + dir +
                                   "' is in use by a running edgetable process: stop the node before restoring");
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

Status SyncDir(const std::string& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Status::IOError("cannot open '" + dir + "': " + std::strerror(errno));
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Status::IOError("cannot fsync '" + dir + "': " + std::strerror(errno));
  return Status::Ok();
}

std::string UtcStamp() {
  const std::time_t now = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&now, &tm);
  char text[32];
  std::strftime(text, sizeof(text), "%Y%m%dT%H%M%SZ", &tm);
  return text;
}

}  // namespace

std::string DatabasePath(const std::string& data_dir) { return data_dir + "/" + std::string(kDatabaseFileName); }

Result<std::string> ResolveDataDir(const std::string& config_path, const std::string& data_dir_flag) {
  if (!data_dir_flag.empty()) return data_dir_flag;
  if (config_path.empty()) return Config{}.node.data_dir;
  ET_ASSIGN_OR_RETURN(Config config, LoadConfigFile(config_path));
  return config.node.data_dir;
}

Result<BackupResult> BackupDataDir(const std::string& data_dir, const std::string& dest, bool force) {
  const std::string db = DatabasePath(data_dir);
  std::error_code ec;
  if (!fs::exists(db, ec)) {
    return Status::NotFound("no EdgeTable database in data directory '" + data_dir + "' (no " + db + ")");
  }
  if (dest.empty()) return Status::InvalidArgument("backup: empty destination");
  BackupResult result;
  result.path = fs::is_directory(dest, ec) ? (fs::path(dest) / ("edgetable-backup-" + UtcStamp() + ".db")).string()
                                           : dest;
  if (!force && fs::exists(result.path, ec)) {
    return Status::AlreadyExists("backup: '" + result.path + "' exists; choose another name or pass --force");
  }
  ET_RETURN_IF_ERROR(storage::Storage::BackupFile(db, result.path, &result.progress));
  return result;
}

std::string DescribeBackup(const BackupResult& r) {
  const storage::BackupProgress& p = r.progress;
  return "backup: " + r.path + " (" + std::to_string(p.bytes) + " bytes, last seq " + std::to_string(p.last_seq) +
         ", replica " + Hex64(p.replica_id) + ", " + std::to_string(p.pages_total) + " pages in " +
         std::to_string(p.elapsed_ms) + " ms)\n";
}

Result<RestoreResult> RestoreDataDir(const std::string& src, const std::string& data_dir, bool force) {
  std::error_code ec;
  if (!fs::exists(src, ec)) return Status::NotFound("restore: no backup at '" + src + "'");
  if (fs::is_directory(src, ec)) {
    return Status::InvalidArgument("restore: '" + src + "' is a directory, not a backup file");
  }
  fs::create_directories(data_dir, ec);
  if (ec) return Status::IOError("cannot create data directory '" + data_dir + "': " + ec.message());
  DataDirLock lock;
  ET_RETURN_IF_ERROR(lock.Acquire(data_dir));

  std::vector<std::string> present;
  for (const fs::directory_entry& e : fs::directory_iterator(data_dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name != "LOCK") present.push_back(name);
  }
  if (ec) return Status::IOError("cannot list data directory '" + data_dir + "': " + ec.message());
  if (!present.empty() && !force) {
    std::string names;
    for (size_t i = 0; i < present.size() && i < 5; ++i) names += (i ? ", " : "") + present[i];
    if (present.size() > 5) names += ", ...";
    return Status::AlreadyExists("restore: data directory '" + data_dir + "' is not empty (" + names +
                                 "); pass --force to replace its database");
  }

  // Staged beside the database, so that the final rename stays in one
  // file system; a failure before the rename leaves the database as it was.
  RestoreResult result;
  result.db_path = DatabasePath(data_dir);
  const std::string staged = result.db_path + ".restore";
  auto cleanup = [&] {
    for (const char* suffix : {"", ".tmp", "-journal", "-wal", "-shm"}) fs::remove(staged + suffix, ec);
  };
  cleanup();
  Status s = storage::Storage::BackupFile(src, staged);
  if (s.ok()) {
    Result<storage::RestoreInfo> info = storage::Storage::PrepareRestored(staged);
    if (info.ok()) {
      result.info = *info;
    } else {
      s = info.status();
    }
  }
  if (!s.ok()) {
    cleanup();
    return s.WithPrefix("restore: " + src);
  }
  // A -wal left beside the new file would be replayed into it: the old
  // database's files go first, all of them.
  for (const char* suffix : {"-wal", "-shm", "-journal", ""}) {
    const std::string f = result.db_path + suffix;
    if (fs::exists(f, ec)) {
      if (!fs::remove(f, ec) || ec) {
        cleanup();
        return Status::IOError("restore: cannot remove '" + f + "': " + ec.message());
      }
      result.replaced.push_back(f);
    }
  }
  fs::rename(staged, result.db_path, ec);
  if (ec) {
    return Status::IOError("restore: cannot rename '" + staged + "' to '" + result.db_path + "': " + ec.message() +
                           " (the prepared copy is left there)");
  }
  ET_RETURN_IF_ERROR(SyncDir(data_dir));
  return result;
}

std::string DescribeRestore(const RestoreResult& r) {
  const storage::RestoreInfo& i = r.info;
  std::string out = "restored: " + r.db_path + " (last seq " + std::to_string(i.last_seq) + ")\n";
  for (const std::string& f : r.replaced) out += "replaced: " + f + "\n";
  out += "previous replica id: " + Hex64(i.previous_replica_id) + "\n";
  out += "new replica id:      " + Hex64(i.replica_id) + "\n";
  out += "push cursor kept: " + std::to_string(i.upstream_acked_seq) +
         "; pull cursor kept: " + (i.pull_cursor ? *i.pull_cursor : std::string("none")) + "\n";
  out += "start the node: it pulls from its upstream what the copy lacks\n";
  return out;
}

}  // namespace edgetable::app
