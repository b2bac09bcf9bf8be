#include "sync/protocol/internal/batch.h"

#include <cstdio>
#include <utility>

#include "edge/clock/hybrid_clock.h"
#include "edge/item/key.h"
#include "edge/wire/item_codec.h"

namespace edgetable::sync::internal {
namespace {

constexpr int kReadChunk = 512;

struct TableEntry {
  bool usable = false;  // exists, with the record's table id
  uint32_t index = 0;   // in the batch's tables, when added
  bool added = false;
  item::KeySchema schema;
};

}  // namespace

std::string ReplicaHex(uint64_t replica) {
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(replica));
  return buf;
}

std::string KeyText(const item::Value& v) {
  if (v.is(item::Type::kN)) return v.n().ToString();
  if (v.is(item::Type::kS) || v.is(item::Type::kB)) return v.s();
  return {};
}

Result<wire::SyncBatch> ReadBatch(storage::Storage* storage, int64_t after_seq, const BatchBounds& bounds,
                                  const RecordFilter& filter) {
  wire::SyncBatch b;
  b.sender = storage->replica_id();
  b.sender_clock = storage->LastVersion();
  b.sender_last_seq = storage->Stats().last_seq;
  b.after_seq = after_seq;
  // Tables by id: a name may have been deleted and created again since the
  // record was written; such records belong to the deleted table.
  std::map<int64_t, TableEntry> tables;
  int64_t cursor = after_seq;
  int64_t last_txn = -1;
  int64_t bytes = 0;
  int64_t scanned = 0;
  bool stop = false;
  while (!stop) {
    ET_ASSIGN_OR_RETURN(std::vector<storage::ChangeRecord> records, storage->ReadChanges(cursor, kReadChunk));
    if (records.empty()) break;
    for (storage::ChangeRecord& r : records) {
      const bool txn_start = r.txn_id != last_txn;
      if (txn_start && (bytes >= bounds.bytes_max || static_cast<int>(b.changes.size()) >= bounds.changes_max ||
                        scanned >= bounds.scanned_max)) {
        b.more = true;
        stop = true;
        break;
      }
      last_txn = r.txn_id;
      cursor = r.seq;
      ++scanned;
      if (r.table.empty()) continue;  // its table was deleted
      auto [it, fresh] = tables.try_emplace(r.table_id);
      TableEntry& t = it->second;
      if (fresh) {
        Result<storage::TableInfo> info = storage->DescribeTable(r.table);
        if (info.ok() && info->id == r.table_id) {
          t.usable = true;
          t.schema = info->key_schema;
        } else if (!info.ok() && info.status().code() != Status::Code::kNotFound) {
          return info.status();
        }
      }
      if (!t.usable) continue;
      ET_ASSIGN_OR_RETURN(item::Value pk, item::DecodeKeyValue(r.partition_key, t.schema.partition.type));
      if (!filter(r, pk)) continue;
      if (!t.added) {
        t.added = true;
        t.index = static_cast<uint32_t>(b.tables.size());
        b.tables.push_back(wire::SyncTable{r.table, t.schema});
      }
      wire::SyncChange c;
      c.seq = r.seq;
      c.txn_id = r.txn_id;
      c.table = t.index;
      c.partition_key = std::move(r.partition_key);
      c.sort_key = std::move(r.sort_key);
      c.op = static_cast<uint8_t>(r.op);
      c.version = r.version;
      c.prev_version = r.prev_version;
      c.origin = r.origin_replica;
      c.ttl_delete = r.ttl_delete;
      if (r.op != storage::ChangeOp::kRemove) c.new_image = std::move(r.new_image);
      bytes += wire::SyncChangeSizeEstimate(c);
      b.changes.push_back(std::move(c));
    }
    if (!stop && static_cast<int>(records.size()) < kReadChunk) break;
  }
  b.through_seq = cursor;
  return b;
}

Result<std::vector<Incoming>> DecodeChanges(const wire::SyncBatch& batch) {
  std::vector<Incoming> out;
  out.reserve(batch.changes.size());
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    const wire::SyncChange& c = batch.changes[i];
    auto fail = [&](const Status& s) {
      return Status::Corruption("sync: change " + std::to_string(i) + " (seq " + std::to_string(c.seq) +
                                "): " + s.message());
    };
    if (c.table >= batch.tables.size()) return fail(Status::Corruption("table index out of range"));
    const wire::SyncTable& t = batch.tables[c.table];
    Incoming in;
    in.change.table = t.name;
    Result<item::Value> pk = item::DecodeKeyValue(c.partition_key, t.key_schema.partition.type);
    if (!pk.ok()) return fail(pk.status());
    in.partition_key = *pk;
    in.change.key.emplace(t.key_schema.partition.name, std::move(*pk));
    if (t.key_schema.sort) {
      Result<item::Value> sk = item::DecodeKeyValue(c.sort_key, t.key_schema.sort->type);
      if (!sk.ok()) return fail(sk.status());
      in.change.key.emplace(t.key_schema.sort->name, std::move(*sk));
    } else if (!c.sort_key.empty()) {
      return fail(Status::Corruption("a sort key for a table without one"));
    }
    if (c.new_image) {
      Result<item::Item> it = wire::DecodeItem(*c.new_image);
      if (!it.ok()) return fail(it.status());
      in.change.new_item = std::move(*it);
    }
    in.change.version = c.version;
    in.change.prev_version = c.prev_version;
    in.change.origin_replica = c.origin != 0 ? c.origin : c.version.replica;
    in.change.ttl_delete = c.ttl_delete;
    in.change.txn_group = c.txn_id;
    out.push_back(std::move(in));
  }
  return out;
}

Status EnsureTables(storage::Storage* storage, const wire::SyncBatch& batch) {
  for (const wire::SyncTable& t : batch.tables) {
    if (t.name.rfind(kLocalTablePrefix, 0) == 0) {
      return Status::PermissionDenied("sync: table " + t.name + " is a node's own table and never replicates");
    }
    Result<storage::TableInfo> info = storage->DescribeTable(t.name);
    if (!info.ok() && info.status().code() == Status::Code::kNotFound) {
      info = storage->CreateTable(t.name, t.key_schema);
      if (!info.ok() && info.status().code() == Status::Code::kAlreadyExists) {
        info = storage->DescribeTable(t.name);
      }
    }
    if (!info.ok()) return info.status();
    if (!(info->key_schema == t.key_schema)) {
      return Status::ConditionFailed("sync: table " + t.name +
                                     " exists here with another key schema than the sender's");
    }
  }
  return Status::Ok();
}

Status EnsureConflictsTable(storage::Storage* storage) {
  const std::string name(kConflictsTable);
  Result<storage::TableInfo> t = storage->DescribeTable(name);
  if (!t.ok() && t.status().code() == Status::Code::kNotFound) {
    t = storage->CreateTable(name, storage::ConflictsTableSchema());
    if (!t.ok() && t.status().code() == Status::Code::kAlreadyExists) t = storage->DescribeTable(name);
  }
  return t.status();
}

Status CheckSkew(const wire::SyncBatch& batch, int64_t now_ms, int64_t bound_ms, SkewPolicy policy,
                 int64_t* flagged, int64_t* observe_max_hlc_ms) {
  *flagged = 0;
  *observe_max_hlc_ms = 0;
  std::string first;
  auto check = [&](const clock::Version& v, const std::string& what) {
    if (!clock::ExceedsSkewBound(v, now_ms, bound_ms)) return;
    if (++*flagged == 1) first = what + " has version " + v.ToString();
  };
  check(batch.sender_clock, "the sender's clock");
  for (const wire::SyncChange& c : batch.changes) check(c.version, "change seq " + std::to_string(c.seq));
  if (*flagged == 0) return Status::Ok();
  const std::string text = first + ", more than " + std::to_string(bound_ms) +
                           " ms ahead of this node's clock (" + std::to_string(now_ms) + " ms; " +
                           std::to_string(*flagged) + " version(s) beyond the skew bound)";
  if (policy == SkewPolicy::kRefuse) {
    return Status::ConditionFailed("sync: clock skew: " + text + "; refused (skew_policy = refuse)");
  }
  *observe_max_hlc_ms = now_ms + bound_ms;
  return Status::Ok();
}

}  // namespace edgetable::sync::internal
