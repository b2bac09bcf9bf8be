#include "edge/app/metrics.h"

#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <limits>
#include <string>

#include "edge/app/reload.h"

namespace edgetable::app {
namespace {

using metrics::Exposition;
using metrics::Labels;
using metrics::Type;

TEST(MetricsTest, CounterAndGaugeFamilies) {
  Exposition e;
  e.Family("edgetable_x_total", Type::kCounter, "Things counted");
  e.Add(Labels{{"operation", "PutItem"}}, int64_t{3});
  e.Add(Labels{{"operation", "GetItem"}}, int64_t{0});
  e.Family("edgetable_y", Type::kGauge, "A level");
  e.Add(Labels{}, 0.25);
  EXPECT_EQ(e.text(),
            "# HELP edgetable_x_total Things counted\n"
            "# TYPE edgetable_x_total counter\n"
            "edgetable_x_total{operation=\"PutItem\"} 3\n"
            "edgetable_x_total{operation=\"GetItem\"} 0\n"
            "# HELP edgetable_y A level\n"
            "# TYPE edgetable_y gauge\n"
            "edgetable_y 0.25\n");
}

TEST(MetricsTest, EscapesLabelValuesAndHelp) {
  EXPECT_EQ(metrics::EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  Exposition e;
  e.Family("edgetable_t", Type::kGauge, "back\\slash \"quoted\"\nsecond line");
  e.Add(Labels{{"table", "x\"y"}}, int64_t{1});
  EXPECT_EQ(e.text(),
            "# HELP edgetable_t back\\\\slash \"quoted\"\\nsecond line\n"
            "# TYPE edgetable_t gauge\n"
            "edgetable_t{table=\"x\\\"y\"} 1\n");
}

TEST(MetricsTest, Values) {
  EXPECT_EQ(metrics::FormatValue(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(metrics::FormatValue(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(metrics::FormatValue(std::nan("")), "NaN");
  EXPECT_EQ(metrics::FormatValue(0.0005), "0.0005");
  EXPECT_EQ(metrics::FormatValue(10.0), "10");
  EXPECT_EQ(metrics::FormatValue(1e20), "1e+20");
  Exposition e;
  e.Family("edgetable_big", Type::kCounter, "h");
  e.Add(int64_t{9007199254740993});  // above 2^53: written exactly
  EXPECT_NE(e.text().find("edgetable_big 9007199254740993\n"), std::string::npos) << e.text();
}

TEST(MetricsTest, HistogramIsCumulativeWithInfSumAndCount) {
  Exposition e;
  e.Family("edgetable_d_seconds", Type::kHistogram, "Latency");
  std::array<double, 2> bounds = {0.001, 0.5};
  std::array<int64_t, 3> counts = {2, 3, 1};
  e.AddHistogram(Labels{{"operation", "Query"}}, bounds, counts, 1.75);
  EXPECT_EQ(e.text(),
            "# HELP edgetable_d_seconds Latency\n"
            "# TYPE edgetable_d_seconds histogram\n"
            "edgetable_d_seconds_bucket{operation=\"Query\",le=\"0.001\"} 2\n"
            "edgetable_d_seconds_bucket{operation=\"Query\",le=\"0.5\"} 5\n"
            "edgetable_d_seconds_bucket{operation=\"Query\",le=\"+Inf\"} 6\n"
            "edgetable_d_seconds_sum{operation=\"Query\"} 1.75\n"
            "edgetable_d_seconds_count{operation=\"Query\"} 6\n");
}

TEST(MetricsTest, NodeFamiliesFollowTheParts) {
  metrics::NodeSnapshot n;
  n.version = "0.1.0";
  n.tables.push_back({"telemetry", 5, 500});
  api::OperationStats put;
  put.operation = "PutItem";
  put.requests = 2;
  put.latency_buckets[0] = 2;
  put.latency_sum_us = 300;
  n.api.push_back(put);
  std::string text = metrics::RenderNodeMetrics(n);
  EXPECT_NE(text.find("edgetable_table_items{table=\"telemetry\"} 5\n"), std::string::npos) << text;
  EXPECT_NE(text.find("edgetable_api_request_duration_seconds_count{operation=\"PutItem\"} 2\n"),
            std::string::npos);
  EXPECT_NE(text.find("edgetable_api_request_duration_seconds_sum{operation=\"PutItem\"} 0.0003\n"),
            std::string::npos);
  EXPECT_EQ(text.find("edgetable_mqtt_"), std::string::npos);  // no ingest, no MQTT families
  EXPECT_EQ(text.find("edgetable_sync_"), std::string::npos);
  n.ingest = ingest::IngestStats{};
  n.ingest->messages_received = 7;
  text = metrics::RenderNodeMetrics(n);
  EXPECT_NE(text.find("edgetable_mqtt_messages_received_total 7\n"), std::string::npos) << text;
}

TEST(ReloadTest, DiffNamesChangedKeys) {
  Result<FlatConfig> a = FlattenConfig(
      "[node]\nlog_level = \"warn\"\n[api]\nlisten = \"127.0.0.1:1\"\n"
      "[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"t\"\n",
      "a.toml");
  Result<FlatConfig> b = FlattenConfig(
      "[node]\nlog_level = \"debug\"\n[api]\nlisten = \"127.0.0.1:2\"\n"
      "[[ingest.rules]]\ntopic = \"a/+\"\ntable = \"t\"\n[[ingest.rules]]\ntopic = \"b\"\ntable = \"t\"\n",
      "b.toml");
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(a->at("ingest.rules[0].topic"), "'a/+'");
  ConfigChanges c = DiffConfig(*a, *b);
  EXPECT_EQ(c.reloadable, std::vector<std::string>{"node.log_level"});
  EXPECT_EQ(c.needs_restart, (std::vector<std::string>{"api.listen", "ingest.rules.count",
                                                        "ingest.rules[1].table", "ingest.rules[1].topic"}));
  EXPECT_TRUE(DiffConfig(*a, *a).needs_restart.empty());
  EXPECT_FALSE(FlattenConfig("[node\n", "bad.toml").ok());
}

}  // namespace
}  // namespace edgetable::app
