#pragma once
// sync/protocol internals shared by the client and the hub: reading a run of
// the change log into a batch, and turning a received batch into changes for
// Storage::ApplyRemote.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "edge/base/status.h"
#include "edge/storage/storage.h"
#include "edge/wire/sync_codec.h"
#include "sync/protocol/sync_types.h"

namespace edgetable::sync::internal {

// Says whether a change record goes into a batch. `partition_key` is the
// record's partition key decoded, as text (scope checks).
using RecordFilter =
    std::function<bool(const storage::ChangeRecord& record, const item::Value& partition_key)>;

struct BatchBounds {
  int64_t bytes_max = 1024 * 1024;  // estimated encoded bytes of the changes
  int changes_max = 2000;
  // Records examined at most (filtered-out ones included), so that a request
  // from a peer excluded from most of the log stays cheap.
  int64_t scanned_max = 50000;
};

// Reads the change log after `after_seq` in commit order into a batch:
// every record up to the batch's through_seq was examined, and those the
// filter accepts are in it. A batch ends only at a transaction boundary
// (the first transaction is always whole, even when larger than the
// bounds); `more` says whether records follow. Records of deleted tables are
// skipped. Fills sender, after_seq, through_seq, sender_last_seq, more,
// tables and changes.
Result<wire::SyncBatch> ReadBatch(storage::Storage* storage, int64_t after_seq, const BatchBounds& bounds,
                                  const RecordFilter& filter);

// A received change, decoded.
struct Incoming {
  storage::RemoteChange change;
  item::Value partition_key;
};

// Decodes the keys and images of a batch (images pass the item Verifier).
// kCorruption names the change that fails.
Result<std::vector<Incoming>> DecodeChanges(const wire::SyncBatch& batch);

// Creates the batch's tables that do not exist here, with the sender's key
// schema. kConditionFailed when one exists with another key schema;
// kPermissionDenied for a local table (edgetable_*).
Status EnsureTables(storage::Storage* storage, const wire::SyncBatch& batch);

// Creates the local conflicts table (kConflictsTable) when it is missing.
Status EnsureConflictsTable(storage::Storage* storage);

// The skew check of a batch: counts the versions (changes and sender clock)
// further ahead of now_ms than bound_ms. With kRefuse and any such version,
// returns kConditionFailed naming the first; with kClamp sets
// *observe_max_hlc_ms to now + bound (0 when nothing is beyond).
Status CheckSkew(const wire::SyncBatch& batch, int64_t now_ms, int64_t bound_ms, SkewPolicy policy,
                 int64_t* flagged, int64_t* observe_max_hlc_ms);

// The partition key as a scope compares it: S as is, B as its bytes, N as
// its canonical text.
std::string KeyText(const item::Value& v);

// "%016x" of a replica id.
std::string ReplicaHex(uint64_t replica);

}  // namespace edgetable::sync::internal
