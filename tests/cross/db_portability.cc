// db_portability: a database written on one architecture must open and read
// identically on every other (x86-64, arm64, armhf). Driven by
// platforms/cross/db-portability.sh; `selfcheck` runs under ctest on each
// architecture (under qemu when cross-built).
//
//   db_portability write DIR [--keep-wal]   builds the fixture database in DIR
//   db_portability verify DIR               checks DIR against a fresh fixture
//   db_portability selfcheck                write + verify in a temp directory
// Each prints "digest HEX" of the database's content (items, versions,
// change log) and exits 0, or 1 on a mismatch, 2 on usage or open errors.
//
// The fixture: a wall clock in 2100 (past 32-bit time_t), a replica id with
// the top bit set, number keys of every magnitude, 38-digit numbers, sets,
// deep nesting, a near-400 KB item, TTLs after 2038, overwrites, deletes
// (tombstones), a transaction and remote changes with versions past 2^32 ms.

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "edge/base/clock.h"
#include "edge/item/json.h"
#include "edge/storage/storage.h"
#include "edge/wire/item_codec.h"

namespace {

using namespace edgetable;
using item::Item;
using item::Number;
using item::Value;

constexpr int64_t k2100Ms = 4'102'444'800'000;
constexpr uint64_t kReplica = 0x8000'0000'0000'00A5ULL;

Value N(const char* text) { return Value::N(*Number::Parse(text)); }
Value S(std::string s) { return Value::S(std::move(s)); }

struct Digest {
  uint64_t h = 1469598103934665603ULL;
  void Add(std::string_view s) {
    for (unsigned char c : s) {
      h ^= c;
      h *= 1099511628211ULL;
    }
    h ^= 0xff;
    h *= 1099511628211ULL;
  }
  void Add(int64_t v) { Add(std::to_string(v)); }
  std::string Hex() const {
    char buf[17];
    std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(h));
    return buf;
  }
};

int Fail(const std::string& what) {
  std::fprintf(stderr, "db_portability: %s\n", what.c_str());
  return 1;
}

Result<std::unique_ptr<storage::Storage>> Open(const std::string& dir, const Clock* clock) {
  storage::Options o;
  o.path = dir + "/edgetable.db";
  o.clock = clock;
  o.replica_id = kReplica;
  return storage::Storage::Open(o);
}

Status Check(const Status& s, const char* what) { return s.ok() ? s : s.WithPrefix(what); }

template <typename T>
Status Check(const Result<T>& r, const char* what) {
  return r.ok() ? Status::Ok() : r.status().WithPrefix(what);
}

Item Nested(int depth) {
  Value v = S("leaf");
  for (int i = 0; i < depth; ++i) {
    item::Map m;
    m["level"] = std::move(v);
    v = Value::M(std::move(m));
  }
  return Item{{"k", Value::B(std::string("\x00\xff nested", 9))}, {"tree", v}};
}

Status WriteFixture(storage::Storage& db) {
  item::KeySchema telemetry{{"device", item::Type::kS}, item::KeyAttribute{"ts", item::Type::kN}};
  storage::TableSettings settings;
  settings.ttl_attribute = "expires";
  settings.stream_view_type = storage::StreamViewType::kNewAndOldImages;
  ET_RETURN_IF_ERROR(Check(db.CreateTable("telemetry", telemetry, settings), "create telemetry"));
  ET_RETURN_IF_ERROR(Check(db.CreateTable("blobs", item::KeySchema{{"k", item::Type::kB}, {}}), "create blobs"));
  item::KeySchema grid{{"x", item::Type::kN}, item::KeyAttribute{"y", item::Type::kN}};
  ET_RETURN_IF_ERROR(Check(db.CreateTable("grid", grid), "create grid"));

  const char* numbers[] = {"12345678901234567890123456789012345678", "-0.000123", "1E-130",
                           "9.9999999999999999999999999999999999999E+125", "-9.9999999999999999999999999999999999999E+125",
                           "0", "21.5", "-273.15"};
  for (int i = 0; i < 200; ++i) {
    Item it;
    it["device"] = S("dev-" + std::to_string(i % 10));
    it["ts"] = N(std::to_string(k2100Ms + i * 1000).c_str());
    it["reading"] = N(numbers[i % 8]);
    it["expires"] = N(std::to_string(k2100Ms / 1000 + 3600 + i).c_str());  // after 2038
    it["tags"] = Value::SS({"a", "b", "site-" + std::to_string(i % 3)});
    it["ns"] = Value::NS({*Number::Parse("1"), *Number::Parse("-2.5"), *Number::Parse(numbers[i % 8])});
    it["ok"] = Value::Bool(i % 2 == 0);
    it["none"] = Value::Null();
    it["list"] = Value::L({S("x"), N("1"), Value::L({Value::Bool(true)})});
    if (i == 7) it["reading"] = Value::N(*Number::Parse("-1E-130"));
    ET_RETURN_IF_ERROR(Check(db.Put("telemetry", std::move(it)), "put telemetry"));
  }
  for (int x = -50; x <= 50; x += 5) {
    for (const char* y : {"-1.5", "0", "2.25", "1E+100"}) {
      Item it{{"x", N(std::to_string(x).c_str())}, {"y", N(y)}, {"v", S(std::to_string(x) + "/" + y)}};
      ET_RETURN_IF_ERROR(Check(db.Put("grid", std::move(it)), "put grid"));
    }
  }
  ET_RETURN_IF_ERROR(Check(db.Put("blobs", Nested(31)), "put nested"));
  std::string big(390 * 1024, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) & 0xff);
  ET_RETURN_IF_ERROR(Check(db.Put("blobs", Item{{"k", Value::B("big")}, {"payload", Value::B(big)}}), "put big"));

  // Overwrites and deletes (tombstones).
  for (int i = 0; i < 20; ++i) {
    Item it{{"device", S("dev-" + std::to_string(i % 10))},
            {"ts", N(std::to_string(k2100Ms + i * 1000).c_str())},
            {"reading", N("42")}};
    ET_RETURN_IF_ERROR(Check(db.Put("telemetry", std::move(it)), "overwrite"));
  }
  for (int i = 20; i < 30; ++i) {
    item::Map key{{"device", S("dev-" + std::to_string(i % 10))},
                  {"ts", N(std::to_string(k2100Ms + i * 1000).c_str())}};
    ET_RETURN_IF_ERROR(Check(db.Delete("telemetry", key), "delete"));
  }
  // A transaction over two tables.
  std::vector<storage::Write> txn;
  for (int i = 0; i < 3; ++i) {
    storage::Write w;
    w.table = i == 0 ? "blobs" : "grid";
    Item it = i == 0 ? Item{{"k", Value::B("txn")}, {"n", N("1")}}
                     : Item{{"x", N("1000")}, {"y", N(std::to_string(i).c_str())}, {"txn", Value::Bool(true)}};
    w.key = i == 0 ? item::Map{{"k", Value::B("txn")}} : item::Map{{"x", N("1000")}, {"y", N(std::to_string(i).c_str())}};
    w.fn = [it](const Item*) -> Result<storage::Decision> { return storage::Decision::Put(it); };
    txn.push_back(std::move(w));
  }
  storage::TransactOutcome t = db.Transact(std::move(txn));
  ET_RETURN_IF_ERROR(Check(t.status, "transact"));
  // Remote changes stamped far ahead (ms past 2^32 * 1000) from another replica.
  std::vector<storage::RemoteChange> remote;
  for (int i = 0; i < 5; ++i) {
    storage::RemoteChange c;
    c.table = "grid";
    c.key = item::Map{{"x", N("-999")}, {"y", N(std::to_string(i).c_str())}};
    if (i != 4) c.new_item = Item{{"x", N("-999")}, {"y", N(std::to_string(i).c_str())}, {"remote", S("yes")}};
    c.version = clock::Version{k2100Ms + 5'000 + i, i, 7};
    c.origin_replica = 7;
    remote.push_back(std::move(c));
  }
  ET_RETURN_IF_ERROR(Check(db.ApplyRemote(std::move(remote)), "apply remote"));
  return Status::Ok();
}

// The content: every item with its version, table by table, then the log.
Result<std::string> Content(storage::Storage& db) {
  Digest d;
  char replica[17];
  std::snprintf(replica, sizeof(replica), "%016llx", static_cast<unsigned long long>(db.replica_id()));
  d.Add(replica);
  ET_ASSIGN_OR_RETURN(storage::TableList tables, db.ListTables(std::nullopt, 100));
  for (const std::string& name : tables.names) {
    ET_ASSIGN_OR_RETURN(storage::TableInfo info, db.DescribeTable(name));
    d.Add(name);
    d.Add(info.settings.ttl_attribute);
    d.Add(static_cast<int64_t>(info.settings.stream_view_type));
    d.Add(info.item_count);
    storage::ScanRequest s;
    s.table = name;
    for (;;) {
      ET_ASSIGN_OR_RETURN(storage::Page page, db.Scan(s));
      for (const Item& it : page.items) {
        d.Add(item::ItemToJson(it).dump());
        ET_ASSIGN_OR_RETURN(std::optional<storage::StoredItem> stored,
                            db.GetStored(name, item::KeyOf(it, info.key_schema)));
        if (!stored) return Status::Corruption("scanned item missing on get in " + name);
        d.Add(stored->version.hlc_ms);
        d.Add(stored->version.counter);
        d.Add(static_cast<int64_t>(stored->version.replica));
      }
      if (!page.last_evaluated_key) break;
      s.exclusive_start_key = page.last_evaluated_key;
    }
  }
  int64_t after = 0;
  int64_t expect_seq = 1;
  for (;;) {
    ET_ASSIGN_OR_RETURN(std::vector<storage::ChangeRecord> recs, db.ReadChanges(after, 500));
    if (recs.empty()) break;
    for (const storage::ChangeRecord& r : recs) {
      if (r.seq != expect_seq++) return Status::Corruption("change log is not dense at " + std::to_string(r.seq));
      d.Add(r.seq);
      d.Add(r.txn_id);
      d.Add(r.table);
      d.Add(r.partition_key);
      d.Add(r.sort_key);
      d.Add(static_cast<int64_t>(r.op));
      d.Add(r.old_image.value_or("-"));
      d.Add(r.new_image.value_or("-"));
      d.Add(r.version.hlc_ms);
      d.Add(r.version.counter);
      d.Add(static_cast<int64_t>(r.origin_replica));
      d.Add(r.ttl_delete ? 1 : 0);
      after = r.seq;
    }
  }
  return d.Hex();
}

int Write(const std::string& dir, bool keep_wal) {
  std::filesystem::create_directories(dir);
  FakeClock clock(k2100Ms);
  Result<std::unique_ptr<storage::Storage>> db = Open(dir, &clock);
  if (!db.ok()) {
    std::fprintf(stderr, "db_portability: %s\n", db.status().ToString().c_str());
    return 2;
  }
  if (Status s = WriteFixture(**db); !s.ok()) return Fail(s.ToString());
  Result<std::string> digest = Content(**db);
  if (!digest.ok()) return Fail(digest.status().ToString());
  std::printf("write digest %s\n", digest->c_str());
  std::fflush(stdout);
  // Leave the last commits in the -wal file, as a copy of a running gateway's
  // directory would have them.
  if (keep_wal) std::_Exit(0);
  return 0;
}

int Verify(const std::string& dir) {
  if (!std::filesystem::exists(dir + "/edgetable.db")) {
    std::fprintf(stderr, "db_portability: no database in %s\n", dir.c_str());
    return 2;
  }
  // The expected content, built here on this architecture.
  std::string fresh = dir + ".expected";
  std::filesystem::remove_all(fresh);
  std::filesystem::create_directories(fresh);
  std::string expected;
  {
    FakeClock clock(k2100Ms);
    Result<std::unique_ptr<storage::Storage>> db = Open(fresh, &clock);
    if (!db.ok()) return Fail(db.status().ToString());
    if (Status s = WriteFixture(**db); !s.ok()) return Fail(s.ToString());
    Result<std::string> digest = Content(**db);
    if (!digest.ok()) return Fail(digest.status().ToString());
    expected = *digest;
  }
  std::filesystem::remove_all(fresh);
  // The carried database, opened with the wall clock set back a year: the
  // clock's floor must still keep new versions above every stored one.
  FakeClock earlier(k2100Ms - 365LL * 24 * 3600 * 1000);
  Result<std::unique_ptr<storage::Storage>> db = Open(dir, &earlier);
  if (!db.ok()) {
    std::fprintf(stderr, "db_portability: %s\n", db.status().ToString().c_str());
    return 2;
  }
  storage::Storage& s = **db;
  if (s.replica_id() != kReplica) return Fail("replica id changed");
  Result<std::string> digest = Content(s);
  if (!digest.ok()) return Fail(digest.status().ToString());
  std::printf("verify digest %s\n", digest->c_str());
  if (*digest != expected) return Fail("content differs from this architecture's fixture (" + expected + ")");
  // Numbers order numerically in keys.
  storage::QueryRequest q;
  q.table = "grid";
  q.partition = N("-50");
  Result<storage::Page> page = s.Query(q);
  if (!page.ok() || page->items.size() != 4 || page->items[0].at("y") != N("-1.5") ||
      page->items[3].at("y") != N("1E+100")) {
    return Fail("numeric sort keys out of order");
  }
  // Tombstones hold: an older remote write cannot bring back a deleted item.
  storage::RemoteChange old;
  old.table = "grid";
  old.key = item::Map{{"x", N("-999")}, {"y", N("4")}};
  old.new_item = Item{{"x", N("-999")}, {"y", N("4")}, {"stale", Value::Bool(true)}};
  old.version = clock::Version{k2100Ms, 0, 3};
  Result<std::vector<bool>> applied = s.ApplyRemote({old});
  if (!applied.ok() || applied->at(0)) return Fail("a stale remote write resurrected a tombstone");
  // A new write gets a version above everything stored.
  clock::Version highest = s.LastVersion();
  Result<storage::WriteOutcome> w = s.Put("grid", Item{{"x", N("5")}, {"y", N("5")}});
  if (!w.ok() || !(highest < w->version)) return Fail("a new version is not above the stored ones");
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc >= 3 && std::strcmp(argv[1], "write") == 0) {
    return Write(argv[2], argc >= 4 && std::strcmp(argv[3], "--keep-wal") == 0);
  }
  if (argc == 3 && std::strcmp(argv[1], "verify") == 0) return Verify(argv[2]);
  if (argc == 2 && std::strcmp(argv[1], "selfcheck") == 0) {
    char tmpl[] = "/tmp/edgetable-dbport-XXXXXX";
    std::string dir = mkdtemp(tmpl);
    int rc = Write(dir + "/db", false);
    if (rc == 0) rc = Verify(dir + "/db");
    std::filesystem::remove_all(dir);
    return rc;
  }
  std::fprintf(stderr, "usage: db_portability write DIR [--keep-wal] | verify DIR | selfcheck\n");
  return 2;
}
