#include "edge/app/metrics.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include "edge/base/assert.h"

namespace edgetable::app::metrics {
namespace {

bool ValidName(std::string_view name, bool colon_ok) {
  if (name.empty()) return false;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_ok && c == ':') ||
              (i > 0 && c >= '0' && c <= '9');
    if (!ok) return false;
  }
  return true;
}

std::string_view TypeName(Type type) {
  switch (type) {
    case Type::kCounter: return "counter";
    case Type::kGauge: return "gauge";
    case Type::kHistogram: return "histogram";
  }
  return "untyped";
}

// The exposition format's escaping: backslash and newline always, the double
// quote only in label values (HELP text keeps it as is).
std::string Escape(std::string_view text, bool quote) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (quote && c == '"') {
      out += "\\\"";
    } else {
      out += c;
    }
  }
  return out;
}

std::string EscapeHelp(std::string_view help) { return Escape(help, false); }

std::string FormatInt(int64_t value) { return std::to_string(value); }

}  // namespace

std::string EscapeLabelValue(std::string_view value) { return Escape(value, true); }

std::string FormatValue(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[64];
  // Shortest round-trip form, plain decimal in the usual range (bucket
  // bounds read "0.0005", as Prometheus's own clients write them).
  double magnitude = std::fabs(value);
  bool fixed = magnitude == 0 || (magnitude >= 1e-6 && magnitude < 1e15);
  auto [end, ec] = fixed ? std::to_chars(buf, buf + sizeof(buf), value, std::chars_format::fixed)
                         : std::to_chars(buf, buf + sizeof(buf), value);
  ET_ASSERT(ec == std::errc());
  return std::string(buf, end);
}

void Exposition::Family(std::string_view name, Type type, std::string_view help) {
  ET_ASSERT(ValidName(name, true));
  ET_ASSERT(std::find(families_.begin(), families_.end(), name) == families_.end());
  families_.emplace_back(name);
  family_ = std::string(name);
  type_ = type;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  out_ += EscapeHelp(help);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += TypeName(type);
  out_ += '\n';
}

void Exposition::Sample(std::string_view suffix, const Labels& labels, const std::optional<std::string>& le,
                        std::string_view value) {
  out_ += family_;
  out_ += suffix;
  if (!labels.empty() || le) {
    out_ += '{';
    bool first = true;
    auto label = [&](std::string_view name, std::string_view v) {
      if (!first) out_ += ',';
      first = false;
      out_ += name;
      out_ += "=\"";
      out_ += EscapeLabelValue(v);
      out_ += '"';
    };
    for (const auto& [name, v] : labels) {
      ET_ASSERT(ValidName(name, false) && name != "le");
      label(name, v);
    }
    if (le) label("le", *le);
    out_ += '}';
  }
  out_ += ' ';
  out_ += value;
  out_ += '\n';
}

void Exposition::Add(const Labels& labels, int64_t value) {
  ET_ASSERT(type_.has_value() && *type_ != Type::kHistogram);
  Sample("", labels, std::nullopt, FormatInt(value));
}

void Exposition::Add(const Labels& labels, double value) {
  ET_ASSERT(type_.has_value() && *type_ != Type::kHistogram);
  Sample("", labels, std::nullopt, FormatValue(value));
}

void Exposition::AddHistogram(const Labels& labels, std::span<const double> bounds_le,
                              std::span<const int64_t> counts, double sum) {
  ET_ASSERT(type_.has_value() && *type_ == Type::kHistogram);
  ET_ASSERT(counts.size() == bounds_le.size() + 1);
  int64_t cumulative = 0;
  for (size_t i = 0; i < bounds_le.size(); ++i) {
    ET_ASSERT(i == 0 || bounds_le[i - 1] < bounds_le[i]);
    cumulative += counts[i];
    Sample("_bucket", labels, FormatValue(bounds_le[i]), FormatInt(cumulative));
  }
  cumulative += counts.back();
  Sample("_bucket", labels, std::string("+Inf"), FormatInt(cumulative));
  Sample("_sum", labels, std::nullopt, FormatValue(sum));
  Sample("_count", labels, std::nullopt, FormatInt(cumulative));
}

// --- The node's families ------------------------------------------------------

namespace {

double Seconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

// A family with one unlabelled sample.
void One(Exposition& e, std::string_view name, Type type, std::string_view help, int64_t value) {
  e.Family(name, type, help);
  e.Add(value);
}
void OneSeconds(Exposition& e, std::string_view name, std::string_view help, double value) {
  e.Family(name, Type::kGauge, help);
  e.Add(Labels{}, value);
}

void StorageFamilies(Exposition& e, const NodeSnapshot& n) {
  const storage::StorageStats& s = n.storage;
  One(e, "edgetable_storage_healthy", Type::kGauge,
      "1 while storage answers reads (what /health and the systemd watchdog check), else 0",
      n.storage_healthy ? 1 : 0);
  One(e, "edgetable_storage_writes_total", Type::kCounter, "Storage write calls answered OK (a transaction is one)",
      s.writes);
  One(e, "edgetable_storage_write_failures_total", Type::kCounter, "Storage write calls answered with an error",
      s.write_failures);
  One(e, "edgetable_storage_busy_rejections_total", Type::kCounter,
      "Writes refused because the write queue was full", s.busy_rejections);
  One(e, "edgetable_storage_commits_total", Type::kCounter, "SQLite transactions committed (group commits)",
      s.commits);
  One(e, "edgetable_storage_commit_failures_total", Type::kCounter, "SQLite transactions that failed to commit",
      s.commit_failures);
  One(e, "edgetable_storage_queue_depth", Type::kGauge, "Writes waiting for the writer thread", s.queue_depth);
  One(e, "edgetable_storage_wal_checkpoints_total", Type::kCounter,
      "WAL checkpoints run by the checkpoint thread", s.wal_checkpoints);
  One(e, "edgetable_storage_wal_restarts_total", Type::kCounter,
      "Times the WAL started again from its beginning after being copied back", s.wal_restarts);
  One(e, "edgetable_storage_wal_topups_total", Type::kCounter,
      "Last frames of the WAL copied by the writer between two commits, so that the WAL restarts", s.wal_topups);
  One(e, "edgetable_storage_wal_writer_checkpoints_total", Type::kCounter,
      "WAL checkpoints the writer ran itself because the WAL outgrew 2x its threshold (the disk did not keep up)", s.wal_writer_checkpoints);
  One(e, "edgetable_storage_last_change_seq", Type::kGauge, "Sequence number of the last committed change",
      s.last_seq);
  One(e, "edgetable_storage_db_bytes", Type::kGauge, "Database pages in use, in bytes, as last measured",
      s.db_bytes);
  One(e, "edgetable_storage_over_budget", Type::kGauge,
      "1 while the disk budget's back-pressure policy refuses writes", s.over_budget ? 1 : 0);

  e.Family("edgetable_table_items", Type::kGauge, "Live items per table (tombstones excluded)");
  for (const TableSize& t : n.tables) e.Add(Labels{{"table", t.name}}, t.items);
  e.Family("edgetable_table_bytes", Type::kGauge, "Stored bytes of the live items per table");
  for (const TableSize& t : n.tables) e.Add(Labels{{"table", t.name}}, t.bytes);

  One(e, "edgetable_ttl_deletes_total", Type::kCounter, "Items deleted by the TTL sweeper", s.ttl_deletes);
  One(e, "edgetable_ttl_sweep_batches_total", Type::kCounter, "TTL sweep transactions that deleted something",
      s.ttl_sweep_batches);
  One(e, "edgetable_changes_trimmed_total", Type::kCounter, "Change log records removed by retention",
      s.changes_trimmed);
  One(e, "edgetable_upstream_acked_seq", Type::kGauge, "Last change sequence the upstream acknowledged",
      s.upstream_acked_seq);
  One(e, "edgetable_evictions_total", Type::kCounter,
      "Items evicted by edge retention (age or disk budget) after the upstream had them", s.evictions);
  One(e, "edgetable_forced_evictions_total", Type::kCounter,
      "Items evicted by the disk budget before the upstream acknowledged them: data lost upstream",
      s.forced_evictions);
  One(e, "edgetable_forced_trims_total", Type::kCounter,
      "Unacknowledged or held change records trimmed by the disk budget: changes a peer may never get",
      s.forced_trims);
}

void ApiFamilies(Exposition& e, const NodeSnapshot& n) {
  e.Family("edgetable_api_requests_total", Type::kCounter, "DynamoDB API requests per operation");
  for (const api::OperationStats& op : n.api) e.Add(Labels{{"operation", op.operation}}, op.requests);
  e.Family("edgetable_api_errors_total", Type::kCounter, "DynamoDB API requests answered with an error");
  for (const api::OperationStats& op : n.api) e.Add(Labels{{"operation", op.operation}}, op.errors);
  std::array<double, api::kLatencyBoundsUs.size()> bounds{};
  for (size_t i = 0; i < bounds.size(); ++i) bounds[i] = static_cast<double>(api::kLatencyBoundsUs[i]) / 1e6;
  e.Family("edgetable_api_request_duration_seconds", Type::kHistogram,
           "DynamoDB API request latency per operation, from the parsed request to the built response");
  for (const api::OperationStats& op : n.api) {
    e.AddHistogram(Labels{{"operation", op.operation}}, bounds, op.latency_buckets,
                   static_cast<double>(op.latency_sum_us) / 1e6);
  }
}

void IngestFamilies(Exposition& e, const ingest::IngestStats& s) {
  One(e, "edgetable_mqtt_messages_received_total", Type::kCounter, "MQTT messages delivered by the broker",
      s.messages_received);
  One(e, "edgetable_mqtt_messages_stored_total", Type::kCounter,
      "MQTT messages whose items or dead letter are committed", s.messages_committed);
  One(e, "edgetable_mqtt_items_stored_total", Type::kCounter, "Items committed from good MQTT messages",
      s.items_stored);
  One(e, "edgetable_mqtt_dead_letters_total", Type::kCounter, "MQTT messages stored in the dead-letter table",
      s.dead_lettered);
  One(e, "edgetable_mqtt_unmatched_total", Type::kCounter, "MQTT messages on a topic no rule matches",
      s.unmatched);
  One(e, "edgetable_mqtt_storage_retries_total", Type::kCounter, "Ingest writes retried", s.storage_retries);
  One(e, "edgetable_mqtt_connects_total", Type::kCounter, "Successful broker connects, the first included",
      s.connects);
  One(e, "edgetable_mqtt_reconnects_total", Type::kCounter, "Successful broker connects after a loss",
      s.reconnects);
  One(e, "edgetable_mqtt_connection_losses_total", Type::kCounter, "Broker connections lost",
      s.connection_losses);
  One(e, "edgetable_mqtt_lag_messages", Type::kGauge, "MQTT messages received, not yet committed", s.lag);
  One(e, "edgetable_mqtt_connected", Type::kGauge, "Broker connections up now", s.connected);
}

void SyncFamilies(Exposition& e, const sync::ClientStats& s) {
  One(e, "edgetable_sync_push_lag_changes", Type::kGauge, "Local changes not yet acknowledged by the upstream",
      s.push_lag_changes);
  One(e, "edgetable_sync_push_lag_bytes", Type::kGauge, "Estimated bytes of the changes not yet acknowledged",
      s.push_lag_bytes);
  One(e, "edgetable_sync_push_lag_seconds", Type::kGauge, "Age of the oldest change not yet acknowledged",
      s.push_lag_seconds);
  One(e, "edgetable_sync_pull_lag_changes", Type::kGauge,
      "The upstream's changes not yet pulled, at its last answer", s.pull_lag_changes);
  OneSeconds(e, "edgetable_sync_last_success_timestamp_seconds",
             "Wall-clock time of the last completed sync round (0: never)", Seconds(s.last_success_ms));
  OneSeconds(e, "edgetable_sync_last_error_timestamp_seconds",
             "Wall-clock time of the last failed sync round (0: never)", Seconds(s.last_error_ms));
  One(e, "edgetable_sync_rounds_total", Type::kCounter, "Sync rounds run", s.rounds);
  One(e, "edgetable_sync_failures_total", Type::kCounter, "Sync rounds that failed", s.failures);
  One(e, "edgetable_sync_push_batches_total", Type::kCounter, "Push batches acknowledged", s.push_batches);
  One(e, "edgetable_sync_pull_batches_total", Type::kCounter, "Pull batches received", s.pull_batches);
  One(e, "edgetable_sync_changes_pushed_total", Type::kCounter, "Changes acknowledged by the upstream",
      s.changes_pushed);
  One(e, "edgetable_sync_changes_pulled_total", Type::kCounter, "Changes received from the upstream",
      s.changes_pulled);
  One(e, "edgetable_sync_changes_applied_total", Type::kCounter,
      "Pulled changes newer than the stored version, applied", s.changes_applied);
  One(e, "edgetable_sync_conflicts_total", Type::kCounter,
      "Conflicts (last writer wins) recorded here or reported by the upstream", s.conflicts);
  One(e, "edgetable_sync_skew_flagged_total", Type::kCounter, "Pulled versions beyond the clock skew bound",
      s.skew_flagged);
  One(e, "edgetable_sync_apply_yields_total", Type::kCounter,
      "Pulled transactions cut short so that waiting local writes commit first", s.apply_yields);
  One(e, "edgetable_sync_snapshots_started_total", Type::kCounter,
      "Snapshots of the upstream begun (a pull answered 410: the cursor is older than its change log)",
      s.snapshots_started);
  One(e, "edgetable_sync_snapshots_completed_total", Type::kCounter, "Snapshots of the upstream completed",
      s.snapshots_completed);
  One(e, "edgetable_sync_snapshot_rows_total", Type::kCounter, "Rows (items and tombstones) received in snapshots",
      s.snapshot_rows);
  One(e, "edgetable_sync_snapshot_active", Type::kGauge, "1 while pulling is in snapshot mode",
      s.snapshot_active ? 1 : 0);
  const sync::TransportStats& t = s.transport;
  One(e, "edgetable_sync_requests_total", Type::kCounter, "HTTPS requests to the upstream", t.requests);
  One(e, "edgetable_sync_request_failures_total", Type::kCounter, "HTTPS requests to the upstream that failed",
      t.failures);
  One(e, "edgetable_sync_connections_total", Type::kCounter,
      "Connections opened to the upstream (with https: TLS handshakes)", t.connections);
  One(e, "edgetable_sync_sent_bytes_total", Type::kCounter, "Request bytes on the wire (after compression)",
      t.bytes_sent);
  One(e, "edgetable_sync_sent_uncompressed_bytes_total", Type::kCounter, "Request bytes before compression",
      t.bytes_sent_raw);
  One(e, "edgetable_sync_received_bytes_total", Type::kCounter, "Reply bytes on the wire", t.bytes_received);
}

void HubFamilies(Exposition& e, const sync::HubStats& s) {
  One(e, "edgetable_hub_pushes_total", Type::kCounter, "Push batches applied for peers", s.pushes);
  One(e, "edgetable_hub_pulls_total", Type::kCounter, "Pull requests of peers answered", s.pulls);
  One(e, "edgetable_hub_refused_total", Type::kCounter, "Peer requests refused (any 4xx)", s.refused);
  One(e, "edgetable_hub_unauthenticated_total", Type::kCounter, "Peer requests refused with 401",
      s.unauthenticated);
  One(e, "edgetable_hub_forbidden_total", Type::kCounter, "Peer requests refused with 403", s.forbidden);
  One(e, "edgetable_hub_changes_applied_total", Type::kCounter, "Pushed changes applied", s.changes_applied);
  One(e, "edgetable_hub_changes_skipped_total", Type::kCounter, "Pushed changes not newer than the stored version",
      s.changes_skipped);
  One(e, "edgetable_hub_changes_sent_total", Type::kCounter, "Changes sent in pull answers", s.changes_sent);
  One(e, "edgetable_hub_snapshots_total", Type::kCounter, "Snapshots begun by peers", s.snapshots);
  One(e, "edgetable_hub_snapshot_pages_total", Type::kCounter, "Snapshot pages served", s.snapshot_pages);
  One(e, "edgetable_hub_snapshot_rows_total", Type::kCounter, "Rows (items and tombstones) sent in snapshot pages",
      s.snapshot_rows);
  One(e, "edgetable_hub_conflicts_total", Type::kCounter, "Conflicts recorded while applying pushes",
      s.conflicts);
  One(e, "edgetable_hub_skew_flagged_total", Type::kCounter,
      "Pushed versions beyond the clock skew bound (refused or clamped)", s.skew_flagged);
  One(e, "edgetable_hub_received_bytes_total", Type::kCounter, "Sync message bytes received (decompressed)",
      s.bytes_in);
  One(e, "edgetable_hub_sent_bytes_total", Type::kCounter, "Sync message bytes sent (before compression)",
      s.bytes_out);
  e.Family("edgetable_hub_peer_last_seen_timestamp_seconds", Type::kGauge,
           "Wall-clock time of the peer's last request (0: never)");
  for (const sync::HubPeerStats& p : s.peers) e.Add(Labels{{"peer", p.name}}, Seconds(p.last_seen_ms));
  e.Family("edgetable_hub_peer_pull_cursor", Type::kGauge, "The last cursor the peer pulled from");
  for (const sync::HubPeerStats& p : s.peers) e.Add(Labels{{"peer", p.name}}, p.pull_cursor);
  e.Family("edgetable_hub_peer_pushed_through", Type::kGauge,
           "The last sequence of the peer's change log applied here");
  for (const sync::HubPeerStats& p : s.peers) e.Add(Labels{{"peer", p.name}}, p.pushed_through);
}

void ListenerFamilies(Exposition& e, const NodeSnapshot& n) {
  struct Field {
    std::string_view name;
    Type type;
    std::string_view help;
    int64_t net::ServerStats::*member;
  };
  static constexpr Field kFields[] = {
      {"edgetable_http_connections_accepted_total", Type::kCounter, "Connections accepted per listener",
       &net::ServerStats::connections_accepted},
      {"edgetable_http_connections_rejected_total", Type::kCounter,
       "Connections refused per listener (over the connection limit)", &net::ServerStats::connections_rejected},
      {"edgetable_http_connections_active", Type::kGauge, "Connections open now per listener",
       &net::ServerStats::connections_active},
      {"edgetable_http_requests_total", Type::kCounter, "Complete HTTP requests per listener (every route)",
       &net::ServerStats::requests},
      {"edgetable_http_bad_requests_total", Type::kCounter,
       "Requests the server answered 400, 413 or 431 itself", &net::ServerStats::bad_requests},
      {"edgetable_http_overloaded_total", Type::kCounter, "Requests answered 503: body budget exhausted",
       &net::ServerStats::overloaded},
      {"edgetable_http_timeouts_total", Type::kCounter, "Connections closed by a timeout",
       &net::ServerStats::timeouts},
      {"edgetable_http_received_bytes_total", Type::kCounter, "Socket bytes received (TLS records included)",
       &net::ServerStats::bytes_in},
      {"edgetable_http_sent_bytes_total", Type::kCounter, "Socket bytes sent (TLS records included)",
       &net::ServerStats::bytes_out},
      {"edgetable_tls_handshakes_total", Type::kCounter, "TLS handshakes completed per listener",
       &net::ServerStats::handshakes},
      {"edgetable_tls_handshake_failures_total", Type::kCounter,
       "TLS handshakes failed per listener (refused client certificates included)",
       &net::ServerStats::handshake_failures},
  };
  for (const Field& f : kFields) {
    e.Family(f.name, f.type, f.help);
    for (const Listener& l : n.listeners) {
      e.Add(Labels{{"listener", l.address}, {"tls", l.tls ? "true" : "false"}}, l.stats.*f.member);
    }
  }
}

}  // namespace

std::string RenderNodeMetrics(const NodeSnapshot& n) {
  Exposition e;
  e.Family("edgetable_build_info", Type::kGauge, "Always 1; the version is a label");
  e.Add(Labels{{"version", n.version}}, int64_t{1});
  OneSeconds(e, "edgetable_uptime_seconds", "Seconds since the node started", Seconds(n.uptime_ms));
  StorageFamilies(e, n);
  ApiFamilies(e, n);
  if (n.ingest) IngestFamilies(e, *n.ingest);
  if (n.sync) SyncFamilies(e, *n.sync);
  if (n.hub) HubFamilies(e, *n.hub);
  ListenerFamilies(e, n);
  return e.text();
}

}  // namespace edgetable::app::metrics
