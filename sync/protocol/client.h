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
//  idempotent. While a batch is on the wire the next one is read and
//  encoded (ClientOptions::prepare_next_push); it is sent only after the
//  acknowledgement of the one before, and dropped on any failure.
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
//  Snapshot: a pull answered 410 (our cursor lies before what the
//  upstream's change log still holds: a gateway added after the hub trimmed,
//  or one away too long) switches pulling to snapshot mode: POST
//  SnapshotRequests for the upstream's current rows (items and tombstones
//  with their versions) page by page, apply each page with ApplyRemote like
//  a pull (chunks, yielding to local writes, conflicts recorded), each
//  transaction persisting the snapshot's progress (sync state
//  "client/snapshot": S and the last row applied) with its rows. A crash or
//  a failed request resumes after the last row applied. The last page sets
//  the pull cursor to S (the upstream's last sequence when the snapshot
//  began; it holds its log from S for us) in the same transaction, and
//  pulling goes on from there. A 410 to a snapshot page (the upstream had to
//  trim past S meanwhile) starts the snapshot over; another upstream
//  replica abandons it (and pulls that one's log from the start).
// Both repeat while the other side says more is waiting, each batch its own
// bounded transaction, so local writes interleave with a long catch-up.
//
// Start() runs rounds on a thread: immediately after a round that moved
// data, every interval_ms when idle, and after a failure with exponential
// backoff and full jitter between backoff_min_ms and backoff_max_ms.
// CPU: replication is background work (edge/base/thread_priority.h). The
// Start()ed thread ("et-sync") runs at background priority for good;
// SyncOnce(), PushOnce() and PullOnce() lower the calling thread for the
// call and restore it after, when the process may restore it (CAP_SYS_NICE
// or RLIMIT_NICE; otherwise they run at the caller's priority). The storage
// writer applies pulled changes at background priority too (ApplyRemote).
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
  // Bounds of one push batch (whole transactions; their stored size before
  // compression), and of what a pull asks for. Each batch costs a round
  // trip and a commit at the upstream whatever its size: 5,000 changes of
  // 4 MiB made a push of telemetry about a fifth faster than 2,000 of
  // 1 MiB (tests/bench/sync_bench), for about 10 MB more memory while a
  // batch is encoded, in flight and prepared.
  int64_t batch_bytes_max = 4 * 1024 * 1024;
  int batch_changes_max = 5000;
  // A pulled batch is applied in transactions of at most about this many
  // changes (cut only between the upstream's transactions), each moving the
  // pull cursor; a transaction is cut shorter whenever local writes wait.
  // Larger amortises commits (a faster catch-up); the writer is held for
  // longer only when nothing else wants it.
  int apply_chunk_changes = 512;
  // Push pipelining: while a batch is on the wire (and the upstream applies
  // it), the next one is read from the change log and encoded on a thread
  // of its own. It is sent only if the batch before it was acknowledged
  // (the cursor is exactly where it starts); a failure, another cursor or
  // another upstream discards it. The protocol is unchanged: one request in
  // flight, and the cursor moves only after each acknowledgement.
  bool prepare_next_push = true;
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
  int64_t push_prepared_used = 0;       // push batches prepared during the previous one's round trip and sent
  int64_t push_prepared_discarded = 0;  // prepared ones dropped (the previous failed, or the cursor moved elsewhere)
  int64_t snapshots_started = 0;    // pulls answered 410 that began a snapshot (or its restart)
  int64_t snapshots_completed = 0;
  int64_t snapshot_rows = 0;        // rows received in snapshot pages
  int64_t snapshot_rows_applied = 0;  // of which newer than the stored version
  bool snapshot_active = false;     // pulling is in snapshot mode
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
