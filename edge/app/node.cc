#include "edge/app/node.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "edge/base/log.h"

namespace edgetable::app {
namespace {

// Holds an exclusive flock on DATA_DIR/LOCK for the life of the process, so
// that two processes never open the same database files.
class DirLock {
 public:
  ~DirLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  Status Acquire(const std::string& dir) {
    std::string path = dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) {
      return Status::IOError("cannot open '" + path + "': " + std::strerror(errno));
    }
    if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
      return Status::AlreadyExists("data directory '" + dir +
                                   "' is in use by another edgetable process");
    }
    return Status::Ok();
  }

 private:
  int fd_ = -1;
};

Status MakeDataDir(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create data directory '" + dir + "': " + ec.message());
  if (::access(dir.c_str(), W_OK) != 0) {
    return Status::IOError("data directory '" + dir + "' is not writable");
  }
  return Status::Ok();
}

}  // namespace

Status RunNode(const Config& config) {
  // Signals are taken synchronously by this thread; every thread started
  // after this inherits the mask, so none of them is interrupted.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ET_RETURN_IF_ERROR(MakeDataDir(config.node.data_dir));
  DirLock lock;
  ET_RETURN_IF_ERROR(lock.Acquire(config.node.data_dir));

  ET_LOG_INFO("edgetable serving: data in {}", config.node.data_dir);
  int sig = 0;
  sigwait(&stop_signals, &sig);
  ET_LOG_INFO("edgetable stopping ({})", sig == SIGINT ? "SIGINT" : "SIGTERM");
  return Status::Ok();
}

}  // namespace edgetable::app
