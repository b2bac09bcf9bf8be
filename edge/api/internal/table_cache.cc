#include "edge/api/internal/table_cache.h"

namespace edgetable::api::internal {

Result<TableKeys> TableCache::Lookup(storage::Storage* storage, const std::string& name) {
  uint64_t generation = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tables_.find(name);
    if (it != tables_.end()) return it->second;
    generation = generation_;
  }
  ET_ASSIGN_OR_RETURN(storage::TableInfo info, storage->DescribeTable(name));
  TableKeys keys{info.id, std::move(info.key_schema)};
  std::lock_guard<std::mutex> lock(mu_);
  if (generation_ == generation) {  // invariant (2): no Forget() since the read began
    if (tables_.size() >= kEntriesMax) tables_.clear();
    tables_.insert_or_assign(name, keys);
  }
  return keys;
}

void TableCache::Forget(const std::string& name) {
  std::lock_guard<std::mutex> lock(mu_);
  ++generation_;
  tables_.erase(name);
}

}  // namespace edgetable::api::internal
