// EdgeTable's own MQTT 3.1.1 subscriber (see mqtt_client.h): one thread per
// connection connects, subscribes, reads and acknowledges. Acknowledgements
// come from other threads through Ack(), which marks the message and wakes
// the thread (an eventfd) when the oldest unacknowledged one is done; the
// thread then writes the PUBACKs of every done message at the head of the
// queue in one write, so PUBACKs leave in arrival order and group commits
// become grouped PUBACKs.
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <random>
#include <thread>

#include "edge/base/log.h"
#include "edge/ingest/internal/mqtt_client.h"
#include "edge/ingest/internal/mqtt_wire.h"
#include "edge/net/client_stream.h"

namespace edgetable::ingest::internal {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

constexpr int kWriteTimeoutMs = 10000;
constexpr int64_t kReadChunk = 64 * 1024;

struct Endpoint {
  std::string host;
  int port = 0;
  bool tls = false;
};

Result<Endpoint> ParseUri(const std::string& uri) {
  Endpoint e;
  std::string rest;
  for (const auto& [scheme, tls, port] : {std::tuple{"tcp://", false, 1883}, std::tuple{"mqtt://", false, 1883},
                                          std::tuple{"ssl://", true, 8883}, std::tuple{"mqtts://", true, 8883}}) {
    std::string s(scheme);
    if (uri.rfind(s, 0) == 0) {
      rest = uri.substr(s.size());
      e.tls = tls;
      e.port = port;
      break;
    }
  }
  if (e.port == 0) return Status::InvalidArgument("mqtt.broker '" + uri + "': not tcp://HOST:PORT or ssl://HOST:PORT");
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  std::string port_text;
  if (!rest.empty() && rest[0] == '[') {
    size_t close = rest.find(']');
    if (close == std::string::npos) return Status::InvalidArgument("mqtt.broker '" + uri + "': unclosed [");
    e.host = rest.substr(1, close - 1);
    if (close + 1 < rest.size()) {
      if (rest[close + 1] != ':') return Status::InvalidArgument("mqtt.broker '" + uri + "': junk after ]");
      port_text = rest.substr(close + 2);
    }
  } else {
    size_t colon = rest.rfind(':');
    e.host = rest.substr(0, colon);
    if (colon != std::string::npos) port_text = rest.substr(colon + 1);
  }
  if (e.host.empty() || e.host.find('/') != std::string::npos) {
    return Status::InvalidArgument("mqtt.broker '" + uri + "': no host");
  }
  if (!port_text.empty()) {
    int p = 0;
    for (char c : port_text) {
      if (c < '0' || c > '9' || p > 65535) return Status::InvalidArgument("mqtt.broker '" + uri + "': bad port");
      p = p * 10 + (c - '0');
    }
    if (p < 1 || p > 65535) return Status::InvalidArgument("mqtt.broker '" + uri + "': bad port");
    e.port = p;
  }
  return e;
}

struct PendingAck {
  uint64_t token;
  uint16_t packet_id;
  bool done;
};

class BuiltinConnection final : public MqttConnection {
 public:
  BuiltinConnection(MqttConnectionOptions options, MqttEvents events, Endpoint endpoint, int wake_fd)
      : o_(std::move(options)), ev_(std::move(events)), endpoint_(std::move(endpoint)), wake_fd_(wake_fd) {}

  ~BuiltinConnection() override {
    Stop();
    ::close(wake_fd_);
  }

  void Start() override {
    if (started_) return;
    started_ = true;
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() override {
    if (!started_ || stopping_.exchange(true)) return;
    {
      std::lock_guard lock(mu_);
      stop_requested_ = true;  // for the backoff wait's predicate
    }
    cv_.notify_all();
    Wake();
    if (thread_.joinable()) thread_.join();
    up_ = false;
  }

  bool connected() const override { return up_.load(); }

  void Ack(uint64_t token) override {
    bool wake = false;
    {
      std::lock_guard lock(ack_mu_);
      if (pending_.empty() || token < pending_.front().token || token > pending_.back().token) return;
      size_t i = static_cast<size_t>(token - pending_.front().token);
      pending_[i].done = true;
      wake = i == 0;
    }
    // One wake-up per burst of commit callbacks: the thread clears the flag
    // before it collects the done acknowledgements.
    if (wake && !wake_pending_.exchange(true)) Wake();
  }

 private:
  void Wake() {
    uint64_t one = 1;
    ssize_t n = ::write(wake_fd_, &one, sizeof(one));
    (void)n;  // EAGAIN: the counter is already non-zero, the thread wakes anyway
  }

  void DrainWake() {
    wake_pending_ = false;
    uint64_t v;
    ssize_t n = ::read(wake_fd_, &v, sizeof(v));
    (void)n;
  }

  size_t PendingCount() {
    std::lock_guard lock(ack_mu_);
    return pending_.size();
  }

  // Writes the PUBACKs of the done messages at the head of the queue.
  Status FlushAcks(net::ClientStream& s) {
    std::string out;
    {
      std::lock_guard lock(ack_mu_);
      while (!pending_.empty() && pending_.front().done) {
        mqtt::AppendPuback(pending_.front().packet_id, &out);
        pending_.pop_front();
      }
    }
    if (out.empty()) return Status::Ok();
    last_send_ms_ = NowMs();
    return s.WriteAll(out, kWriteTimeoutMs);
  }

  Status Send(net::ClientStream& s, const std::string& bytes) {
    last_send_ms_ = NowMs();
    return s.WriteAll(bytes, kWriteTimeoutMs);
  }

  // Reads what is there (all of it, with TLS) into the reader. kUnavailable
  // when the broker closed the connection.
  Status ReadAvailable(net::ClientStream& s, mqtt::PacketReader& reader) {
    do {
      Result<int64_t> n = s.ReadSome(buf_.data(), kReadChunk);
      if (!n.ok()) return n.status();
      if (*n == 0) break;
      reader.Feed(std::string_view(buf_.data(), static_cast<size_t>(*n)));
    } while (s.HasPending());
    return Status::Ok();
  }

  Status Handle(net::ClientStream& s, mqtt::Packet&& p, uint16_t sub_id) {
    switch (p.type) {
      case mqtt::kPublish: {
        if (p.qos > o_.qos) {
          return Status::Corruption("mqtt: the broker sent QoS " + std::to_string(p.qos) + " above the " +
                                    std::to_string(o_.qos) + " subscribed");
        }
        MqttMessage m;
        m.topic = std::move(p.topic);
        m.payload = std::move(p.payload);
        m.payload_bytes = p.payload_bytes;
        m.qos = p.qos;
        m.duplicate = p.dup;
        if (p.qos == 1) {
          std::lock_guard lock(ack_mu_);
          m.ack_token = next_token_++;
          pending_.push_back(PendingAck{m.ack_token, p.packet_id, false});
        }
        if (ev_.on_message) {
          ev_.on_message(std::move(m));
        } else if (m.ack_token != 0) {
          Ack(m.ack_token);
        }
        return FlushAcks(s);
      }
      case mqtt::kSuback: {
        if (p.packet_id != sub_id) return Status::Corruption("mqtt: SUBACK for an unknown packet id");
        for (size_t i = 0; i < p.granted.size() && i < o_.filters.size(); ++i) {
          if (p.granted[i] == 0x80) {
            ET_LOG_ERROR("mqtt {} ({}): the broker refused the subscription to '{}'", o_.server_uri, o_.client_id,
                         o_.filters[i]);
          }
        }
        MarkConnected();
        return Status::Ok();
      }
      case mqtt::kPingresp:
        ping_sent_ms_ = 0;
        return Status::Ok();
      case mqtt::kPuback:
      case mqtt::kUnsuback:
        return Status::Ok();  // never asked for; harmless
      default:
        return Status::Corruption(std::string("mqtt: unexpected packet type ") + std::to_string(p.type));
    }
  }

  void MarkConnected() {
    if (up_) return;
    up_ = true;
    session_up_ = true;
    if (failures_ > 0) ET_LOG_INFO("mqtt {}: connected after {} failed attempts", o_.server_uri, failures_);
    failures_ = 0;
    if (ev_.on_connected) ev_.on_connected();
  }

  // One connection, from connect to loss or stop.
  Status Session() {
    net::ClientStreamOptions so;
    so.host = endpoint_.host;
    so.port = endpoint_.port;
    so.tls = endpoint_.tls;
    so.ca_file = o_.ca_file;
    so.cert_file = o_.cert_file;
    so.key_file = o_.key_file;
    so.key_password = o_.key_password;
    so.verify = o_.tls_verify;
    so.connect_timeout_ms = o_.connect_timeout_s * 1000;
    ET_ASSIGN_OR_RETURN(std::unique_ptr<net::ClientStream> stream, net::ClientStream::Connect(so));
    net::ClientStream& s = *stream;
    mqtt::PacketReader reader(o_.payload_keep_max, o_.payload_head_bytes);

    mqtt::ConnectFields cf;
    cf.client_id = o_.client_id;
    cf.username = o_.username;
    cf.password = o_.password;
    cf.clean_session = false;
    cf.keepalive_s = o_.keepalive_s;
    ET_RETURN_IF_ERROR(Send(s, mqtt::EncodeConnect(cf)));
    int64_t deadline = NowMs() + o_.connect_timeout_s * 1000;
    bool accepted = false;
    while (!accepted) {
      ET_ASSIGN_OR_RETURN(std::optional<mqtt::Packet> p, reader.Next());
      if (p) {
        if (p->type != mqtt::kConnack) return Status::Corruption("mqtt: the broker answered CONNECT without CONNACK");
        if (p->return_code != 0) {
          return Status::Unavailable("connect refused: " + mqtt::ConnackReason(p->return_code));
        }
        accepted = true;
        break;
      }
      int64_t left = deadline - NowMs();
      if (stopping_) return Status::Ok();
      if (left <= 0) return Status::Unavailable("no CONNACK within the connect timeout");
      pollfd fds[2] = {{s.fd(), POLLIN, 0}, {wake_fd_, POLLIN, 0}};
      if (!s.HasPending() && ::poll(fds, 2, static_cast<int>(std::min<int64_t>(left, 1000))) <= 0) continue;
      if (fds[1].revents != 0) DrainWake();
      ET_RETURN_IF_ERROR(ReadAvailable(s, reader));
    }
    {
      std::lock_guard lock(ack_mu_);
      pending_.clear();  // tokens of a lost connection are ignored from now on
    }
    uint16_t sub_id = 0;
    int64_t sub_deadline = 0;
    if (o_.filters.empty()) {
      MarkConnected();
    } else {
      sub_id = next_packet_id_++;
      if (next_packet_id_ == 0) next_packet_id_ = 1;
      ET_RETURN_IF_ERROR(Send(s, mqtt::EncodeSubscribe(sub_id, o_.filters, o_.qos)));
      sub_deadline = NowMs() + o_.connect_timeout_s * 1000;
    }
    ping_sent_ms_ = 0;
    int64_t drain_deadline = 0;
    const int64_t keepalive_ms = static_cast<int64_t>(o_.keepalive_s) * 1000;
    for (;;) {
      // Whole packets already read first.
      while (drain_deadline == 0) {
        ET_ASSIGN_OR_RETURN(std::optional<mqtt::Packet> p, reader.Next());
        if (!p) break;
        ET_RETURN_IF_ERROR(Handle(s, std::move(*p), sub_id));
        if (stopping_) break;
      }
      ET_RETURN_IF_ERROR(FlushAcks(s));
      int64_t now = NowMs();
      if (stopping_) {
        if (drain_deadline == 0) drain_deadline = now + o_.stop_drain_ms;
        size_t left = PendingCount();
        if (left == 0 || now >= drain_deadline) {
          if (left > 0) {
            ET_LOG_INFO("mqtt {} ({}): stopping with {} message(s) not yet committed; the broker sends them again",
                        o_.server_uri, o_.client_id, left);
          }
          Status st = Send(s, mqtt::EncodeDisconnect());
          if (!st.ok()) ET_LOG_DEBUG("mqtt {}: disconnect: {}", o_.server_uri, st.message());
          return Status::Ok();
        }
      }
      if (!up_ && sub_deadline != 0 && now > sub_deadline) return Status::Unavailable("no SUBACK within the connect timeout");
      int64_t wait = 1000;
      if (keepalive_ms > 0) {
        if (ping_sent_ms_ != 0) {
          if (now - ping_sent_ms_ >= keepalive_ms) return Status::Unavailable("no PINGRESP within the keepalive interval");
          wait = std::min(wait, ping_sent_ms_ + keepalive_ms - now);
        } else if (now - last_send_ms_ >= keepalive_ms) {
          ET_RETURN_IF_ERROR(Send(s, mqtt::EncodePingreq()));
          ping_sent_ms_ = last_send_ms_;
          continue;
        } else {
          wait = std::min(wait, last_send_ms_ + keepalive_ms - now);
        }
      }
      if (drain_deadline != 0) wait = std::min<int64_t>(wait, std::max<int64_t>(drain_deadline - now, 0));
      bool reading = drain_deadline == 0;
      if (reading && s.HasPending()) {
        ET_RETURN_IF_ERROR(ReadAvailable(s, reader));
        continue;
      }
      pollfd fds[2] = {{s.fd(), static_cast<short>(reading ? POLLIN : 0), 0}, {wake_fd_, POLLIN, 0}};
      int rc = ::poll(fds, 2, static_cast<int>(std::max<int64_t>(wait, 0)));
      if (rc <= 0) continue;
      if (fds[1].revents != 0) DrainWake();
      if (reading && (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) != 0) {
        ET_RETURN_IF_ERROR(ReadAvailable(s, reader));
      }
    }
  }

  void Run() {
    std::mt19937_64 rng(std::random_device{}());
    int64_t backoff_ms = o_.reconnect_min_ms;
    while (!stopping_) {
      session_up_ = false;
      Status st = Session();
      bool was_up = session_up_;
      up_ = false;
      {
        std::lock_guard lock(ack_mu_);
        pending_.clear();
      }
      if (stopping_ && st.ok()) return;
      if (was_up) {
        backoff_ms = o_.reconnect_min_ms;
        if (ev_.on_lost) ev_.on_lost(st.ok() ? std::string("closed") : st.message());
      } else {
        ++failures_;
        ET_LOG_DEBUG("mqtt {} ({}): attempt {} failed: {}", o_.server_uri, o_.client_id, failures_, st.message());
        if (failures_ == 1 || failures_ % 20 == 0) {
          ET_LOG_WARN("mqtt {} ({}): {} (attempt {}, retrying)", o_.server_uri, o_.client_id, st.message(),
                      failures_);
        }
      }
      if (stopping_) return;
      std::uniform_int_distribution<int64_t> jitter(backoff_ms / 2, backoff_ms);
      int64_t wait_ms = was_up ? jitter(rng) / 4 : jitter(rng);
      if (!was_up) backoff_ms = std::min(backoff_ms * 2, o_.reconnect_max_ms);
      std::unique_lock lock(mu_);
      if (cv_.wait_for(lock, std::chrono::milliseconds(wait_ms), [&] { return stop_requested_; })) return;
    }
  }

  MqttConnectionOptions o_;
  MqttEvents ev_;
  Endpoint endpoint_;
  int wake_fd_;
  std::thread thread_;
  bool started_ = false;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> up_{false};
  std::atomic<bool> wake_pending_{false};  // an Ack() has written the eventfd
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_requested_ = false;  // GUARDED_BY(mu_)

  std::mutex ack_mu_;
  std::deque<PendingAck> pending_;  // GUARDED_BY(ack_mu_)
  uint64_t next_token_ = 1;         // GUARDED_BY(ack_mu_)

  // Connection thread only.
  std::vector<char> buf_ = std::vector<char>(static_cast<size_t>(kReadChunk));
  uint16_t next_packet_id_ = 1;
  int64_t last_send_ms_ = 0;
  int64_t ping_sent_ms_ = 0;
  int failures_ = 0;
  bool session_up_ = false;
};

}  // namespace

Result<std::unique_ptr<MqttConnection>> CreateBuiltinConnection(MqttConnectionOptions options,
                                                                MqttEvents events) {
  ET_ASSIGN_OR_RETURN(Endpoint endpoint, ParseUri(options.server_uri));
  if (options.client_id.empty() || options.client_id.size() > 65535) {
    return Status::InvalidArgument("mqtt.client_id: must be 1 to 65535 bytes");
  }
  if (options.qos < 0 || options.qos > 1) return Status::InvalidArgument("mqtt.qos: must be 0 or 1");
  if (endpoint.tls) {
    // Load the TLS files now so that a wrong path is a start-up error, not a
    // retry loop.
    for (const std::string* f : {&options.ca_file, &options.cert_file, &options.key_file}) {
      if (!f->empty() && ::access(f->c_str(), R_OK) != 0) {
        return Status::InvalidArgument("mqtt: cannot read '" + *f + "'");
      }
    }
  }
  int wake = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake < 0) return Status::Internal("mqtt: eventfd failed");
  return std::unique_ptr<MqttConnection>(
      new BuiltinConnection(std::move(options), std::move(events), std::move(endpoint), wake));
}

Result<std::unique_ptr<MqttConnection>> MqttConnection::Create(MqttConnectionOptions options,
                                                               MqttEvents events) {
  if (options.kind == MqttClientKind::kPaho) return CreatePahoConnection(std::move(options), std::move(events));
  return CreateBuiltinConnection(std::move(options), std::move(events));
}

}  // namespace edgetable::ingest::internal
