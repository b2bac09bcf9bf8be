#pragma once
// edge/net/server.h: EdgeTable's HTTP/1.1 server, optionally over TLS 1.2.
// Every HTTP endpoint (the DynamoDB API, the sync hub, /metrics) registers
// routes on a Router and is served by one of these. It knows nothing of items.
//
// Model:
//  - One I/O thread runs an epoll loop over non-blocking sockets: accepts,
//    TLS handshakes, reads, parses (http-parser), writes responses, enforces
//    timeouts. No thread per connection.
//  - A complete request goes to a fixed pool of worker threads that run the
//    handler; the response is written back by the I/O thread.
//  - Each connection has at most one request in a handler at a time. Further
//    pipelined requests wait in the socket until it is answered, so responses
//    leave in request order, and the worker queue never holds more than
//    connections_max requests (the bound of that queue).
//  - Keep-alive is the HTTP/1.1 default; "Connection: close" and HTTP/1.0
//    without keep-alive close after the response. Expect: 100-continue is
//    answered with 100 Continue once the headers passed the limits.
//
// Limits and what happens at them (all per connection unless stated):
//  - header bytes > header_bytes_max: 431, then close.
//  - declared body > body_bytes_max: 413 at once, before the body is read,
//    then close. A chunked body is refused the same way when it crosses it.
//  - malformed request: 400, then close.
//  - TLS handshake not done within handshake_timeout_ms, request headers not
//    complete within header_timeout_ms of their first byte, body not complete
//    within body_timeout_ms of the end of the headers, no new request within
//    idle_timeout_ms, or a response not draining for idle_timeout_ms: closed
//    without a response, counted in ServerStats::timeouts.
//  - connections_max open connections: further ones are accepted and closed
//    at once (counted in connections_rejected).
//  - bodies buffered over all connections > buffered_body_bytes_max: the
//    request that would pass it gets 503 + Retry-After, then close (counted
//    in overloaded). Request memory is thus about buffered_body_bytes_max
//    plus, per connection, header_bytes_max and a 64 KB read buffer;
//    responses are as large as handlers make them, and no new request is
//    parsed on a connection while 1 MB of its responses wait to be sent.
//
// Threads: Create() and Shutdown() from one owning thread, never from a
// handler (Shutdown waits for the workers); port() and stats() from any
// thread. Handlers run on worker threads (see router.h).
// Timeouts are checked every 50 ms, so they fire up to 50 ms late.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "edge/base/limits.h"
#include "edge/base/status.h"
#include "edge/net/router.h"

namespace edgetable::net {

enum class ClientCertMode {
  kNone,      // no client certificate is asked for
  kOptional,  // asked for; a client without one is served unauthenticated, a
              // client with one that does not verify is refused
  kRequired,  // a client without a certificate that verifies is refused
};

struct TlsOptions {
  std::string cert_chain_file;  // PEM: the server certificate, then intermediates
  std::string key_file;         // PEM: its private key (RSA or EC, unencrypted)
  std::string client_ca_file;   // PEM: CAs for client certificates; needed unless kNone
  ClientCertMode client_cert = ClientCertMode::kNone;
};

struct ServerOptions {
  std::string host = "127.0.0.1";  // numeric IPv4/IPv6 address or a name; "0.0.0.0" for all
  int port = 0;                    // 0: the kernel picks one; see Server::port()
  std::optional<TlsOptions> tls;   // unset: plain HTTP

  int worker_threads = 16;       // handlers running at once
  int connections_max = 1024;    // open connections, TLS or not
  int64_t header_bytes_max = limits::kRequestHeaderBytesMax;
  int64_t body_bytes_max = limits::kRequestBodyBytesMax;
  // Request bodies held in memory at once, over all connections (being read
  // or in a handler): the server's memory bound. A request whose body does
  // not fit gets 503 with Retry-After and the connection closes.
  int64_t buffered_body_bytes_max = 4 * limits::kRequestBodyBytesMax;

  int64_t handshake_timeout_ms = 10'000;
  int64_t header_timeout_ms = 10'000;
  int64_t body_timeout_ms = 30'000;
  int64_t idle_timeout_ms = 30'000;
  // After an error response that closes the connection, unread request bytes
  // are drained for at most this long, so the client reads the response
  // instead of a reset.
  int64_t linger_ms = 2'000;
  bool date_header = true;  // send a Date header
};

// Counters since Create(); each field is read atomically, the set is not a
// consistent snapshot.
struct ServerStats {
  int64_t connections_accepted = 0;
  int64_t connections_rejected = 0;  // over connections_max
  int64_t connections_active = 0;
  int64_t requests = 0;              // complete requests handed to handlers
  int64_t bad_requests = 0;          // answered 400/413/431 by the server itself
  int64_t overloaded = 0;            // answered 503: body budget exhausted
  int64_t handshakes = 0;            // TLS handshakes completed
  int64_t handshake_failures = 0;    // TLS handshakes failed (incl. refused client certs)
  int64_t timeouts = 0;              // connections closed by a timeout
  int64_t bytes_in = 0;              // socket bytes, TLS records included
  int64_t bytes_out = 0;
};

class Server {
 public:
  // Binds, listens, loads the TLS material and starts the I/O thread and the
  // workers: the returned server is serving.
  // Returns kInvalidArgument for bad options or unreadable/invalid TLS files
  // (the message names the file), kIOError when the address cannot be
  // resolved, bound or listened on, kInternal if a thread or epoll cannot be
  // created.
  static Result<std::unique_ptr<Server>> Create(ServerOptions options, Router router);

  // Shutdown(0) if still running.
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The bound port (the kernel's pick when options.port was 0).
  int port() const;

  // Graceful stop: stops accepting at once, closes idle connections, lets
  // requests already in a handler finish and their responses go out (with
  // "Connection: close"), then closes everything. Returns when all
  // connections are closed or deadline_ms passed, whichever is first, and the
  // workers have returned. Responses of handlers still running at the
  // deadline are dropped; a handler that never returns blocks this call.
  // Idempotent.
  void Shutdown(int64_t deadline_ms);

  ServerStats stats() const;

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace edgetable::net
