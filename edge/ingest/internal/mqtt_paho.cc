#include "edge/ingest/internal/mqtt_client.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include <mqtt/async_client.h>

#include "edge/base/log.h"

namespace edgetable::ingest::internal {
namespace {

struct PahoImpl {
  MqttConnectionOptions options;
  MqttEvents events;
  std::unique_ptr<mqtt::async_client> client;

  std::mutex mu;
  std::condition_variable cv;
  bool stopping = false;     // GUARDED_BY(mu)
  bool lost = false;         // GUARDED_BY(mu): the supervisor must reconnect
  std::atomic<bool> up{false};
  std::thread supervisor;
  bool started = false;

  // A fresh Paho client with our callbacks. Called before Start() and by the
  // supervisor after a failed attempt: a new MQTTAsync handle never carries
  // the state of a half-finished connect into the next attempt.
  Status MakeClient() {
    client.reset();
    try {
      client = std::make_unique<mqtt::async_client>(options.server_uri, options.client_id);
      client->set_message_callback([this](mqtt::const_message_ptr m) {
        if (!m || !events.on_message) return;
        MqttMessage msg;
        msg.topic = m->get_topic();
        msg.payload = m->get_payload_str();
        msg.payload_bytes = static_cast<int64_t>(msg.payload.size());
        msg.qos = m->get_qos();
        msg.duplicate = m->is_duplicate();  // ack_token 0: Paho acknowledged it already
        events.on_message(std::move(msg));
      });
      client->set_connection_lost_handler([this](const std::string& cause) {
        up = false;
        if (events.on_lost) events.on_lost(cause);
        std::lock_guard lock(mu);
        lost = true;
        cv.notify_all();
      });
    } catch (const mqtt::exception& e) {
      client.reset();
      return Status::InvalidArgument("mqtt.broker '" + options.server_uri + "': " + e.what());
    }
    return Status::Ok();
  }

  mqtt::connect_options ConnectOptions() const {
    mqtt::connect_options c;
    c.set_clean_session(false);
    c.set_keep_alive_interval(options.keepalive_s);
    c.set_connect_timeout(options.connect_timeout_s);
    c.set_automatic_reconnect(false);
    c.set_mqtt_version(MQTTVERSION_3_1_1);
    if (!options.username.empty()) c.set_user_name(options.username);
    if (!options.password.empty()) c.set_password(options.password);
    if (options.tls) {
      mqtt::ssl_options ssl;
      if (!options.ca_file.empty()) ssl.set_trust_store(options.ca_file);
      if (!options.cert_file.empty()) ssl.set_key_store(options.cert_file);
      if (!options.key_file.empty()) ssl.set_private_key(options.key_file);
      if (!options.key_password.empty()) ssl.set_private_key_password(options.key_password);
      ssl.set_enable_server_cert_auth(options.tls_verify);
      ssl.set_verify(options.tls_verify);
      // No ssl.set_error_handler(): Paho C++ 1.2 hands the C library a
      // pointer into this ssl_options object, which connect() copies and then
      // drops, so the library would call back into freed stack (found by
      // ASan). A failed TLS handshake still fails the attempt, and that is
      // logged with Paho's reason.
      c.set_ssl(std::move(ssl));
    }
    return c;
  }

  // One attempt: connect, then subscribe every filter. Returns the reason on
  // failure.
  Status ConnectOnce() {
    if (!client) return Status::Unavailable("no client");
    try {
      mqtt::token_ptr tok = client->connect(ConnectOptions());
      if (!tok->wait_for(std::chrono::seconds(options.connect_timeout_s + 5))) {
        return Status::Unavailable("connect timed out");
      }
      if (tok->get_return_code() != 0) {
        return Status::Unavailable("connect refused, code " + std::to_string(tok->get_return_code()));
      }
      if (!options.filters.empty()) {
        auto filters = mqtt::string_collection::create(options.filters);
        std::vector<int> qos(options.filters.size(), options.qos);
        mqtt::token_ptr sub = client->subscribe(filters, qos);
        if (!sub->wait_for(std::chrono::seconds(options.connect_timeout_s + 5))) {
          return Status::Unavailable("subscribe timed out");
        }
      }
      return Status::Ok();
    } catch (const mqtt::exception& e) {
      return Status::Unavailable(e.what());
    } catch (const std::exception& e) {
      return Status::Unavailable(e.what());
    }
  }

  void Supervise() {
    std::mt19937_64 rng(std::random_device{}());
    int64_t backoff_ms = options.reconnect_min_ms;
    int failures = 0;
    while (true) {
      {
        std::unique_lock lock(mu);
        cv.wait(lock, [&] { return stopping || lost; });
        if (stopping) return;
        lost = false;
      }
      Status st = ConnectOnce();
      if (st.ok()) {
        up = true;
        backoff_ms = options.reconnect_min_ms;
        if (failures > 0) ET_LOG_INFO("mqtt {}: connected after {} failed attempts", options.server_uri, failures);
        failures = 0;
        if (events.on_connected) events.on_connected();
        continue;
      }
      // Make sure no half-open connection survives the failed attempt.
      try {
        if (client->is_connected()) client->disconnect(1000)->wait_for(std::chrono::seconds(2));
      } catch (const mqtt::exception&) {
      }
      Status fresh = MakeClient();
      if (!fresh.ok()) ET_LOG_ERROR("mqtt {}: {}", options.server_uri, fresh.message());
      ++failures;
      ET_LOG_DEBUG("mqtt {} ({}): attempt {} failed: {}", options.server_uri, options.client_id,
                   failures, st.message());
      if (failures == 1 || failures % 20 == 0) {
        ET_LOG_WARN("mqtt {} ({}): {} (attempt {}, retrying)", options.server_uri,
                    options.client_id, st.message(), failures);
      }
      std::uniform_int_distribution<int64_t> jitter(backoff_ms / 2, backoff_ms);
      int64_t wait_ms = jitter(rng);
      backoff_ms = std::min(backoff_ms * 2, options.reconnect_max_ms);
      std::unique_lock lock(mu);
      if (cv.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stopping; })) return;
      lost = true;
    }
  }
};

class PahoConnection final : public MqttConnection {
 public:
  explicit PahoConnection(std::unique_ptr<PahoImpl> impl) : impl_(std::move(impl)) {}
  ~PahoConnection() override { Stop(); }

  void Start() override {
    if (impl_->started) return;
    impl_->started = true;
    {
      std::lock_guard lock(impl_->mu);
      impl_->lost = true;  // the first connect
    }
    impl_->supervisor = std::thread([this] { impl_->Supervise(); });
  }

  void Stop() override {
    if (!impl_ || !impl_->started) return;
    {
      std::lock_guard lock(impl_->mu);
      if (impl_->stopping) return;
      impl_->stopping = true;
      impl_->cv.notify_all();
    }
    if (impl_->supervisor.joinable()) impl_->supervisor.join();
    try {
      if (impl_->client && impl_->client->is_connected()) {
        impl_->client->disconnect(5000)->wait_for(std::chrono::seconds(6));
      }
    } catch (const mqtt::exception& e) {
      ET_LOG_DEBUG("mqtt {}: disconnect: {}", impl_->options.server_uri, e.what());
    }
    impl_->up = false;
  }

  bool connected() const override { return impl_->up.load(); }
  void Ack(uint64_t) override {}  // Paho sent the PUBACK before delivery

 private:
  std::unique_ptr<PahoImpl> impl_;
};

}  // namespace

Result<std::unique_ptr<MqttConnection>> CreatePahoConnection(MqttConnectionOptions options,
                                                             MqttEvents events) {
  auto impl = std::make_unique<PahoImpl>();
  impl->options = std::move(options);
  impl->events = std::move(events);
  ET_RETURN_IF_ERROR(impl->MakeClient());
  return std::unique_ptr<MqttConnection>(new PahoConnection(std::move(impl)));
}

}  // namespace edgetable::ingest::internal
