#pragma once
// edge/app reload: what SIGHUP changes in a running node.
//
// The node keeps the config file's keys as it read them at start, flattened
// to "section.key" -> value text (arrays of tables as "ingest.rules[0].topic").
// On SIGHUP it reads the file again, and every key that differs is either
// applied (ReloadableKey: node.log_level) or logged as needing a restart;
// the running node keeps its old value for those until it is restarted.
// Threads: plain functions.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"

namespace edgetable::app {

using FlatConfig = std::map<std::string, std::string, std::less<>>;

// Reads and flattens a TOML file. Returns kNotFound when it cannot be read,
// kInvalidArgument (with line and column) when it is not TOML.
Result<FlatConfig> FlattenConfigFile(const std::string& path);
// The same, from text; `source` names it in messages.
Result<FlatConfig> FlattenConfig(std::string_view toml_text, std::string_view source);

// True for the keys a SIGHUP applies without a restart.
bool ReloadableKey(std::string_view key);

struct ConfigChanges {
  std::vector<std::string> reloadable;     // changed keys ReloadableKey() accepts
  std::vector<std::string> needs_restart;  // every other changed, added or removed key
};
// The keys whose value differs between `running` and `fresh` (present in one only included).
ConfigChanges DiffConfig(const FlatConfig& running, const FlatConfig& fresh);

}  // namespace edgetable::app
