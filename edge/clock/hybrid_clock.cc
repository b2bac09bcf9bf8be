#include "edge/clock/hybrid_clock.h"

#include <limits>

#include "edge/base/assert.h"

namespace edgetable::clock {

HybridClock::HybridClock(const Clock* wall, uint64_t replica) : wall_(wall), replica_(replica) {
  ET_ASSERT(wall != nullptr);
  ET_ASSERT(replica != 0);
}

Version HybridClock::Now() {
  const int64_t wall_ms = wall_->NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  if (wall_ms > last_ms_) {
    last_ms_ = wall_ms;
    last_counter_ = 0;
  } else if (last_counter_ == std::numeric_limits<int32_t>::max()) {
    // Invariant (4): borrow a millisecond rather than wrap the counter.
    ++last_ms_;
    last_counter_ = 0;
  } else {
    ++last_counter_;
  }
  return Version{last_ms_, last_counter_, replica_};
}

void HybridClock::Observe(const Version& v) {
  std::lock_guard<std::mutex> lock(mu_);
  // Taking v's (hlc_ms, counter) is enough for invariant (2): the next Now()
  // either moves hlc_ms on or bumps the counter past v's, and the replica id
  // only breaks ties between equal (hlc_ms, counter) pairs.
  if (v.hlc_ms > last_ms_ || (v.hlc_ms == last_ms_ && v.counter > last_counter_)) {
    last_ms_ = v.hlc_ms;
    last_counter_ = v.counter;
  }
}

Version HybridClock::Last() const {
  std::lock_guard<std::mutex> lock(mu_);
  return Version{last_ms_, last_counter_, replica_};
}

bool ExceedsSkewBound(const Version& v, int64_t now_ms, int64_t bound_ms) {
  ET_ASSERT(bound_ms >= 0);
  // Written as a comparison of differences so that extreme values cannot overflow.
  if (v.hlc_ms <= now_ms) return false;
  return static_cast<uint64_t>(v.hlc_ms) - static_cast<uint64_t>(now_ms) >
         static_cast<uint64_t>(bound_ms);
}

}  // namespace edgetable::clock
