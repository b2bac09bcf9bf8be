#include "edge/app/status.h"

#include <netdb.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstring>
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

void Render(std::ostringstream& out, const nlohmann::json& j, const std::string& indent) {
  size_t width = 0;
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (!it.value().is_object() && !it.value().is_array()) width = std::max(width, it.key().size());
  }
  for (auto it = j.begin(); it != j.end(); ++it) {
    const nlohmann::json& v = it.value();
    if (v.is_object()) {
      out << indent << it.key() << ":\n";
      Render(out, v, indent + "  ");
    } else if (v.is_array()) {
      out << indent << it.key() << ":\n";
      for (const nlohmann::json& e : v) {
        if (e.is_object()) {
          out << indent << "  -\n";
          Render(out, e, indent + "    ");
        } else {
          out << indent << "  - " << (e.is_string() ? e.get<std::string>() : e.dump()) << "\n";
        }
      }
    } else {
      out << indent << it.key() << ":" << std::string(width - it.key().size() + 1, ' ')
          << (v.is_string() ? v.get<std::string>() : v.dump()) << "\n";
    }
  }
}

}  // namespace

std::string RenderStatus(const nlohmann::json& status) {
  std::ostringstream out;
  Render(out, status, "");
  return out.str();
}

}  // namespace edgetable::app
