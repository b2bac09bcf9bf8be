#pragma once
// HybridClock: issues the versions of one replica's writes.
//
// A hybrid logical clock follows the wall clock when it moves forward and
// falls back on a counter when it does not (the wall clock stood still or
// jumped back, as a Pi without a real-time clock does at boot). Versions
// received from other replicas are observed, so that a local write made
// after a remote one is always ordered after it.
//
// Invariants (tests/edge/clock/hybrid_clock_test.cc):
//  (1) Now() returns versions strictly increasing in issue order, whatever
//      the wall clock does.
//  (2) After Observe(v), every later Now() is > v.
//  (3) After SetFloor(v), every later Now() is > v. Storage persists the
//      high-water mark (Last()) with every commit and sets it as the floor
//      when it opens a database, so that after a restart no version is
//      issued at or below one already stored, even with the wall clock set
//      back.
//  (4) The counter never overflows: at INT32_MAX the clock moves hlc_ms on
//      by one millisecond instead.
//
// Observe() trusts what it is given: a version stamped far in the future
// drags this clock along with it. Callers that receive versions from other
// replicas check them with ExceedsSkewBound() first (and refuse or clamp by
// policy), so that one gateway that booted in 2099 cannot poison every
// replica.
//
// Threads: every method is safe to call from any thread.

#include <cstdint>
#include <mutex>

#include "edge/base/clock.h"
#include "edge/clock/version.h"

namespace edgetable::clock {

class HybridClock {
 public:
  // REQUIRES: wall outlives this object; replica != 0.
  HybridClock(const Clock* wall, uint64_t replica);
  HybridClock(const HybridClock&) = delete;
  HybridClock& operator=(const HybridClock&) = delete;

  // A new version of this replica, strictly greater than every version
  // issued, observed or set as floor before (invariants 1-3).
  Version Now();

  // Advances the clock so that the next Now() is greater than v.
  // Does nothing when v is not ahead of the clock.
  void Observe(const Version& v);

  // Same effect as Observe(); named for its use at open (invariant 3).
  void SetFloor(const Version& v) { Observe(v); }

  // The highest (hlc_ms, counter) issued or observed so far, stamped with
  // this replica's id; the zero version's time parts before any.
  Version Last() const;

  uint64_t replica() const { return replica_; }

 private:
  const Clock* wall_;
  const uint64_t replica_;
  mutable std::mutex mu_;
  int64_t last_ms_ = 0;     // GUARDED_BY(mu_)
  int32_t last_counter_ = 0;  // GUARDED_BY(mu_)
};

// True when v is stamped more than bound_ms ahead of the local wall clock
// reading now_ms: a version from a replica whose clock is wrong.
// REQUIRES: bound_ms >= 0.
bool ExceedsSkewBound(const Version& v, int64_t now_ms, int64_t bound_ms);

}  // namespace edgetable::clock
