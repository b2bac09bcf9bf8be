#pragma once
// edge/net: one outgoing byte stream, TCP or TLS (mbedTLS), for the clients
// EdgeTable speaks itself (the MQTT subscriber in edge/ingest). The socket is
// non-blocking; the owner waits on fd() (poll) and calls ReadSome/WriteAll.
//
// TLS: TLS 1.2 minimum; the server's certificate is verified against ca_file
// (or the system bundle when ca_file is empty) and its name against the host
// the stream was opened to, unless verify is off; an optional client
// certificate and key (PEM, the key optionally encrypted).
//
// Threads: a ClientStream is used by one thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edge/base/status.h"

namespace edgetable::net {

struct ClientStreamOptions {
  std::string host;
  int port = 0;
  bool tls = false;
  std::string ca_file;    // PEM bundle; empty: /etc/ssl/certs/ca-certificates.crt
  std::string cert_file;  // client certificate (PEM), optional
  std::string key_file;   // its key (PEM)
  std::string key_password;
  bool verify = true;     // server certificate and host name
  int connect_timeout_ms = 10000;  // TCP connect plus the TLS handshake
};

class ClientStream {
 public:
  // Resolves host, connects (TCP_NODELAY) and completes the TLS handshake.
  // kInvalidArgument for files that cannot be loaded; kUnavailable for
  // everything a retry may cure (refused, unreachable, timed out, handshake
  // or verification failure: the message says which).
  static Result<std::unique_ptr<ClientStream>> Connect(const ClientStreamOptions& options);
  ~ClientStream();  // closes the socket (a TLS close_notify is sent first, best effort)
  ClientStream(const ClientStream&) = delete;
  ClientStream& operator=(const ClientStream&) = delete;

  int fd() const;
  // Reads up to len bytes without waiting: 0 when nothing is there now.
  // kUnavailable when the peer closed the stream or it failed.
  Result<int64_t> ReadSome(char* buf, int64_t len);
  // Whether decrypted bytes wait inside the TLS layer (poll cannot see them).
  bool HasPending() const;
  // Writes every byte, waiting for the socket up to timeout_ms in total.
  Status WriteAll(std::string_view data, int timeout_ms);

 private:
  struct Impl;
  explicit ClientStream(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::net
