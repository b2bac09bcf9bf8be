#pragma once
// edge/wire: FlatBuffers <-> EdgeTable types. The only module that links the
// FlatBuffers headers generated from schemas/*.fbs.
//
// Items are stored in SQLite as the bytes EncodeItem produces, so that a read
// decodes without parsing text. Bytes that came from outside (the network,
// an MQTT payload, the disk) pass the FlatBuffers Verifier in DecodeItem.
// The encoding is deterministic (attributes and set elements in canonical
// order) and identical on every architecture (FlatBuffers is little-endian).
// Threads: pure functions.

#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/value.h"

namespace edgetable::wire {

// Encodes an item (schemas/item.fbs). Never fails for a valid item.
std::string EncodeItem(const item::Item& item);

// Verifies and decodes. Returns kCorruption naming the problem when the bytes
// are not a verifiable item buffer or hold an invalid value (bad number text,
// unknown type tag).
Result<item::Item> DecodeItem(std::string_view bytes);

}  // namespace edgetable::wire
