#pragma once
// edge/api/sigv4.h: verification of AWS Signature Version 4 on API requests,
// against the access keys listed in the config.
//
// With no keys configured every request is accepted unsigned (a gateway on a
// closed network); with keys, every request must carry an Authorization
// header `AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request,
// SignedHeaders=..., Signature=...` and an X-Amz-Date within 15 minutes of
// the gateway's clock, signed with one of the keys. The region and service in
// the credential scope are those the client signed with (any region is
// accepted, as a gateway is not a region); the signature must match.
// Threads: Verify() is const and safe from any thread.

#include <cstdint>
#include <map>
#include <string>

#include "edge/api/errors.h"
#include "edge/base/clock.h"
#include "edge/net/http.h"

namespace edgetable::api {

class SigV4Verifier {
 public:
  // keys: access key id -> secret. clock: for the X-Amz-Date window.
  SigV4Verifier(std::map<std::string, std::string, std::less<>> keys, const Clock* clock)
      : keys_(std::move(keys)), clock_(clock) {}

  bool enabled() const { return !keys_.empty(); }

  // OK (returns true) when the request may proceed. Otherwise fills *error with
  // DynamoDB's answer:
  //   MissingAuthenticationTokenException  no Authorization header
  //   IncompleteSignatureException         a malformed Authorization header or no X-Amz-Date
  //   UnrecognizedClientException          an unknown access key id
  //   InvalidSignatureException            a wrong signature, or a date outside the window
  // *access_key_id receives the verified key id.
  bool Verify(const net::Request& request, ApiError* error, std::string* access_key_id) const;

  // The signature a client holding `secret` computes for `request` with the
  // given parameters (exposed for tests and for signing in the sync client).
  static std::string Sign(const net::Request& request, const std::string& secret,
                          const std::string& amz_date, const std::string& scope,
                          const std::string& signed_headers);

 private:
  std::map<std::string, std::string, std::less<>> keys_;
  const Clock* clock_;
};

}  // namespace edgetable::api
