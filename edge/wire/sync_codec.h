#pragma once
// edge/wire: the sync protocol's messages (schemas/sync.fbs) <-> plain structs.
//
// Images travel as the stored item bytes (EncodeItem) and keys as their
// order-preserving encoding, so that a sender copies them from its change
// log without re-encoding. The codec checks the message's structure; the
// receiver decodes each image with DecodeItem (which verifies it) and each
// key with item::DecodeKeyValue.
//
// Decoding refuses, changing nothing and naming the problem:
//  - kInvalidArgument: a protocol version this build does not speak, or a
//    message of another kind than the one expected;
//  - kCorruption: bytes without the ETS1 identifier or that fail the
//    FlatBuffers Verifier (depth and table bounds set explicitly in
//    sync_codec.cc), a message without a body or with an unknown body type,
//    a table index out of range, an unknown op or key type, a missing or
//    empty partition key, a sort key missing on a table that has one or
//    present on a table that has none, a zero version, an image present on a
//    Remove or missing on an Insert/Modify, ttl_delete on a change that is not
//    a Remove, changes not in increasing seq order or outside (after_seq,
//    through_seq], a through_seq before after_seq, a table name (also in a
//    PullRequest's include/exclude lists) or key attribute name that is
//    empty, a table defined twice in one batch.
// A SnapshotPage is checked as a batch's changes are (table index, op, keys,
// version, image, ttl_delete), except that its changes are rows: kCorruption
// as well for changes not in strictly increasing (table index, partition
// key, sort key) order, a negative seq or snapshot_seq, a nonzero txn_id,
// more set without a next_table, or a next_partition_key without a
// next_table; a SnapshotRequest for a negative snapshot_seq, an
// after_partition_key without an after_table, or an empty name in its
// table lists.
// `bytes` need not be aligned (unaligned input is copied once); decoding
// never reads outside them.
//
// Encoding writes what it is given and never fails: a sender that breaks the
// rules above finds out from the receiver's refusal (tests rely on this to
// produce refused messages). Each thread keeps one FlatBufferBuilder, sized
// from SyncChangeSizeEstimate and reused by its next call; one that grew past
// limits::kRequestBodyBytesMax is freed after use.
// Threads: pure functions (the reused builder is per thread).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"
#include "edge/clock/version.h"
#include "edge/item/key.h"

namespace edgetable::wire {

// The protocol version this build writes and the only one it reads.
inline constexpr uint16_t kSyncProtocolVersion = 1;

struct SyncTable {
  std::string name;
  item::KeySchema key_schema;
  bool operator==(const SyncTable&) const = default;
};

struct SyncChange {
  int64_t seq = 0;
  int64_t txn_id = 0;
  uint32_t table = 0;         // index into SyncBatch::tables
  std::string partition_key;  // item/key.h encoding
  std::string sort_key;       // empty when the table has no sort key
  uint8_t op = 1;             // 1 Insert, 2 Modify, 3 Remove (storage::ChangeOp values)
  clock::Version version;
  clock::Version prev_version;
  uint64_t origin = 0;
  bool ttl_delete = false;
  std::optional<std::string> new_image;  // EncodeItem bytes; nullopt for Remove
  bool operator==(const SyncChange&) const = default;
};

struct SyncBatch {
  uint64_t sender = 0;
  clock::Version sender_clock;
  int64_t after_seq = 0;
  int64_t through_seq = 0;
  int64_t sender_last_seq = 0;
  bool more = false;
  int64_t oldest_unsent_ms = 0;
  std::vector<SyncTable> tables;
  std::vector<SyncChange> changes;
  bool operator==(const SyncBatch&) const = default;
};

struct SyncPullRequest {
  uint64_t replica = 0;
  int64_t after_seq = 0;
  int64_t bytes_max = 0;
  std::vector<std::string> include_tables;
  std::vector<std::string> exclude_tables;
  clock::Version sender_clock;
  bool operator==(const SyncPullRequest&) const = default;
};

struct SyncPushAck {
  uint64_t receiver = 0;
  int64_t through_seq = 0;
  int32_t applied = 0;
  int32_t skipped = 0;
  int32_t conflicts = 0;
  clock::Version receiver_clock;
  bool operator==(const SyncPushAck&) const = default;
};

// Edge -> hub: a page of the hub's rows (snapshot re-seeding, sync.fbs).
struct SyncSnapshotRequest {
  uint64_t replica = 0;
  int64_t snapshot_seq = 0;          // 0: start a snapshot
  std::string after_table;           // empty: from the first table
  std::string after_partition_key;   // empty: from the table's first row
  std::string after_sort_key;
  int64_t bytes_max = 0;
  std::vector<std::string> include_tables;
  std::vector<std::string> exclude_tables;
  clock::Version sender_clock;
  bool operator==(const SyncSnapshotRequest&) const = default;
};

// Hub -> edge: one page of a snapshot. `changes` are rows in (table, key)
// order: live items as Insert (op 1), tombstones as Remove (op 3).
struct SyncSnapshotPage {
  uint64_t sender = 0;
  clock::Version sender_clock;
  int64_t snapshot_seq = 0;
  bool more = false;
  std::string next_table;  // resume point: the last row examined
  std::string next_partition_key;
  std::string next_sort_key;
  std::vector<SyncTable> tables;
  std::vector<SyncChange> changes;
  bool operator==(const SyncSnapshotPage&) const = default;
};

// A push batch (edge -> hub) and a pull answer (hub -> edge) have the same
// shape; both are encoded as a Batch body.
std::string EncodeSyncBatch(const SyncBatch& batch);
Result<SyncBatch> DecodeSyncBatch(std::string_view bytes);

std::string EncodeSyncPullRequest(const SyncPullRequest& request);
Result<SyncPullRequest> DecodeSyncPullRequest(std::string_view bytes);

std::string EncodeSyncPushAck(const SyncPushAck& ack);
Result<SyncPushAck> DecodeSyncPushAck(std::string_view bytes);

std::string EncodeSyncSnapshotRequest(const SyncSnapshotRequest& request);
Result<SyncSnapshotRequest> DecodeSyncSnapshotRequest(std::string_view bytes);

std::string EncodeSyncSnapshotPage(const SyncSnapshotPage& page);
Result<SyncSnapshotPage> DecodeSyncSnapshotPage(std::string_view bytes);

// The encoded size of one change, without encoding it: never less than what
// the change adds to a batch, at most 4 bytes more (leaving aside the vtable
// that changes of one shape share, a few dozen bytes per batch). Lets a
// sender bound a batch in bytes while it builds it.
int64_t SyncChangeSizeEstimate(const SyncChange& change);

}  // namespace edgetable::wire
