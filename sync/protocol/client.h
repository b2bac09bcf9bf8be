#pragma once
// sync/protocol: the edge side of replication, run by a node with an
// `upstream` in its config.
//
// One round (SyncOnce): push, then pull.
//  Push: read the change log after Storage::UpstreamAckedSeq() in commit
//  order, whole transactions only, bounded by batch_bytes_max and
//  batch_changes_max, skipping changes that came from the upstream itself
//  (ChangeRecord::source_replica), tables whose direction is down or none,
//  and local tables (edgetable_*); POST it; on the PushAck move the cursor to
//  the batch's through_seq (persisted). A failure anywhere before that moves
//  nothing: the same changes are sent again, and the hub's apply is
//  idempotent.
//  Pull: POST a PullRequest with the persisted pull cursor; apply the answer
//  with Storage::ApplyRemote in transactions of about apply_chunk_changes
//  changes, cut only between the upstream's transactions, each moving the
//  cursor (sync state) in the same transaction, so a crash can neither lose
//  nor re-count a change and an upstream transaction is applied whole. Changes
//  are checked against the skew bound (see SkewPolicy) and conflicts are
//  recorded in edgetable_conflicts. A transaction stops early, between two
//  upstream transactions, when local writes are waiting for the storage
//  writer (ApplyRemoteOptions::yield_to_local_writes); they commit first and
//  the rest of the chunk follows, so a catch-up adds at most one upstream
//  transaction's apply to an application's write latency.
// Both repeat while the other side says more is waiting, each batch its own
// bounded transaction, so local writes interleave with a long catch-up.
//
// Start() runs rounds on a thread: immediately after a round that moved
// data, every interval_ms when idle, and after a failure with exponential
// backoff and full jitter between backoff_min_ms and backoff_max_ms.
// Threads: Stats() from any thread; SyncOnce() only when not Start()ed.

#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "edge/base/clock.h"
#include "edge/base/status.h"
#include "edge/storage/storage.h"
#include "sync/protocol/sync_types.h"
#include "sync/transport/transport.h"

namespace edgetable::sync {

struct ClientOptions {
  Direction default_direction = Direction::kBoth;
  std::map<std::string, Direction, std::less<>> table_directions;  // by table name
  int64_t batch_bytes_max = 1024 * 1024;
  int batch_changes_max = 2000;
  // A pulled batch is applied in transactions of at most about this many
  // changes (cut only between the upstream's transactions), each moving the
  // pull cursor; a transaction is cut shorter whenever local writes wait.
  // Larger amortises commits (a faster catch-up); the writer is held for
  // longer only when nothing else wants it.
  int apply_chunk_changes = 512;
  int64_t interval_ms = 1000;
  int64_t backoff_min_ms = 250;
  int64_t backoff_max_ms = 30000;
  int64_t max_skew_ms = 10 * 60 * 1000;
  SkewPolicy skew_policy = SkewPolicy::kRefuse;
  const Clock* clock = Clock::System();
  uint64_t jitter_seed = 0;  // 0: random
};

struct ClientStats {
  uint64_t upstream_replica = 0;   // learnt from the first answer
  int64_t rounds = 0;
  int64_t push_batches = 0;
  int64_t pull_batches = 0;
  int64_t changes_pushed = 0;      // acknowledged by the upstream
  int64_t changes_pulled = 0;      // received
  int64_t changes_applied = 0;     // received and newer than the stored version
  int64_t conflicts = 0;           // recorded here while pulling, plus those the upstream reported for our pushes
  int64_t skew_flagged = 0;
  int64_t apply_yields = 0;        // pulled transactions cut short for local writes
  int64_t failures = 0;
  // Lag. Push: changes after the acknowledgement cursor, their estimated
  // bytes, and the age of the oldest one. Pull: the upstream's last sequence
  // minus our cursor at the last answer.
  int64_t push_lag_changes = 0;
  int64_t push_lag_bytes = 0;
  int64_t push_lag_seconds = 0;
  int64_t pull_lag_changes = 0;
  int64_t acked_seq = 0;
  int64_t pull_cursor = 0;
  int64_t last_success_ms = 0;     // wall clock of the last round that completed
  int64_t last_error_ms = 0;
  std::string last_error;          // empty after a success
  TransportStats transport;
};

class Client {
 public:
  // Neither is owned; both must outlive the Client. Creates
  // edgetable_conflicts when missing.
  static Result<std::unique_ptr<Client>> Create(storage::Storage* storage, Transport* transport,
                                                ClientOptions options);
  ~Client();  // Stop()s

  // One push-then-pull round until both sides are caught up (or
  // rounds_max batches each). Returns the first error.
  Status SyncOnce(int rounds_max = 1000);
  // One push batch / one pull batch. *more: the other side has more waiting.
  Status PushOnce(bool* more);
  Status PullOnce(bool* more);

  void Start();
  void Stop();
  // Runs the next round now (e.g. after local writes), when Start()ed.
  void Wake();

  ClientStats Stats() const;

 private:
  struct Impl;
  explicit Client(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::sync
