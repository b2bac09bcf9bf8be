#pragma once
// edge/net/http.h: the request a handler reads and the response it fills.
// Plain values: the server builds a Request on its I/O thread, hands it to one
// worker thread, and takes the Response back; neither is shared while a
// handler runs. Nothing here depends on the HTTP parser or on TLS.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace edgetable::net {

struct HeaderField {
  std::string name;   // as the client spelled it
  std::string value;  // surrounding whitespace removed
};

// ASCII case-insensitive equality, as HTTP compares header names.
bool HeaderNameEquals(std::string_view a, std::string_view b);

struct Request {
  std::string method;  // "GET", "POST", ... as parsed (upper case)
  std::string path;    // the request target's path, undecoded ("/sync/push")
  std::string query;   // after '?', undecoded, without the '?'; empty if none
  int http_minor = 1;  // HTTP/1.<http_minor>
  std::vector<HeaderField> headers;  // in arrival order; repeated names kept
  std::string body;                  // decoded from chunked if it was chunked

  std::string peer_address;  // "127.0.0.1:50412" or "[::1]:50412"
  bool tls = false;          // arrived over TLS
  // Set only when the client presented a certificate that verified against
  // the configured client CA: its subject ("CN=gw-17, O=Acme") and the
  // SHA-256 of its DER encoding in lowercase hex. Empty otherwise.
  std::string client_cert_subject;
  std::string client_cert_sha256;

  // The value of the first header named `name` (case-insensitive), or nullptr.
  // The pointer lives as long as this Request.
  const std::string* FindHeader(std::string_view name) const;
};

struct Response {
  int status = 200;
  // Sent as given, except Content-Length, Transfer-Encoding, Connection and
  // Date, which the server owns. "Connection: close" set here makes the
  // server close the connection after this response.
  std::vector<HeaderField> headers;
  std::string body;

  // Replaces every header named `name` (case-insensitive) by one with `value`.
  void SetHeader(std::string_view name, std::string_view value);
  // The value of the first header named `name`, or nullptr.
  const std::string* FindHeader(std::string_view name) const;
};

}  // namespace edgetable::net
