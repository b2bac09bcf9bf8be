#include "edge/app/status.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <sstream>

namespace edgetable::app {

Result<nlohmann::json> FetchStatus(const ListenAddress& address) {
  std::string where = address.ToString();
  if (address.empty()) return Status::InvalidArgument("no plain HTTP API listener (api.listen) to ask");
  std::string host = address.host == "0.0.0.0" ? "127.0.0.1" : address.host == "::" ? "::1" : address.host;
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(address.port);
  if (getaddrinfo(host.c_str(), port.c_str(), &hints, &res) != 0 || res == nullptr) {
    return Status::Unavailable("cannot resolve " + where);
  }
  int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  bool connected = fd >= 0 && connect(fd, res->ai_addr, res->ai_addrlen) == 0;
  freeaddrinfo(res);
  if (!connected) {
    if (fd >= 0) close(fd);
    return Status::Unavailable("no edgetable answers on " + where + " (is it running?)");
  }
  std::string request = "GET /status HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n";
  if (send(fd, request.data(), request.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(request.size())) {
    close(fd);
    return Status::Unavailable("cannot send to " + where);
  }
  std::string response;
  char buf[8192];
  ssize_t n;
  while ((n = recv(fd, buf, sizeof(buf), 0)) > 0) response.append(buf, static_cast<size_t>(n));
  close(fd);
  size_t body = response.find("\r\n\r\n");
  if (response.compare(0, 12, "HTTP/1.1 200") != 0 || body == std::string::npos) {
    return Status::Corruption("unexpected answer from " + where + ": " + response.substr(0, 80));
  }
  Result<nlohmann::json> j = item::ParseJson(std::string_view(response).substr(body + 4));
  if (!j.ok()) return Status::Corruption("status from " + where + " is not JSON");
  return j;
}

namespace {

// Wall-clock times (epoch ms) are shown as UTC dates, renamed from "x_ms"
// to "x_at" (so that "last_error_at" does not collide with "last_error"),
// with their age measured against the node's own clock (node.now_ms, shown
// as "now"), so that a node with a wrong clock still reads right.
bool IsTimestamp(const std::string& key) {
  return key == "last_success_ms" || key == "last_error_ms" || key == "last_seen_ms" || key == "now_ms";
}

std::string ShownKey(const std::string& key) {
  if (key == "now_ms") return "now";
  return IsTimestamp(key) ? key.substr(0, key.size() - 3) + "_at" : key;
}

std::string Timestamp(int64_t ms, int64_t now_ms, bool with_age) {
  if (ms <= 0) return "never";
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char date[32];
  std::strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
  char text[96];
  std::snprintf(text, sizeof(text), "%s.%03dZ", date, static_cast<int>(ms % 1000));
  std::string out = text;
  if (with_age && now_ms > 0) {
    int64_t age_s = (now_ms - ms) / 1000;
    out += age_s >= 0 ? " (" + std::to_string(age_s) + " s ago)" : " (in the future)";
  }
  return out;
}

std::string Scalar(const std::string& key, const nlohmann::json& v, int64_t now_ms) {
  if (IsTimestamp(key) && v.is_number_integer()) return Timestamp(v.get<int64_t>(), now_ms, key != "now_ms");
  return v.is_string() ? v.get<std::string>() : v.dump();
}

void Render(std::ostringstream& out, const nlohmann::json& j, const std::string& indent, int64_t now_ms) {
  size_t width = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_object() && !it.value().is_array()) width = std::max(width, ShownKey(it.key()).size());
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& v = it.value();
    if (v.is_object()) {
      out << indent << it.key() << ":\n";
      Render(out, v, indent + "  ", now_ms);
    } else if (v.is_array()) {
      out << indent << it.key() << ":\n";
      for (const nlohmann::json& e : v) {
        if (e.is_object()) {
          out << indent << "  -\n";
          Render(out, e, indent + "    ", now_ms);
        } else {
          out << indent << "  - " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
        }
      }
    } else {
      std::string key = ShownKey(it.key());
      out << indent << key << ":" << std::string(width - key.size() + 1, ' ') << Scalar(it.key(), v, now_ms)
          << "\n";
    }
  }
}

}  // namespace

std::string RenderStatus(const nlohmann::json& status) {
  std::ostringstream out;
  int64_t now_ms = 0;
  if (status.contains("node") && status["node"].is_object() && status["node"].contains("now_ms") &&
      status["node"]["now_ms"].is_number_integer()) {
    now_ms = status["node"]["now_ms"].get<int64_t>();
  }
  Render(out, status, "", now_ms);
  return out.str();
}

}  // namespace edgetable::app
