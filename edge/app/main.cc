// edgetable: the one binary. `edgetable serve` runs a node (edge or hub);
// other subcommands inspect and operate one. See README.md.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "edge/app/config.h"
#include "edge/app/node.h"
#include "edge/app/status.h"
#include "edge/app/version.h"
#include "edge/base/log.h"

namespace {

using edgetable::Result;
using edgetable::Status;
using edgetable::app::Config;

// Exit codes: 0 ok, 1 runtime failure, 2 usage or configuration error.
constexpr int kExitFailure = 1;
constexpr int kExitConfig = 2;

int Fail(int code, const Status& s) {
  std::fprintf(stderr, "edgetable: %s\n", s.message().c_str());
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App cli{"EdgeTable: a DynamoDB-style store for IoT edge gateways"};
  cli.require_subcommand(1);
  cli.set_version_flag("--version", std::string(edgetable::app::kVersion));

  std::string config_path;
  std::string data_dir;
  std::string listen;
  std::string log_level;
  CLI::App* serve = cli.add_subcommand("serve", "Run a node: storage and the DynamoDB API");
  serve->add_option("-c,--config", config_path, "TOML config file (default: built-in defaults)");
  serve->add_option("-d,--data-dir", data_dir, "Data directory (overrides node.data_dir)");
  serve->add_option("-l,--listen", listen, "HTTP API address HOST:PORT (overrides api.listen)");
  serve->add_option("--log-level", log_level, "trace|debug|info|warn|error|off");

  CLI::App* version = cli.add_subcommand("version", "Print the version and build details");

  std::string status_config;
  std::string status_address;
  bool status_json = false;
  CLI::App* status = cli.add_subcommand("status", "Show a running node's counters (asks GET /status)");
  status->add_option("-c,--config", status_config, "The node's config file (to find api.listen)");
  status->add_option("-a,--address", status_address, "HOST:PORT of the node's plain HTTP API (overrides the config)");
  status->add_flag("--json", status_json, "Print the raw JSON");

  CLI11_PARSE(cli, argc, argv);

  if (version->parsed()) {
    std::printf("%s\n", edgetable::app::VersionString().c_str());
    return 0;
  }

  if (status->parsed()) {
    Config cfg;
    if (!status_config.empty()) {
      Result<Config> loaded = edgetable::app::LoadConfigFile(status_config);
      if (!loaded.ok()) return Fail(kExitConfig, loaded.status());
      cfg = std::move(loaded).value();
    }
    if (!status_address.empty()) {
      Result<edgetable::app::ListenAddress> a = edgetable::app::ParseListenAddress(status_address);
      if (!a.ok()) return Fail(kExitConfig, a.status().WithPrefix("--address"));
      cfg.api.listen = *a;
    }
    Result<nlohmann::json> st = edgetable::app::FetchStatus(cfg.api.listen);
    if (!st.ok()) return Fail(kExitFailure, st.status());
    std::fputs(status_json ? (st->dump(2) + "\n").c_str() : edgetable::app::RenderStatus(*st).c_str(), stdout);
    return 0;
  }

  // serve
  Config config;
  if (!config_path.empty()) {
    Result<Config> loaded = edgetable::app::LoadConfigFile(config_path);
    if (!loaded.ok()) return Fail(kExitConfig, loaded.status());
    config = std::move(loaded).value();
  }
  if (!data_dir.empty()) config.node.data_dir = data_dir;
  if (!log_level.empty()) config.node.log_level = log_level;
  if (!listen.empty()) {
    Result<edgetable::app::ListenAddress> a = edgetable::app::ParseListenAddress(listen);
    if (!a.ok()) return Fail(kExitConfig, a.status().WithPrefix("--listen"));
    config.api.listen = *a;
  }
  if (Status s = edgetable::app::ValidateConfig(config); !s.ok()) return Fail(kExitConfig, s);
  if (!edgetable::log::SetLevel(config.node.log_level)) {
    return Fail(kExitConfig, Status::InvalidArgument("unknown log level '" +
                                                     config.node.log_level + "'"));
  }
  Status s = edgetable::app::RunNode(config);
  if (!s.ok()) return Fail(s.code() == Status::Code::kInvalidArgument ? kExitConfig : kExitFailure, s);
  return 0;
}
