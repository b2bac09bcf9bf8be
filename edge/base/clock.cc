#include "edge/base/clock.h"

#include <chrono>

namespace edgetable {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override {
    using namespace std::chrono;
    return static_cast<int64_t>(
        duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count());
  }
  int64_t MonotonicNs() const override {
    using namespace std::chrono;
    return static_cast<int64_t>(
        duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count());
  }
};

}  // namespace

Clock* Clock::System() {
  static SystemClock clock;
  return &clock;
}

}  // namespace edgetable
