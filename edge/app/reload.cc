#include "edge/app/reload.h"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace edgetable::app {
namespace {

void Flatten(const toml::node& node, const std::string& path, FlatConfig& out) {
  if (const toml::table* t = node.as_table()) {
    for (const auto& [key, value] : *t) {
      Flatten(value, path.empty() ? std::string(key.str()) : path + "." + std::string(key.str()), out);
    }
    return;
  }
  if (const toml::array* a = node.as_array(); a != nullptr && a->is_array_of_tables()) {
    for (size_t i = 0; i < a->size(); ++i) Flatten(*a->get(i), path + "[" + std::to_string(i) + "]", out);
    // A removed trailing table leaves no key of its own behind: the count is one.
    out[path + ".count"] = std::to_string(a->size());
    return;
  }
  std::ostringstream text;
  node.visit([&](const auto& v) { text << v; });
  out[path] = text.str();
}

}  // namespace

Result<FlatConfig> FlattenConfig(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    return Status::InvalidArgument(std::string(source) + ": line " + std::to_string(e.source().begin.line) +
                                   ", column " + std::to_string(e.source().begin.column) + ": " +
                                   std::string(e.description()));
  }
  FlatConfig out;
  Flatten(root, "", out);
  return out;
}

Result<FlatConfig> FlattenConfigFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read config file '" + path + "'");
  std::ostringstream buf;
  buf << in.rdbuf();
  return FlattenConfig(buf.str(), path);
}

bool ReloadableKey(std::string_view key) { return key == "node.log_level"; }

ConfigChanges DiffConfig(const FlatConfig& running, const FlatConfig& fresh) {
  ConfigChanges changes;
  auto changed = [&](const std::string& key) {
    (ReloadableKey(key) ? changes.reloadable : changes.needs_restart).push_back(key);
  };
  for (const auto& [key, value] : running) {
    auto it = fresh.find(key);
    if (it == fresh.end() || it->second != value) changed(key);
  }
  for (const auto& [key, value] : fresh) {
    if (!running.contains(key)) changed(key);
  }
  return changes;
}

}  // namespace edgetable::app
