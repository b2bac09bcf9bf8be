#pragma once
// edge/net/crypto.h: the hashing, MAC, hex and random helpers EdgeTable needs
// (AWS Signature V4 verification, tokens, fingerprints), computed by mbedTLS.
// Callers see only standard types; no mbedTLS header leaks from here.
//
// Threads: every function is safe to call from any thread at any time.
// Errors: the hash and MAC functions cannot fail on valid memory; RandomBytes
// reports a failure of the entropy source as a Status.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "edge/base/status.h"

namespace edgetable::net::crypto {

inline constexpr int64_t kSha256Bytes = 32;
using Sha256Digest = std::array<uint8_t, kSha256Bytes>;

// SHA-256 (FIPS 180-4) of data.
Sha256Digest Sha256(std::string_view data);

// HMAC-SHA256 (RFC 2104) of data under key. Keys of any length are accepted
// (longer than 64 bytes are hashed first, as the RFC says).
Sha256Digest HmacSha256(std::string_view key, std::string_view data);

// The digest as a byte string of kSha256Bytes bytes (SigV4 chains HMACs,
// each keyed by the previous one's raw output).
std::string DigestBytes(const Sha256Digest& digest);

// Lowercase hexadecimal of bytes: two characters per byte.
std::string HexEncode(std::string_view bytes);
std::string HexEncode(const Sha256Digest& digest);

// Decodes hexadecimal (either case) into bytes.
// Returns kInvalidArgument naming the offset of the first bad character, or
// when the length is odd.
Result<std::string> HexDecode(std::string_view hex);

// Compares a and b in time that depends only on their lengths, not on where
// they differ (for comparing signatures and tokens).
bool ConstantTimeEqual(std::string_view a, std::string_view b);

// n bytes from a CTR-DRBG seeded from the system entropy source (one
// process-wide generator, guarded by a mutex, reseeded by mbedTLS's policy).
// REQUIRES: 0 <= n <= 1 MiB.
// Returns kInternal if the entropy source or the generator fails.
Result<std::string> RandomBytes(int64_t n);

}  // namespace edgetable::net::crypto
