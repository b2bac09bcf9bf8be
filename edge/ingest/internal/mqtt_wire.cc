#include "edge/ingest/internal/mqtt_wire.h"

#include <algorithm>

namespace edgetable::ingest::internal::mqtt {
namespace {

void AppendU16(uint16_t v, std::string* out) {
  out->push_back(static_cast<char>(v >> 8));
  out->push_back(static_cast<char>(v & 0xff));
}

void AppendString(std::string_view s, std::string* out) {
  AppendU16(static_cast<uint16_t>(s.size()), out);
  out->append(s);
}

void AppendLength(int64_t n, std::string* out) {
  do {
    uint8_t b = static_cast<uint8_t>(n % 128);
    n /= 128;
    if (n > 0) b |= 0x80;
    out->push_back(static_cast<char>(b));
  } while (n > 0);
}

std::string Frame(uint8_t first, const std::string& body) {
  std::string out;
  out.reserve(body.size() + 5);
  out.push_back(static_cast<char>(first));
  AppendLength(static_cast<int64_t>(body.size()), &out);
  out += body;
  return out;
}

uint16_t U16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) | static_cast<uint8_t>(s[at + 1]));
}

Status Malformed(std::string what) { return Status::Corruption("mqtt: malformed packet from the broker: " + what); }

const char* TypeName(int type) {
  static const char* const kNames[] = {"reserved", "CONNECT", "CONNACK", "PUBLISH", "PUBACK", "PUBREC",
                                       "PUBREL", "PUBCOMP", "SUBSCRIBE", "SUBACK", "UNSUBSCRIBE",
                                       "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT", "reserved"};
  return kNames[type & 0xf];
}

}  // namespace

std::string EncodeConnect(const ConnectFields& c) {
  std::string body;
  AppendString("MQTT", &body);
  body.push_back(4);  // protocol level 3.1.1
  uint8_t flags = 0;
  if (!c.username.empty()) flags |= 0x80;
  if (!c.password.empty()) flags |= 0x40;
  if (c.clean_session) flags |= 0x02;
  body.push_back(static_cast<char>(flags));
  AppendU16(static_cast<uint16_t>(std::clamp(c.keepalive_s, 0, 65535)), &body);
  AppendString(c.client_id, &body);
  if (!c.username.empty()) AppendString(c.username, &body);
  if (!c.password.empty()) AppendString(c.password, &body);
  return Frame(kConnect << 4, body);
}

std::string EncodeSubscribe(uint16_t packet_id, const std::vector<std::string>& filters, int qos) {
  std::string body;
  AppendU16(packet_id, &body);
  for (const std::string& f : filters) {
    AppendString(f, &body);
    body.push_back(static_cast<char>(qos));
  }
  return Frame((kSubscribe << 4) | 0x2, body);
}

void AppendPuback(uint16_t packet_id, std::string* out) {
  out->push_back(static_cast<char>(kPuback << 4));
  out->push_back(2);
  AppendU16(packet_id, out);
}

std::string EncodePingreq() { return std::string{static_cast<char>(kPingreq << 4), 0}; }
std::string EncodeDisconnect() { return std::string{static_cast<char>(kDisconnect << 4), 0}; }

std::string ConnackReason(int return_code) {
  switch (return_code) {
    case 0: return "accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "client identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "refused with code " + std::to_string(return_code);
  }
}

void PacketReader::Feed(std::string_view bytes) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > 64 * 1024 && pos_ * 2 > buf_.size()) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<Packet>> PacketReader::Next() {
  std::string_view in(buf_);
  in.remove_prefix(pos_);
  if (skipping_) {
    int64_t take = std::min<int64_t>(skip_left_, static_cast<int64_t>(in.size()));
    pos_ += static_cast<size_t>(take);
    skip_left_ -= take;
    if (skip_left_ > 0) return std::optional<Packet>();
    std::optional<Packet> done = std::move(skipping_);
    skipping_.reset();
    return done;
  }
  if (in.size() < 2) return std::optional<Packet>();
  uint8_t first = static_cast<uint8_t>(in[0]);
  int64_t length = 0;
  size_t header = 1;
  for (int shift = 0;; shift += 7) {
    if (header >= in.size()) return std::optional<Packet>();
    if (header == 5) return Malformed("remaining length over 4 bytes");
    uint8_t b = static_cast<uint8_t>(in[header++]);
    length += static_cast<int64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  int type = first >> 4;
  if (type != kPublish && length > kControlPacketMax) {
    return Malformed(std::string(TypeName(type)) + " of " + std::to_string(length) + " bytes");
  }
  if (type == kPublish && length > keep_max_) {
    // Possibly an oversized payload: look at the variable header first.
    if (in.size() < header + 2) return std::optional<Packet>();
    int qos = (first >> 1) & 3;
    int64_t var = 2 + U16(in, header) + (qos > 0 ? 2 : 0);
    if (var > length) return Malformed("PUBLISH topic longer than the packet");
    int64_t payload = length - var;
    if (payload > keep_max_) {
      int64_t head = std::min(payload, head_bytes_);
      if (static_cast<int64_t>(in.size()) < static_cast<int64_t>(header) + var + head) {
        return std::optional<Packet>();
      }
      Packet p;
      std::string_view body = in.substr(header, static_cast<size_t>(var + head));
      ET_RETURN_IF_ERROR(ParseBody(first, body, &p));
      p.payload_bytes = payload;
      pos_ += header + static_cast<size_t>(var + head);
      skip_left_ = payload - head;
      skipping_ = std::move(p);
      return Next();
    }
  }
  if (static_cast<int64_t>(in.size()) < static_cast<int64_t>(header) + length) return std::optional<Packet>();
  Packet p;
  ET_RETURN_IF_ERROR(ParseBody(first, in.substr(header, static_cast<size_t>(length)), &p));
  pos_ += header + static_cast<size_t>(length);
  return std::optional<Packet>(std::move(p));
}

Status PacketReader::ParseBody(uint8_t first, std::string_view body, Packet* out) {
  int type = first >> 4;
  out->type = static_cast<PacketType>(type);
  out->flags = first & 0xf;
  if (type != kPublish && out->flags != 0) {
    return Malformed(std::string(TypeName(type)) + " with reserved flags set");
  }
  switch (type) {
    case kConnack:
      if (body.size() != 2) return Malformed("CONNACK of " + std::to_string(body.size()) + " bytes");
      out->session_present = (static_cast<uint8_t>(body[0]) & 1) != 0;
      out->return_code = static_cast<uint8_t>(body[1]);
      return Status::Ok();
    case kSuback:
      if (body.size() < 3) return Malformed("SUBACK without return codes");
      out->packet_id = U16(body, 0);
      out->granted.assign(body.begin() + 2, body.end());
      return Status::Ok();
    case kPuback:
    case kUnsuback:
      if (body.size() != 2) return Malformed(std::string(TypeName(type)) + " of wrong length");
      out->packet_id = U16(body, 0);
      return Status::Ok();
    case kPingresp:
      if (!body.empty()) return Malformed("PINGRESP with a body");
      return Status::Ok();
    case kPublish: {
      out->dup = (out->flags & 0x8) != 0;
      out->qos = (out->flags >> 1) & 3;
      out->retain = (out->flags & 1) != 0;
      if (out->qos == 3) return Malformed("PUBLISH with QoS 3");
      if (body.size() < 2) return Malformed("PUBLISH without a topic");
      size_t topic_len = U16(body, 0);
      size_t at = 2 + topic_len + (out->qos > 0 ? 2 : 0);
      if (at > body.size()) return Malformed("PUBLISH topic longer than the packet");
      out->topic.assign(body.substr(2, topic_len));
      if (out->qos > 0) out->packet_id = U16(body, 2 + topic_len);
      out->payload.assign(body.substr(at));
      out->payload_bytes = static_cast<int64_t>(out->payload.size());
      return Status::Ok();
    }
    default:
      return Malformed(std::string("a broker does not send ") + TypeName(type) + " to a subscriber");
  }
}

}  // namespace edgetable::ingest::internal::mqtt
