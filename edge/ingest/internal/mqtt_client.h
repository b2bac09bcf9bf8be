#pragma once
// edge/ingest/internal: EdgeTable's one door to Paho MQTT C++. Only
// EdgeTable types cross this header; mqtt_client.cc catches every
// mqtt::exception and turns it into a Status or a log line.
//
// One MqttConnection is one MQTT client (one TCP/TLS connection) with a
// persistent session (clean session off, a stable client id): the broker
// keeps its subscriptions and queues QoS 1 messages while it is away.
// A supervisor thread connects, subscribes, and reconnects after a loss
// with exponential backoff and jitter (reconnect_min_ms .. reconnect_max_ms);
// Paho's own automatic reconnect is off so that every attempt is counted and
// subscriptions are always re-sent.
//
// Delivery: `on_message` is called on Paho's receive thread, one message at
// a time, and may block; while it runs Paho reads nothing more from the
// socket. (Paho C sends the PUBACK of a QoS 1 message just before it hands
// the message over; see ingest.h for what that means for durability.)
//
// Threads: Start/Stop from one owner thread; connected() from any thread.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edge/base/status.h"

namespace edgetable::ingest::internal {

struct MqttMessage {
  std::string topic;
  std::string payload;
  int qos = 0;
  bool duplicate = false;
};

struct MqttConnectionOptions {
  std::string server_uri;  // tcp://host:port or ssl://host:port
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
};

struct MqttEvents {
  std::function<void(MqttMessage&&)> on_message;  // may block (back-pressure)
  std::function<void()> on_connected;             // after subscriptions are acknowledged
  std::function<void(const std::string& cause)> on_lost;
};

class MqttConnection {
 public:
  // Creates the client (no network yet). kInvalidArgument when Paho refuses
  // the URI or client id.
  static Result<std::unique_ptr<MqttConnection>> Create(MqttConnectionOptions options,
                                                        MqttEvents events);
  ~MqttConnection();  // Stop()s
  MqttConnection(const MqttConnection&) = delete;
  MqttConnection& operator=(const MqttConnection&) = delete;

  // Starts the supervisor thread (connects in the background).
  void Start();
  // Disconnects (waiting up to 5 s for a running on_message to return) and
  // joins the supervisor. Idempotent.
  void Stop();
  bool connected() const;

 private:
  struct Impl;
  explicit MqttConnection(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::ingest::internal
