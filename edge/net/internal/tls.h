#pragma once
// TLS for edge/net: the one place mbedTLS's SSL layer is used (tls.cc).
// TlsContext holds what a server shares across connections (configuration,
// certificate chain, key, client CA, one entropy source and CTR-DRBG);
// TlsSession is one connection's TLS state over a non-blocking socket.
//
// Threads: a TlsSession is used by one thread at a time (the I/O thread).
// The TlsContext's random generator is behind a mutex, so sessions may run
// on several threads. The context must outlive its sessions.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "edge/base/status.h"
#include "edge/net/server.h"

namespace edgetable::net::internal {

class TlsSession;

// Raw socket byte counters the sessions add to (server statistics).
struct ByteCounters {
  std::atomic<int64_t> in{0};
  std::atomic<int64_t> out{0};
};

// mbedTLS's words for an error code, with the code: "… (-0x7880)".
std::string MbedError(int rc);

// A socket under mbedTLS's BIO callbacks (mbedtls_ssl_set_bio with a
// Socket*): non-blocking send/recv mapped to mbedTLS's WANT_* and NET_*
// codes, counting bytes into `counters` when it is not null. Used by the
// server's sessions and by net::ClientStream.
struct Socket {
  int fd;
  ByteCounters* counters;
};
int BioSend(void* socket, const unsigned char* buf, size_t len);
int BioRecv(void* socket, unsigned char* buf, size_t len);

class TlsContext {
 public:
  // Loads cert chain, key and client CA (as options say), TLS 1.2 minimum,
  // ECDHE with AES-GCM or ChaCha20-Poly1305 only.
  // Returns kInvalidArgument naming the file that cannot be read or parsed,
  // or a key that does not match the certificate; kInternal if the DRBG
  // cannot be seeded.
  static Result<std::unique_ptr<TlsContext>> Create(const TlsOptions& options);
  ~TlsContext();
  TlsContext(const TlsContext&) = delete;
  TlsContext& operator=(const TlsContext&) = delete;

  // A server-side session on fd (non-blocking, owned by the caller, which
  // closes it after the session is gone). counters must outlive the session.
  // Returns kInternal if mbedTLS cannot allocate the session.
  Result<std::unique_ptr<TlsSession>> NewSession(int fd, ByteCounters* counters);

 private:
  struct Impl;
  explicit TlsContext(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class TlsSession {
 public:
  enum class Io {
    kOk,         // done / some bytes moved
    kWantRead,   // retry when the socket is readable
    kWantWrite,  // retry when the socket is writable
    kClosed,     // the peer closed (close_notify or EOF)
    kError,      // fatal; close the connection
  };
  struct IoResult {
    Io io = Io::kOk;
    int64_t bytes = 0;  // bytes moved when io == kOk
  };

  ~TlsSession();
  TlsSession(const TlsSession&) = delete;
  TlsSession& operator=(const TlsSession&) = delete;

  // Advances the handshake. On kError, error() says why. After kOk the peer
  // certificate fields below are set (if a certificate verified).
  Io Handshake();

  // Reads up to len plaintext bytes.
  IoResult Read(char* buf, int64_t len);
  // Writes up to len plaintext bytes (at most one record). After kWantWrite
  // the next call must pass the same bytes again, at least as many as before;
  // the session remembers how many were in flight.
  IoResult Write(const char* buf, int64_t len);
  // Whether decrypted bytes or a buffered record wait inside the session,
  // which epoll cannot see.
  bool HasPending() const;
  // Queues a close_notify alert (best effort, never blocks).
  void CloseNotify();

  const std::string& error() const { return error_; }
  const std::string& peer_subject() const { return peer_subject_; }
  const std::string& peer_sha256() const { return peer_sha256_; }

 private:
  friend class TlsContext;
  struct Impl;
  explicit TlsSession(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  std::string error_;
  std::string peer_subject_;
  std::string peer_sha256_;
  int64_t write_in_flight_ = 0;  // length of a write that returned kWantWrite
};

}  // namespace edgetable::net::internal
