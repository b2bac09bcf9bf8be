// The builtin MQTT subscriber against a scripted broker on a loopback
// socket: it connects with a persistent session, subscribes, and sends a
// message's PUBACK only after Ack(), in arrival order; a lost connection
// makes older tokens void and the session is opened again.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

#include "edge/ingest/internal/mqtt_client.h"
#include "edge/ingest/internal/mqtt_wire.h"

namespace edgetable::ingest::internal {
namespace {

using namespace std::chrono_literals;

class FakeBroker {
 public:
  FakeBroker() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_EQ(::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)), 0);
    socklen_t len = sizeof(a);
    ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    EXPECT_EQ(::listen(listen_fd_, 4), 0);
  }
  ~FakeBroker() {
    if (fd_ >= 0) ::close(fd_);
    ::close(listen_fd_);
  }
  int port() const { return port_; }

  // Accepts the next connection and reads packets until the SUBSCRIBE,
  // answering CONNACK and SUBACK. Returns the CONNECT packet's bytes.
  std::string AcceptSession() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = ::accept(listen_fd_, nullptr, nullptr);
    EXPECT_GE(fd_, 0);
    std::string connect = ReadPacket(5000);
    Send(std::string{0x20, 2, 0, 0});
    std::string sub = ReadPacket(5000);
    EXPECT_EQ(static_cast<uint8_t>(sub[0]), 0x82);
    // SUBACK with the SUBSCRIBE's packet id (bytes 2-3: a one-byte length).
    Send(std::string{static_cast<char>(0x90), 3, sub[2], sub[3], 1});
    return connect;
  }

  void Publish(uint16_t id, const std::string& topic, const std::string& payload) {
    std::string body;
    body.push_back(0);
    body.push_back(static_cast<char>(topic.size()));
    body += topic;
    body.push_back(static_cast<char>(id >> 8));
    body.push_back(static_cast<char>(id & 0xff));
    body += payload;
    std::string p{0x32, static_cast<char>(body.size())};
    Send(p + body);
  }

  void Send(const std::string& bytes) { ASSERT_EQ(::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL), static_cast<ssize_t>(bytes.size())); }
  void Drop() {
    ::close(fd_);
    fd_ = -1;
  }

  // One whole packet, or "" after timeout_ms.
  std::string ReadPacket(int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    for (;;) {
      if (buf_.size() >= 2) {
        size_t len = static_cast<uint8_t>(buf_[1]);  // the tests' packets are short
        if (buf_.size() >= 2 + len) {
          std::string p = buf_.substr(0, 2 + len);
          buf_.erase(0, 2 + len);
          return p;
        }
      }
      int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                      deadline - std::chrono::steady_clock::now())
                                      .count());
      if (left <= 0) return "";
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, left) <= 0) return "";
      char b[4096];
      ssize_t n = ::recv(fd_, b, sizeof(b), 0);
      if (n <= 0) return "";
      buf_.append(b, static_cast<size_t>(n));
    }
  }

 private:
  int listen_fd_ = -1;
  int fd_ = -1;
  int port_ = 0;
  std::string buf_;
};

struct Received {
  std::mutex mu;
  std::vector<MqttMessage> messages;
  size_t size() {
    std::lock_guard l(mu);
    return messages.size();
  }
  uint64_t token(size_t i) {
    std::lock_guard l(mu);
    return messages[i].ack_token;
  }
};

bool WaitFor(const std::function<bool()>& f) {
  for (int i = 0; i < 500; ++i) {
    if (f()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

std::unique_ptr<MqttConnection> Connect(FakeBroker& broker, Received& got) {
  MqttConnectionOptions o;
  o.server_uri = "tcp://127.0.0.1:" + std::to_string(broker.port());
  o.client_id = "gw-1";
  o.filters = {"sensors/#"};
  o.reconnect_min_ms = 20;
  o.reconnect_max_ms = 50;
  o.stop_drain_ms = 300;
  MqttEvents ev;
  ev.on_message = [&got](MqttMessage&& m) {
    std::lock_guard l(got.mu);
    got.messages.push_back(std::move(m));
  };
  auto c = MqttConnection::Create(o, ev);
  EXPECT_TRUE(c.ok()) << c.status().message();
  return std::move(*c);
}

TEST(MqttBuiltin, AcknowledgesOnlyAckedMessagesInArrivalOrder) {
  FakeBroker broker;
  Received got;
  auto conn = Connect(broker, got);
  conn->Start();
  std::string connect = broker.AcceptSession();
  ASSERT_GE(connect.size(), 12u);
  EXPECT_EQ(static_cast<uint8_t>(connect[9]) & 0x02, 0) << "clean session must be off";
  ASSERT_TRUE(WaitFor([&] { return conn->connected(); }));

  broker.Publish(10, "sensors/a", "1");
  broker.Publish(11, "sensors/b", "2");
  broker.Publish(12, "sensors/c", "3");
  ASSERT_TRUE(WaitFor([&] { return got.size() == 3; }));
  EXPECT_EQ(got.messages[0].topic, "sensors/a");
  EXPECT_EQ(got.messages[2].payload, "3");
  EXPECT_EQ(got.messages[1].qos, 1);

  EXPECT_EQ(broker.ReadPacket(200), "") << "nothing is acknowledged before Ack()";
  conn->Ack(got.token(2));  // the newest first: must wait for the older ones
  EXPECT_EQ(broker.ReadPacket(200), "");
  conn->Ack(got.token(0));
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{0x40, 2, 0, 10}));
  EXPECT_EQ(broker.ReadPacket(200), "");
  conn->Ack(got.token(1));
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{0x40, 2, 0, 11}));
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{0x40, 2, 0, 12}));
  conn->Ack(got.token(1));  // twice: nothing more
  EXPECT_EQ(broker.ReadPacket(200), "");
  conn->Stop();
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{static_cast<char>(0xE0), 0}));
}

TEST(MqttBuiltin, TokensOfALostConnectionAreVoidAndTheSessionReopens) {
  FakeBroker broker;
  Received got;
  auto conn = Connect(broker, got);
  conn->Start();
  broker.AcceptSession();
  broker.Publish(1, "sensors/a", "x");
  ASSERT_TRUE(WaitFor([&] { return got.size() == 1; }));
  uint64_t old_token = got.token(0);
  broker.Drop();  // the broker sends message 1 again on the next session
  broker.AcceptSession();
  ASSERT_TRUE(WaitFor([&] { return conn->connected(); }));
  broker.Publish(1, "sensors/a", "x");
  ASSERT_TRUE(WaitFor([&] { return got.size() == 2; }));
  conn->Ack(old_token);
  EXPECT_EQ(broker.ReadPacket(200), "") << "an acknowledgement meant for the lost connection";
  conn->Ack(got.token(1));
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{0x40, 2, 0, 1}));
  conn->Stop();
}

TEST(MqttBuiltin, StopWaitsForPendingAcknowledgements) {
  FakeBroker broker;
  Received got;
  auto conn = Connect(broker, got);
  conn->Start();
  broker.AcceptSession();
  broker.Publish(3, "sensors/a", "x");
  ASSERT_TRUE(WaitFor([&] { return got.size() == 1; }));
  std::thread late([&] {
    std::this_thread::sleep_for(100ms);
    conn->Ack(got.token(0));
  });
  conn->Stop();  // drains for up to stop_drain_ms (300 ms)
  late.join();
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{0x40, 2, 0, 3}));
  EXPECT_EQ(broker.ReadPacket(2000), (std::string{static_cast<char>(0xE0), 0}));
}

TEST(MqttBuiltin, RefusesBadUris) {
  for (const char* uri : {"http://x:1", "tcp://", "tcp://host:0", "tcp://host:99999", "tcp://[::1", "tcp://h:12x"}) {
    MqttConnectionOptions o;
    o.server_uri = uri;
    o.client_id = "x";
    EXPECT_FALSE(MqttConnection::Create(o, MqttEvents{}).ok()) << uri;
  }
  MqttConnectionOptions o;
  o.server_uri = "mqtt://[::1]:1884";
  o.client_id = "x";
  EXPECT_TRUE(MqttConnection::Create(o, MqttEvents{}).ok());
}

}  // namespace
}  // namespace edgetable::ingest::internal
