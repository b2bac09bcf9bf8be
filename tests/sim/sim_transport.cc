#include "tests/sim/sim_transport.h"

#include <string>
#include <utility>

#include "sync/protocol/sync_types.h"

namespace edgetable::sim {

SimTransport::SimTransport(uint64_t seed, std::string bearer_token) : rng_(seed) {
  caller_.bearer_token = std::move(bearer_token);
}

bool SimTransport::Chance(double p) {
  // 53 random bits as a double in [0, 1): the same on every platform, unlike
  // std::uniform_real_distribution.
  const double u = static_cast<double>(rng_() >> 11) * 0x1.0p-53;
  return u < p;
}

sync::HubReply SimTransport::Deliver(std::string_view path, std::string_view body) {
  ++counters_.delivered;
  if (path == sync::kPushPath) return hub_->HandlePush(caller_, body);
  if (path == sync::kPullPath) return hub_->HandlePull(caller_, body);
  if (path == sync::kSnapshotPath) return hub_->HandleSnapshot(caller_, body);
  sync::HubReply reply;
  reply.status = 404;
  reply.body = R"({"__type":"NotFound","message":"no route"})";
  reply.content_type = "application/json";
  return reply;
}

void SimTransport::Event(std::string_view path, std::string_view what) {
  if (!events_.empty()) events_ += ' ';
  events_ += path == sync::kPushPath       ? "push:"
             : path == sync::kPullPath     ? "pull:"
             : path == sync::kSnapshotPath ? "snapshot:"
                                           : "?:";
  events_ += what;
}

Result<sync::HttpReply> SimTransport::Post(std::string_view path, std::string_view body) {
  ++stats_.requests;
  if (hub_ == nullptr || partition_steps_ > 0) {
    ++counters_.partitioned;
    ++stats_.failures;
    Event(path, hub_ == nullptr ? "hub-down" : "partitioned");
    return Status::Unavailable(hub_ == nullptr ? "sim: hub is down" : "sim: partitioned");
  }
  // A late copy of an earlier request arrives first; nobody waits for its answer.
  if (!history_.empty() && Chance(faults_.replay)) {
    const Request& old = history_[rng_() % history_.size()];
    ++counters_.replays;
    Event(old.path, "replayed");
    (void)Deliver(old.path, old.body);
  }
  // Kept even when dropped below: the network may still deliver it later.
  history_.push_back(Request{std::string(path), std::string(body)});
  if (history_.size() > kHistoryMax) history_.pop_front();

  if (Chance(faults_.drop_request)) {
    ++counters_.dropped_requests;
    ++stats_.failures;
    Event(path, "request-lost");
    return Status::Unavailable("sim: request lost");
  }
  sync::HubReply reply = Deliver(path, body);
  if (Chance(faults_.duplicate)) {
    ++counters_.duplicates;
    Event(path, "duplicated");
    sync::HubReply second = Deliver(path, body);
    // Whichever answer arrives first is the one the client reads.
    if (rng_() % 2 == 0) reply = std::move(second);
  }
  if (Chance(faults_.drop_reply)) {
    ++counters_.dropped_replies;
    ++stats_.failures;
    Event(path, "reply-lost");
    return Status::Unavailable("sim: reply lost");
  }
  if (reply.status != 200) ++counters_.non_200;
  Event(path, std::to_string(reply.status));
  sync::HttpReply out;
  out.status = reply.status;
  out.body = std::move(reply.body);
  out.content_type = std::move(reply.content_type);
  return out;
}

}  // namespace edgetable::sim
