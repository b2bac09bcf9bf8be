#include "edge/wire/telemetry_codec.h"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "edge/base/assert.h"
#include "edge/base/limits.h"
#include "schemas/telemetry_generated.h"

namespace edgetable::wire {
namespace {

namespace tfb = edgetable::wire::telemetry;

// A frame is Frame -> [Reading] -> Reading -> [Field] -> Field: depth 3 of
// tables. Every Field table takes at least 12 bytes, so a buffer of n bytes
// holds fewer than n / 8 tables; the payload cap of the ingest rules keeps n
// at limits::kItemBytesMax.
constexpr uint32_t kVerifyDepthMax = 8;
constexpr uint32_t kVerifyTablesMax = static_cast<uint32_t>(limits::kItemBytesMax / 8 + 16);

Status Bad(const std::string& why) {
  return Status::InvalidArgument("not a valid telemetry frame: " + why);
}

// The shortest decimal text that reads back as `d` (C++17 to_chars).
Result<item::Number> NumberFromDouble(double d) {
  char buf[64];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  if (ec != std::errc()) return Status::InvalidArgument("cannot format a double");
  return item::Number::Parse(std::string_view(buf, static_cast<size_t>(ptr - buf)));
}

}  // namespace

std::string EncodeTelemetryFrame(const TelemetryFrame& frame) {
  flatbuffers::FlatBufferBuilder b(1024);
  std::vector<flatbuffers::Offset<tfb::Reading>> readings;
  for (const TelemetryReading& r : frame.readings) {
    std::vector<flatbuffers::Offset<tfb::Field>> fields;
    for (const auto& [name, value] : r.fields) {
      auto n = b.CreateString(name);
      if (value.is(item::Type::kS)) {
        auto s = b.CreateString(value.s());
        fields.push_back(tfb::CreateField(b, n, tfb::FieldKind::Text, 0, 0.0, s));
        continue;
      }
      ET_ASSERT(value.is(item::Type::kN));
      int64_t i = 0;
      if (value.n().ToInt64(&i)) {
        fields.push_back(tfb::CreateField(b, n, tfb::FieldKind::Int, i));
      } else {
        double d = std::strtod(value.n().ToString().c_str(), nullptr);
        fields.push_back(tfb::CreateField(b, n, tfb::FieldKind::Float, 0, d));
      }
    }
    readings.push_back(tfb::CreateReading(b, r.ts_ms, b.CreateVector(fields)));
  }
  auto device = b.CreateString(frame.device);
  auto root = tfb::CreateTelemetryFrame(b, device, b.CreateVector(readings));
  tfb::FinishTelemetryFrameBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Result<TelemetryFrame> DecodeTelemetryFrame(std::string_view bytes) {
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return Bad("larger than a FlatBuffer can be");
  // 8-byte scalars (ts_ms, i, f) are read in place: give the verifier a copy
  // aligned to 8 when the caller's bytes are not.
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  std::unique_ptr<uint64_t[]> aligned;
  if (reinterpret_cast<uintptr_t>(data) % alignof(uint64_t) != 0) {
    aligned = std::make_unique<uint64_t[]>(bytes.size() / sizeof(uint64_t) + 1);
    std::memcpy(aligned.get(), bytes.data(), bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned.get());
  }
  if (bytes.size() < 8 || !tfb::TelemetryFrameBufferHasIdentifier(data)) {
    return Bad("missing the file identifier ETT1");
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = kVerifyDepthMax;
  opts.max_tables = kVerifyTablesMax;
  opts.check_alignment = true;
  flatbuffers::Verifier verifier(data, bytes.size(), opts);
  if (!tfb::VerifyTelemetryFrameBuffer(verifier)) return Bad("fails FlatBuffers verification");

  const tfb::TelemetryFrame* root = tfb::GetTelemetryFrame(data);
  TelemetryFrame frame;
  frame.device = root->device()->str();
  if (root->readings() == nullptr) return frame;
  frame.readings.reserve(root->readings()->size());
  for (uint32_t ri = 0; ri < root->readings()->size(); ++ri) {
    const tfb::Reading* r = root->readings()->Get(ri);
    TelemetryReading reading;
    reading.ts_ms = r->ts_ms();
    if (r->fields() != nullptr) {
      for (uint32_t fi = 0; fi < r->fields()->size(); ++fi) {
        const tfb::Field* f = r->fields()->Get(fi);
        std::string where = "readings[" + std::to_string(ri) + "].fields[" + std::to_string(fi) + "]";
        std::string name = f->name()->str();
        if (name.empty()) return Bad(where + ": empty name");
        switch (f->kind()) {
          case tfb::FieldKind::Int:
            reading.fields.emplace_back(std::move(name), item::Value::N(item::Number::FromInt(f->i())));
            break;
          case tfb::FieldKind::Float: {
            if (!std::isfinite(f->f())) return Bad(where + " (" + name + "): not a finite number");
            Result<item::Number> n = NumberFromDouble(f->f());
            if (!n.ok()) return Bad(where + " (" + name + "): " + n.status().message());
            reading.fields.emplace_back(std::move(name), item::Value::N(std::move(n).value()));
            break;
          }
          case tfb::FieldKind::Text:
            if (f->s() == nullptr) return Bad(where + " (" + name + "): Text without s");
            reading.fields.emplace_back(std::move(name), item::Value::S(f->s()->str()));
            break;
          default:
            return Bad(where + " (" + name + "): unknown kind " +
                       std::to_string(static_cast<int>(f->kind())));
        }
      }
    }
    frame.readings.push_back(std::move(reading));
  }
  return frame;
}

}  // namespace edgetable::wire
