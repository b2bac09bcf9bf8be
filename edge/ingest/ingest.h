#pragma once
// edge/ingest: MQTT telemetry from a broker into tables.
//
// What it owns: `mqtt.connections` MQTT clients (Paho, behind
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
// Acknowledgement and durability. Paho C (1.3, under Paho C++ 1.2) has no
// manual acknowledgement: for an incoming QoS 1 PUBLISH it sends the PUBACK
// and then hands the message to the application (MQTTProtocol_handlePublishes
// in MQTTProtocolClient.c, "send puback before processing the publications");
// the message-arrived callback's return value only decides whether Paho
// delivers the message to the application again, never when the broker is
// acknowledged. EdgeTable therefore cannot withhold the PUBACK. What it does
// instead, and what it promises:
//  (1) The message callback runs on Paho's receive thread and does not
//      return before the message's items (or its dead letter) are committed
//      when mqtt.uncommitted_max is 1 (the default): while it waits, Paho
//      reads no further packet and so acknowledges no further message.
//      Hence at any instant at most ONE message per connection has been
//      acknowledged to the broker without being committed; a kill -9 or a
//      power cut can lose at most that message per connection. Every other
//      message is either committed, or not yet acknowledged and redelivered
//      by the broker to the persistent session.
//  (2) With uncommitted_max = W > 1 the callback returns once the message is
//      queued for commit and blocks while W messages of its connection are
//      uncommitted: throughput gains group commits of up to W messages per
//      connection, and the loss bound of (1) becomes W messages per
//      connection.
//  (3) A redelivered message (the broker resends what it did not see
//      acknowledged) writes the same keys again: items keyed by device and a
//      payload time are idempotent. Items keyed by arrival time are not.
//  (4) A message is processed all-or-nothing per rule: all its items are
//      queued together, or it is one dead-letter item.
// Group commit across messages comes from several connections (and W > 1):
// their writes meet in the storage writer's queue and commit together.
//
// Bounds and what happens at them:
//  - payload size: over kPayloadBytesMax (400 KB) a message is a dead letter
//    (its first kDeadLetterPayloadBytesMax bytes are kept);
//  - uncommitted messages per connection: uncommitted_max, and their items:
//    kUncommittedItemsMax (a single larger message is still taken); at the
//    bound the receive thread waits (back-pressure: TCP fills, the broker
//    queues);
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
  int qos = 1;               // subscription QoS (0 or 1)
  int connections = 1;       // 1..kConnectionsMax; > 1 uses shared subscriptions
  int uncommitted_max = 1;   // per connection, 1..kUncommittedMax; see (1), (2)
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
