#pragma once
// edge/wire telemetry: the binary MQTT payload of schemas/telemetry.fbs (a
// batch of readings of one device) <-> EdgeTable types.
//
// DecodeTelemetryFrame is the only reader of these bytes; they come from the
// network, so they pass the FlatBuffers Verifier (explicit depth and table
// bounds) before any field is read. EncodeTelemetryFrame exists for tests,
// benchmarks and C++ publishers.
// Threads: pure functions.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "edge/base/status.h"
#include "edge/item/value.h"

namespace edgetable::wire {

// One reading: its time and its named values, each an N or an S.
struct TelemetryReading {
  int64_t ts_ms = 0;
  std::vector<std::pair<std::string, item::Value>> fields;
};

struct TelemetryFrame {
  std::string device;
  std::vector<TelemetryReading> readings;
};

// Encodes a frame. Fields whose value is an N that fits an int64 are written
// as Int, other N as Float (through a double: only for tests), S as Text.
// REQUIRES: every field value is an N or an S.
std::string EncodeTelemetryFrame(const TelemetryFrame& frame);

// Verifies and decodes. Returns kInvalidArgument naming the problem:
// "not a telemetry frame (fails FlatBuffers verification)", a missing file
// identifier ("ETT1"), an unknown field kind, a Float that is not finite, an
// empty field name, a Text field without text. Never reads outside `bytes`;
// `bytes` need not be aligned.
Result<TelemetryFrame> DecodeTelemetryFrame(std::string_view bytes);

}  // namespace edgetable::wire
