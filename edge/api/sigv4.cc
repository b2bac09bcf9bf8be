#include "edge/api/sigv4.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "edge/net/crypto.h"

namespace edgetable::api {
namespace {

namespace crypto = net::crypto;

constexpr int64_t kDateWindowMs = 15 * 60 * 1000;

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Header values are trimmed and runs of spaces folded to one (SigV4's rule).
std::string CanonicalValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char* kHex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() &&
        std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else if (s[i] == '+') {
      out += ' ';
    } else {
      out += s[i];
    }
  }
  return out;
}

std::string CanonicalQuery(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> params;
  size_t pos = 0;
  while (pos <= query.size() && !query.empty()) {
    size_t amp = query.find('&', pos);
    std::string_view part = query.substr(pos, amp == std::string_view::npos ? query.npos : amp - pos);
    if (!part.empty()) {
      size_t eq = part.find('=');
      std::string k = UriDecode(part.substr(0, eq));
      std::string v = eq == std::string_view::npos ? "" : UriDecode(part.substr(eq + 1));
      params.emplace_back(UriEncode(k, false), UriEncode(v, false));
    }
    if (amp == std::string_view::npos) break;
    pos = amp + 1;
  }
  std::sort(params.begin(), params.end());
  std::string out;
  for (const auto& [k, v] : params) {
    if (!out.empty()) out += '&';
    out += k + "=" + v;
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    size_t at = s.find(sep, pos);
    out.emplace_back(s.substr(pos, at == std::string_view::npos ? s.npos : at - pos));
    if (at == std::string_view::npos) break;
    pos = at + 1;
  }
  return out;
}

// "20261124T143000Z" -> ms since the epoch, or -1.
int64_t ParseAmzDate(std::string_view d) {
  if (d.size() != 16 || d[8] != 'T' || d[15] != 'Z') return -1;
  auto num = [&](size_t at, size_t n) {
    int64_t v = 0;
    for (size_t i = at; i < at + n; ++i) {
      if (!std::isdigit(static_cast<unsigned char>(d[i]))) return int64_t{-1};
      v = v * 10 + (d[i] - '0');
    }
    return v;
  };
  int64_t y = num(0, 4), mo = num(4, 2), da = num(6, 2), h = num(9, 2), mi = num(11, 2), s = num(13, 2);
  if (y < 1970 || mo < 1 || mo > 12 || da < 1 || da > 31 || h > 23 || mi > 59 || s > 60) return -1;
  // Days from civil (proleptic Gregorian), 64-bit throughout.
  int64_t yy = y - (mo <= 2 ? 1 : 0);
  int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
  int64_t yoe = yy - era * 400;
  int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + da - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  int64_t days = era * 146097 + doe - 719468;
  return ((days * 24 + h) * 60 + mi) * 60 * 1000 + s * 1000;
}

}  // namespace

std::string SigV4Verifier::Sign(const net::Request& request, const std::string& secret,
                                const std::string& amz_date, const std::string& scope,
                                const std::string& signed_headers) {
  std::string canonical = request.method + "\n";
  canonical += UriEncode(UriDecode(request.path.empty() ? "/" : request.path), true) + "\n";
  canonical += CanonicalQuery(request.query) + "\n";
  for (const std::string& name : Split(signed_headers, ';')) {
    // Repeated headers are joined with commas, in arrival order.
    std::string joined;
    bool first = true;
    for (const net::HeaderField& h : request.headers) {
      if (!net::HeaderNameEquals(h.name, name)) continue;
      if (!first) joined += ',';
      joined += CanonicalValue(h.value);
      first = false;
    }
    canonical += Lower(name) + ":" + joined + "\n";
  }
  canonical += "\n" + signed_headers + "\n";
  canonical += crypto::HexEncode(crypto::Sha256(request.body));

  std::string to_sign = "AWS4-HMAC-SHA256\n" + amz_date + "\n" + scope + "\n" +
                        crypto::HexEncode(crypto::Sha256(canonical));
  std::vector<std::string> parts = Split(scope, '/');  // DATE/REGION/SERVICE/aws4_request
  std::string key = crypto::DigestBytes(crypto::HmacSha256("AWS4" + secret, parts[0]));
  for (size_t i = 1; i < parts.size(); ++i) {
    key = crypto::DigestBytes(crypto::HmacSha256(key, parts[i]));
  }
  return crypto::HexEncode(crypto::HmacSha256(key, to_sign));
}

bool SigV4Verifier::Verify(const net::Request& request, ApiError* error,
                           std::string* access_key_id) const {
  if (!enabled()) return true;
  const std::string* auth = request.FindHeader("Authorization");
  if (auth == nullptr) {
    *error = MakeError(error_type::kMissingAuthenticationToken, "Request is missing Authentication Token");
    return false;
  }
  auto incomplete = [&](const std::string& why) {
    *error = MakeError(error_type::kIncompleteSignature, why);
    return false;
  };
  constexpr std::string_view kAlgo = "AWS4-HMAC-SHA256 ";
  if (auth->compare(0, kAlgo.size(), kAlgo) != 0) {
    return incomplete("Authorization header requires 'AWS4-HMAC-SHA256' as the signing algorithm");
  }
  std::string credential, signed_headers, signature;
  for (std::string part : Split(std::string_view(*auth).substr(kAlgo.size()), ',')) {
    part = CanonicalValue(part);
    size_t eq = part.find('=');
    if (eq == std::string::npos) continue;
    std::string k = part.substr(0, eq), v = part.substr(eq + 1);
    if (k == "Credential") credential = v;
    else if (k == "SignedHeaders") signed_headers = v;
    else if (k == "Signature") signature = v;
  }
  if (credential.empty()) return incomplete("Authorization header requires 'Credential' parameter.");
  if (signed_headers.empty()) return incomplete("Authorization header requires 'SignedHeaders' parameter.");
  if (signature.empty()) return incomplete("Authorization header requires 'Signature' parameter.");
  size_t slash = credential.find('/');
  if (slash == std::string::npos || Split(credential, '/').size() != 5) {
    return incomplete("Credential should be scoped to a valid region and service: " + credential);
  }
  std::string key_id = credential.substr(0, slash);
  std::string scope = credential.substr(slash + 1);
  const std::string* date = request.FindHeader("X-Amz-Date");
  if (date == nullptr) {
    return incomplete("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  auto it = keys_.find(key_id);
  if (it == keys_.end()) {
    *error = MakeError(error_type::kUnrecognizedClient, "The security token included in the request is invalid.");
    return false;
  }
  if (scope.compare(0, 8, date->substr(0, 8)) != 0) {
    *error = MakeError(error_type::kInvalidSignature,
                       "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
                           scope.substr(0, 8) + "' != '" + date->substr(0, 8) + "'");
    return false;
  }
  int64_t when = ParseAmzDate(*date);
  int64_t now = clock_->NowMs();
  if (when < 0) return incomplete("X-Amz-Date is not in the ISO 8601 basic format: " + *date);
  if (when < now - kDateWindowMs || when > now + kDateWindowMs) {
    *error = MakeError(error_type::kInvalidSignature,
                       "Signature expired or not yet valid: " + *date +
                           " is more than 15 minutes away from the gateway's clock.");
    return false;
  }
  std::string expected = Sign(request, it->second, *date, scope, signed_headers);
  if (!crypto::ConstantTimeEqual(Lower(signature), expected)) {
    *error = MakeError(error_type::kInvalidSignature,
                       "The request signature we calculated does not match the signature you provided. "
                       "Check your AWS Secret Access Key and signing method. Consult the service "
                       "documentation for details.");
    return false;
  }
  *access_key_id = key_id;
  return true;
}

}  // namespace edgetable::api
