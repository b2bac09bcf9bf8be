#pragma once
// The key schemas of tables, cached for the item operations. Internal to
// edge/api.
//
// Every item request needs its table's key schema; reading it from the
// catalog (Storage::DescribeTable, a SQLite read) cost as much as the item
// read itself. A table's key schema never changes while the table lives, so
// the cache only has to forget a name when the table may be deleted (and
// then created again with another schema).
// Invariants (relied on; see api.cc DeleteTable/CreateTable):
//  (1) Only this Api deletes tables while the node runs (edge/api
//      DeleteTable; restore runs on a stopped node). It calls Forget() after
//      each delete returns, so a deleted table is never answered from here.
//  (2) A lookup that raced with a Forget() does not insert what it read
//      (generation check), so a schema read before a delete cannot come back.
//  (3) Absent tables are never cached: a table created elsewhere (ingest,
//      sync) is seen on the next lookup.
// If anything else ever deletes tables (sync, a future admin path), it must
// go through Forget() too, or storage must expose a catalog generation.
// Bounded: at most kEntriesMax names; when full it starts over.
// Threads: every method is thread-safe.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>

#include "edge/base/status.h"
#include "edge/item/key.h"
#include "edge/storage/storage.h"

namespace edgetable::api::internal {

// What item operations need of a table.
struct TableKeys {
  int64_t id = 0;
  item::KeySchema key_schema;
};

class TableCache {
 public:
  static constexpr size_t kEntriesMax = 4096;

  // The table's keys, from the cache or from storage->DescribeTable. Returns
  // DescribeTable's errors unchanged (kNotFound for no such table).
  Result<TableKeys> Lookup(storage::Storage* storage, const std::string& name);

  // Drops `name`; call after the table was deleted (or whenever unsure).
  void Forget(const std::string& name);

 private:
  std::mutex mu_;
  std::map<std::string, TableKeys, std::less<>> tables_;  // GUARDED_BY(mu_)
  uint64_t generation_ = 0;                               // GUARDED_BY(mu_); bumped by Forget()
};

}  // namespace edgetable::api::internal
