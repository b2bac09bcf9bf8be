#pragma once
// SimTransport: the network of the seeded sync simulation (tests/sim). A
// sync::Transport that hands every POST straight to a Hub's HandlePush,
// HandlePull or HandleSnapshot (by path: kPushPath, kPullPath,
// kSnapshotPath), as the hub's HTTP routes would,
// with a Caller carrying this node's bearer token; and that misbehaves as a
// real network does, decided by its own seeded RNG:
//  - drop the request: nothing reaches the hub; the client gets kUnavailable;
//  - drop the reply: the hub handles the request, the client still gets
//    kUnavailable ("applied, but the acknowledgement was lost");
//  - duplicate: the request reaches the hub twice; the client sees one of
//    the two answers;
//  - replay: a request sent earlier (delivered or dropped) reaches the hub
//    again, late, before the current one; its answer goes nowhere
//    (reordering, a retransmission stuck in a queue);
//  - partition: for a number of steps every request fails with kUnavailable
//    and nothing is delivered;
//  - hub down: SetHub(nullptr) while the hub's node restarts.
// The same seed and the same calls give the same faults, so a failing
// simulation seed replays exactly.
//
// Stats(): requests and failures are counted; the byte and connection
// counters stay zero. Counters() tells which faults fired.
// Threads: one thread at a time (the simulation is single-threaded). The Hub
// is not owned and must outlive its use (or be replaced by SetHub first).

#include <cstdint>
#include <deque>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "edge/base/status.h"
#include "sync/protocol/hub.h"
#include "sync/transport/transport.h"

namespace edgetable::sim {

// Probabilities in [0, 1], each drawn per Post().
struct SimFaults {
  double drop_request = 0;
  double drop_reply = 0;
  double duplicate = 0;
  double replay = 0;
};

struct SimTransportCounters {
  int64_t delivered = 0;  // requests handed to the hub (duplicates and replays included)
  int64_t dropped_requests = 0;
  int64_t dropped_replies = 0;
  int64_t duplicates = 0;
  int64_t replays = 0;
  int64_t partitioned = 0;  // requests refused by a partition or a hub that is down
  int64_t non_200 = 0;      // answers the client saw with an HTTP status other than 200
};

class SimTransport final : public sync::Transport {
 public:
  // How many earlier requests are kept for replays.
  static constexpr size_t kHistoryMax = 16;

  SimTransport(uint64_t seed, std::string bearer_token);
  ~SimTransport() override = default;
  SimTransport(const SimTransport&) = delete;
  SimTransport& operator=(const SimTransport&) = delete;

  // The hub requests go to; nullptr: it is down (every request kUnavailable).
  void SetHub(sync::Hub* hub) { hub_ = hub; }
  void SetFaults(const SimFaults& faults) { faults_ = faults; }
  // Cuts this node off for `steps` calls of Step() (0 heals it now).
  void Partition(int steps) { partition_steps_ = steps; }
  bool partitioned() const { return partition_steps_ > 0; }
  // One simulation step: a partition comes closer to its end.
  void Step() {
    if (partition_steps_ > 0) --partition_steps_;
  }
  // Forgets the requests kept for replays (healing: nothing late is left in
  // the network).
  void ClearHistory() { history_.clear(); }

  Result<sync::HttpReply> Post(std::string_view path, std::string_view body) override;
  sync::TransportStats Stats() const override { return stats_; }
  const SimTransportCounters& Counters() const { return counters_; }
  // What befell the requests since the last call ("push:reply-lost pull:ok ..."), for traces.
  std::string TakeEvents() { return std::exchange(events_, std::string()); }

 private:
  struct Request {
    std::string path;
    std::string body;
  };
  bool Chance(double p);
  sync::HubReply Deliver(std::string_view path, std::string_view body);
  void Event(std::string_view path, std::string_view what);

  std::mt19937_64 rng_;
  sync::Caller caller_;
  sync::Hub* hub_ = nullptr;
  SimFaults faults_;
  int partition_steps_ = 0;
  std::deque<Request> history_;
  sync::TransportStats stats_;
  SimTransportCounters counters_;
  std::string events_;
};

}  // namespace edgetable::sim
