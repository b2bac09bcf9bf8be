#pragma once
// edge/api: the DynamoDB JSON 1.0 protocol over edge/net.
//
// `POST /` with `X-Amz-Target: DynamoDB_20120810.<Operation>` and a JSON body,
// answered as DynamoDB answers: the same response shapes, the same error
// `__type`s and HTTP codes (edge/api/errors.h), so boto3, the AWS CLI and the
// AWS SDKs work unchanged. Operations: CreateTable, DescribeTable,
// ListTables, DeleteTable, UpdateTable, UpdateTimeToLive, DescribeTimeToLive,
// PutItem, GetItem, UpdateItem, DeleteItem, Query, Scan, BatchWriteItem,
// BatchGetItem, TransactWriteItems, TransactGetItems; the legacy parameters
// AttributesToGet, KeyConditions, QueryFilter, ScanFilter, Expected,
// ConditionalOperator and AttributeUpdates. README.md has the coverage table.
//
// Requests are checked with AWS Signature V4 when access keys are configured.
// Threads: Handle() runs concurrently on the server's worker threads; the
// Api object must outlive the server that calls it. Storage is not owned.

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>

#include "edge/base/clock.h"
#include "edge/net/http.h"
#include "edge/net/router.h"
#include "edge/storage/storage.h"

namespace edgetable::api {

struct ApiOptions {
  // access key id -> secret; empty: unsigned requests are accepted.
  std::map<std::string, std::string, std::less<>> access_keys;
  std::string region = "local";  // used in ARNs
  const Clock* clock = Clock::System();
};

// Upper bounds (microseconds) of the request latency histogram's buckets;
// one more bucket counts what is above the last bound.
inline constexpr std::array<int64_t, 14> kLatencyBoundsUs = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};

// Per-operation counters, for /metrics and `edgetable status`.
struct OperationStats {
  std::string operation;
  int64_t requests = 0;
  int64_t errors = 0;  // answered with any error
  // Latency of the counted requests, from Handle() entry to the response
  // built (steady clock): requests per bucket of kLatencyBoundsUs (not
  // cumulative; the last bucket is above the last bound) and their sum.
  // Recorded when a request is answered, so while requests are in flight
  // the buckets add up to less than `requests`.
  std::array<int64_t, kLatencyBoundsUs.size() + 1> latency_buckets{};
  int64_t latency_sum_us = 0;
};

class Api {
 public:
  Api(storage::Storage* storage, ApiOptions options);
  ~Api();
  Api(const Api&) = delete;
  Api& operator=(const Api&) = delete;

  // Registers POST / (the DynamoDB protocol) on a router.
  // Returns kAlreadyExists if the route is taken.
  Status Register(net::Router& router);

  // Answers one HTTP request of the DynamoDB protocol.
  void Handle(const net::Request& request, net::Response& response);

  std::vector<OperationStats> Stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::api
