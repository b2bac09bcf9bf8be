#include "sync/protocol/client.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>
#include <utility>

#include "edge/base/log.h"
#include "edge/item/json.h"
#include "edge/wire/sync_codec.h"
#include "sync/protocol/internal/batch.h"

namespace edgetable::sync {
namespace {

// Sync state keys kept by a node with an upstream.
constexpr std::string_view kPullCursorKey = "client/pull_cursor";
constexpr std::string_view kUpstreamReplicaKey = "client/upstream_replica";

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

  std::thread thread;
  std::condition_variable cv;
  bool stopping = false;  // GUARDED_BY(mu)
  bool wake = false;      // GUARDED_BY(mu)
  std::mt19937_64 rng;

  Direction DirectionOf(std::string_view table) const {
    auto it = options.table_directions.find(table);
    return it == options.table_directions.end() ? options.default_direction : it->second;
  }
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
    stats.transport = transport->Stats();
  }

  Status PushOnce(bool* more) {
    *more = false;
    const int64_t acked = storage->UpstreamAckedSeq();
    internal::BatchBounds bounds;
    bounds.bytes_max = options.batch_bytes_max;
    bounds.changes_max = options.batch_changes_max;
    const uint64_t from_upstream = upstream;
    auto filter = [&](const storage::ChangeRecord& r, const item::Value&) {
      if (from_upstream != 0 && r.source_replica == from_upstream) return false;  // never echo
      if (r.table.rfind(kLocalTablePrefix, 0) == 0) return false;
      return Pushes(DirectionOf(r.table));
    };
    ET_ASSIGN_OR_RETURN(wire::SyncBatch batch, internal::ReadBatch(storage, acked, bounds, filter));
    if (batch.through_seq == acked) return Status::Ok();  // nothing after the cursor
    *more = batch.more;
    if (!batch.changes.empty()) {
      std::string body = wire::EncodeSyncBatch(batch);
      ET_ASSIGN_OR_RETURN(HttpReply reply, transport->Post(kPushPath, body));
      if (reply.status != 200) return StatusFor(reply, "sync push");
      ET_ASSIGN_OR_RETURN(wire::SyncPushAck ack, wire::DecodeSyncPushAck(reply.body));
      if (ack.through_seq != batch.through_seq) {
        return Status::Corruption("sync push: the upstream acknowledged through seq " + std::to_string(ack.through_seq) +
                                  " for a batch through " + std::to_string(batch.through_seq));
      }
      ET_RETURN_IF_ERROR(LearnUpstream(ack.receiver));
      ObserveClock(ack.receiver_clock);
      std::lock_guard<std::mutex> lock(mu);
      ++stats.push_batches;
      stats.changes_pushed += static_cast<int64_t>(batch.changes.size());
      stats.conflicts += ack.conflicts;
      bytes_per_change = static_cast<double>(body.size()) / static_cast<double>(batch.changes.size());
    }
    // Only now, after the upstream applied the batch, does the cursor move.
    return storage->SetUpstreamAckedSeq(batch.through_seq);
  }

  Status PullOnce(bool* more) {
    *more = false;
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
    int64_t flagged = 0, observe_max = 0;
    Status skew = internal::CheckSkew(batch, options.clock->NowMs(), options.max_skew_ms, options.skew_policy,
                                      &flagged, &observe_max);
    if (flagged > 0) {
      std::lock_guard<std::mutex> lock(mu);
      stats.skew_flagged += flagged;
    }
    ET_RETURN_IF_ERROR(skew);
    ET_RETURN_IF_ERROR(internal::EnsureTables(storage, batch));
    ET_ASSIGN_OR_RETURN(std::vector<internal::Incoming> incoming, internal::DecodeChanges(batch));
    storage::RemoteOutcome outcome;
    size_t begin = 0;
    // The cursor after the first `n` changes of the batch.
    auto cursor_after = [&](size_t n) { return n == incoming.size() ? batch.through_seq : batch.changes[n - 1].seq; };
    while (begin < incoming.size()) {
      // A chunk ends at a transaction boundary of the upstream's log.
      size_t end = std::min(incoming.size(), begin + static_cast<size_t>(options.apply_chunk_changes));
      while (end < incoming.size() && batch.changes[end].txn_id == batch.changes[end - 1].txn_id) ++end;
      std::vector<storage::RemoteChange> changes;
      changes.reserve(end - begin);
      for (size_t i = begin; i < end; ++i) changes.push_back(std::move(incoming[i].change));
      storage::ApplyRemoteOptions apply;
      apply.source_replica = batch.sender;
      apply.conflicts_table = std::string(kConflictsTable);
      apply.observe_max_hlc_ms = observe_max;
      // Local writes go first: the storage may stop between two upstream
      // transactions and hand the rest back (a catch-up must not hold an
      // application's writes). The cursor moves in the same transaction as
      // the changes it covers.
      apply.yield_to_local_writes = true;
      apply.sync_state_at = [&, begin](size_t consumed) {
        return std::vector<std::pair<std::string, std::string>>{
            {std::string(kPullCursorKey), std::to_string(cursor_after(begin + consumed))}};
      };
      ET_ASSIGN_OR_RETURN(storage::RemoteOutcome part, storage->ApplyRemote(std::move(changes), apply));
      const size_t consumed = part.applied.size();
      outcome.applied.insert(outcome.applied.end(), part.applied.begin(), part.applied.end());
      outcome.conflicts += part.conflicts;
      for (size_t k = 0; k < part.rest.size(); ++k) incoming[begin + consumed + k].change = std::move(part.rest[k]);
      if (consumed > 0) pull_cursor = cursor_after(begin + consumed);
      begin += consumed;
      if (!part.rest.empty()) {
        std::lock_guard<std::mutex> lock(mu);
        ++stats.apply_yields;
      }
    }
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
        ET_RETURN_IF_ERROR(PullOnce(&more));
        if (pull_cursor != before) *moved = true;
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
  impl->stats.upstream_replica = impl->upstream;
  impl->stats.pull_cursor = impl->pull_cursor;
  impl->UpdateLag();
  return std::unique_ptr<Client>(new Client(std::move(impl)));
}

Status Client::SyncOnce(int rounds_max) {
  bool moved = false;
  return impl_->Round(rounds_max, &moved);
}

Status Client::PushOnce(bool* more) {
  Status s = impl_->PushOnce(more);
  impl_->UpdateLag();
  if (!s.ok()) impl_->Failed(s);
  return s;
}

Status Client::PullOnce(bool* more) {
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
