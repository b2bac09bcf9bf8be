#pragma once
// edge/base: background CPU priority for the threads that replicate and
// maintain, so that the threads answering applications preempt them at
// once. On a 2-core gateway a sync catch-up (the client decoding, the
// storage writer applying remote changes), the WAL checkpoint and a hub's
// answers to its peers otherwise take the CPU from the API in equal shares.
//
// Linux keeps a nice value per thread (setpriority(PRIO_PROCESS, tid));
// these functions change only the calling thread's. Raising the nice value
// (a lower priority) is always permitted. Going back down needs
// CAP_SYS_NICE or an RLIMIT_NICE that allows the old value (20 - nice <=
// RLIMIT_NICE; systemd: LimitNICE=+0 allows nice 0, and
// platforms/systemd/edgetable.service sets it). Hence two tools:
//  - SetCurrentThreadBackground(): for a thread that only does background
//    work (the sync client's thread, the WAL checkpoint thread); lowered
//    for good, so it works without any privilege.
//  - BackgroundPriorityScope: for a thread that does background work
//    between foreground work (a server worker answering a sync request, the
//    storage writer applying a remote batch). It lowers the thread only if
//    it can restore it afterwards (CanRestoreThreadNice), and restores it
//    when destroyed (or at Restore()), so a shared thread never stays
//    lowered. Without the privilege it does nothing.
// Nice values, not SCHED_IDLE: an idle-class thread gets no CPU at all while
// any normal thread runs, and a local write waiting for a starved storage
// writer would be a priority inversion; at kBackgroundNice the background
// thread still gets about a tenth of a core against a busy normal thread.
// Priority is a hint: every failure is ignored (a debug log) and nothing
// else depends on it. Elsewhere than Linux every call does nothing.
// Threads: every function acts on the calling thread; safe from any thread.

namespace edgetable {

// The nice value of background work: CFS weight 110 against 1024 at nice 0.
inline constexpr int kBackgroundNice = 10;

// The calling thread's nice value (-20..19); 0 where unsupported.
int CurrentThreadNice();

// Sets the calling thread's nice value. Returns false when the kernel
// refused (e.g. going down without the privilege) or where unsupported.
bool SetCurrentThreadNice(int nice);

// Whether the calling thread may set its nice value to `nice` when it is
// higher than that: CAP_SYS_NICE in the effective set, or RLIMIT_NICE.
bool CanRestoreThreadNice(int nice);

// Raises the calling thread's nice value to kBackgroundNice for good (never
// lowers it: a thread already at or past it stays). Returns whether the
// thread now runs at kBackgroundNice or lower priority.
bool SetCurrentThreadBackground();

// Lowers the calling thread to kBackgroundNice for the scope's lifetime if
// its nice value is below that and can be restored; restores it at
// Restore() or destruction, on the same thread. Not copyable or movable:
// it belongs to the thread that made it.
class BackgroundPriorityScope {
 public:
  BackgroundPriorityScope();
  ~BackgroundPriorityScope() { Restore(); }
  BackgroundPriorityScope(const BackgroundPriorityScope&) = delete;
  BackgroundPriorityScope& operator=(const BackgroundPriorityScope&) = delete;

  // Back to the saved nice value now (idempotent).
  void Restore();
  // Whether the thread is lowered by this scope (not yet restored).
  bool lowered() const { return lowered_; }

 private:
  int saved_ = 0;
  bool lowered_ = false;
};

}  // namespace edgetable
