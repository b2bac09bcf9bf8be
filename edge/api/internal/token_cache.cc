#include "edge/api/internal/token_cache.h"

namespace edgetable::api::internal {

void TokenCache::Expire(int64_t now_ms) {
  while (!order_.empty() && (order_.front().first <= now_ms || entries_.size() > kEntriesMax)) {
    auto it = entries_.find(order_.front().second);
    if (it != entries_.end() && it->second.expires_ms == order_.front().first) entries_.erase(it);
    order_.pop_front();
  }
}

TokenCache::Claim TokenCache::Begin(const std::string& token, const std::string& request, std::string* answer) {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowMs();
  Expire(now);
  auto it = entries_.find(token);
  if (it != entries_.end()) {
    if (it->second.request != request) return Claim::kMismatch;
    if (!it->second.answer) return Claim::kInProgress;
    *answer = *it->second.answer;
    return Claim::kDone;
  }
  Entry e;
  e.request = request;
  e.expires_ms = now + kWindowMs;
  order_.emplace_back(e.expires_ms, token);
  entries_.emplace(token, std::move(e));
  return Claim::kNew;
}

void TokenCache::Finish(const std::string& token, bool ok, const std::string& answer) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = entries_.find(token);
  if (it == entries_.end()) return;
  if (ok) {
    it->second.answer = answer;
  } else {
    entries_.erase(it);
  }
}

}  // namespace edgetable::api::internal
