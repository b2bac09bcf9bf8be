#include "edge/app/service.h"

#include <systemd/sd-daemon.h>

#include <chrono>
#include <cstring>

#include "edge/base/assert.h"
#include "edge/base/log.h"

namespace edgetable::app {

ServiceNotifier::~ServiceNotifier() { StopWatchdog(); }

void ServiceNotifier::Send(const std::string& message) {
  // unset_environment = 0: the watchdog thread and later messages still
  // need NOTIFY_SOCKET. Returns 0 when there is no socket (not under systemd).
  int rc = sd_notify(0, message.c_str());
  if (rc < 0) ET_LOG_WARN("sd_notify failed: {}", std::strerror(-rc));
}

void ServiceNotifier::Ready(std::string_view status) {
  Send("READY=1\nSTATUS=" + std::string(status));
}

void ServiceNotifier::Status(std::string_view status) { Send("STATUS=" + std::string(status)); }

void ServiceNotifier::Reloading() { Send("RELOADING=1\nSTATUS=reloading the configuration"); }

void ServiceNotifier::Stopping(std::string_view status) {
  Send("STOPPING=1\nSTATUS=" + std::string(status));
}

uint64_t ServiceNotifier::StartWatchdog(std::function<bool()> healthy) {
  ET_ASSERT(!watchdog_.joinable());
  uint64_t usec = 0;
  if (sd_watchdog_enabled(0, &usec) <= 0 || usec == 0) return 0;
  const auto period = std::chrono::microseconds(usec / 2);
  watchdog_ = std::thread([this, period, check = std::move(healthy)] {
    bool was_healthy = true;
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      bool ok = check();
      if (ok) {
        Send("WATCHDOG=1");
      } else if (was_healthy) {
        // Logged once per unhealthy spell; systemd restarts the node when
        // the pings stay away for the whole WatchdogSec.
        ET_LOG_ERROR("watchdog: storage does not answer; not pinging systemd");
      }
      if (ok && !was_healthy) ET_LOG_INFO("watchdog: storage answers again");
      was_healthy = ok;
      lock.lock();
      cv_.wait_for(lock, period, [this] { return stop_; });
    }
  });
  return usec;
}

void ServiceNotifier::StopWatchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (watchdog_.joinable()) watchdog_.join();
}

}  // namespace edgetable::app
