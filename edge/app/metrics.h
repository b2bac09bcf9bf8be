#pragma once
// edge/app metrics: GET /metrics in the Prometheus text exposition format,
// version 0.0.4 (https://prometheus.io/docs/instrumenting/exposition_formats/).
//
// Exposition is a small encoder: families (# HELP, # TYPE) of counters,
// gauges and histograms (_bucket{le=...}, _sum, _count), with label values
// and help text escaped as the format requires. RenderNodeMetrics() writes
// every edgetable_* family of a node from its parts' counters (README.md,
// "Operating a node", lists them).
// Threads: an Exposition is used by one thread; RenderNodeMetrics() only
// reads the snapshot it is given.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/api/api.h"
#include "edge/ingest/ingest.h"
#include "edge/net/server.h"
#include "edge/storage/storage.h"
#include "sync/protocol/client.h"
#include "sync/protocol/hub.h"

namespace edgetable::app::metrics {

// The Content-Type of the text format.
inline constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

enum class Type { kCounter, kGauge, kHistogram };

// Label name/value pairs, in the order they are written. Names must match
// [a-zA-Z_][a-zA-Z0-9_]* and not be "le" (checked with ET_ASSERT: names are
// EdgeTable's, never input); values are any UTF-8 text, escaped here.
using Labels = std::vector<std::pair<std::string, std::string>>;

class Exposition {
 public:
  // Starts a family: every sample until the next Family() belongs to it.
  // REQUIRES (ET_ASSERT): `name` matches [a-zA-Z_:][a-zA-Z0-9_:]* and was not
  // started before in this exposition.
  void Family(std::string_view name, Type type, std::string_view help);

  // One sample of the current counter or gauge family. REQUIRES: one was
  // started. Integers are written exactly; doubles as the shortest text
  // that reads back the same, NaN and infinities as the format spells them.
  void Add(const Labels& labels, int64_t value);
  void Add(const Labels& labels, double value);
  void Add(int64_t value) { Add(Labels{}, value); }

  // One histogram of the current histogram family. `bounds_le` are the
  // buckets' upper bounds, ascending, without +Inf; `counts` holds one count
  // per bucket (not cumulative) plus a last one above the last bound.
  // Written as cumulative _bucket{le=...} lines ending with le="+Inf", then
  // _sum and _count. REQUIRES (ET_ASSERT): counts.size() == bounds_le.size() + 1.
  void AddHistogram(const Labels& labels, std::span<const double> bounds_le, std::span<const int64_t> counts,
                    double sum);

  // The text so far.
  const std::string& text() const { return out_; }

 private:
  void Sample(std::string_view suffix, const Labels& labels, const std::optional<std::string>& le,
              std::string_view value);

  std::string out_;
  std::string family_;
  std::optional<Type> type_;
  std::vector<std::string> families_;
};

// A label value as the format quotes it: \ " and newline escaped.
std::string EscapeLabelValue(std::string_view value);
// A sample value: "+Inf", "-Inf", "NaN" or a decimal that reads back exactly.
std::string FormatValue(double value);

// What one scrape of a node reads. Parts that the node does not run are empty.
struct TableSize {
  std::string name;
  int64_t items = 0;
  int64_t bytes = 0;
};
struct Listener {
  std::string address;  // host:port
  bool tls = false;
  net::ServerStats stats;
};
struct NodeSnapshot {
  std::string version;
  int64_t uptime_ms = 0;
  bool storage_healthy = true;
  storage::StorageStats storage;
  std::vector<TableSize> tables;
  std::vector<api::OperationStats> api;
  std::optional<ingest::IngestStats> ingest;
  std::optional<sync::ClientStats> sync;
  std::optional<sync::HubStats> hub;
  std::vector<Listener> listeners;
};

// Every edgetable_* family of the snapshot, as the body of GET /metrics.
std::string RenderNodeMetrics(const NodeSnapshot& node);

}  // namespace edgetable::app::metrics
