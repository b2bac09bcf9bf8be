#pragma once
// edge/ingest: MQTT telemetry from a broker into tables.
//
// What it owns: `mqtt.connections` MQTT clients (builtin or Paho, behind
// internal/mqtt_client.h), their threads, the compiled rules (rules.h) and
// the counters. It writes through storage::Storage::ApplyAsync (group
// commit) and never owns the Storage.
//
// Start-up (Ingest::Start): the tables named by rules are created when
// missing (partition key S, sort key N, from the rule) and their TTL
// attribute is set when a rule has a ttl; the dead-letter table is created;
// then the clients connect in the background. A broker that is down is not
// an error: the clients retry with backoff for as long as EdgeTable runs.
//
// Sessions: every client connects with clean session off and a stable client
// id (mqtt.client_id, plus "-<n>" for n >= 1 with several connections), so
// the broker keeps its subscriptions and queues QoS 1 messages while
// EdgeTable is down or reconnecting; subscriptions are sent again at every
// connect. With mqtt.connections > 1 each filter is subscribed as the shared
// subscription "$share/<client_id>/<filter>", and the broker spreads the
// messages over the connections.
//
// Acknowledgement and durability. With the builtin client (mqtt.client =
// "builtin", the default) the PUBACK of a QoS 1 message leaves only after
// every item of the message (or its dead letter) is committed: the storage
// writer's commit callback calls MqttConnection::Ack, and the connection
// thread sends the PUBACKs in arrival order. Hence:
//  (1) A kill -9 or a power cut at any moment loses nothing the broker
//      counts as delivered: every message is either committed, or not yet
//      acknowledged and sent again by the broker to the persistent session.
//  (2) mqtt.uncommitted_max = W messages per connection may wait for commit
//      at once (the broker's own in-flight limit, mosquitto's
//      max_inflight_messages, bounds it too): W is the group-commit window
//      and costs no durability.
//  (3) The price is at-least-once: a message committed but whose PUBACK had
//      not reached the broker when EdgeTable died or the connection dropped
//      arrives again and writes the same keys again. Items keyed by device
//      and a payload time are idempotent (same key, same item); items keyed
//      by arrival time are written twice.
//  (4) A message is processed all-or-nothing per rule: all its items are
//      queued together, or it is one dead-letter item.
// With mqtt.client = "paho" (Eclipse Paho MQTT C++ 1.2 over Paho C 1.3),
// Paho sends the PUBACK itself just before it hands the message over
// (MQTTProtocol_handlePublishes, "send puback before processing the
// publications"), and it has no manual acknowledgement: a kill -9 can lose
// up to W acknowledged, uncommitted messages per connection (the receive
// thread is blocked while W messages wait, so Paho reads, and acknowledges,
// no more). Use it with W = 1 where one message per connection is an
// acceptable loss.
// Group commit across messages comes from several connections (and W > 1):
// their writes meet in the storage writer's queue and commit together.
//
// Bounds and what happens at them:
//  - payload size: over kPayloadBytesMax (400 KB) a message is a dead letter
//    (its first kDeadLetterPayloadBytesMax bytes are kept; the builtin client
//    never holds more than that of it: the rest is skipped on the wire);
//  - uncommitted messages per connection: uncommitted_max, their items:
//    kUncommittedItemsMax, and the bytes their payloads hold:
//    kUncommittedBytesMax (a single larger message is still taken); at a
//    bound the receive thread waits (back-pressure: TCP fills, the broker
//    queues) until half of every bound is free (internal/window.h);
//  - the storage write queue: when ApplyAsync answers kBusy the receive
//    thread waits and retries every few milliseconds (back-pressure);
//  - the broker's queue for the session (mosquitto max_queued_messages,
//    max_queued_bytes) is the bound beyond which messages are lost while
//    EdgeTable is down or behind, silently in mosquitto's case: size it
//    (README-section.md).
//
// Dead letters: a message that cannot be mapped (rules.h) or whose item
// breaks the item rules (edge/item/validate.h) becomes one item in the
// dead-letter table (default "edgetable_dead_letters"): partition key
// "topic" (S), sort key "received_ms" (N: receive time in epoch ms plus a
// 6-digit fraction from a process-wide counter, so two dead letters never
// collide), attributes "payload" (B, at most kDeadLetterPayloadBytesMax
// bytes; omitted when the payload is empty), "payload_bytes" (N, the full
// size), "payload_truncated" (BOOL), "reason" (S), "rule" (S, the rule's
// label), "qos" (N). It is committed like any item, so the message is
// acknowledged once and never loops. A storage failure other than an item
// rule (kIOError, kBusy...) is retried with backoff, never dead-lettered.
//
// Threads: Start, Stop and the destructor from one owner thread; Stats()
// from any thread.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "edge/base/clock.h"
#include "edge/base/status.h"
#include "edge/ingest/rules.h"
#include "edge/storage/storage.h"

namespace edgetable::ingest {

inline constexpr int64_t kDeadLetterPayloadBytesMax = 64 * 1024;
inline constexpr int kConnectionsMax = 16;
inline constexpr int kUncommittedMax = 1024;
// Items of uncommitted messages per connection beyond which the receive
// thread waits even below uncommitted_max (batched payloads: memory).
inline constexpr int64_t kUncommittedItemsMax = 2048;
// Payload bytes of uncommitted messages per connection beyond which the
// receive thread waits: a wide window of large messages stays small.
inline constexpr int64_t kUncommittedBytesMax = 8 << 20;
static_assert(kDeadLetterPayloadBytesMax * 2 < limits::kItemBytesMax,
              "a dead letter with its payload excerpt must fit an item");

struct MqttOptions {
  std::string broker = "tcp://127.0.0.1:1883";  // tcp://HOST:PORT or ssl://HOST:PORT
  std::string client_id = "edgetable";
  std::string username;
  std::string password;
  std::string ca_file;    // ssl:// only: CA bundle to verify the broker
  std::string cert_file;  // ssl:// only: client certificate (PEM)
  std::string key_file;   // ssl:// only: its key (PEM)
  std::string key_password;
  bool tls_verify = true;  // verify the broker's certificate and host name
  int keepalive_s = 30;
  int64_t reconnect_min_ms = 500;
  int64_t reconnect_max_ms = 30000;
  std::string client = "builtin";  // "builtin" or "paho"; see (1) to (3)
  int qos = 1;               // subscription QoS (0 or 1)
  int connections = 1;       // 1..kConnectionsMax; > 1 uses shared subscriptions
  // Per connection, 1..kUncommittedMax; see (2). 512: on a 2-core machine
  // the group commits it allows cost the writer about a quarter less CPU
  // per item than a window of 64 (tests/bench/ingest_bench.py). The config
  // file's default for client = "paho" is 1 (see "With mqtt.client" above).
  int uncommitted_max = 512;
};

struct Options {
  MqttOptions mqtt;
  std::vector<Rule> rules;  // compiled by CompileRule; at least one
  std::string dead_letter_table = "edgetable_dead_letters";
  const Clock* clock = Clock::System();  // not owned
};

// Counters since Start. Monotonic except lag and connected.
struct IngestStats {
  int64_t messages_received = 0;  // delivered by the broker (all rules)
  int64_t messages_committed = 0; // whose items or dead letter are committed
  int64_t items_stored = 0;       // items committed from good messages
  int64_t dead_lettered = 0;      // dead-letter items committed
  int64_t unmatched = 0;          // messages on a topic no rule matches
  int64_t storage_retries = 0;    // writes retried (kBusy or storage errors)
  int64_t connects = 0;           // successful connects, the first included
  int64_t reconnects = 0;         // successful connects after a loss
  int64_t connection_losses = 0;
  int64_t lag = 0;                // received, not yet committed
  int64_t connected = 0;          // connections up now
};

class Ingest {
 public:
  // Prepares the tables (see above) and starts the clients. Returns
  // kInvalidArgument when options are out of range or a rule's table exists
  // with another key schema (naming the rule), kInvalidArgument from Paho
  // for a bad broker URI, and storage errors from creating tables.
  // `storage` is not owned and must outlive the Ingest.
  static Result<std::unique_ptr<Ingest>> Start(storage::Storage* storage, Options options);
  ~Ingest();  // Stop()s
  Ingest(const Ingest&) = delete;
  Ingest& operator=(const Ingest&) = delete;

  // Disconnects every client after the message in hand is committed, and
  // waits for every queued write of ingest to commit. Idempotent.
  void Stop();

  IngestStats Stats() const;

 private:
  struct Impl;
  explicit Ingest(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::ingest
