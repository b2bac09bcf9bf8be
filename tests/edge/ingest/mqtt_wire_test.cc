// The MQTT 3.1.1 packets of the builtin subscriber: encodings byte for byte
// against the standard's examples, a reader fed one byte at a time, the
// memory bound on oversized payloads, and every malformed input refused.
#include "edge/ingest/internal/mqtt_wire.h"

#include <gtest/gtest.h>

#include <random>

namespace edgetable::ingest::internal::mqtt {
namespace {

std::string Bytes(std::initializer_list<int> b) {
  std::string s;
  for (int x : b) s.push_back(static_cast<char>(x));
  return s;
}

std::string Publish(const std::string& topic, const std::string& payload, int qos, uint16_t id, bool dup = false) {
  std::string body;
  body.push_back(static_cast<char>(topic.size() >> 8));
  body.push_back(static_cast<char>(topic.size() & 0xff));
  body += topic;
  if (qos > 0) {
    body.push_back(static_cast<char>(id >> 8));
    body.push_back(static_cast<char>(id & 0xff));
  }
  body += payload;
  std::string out;
  out.push_back(static_cast<char>(0x30 | (dup ? 8 : 0) | (qos << 1)));
  size_t n = body.size();
  do {
    uint8_t b = n % 128;
    n /= 128;
    if (n > 0) b |= 0x80;
    out.push_back(static_cast<char>(b));
  } while (n > 0);
  return out + body;
}

TEST(MqttWire, EncodesConnect) {
  ConnectFields c;
  c.client_id = "gw";
  c.keepalive_s = 60;
  EXPECT_EQ(EncodeConnect(c), Bytes({0x10, 14, 0, 4, 'M', 'Q', 'T', 'T', 4, 0x00, 0, 60, 0, 2, 'g', 'w'}));
  c.username = "u";
  c.password = "p";
  c.clean_session = true;
  EXPECT_EQ(EncodeConnect(c),
            Bytes({0x10, 20, 0, 4, 'M', 'Q', 'T', 'T', 4, 0xC2, 0, 60, 0, 2, 'g', 'w', 0, 1, 'u', 0, 1, 'p'}));
}

TEST(MqttWire, EncodesSubscribePubackPingDisconnect) {
  EXPECT_EQ(EncodeSubscribe(7, {"a/+", "b/#"}, 1),
            Bytes({0x82, 14, 0, 7, 0, 3, 'a', '/', '+', 1, 0, 3, 'b', '/', '#', 1}));
  std::string acks;
  AppendPuback(0x1234, &acks);
  AppendPuback(1, &acks);
  EXPECT_EQ(acks, Bytes({0x40, 2, 0x12, 0x34, 0x40, 2, 0, 1}));
  EXPECT_EQ(EncodePingreq(), Bytes({0xC0, 0}));
  EXPECT_EQ(EncodeDisconnect(), Bytes({0xE0, 0}));
}

TEST(MqttWire, ReadsPacketsFedOneByteAtATime) {
  std::string stream = Bytes({0x20, 2, 1, 0}) + Bytes({0x90, 3, 0, 7, 1}) +
                       Publish("sensors/a", "{\"ts\":1}", 1, 42, true) + Publish("q0", "", 0, 0) +
                       Bytes({0xD0, 0}) + Publish("big", std::string(300, 'x'), 1, 9);
  PacketReader r(1 << 20, 64);
  std::vector<Packet> got;
  for (char c : stream) {
    r.Feed(std::string_view(&c, 1));
    for (;;) {
      auto p = r.Next();
      ASSERT_TRUE(p.ok()) << p.status().message();
      if (!*p) break;
      got.push_back(std::move(**p));
    }
  }
  ASSERT_EQ(got.size(), 6u);
  EXPECT_EQ(got[0].type, kConnack);
  EXPECT_TRUE(got[0].session_present);
  EXPECT_EQ(got[0].return_code, 0);
  EXPECT_EQ(got[1].type, kSuback);
  EXPECT_EQ(got[1].packet_id, 7);
  EXPECT_EQ(got[1].granted, std::vector<uint8_t>{1});
  EXPECT_EQ(got[2].type, kPublish);
  EXPECT_EQ(got[2].topic, "sensors/a");
  EXPECT_EQ(got[2].payload, "{\"ts\":1}");
  EXPECT_EQ(got[2].qos, 1);
  EXPECT_TRUE(got[2].dup);
  EXPECT_EQ(got[2].packet_id, 42);
  EXPECT_EQ(got[3].qos, 0);
  EXPECT_EQ(got[3].payload, "");
  EXPECT_EQ(got[4].type, kPingresp);
  EXPECT_EQ(got[5].payload.size(), 300u);  // two length bytes
  EXPECT_EQ(got[5].payload_bytes, 300);
  EXPECT_EQ(r.buffered(), 0);
}

TEST(MqttWire, OversizedPayloadKeepsItsHeadAndSkipsTheRest) {
  const int64_t keep_max = 1000, head = 100;
  std::string payload(5'000'000, 'p');
  for (size_t i = 0; i < payload.size(); i += 997) payload[i] = static_cast<char>('a' + i % 26);
  std::string stream = Publish("t/x", payload, 1, 5) + Publish("t/y", "small", 1, 6);
  PacketReader r(keep_max, head);
  std::vector<Packet> got;
  int64_t most = 0;
  std::mt19937 rng(3);
  for (size_t at = 0; at < stream.size();) {
    size_t n = std::min<size_t>(stream.size() - at, 1 + rng() % 70000);
    r.Feed(std::string_view(stream).substr(at, n));
    at += n;
    most = std::max(most, r.buffered());
    for (;;) {
      auto p = r.Next();
      ASSERT_TRUE(p.ok()) << p.status().message();
      if (!*p) break;
      got.push_back(std::move(**p));
    }
  }
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].topic, "t/x");
  EXPECT_EQ(got[0].packet_id, 5);
  EXPECT_EQ(got[0].payload, payload.substr(0, head));
  EXPECT_EQ(got[0].payload_bytes, 5'000'000);
  EXPECT_EQ(got[1].payload, "small");
  EXPECT_EQ(got[1].payload_bytes, 5);
  EXPECT_LT(most, 70000 + keep_max + 16);  // never the whole payload
}

TEST(MqttWire, RefusesMalformedInput) {
  auto first_error = [](const std::string& bytes) -> std::string {
    PacketReader r(1 << 20, 64);
    r.Feed(bytes);
    auto p = r.Next();
    if (p.ok()) return *p ? "a packet" : "nothing yet";
    return p.status().message();
  };
  EXPECT_NE(first_error(Bytes({0x30, 0xff, 0xff, 0xff, 0xff, 0x01})).find("remaining length over 4 bytes"),
            std::string::npos);
  EXPECT_NE(first_error(Bytes({0x20, 3, 0, 0, 0})).find("CONNACK of 3 bytes"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x21, 2, 0, 0})).find("reserved flags"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x36, 5, 0, 1, 't', 0, 1})).find("QoS 3"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x30, 3, 0, 9, 't'})).find("topic longer than the packet"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x90, 2, 0, 1})).find("SUBACK without return codes"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x50, 2, 0, 1})).find("does not send PUBREC"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x10, 0})).find("does not send CONNECT"), std::string::npos);
  EXPECT_NE(first_error(Bytes({0x90, 0x80, 0x80, 0x10})).find("SUBACK of 262144 bytes"), std::string::npos);
  EXPECT_EQ(first_error(Bytes({0x30, 0x80})), "nothing yet");  // an unfinished length
  EXPECT_EQ(ConnackReason(5), "not authorized");
  EXPECT_EQ(ConnackReason(4), "bad user name or password");
}

TEST(MqttWire, RandomCutsNeverCrash) {
  std::string good = Bytes({0x20, 2, 0, 0}) + Publish("a/b", "xyz", 1, 3) + Bytes({0xD0, 0});
  std::mt19937 rng(11);
  for (int round = 0; round < 3000; ++round) {
    std::string s = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) s[rng() % s.size()] = static_cast<char>(rng());
    s.resize(rng() % (s.size() + 1));
    PacketReader r(64, 16);
    r.Feed(s);
    for (int i = 0; i < 10; ++i) {
      auto p = r.Next();
      if (!p.ok() || !*p) break;
    }
  }
}

}  // namespace
}  // namespace edgetable::ingest::internal::mqtt
