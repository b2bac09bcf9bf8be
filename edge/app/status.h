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
std::string RenderStatus(const nlohmann::json& status);

}  // namespace edgetable::app
