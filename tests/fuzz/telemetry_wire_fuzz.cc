// Fuzz target: binary telemetry frames (schemas/telemetry.fbs), MQTT
// payloads decoded by wire::DecodeTelemetryFrame. Any bytes give a frame or
// kInvalidArgument, the same wherever the bytes start in memory; a frame
// that decoded holds only N and S values with non-empty names, and encoding
// it again decodes to the same frame (its Floats are already the shortest
// decimals of doubles, so they survive the trip through a double).

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/value.h"
#include "edge/wire/telemetry_codec.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using edgetable::wire::TelemetryFrame;

bool SameFrame(const TelemetryFrame& a, const TelemetryFrame& b) {
  if (a.device != b.device || a.readings.size() != b.readings.size()) return false;
  for (size_t i = 0; i < a.readings.size(); ++i) {
    const auto& ra = a.readings[i];
    const auto& rb = b.readings[i];
    if (ra.ts_ms != rb.ts_ms || ra.fields != rb.fields) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto frame = edgetable::wire::DecodeTelemetryFrame(bytes);

  auto shifted_buf = std::make_unique<char[]>(size + 1);
  if (size > 0) std::memcpy(shifted_buf.get() + 1, data, size);
  auto shifted = edgetable::wire::DecodeTelemetryFrame(std::string_view(shifted_buf.get() + 1, size));
  FUZZ_CHECK(shifted.ok() == frame.ok(), "alignment changed whether the frame decodes");
  if (!frame.ok()) {
    FUZZ_CHECK(frame.status().code() == edgetable::Status::Code::kInvalidArgument,
               frame.status().message().c_str());
    return 0;
  }
  FUZZ_CHECK(SameFrame(*shifted, *frame), "alignment changed the decoded frame");

  for (const auto& reading : frame->readings) {
    for (const auto& [name, value] : reading.fields) {
      FUZZ_CHECK(!name.empty(), "field with an empty name");
      FUZZ_CHECK(value.is(edgetable::item::Type::kN) || value.is(edgetable::item::Type::kS),
                 "field value neither N nor S");
    }
  }

  const std::string encoded = edgetable::wire::EncodeTelemetryFrame(*frame);
  auto again = edgetable::wire::DecodeTelemetryFrame(encoded);
  FUZZ_CHECK(again.ok(), again.status().message().c_str());
  FUZZ_CHECK(SameFrame(*again, *frame), "EncodeTelemetryFrame -> DecodeTelemetryFrame changed the frame");
  return 0;
}
