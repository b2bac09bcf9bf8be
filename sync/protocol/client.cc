#include "sync/protocol/client.h"

#include <pthread.h>

#include <algorithm>
#include <functional>
#include <atomic>
#include <condition_variable>
#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "edge/base/log.h"
#include "edge/base/thread_priority.h"
#include "edge/item/json.h"
#include "edge/wire/sync_codec.h"
#include "sync/protocol/internal/batch.h"

namespace edgetable::sync {
namespace {

// Sync state keys kept by a node with an upstream.
constexpr std::string_view kPullCursorKey = "client/pull_cursor";
constexpr std::string_view kUpstreamReplicaKey = "client/upstream_replica";
// Snapshot progress: "" (none) or "<S> <table hex> <partition key hex> <sort
// key hex>", the last row applied (hex may be empty), in one value so that
// it moves atomically with the rows it covers.
constexpr std::string_view kSnapshotKey = "client/snapshot";

std::string Hex(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

bool Unhex(std::string_view hex, std::string* out) {
  if (hex.size() % 2 != 0) return false;
  auto digit = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  out->clear();
  for (size_t i = 0; i < hex.size(); i += 2) {
    const int hi = digit(hex[i]), lo = digit(hex[i + 1]);
    if (hi < 0 || lo < 0) return false;
    out->push_back(static_cast<char>(hi * 16 + lo));
  }
  return true;
}

// A non-200 answer -> a Status with the hub's message.
Status StatusFor(const HttpReply& reply, std::string_view what) {
  std::string message = reply.body;
  Result<nlohmann::json> j = item::ParseJson(reply.body);
  if (j.ok() && j->is_object() && j->contains("message") && (*j)["message"].is_string()) {
    message = (*j)["message"].get<std::string>();
    if (j->contains("__type") && (*j)["__type"].is_string()) {
      message = (*j)["__type"].get<std::string>() + ": " + message;
    }
  }
  if (message.size() > 512) message.resize(512);
  std::string text = std::string(what) + ": upstream answered HTTP " + std::to_string(reply.status) + ": " + message;
  switch (reply.status) {
    case 400: return Status::InvalidArgument(std::move(text));
    case 401: return Status::Unauthenticated(std::move(text));
    case 403: return Status::PermissionDenied(std::move(text));
    case 409: return Status::ConditionFailed(std::move(text));
    case 410: return Status::NotFound(std::move(text));
    case 413: return Status::LimitExceeded(std::move(text));
    default: return Status::Unavailable(std::move(text));
  }
}

uint64_t ParseU64(const std::string& s) {
  try {
    return std::stoull(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

struct Client::Impl {
  storage::Storage* storage;
  Transport* transport;
  ClientOptions options;

  mutable std::mutex mu;
  ClientStats stats;        // GUARDED_BY(mu)
  double bytes_per_change = 200;  // GUARDED_BY(mu); last push batch's average, for the lag in bytes

  // Persisted state, owned by the thread that runs rounds.
  int64_t pull_cursor = 0;
  uint64_t upstream = 0;
  // Snapshot mode (see client.h): active, S (0 until the first page), and
  // the last row applied (persisted as kSnapshotKey once S is known).
  struct SnapshotProgress {
    bool active = false;
    int64_t seq = 0;
    std::string table, partition_key, sort_key;
  };
  SnapshotProgress snapshot;
  int64_t snapshot_pages = 0;  // pages applied: Round's "data moved"

  static std::string EncodeProgress(int64_t seq, std::string_view table, std::string_view pk, std::string_view sk) {
    return std::to_string(seq) + " " + Hex(table) + " " + Hex(pk) + " " + Hex(sk);
  }

  static bool DecodeProgress(const std::string& value, SnapshotProgress* out) {
    std::vector<std::string_view> parts;
    std::string_view rest = value;
    for (size_t sp; (sp = rest.find(' ')) != std::string_view::npos; rest.remove_prefix(sp + 1)) {
      parts.push_back(rest.substr(0, sp));
    }
    parts.push_back(rest);
    if (parts.size() != 4) return false;
    out->seq = static_cast<int64_t>(ParseU64(std::string(parts[0])));
    out->active = out->seq > 0;
    return out->active && Unhex(parts[1], &out->table) && Unhex(parts[2], &out->partition_key) &&
           Unhex(parts[3], &out->sort_key);
  }

  // The next push batch, read and encoded on a thread of its own while the
  // current one is on the wire and being applied (PushOnce). Only the
  // thread that runs rounds touches these.
  struct PreparedPush {
    int64_t after_seq = 0;      // the cursor it was read after
    int64_t through_seq = 0;
    bool more = false;
    int64_t changes = 0;
    std::string body;           // encoded; empty when it holds no change
  };
  std::future<Result<PreparedPush>> next_push;  // valid() while one is prepared
  int64_t next_push_after = -1;
  uint64_t next_push_upstream = 0;  // the upstream its filter left out
  int64_t prepared_used = 0;        // for tests and the stats
  int64_t prepared_discarded = 0;

  std::thread thread;
  std::condition_variable cv;
  bool stopping = false;  // GUARDED_BY(mu)
  bool wake = false;      // GUARDED_BY(mu)
  std::mt19937_64 rng;

  static bool Pushes(Direction d) { return d == Direction::kBoth || d == Direction::kUp; }
  static bool Pulls(Direction d) { return d == Direction::kBoth || d == Direction::kDown; }

  void Failed(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.failures;
    stats.last_error = s.ToString();
    stats.last_error_ms = options.clock->NowMs();
  }

  // Learns (and persists) the upstream's replica id from an answer. A
  // different one than before is another hub (or a restored one): its
  // change log is not the one our pull cursor points into, so pulling
  // starts over (idempotent: nothing is applied twice).
  Status LearnUpstream(uint64_t replica) {
    if (replica == 0 || replica == upstream) return Status::Ok();
    if (upstream != 0) {
      ET_LOG_WARN("sync: the upstream's replica id changed from {} to {}; pulling its change log from the start",
                  internal::ReplicaHex(upstream), internal::ReplicaHex(replica));
      pull_cursor = 0;
      ET_RETURN_IF_ERROR(storage->SetSyncState(kPullCursorKey, "0"));
    }
    ET_RETURN_IF_ERROR(storage->SetSyncState(kUpstreamReplicaKey, std::to_string(replica)));
    upstream = replica;
    std::lock_guard<std::mutex> lock(mu);
    stats.upstream_replica = replica;
    return Status::Ok();
  }

  // Observes the upstream's clock, never past now + skew bound.
  void ObserveClock(clock::Version v) {
    if (v.is_zero()) return;
    const int64_t cap = options.clock->NowMs() + options.max_skew_ms;
    if (v.hlc_ms > cap) {
      v.hlc_ms = cap;
      v.counter = 0;
    }
    storage->ObserveVersion(v);
  }

  void UpdateLag() {
    const int64_t acked = storage->UpstreamAckedSeq();
    const int64_t last = storage->Stats().last_seq;
    int64_t seconds = 0;
    if (last > acked) {
      Result<std::vector<storage::ChangeRecord>> first = storage->ReadChanges(acked, 1);
      if (first.ok() && !first->empty()) {
        seconds = std::max<int64_t>(0, (options.clock->NowMs() - first->front().version.hlc_ms) / 1000);
      }
    }
    std::lock_guard<std::mutex> lock(mu);
    stats.acked_seq = acked;
    stats.pull_cursor = pull_cursor;
    stats.push_lag_changes = std::max<int64_t>(0, last - acked);
    stats.push_lag_bytes = static_cast<int64_t>(static_cast<double>(stats.push_lag_changes) * bytes_per_change);
    stats.push_lag_seconds = seconds;
    stats.push_prepared_used = prepared_used;
    stats.push_prepared_discarded = prepared_discarded;
    stats.transport = transport->Stats();
  }

  // Reads the push batch after `after` and encodes it. Any thread: it
  // touches only the storage (thread-safe) and copies of the options.
  static Result<PreparedPush> PreparePush(storage::Storage* storage, const ClientOptions& options,
                                          int64_t after, uint64_t from_upstream) {
    internal::BatchBounds bounds;
    bounds.bytes_max = options.batch_bytes_max;
    bounds.changes_max = options.batch_changes_max;
    auto filter = [&](const storage::ChangeRecord& r, const item::Value&) {
      if (from_upstream != 0 && r.source_replica == from_upstream) return false;  // never echo
      if (r.table.rfind(kLocalTablePrefix, 0) == 0) return false;
      auto it = options.table_directions.find(r.table);
      return Pushes(it == options.table_directions.end() ? options.default_direction : it->second);
    };
    ET_ASSIGN_OR_RETURN(wire::SyncBatch batch, internal::ReadBatch(storage, after, bounds, filter));
    PreparedPush p;
    p.after_seq = after;
    p.through_seq = batch.through_seq;
    p.more = batch.more;
    p.changes = static_cast<int64_t>(batch.changes.size());
    if (!batch.changes.empty()) p.body = wire::EncodeSyncBatch(batch);
    return p;
  }

  // Drops the prepared batch (waits for its thread).
  void DiscardPrepared() {
    if (!next_push.valid()) return;
    next_push.wait();
    next_push = {};
    ++prepared_discarded;
  }

  Status PushOnce(bool* more) {
    *more = false;
    const int64_t acked = storage->UpstreamAckedSeq();
    Result<PreparedPush> prepared = Status::Internal("sync push: no batch");
    if (next_push.valid() && next_push_after == acked && next_push_upstream == upstream) {
      prepared = next_push.get();  // read while the previous batch was on the wire
      ++prepared_used;
    } else {
      DiscardPrepared();  // another cursor (a failure, a reset) or another upstream
      prepared = PreparePush(storage, options, acked, upstream);
    }
    ET_RETURN_IF_ERROR(prepared.status());
    PreparedPush& batch = *prepared;
    if (batch.through_seq == acked) return Status::Ok();  // nothing after the cursor
    *more = batch.more;
    if (batch.changes > 0) {
      // Pipelining: the next batch is read and encoded while this one is
      // on the wire. It is used only if this one is acknowledged, i.e. the
      // cursor is exactly where the next one starts (checked above);
      // anything else discards it. The cursor itself moves as before, only
      // after the acknowledgement.
      if (batch.more && options.prepare_next_push) {
        next_push_after = batch.through_seq;
        next_push_upstream = upstream;
        next_push = std::async(std::launch::async, &PreparePush, storage, std::cref(options), batch.through_seq,
                               upstream);
      }
      Status sent = [&]() -> Status {
        const std::string& body = batch.body;
        ET_ASSIGN_OR_RETURN(HttpReply reply, transport->Post(kPushPath, body));
        if (reply.status != 200) return StatusFor(reply, "sync push");
        ET_ASSIGN_OR_RETURN(wire::SyncPushAck ack, wire::DecodeSyncPushAck(reply.body));
        if (ack.through_seq != batch.through_seq) {
          return Status::Corruption("sync push: the upstream acknowledged through seq " +
                                    std::to_string(ack.through_seq) + " for a batch through " +
                                    std::to_string(batch.through_seq));
        }
        ET_RETURN_IF_ERROR(LearnUpstream(ack.receiver));
        ObserveClock(ack.receiver_clock);
        std::lock_guard<std::mutex> lock(mu);
        ++stats.push_batches;
        stats.changes_pushed += batch.changes;
        stats.conflicts += ack.conflicts;
        bytes_per_change = static_cast<double>(body.size()) / static_cast<double>(batch.changes);
        return Status::Ok();
      }();
      if (!sent.ok()) {
        DiscardPrepared();
        return sent;
      }
    }
    // Only now, after the upstream applied the batch, does the cursor move.
    return storage->SetUpstreamAckedSeq(batch.through_seq);
  }

  using SyncState = std::vector<std::pair<std::string, std::string>>;

  // What every batch from the upstream (pull or snapshot page) goes through
  // before it is applied: the skew check (counted), its tables created,
  // its changes decoded. *observe_max: for ApplyRemoteOptions.
  Result<std::vector<internal::Incoming>> Admit(const wire::SyncBatch& batch, int64_t* observe_max) {
    int64_t flagged = 0;
    Status skew = internal::CheckSkew(batch, options.clock->NowMs(), options.max_skew_ms, options.skew_policy,
                                      &flagged, observe_max);
    if (flagged > 0) {
      std::lock_guard<std::mutex> lock(mu);
      stats.skew_flagged += flagged;
    }
    ET_RETURN_IF_ERROR(skew);
    ET_RETURN_IF_ERROR(internal::EnsureTables(storage, batch));
    return internal::DecodeChanges(batch);
  }

  // Applies `incoming` (decoded from `batch`) in transactions of about
  // apply_chunk_changes changes, extended to the end of an upstream
  // transaction when whole_transactions. Local writes go first: the storage
  // may stop a transaction early between two upstream transactions and hand
  // the rest back (a catch-up must not hold an application's writes); the
  // sync state of state_at(n) (n = changes applied so far) commits with the
  // changes it covers, and committed(n) runs after each commit that applied
  // some.
  Result<storage::RemoteOutcome> ApplyInChunks(const wire::SyncBatch& batch, std::vector<internal::Incoming>& incoming,
                                               int64_t observe_max, bool whole_transactions,
                                               const std::function<SyncState(size_t)>& state_at,
                                               const std::function<void(size_t)>& committed) {
    storage::RemoteOutcome outcome;
    size_t begin = 0;
    while (begin < incoming.size()) {
      size_t end = std::min(incoming.size(), begin + static_cast<size_t>(options.apply_chunk_changes));
      while (whole_transactions && end < incoming.size() &&
             batch.changes[end].txn_id == batch.changes[end - 1].txn_id) {
        ++end;
      }
      std::vector<storage::RemoteChange> changes;
      changes.reserve(end - begin);
      for (size_t i = begin; i < end; ++i) changes.push_back(std::move(incoming[i].change));
      storage::ApplyRemoteOptions apply;
      apply.source_replica = batch.sender;
      apply.conflicts_table = std::string(kConflictsTable);
      apply.observe_max_hlc_ms = observe_max;
      apply.yield_to_local_writes = true;
      apply.sync_state_at = [&, begin](size_t consumed) { return state_at(begin + consumed); };
      ET_ASSIGN_OR_RETURN(storage::RemoteOutcome part, storage->ApplyRemote(std::move(changes), apply));
      const size_t consumed = part.applied.size();
      outcome.applied.insert(outcome.applied.end(), part.applied.begin(), part.applied.end());
      outcome.conflicts += part.conflicts;
      for (size_t k = 0; k < part.rest.size(); ++k) incoming[begin + consumed + k].change = std::move(part.rest[k]);
      begin += consumed;
      if (consumed > 0) committed(begin);
      if (!part.rest.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.apply_yields;
      }
    }
    return outcome;
  }

  Status PullOnce(bool* more) {
    *more = false;
    if (snapshot.active) return SnapshotOnce(more);
    wire::SyncPullRequest req;
    req.replica = storage->replica_id();
    req.after_seq = pull_cursor;
    req.bytes_max = options.batch_bytes_max;
    req.sender_clock = storage->LastVersion();
    if (!Pulls(options.default_direction)) {
      for (const auto& [name, d] : options.table_directions) {
        if (Pulls(d)) req.include_tables.push_back(name);
      }
      if (req.include_tables.empty()) return Status::Ok();  // nothing replicates down
    } else {
      for (const auto& [name, d] : options.table_directions) {
        if (!Pulls(d)) req.exclude_tables.push_back(name);
      }
    }
    ET_ASSIGN_OR_RETURN(HttpReply reply, transport->Post(kPullPath, wire::EncodeSyncPullRequest(req)));
    // 410: our cursor lies before what the upstream's change log still holds.
    if (reply.status == 410) return BeginSnapshot(reply, "sync pull", more);
    if (reply.status != 200) return StatusFor(reply, "sync pull");
    ET_ASSIGN_OR_RETURN(wire::SyncBatch batch, wire::DecodeSyncBatch(reply.body));
    if (batch.after_seq != req.after_seq || batch.through_seq < batch.after_seq) {
      return Status::Corruption("sync pull: the upstream answered a batch after seq " + std::to_string(batch.after_seq) +
                                " to a request after " + std::to_string(req.after_seq));
    }
    if (batch.sender != upstream && upstream != 0) {
      // Another hub: start over from its beginning (next round).
      ET_RETURN_IF_ERROR(LearnUpstream(batch.sender));
      *more = true;
      return Status::Ok();
    }
    ET_RETURN_IF_ERROR(LearnUpstream(batch.sender));
    int64_t observe_max = 0;
    ET_ASSIGN_OR_RETURN(std::vector<internal::Incoming> incoming, Admit(batch, &observe_max));
    // The cursor after the first `n` changes of the batch.
    auto cursor_after = [&](size_t n) { return n == incoming.size() ? batch.through_seq : batch.changes[n - 1].seq; };
    ET_ASSIGN_OR_RETURN(
        storage::RemoteOutcome outcome,
        ApplyInChunks(batch, incoming, observe_max, /*whole_transactions=*/true,
                      [&](size_t n) {
                        return SyncState{{std::string(kPullCursorKey), std::to_string(cursor_after(n))}};
                      },
                      [&](size_t n) { pull_cursor = cursor_after(n); }));
    if (incoming.empty() && batch.through_seq != pull_cursor) {
      ET_RETURN_IF_ERROR(storage->SetSyncState(kPullCursorKey, std::to_string(batch.through_seq)));
    }
    pull_cursor = batch.through_seq;
    ObserveClock(batch.sender_clock);
    *more = batch.more;
    std::lock_guard<std::mutex> lock(mu);
    if (!batch.changes.empty()) ++stats.pull_batches;
    stats.changes_pulled += static_cast<int64_t>(batch.changes.size());
    stats.changes_applied += std::count(outcome.applied.begin(), outcome.applied.end(), true);
    stats.conflicts += outcome.conflicts;
    stats.pull_lag_changes = std::max<int64_t>(0, batch.sender_last_seq - batch.through_seq);
    stats.pull_cursor = pull_cursor;
    return Status::Ok();
  }

  // A pull was answered 410: pulling goes into snapshot mode (from the
  // start; nothing is persisted until the first page is applied, so a crash
  // before that just meets the 410 again).
  Status BeginSnapshot(const HttpReply& reply, std::string_view what, bool* more) {
    ET_LOG_INFO("sync: {}; re-seeding from a snapshot of the upstream", StatusFor(reply, what).message());
    snapshot = SnapshotProgress{};
    snapshot.active = true;
    *more = true;
    std::lock_guard<std::mutex> lock(mu);
    ++stats.snapshots_started;
    stats.snapshot_active = true;
    return Status::Ok();
  }

  // Leaves snapshot mode without finishing it (persisted).
  Status AbandonSnapshot() {
    if (snapshot.seq > 0) ET_RETURN_IF_ERROR(storage->SetSyncState(kSnapshotKey, ""));
    snapshot = SnapshotProgress{};
    std::lock_guard<std::mutex> lock(mu);
    stats.snapshot_active = false;
    return Status::Ok();
  }

  // One page of the snapshot: fetch, apply with its progress, and at the
  // end move the pull cursor to S. *more: call again (snapshot or pull).
  Status SnapshotOnce(bool* more) {
    *more = false;
    wire::SyncSnapshotRequest req;
    req.replica = storage->replica_id();
    req.snapshot_seq = snapshot.seq;
    req.after_table = snapshot.table;
    req.after_partition_key = snapshot.partition_key;
    req.after_sort_key = snapshot.sort_key;
    req.bytes_max = options.batch_bytes_max;
    req.sender_clock = storage->LastVersion();
    if (!Pulls(options.default_direction)) {
      for (const auto& [name, d] : options.table_directions) {
        if (Pulls(d)) req.include_tables.push_back(name);
      }
      if (req.include_tables.empty()) return AbandonSnapshot();  // nothing replicates down (any more)
    } else {
      for (const auto& [name, d] : options.table_directions) {
        if (!Pulls(d)) req.exclude_tables.push_back(name);
      }
    }
    ET_ASSIGN_OR_RETURN(HttpReply reply, transport->Post(kSnapshotPath, wire::EncodeSyncSnapshotRequest(req)));
    if (reply.status == 410) {
      // The upstream trimmed past S meanwhile (its disk budget): start over.
      ET_RETURN_IF_ERROR(AbandonSnapshot());
      return BeginSnapshot(reply, "sync snapshot", more);
    }
    if (reply.status != 200) return StatusFor(reply, "sync snapshot");
    ET_ASSIGN_OR_RETURN(wire::SyncSnapshotPage page, wire::DecodeSyncSnapshotPage(reply.body));
    if (snapshot.seq != 0 && page.snapshot_seq != snapshot.seq) {
      return Status::Corruption("sync snapshot: the upstream answered a page of snapshot seq " +
                                std::to_string(page.snapshot_seq) + " to a request for " +
                                std::to_string(snapshot.seq));
    }
    if (page.more && page.changes.empty() && page.next_table == req.after_table &&
        page.next_partition_key == req.after_partition_key && page.next_sort_key == req.after_sort_key) {
      return Status::Corruption("sync snapshot: the upstream's page did not move past the request's row");
    }
    if (upstream != 0 && page.sender != upstream) {
      // Another hub: its log is not the one S points into.
      ET_RETURN_IF_ERROR(AbandonSnapshot());
      ET_RETURN_IF_ERROR(LearnUpstream(page.sender));
      *more = true;
      return Status::Ok();
    }
    ET_RETURN_IF_ERROR(LearnUpstream(page.sender));
    if (snapshot.seq == 0) {
      ET_LOG_INFO("sync: snapshot of upstream {} at seq {}", internal::ReplicaHex(page.sender), page.snapshot_seq);
    }
    const int64_t seq = page.snapshot_seq;
    // The helpers of pull take a batch: the page's tables and rows are one.
    wire::SyncBatch batch;
    batch.sender = page.sender;
    batch.sender_clock = page.sender_clock;
    batch.tables = std::move(page.tables);
    batch.changes = std::move(page.changes);
    int64_t observe_max = 0;
    ET_ASSIGN_OR_RETURN(std::vector<internal::Incoming> incoming, Admit(batch, &observe_max));
    const size_t rows = incoming.size();
    // The sync state after the first `n` rows: the progress, or at the end
    // of the last page the pull cursor S and no snapshot.
    auto state_after = [&](size_t n) {
      SyncState st;
      if (n == incoming.size() && !page.more) {
        st.emplace_back(std::string(kPullCursorKey), std::to_string(seq));
        st.emplace_back(std::string(kSnapshotKey), "");
      } else if (n == incoming.size()) {
        st.emplace_back(std::string(kSnapshotKey),
                        EncodeProgress(seq, page.next_table, page.next_partition_key, page.next_sort_key));
      } else {
        const wire::SyncChange& c = batch.changes[n - 1];
        st.emplace_back(std::string(kSnapshotKey),
                        EncodeProgress(seq, batch.tables[c.table].name, c.partition_key, c.sort_key));
      }
      return st;
    };
    // Rows carry no upstream transactions (txn_id 0): any row ends a chunk.
    ET_ASSIGN_OR_RETURN(
        storage::RemoteOutcome outcome,
        ApplyInChunks(batch, incoming, observe_max, /*whole_transactions=*/false, state_after, [&](size_t n) {
          // Mirrors what was just committed, so that a failure below resumes here.
          snapshot.seq = seq;
          if (n == rows) {
            snapshot.table = page.next_table;
            snapshot.partition_key = page.next_partition_key;
            snapshot.sort_key = page.next_sort_key;
          } else {
            const wire::SyncChange& c = batch.changes[n - 1];
            snapshot.table = batch.tables[c.table].name;
            snapshot.partition_key = c.partition_key;
            snapshot.sort_key = c.sort_key;
          }
        }));
    const int64_t applied = std::count(outcome.applied.begin(), outcome.applied.end(), true);
    const int64_t conflicts = outcome.conflicts;
    if (incoming.empty()) {
      for (const auto& [key, value] : state_after(0)) ET_RETURN_IF_ERROR(storage->SetSyncState(key, value));
      snapshot.seq = seq;
      snapshot.table = page.next_table;
      snapshot.partition_key = page.next_partition_key;
      snapshot.sort_key = page.next_sort_key;
    }
    ObserveClock(batch.sender_clock);
    ++snapshot_pages;
    const bool done = !page.more;
    if (done) {
      pull_cursor = seq;
      snapshot = SnapshotProgress{};
    }
    *more = true;  // the next page, or pulling from S
    std::lock_guard<std::mutex> lock(mu);
    stats.snapshot_rows += static_cast<int64_t>(incoming.size());
    stats.snapshot_rows_applied += applied;
    stats.conflicts += conflicts;
    if (done) {
      ++stats.snapshots_completed;
      stats.snapshot_active = false;
      stats.pull_cursor = pull_cursor;
      ET_LOG_INFO("sync: snapshot complete ({} rows received so far); pulling from seq {}", stats.snapshot_rows,
                  seq);
    }
    return Status::Ok();
  }

  // Push until caught up, then pull until caught up. *moved: data moved.
  Status Round(int rounds_max, bool* moved) {
    *moved = false;
    Status s = [&]() -> Status {
      for (int i = 0; i < rounds_max; ++i) {
        bool more = false;
        const int64_t before = storage->UpstreamAckedSeq();
        ET_RETURN_IF_ERROR(PushOnce(&more));
        if (storage->UpstreamAckedSeq() != before) *moved = true;
        if (!more) break;
      }
      for (int i = 0; i < rounds_max; ++i) {
        bool more = false;
        const int64_t before = pull_cursor;
        const int64_t pages_before = snapshot_pages;
        ET_RETURN_IF_ERROR(PullOnce(&more));
        if (pull_cursor != before || snapshot_pages != pages_before) *moved = true;
        if (!more) break;
      }
      return Status::Ok();
    }();
    UpdateLag();
    if (!s.ok()) {
      Failed(s);
      return s;
    }
    std::lock_guard<std::mutex> lock(mu);
    ++stats.rounds;
    stats.last_success_ms = options.clock->NowMs();
    stats.last_error.clear();
    return Status::Ok();
  }

  void Run() {
#ifdef __linux__
    pthread_setname_np(pthread_self(), "et-sync");
#endif
    // Replication is background work: the API's threads preempt this one.
    SetCurrentThreadBackground();
    int failures = 0;
    for (;;) {
      bool moved = false;
      Status s = Round(16, &moved);
      int64_t wait_ms = options.interval_ms;
      if (!s.ok()) {
        ++failures;
        ET_LOG_WARN("sync: {} (retrying)", s.ToString());
        // Exponential backoff with full jitter.
        const int shift = std::min(failures - 1, 20);
        const int64_t cap = std::min(options.backoff_max_ms, options.backoff_min_ms << shift);
        wait_ms = std::uniform_int_distribution<int64_t>(options.backoff_min_ms / 2, std::max<int64_t>(cap, 1))(rng);
      } else {
        if (failures > 0) ET_LOG_INFO("sync: upstream reachable again");
        failures = 0;
        if (moved) wait_ms = 0;
      }
      std::unique_lock<std::mutex> lock(mu);
      if (wait_ms > 0) {
        cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping || (wake && s.ok()); });
      }
      if (stopping) return;
      wake = false;
    }
  }
};

Client::Client(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Client::~Client() { Stop(); }

Result<std::unique_ptr<Client>> Client::Create(storage::Storage* storage, Transport* transport,
                                               ClientOptions options) {
  if (options.clock == nullptr) options.clock = Clock::System();
  if (options.batch_bytes_max < 1024 || options.batch_changes_max < 1 || options.apply_chunk_changes < 1 || options.interval_ms < 1 ||
      options.backoff_min_ms < 1 || options.backoff_max_ms < options.backoff_min_ms || options.max_skew_ms < 0) {
    return Status::InvalidArgument(
        "sync: batch_bytes_max >= 1024, batch_changes_max >= 1, interval_ms >= 1, "
        "1 <= backoff_min_ms <= backoff_max_ms and max_skew_ms >= 0 are required");
  }
  auto impl = std::make_unique<Impl>();
  impl->storage = storage;
  impl->transport = transport;
  impl->options = std::move(options);
  impl->rng.seed(impl->options.jitter_seed != 0 ? impl->options.jitter_seed : std::random_device{}());
  ET_RETURN_IF_ERROR(internal::EnsureConflictsTable(storage));
  ET_ASSIGN_OR_RETURN(auto cursor, storage->GetSyncState(kPullCursorKey));
  if (cursor) impl->pull_cursor = static_cast<int64_t>(ParseU64(*cursor));
  ET_ASSIGN_OR_RETURN(auto upstream, storage->GetSyncState(kUpstreamReplicaKey));
  if (upstream) impl->upstream = ParseU64(*upstream);
  ET_ASSIGN_OR_RETURN(auto snapshot, storage->GetSyncState(kSnapshotKey));
  if (snapshot && !snapshot->empty()) {
    if (Impl::DecodeProgress(*snapshot, &impl->snapshot)) {
      ET_LOG_INFO("sync: resuming the snapshot of the upstream at seq {}", impl->snapshot.seq);
    } else {
      // Unreadable: the snapshot starts over (a pull meets the 410 again).
      ET_LOG_WARN("sync: ignoring malformed snapshot progress \"{}\"", *snapshot);
      impl->snapshot = Impl::SnapshotProgress{};
    }
  }
  impl->stats.snapshot_active = impl->snapshot.active;
  impl->stats.upstream_replica = impl->upstream;
  impl->stats.pull_cursor = impl->pull_cursor;
  impl->UpdateLag();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Status Client::SyncOnce(int rounds_max) {
  BackgroundPriorityScope background;
  bool moved = false;
  return impl_->Round(rounds_max, &moved);
}

Status Client::PushOnce(bool* more) {
  BackgroundPriorityScope background;
  Status s = impl_->PushOnce(more);
  impl_->UpdateLag();
  if (!s.ok()) impl_->Failed(s);
  return s;
}

Status Client::PullOnce(bool* more) {
  BackgroundPriorityScope background;
  Status s = impl_->PullOnce(more);
  impl_->UpdateLag();
  if (!s.ok()) impl_->Failed(s);
  return s;
}

void Client::Start() {
  if (impl_->thread.joinable()) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = false;
  }
  impl_->thread = std::thread([this] { impl_->Run(); });
}

void Client::Stop() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->stopping = true;
  }
  impl_->cv.notify_all();
  if (impl_->thread.joinable()) impl_->thread.join();
}

void Client::Wake() {
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->wake = true;
  }
  impl_->cv.notify_all();
}

ClientStats Client::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace edgetable::sync
