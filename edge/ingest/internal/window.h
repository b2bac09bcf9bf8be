#pragma once
// The uncommitted window of one MQTT connection: the messages received whose
// items are not committed yet, with their items and the bytes they hold.
// The receive thread reads no further message while the window is Full()
// and goes on once it has Reopened() (half of every bound free), so that
// it wakes once per half window rather than once per commit. A single
// message larger than a bound is still taken when the window is empty.
//
// Not thread-safe: the connection's mutex guards it.

#include <cstdint>

namespace edgetable::ingest::internal {

struct WindowLimits {
  int messages = 64;
  int64_t items = 2048;
  int64_t bytes = 8 << 20;
};

class UncommittedWindow {
 public:
  explicit UncommittedWindow(WindowLimits limits) : limits_(limits) {}

  void Add(int64_t items, int64_t bytes) {
    ++messages_;
    items_ += items;
    bytes_ += bytes;
  }
  void Remove(int64_t items, int64_t bytes) {
    --messages_;
    items_ -= items;
    bytes_ -= bytes;
  }

  bool Full() const {
    return messages_ >= limits_.messages ||
           (messages_ > 0 && (items_ >= limits_.items || bytes_ >= limits_.bytes));
  }
  bool Reopened() const {
    return messages_ <= limits_.messages / 2 &&
           (messages_ == 0 || (items_ < limits_.items / 2 && bytes_ < limits_.bytes / 2));
  }

  int messages() const { return messages_; }
  int64_t items() const { return items_; }
  int64_t bytes() const { return bytes_; }

 private:
  WindowLimits limits_;
  int messages_ = 0;
  int64_t items_ = 0;
  int64_t bytes_ = 0;
};

}  // namespace edgetable::ingest::internal
