#include "edge/net/crypto.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/sha256.h>

#include <mutex>

#include "edge/base/assert.h"

namespace edgetable::net::crypto {
namespace {

const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// The process-wide generator. Seeded on first use; a failed seed is retried
// on the next call rather than remembered, so a transient entropy failure at
// boot does not poison the process.
class SharedDrbg {
 public:
  SharedDrbg() {
    mbedtls_entropy_init(&entropy_);
    mbedtls_ctr_drbg_init(&drbg_);
  }
  ~SharedDrbg() {
    mbedtls_ctr_drbg_free(&drbg_);
    mbedtls_entropy_free(&entropy_);
  }
  SharedDrbg(const SharedDrbg&) = delete;
  SharedDrbg& operator=(const SharedDrbg&) = delete;

  Status Fill(unsigned char* out, size_t n) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!seeded_) {
      static constexpr char kPersonalization[] = "edgetable-crypto";
      int rc = mbedtls_ctr_drbg_seed(&drbg_, mbedtls_entropy_func, &entropy_,
                                     reinterpret_cast<const unsigned char*>(kPersonalization),
                                     sizeof(kPersonalization) - 1);
      if (rc != 0) return Status::Internal("random: seeding CTR-DRBG failed, mbedTLS error " + std::to_string(rc));
      seeded_ = true;
    }
    // mbedtls_ctr_drbg_random serves at most MBEDTLS_CTR_DRBG_MAX_REQUEST bytes a call.
    while (n > 0) {
      size_t chunk = n < MBEDTLS_CTR_DRBG_MAX_REQUEST ? n : MBEDTLS_CTR_DRBG_MAX_REQUEST;
      int rc = mbedtls_ctr_drbg_random(&drbg_, out, chunk);
      if (rc != 0) return Status::Internal("random: CTR-DRBG failed, mbedTLS error " + std::to_string(rc));
      out += chunk;
      n -= chunk;
    }
    return Status::Ok();
  }

 private:
  std::mutex mu_;
  bool seeded_ = false;  // guarded by mu_
  mbedtls_entropy_context entropy_;
  mbedtls_ctr_drbg_context drbg_;
};

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  Sha256Digest out{};
  int rc = mbedtls_sha256_ret(Bytes(data), data.size(), out.data(), /*is224=*/0);
  ET_ASSERT(rc == 0);
  return out;
}

Sha256Digest HmacSha256(std::string_view key, std::string_view data) {
  Sha256Digest out{};
  const mbedtls_md_info_t* info = mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
  ET_ASSERT(info != nullptr);
  int rc = mbedtls_md_hmac(info, Bytes(key), key.size(), Bytes(data), data.size(), out.data());
  ET_ASSERT(rc == 0);
  return out;
}

std::string DigestBytes(const Sha256Digest& digest) {
  return std::string(reinterpret_cast<const char*>(digest.data()), digest.size());
}

std::string HexEncode(std::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.resize(bytes.size() * 2);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto b = static_cast<unsigned char>(bytes[i]);
    out[2 * i] = kDigits[b >> 4];
    out[2 * i + 1] = kDigits[b & 0x0f];
  }
  return out;
}

std::string HexEncode(const Sha256Digest& digest) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

Result<std::string> HexDecode(std::string_view hex) {
  if (hex.size() % 2 != 0) {
    return Status::InvalidArgument("hex: odd length " + std::to_string(hex.size()));
  }
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.resize(hex.size() / 2);
  for (size_t i = 0; i < hex.size(); i += 2) {
    int hi = nibble(hex[i]);
    int lo = nibble(hex[i + 1]);
    if (hi < 0 || lo < 0) {
      size_t bad = hi < 0 ? i : i + 1;
      return Status::InvalidArgument("hex: bad character at offset " + std::to_string(bad));
    }
    out[i / 2] = static_cast<char>((hi << 4) | lo);
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  }
  return diff == 0;
}

Result<std::string> RandomBytes(int64_t n) {
  ET_ASSERT(n >= 0 && n <= 1024 * 1024);
  static SharedDrbg drbg;
  std::string out;
  out.resize(static_cast<size_t>(n));
  Status s = drbg.Fill(reinterpret_cast<unsigned char*>(out.data()), out.size());
  if (!s.ok()) return s;
  return out;
}

}  // namespace edgetable::net::crypto
