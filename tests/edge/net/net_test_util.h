#pragma once
// Clients for edge/net's tests: raw blocking sockets for byte-level cases,
// a libcurl wrapper for ordinary HTTP(S), and certificates made with the
// openssl command line. Test-only; every call asserts or reports failure.

#include <cstdint>
#include <string>
#include <vector>

namespace edgetable::net::testing {

// --- raw sockets ---------------------------------------------------------
// A blocking TCP connection to 127.0.0.1:port with a receive timeout, or -1.
int Connect(int port, int recv_timeout_ms = 5000);
// Sends all of data; false on error.
bool SendAll(int fd, const std::string& data);

struct RawResponse {
  bool ok = false;  // a complete response was read
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};
// Reads one response (Content-Length framed) from fd, keeping leftover bytes
// in *buffer for the next call.
RawResponse ReadResponse(int fd, std::string* buffer);
// True if the peer closes (EOF or reset) within timeout_ms.
bool WaitForClose(int fd, int timeout_ms);

// --- libcurl -------------------------------------------------------------
struct CurlResult {
  int curl_code = -1;  // CURLcode; 0 is success
  long status = 0;
  std::string body;
  std::string headers;
  std::string error;
};

class CurlClient {
 public:
  CurlClient();
  ~CurlClient();
  CurlClient(const CurlClient&) = delete;
  CurlClient& operator=(const CurlClient&) = delete;

  // HTTPS settings: verify the server against ca_file; present cert/key if set.
  void SetTls(const std::string& ca_file, const std::string& cert_file = "", const std::string& key_file = "");

  CurlResult Get(const std::string& url);
  CurlResult Post(const std::string& url, const std::string& body, const std::vector<std::string>& headers = {});
  // Connections libcurl opened for the last request (0 when it reused one).
  long new_connections() const;

 private:
  CurlResult Perform();
  void* handle_;
};

// --- certificates ----------------------------------------------------------
struct CertFiles {
  std::string cert;
  std::string key;
};
// A self-signed EC P-256 CA in dir named name.{crt,key}.
CertFiles MakeCa(const std::string& dir, const std::string& name, const std::string& cn);
// A leaf certificate signed by ca, with SAN IP:127.0.0.1 and DNS:localhost,
// extendedKeyUsage serverAuth (server) or clientAuth (client).
CertFiles MakeLeaf(const std::string& dir, const std::string& name, const std::string& cn, const CertFiles& ca,
                   bool server);
// SHA-256 fingerprint of a PEM certificate's DER, lowercase hex, via openssl.
std::string OpensslFingerprint(const std::string& cert_file);

}  // namespace edgetable::net::testing

#include "edge/net/router.h"

namespace edgetable::net::testing {
// Routes the tests share:
//   GET  /health  -> "ok"
//   POST /echo    -> the body; X-Target echoes X-Amz-Target, X-Query the
//                    query, X-Peer the peer address
//   POST /slow    -> sleeps <body> ms, then answers the body
//   GET  /bye     -> "bye" with Connection: close set by the handler
//   GET  /throw   -> the handler throws
//   GET  /cert    -> "<client cert subject>\n<client cert sha256>"
Router MakeTestRouter();
}  // namespace edgetable::net::testing
