#pragma once
// sync/transport: how a node reaches its upstream. The only module that
// links libcurl (transport.cc); it also owns the zstd helpers both ends use.
//
// CurlTransport keeps ONE easy handle, so one kept-alive connection (and one
// TLS handshake) serves every batch until the peer or the network closes it.
// Every libcurl option it relies on is set explicitly in transport.cc:
// certificate and host verification on, the CA file, the client certificate
// and key (or a bearer token), connect and whole-request timeouts, TCP
// keep-alive, no proxy from the environment, no redirects, no signals.
//
// Bodies at least compress_min_bytes long are zstd-compressed
// (Content-Encoding: zstd) when that makes them smaller; compressed replies
// are decompressed (bounded by reply_bytes_max).
//
// Errors: kUnavailable for anything a retry may cure (cannot resolve or
// connect, TLS handshake failed because the peer went away, timeout, a reply
// cut short); kUnauthenticated when the peer's certificate does not verify
// against the CA (or its name does not match): a retry will not help;
// kInvalidArgument for bad options (also a path that does not start with '/',
// or a client certificate libcurl cannot use); kLimitExceeded for a reply
// body larger than reply_bytes_max; kCorruption for a compressed reply that
// does not decompress within reply_bytes_max, or a reply Content-Encoding
// other than zstd or identity. A hub that refuses our client certificate ends
// the handshake, which looks the same as a hub going away: kUnavailable.
// An HTTP reply of any status is a success of Post(): the caller reads
// HttpReply::status.
// Threads: one CurlTransport is used by one thread at a time.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edge/base/status.h"

namespace edgetable::sync {

struct HttpReply {
  int status = 0;
  std::string body;          // decompressed
  std::string content_type;
};

// What a transport did so far (for status and metrics).
struct TransportStats {
  int64_t requests = 0;
  int64_t failures = 0;            // Post() calls that returned an error
  int64_t connections = 0;         // connections opened (with https: TLS handshakes)
  int64_t bytes_sent = 0;          // request bodies as sent (after compression)
  int64_t bytes_sent_raw = 0;      // request bodies before compression
  int64_t bytes_received = 0;      // reply bodies as received
};

class Transport {
 public:
  virtual ~Transport() = default;
  // POSTs `body` (Content-Type: application/x-edgetable-sync) to `path`.
  virtual Result<HttpReply> Post(std::string_view path, std::string_view body) = 0;
  virtual TransportStats Stats() const = 0;
};

struct CurlTransportOptions {
  std::string base_url;            // "https://hub.example:8443" (http:// allowed for tests and loopback)
  std::string ca_file;             // PEM CA bundle that signs the hub's certificate; empty: the system's
  std::string client_cert_file;    // PEM; with client_key_file: TLS client authentication
  std::string client_key_file;
  std::string bearer_token;        // sent as "Authorization: Bearer <token>" when not empty
  int64_t connect_timeout_ms = 5000;
  int64_t request_timeout_ms = 30000;
  int64_t compress_min_bytes = 512;
  int zstd_level = 3;
  int64_t reply_bytes_max = 64 * 1024 * 1024;
};

class CurlTransport final : public Transport {
 public:
  // kInvalidArgument for an empty or non-http(s) base_url, a key without a
  // certificate, unreadable files.
  static Result<std::unique_ptr<CurlTransport>> Create(const CurlTransportOptions& options);
  ~CurlTransport() override;
  Result<HttpReply> Post(std::string_view path, std::string_view body) override;
  TransportStats Stats() const override;

 private:
  struct Impl;
  explicit CurlTransport(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// zstd (Debian's libzstd). Decompress refuses (kCorruption) bytes that are
// not one zstd frame or whose content exceeds bytes_max.
std::string ZstdCompress(std::string_view bytes, int level);
Result<std::string> ZstdDecompress(std::string_view bytes, int64_t bytes_max);

}  // namespace edgetable::sync
