#include "edge/app/status.h"

#include <gtest/gtest.h>

#include <string>

namespace edgetable::app {
namespace {

TEST(StatusRenderTest, SectionsAndAlignedValues) {
  nlohmann::json j = {{"version", "edgetable 0.1.0"},
                      {"storage", {{"writes", 12}, {"over_budget", true}}},
                      {"listeners", nlohmann::json::array({{{"port", 8000}}})}};
  std::string text = RenderStatus(j);
  EXPECT_NE(text.find("storage:\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  over_budget: true\n"), std::string::npos) << text;
  EXPECT_NE(text.find("  writes:      12\n"), std::string::npos) << text;
  EXPECT_NE(text.find("listeners:\n  -\n    port: 8000\n"), std::string::npos) << text;
}

TEST(StatusRenderTest, WallClockTimesAreDatesWithTheirAge) {
  // 2023-11-14T22:13:20.000Z is 1'700'000'000'000 ms.
  nlohmann::json j = {
      {"node", {{"now_ms", 1'700'000'042'000}}},
      {"sync",
       {{"last_success_ms", 1'700'000'000'000}, {"last_error_ms", 0}, {"last_error", ""}, {"acked_seq", 7}}},
      {"hub", {{"peers", nlohmann::json::array({{{"name", "gw-1"}, {"last_seen_ms", 1'700'000'041'500}}})}}}};
  std::string text = RenderStatus(j);
  EXPECT_NE(text.find("  now: 2023-11-14T22:14:02.000Z\n"), std::string::npos) << text;
  EXPECT_NE(text.find("last_success_at: 2023-11-14T22:13:20.000Z (42 s ago)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("last_error_at:   never\n"), std::string::npos) << text;
  EXPECT_NE(text.find("acked_seq:       7\n"), std::string::npos) << text;
  EXPECT_NE(text.find("last_seen_at: 2023-11-14T22:14:01.500Z (0 s ago)\n"), std::string::npos) << text;
  // The JSON itself (`status --json`) keeps the numbers.
  EXPECT_EQ(j["sync"]["last_success_ms"].get<int64_t>(), 1'700'000'000'000);
}

TEST(StatusRenderTest, TimesWithoutTheNodeClockHaveNoAge) {
  nlohmann::json j = {{"sync", {{"last_success_ms", 1'700'000'000'000}}}};
  EXPECT_EQ(RenderStatus(j), "sync:\n  last_success_at: 2023-11-14T22:13:20.000Z\n");
}

}  // namespace
}  // namespace edgetable::app
