#pragma once
// sync/protocol: the hub side of replication. A node serves it when its
// config lists [[sync.peers]]; the routes live on the node's API listeners
// (edge/net), so a hub answers the DynamoDB API and sync on the same port.
//
// Push (POST /sync/v1/push, a Batch): the caller is identified (client
// certificate subject or bearer token -> a configured peer), the batch's
// sender replica id is bound to that peer (the first peer that uses a
// replica id owns it, persisted; another peer claiming it is refused), every
// change is checked against the peer's scope and the skew bound, the batch
// is applied with Storage::ApplyRemote in ONE transaction (conflicts recorded
// in edgetable_conflicts in the same transaction), and only then is a
// PushAck returned. Any refusal refuses the whole batch and applies nothing.
// Tables the batch names are created when missing (with the sender's key
// schema); a table that exists with another key schema refuses the batch.
//
// Pull (POST /sync/v1/pull, a PullRequest): the hub answers a Batch of its
// change log after the caller's cursor, in commit order, whole transactions
// only, bounded in bytes, holding only changes in the caller's scope and
// never one that came from (or originated at) the caller. The caller's
// cursor is recorded, and the change log is not trimmed by age above the
// lowest cursor of the known peers (Storage::SetChangeLogHold).
//
// Snapshot (POST /sync/v1/snapshot, a SnapshotRequest): re-seeds a peer
// whose pull was answered 410 (its cursor lies before what the change log
// still holds). Same identification, replica binding and scope as pull
// (tables in the peer's scope, not local, minus the request's exclusions;
// partition keys by the scope's prefixes). The answer is a SnapshotPage: the
// hub's current rows of those tables in (table name, key) order, live items
// AND tombstones with their stored versions, bounded like a pull answer (in
// bytes, rows, and rows examined), and the last row examined, after which
// the next request resumes. The first request (snapshot_seq 0) fixes
// S = the last committed sequence; every page records the peer's pull
// cursor as S (persisted, moved forward only) and holds the change log
// there, exactly as a pull from S would, so that once the peer has every
// page it pulls from S and misses nothing (a row changed while the pages
// were read arrives twice: idempotent). Rows are read page by page, not as
// of one instant; what changed after S is in the log after S. A request
// whose S the log no longer holds (trimmed since, by the disk budget) gets
// 410: the peer starts over.
//
// HTTP answers: 200 with a Message; 400 malformed buffer or unknown protocol
// version; 401 no credentials or unknown credentials; 403 out of scope, or a
// replica id owned by another peer; 409 a version beyond the skew bound
// (kRefuse) or a table's key schema differs; 413 body too large; 503 storage
// busy (retry). Error bodies are JSON: {"__type": "...", "message": "..."}.
// CPU: the registered routes run at background priority
// (edge/base/thread_priority.h: lowered for the request, restored before the
// worker's next one, when the process may restore it), and the storage
// writer applies a push at background priority, so the hub's own API callers
// preempt replication. HandlePush/HandlePull themselves leave the caller's
// priority alone.
// Threads: Handle* run concurrently on the server's workers.

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/clock.h"
#include "edge/base/status.h"
#include "edge/net/router.h"
#include "edge/storage/storage.h"
#include "sync/protocol/sync_types.h"

namespace edgetable::sync {

struct PeerConfig {
  std::string name;          // for logs, status and the replica binding
  std::string token;         // bearer token, or
  std::string cert_subject;  // the client certificate's subject as edge/net reports it ("CN=gw-1,O=Acme")
  Scope scope;
};

// Who sent a request, as the HTTP layer established it.
struct Caller {
  std::string bearer_token;   // from "Authorization: Bearer ..."; empty if none
  std::string cert_subject;   // verified client certificate subject; empty if none
};

struct HubOptions {
  std::vector<PeerConfig> peers;
  int64_t max_skew_ms = 10 * 60 * 1000;
  SkewPolicy skew_policy = SkewPolicy::kRefuse;
  int64_t pull_bytes_max = 4 * 1024 * 1024;   // cap of one pull answer (the request may ask less)
  int pull_changes_max = 10000;
  const Clock* clock = Clock::System();
};

struct HubPeerStats {
  std::string name;
  uint64_t replica = 0;
  int64_t last_seen_ms = 0;
  int64_t pull_cursor = 0;       // the last cursor the peer pulled from
  int64_t pushed_through = 0;    // the last through_seq of the peer's log applied here
};

struct HubStats {
  int64_t pushes = 0;            // push batches applied
  int64_t pulls = 0;             // pull requests answered
  int64_t refused = 0;           // requests refused (any 4xx)
  int64_t unauthenticated = 0;   // of which 401
  int64_t forbidden = 0;         // of which 403
  int64_t changes_applied = 0;
  int64_t changes_skipped = 0;
  int64_t changes_sent = 0;      // in pull answers
  int64_t snapshots = 0;         // snapshots begun (first pages served)
  int64_t snapshot_pages = 0;    // snapshot pages served
  int64_t snapshot_rows = 0;     // rows (items and tombstones) in them
  int64_t conflicts = 0;
  int64_t skew_flagged = 0;      // versions beyond the skew bound (refused or clamped)
  int64_t bytes_in = 0;          // message bytes received (decompressed)
  int64_t bytes_out = 0;         // message bytes sent (before compression)
  std::vector<HubPeerStats> peers;
};

struct HubReply {
  int status = 200;
  std::string body;
  std::string content_type;
};

class Hub {
 public:
  // kInvalidArgument for a peer without a token and a subject, or two peers
  // with the same name, token or subject. Creates edgetable_conflicts when
  // missing.
  static Result<std::unique_ptr<Hub>> Create(storage::Storage* storage, HubOptions options);
  ~Hub();

  // Registers kPushPath, kPullPath and kSnapshotPath (they decompress zstd
  // bodies and call the handlers below).
  Status Register(net::Router& router);

  // The protocol without HTTP: `body` is the decompressed Message.
  HubReply HandlePush(const Caller& caller, std::string_view body);
  HubReply HandlePull(const Caller& caller, std::string_view body);
  HubReply HandleSnapshot(const Caller& caller, std::string_view body);

  HubStats Stats() const;

 private:
  struct Impl;
  explicit Hub(std::unique_ptr<Impl> impl);
  // What the Handle* functions share (hub.cc).
  template <typename Message, typename Run, typename Encode>
  HubReply Serve(const Caller& caller, std::string_view body, Run run, Encode encode);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::sync
