// edgetable: the one binary. `edgetable serve` runs a node (edge or hub);
// other subcommands inspect and operate one. See README.md.

#include <cstdio>
#include <string>

#include <CLI/CLI.hpp>

#include "edge/app/backup.h"
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

  // backup / restore (edge/app/backup.h).
  std::string backup_dest, backup_config, backup_data_dir;
  bool backup_force = false;
  CLI::App* backup = cli.add_subcommand("backup", "Copy a node's database while it serves (consistent, online)");
  backup->add_option("DEST", backup_dest, "Backup file to write (or a directory to write it in)")->required();
  backup->add_option("-c,--config", backup_config, "The node's config file (to find node.data_dir)");
  backup->add_option("-d,--data-dir", backup_data_dir, "The node's data directory (overrides the config)");
  backup->add_flag("--force", backup_force, "Replace DEST if it exists");
  std::string restore_src, restore_config, restore_data_dir;
  bool restore_force = false;
  CLI::App* restore = cli.add_subcommand("restore", "Restore a backup into a stopped node's data directory (new replica id)");
  restore->add_option("SRC", restore_src, "Backup file made by `edgetable backup`")->required();
  restore->add_option("-c,--config", restore_config, "The node's config file (to find node.data_dir)");
  restore->add_option("-d,--data-dir", restore_data_dir, "The node's data directory (overrides the config)");
  restore->add_flag("--force", restore_force, "Replace the database of a non-empty data directory");

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

  if (backup->parsed() || restore->parsed()) {
    const bool is_backup = backup->parsed();
    Result<std::string> dir = is_backup ? edgetable::app::ResolveDataDir(backup_config, backup_data_dir)
                                        : edgetable::app::ResolveDataDir(restore_config, restore_data_dir);
    if (!dir.ok()) return Fail(kExitConfig, dir.status());
    if (is_backup) {
      Result<edgetable::app::BackupResult> r = edgetable::app::BackupDataDir(*dir, backup_dest, backup_force);
      if (!r.ok()) return Fail(kExitFailure, r.status());
      std::fputs(edgetable::app::DescribeBackup(*r).c_str(), stdout);
    } else {
      Result<edgetable::app::RestoreResult> r = edgetable::app::RestoreDataDir(restore_src, *dir, restore_force);
      if (!r.ok()) return Fail(kExitFailure, r.status());
      std::fputs(edgetable::app::DescribeRestore(*r).c_str(), stdout);
    }
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
  // SIGHUP: the node reads the config again as above: the file, then the flags.
  edgetable::app::ServeOptions serve_options;
  serve_options.config_path = config_path;
  if (!config_path.empty()) {
    serve_options.reload = [&]() -> Result<Config> {
      Result<Config> fresh = edgetable::app::LoadConfigFile(config_path);
      if (!fresh.ok()) return fresh.status();
      if (!data_dir.empty()) fresh->node.data_dir = data_dir;
      if (!log_level.empty()) fresh->node.log_level = log_level;
      if (!listen.empty()) fresh->api.listen = config.api.listen;
      if (Status v = edgetable::app::ValidateConfig(*fresh); !v.ok()) return v;
      return fresh;
    };
  }
  Status s = edgetable::app::RunNode(config, serve_options);
  if (!s.ok()) return Fail(s.code() == Status::Code::kInvalidArgument ? kExitConfig : kExitFailure, s);
  return 0;
}
