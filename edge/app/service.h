#pragma once
// edge/app service notifications: what the node tells systemd through
// libsystemd's sd_notify (platforms/systemd/edgetable.service, Type=notify).
// The only file that includes <systemd/...>.
//
// Without NOTIFY_SOCKET in the environment (not started by systemd) every
// call does nothing. Messages: READY=1 once the listeners are up, STATUS=
// lines, RELOADING=1 around a SIGHUP reload, STOPPING=1 at shutdown, and
// WATCHDOG=1 from a thread every half of WATCHDOG_USEC, sent only while
// the health check passes, so that systemd restarts a node whose storage
// no longer answers.
// Threads: every method may be called from any thread.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace edgetable::app {

class ServiceNotifier {
 public:
  ServiceNotifier() = default;
  ~ServiceNotifier();  // StopWatchdog()s
  ServiceNotifier(const ServiceNotifier&) = delete;
  ServiceNotifier& operator=(const ServiceNotifier&) = delete;

  // READY=1 with a STATUS= line.
  void Ready(std::string_view status);
  // STATUS= line only.
  void Status(std::string_view status);
  // RELOADING=1 (a reload starts; Ready() ends it).
  void Reloading();
  // STOPPING=1 with a STATUS= line.
  void Stopping(std::string_view status);

  // When systemd's watchdog is on for this process (sd_watchdog_enabled:
  // WATCHDOG_USEC set, WATCHDOG_PID absent or ours), starts a thread that
  // calls `healthy` every half interval and sends WATCHDOG=1 when it returns
  // true. Returns the interval in microseconds, 0 when the watchdog is off
  // (nothing started). REQUIRES: not started before.
  uint64_t StartWatchdog(std::function<bool()> healthy);
  // Stops the thread (no more pings). Idempotent.
  void StopWatchdog();

 private:
  void Send(const std::string& message);

  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;  // GUARDED_BY(mu_)
  std::thread watchdog_;
};

}  // namespace edgetable::app
