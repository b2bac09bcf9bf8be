#pragma once
// Node: one running EdgeTable process — its data directory, storage engine
// and listeners — wired from a Config.
// Threads: RunNode blocks the calling thread until SIGINT or SIGTERM.

#include <functional>
#include <string>

#include "edge/app/config.h"
#include "edge/base/status.h"

namespace edgetable::app {

// What `serve` knows besides the config: where it came from and how to read
// it again on SIGHUP.
struct ServeOptions {
  std::string config_path;  // empty: built-in defaults, nothing to reload
  // Reads the config again as `serve` did at start (the file, then the
  // command-line flags, validated). Unset: SIGHUP reloads nothing.
  std::function<Result<Config>()> reload;
};

// Opens (creating if needed) the data directory, takes its lock (one process
// per data directory), starts everything the config asks for, and serves
// until SIGINT or SIGTERM; then stops in order and returns. SIGHUP re-reads
// the config (options.reload) and applies what can change without a restart
// (edge/app/reload.h). Under systemd it notifies readiness, status, the
// watchdog and stopping (edge/app/service.h).
// Returns kInvalidArgument for a config that cannot be served, kAlreadyExists
// when another process holds the data directory, kIOError for file errors.
Status RunNode(const Config& config, const ServeOptions& options = {});

}  // namespace edgetable::app
