#pragma once
// MQTT 3.1.1 (OASIS standard, protocol level 4) packets as EdgeTable's
// subscriber needs them: it encodes CONNECT, SUBSCRIBE, PUBACK, PINGREQ and
// DISCONNECT, and decodes what a broker sends a subscriber (CONNACK, SUBACK,
// PUBLISH, PINGRESP, and PUBACK/UNSUBACK, which it never asks for).
//
// PacketReader turns a byte stream into packets without holding more than
// one packet's bytes: a PUBLISH whose remaining length is over
// `payload_keep_max` keeps only its first `payload_head_bytes` payload bytes
// and skips the rest as it arrives, so a 256 MB payload costs no memory (the
// message is still delivered, marked truncated, to become a dead letter).
// Any other packet over kControlPacketMax bytes, a malformed length or a
// packet a broker must not send is a protocol error (the connection must be
// closed).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "edge/base/status.h"

namespace edgetable::ingest::internal::mqtt {

enum PacketType : uint8_t {
  kConnect = 1,
  kConnack = 2,
  kPublish = 3,
  kPuback = 4,
  kPubrec = 5,
  kPubrel = 6,
  kPubcomp = 7,
  kSubscribe = 8,
  kSuback = 9,
  kUnsubscribe = 10,
  kUnsuback = 11,
  kPingreq = 12,
  kPingresp = 13,
  kDisconnect = 14,
};

inline constexpr int64_t kControlPacketMax = 64 * 1024;
inline constexpr int64_t kRemainingLengthMax = 268'435'455;  // 4 length bytes

struct ConnectFields {
  std::string client_id;
  std::string username;  // sent when non-empty
  std::string password;  // sent when non-empty
  bool clean_session = false;
  int keepalive_s = 30;
};

std::string EncodeConnect(const ConnectFields& c);
// filters with their maximum QoS (0 or 1).
std::string EncodeSubscribe(uint16_t packet_id, const std::vector<std::string>& filters, int qos);
void AppendPuback(uint16_t packet_id, std::string* out);
std::string EncodePingreq();
std::string EncodeDisconnect();

struct Packet {
  PacketType type = kConnack;
  uint8_t flags = 0;  // low nibble of the first byte
  // CONNACK
  bool session_present = false;
  int return_code = 0;
  // SUBACK: one code per filter (0, 1, 2 granted; 0x80 refused)
  std::vector<uint8_t> granted;
  // PUBLISH
  std::string topic;
  std::string payload;        // whole, or its head when truncated
  int64_t payload_bytes = 0;  // the full payload size
  int qos = 0;
  bool dup = false;
  bool retain = false;
  // PUBLISH (QoS > 0), PUBACK, SUBACK, UNSUBACK
  uint16_t packet_id = 0;
};

// Why a CONNACK refused, in words.
std::string ConnackReason(int return_code);

class PacketReader {
 public:
  PacketReader(int64_t payload_keep_max, int64_t payload_head_bytes)
      : keep_max_(payload_keep_max), head_bytes_(payload_head_bytes) {}

  // Adds bytes from the stream.
  void Feed(std::string_view bytes);
  // The next whole packet, if the bytes fed so far hold one. An error
  // (kDataLoss) is final: the stream is out of step and must be closed.
  Result<std::optional<Packet>> Next();
  // Bytes held now (for tests of the memory bound).
  int64_t buffered() const { return static_cast<int64_t>(buf_.size() - pos_); }

 private:
  Status ParseBody(uint8_t first, std::string_view body, Packet* out);

  std::string buf_;
  size_t pos_ = 0;
  int64_t keep_max_;
  int64_t head_bytes_;
  // Skipping the tail of an oversized PUBLISH.
  std::optional<Packet> skipping_;
  int64_t skip_left_ = 0;
};

}  // namespace edgetable::ingest::internal::mqtt
