#include "edge/api/api.h"

#include <algorithm>
#include <array>
#include <chrono>
#include <exception>

#include "edge/api/internal/ops.h"
#include "edge/api/internal/table_cache.h"
#include "edge/api/internal/token_cache.h"
#include "edge/api/sigv4.h"
#include "edge/api/streams.h"
#include "edge/base/log.h"

namespace edgetable::api {
namespace {

using internal::Json;
using internal::OpEnv;
using internal::Reply;
using OpFn = Reply (*)(OpEnv&, const Json&);

constexpr std::string_view kTargetPrefix = "DynamoDB_20120810.";

struct Operation {
  std::string_view name;
  OpFn fn;
  bool streams = false;  // under kStreamsTargetPrefix (DynamoDB Streams)
  // The top-level member holding the request's item or key, decoded while
  // the body is parsed (item::ParseJsonTakingItem, OpEnv::taken_item).
  std::string_view item_member = {};
};

constexpr std::array kOperations = {
    Operation{"BatchGetItem", internal::BatchGetItem},
    Operation{"BatchWriteItem", internal::BatchWriteItem},
    Operation{"CreateTable", internal::CreateTable},
    Operation{"DeleteItem", internal::DeleteItem, false, "Key"},
    Operation{"DeleteTable", internal::DeleteTable},
    Operation{"DescribeTable", internal::DescribeTable},
    Operation{"DescribeTimeToLive", internal::DescribeTimeToLive},
    Operation{"GetItem", internal::GetItem, false, "Key"},
    Operation{"ListTables", internal::ListTables},
    Operation{"PutItem", internal::PutItem, false, "Item"},
    Operation{"Query", internal::Query},
    Operation{"Scan", internal::Scan},
    Operation{"TransactGetItems", internal::TransactGetItems},
    Operation{"TransactWriteItems", internal::TransactWriteItems},
    Operation{"UpdateItem", internal::UpdateItem, false, "Key"},
    Operation{"UpdateTable", internal::UpdateTable},
    Operation{"UpdateTimeToLive", internal::UpdateTimeToLive},
    Operation{"DescribeStream", internal::DescribeStream, true},
    Operation{"GetRecords", internal::GetRecords, true},
    Operation{"GetShardIterator", internal::GetShardIterator, true},
    Operation{"ListStreams", internal::ListStreams, true},
};

struct Counters {
  std::atomic<int64_t> requests{0};
  std::atomic<int64_t> errors{0};
  std::array<std::atomic<int64_t>, kLatencyBoundsUs.size() + 1> latency_buckets{};
  std::atomic<int64_t> latency_sum_us{0};
};

// Adds one request's latency to its operation's histogram when the request
// has been answered (every return path of Handle() after the count).
class LatencyRecorder {
 public:
  explicit LatencyRecorder(std::chrono::steady_clock::time_point start) : start_(start) {}
  ~LatencyRecorder() {
    if (counters_ == nullptr) return;
    int64_t us = std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - start_)
                     .count();
    size_t bucket = std::lower_bound(kLatencyBoundsUs.begin(), kLatencyBoundsUs.end(), us) - kLatencyBoundsUs.begin();
    counters_->latency_buckets[bucket].fetch_add(1, std::memory_order_relaxed);
    counters_->latency_sum_us.fetch_add(us, std::memory_order_relaxed);
  }
  LatencyRecorder(const LatencyRecorder&) = delete;
  LatencyRecorder& operator=(const LatencyRecorder&) = delete;
  void Track(Counters* counters) { counters_ = counters; }

 private:
  std::chrono::steady_clock::time_point start_;
  Counters* counters_ = nullptr;
};

// The low 4*n bits of v as n upper-case hex digits.
void PutHex(uint64_t v, char* out, int n) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (int i = n - 1; i >= 0; --i) {
    out[i] = kHex[v & 15];
    v >>= 4;
  }
}

}  // namespace

struct Api::Impl {
  Impl(storage::Storage* s, ApiOptions o)
      : storage(s), options(std::move(o)), verifier(options.access_keys, options.clock), tokens(options.clock) {}

  storage::Storage* storage;
  ApiOptions options;
  SigV4Verifier verifier;
  internal::TokenCache tokens;
  internal::TableCache tables;
  std::array<Counters, kOperations.size()> counters;
  std::atomic<uint64_t> request_seq{0};

  void Answer(net::Response& response, const ApiError& e) {
    response.status = e.http_status;
    response.body = e.Body();
  }
};

Api::Api(storage::Storage* storage, ApiOptions options)
    : impl_(std::make_unique<Impl>(storage, std::move(options))) {}

Api::~Api() = default;

Status Api::Register(net::Router& router) {
  return router.Add("POST", "/", [this](const net::Request& req, net::Response& resp) { Handle(req, resp); });
}

void Api::Handle(const net::Request& request, net::Response& response) {
  LatencyRecorder latency(std::chrono::steady_clock::now());
  // "ET" + 16 hex digits of the time (ms) + 8 of a sequence number, upper
  // case; written by hand, as snprintf cost more than the rest of the headers.
  char request_id[2 + 16 + 8];
  request_id[0] = 'E';
  request_id[1] = 'T';
  PutHex(static_cast<uint64_t>(impl_->options.clock->NowMs()), request_id + 2, 16);
  PutHex(impl_->request_seq.fetch_add(1) & 0xFFFFFFFFu, request_id + 18, 8);
  response.SetHeader("Content-Type", "application/x-amz-json-1.0");
  response.SetHeader("x-amzn-RequestId", std::string_view(request_id, sizeof(request_id)));

  const std::string* target = request.FindHeader("X-Amz-Target");
  const Operation* op = nullptr;
  size_t op_index = 0;
  const bool streams_target =
      target != nullptr && target->compare(0, internal::kStreamsTargetPrefix.size(),
                                           internal::kStreamsTargetPrefix) == 0;
  if (target != nullptr &&
      (streams_target || target->compare(0, kTargetPrefix.size(), kTargetPrefix) == 0)) {
    std::string_view name = std::string_view(*target).substr(
        streams_target ? internal::kStreamsTargetPrefix.size() : kTargetPrefix.size());
    for (size_t i = 0; i < kOperations.size(); ++i) {
      if (kOperations[i].name == name && kOperations[i].streams == streams_target) {
        op = &kOperations[i];
        op_index = i;
        break;
      }
    }
  }
  ApiError auth_error;
  std::string key_id;
  if (!impl_->verifier.Verify(request, &auth_error, &key_id)) {
    impl_->Answer(response, auth_error);
    return;
  }
  if (op == nullptr) {
    impl_->Answer(response, MakeError(error_type::kUnknownOperation,
                                      target ? "Unknown operation: " + *target : "Missing X-Amz-Target header"));
    return;
  }
  Counters& counters = impl_->counters[op_index];
  counters.requests.fetch_add(1, std::memory_order_relaxed);
  latency.Track(&counters);

  const std::string_view text = request.body.empty() ? std::string_view("{}") : std::string_view(request.body);
  std::optional<item::Item> taken_item;
  Result<nlohmann::json> body =
      op->item_member.empty() ? item::ParseJson(text) : item::ParseJsonTakingItem(text, op->item_member, &taken_item);
  if (!body.ok() || !body->is_object()) {
    counters.errors.fetch_add(1, std::memory_order_relaxed);
    impl_->Answer(response, MakeError(error_type::kSerialization,
                                      body.ok() ? "The request body must be a JSON object"
                                                : "Malformed JSON body: " + body.status().message()));
    return;
  }
  OpEnv env{impl_->storage, &impl_->options, &impl_->tokens, &impl_->tables, &taken_item};
  Reply reply = Json::object();
  try {
    reply = op->fn(env, *body);
  } catch (const std::exception& e) {
    // A JSON type surprise inside an operation: the request was malformed.
    reply = MakeError(error_type::kSerialization, std::string("Malformed request: ") + e.what());
  }
  if (!reply.ok()) {
    counters.errors.fetch_add(1, std::memory_order_relaxed);
    if (reply.error().http_status >= 500) {
      ET_LOG_ERROR("{} failed: {}", op->name, reply.error().message);
    }
    impl_->Answer(response, reply.error());
    return;
  }
  response.status = 200;
  response.body = reply.TakeText();
}

std::vector<OperationStats> Api::Stats() const {
  std::vector<OperationStats> out;
  for (size_t i = 0; i < kOperations.size(); ++i) {
    const Counters& c = impl_->counters[i];
    OperationStats& op = out.emplace_back();
    op.operation = std::string(kOperations[i].name);
    op.requests = c.requests.load(std::memory_order_relaxed);
    op.errors = c.errors.load(std::memory_order_relaxed);
    for (size_t b = 0; b < c.latency_buckets.size(); ++b) {
      op.latency_buckets[b] = c.latency_buckets[b].load(std::memory_order_relaxed);
    }
    op.latency_sum_us = c.latency_sum_us.load(std::memory_order_relaxed);
  }
  return out;
}

}  // namespace edgetable::api
