#pragma once
// Version: the stamp every write carries, and the order that decides every
// conflict (last writer wins) on every replica.
//
// A version is a hybrid logical clock reading (physical milliseconds since
// the Unix epoch plus a logical counter) and the id of the replica that
// issued it. Versions are totally ordered by (hlc_ms, counter, replica), the
// replica compared as an unsigned 64-bit number, so two replicas always agree
// on which of two versions is newer. All fields are fixed-width: the same
// value on every architecture (armhf has a 32-bit time_t and long).
// Threads: plain value.

#include <compare>
#include <cstdint>
#include <string>

namespace edgetable::clock {

struct Version {
  int64_t hlc_ms = 0;    // physical part: ms since the Unix epoch
  int32_t counter = 0;   // logical part: orders versions within one hlc_ms
  uint64_t replica = 0;  // the replica that issued the version

  // Total order: hlc_ms, then counter, then replica.
  friend constexpr auto operator<=>(const Version&, const Version&) = default;
  friend constexpr bool operator==(const Version&, const Version&) = default;

  // True for the zero version, which no clock issues ("no version").
  constexpr bool is_zero() const { return hlc_ms == 0 && counter == 0 && replica == 0; }

  // "<hlc_ms>.<counter>@<replica in hex>", for logs and messages.
  std::string ToString() const;
};

}  // namespace edgetable::clock
