#pragma once
// `edgetable status`: asks a running node for GET /status (JSON) over its
// plain HTTP API listener and prints it for people.
// Threads: plain functions.

#include <string>

#include "edge/app/config.h"
#include "edge/base/status.h"
#include "edge/item/json.h"

namespace edgetable::app {

// GET http://host:port/status. Returns the parsed body; kUnavailable when
// nothing answers there, kCorruption when the answer is not JSON.
Result<nlohmann::json> FetchStatus(const ListenAddress& address);

// The status document as aligned "key: value" lines, section by section.
// Wall-clock times (last_success_ms, last_error_ms, last_seen_ms) are shown
// as UTC dates with their age against node.now_ms, or "never" for 0, under
// the names last_success_at, last_error_at, last_seen_at; now_ms as "now".
// `--json` prints the document itself, unchanged.
std::string RenderStatus(const nlohmann::json& status);

}  // namespace edgetable::app
