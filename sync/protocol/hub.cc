#include "sync/protocol/hub.h"

#include <algorithm>
#include <limits>
#include <map>
#include <optional>
#include <utility>

#include "edge/base/log.h"
#include "edge/base/thread_priority.h"
#include "edge/item/json.h"
#include "edge/net/crypto.h"
#include "edge/wire/sync_codec.h"
#include "sync/protocol/internal/batch.h"
#include "sync/transport/transport.h"

namespace edgetable::sync {
namespace {

// Sync state keys (Storage::SetSyncState) kept by a hub.
constexpr std::string_view kReplicaOwnerPrefix = "hub/replica/";  // + replica hex = peer name
constexpr std::string_view kPeerCursorPrefix = "hub/cursor/";     // + peer name = pull cursor
constexpr std::string_view kPeerPushedPrefix = "hub/pushed/";     // + peer name = last through_seq applied

// Bodies above this are refused before they are decompressed or decoded.
constexpr int64_t kBodyBytesMax = 64 * 1024 * 1024;
// Replies at least this long are compressed when the caller accepts zstd.
constexpr size_t kCompressReplyMin = 512;

HubReply ErrorReply(int status, std::string_view type, const std::string& message) {
  nlohmann::json j;
  j["__type"] = type;
  j["message"] = message;
  return HubReply{status, j.dump(), "application/json"};
}

// An error Status -> an HTTP answer (see hub.h).
HubReply ReplyFor(const Status& s) {
  switch (s.code()) {
    case Status::Code::kInvalidArgument: return ErrorReply(400, "BadRequest", s.message());
    case Status::Code::kCorruption: return ErrorReply(400, "MalformedBatch", s.message());
    case Status::Code::kUnauthenticated: return ErrorReply(401, "Unauthenticated", s.message());
    case Status::Code::kPermissionDenied: return ErrorReply(403, "Forbidden", s.message());
    case Status::Code::kConditionFailed: return ErrorReply(409, "Conflict", s.message());
    case Status::Code::kNotFound: return ErrorReply(410, "ResyncRequired", s.message());
    case Status::Code::kLimitExceeded: return ErrorReply(413, "TooLarge", s.message());
    case Status::Code::kBusy:
    case Status::Code::kUnavailable: return ErrorReply(503, "Unavailable", s.message());
    default: return ErrorReply(500, "InternalError", s.message());
  }
}

int64_t ParseInt(const std::string& s) {
  try {
    return std::stoll(s);
  } catch (...) {
    return 0;
  }
}

}  // namespace

struct Hub::Impl {
  storage::Storage* storage;
  HubOptions options;
  uint64_t self = 0;

  mutable std::mutex mu;
  std::map<uint64_t, std::string> replica_owner;  // GUARDED_BY(mu)
  std::map<std::string, HubPeerStats, std::less<>> peers;  // by name, GUARDED_BY(mu)
  HubStats stats;  // counters only, GUARDED_BY(mu)

  const PeerConfig* Identify(const Caller& caller, Status* error) const {
    if (caller.bearer_token.empty() && caller.cert_subject.empty()) {
      *error = Status::Unauthenticated("sync: no credentials: present a client certificate or a bearer token");
      return nullptr;
    }
    for (const PeerConfig& p : options.peers) {
      if (!caller.bearer_token.empty() && !p.token.empty() && net::crypto::ConstantTimeEqual(p.token, caller.bearer_token)) {
        return &p;
      }
    }
    for (const PeerConfig& p : options.peers) {
      if (!caller.cert_subject.empty() && p.cert_subject == caller.cert_subject) return &p;
    }
    *error = Status::Unauthenticated(caller.bearer_token.empty()
                                         ? "sync: certificate subject \"" + caller.cert_subject + "\" is not a configured peer"
                                         : "sync: unknown bearer token");
    return nullptr;
  }

  // Binds `replica` to `peer` on first use (persisted); refuses a replica
  // id another peer owns, or the hub's own.
  Status Claim(const PeerConfig& peer, uint64_t replica) {
    if (replica == 0) return Status::InvalidArgument("sync: replica id 0 is not a replica");
    if (replica == self) {
      return Status::PermissionDenied("sync: peer " + peer.name + " claims this hub's own replica id " +
                                      internal::ReplicaHex(replica));
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = replica_owner.find(replica);
      if (it != replica_owner.end()) {
        if (it->second == peer.name) return Status::Ok();
        return Status::PermissionDenied("sync: replica id " + internal::ReplicaHex(replica) +
                                        " belongs to peer " + it->second + ", not to " + peer.name);
      }
    }
    ET_RETURN_IF_ERROR(storage->SetSyncState(std::string(kReplicaOwnerPrefix) + internal::ReplicaHex(replica), peer.name));
    std::lock_guard<std::mutex> lock(mu);
    auto [it, fresh] = replica_owner.emplace(replica, peer.name);
    if (!fresh && it->second != peer.name) {
      return Status::PermissionDenied("sync: replica id " + internal::ReplicaHex(replica) + " belongs to peer " +
                                      it->second + ", not to " + peer.name);
    }
    return Status::Ok();
  }

  // A change may only carry versions of the sender itself or of replicas no
  // other peer owns (a tier's downstream edges); never the hub's own.
  Status CheckOrigin(const PeerConfig& peer, uint64_t replica, int64_t seq) const {
    if (replica == self) {
      return Status::PermissionDenied("sync: change seq " + std::to_string(seq) + " claims this hub's replica id");
    }
    std::lock_guard<std::mutex> lock(mu);
    auto it = replica_owner.find(replica);
    if (it != replica_owner.end() && it->second != peer.name) {
      return Status::PermissionDenied("sync: change seq " + std::to_string(seq) + " carries replica id " +
                                      internal::ReplicaHex(replica) + " of peer " + it->second);
    }
    return Status::Ok();
  }

  void Refused(const Status& s, const PeerConfig* peer) {
    std::lock_guard<std::mutex> lock(mu);
    ++stats.refused;
    if (s.code() == Status::Code::kUnauthenticated) ++stats.unauthenticated;
    if (s.code() == Status::Code::kPermissionDenied) ++stats.forbidden;
    ET_LOG_WARN("sync hub: refused a request from {}: {}", peer ? peer->name : std::string("an unknown caller"),
                s.message());
  }

  HubPeerStats& PeerStats(const PeerConfig& peer, uint64_t replica) {
    HubPeerStats& p = peers[peer.name];
    p.name = peer.name;
    p.replica = replica;
    p.last_seen_ms = options.clock->NowMs();
    return p;
  }

  // The change log is held at the lowest pull cursor of the configured
  // peers (0 for one that never pulled), so that every peer finds its
  // changes however long it was away (the disk budget still applies).
  void UpdateHold() {
    int64_t hold = std::numeric_limits<int64_t>::max();
    {
      std::lock_guard<std::mutex> lock(mu);
      for (const PeerConfig& p : options.peers) {
        auto it = peers.find(p.name);
        hold = std::min(hold, it == peers.end() ? 0 : it->second.pull_cursor);
      }
    }
    storage->SetChangeLogHold(hold);
  }

  Result<wire::SyncPushAck> Push(const PeerConfig& peer, std::string_view body) {
    ET_ASSIGN_OR_RETURN(wire::SyncBatch batch, wire::DecodeSyncBatch(body));
    ET_RETURN_IF_ERROR(Claim(peer, batch.sender));
    for (const wire::SyncTable& t : batch.tables) {
      if (!peer.scope.AllowsTable(t.name)) {
        return Status::PermissionDenied("sync: table " + t.name + " is outside the scope of peer " + peer.name +
                                        "; the whole batch is refused");
      }
    }
    ET_ASSIGN_OR_RETURN(std::vector<internal::Incoming> incoming, internal::DecodeChanges(batch));
    for (size_t i = 0; i < incoming.size(); ++i) {
      const wire::SyncChange& c = batch.changes[i];
      if (!peer.scope.AllowsPartitionKey(internal::KeyText(incoming[i].partition_key))) {
        return Status::PermissionDenied("sync: change seq " + std::to_string(c.seq) + " on table " +
                                        incoming[i].change.table + " has a partition key outside the scope of peer " +
                                        peer.name + "; the whole batch is refused");
      }
      ET_RETURN_IF_ERROR(CheckOrigin(peer, incoming[i].change.origin_replica, c.seq));
      ET_RETURN_IF_ERROR(CheckOrigin(peer, c.version.replica, c.seq));
    }
    int64_t flagged = 0, observe_max = 0;
    Status skew = internal::CheckSkew(batch, options.clock->NowMs(), options.max_skew_ms, options.skew_policy,
                                      &flagged, &observe_max);
    if (flagged > 0) {
      std::lock_guard<std::mutex> lock(mu);
      stats.skew_flagged += flagged;
    }
    if (!skew.ok()) return skew;
    if (flagged > 0) {
      ET_LOG_WARN("sync hub: {} version(s) from peer {} beyond the skew bound; applied, clock clamped", flagged,
                  peer.name);
    }
    ET_RETURN_IF_ERROR(internal::EnsureTables(storage, batch));

    storage::ApplyRemoteOptions apply;
    apply.source_replica = batch.sender;
    apply.conflicts_table = std::string(kConflictsTable);
    apply.observe_max_hlc_ms = observe_max;
    apply.sync_state.emplace_back(std::string(kPeerPushedPrefix) + peer.name, std::to_string(batch.through_seq));
    std::vector<storage::RemoteChange> changes;
    changes.reserve(incoming.size());
    for (internal::Incoming& in : incoming) changes.push_back(std::move(in.change));
    storage::RemoteOutcome outcome;
    if (!changes.empty()) {
      ET_ASSIGN_OR_RETURN(outcome, storage->ApplyRemote(std::move(changes), apply));
    }
    wire::SyncPushAck ack;
    ack.receiver = self;
    ack.through_seq = batch.through_seq;
    ack.applied = static_cast<int32_t>(std::count(outcome.applied.begin(), outcome.applied.end(), true));
    ack.skipped = static_cast<int32_t>(outcome.applied.size()) - ack.applied;
    ack.conflicts = static_cast<int32_t>(outcome.conflicts);
    ack.receiver_clock = storage->LastVersion();
    std::lock_guard<std::mutex> lock(mu);
    ++stats.pushes;
    stats.changes_applied += ack.applied;
    stats.changes_skipped += ack.skipped;
    stats.conflicts += ack.conflicts;
    stats.bytes_in += static_cast<int64_t>(body.size());
    HubPeerStats& ps = PeerStats(peer, batch.sender);
    ps.pushed_through = std::max(ps.pushed_through, batch.through_seq);
    return ack;
  }

  Result<wire::SyncBatch> Pull(const PeerConfig& peer, std::string_view body) {
    ET_ASSIGN_OR_RETURN(wire::SyncPullRequest req, wire::DecodeSyncPullRequest(body));
    ET_RETURN_IF_ERROR(Claim(peer, req.replica));
    if (req.after_seq < 0) return Status::InvalidArgument("sync: negative pull cursor");
    const int64_t trimmed = storage->TrimmedSeq();
    if (req.after_seq < trimmed) {
      return Status::NotFound("sync: changes after seq " + std::to_string(req.after_seq) +
                              " are no longer in this hub's change log (trimmed through " + std::to_string(trimmed) +
                              "); the peer must be re-seeded");
    }
    // Record the cursor first: it says the peer holds everything up to it.
    bool moved = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      HubPeerStats& ps = PeerStats(peer, req.replica);
      if (req.after_seq > ps.pull_cursor) {
        ps.pull_cursor = req.after_seq;
        moved = true;
      }
      ++stats.pulls;
      stats.bytes_in += static_cast<int64_t>(body.size());
    }
    if (moved) {
      ET_RETURN_IF_ERROR(storage->SetSyncState(std::string(kPeerCursorPrefix) + peer.name, std::to_string(req.after_seq)));
      UpdateHold();
    }
    internal::BatchBounds bounds;
    bounds.bytes_max = req.bytes_max > 0 ? std::min(req.bytes_max, options.pull_bytes_max) : options.pull_bytes_max;
    bounds.changes_max = options.pull_changes_max;
    const uint64_t puller = req.replica;
    auto listed = [](const std::vector<std::string>& v, const std::string& t) {
      return std::find(v.begin(), v.end(), t) != v.end();
    };
    auto filter = [&](const storage::ChangeRecord& r, const item::Value& pk) {
      if (r.source_replica == puller || r.origin_replica == puller) return false;  // never echo
      if (r.table.rfind(kLocalTablePrefix, 0) == 0) return false;
      if (!peer.scope.AllowsTable(r.table)) return false;
      if (!req.include_tables.empty() && !listed(req.include_tables, r.table)) return false;
      if (listed(req.exclude_tables, r.table)) return false;
      return peer.scope.AllowsPartitionKey(internal::KeyText(pk));
    };
    ET_ASSIGN_OR_RETURN(wire::SyncBatch batch, internal::ReadBatch(storage, req.after_seq, bounds, filter));
    std::lock_guard<std::mutex> lock(mu);
    stats.changes_sent += static_cast<int64_t>(batch.changes.size());
    return batch;
  }

  // One page of a snapshot (see hub.h).
  Result<wire::SyncSnapshotPage> Snapshot(const PeerConfig& peer, std::string_view body) {
    ET_ASSIGN_OR_RETURN(wire::SyncSnapshotRequest req, wire::DecodeSyncSnapshotRequest(body));
    ET_RETURN_IF_ERROR(Claim(peer, req.replica));
    const int64_t last = storage->Stats().last_seq;
    int64_t snap = req.snapshot_seq;
    if (snap == 0) {
      // Every change up to `last` is committed, so every page (read later)
      // holds it or something newer; the peer pulls what follows from `last`.
      snap = last;
    } else if (snap > last) {
      return Status::InvalidArgument("sync: snapshot seq " + std::to_string(snap) +
                                     " is beyond this hub's change log (last seq " + std::to_string(last) + ")");
    } else if (snap < storage->TrimmedSeq()) {
      return Status::NotFound("sync: the change log after snapshot seq " + std::to_string(snap) +
                              " was trimmed since the snapshot began (through " +
                              std::to_string(storage->TrimmedSeq()) + "); the peer must start it over");
    }
    // The hold: the peer's cursor is S from now on, as if it pulled from S,
    // so age-based trimming keeps every record after S for it.
    bool moved = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      HubPeerStats& ps = PeerStats(peer, req.replica);
      if (snap > ps.pull_cursor) {
        ps.pull_cursor = snap;
        moved = true;
      }
      ++stats.snapshot_pages;
      if (req.snapshot_seq == 0) ++stats.snapshots;
      stats.bytes_in += static_cast<int64_t>(body.size());
    }
    if (moved) {
      ET_RETURN_IF_ERROR(storage->SetSyncState(std::string(kPeerCursorPrefix) + peer.name, std::to_string(snap)));
      UpdateHold();
    }
    if (req.snapshot_seq == 0) {
      ET_LOG_INFO("sync hub: peer {} starts a snapshot at seq {} (trimmed through {})", peer.name, snap,
                  storage->TrimmedSeq());
    }

    // The tables it covers, in name order (the order pages walk them).
    auto listed = [](const std::vector<std::string>& v, const std::string& t) {
      return std::find(v.begin(), v.end(), t) != v.end();
    };
    std::vector<std::string> names;
    std::optional<std::string> start;
    for (;;) {
      ET_ASSIGN_OR_RETURN(storage::TableList list, storage->ListTables(start));
      for (std::string& name : list.names) {
        if (name < req.after_table || name.rfind(kLocalTablePrefix, 0) == 0) continue;
        if (!peer.scope.AllowsTable(name)) continue;
        if (!req.include_tables.empty() && !listed(req.include_tables, name)) continue;
        if (listed(req.exclude_tables, name)) continue;
        names.push_back(std::move(name));
      }
      if (!list.last_evaluated_name) break;
      start = list.last_evaluated_name;
    }

    wire::SyncSnapshotPage page;
    page.sender = self;
    page.sender_clock = storage->LastVersion();
    page.snapshot_seq = snap;
    const int64_t bytes_max =
        req.bytes_max > 0 ? std::min(req.bytes_max, options.pull_bytes_max) : options.pull_bytes_max;
    constexpr int64_t kScannedMax = 50000;  // rows examined per page, out-of-scope ones included
    constexpr int kReadRows = 512;
    int64_t bytes = 0, scanned = 0;
    std::string pos_table = req.after_table, pos_pk = req.after_partition_key, pos_sk = req.after_sort_key;
    for (const std::string& name : names) {
      if (name != pos_table) {
        pos_table = name;
        pos_pk.clear();
        pos_sk.clear();
      }
      Result<storage::TableInfo> info = storage->DescribeTable(name);
      if (!info.ok() && info.status().code() == Status::Code::kNotFound) continue;  // deleted meanwhile
      ET_RETURN_IF_ERROR(info.status());
      int64_t index = -1;
      for (;;) {
        if (bytes >= bytes_max || static_cast<int>(page.changes.size()) >= options.pull_changes_max ||
            scanned >= kScannedMax) {
          page.more = true;
          break;
        }
        const int limit = static_cast<int>(std::min<int64_t>(kReadRows, kScannedMax - scanned));
        Result<std::vector<storage::StoredRow>> rows =
            storage->ReadRows(name, pos_pk, pos_sk, limit, bytes_max - bytes);
        if (!rows.ok() && rows.status().code() == Status::Code::kNotFound) break;  // deleted meanwhile
        ET_RETURN_IF_ERROR(rows.status());
        if (rows->empty()) break;
        for (storage::StoredRow& row : *rows) {
          ++scanned;
          pos_pk = row.partition_key;
          pos_sk = row.sort_key;
          ET_ASSIGN_OR_RETURN(item::Value pk, item::DecodeKeyValue(row.partition_key, info->key_schema.partition.type));
          if (!peer.scope.AllowsPartitionKey(internal::KeyText(pk))) continue;
          if (index < 0) {
            index = static_cast<int64_t>(page.tables.size());
            page.tables.push_back(wire::SyncTable{name, info->key_schema});
          }
          wire::SyncChange c;
          c.seq = row.seq;
          c.table = static_cast<uint32_t>(index);
          c.partition_key = std::move(row.partition_key);
          c.sort_key = std::move(row.sort_key);
          c.op = static_cast<uint8_t>(row.item ? storage::ChangeOp::kInsert : storage::ChangeOp::kRemove);
          c.version = row.version;
          c.prev_version = row.prev_version;
          c.new_image = std::move(row.item);
          bytes += wire::SyncChangeSizeEstimate(c);
          page.changes.push_back(std::move(c));
        }
      }
      if (page.more) break;
    }
    page.next_table = pos_table;
    page.next_partition_key = pos_pk;
    page.next_sort_key = pos_sk;
    std::lock_guard<std::mutex> lock(mu);
    stats.snapshot_rows += static_cast<int64_t>(page.changes.size());
    return page;
  }
};

Hub::Hub(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Hub::~Hub() = default;

Result<std::unique_ptr<Hub>> Hub::Create(storage::Storage* storage, HubOptions options) {
  std::map<std::string, int> names, tokens, subjects;
  for (const PeerConfig& p : options.peers) {
    if (p.name.empty()) return Status::InvalidArgument("sync hub: a peer without a name");
    if (p.token.empty() && p.cert_subject.empty()) {
      return Status::InvalidArgument("sync hub: peer " + p.name + " has neither a token nor a certificate subject");
    }
    if (++names[p.name] > 1) return Status::InvalidArgument("sync hub: two peers named " + p.name);
    if (!p.token.empty() && ++tokens[p.token] > 1) {
      return Status::InvalidArgument("sync hub: peer " + p.name + " has the token of another peer");
    }
    if (!p.cert_subject.empty() && ++subjects[p.cert_subject] > 1) {
      return Status::InvalidArgument("sync hub: peer " + p.name + " has the certificate subject of another peer");
    }
  }
  if (options.clock == nullptr) options.clock = Clock::System();
  if (options.max_skew_ms < 0) return Status::InvalidArgument("sync hub: max_skew_ms must be >= 0");
  auto impl = std::make_unique<Impl>();
  impl->storage = storage;
  impl->options = std::move(options);
  impl->self = storage->replica_id();
  ET_RETURN_IF_ERROR(internal::EnsureConflictsTable(storage));
  ET_ASSIGN_OR_RETURN(auto owners, storage->ListSyncState(kReplicaOwnerPrefix));
  for (const auto& [key, name] : owners) {
    const std::string hex = key.substr(kReplicaOwnerPrefix.size());
    try {
      impl->replica_owner[std::stoull(hex, nullptr, 16)] = name;
    } catch (...) {
      ET_LOG_WARN("sync hub: ignoring a malformed replica binding {}", key);
    }
  }
  ET_ASSIGN_OR_RETURN(auto cursors, storage->ListSyncState(kPeerCursorPrefix));
  for (const auto& [key, value] : cursors) {
    const std::string name = key.substr(kPeerCursorPrefix.size());
    HubPeerStats& p = impl->peers[name];
    p.name = name;
    p.pull_cursor = ParseInt(value);
  }
  ET_ASSIGN_OR_RETURN(auto pushed, storage->ListSyncState(kPeerPushedPrefix));
  for (const auto& [key, value] : pushed) {
    const std::string name = key.substr(kPeerPushedPrefix.size());
    HubPeerStats& p = impl->peers[name];
    p.name = name;
    p.pushed_through = ParseInt(value);
  }
  for (const auto& [replica, name] : impl->replica_owner) {
    auto it = impl->peers.find(name);
    if (it != impl->peers.end()) it->second.replica = replica;
  }
  impl->UpdateHold();
  return std::unique_ptr<Hub>(new Hub(std::move(impl)));
}

// The shape every sync route shares: identify the caller, run the request,
// encode the answer. A refusal (not a kBusy, which is the hub's own state)
// is counted against the peer.
template <typename Message, typename Run, typename Encode>
HubReply Hub::Serve(const Caller& caller, std::string_view body, Run run, Encode encode) {
  Impl* impl = impl_.get();
  Status error;
  const PeerConfig* peer = impl->Identify(caller, &error);
  if (peer == nullptr) {
    impl->Refused(error, nullptr);
    return ReplyFor(error);
  }
  Result<Message> answer = (impl->*run)(*peer, body);
  if (!answer.ok()) {
    if (answer.status().code() != Status::Code::kBusy) impl->Refused(answer.status(), peer);
    return ReplyFor(answer.status());
  }
  std::string out = encode(*answer);
  {
    std::lock_guard<std::mutex> lock(impl->mu);
    impl->stats.bytes_out += static_cast<int64_t>(out.size());
  }
  return HubReply{200, std::move(out), std::string(kSyncContentType)};
}

HubReply Hub::HandlePush(const Caller& caller, std::string_view body) {
  return Serve<wire::SyncPushAck>(caller, body, &Impl::Push, wire::EncodeSyncPushAck);
}

HubReply Hub::HandlePull(const Caller& caller, std::string_view body) {
  return Serve<wire::SyncBatch>(caller, body, &Impl::Pull, wire::EncodeSyncBatch);
}

HubReply Hub::HandleSnapshot(const Caller& caller, std::string_view body) {
  return Serve<wire::SyncSnapshotPage>(caller, body, &Impl::Snapshot, wire::EncodeSyncSnapshotPage);
}

Status Hub::Register(net::Router& router) {
  using Handler = HubReply (Hub::*)(const Caller&, std::string_view);
  auto route = [this](Handler handler) {
    return [this, handler](const net::Request& req, net::Response& resp) {
      // Serving a peer is background work: the hub's own API callers, on the
      // same workers, go first (restored before the worker's next request).
      BackgroundPriorityScope background;
      Caller caller;
      if (const std::string* auth = req.FindHeader("Authorization")) {
        constexpr std::string_view kBearer = "Bearer ";
        if (auth->size() > kBearer.size() && std::string_view(*auth).substr(0, kBearer.size()) == kBearer) {
          caller.bearer_token = auth->substr(kBearer.size());
        }
      }
      caller.cert_subject = req.client_cert_subject;
      HubReply reply;
      std::string inflated;
      std::string_view body = req.body;
      const std::string* enc = req.FindHeader("Content-Encoding");
      if (static_cast<int64_t>(req.body.size()) > kBodyBytesMax) {
        reply = ReplyFor(Status::LimitExceeded("sync: request body too large"));
      } else if (enc != nullptr && *enc == "zstd") {
        Result<std::string> d = ZstdDecompress(req.body, kBodyBytesMax);
        if (!d.ok()) {
          reply = ReplyFor(Status::Corruption("sync: body: " + d.status().message()));
        } else {
          inflated = std::move(*d);
          body = inflated;
        }
      } else if (enc != nullptr && *enc != "identity") {
        reply = ReplyFor(Status::InvalidArgument("sync: unsupported Content-Encoding " + *enc));
      }
      if (reply.body.empty()) reply = (this->*handler)(caller, body);
      resp.status = reply.status;
      resp.SetHeader("Content-Type", reply.content_type);
      const std::string* accept = req.FindHeader("Accept-Encoding");
      if (reply.status == 200 && accept != nullptr && accept->find("zstd") != std::string::npos &&
          reply.body.size() >= kCompressReplyMin) {
        std::string z = ZstdCompress(reply.body, 3);
        if (z.size() < reply.body.size()) {
          resp.SetHeader("Content-Encoding", "zstd");
          reply.body = std::move(z);
        }
      }
      resp.body = std::move(reply.body);
    };
  };
  ET_RETURN_IF_ERROR(router.Add("POST", kPushPath, route(&Hub::HandlePush)));
  ET_RETURN_IF_ERROR(router.Add("POST", kPullPath, route(&Hub::HandlePull)));
  return router.Add("POST", kSnapshotPath, route(&Hub::HandleSnapshot));
}

HubStats Hub::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  HubStats s = impl_->stats;
  for (const auto& [name, p] : impl_->peers) s.peers.push_back(p);
  return s;
}

}  // namespace edgetable::sync
