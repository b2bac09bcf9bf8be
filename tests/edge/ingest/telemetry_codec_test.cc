// TelemetryFrame decoding (edge/wire/telemetry_codec.h): round trip, and
// outside bytes that are truncated, flipped or random never read out of
// bounds (run under ASan) and never decode into garbage silently.
#include "edge/wire/telemetry_codec.h"

#include <gtest/gtest.h>

#include <random>

namespace edgetable::wire {
namespace {

using item::Number;
using item::Value;

TelemetryFrame Sample(int readings) {
  TelemetryFrame f;
  f.device = "dev-1";
  for (int i = 0; i < readings; ++i) {
    TelemetryReading r;
    r.ts_ms = 1'700'000'000'000 + i;
    r.fields.emplace_back("temp", Value::N(*Number::Parse("21.25")));
    r.fields.emplace_back("n", Value::N(Number::FromInt(-i)));
    r.fields.emplace_back("s", Value::S("ok"));
    f.readings.push_back(std::move(r));
  }
  return f;
}

TEST(TelemetryCodec, RoundTrip) {
  std::string bytes = EncodeTelemetryFrame(Sample(100));
  Result<TelemetryFrame> f = DecodeTelemetryFrame(bytes);
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->device, "dev-1");
  ASSERT_EQ(f->readings.size(), 100u);
  EXPECT_EQ(f->readings[99].ts_ms, 1'700'000'000'099);
  EXPECT_EQ(f->readings[99].fields[0].second, Value::N(*Number::Parse("21.25")));
  EXPECT_EQ(f->readings[99].fields[1].second, Value::N(Number::FromInt(-99)));
  EXPECT_EQ(f->readings[99].fields[2].second, Value::S("ok"));
}

TEST(TelemetryCodec, UnalignedInput) {
  std::string bytes = EncodeTelemetryFrame(Sample(3));
  std::string shifted = "x" + bytes;
  Result<TelemetryFrame> f = DecodeTelemetryFrame(std::string_view(shifted).substr(1));
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->readings.size(), 3u);
}

TEST(TelemetryCodec, RejectsGarbage) {
  EXPECT_FALSE(DecodeTelemetryFrame("").ok());
  EXPECT_FALSE(DecodeTelemetryFrame("{\"device\":\"x\"}").ok());
  std::string bytes = EncodeTelemetryFrame(Sample(5));
  // Cutting into the data fails; cutting only the final alignment padding
  // may decode, and then to the same frame.
  for (size_t n = 0; n < bytes.size(); ++n) {
    Result<TelemetryFrame> f = DecodeTelemetryFrame(bytes.substr(0, n));
    if (!f.ok()) continue;
    EXPECT_GE(n + 8, bytes.size()) << "truncated to " << n << " bytes decoded";
    EXPECT_EQ(f->readings.size(), 5u);
    EXPECT_EQ(f->device, "dev-1");
  }
  std::mt19937 rng(12345);
  int rejected = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string b = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int k = 0; k < flips; ++k) b[rng() % b.size()] = static_cast<char>(rng());
    Result<TelemetryFrame> f = DecodeTelemetryFrame(b);  // must not crash
    rejected += f.ok() ? 0 : 1;
  }
  EXPECT_GT(rejected, 0);
}

}  // namespace
}  // namespace edgetable::wire
