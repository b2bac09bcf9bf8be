// Fuzz target: DynamoDB JSON items, as every API request carries them.
// ParseJson + ItemFromJson must turn any bytes into an item or an error; an
// item that parsed must survive both of its other encodings unchanged:
//   ItemToJson -> (text ->) ItemFromJson   (what responses return)
//   EncodeItem -> DecodeItem               (what storage and sync keep)

#include <cstddef>
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>

#include "edge/item/json.h"
#include "edge/item/validate.h"
#include "edge/wire/item_codec.h"
#include "tests/fuzz/fuzz_check.h"

using edgetable::item::Item;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto json = edgetable::item::ParseJson(text);
  if (!json.ok()) return 0;
  auto item = edgetable::item::ItemFromJson(*json);
  if (!item.ok()) return 0;

  // DynamoDB's rules are not a precondition of the codecs; run them for
  // coverage only (messages must be buildable for any parsed value).
  for (const auto& [name, value] : *item) {
    edgetable::Status s = edgetable::item::ValidateValue(value, name);
    static_cast<void>(s);
  }

  // JSON object round trip.
  const nlohmann::json out = edgetable::item::ItemToJson(*item);
  auto again = edgetable::item::ItemFromJson(out);
  FUZZ_CHECK(again.ok(), again.status().message().c_str());
  FUZZ_CHECK(*again == *item, "ItemToJson -> ItemFromJson changed the item");

  // Through text, as a response body is written and read back by an SDK.
  std::string dumped;
  try {
    dumped = out.dump();
  } catch (const std::exception& e) {
    FUZZ_CHECK(false, e.what());
  }
  auto reparsed = edgetable::item::ParseJson(dumped);
  FUZZ_CHECK(reparsed.ok(), reparsed.status().message().c_str());
  auto from_text = edgetable::item::ItemFromJson(*reparsed);
  FUZZ_CHECK(from_text.ok(), from_text.status().message().c_str());
  FUZZ_CHECK(*from_text == *item, "ItemToJson -> dump -> parse changed the item");

  // FlatBuffers round trip; the encoding is deterministic.
  const std::string bytes = edgetable::wire::EncodeItem(*item);
  auto decoded = edgetable::wire::DecodeItem(bytes);
  FUZZ_CHECK(decoded.ok(), decoded.status().message().c_str());
  FUZZ_CHECK(*decoded == *item, "EncodeItem -> DecodeItem changed the item");
  FUZZ_CHECK(edgetable::wire::EncodeItem(*decoded) == bytes, "EncodeItem is not deterministic");
  return 0;
}
