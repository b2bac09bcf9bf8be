#pragma once
// Node: one running EdgeTable process — its data directory, storage engine
// and listeners — wired from a Config.
// Threads: RunNode blocks the calling thread until SIGINT or SIGTERM.

#include "edge/app/config.h"
#include "edge/base/status.h"

namespace edgetable::app {

// Opens (creating if needed) the data directory, takes its lock (one process
// per data directory), starts everything the config asks for, and serves
// until SIGINT or SIGTERM; then stops in order and returns.
// Returns kInvalidArgument for a config that cannot be served, kAlreadyExists
// when another process holds the data directory, kIOError for file errors.
Status RunNode(const Config& config);

}  // namespace edgetable::app
