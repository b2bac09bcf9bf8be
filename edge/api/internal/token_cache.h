#pragma once
// TransactWriteItems idempotency: a ClientRequestToken makes a retried call
// a no-op for 10 minutes, as in DynamoDB. Internal to edge/api.
//
// Begin() claims a token for a request; Finish() records the answer; a repeat
// of the same request within the window gets the recorded answer without
// being applied again; a different request with the same token gets
// IdempotentParameterMismatchException; a repeat while the first is still
// running gets TransactionInProgressException. Bounded: at most kEntriesMax
// tokens; past it the oldest are forgotten (a retry after that is applied
// again, which conditions make safe, as without a token).
// Threads: every method is thread-safe.

#include <cstdint>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "edge/api/errors.h"
#include "edge/base/clock.h"

namespace edgetable::api::internal {

class TokenCache {
 public:
  static constexpr int64_t kWindowMs = 10 * 60 * 1000;
  static constexpr size_t kEntriesMax = 10000;

  explicit TokenCache(const Clock* clock) : clock_(clock) {}

  enum class Claim { kNew, kDone, kMismatch, kInProgress };
  // `request` identifies the call (its canonical JSON). On kDone, *answer is
  // the recorded answer body.
  Claim Begin(const std::string& token, const std::string& request, std::string* answer);
  // Records the answer of a call Begin() returned kNew for; ok=false forgets
  // the token (a failed call may be retried with it).
  void Finish(const std::string& token, bool ok, const std::string& answer);

 private:
  struct Entry {
    std::string request;
    std::optional<std::string> answer;  // unset while in progress
    int64_t expires_ms = 0;
  };
  void Expire(int64_t now_ms);

  const Clock* clock_;
  std::mutex mu_;
  std::map<std::string, Entry> entries_;  // GUARDED_BY(mu_)
  std::deque<std::pair<int64_t, std::string>> order_;  // (expiry, token), oldest first
};

}  // namespace edgetable::api::internal
