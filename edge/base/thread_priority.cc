#include "edge/base/thread_priority.h"

#ifdef __linux__
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#endif

#include "edge/base/log.h"

namespace edgetable {

#ifdef __linux__
namespace {

// The kernel thread id: with PRIO_PROCESS, setpriority() and getpriority()
// act on one thread when given it (syscall(): older glibc lacks gettid()).
id_t ThreadId() { return static_cast<id_t>(syscall(SYS_gettid)); }

// CAP_SYS_NICE (bit 23) in the effective set, read once: the service either
// has it for its whole life or never.
bool HasCapSysNice() {
  static const bool has = [] {
    FILE* f = std::fopen("/proc/thread-self/status", "r");
    if (f == nullptr) f = std::fopen("/proc/self/status", "r");
    if (f == nullptr) return false;
    char line[256];
    bool found = false;
    while (std::fgets(line, sizeof line, f) != nullptr) {
      unsigned long long caps = 0;
      if (std::sscanf(line, "CapEff: %llx", &caps) == 1) {
        found = ((caps >> 23) & 1) != 0;
        break;
      }
    }
    std::fclose(f);
    return found;
  }();
  return has;
}

}  // namespace

int CurrentThreadNice() {
  errno = 0;
  const int nice = getpriority(PRIO_PROCESS, ThreadId());
  return errno != 0 ? 0 : nice;
}

bool SetCurrentThreadNice(int nice) {
  if (setpriority(PRIO_PROCESS, ThreadId(), nice) != 0) {
    ET_LOG_DEBUG("thread priority: setpriority(nice {}) refused: {}", nice, std::strerror(errno));
    return false;
  }
  return true;
}

bool CanRestoreThreadNice(int nice) {
  if (CurrentThreadNice() <= nice) return true;  // not lower than now: always permitted
  rlimit rl{};
  if (getrlimit(RLIMIT_NICE, &rl) == 0 &&
      (rl.rlim_cur == RLIM_INFINITY || static_cast<rlim_t>(20 - nice) <= rl.rlim_cur)) {
    return true;
  }
  return HasCapSysNice();
}

bool SetCurrentThreadBackground() {
  if (CurrentThreadNice() >= kBackgroundNice) return true;
  return SetCurrentThreadNice(kBackgroundNice);
}

BackgroundPriorityScope::BackgroundPriorityScope() {
  saved_ = CurrentThreadNice();
  if (saved_ >= kBackgroundNice) return;
  // Lowered, then not restorable: the thread would stay lowered.
  if (!CanRestoreThreadNice(saved_)) {
    ET_LOG_DEBUG("thread priority: not lowering (nice {} could not be restored: no CAP_SYS_NICE, RLIMIT_NICE)",
                 saved_);
    return;
  }
  lowered_ = SetCurrentThreadNice(kBackgroundNice);
}

void BackgroundPriorityScope::Restore() {
  if (!lowered_) return;
  lowered_ = false;
  SetCurrentThreadNice(saved_);
}

#else  // not Linux: no per-thread nice values

int CurrentThreadNice() { return 0; }
bool SetCurrentThreadNice(int) { return false; }
bool CanRestoreThreadNice(int) { return false; }
bool SetCurrentThreadBackground() { return false; }
BackgroundPriorityScope::BackgroundPriorityScope() {}
void BackgroundPriorityScope::Restore() { lowered_ = false; }

#endif

}  // namespace edgetable
