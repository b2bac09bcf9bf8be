#pragma once
// Clock: the one seam through which EdgeTable reads time, so that TTL, the
// hybrid logical clock and backoff can be driven by a FakeClock in tests.
// All times are fixed-width 64-bit (armhf has a 32-bit time_t and long).
// Threads: every method is safe to call from any thread.

#include <atomic>
#include <cstdint>

namespace edgetable {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time in milliseconds since the Unix epoch. May jump backwards.
  virtual int64_t NowMs() const = 0;
  // Monotonic time in nanoseconds from an arbitrary origin; never goes back.
  virtual int64_t MonotonicNs() const = 0;

  // The process-wide real clock. Owned by the library; lives forever.
  static Clock* System();
};

// FakeClock: time moves only when a test says so. Both readings move together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t now_ms = 1'700'000'000'000) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(std::memory_order_acquire); }
  int64_t MonotonicNs() const override { return mono_ns_.load(std::memory_order_acquire); }
  // Sets the wall clock (may go backwards, as a real one can); monotonic time is untouched.
  void SetMs(int64_t now_ms) { now_ms_.store(now_ms, std::memory_order_release); }
  // Moves both clocks forward by delta_ms (REQUIRES: delta_ms >= 0).
  void AdvanceMs(int64_t delta_ms) {
    now_ms_.fetch_add(delta_ms, std::memory_order_acq_rel);
    mono_ns_.fetch_add(delta_ms * 1'000'000, std::memory_order_acq_rel);
  }

 private:
  std::atomic<int64_t> now_ms_;
  std::atomic<int64_t> mono_ns_{0};
};

// A clock that reads another clock shifted by a fixed offset: a gateway whose
// wall clock is wrong, for tests and for the `clock_offset_ms` test setting.
class OffsetClock final : public Clock {
 public:
  OffsetClock(const Clock* base, int64_t offset_ms) : base_(base), offset_ms_(offset_ms) {}
  int64_t NowMs() const override { return base_->NowMs() + offset_ms_; }
  int64_t MonotonicNs() const override { return base_->MonotonicNs(); }

 private:
  const Clock* base_;
  int64_t offset_ms_;
};

}  // namespace edgetable
