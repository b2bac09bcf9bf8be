// Fuzz target: FlatBuffers items from outside (sync batches, the disk),
// wire::DecodeItem on raw bytes. Any bytes give an item or kCorruption, the
// same wherever the bytes start in memory (unaligned input is copied first);
// an item that decoded re-encodes deterministically and decodes equal.

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/wire/item_codec.h"
#include "tests/fuzz/fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto item = edgetable::wire::DecodeItem(bytes);

  // The same bytes one past an 8-byte boundary take the copying path.
  auto shifted_buf = std::make_unique<char[]>(size + 1);
  if (size > 0) std::memcpy(shifted_buf.get() + 1, data, size);
  auto shifted = edgetable::wire::DecodeItem(std::string_view(shifted_buf.get() + 1, size));
  FUZZ_CHECK(shifted.ok() == item.ok(), "alignment changed whether the item decodes");
  if (!item.ok()) {
    FUZZ_CHECK(item.status().code() == edgetable::Status::Code::kCorruption,
               item.status().message().c_str());
    return 0;
  }
  FUZZ_CHECK(*shifted == *item, "alignment changed the decoded item");

  const std::string encoded = edgetable::wire::EncodeItem(*item);
  auto again = edgetable::wire::DecodeItem(encoded);
  FUZZ_CHECK(again.ok(), again.status().message().c_str());
  FUZZ_CHECK(*again == *item, "EncodeItem -> DecodeItem changed the item");
  FUZZ_CHECK(edgetable::wire::EncodeItem(*again) == encoded, "EncodeItem is not deterministic");
  return 0;
}
