// Fuzz target: plain JSON sensor payloads (MQTT ingest), ValueFromPlainJson.
// Any bytes give a value or an error. The plain parser is stricter than
// ParseJson (duplicate keys, number range), never looser. A payload object
// that parsed and passes ValidateValue (as ingest checks before storing) is
// an item and must survive the item codecs unchanged. (The plain parser
// admits one more level of nesting than ValidateValue: json.h counts the
// root as level 0 and allows kNestingDepthMax + 1.)

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "edge/item/json.h"
#include "edge/item/validate.h"
#include "edge/item/value.h"
#include "edge/wire/item_codec.h"
#include "tests/fuzz/fuzz_check.h"

using edgetable::item::Type;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  auto value = edgetable::item::ValueFromPlainJson(text);
  if (!value.ok()) return 0;

  auto json = edgetable::item::ParseJson(text);
  FUZZ_CHECK(json.ok(), "ValueFromPlainJson accepted text that ParseJson rejects");

  if (!value->is(Type::kM)) return 0;
  const edgetable::item::Item& item = value->m();
  for (const auto& [name, v] : item) {
    if (!edgetable::item::ValidateValue(v, name).ok()) return 0;
  }
  auto again = edgetable::item::ItemFromJson(edgetable::item::ItemToJson(item));
  FUZZ_CHECK(again.ok(), again.status().message().c_str());
  FUZZ_CHECK(*again == item, "ItemToJson -> ItemFromJson changed a payload item");

  auto decoded = edgetable::wire::DecodeItem(edgetable::wire::EncodeItem(item));
  FUZZ_CHECK(decoded.ok(), decoded.status().message().c_str());
  FUZZ_CHECK(*decoded == item, "EncodeItem -> DecodeItem changed a payload item");
  return 0;
}
