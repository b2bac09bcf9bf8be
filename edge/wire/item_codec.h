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

// Encodes an item (schemas/item.fbs). Never fails for a valid item; an item
// nesting deeper than limits::kNestingDepthMax encodes but DecodeItem rejects
// it, so validate (edge/item/validate.h) before storing.
std::string EncodeItem(const item::Item& item);

// Verifies and decodes. Returns kCorruption naming the problem when the bytes
// are not a verifiable item buffer (Verifier depth and table limits are set
// explicitly in item_codec.cc from limits.h) or hold an invalid or
// non-canonical value: a number that is not normalised or out of range, an
// unknown type tag, a missing field for the tag, names or set elements out of
// order, nesting deeper than limits::kNestingDepthMax. `bytes` need not be
// aligned (unaligned input is copied once). Never reads outside `bytes`.
Result<item::Item> DecodeItem(std::string_view bytes);

}  // namespace edgetable::wire
