#pragma once
// edge/ingest/internal: the MQTT subscriber behind ingest. Only EdgeTable
// types cross this header. Two implementations:
//  - kBuiltin (mqtt_builtin.cc, the default): EdgeTable's own MQTT 3.1.1
//    subscriber over edge/net's ClientStream (TCP or mbedTLS). It sends the
//    PUBACK of a QoS 1 message only when the owner calls Ack() for it, that
//    is after the message is committed, in the order the messages arrived
//    (MQTT-4.6.0-2).
//  - kPaho (mqtt_paho.cc): Eclipse Paho MQTT C++ (the one door to Paho:
//    every mqtt::exception becomes a Status or a log line). Paho C 1.3 sends
//    the PUBACK itself before it hands the message over and has no manual
//    acknowledgement, so Ack() does nothing there; see ingest.h for what
//    that means for durability.
//
// Either way one MqttConnection is one MQTT client (one TCP/TLS connection)
// with a persistent session (clean session off, a stable client id): the
// broker keeps its subscriptions and queues QoS 1 messages while it is away.
// A thread connects, subscribes, and reconnects after a loss with
// exponential backoff and jitter (reconnect_min_ms .. reconnect_max_ms); every
// attempt is counted and subscriptions are sent again at every connect.
//
// Delivery: `on_message` is called on the connection's receive thread, one
// message at a time, and may block (back-pressure); while it runs nothing
// more is read from the socket.
//
// Threads: Start/Stop from one owner thread; connected() and Ack() from any
// thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edge/base/status.h"

namespace edgetable::ingest::internal {

enum class MqttClientKind { kBuiltin, kPaho };

struct MqttMessage {
  std::string topic;
  std::string payload;        // whole, or its first payload_head_bytes when truncated
  int64_t payload_bytes = 0;  // the full size (> payload.size() when truncated)
  int qos = 0;
  bool duplicate = false;
  // What to pass to Ack() once the message is committed; 0: nothing to
  // acknowledge (QoS 0, or a client that acknowledged it already).
  uint64_t ack_token = 0;
};

struct MqttConnectionOptions {
  MqttClientKind kind = MqttClientKind::kBuiltin;
  std::string server_uri;  // tcp://host:port or ssl://host:port (mqtt://, mqtts:// too)
  std::string client_id;
  std::string username;
  std::string password;
  bool tls = false;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string key_password;
  bool tls_verify = true;
  int keepalive_s = 30;
  int connect_timeout_s = 10;
  int64_t reconnect_min_ms = 500;
  int64_t reconnect_max_ms = 30000;
  std::vector<std::string> filters;  // subscribed at every connect
  int qos = 1;
  // Builtin only: a payload over payload_keep_max bytes is delivered as its
  // first payload_head_bytes bytes (the rest is skipped on the wire) with
  // payload_bytes telling the full size.
  int64_t payload_keep_max = 400 * 1024;
  int64_t payload_head_bytes = 64 * 1024;
  // Builtin only: how long Stop() waits for the acknowledgements of
  // messages already handed over.
  int stop_drain_ms = 5000;
};

struct MqttEvents {
  std::function<void(MqttMessage&&)> on_message;  // may block (back-pressure)
  std::function<void()> on_connected;             // after subscriptions are acknowledged
  std::function<void(const std::string& cause)> on_lost;
};

class MqttConnection {
 public:
  // Creates the client (no network yet). kInvalidArgument when the URI or
  // client id is refused, or (builtin) TLS files cannot be loaded.
  static Result<std::unique_ptr<MqttConnection>> Create(MqttConnectionOptions options,
                                                        MqttEvents events);
  virtual ~MqttConnection() = default;  // implementations Stop()
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  // Starts the connection thread (connects in the background).
  virtual void Start() = 0;
  // Stops reading, waits (builtin: up to stop_drain_ms) for the
  // acknowledgements of messages handed over, disconnects and joins the
  // thread. Idempotent.
  virtual void Stop() = 0;
  virtual bool connected() const = 0;
  // The message of ack_token is committed: acknowledge it to the broker (in
  // arrival order). A token of a connection that has since been lost is
  // ignored: the broker sends that message again. Never blocks on the network.
  virtual void Ack(uint64_t ack_token) = 0;

 protected:
  MqttConnection() = default;
};

// The implementations (mqtt_builtin.cc, mqtt_paho.cc).
Result<std::unique_ptr<MqttConnection>> CreateBuiltinConnection(MqttConnectionOptions options,
                                                                MqttEvents events);
Result<std::unique_ptr<MqttConnection>> CreatePahoConnection(MqttConnectionOptions options,
                                                             MqttEvents events);

}  // namespace edgetable::ingest::internal
