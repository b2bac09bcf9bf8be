#include "edge/wire/sync_codec.h"

#include <algorithm>
#include <cstring>
#include <memory>
#include <tuple>
#include <utility>

#include "edge/base/limits.h"
#include "schemas/sync_generated.h"

namespace edgetable::wire {
namespace {

namespace sfb = edgetable::wire::sync;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// Verifier bounds, set explicitly rather than trusting library defaults.
// Depth: Message > Batch (or SnapshotPage) > TableDef > KeyAttribute is the deepest path (4).
constexpr uint32_t kVerifyDepthMax = 8;
// Tables: in a buffer the encoder wrote, every table costs at least 8 bytes
// (its vtable offset and the offset that refers to it), so n bytes hold fewer
// than n / 8 + a few. A buffer whose offsets make the Verifier visit one
// table many times (a vector of offsets to the same Change) passes this
// bound only as far as its size pays for, so verification work stays linear
// in the size.
uint32_t VerifyTablesMax(size_t bytes) { return static_cast<uint32_t>(bytes / 8 + 16); }
// Scalars of 8 bytes (seq, versions) are read in place: buffers whose start
// is not aligned to this are copied first.
constexpr uintptr_t kBufferAlign = 8;
// A builder that grew beyond this (one huge batch) is freed after use rather
// than kept for the thread's lifetime.
constexpr size_t kBuilderKeepBytesMax = static_cast<size_t>(limits::kRequestBodyBytesMax);

// Fixed parts of a message around its changes (root, Message, Batch and their
// vtables), an upper bound used to size the builder.
constexpr int64_t kMessageOverheadBytes = 256;

// --- builder reuse -----------------------------------------------------------

// One builder per thread, cleared and reused, so that encoding a stream of
// batches does not allocate and grow a buffer for each. Sized up front from
// the estimate of what it will hold.
class ReusedBuilder {
 public:
  explicit ReusedBuilder(int64_t size_hint) {
    Cache& c = cache();
    const size_t want = static_cast<size_t>(std::max<int64_t>(size_hint, 1024));
    if (c.builder == nullptr || c.capacity < want) {
      c.builder = std::make_unique<FlatBufferBuilder>(want);
      c.capacity = want;
    }
    c.builder->Clear();
    c.builder->ForceDefaults(false);
  }
  ~ReusedBuilder() {
    Cache& c = cache();
    c.capacity = std::max(c.capacity, static_cast<size_t>(c.builder->GetSize()));
    if (c.capacity > kBuilderKeepBytesMax) {
      c.builder.reset();
      c.capacity = 0;
    }
  }
  ReusedBuilder(const ReusedBuilder&) = delete;
  ReusedBuilder& operator=(const ReusedBuilder&) = delete;

  FlatBufferBuilder& get() { return *cache().builder; }

  // Copies the finished buffer out.
  std::string Bytes() {
    FlatBufferBuilder& b = get();
    return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  }

 private:
  struct Cache {
    std::unique_ptr<FlatBufferBuilder> builder;
    size_t capacity = 0;  // at least what the builder has reserved
  };
  static Cache& cache() {
    thread_local Cache c;
    return c;
  }
};

// --- encoding ----------------------------------------------------------------

sfb::Version ToFb(const clock::Version& v) { return sfb::Version(v.hlc_ms, v.counter, v.replica); }

clock::Version FromFb(const sfb::Version* v) {
  if (v == nullptr) return clock::Version{};
  return clock::Version{v->hlc_ms(), v->counter(), v->replica()};
}

Offset<flatbuffers::Vector<uint8_t>> Bytes(FlatBufferBuilder& b, const std::string& s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

sfb::KeyType ToFb(item::Type t) {
  switch (t) {
    case item::Type::kN:
      return sfb::KeyType::N;
    case item::Type::kB:
      return sfb::KeyType::B;
    default:
      return sfb::KeyType::S;
  }
}

Offset<sfb::KeyAttribute> EncodeKeyAttribute(FlatBufferBuilder& b, const item::KeyAttribute& a) {
  auto name = b.CreateString(a.name);
  return sfb::CreateKeyAttribute(b, name, ToFb(a.type));
}

Offset<sfb::TableDef> EncodeTable(FlatBufferBuilder& b, const SyncTable& t) {
  auto name = b.CreateString(t.name);
  auto partition = EncodeKeyAttribute(b, t.key_schema.partition);
  Offset<sfb::KeyAttribute> sort;
  if (t.key_schema.sort.has_value()) sort = EncodeKeyAttribute(b, *t.key_schema.sort);
  return sfb::CreateTableDef(b, name, partition, sort);
}

Offset<sfb::Change> EncodeChange(FlatBufferBuilder& b, const SyncChange& c) {
  // Vectors first: no table may be open while they are built.
  auto partition_key = Bytes(b, c.partition_key);
  Offset<flatbuffers::Vector<uint8_t>> sort_key;
  if (!c.sort_key.empty()) sort_key = Bytes(b, c.sort_key);
  Offset<flatbuffers::Vector<uint8_t>> image;
  if (c.new_image.has_value()) image = Bytes(b, *c.new_image);
  const sfb::Version version = ToFb(c.version);
  const sfb::Version prev_version = ToFb(c.prev_version);
  // Largest fields first, as the generated CreateChange orders them, so that
  // the table packs without padding between fields.
  sfb::ChangeBuilder cb(b);
  cb.add_origin(c.origin);
  cb.add_txn_id(c.txn_id);
  cb.add_seq(c.seq);
  cb.add_version(&version);
  if (!c.prev_version.is_zero()) cb.add_prev_version(&prev_version);
  if (!image.IsNull()) cb.add_new_image(image);
  if (!sort_key.IsNull()) cb.add_sort_key(sort_key);
  cb.add_partition_key(partition_key);
  cb.add_table(c.table);
  cb.add_ttl_delete(c.ttl_delete);
  cb.add_op(static_cast<sfb::Op>(c.op));
  return cb.Finish();
}

void FinishMessage(FlatBufferBuilder& b, sfb::Body type, Offset<void> body) {
  auto root = sfb::CreateMessage(b, kSyncProtocolVersion, type, body);
  sfb::FinishMessageBuffer(b, root);
}

int64_t VectorBytes(size_t n) {
  // length prefix, the bytes, padding to 4
  return 4 + static_cast<int64_t>((n + 3) & ~size_t{3});
}

int64_t StringsEstimate(const std::vector<std::string>& names) {
  int64_t n = VectorBytes(names.size() * 4);
  for (const std::string& s : names) n += VectorBytes(s.size() + 1);
  return n;
}

// --- decoding ----------------------------------------------------------------

const char* BodyName(sfb::Body t) {
  switch (t) {
    case sfb::Body::Batch:
      return "Batch";
    case sfb::Body::PullRequest:
      return "PullRequest";
    case sfb::Body::PushAck:
      return "PushAck";
    case sfb::Body::SnapshotRequest:
      return "SnapshotRequest";
    case sfb::Body::SnapshotPage:
      return "SnapshotPage";
    default:
      return "NONE";
  }
}

Status Corrupt(const std::string& what) { return Status::Corruption("sync message: " + what); }

// The caller's bytes, or an aligned copy of them; lives while decoding runs.
class AlignedBytes {
 public:
  explicit AlignedBytes(std::string_view bytes) : size_(bytes.size()) {
    data_ = reinterpret_cast<const uint8_t*>(bytes.data());
    if (reinterpret_cast<uintptr_t>(data_) % kBufferAlign != 0) {
      copy_ = std::make_unique<uint64_t[]>(bytes.size() / sizeof(uint64_t) + 1);
      std::memcpy(copy_.get(), bytes.data(), bytes.size());
      data_ = reinterpret_cast<const uint8_t*>(copy_.get());
    }
  }
  const uint8_t* data() const { return data_; }
  size_t size() const { return size_; }

 private:
  const uint8_t* data_;
  size_t size_;
  std::unique_ptr<uint64_t[]> copy_;
};

flatbuffers::Verifier::Options VerifierOptions(size_t bytes) {
  flatbuffers::Verifier::Options opts;
  opts.max_depth = kVerifyDepthMax;
  opts.max_tables = VerifyTablesMax(bytes);
  opts.check_alignment = true;
  opts.check_nested_flatbuffers = true;
  return opts;
}

// Checks the identifier and the protocol version, verifies the whole buffer
// and returns the body of the expected kind.
Result<const void*> OpenMessage(const AlignedBytes& buf, sfb::Body expected) {
  if (buf.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return Corrupt("larger than a FlatBuffer can be");
  if (buf.size() < 8 || !sfb::MessageBufferHasIdentifier(buf.data())) {
    return Corrupt("not a sync message (no ETS1 identifier), " + std::to_string(buf.size()) + " bytes");
  }
  // The version first, verifying only the root table and that field, so that
  // a message from another version of the protocol is named as such even if
  // the rest of it is laid out differently.
  {
    flatbuffers::Verifier shallow(buf.data(), buf.size(), VerifierOptions(buf.size()));
    const flatbuffers::uoffset_t root = shallow.VerifyOffset(0);
    if (root == 0) return Corrupt("root offset out of bounds");
    const auto* table = reinterpret_cast<const flatbuffers::Table*>(buf.data() + root);
    if (!table->VerifyTableStart(shallow) ||
        !table->VerifyField<uint16_t>(shallow, sfb::Message::VT_PROTOCOL, sizeof(uint16_t))) {
      return Corrupt("root table fails FlatBuffers verification");
    }
    const uint16_t protocol = sfb::GetMessage(buf.data())->protocol();
    if (protocol != kSyncProtocolVersion) {
      return Status::InvalidArgument("sync message: protocol version " + std::to_string(protocol) +
                                     ", this build speaks only version " + std::to_string(kSyncProtocolVersion));
    }
  }
  flatbuffers::Verifier verifier(buf.data(), buf.size(), VerifierOptions(buf.size()));
  if (!sfb::VerifyMessageBuffer(verifier)) return Corrupt("fails FlatBuffers verification");
  const sfb::Message* message = sfb::GetMessage(buf.data());
  const sfb::Body type = message->body_type();
  if (type != expected) {
    if (type == sfb::Body::Batch || type == sfb::Body::PullRequest || type == sfb::Body::PushAck ||
        type == sfb::Body::SnapshotRequest || type == sfb::Body::SnapshotPage) {
      return Status::InvalidArgument(std::string("sync message: a ") + BodyName(type) + " where a " +
                                     BodyName(expected) + " was expected");
    }
    if (type == sfb::Body::NONE) return Corrupt("no body");
    return Corrupt("unknown body type " + std::to_string(static_cast<int>(type)));
  }
  if (message->body() == nullptr) return Corrupt(std::string(BodyName(type)) + " body missing");
  return message->body();
}

std::string ToString(const flatbuffers::Vector<uint8_t>* v) {
  if (v == nullptr) return std::string();
  return std::string(reinterpret_cast<const char*>(v->data()), v->size());
}

Result<item::KeyAttribute> DecodeKeyAttribute(const sfb::KeyAttribute* a, const std::string& where) {
  item::KeyAttribute out;
  out.name = a->name()->str();  // (required): checked by the Verifier
  if (out.name.empty()) return Corrupt(where + ": empty key attribute name");
  switch (a->type()) {
    case sfb::KeyType::S:
      out.type = item::Type::kS;
      break;
    case sfb::KeyType::N:
      out.type = item::Type::kN;
      break;
    case sfb::KeyType::B:
      out.type = item::Type::kB;
      break;
    default:
      return Corrupt(where + ": unknown key type " + std::to_string(static_cast<int>(a->type())));
  }
  return out;
}

// Table names: not empty, none twice.
Status CheckTables(const std::vector<SyncTable>& tables) {
  std::vector<std::string_view> names;
  names.reserve(tables.size());
  for (size_t i = 0; i < tables.size(); ++i) {
    if (tables[i].name.empty()) return Corrupt("tables[" + std::to_string(i) + "]: empty table name");
    names.push_back(tables[i].name);
  }
  std::sort(names.begin(), names.end());
  auto dup = std::adjacent_find(names.begin(), names.end());
  if (dup != names.end()) return Corrupt("table \"" + std::string(*dup) + "\" defined twice");
  return Status::Ok();
}

// What every change must be, in a batch or a snapshot page: a table index
// in range, a known op, the keys its table's schema asks for, a version,
// an image exactly when it is not a Remove, ttl_delete only on a Remove.
Status CheckChange(const SyncChange& c, const std::vector<SyncTable>& tables, const std::string& where) {
  if (c.table >= tables.size()) {
    return Corrupt(where + ": table index " + std::to_string(c.table) + " out of range (" +
                   std::to_string(tables.size()) + " tables)");
  }
  const SyncTable& table = tables[c.table];
  if (c.op < 1 || c.op > 3) return Corrupt(where + ": unknown op " + std::to_string(c.op));
  if (c.partition_key.empty()) return Corrupt(where + ": missing or empty partition key");
  if (table.key_schema.sort.has_value() && c.sort_key.empty()) {
    return Corrupt(where + ": missing sort key of table \"" + table.name + "\"");
  }
  if (!table.key_schema.sort.has_value() && !c.sort_key.empty()) {
    return Corrupt(where + ": a sort key, but table \"" + table.name + "\" has none");
  }
  if (c.version.is_zero()) return Corrupt(where + ": zero version");
  const bool remove = c.op == 3;
  if (remove && c.new_image.has_value()) return Corrupt(where + ": an image on a Remove");
  if (!remove && !c.new_image.has_value()) {
    return Corrupt(where + ": no image on " + (c.op == 1 ? "an Insert" : "a Modify"));
  }
  if (!remove && c.ttl_delete) return Corrupt(where + ": a TTL delete that is not a Remove");
  return Status::Ok();
}

// The checks of sync_codec.h on a decoded batch.
Status CheckBatch(const SyncBatch& batch) {
  if (batch.through_seq < batch.after_seq) {
    return Corrupt("batch through_seq " + std::to_string(batch.through_seq) + " is before its after_seq " +
                   std::to_string(batch.after_seq));
  }
  ET_RETURN_IF_ERROR(CheckTables(batch.tables));

  int64_t prev_seq = batch.after_seq;
  for (size_t i = 0; i < batch.changes.size(); ++i) {
    const SyncChange& c = batch.changes[i];
    const auto where = [&] { return "changes[" + std::to_string(i) + "] (seq " + std::to_string(c.seq) + ")"; };
    if (c.seq <= batch.after_seq || c.seq > batch.through_seq) {
      return Corrupt(where() + ": outside the batch's range (" + std::to_string(batch.after_seq) + ", " +
                     std::to_string(batch.through_seq) + "]");
    }
    if (c.seq <= prev_seq) {
      return Corrupt(where() + ": not after the previous change's seq " + std::to_string(prev_seq));
    }
    prev_seq = c.seq;
    ET_RETURN_IF_ERROR(CheckChange(c, batch.tables, where()));
  }
  return Status::Ok();
}

// The checks of sync_codec.h on a decoded snapshot page.
Status CheckSnapshotPage(const SyncSnapshotPage& page) {
  if (page.snapshot_seq < 0) return Corrupt("snapshot page: negative snapshot_seq");
  if (page.more && page.next_table.empty()) return Corrupt("snapshot page: more rows but no next_table");
  if (page.next_table.empty() && (!page.next_partition_key.empty() || !page.next_sort_key.empty())) {
    return Corrupt("snapshot page: a next key without a next_table");
  }
  ET_RETURN_IF_ERROR(CheckTables(page.tables));
  for (size_t i = 0; i < page.changes.size(); ++i) {
    const SyncChange& c = page.changes[i];
    const std::string where = "rows[" + std::to_string(i) + "]";
    if (c.seq < 0) return Corrupt(where + ": negative seq");
    if (c.txn_id != 0) return Corrupt(where + ": a snapshot row with a txn_id");
    ET_RETURN_IF_ERROR(CheckChange(c, page.tables, where));
    if (i > 0) {
      const SyncChange& p = page.changes[i - 1];
      if (std::tie(p.table, p.partition_key, p.sort_key) >= std::tie(c.table, c.partition_key, c.sort_key)) {
        return Corrupt(where + ": not after the previous row in (table, key) order");
      }
    }
  }
  return Status::Ok();
}

Status CheckNames(const std::vector<std::string>& names, const char* field) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) return Corrupt(std::string(field) + "[" + std::to_string(i) + "]: empty table name");
  }
  return Status::Ok();
}

std::vector<std::string> ToStrings(const flatbuffers::Vector<Offset<flatbuffers::String>>* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  out.reserve(v->size());
  for (const flatbuffers::String* s : *v) out.push_back(s->str());
  return out;
}

}  // namespace

int64_t SyncChangeSizeEstimate(const SyncChange& change) {
  // Mirrors EncodeChange: the change's offset in Batch.changes, the table's
  // vtable offset, the fields written (defaults are not), the alignment of
  // the 8-byte fields (up to 4 bytes, counted as 4 so that the estimate is
  // not below the encoding) and of the 1-byte ones, then the vectors.
  // Vtables are shared by every change of the same shape and left out.
  int64_t n = 4 + 4 + 24 /*version*/ + 4 /*partition_key offset*/ + 4 /*8-byte alignment*/;
  if (change.origin != 0) n += 8;
  if (change.txn_id != 0) n += 8;
  if (change.seq != 0) n += 8;
  if (!change.prev_version.is_zero()) n += 24;
  if (change.table != 0) n += 4;
  const int64_t small = (change.ttl_delete ? 1 : 0) + (change.op != 1 ? 1 : 0);
  n += small + (4 - small % 4) % 4;
  n += VectorBytes(change.partition_key.size());
  if (!change.sort_key.empty()) n += 4 + VectorBytes(change.sort_key.size());
  if (change.new_image.has_value()) n += 4 + VectorBytes(change.new_image->size());
  return n;
}

namespace {

// The size hint and the vectors that a batch and a snapshot page share:
// each table once, and the changes that refer to it by index.
int64_t TablesAndChangesEstimate(const std::vector<SyncTable>& tables, const std::vector<SyncChange>& changes) {
  int64_t n = 0;
  for (const SyncTable& t : tables) n += 96 + VectorBytes(t.name.size() + 1);
  for (const SyncChange& c : changes) n += SyncChangeSizeEstimate(c);
  return n;
}

struct TablesAndChanges {
  Offset<flatbuffers::Vector<Offset<sfb::TableDef>>> tables;
  Offset<flatbuffers::Vector<Offset<sfb::Change>>> changes;
};

TablesAndChanges EncodeTablesAndChanges(FlatBufferBuilder& b, const std::vector<SyncTable>& tables,
                                        const std::vector<SyncChange>& changes) {
  std::vector<Offset<sfb::TableDef>> table_offs;
  table_offs.reserve(tables.size());
  for (const SyncTable& t : tables) table_offs.push_back(EncodeTable(b, t));
  TablesAndChanges out;
  out.tables = b.CreateVector(table_offs);
  std::vector<Offset<sfb::Change>> change_offs;
  change_offs.reserve(changes.size());
  for (const SyncChange& c : changes) change_offs.push_back(EncodeChange(b, c));
  out.changes = b.CreateVector(change_offs);
  return out;
}

}  // namespace

std::string EncodeSyncBatch(const SyncBatch& batch) {
  ReusedBuilder reused(kMessageOverheadBytes + TablesAndChangesEstimate(batch.tables, batch.changes));
  FlatBufferBuilder& b = reused.get();
  const TablesAndChanges tc = EncodeTablesAndChanges(b, batch.tables, batch.changes);

  const sfb::Version sender_clock = ToFb(batch.sender_clock);
  sfb::BatchBuilder bb(b);
  bb.add_sender(batch.sender);
  bb.add_after_seq(batch.after_seq);
  bb.add_through_seq(batch.through_seq);
  bb.add_sender_last_seq(batch.sender_last_seq);
  bb.add_oldest_unsent_ms(batch.oldest_unsent_ms);
  bb.add_sender_clock(&sender_clock);
  bb.add_tables(tc.tables);
  bb.add_changes(tc.changes);
  bb.add_more(batch.more);
  FinishMessage(b, sfb::Body::Batch, bb.Finish().Union());
  return reused.Bytes();
}

namespace {

Result<std::vector<SyncTable>> DecodeTables(const flatbuffers::Vector<Offset<sfb::TableDef>>* in) {
  std::vector<SyncTable> out;
  if (in == nullptr) return out;
  out.reserve(in->size());
  for (flatbuffers::uoffset_t i = 0; i < in->size(); ++i) {
    const sfb::TableDef* t = in->Get(i);
    const std::string where = "tables[" + std::to_string(i) + "]";
    SyncTable table;
    table.name = t->name()->str();  // name and partition are (required)
    ET_ASSIGN_OR_RETURN(table.key_schema.partition, DecodeKeyAttribute(t->partition(), where));
    if (t->sort() != nullptr) {
      ET_ASSIGN_OR_RETURN(table.key_schema.sort, DecodeKeyAttribute(t->sort(), where));
    }
    out.push_back(std::move(table));
  }
  return out;
}

std::vector<SyncChange> DecodeChangeList(const flatbuffers::Vector<Offset<sfb::Change>>* in) {
  std::vector<SyncChange> out;
  if (in == nullptr) return out;
  out.reserve(in->size());
  for (const sfb::Change* c : *in) {
    SyncChange change;
    change.seq = c->seq();
    change.txn_id = c->txn_id();
    change.table = c->table();
    change.partition_key = ToString(c->partition_key());
    change.sort_key = ToString(c->sort_key());
    change.op = static_cast<uint8_t>(c->op());
    change.version = FromFb(c->version());
    change.prev_version = FromFb(c->prev_version());
    change.origin = c->origin();
    change.ttl_delete = c->ttl_delete();
    if (c->new_image() != nullptr) change.new_image = ToString(c->new_image());
    out.push_back(std::move(change));
  }
  return out;
}

}  // namespace

Result<SyncBatch> DecodeSyncBatch(std::string_view bytes) {
  const AlignedBytes buf(bytes);
  ET_ASSIGN_OR_RETURN(const void* body, OpenMessage(buf, sfb::Body::Batch));
  const auto* in = static_cast<const sfb::Batch*>(body);

  SyncBatch batch;
  batch.sender = in->sender();
  batch.sender_clock = FromFb(in->sender_clock());
  batch.after_seq = in->after_seq();
  batch.through_seq = in->through_seq();
  batch.sender_last_seq = in->sender_last_seq();
  batch.more = in->more();
  batch.oldest_unsent_ms = in->oldest_unsent_ms();
  ET_ASSIGN_OR_RETURN(batch.tables, DecodeTables(in->tables()));
  batch.changes = DecodeChangeList(in->changes());
  ET_RETURN_IF_ERROR(CheckBatch(batch));
  return batch;
}

std::string EncodeSyncPullRequest(const SyncPullRequest& request) {
  ReusedBuilder reused(kMessageOverheadBytes + StringsEstimate(request.include_tables) +
                       StringsEstimate(request.exclude_tables));
  FlatBufferBuilder& b = reused.get();
  auto include = b.CreateVectorOfStrings(request.include_tables);
  auto exclude = b.CreateVectorOfStrings(request.exclude_tables);
  const sfb::Version sender_clock = ToFb(request.sender_clock);
  auto body =
      sfb::CreatePullRequest(b, request.replica, request.after_seq, request.bytes_max, include, exclude, &sender_clock);
  FinishMessage(b, sfb::Body::PullRequest, body.Union());
  return reused.Bytes();
}

Result<SyncPullRequest> DecodeSyncPullRequest(std::string_view bytes) {
  const AlignedBytes buf(bytes);
  ET_ASSIGN_OR_RETURN(const void* body, OpenMessage(buf, sfb::Body::PullRequest));
  const auto* in = static_cast<const sfb::PullRequest*>(body);
  SyncPullRequest request;
  request.replica = in->replica();
  request.after_seq = in->after_seq();
  request.bytes_max = in->bytes_max();
  request.include_tables = ToStrings(in->include_tables());
  request.exclude_tables = ToStrings(in->exclude_tables());
  request.sender_clock = FromFb(in->sender_clock());
  ET_RETURN_IF_ERROR(CheckNames(request.include_tables, "include_tables"));
  ET_RETURN_IF_ERROR(CheckNames(request.exclude_tables, "exclude_tables"));
  return request;
}

std::string EncodeSyncPushAck(const SyncPushAck& ack) {
  ReusedBuilder reused(kMessageOverheadBytes);
  FlatBufferBuilder& b = reused.get();
  const sfb::Version receiver_clock = ToFb(ack.receiver_clock);
  auto body =
      sfb::CreatePushAck(b, ack.receiver, ack.through_seq, ack.applied, ack.skipped, ack.conflicts, &receiver_clock);
  FinishMessage(b, sfb::Body::PushAck, body.Union());
  return reused.Bytes();
}

Result<SyncPushAck> DecodeSyncPushAck(std::string_view bytes) {
  const AlignedBytes buf(bytes);
  ET_ASSIGN_OR_RETURN(const void* body, OpenMessage(buf, sfb::Body::PushAck));
  const auto* in = static_cast<const sfb::PushAck*>(body);
  SyncPushAck ack;
  ack.receiver = in->receiver();
  ack.through_seq = in->through_seq();
  ack.applied = in->applied();
  ack.skipped = in->skipped();
  ack.conflicts = in->conflicts();
  ack.receiver_clock = FromFb(in->receiver_clock());
  return ack;
}

std::string EncodeSyncSnapshotRequest(const SyncSnapshotRequest& request) {
  ReusedBuilder reused(kMessageOverheadBytes + StringsEstimate(request.include_tables) +
                       StringsEstimate(request.exclude_tables) + VectorBytes(request.after_table.size() + 1) +
                       VectorBytes(request.after_partition_key.size()) + VectorBytes(request.after_sort_key.size()));
  FlatBufferBuilder& b = reused.get();
  Offset<flatbuffers::String> after_table;
  if (!request.after_table.empty()) after_table = b.CreateString(request.after_table);
  Offset<flatbuffers::Vector<uint8_t>> after_pk, after_sk;
  if (!request.after_partition_key.empty()) after_pk = Bytes(b, request.after_partition_key);
  if (!request.after_sort_key.empty()) after_sk = Bytes(b, request.after_sort_key);
  auto include = b.CreateVectorOfStrings(request.include_tables);
  auto exclude = b.CreateVectorOfStrings(request.exclude_tables);
  const sfb::Version sender_clock = ToFb(request.sender_clock);
  auto body = sfb::CreateSnapshotRequest(b, request.replica, request.snapshot_seq, after_table, after_pk, after_sk,
                                         request.bytes_max, include, exclude, &sender_clock);
  FinishMessage(b, sfb::Body::SnapshotRequest, body.Union());
  return reused.Bytes();
}

Result<SyncSnapshotRequest> DecodeSyncSnapshotRequest(std::string_view bytes) {
  const AlignedBytes buf(bytes);
  ET_ASSIGN_OR_RETURN(const void* body, OpenMessage(buf, sfb::Body::SnapshotRequest));
  const auto* in = static_cast<const sfb::SnapshotRequest*>(body);
  SyncSnapshotRequest request;
  request.replica = in->replica();
  request.snapshot_seq = in->snapshot_seq();
  if (in->after_table() != nullptr) request.after_table = in->after_table()->str();
  request.after_partition_key = ToString(in->after_partition_key());
  request.after_sort_key = ToString(in->after_sort_key());
  request.bytes_max = in->bytes_max();
  request.include_tables = ToStrings(in->include_tables());
  request.exclude_tables = ToStrings(in->exclude_tables());
  request.sender_clock = FromFb(in->sender_clock());
  if (request.snapshot_seq < 0) return Corrupt("snapshot request: negative snapshot_seq");
  if (request.after_table.empty() && (!request.after_partition_key.empty() || !request.after_sort_key.empty())) {
    return Corrupt("snapshot request: an after key without an after_table");
  }
  ET_RETURN_IF_ERROR(CheckNames(request.include_tables, "include_tables"));
  ET_RETURN_IF_ERROR(CheckNames(request.exclude_tables, "exclude_tables"));
  return request;
}

std::string EncodeSyncSnapshotPage(const SyncSnapshotPage& page) {
  ReusedBuilder reused(kMessageOverheadBytes + VectorBytes(page.next_table.size() + 1) +
                       VectorBytes(page.next_partition_key.size()) + VectorBytes(page.next_sort_key.size()) +
                       TablesAndChangesEstimate(page.tables, page.changes));
  FlatBufferBuilder& b = reused.get();
  const TablesAndChanges tc = EncodeTablesAndChanges(b, page.tables, page.changes);
  Offset<flatbuffers::String> next_table;
  if (!page.next_table.empty()) next_table = b.CreateString(page.next_table);
  Offset<flatbuffers::Vector<uint8_t>> next_pk, next_sk;
  if (!page.next_partition_key.empty()) next_pk = Bytes(b, page.next_partition_key);
  if (!page.next_sort_key.empty()) next_sk = Bytes(b, page.next_sort_key);
  const sfb::Version sender_clock = ToFb(page.sender_clock);
  sfb::SnapshotPageBuilder pb(b);
  pb.add_sender(page.sender);
  pb.add_snapshot_seq(page.snapshot_seq);
  pb.add_sender_clock(&sender_clock);
  if (!next_table.IsNull()) pb.add_next_table(next_table);
  if (!next_pk.IsNull()) pb.add_next_partition_key(next_pk);
  if (!next_sk.IsNull()) pb.add_next_sort_key(next_sk);
  pb.add_tables(tc.tables);
  pb.add_changes(tc.changes);
  pb.add_more(page.more);
  FinishMessage(b, sfb::Body::SnapshotPage, pb.Finish().Union());
  return reused.Bytes();
}

Result<SyncSnapshotPage> DecodeSyncSnapshotPage(std::string_view bytes) {
  const AlignedBytes buf(bytes);
  ET_ASSIGN_OR_RETURN(const void* body, OpenMessage(buf, sfb::Body::SnapshotPage));
  const auto* in = static_cast<const sfb::SnapshotPage*>(body);
  SyncSnapshotPage page;
  page.sender = in->sender();
  page.sender_clock = FromFb(in->sender_clock());
  page.snapshot_seq = in->snapshot_seq();
  page.more = in->more();
  if (in->next_table() != nullptr) page.next_table = in->next_table()->str();
  page.next_partition_key = ToString(in->next_partition_key());
  page.next_sort_key = ToString(in->next_sort_key());
  ET_ASSIGN_OR_RETURN(page.tables, DecodeTables(in->tables()));
  page.changes = DecodeChangeList(in->changes());
  ET_RETURN_IF_ERROR(CheckSnapshotPage(page));
  return page;
}

}  // namespace edgetable::wire
