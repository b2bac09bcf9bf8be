#include "sync/transport/transport.h"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <limits>
#include <mutex>
#include <utility>

#include <curl/curl.h>
#include <unistd.h>
#include <zstd.h>

namespace edgetable::sync {
namespace {

constexpr const char* kContentType = "application/x-edgetable-sync";
constexpr const char* kUserAgent = "edgetable-sync/1";
// TCP keep-alive probes on an idle connection, in seconds: a NAT or a
// firewall between gateway and hub that forgets idle flows is noticed.
constexpr long kTcpKeepIdleS = 60;
constexpr long kTcpKeepIntervalS = 20;
// A kept-alive connection idle longer than this is not reused. Below the
// 30 s idle timeout of edge/net's server, so that a request is not sent on a
// connection the hub is closing at that moment.
constexpr long kConnectionIdleMaxS = 25;
// Decompression: the largest window a zstd frame may ask for (128 MB is
// zstd's own default bound; frames this codebase writes need far less).
constexpr int kZstdWindowLogMax = 27;

// --- libcurl, once per process ---------------------------------------------

CURLcode GlobalInit() {
  static std::once_flag once;
  static CURLcode code = CURLE_OK;
  std::call_once(once, [] { code = curl_global_init(CURL_GLOBAL_DEFAULT); });
  return code;
}

struct CurlDeleter {
  void operator()(CURL* c) const { curl_easy_cleanup(c); }
};
struct SlistDeleter {
  void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct CctxDeleter {
  void operator()(ZSTD_CCtx* c) const { ZSTD_freeCCtx(c); }
};
struct DctxDeleter {
  void operator()(ZSTD_DCtx* c) const { ZSTD_freeDCtx(c); }
};
struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using SlistPtr = std::unique_ptr<curl_slist, SlistDeleter>;

bool IEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

bool HasControlCharacter(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

Status CheckReadable(const std::string& file, const char* option) {
  if (::access(file.c_str(), R_OK) != 0) {
    return Status::InvalidArgument(std::string("transport: ") + option + " \"" + file +
                                   "\" cannot be read: " + std::strerror(errno));
  }
  return Status::Ok();
}

// libcurl takes a C long, 32 bits on armhf.
long ToLong(int64_t v) { return static_cast<long>(std::clamp<int64_t>(v, 0, std::numeric_limits<long>::max())); }

std::string Compress(ZSTD_CCtx* cctx, std::string_view bytes, int level) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t n = ZSTD_compressCCtx(cctx, out.data(), out.size(), bytes.data(), bytes.size(), level);
  // Only a bad level or a destination below the bound fail, and neither can.
  ET_ASSERT(!ZSTD_isError(n));
  out.resize(n);
  return out;
}

}  // namespace

// --- zstd --------------------------------------------------------------------

std::string ZstdCompress(std::string_view bytes, int level) {
  std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx(ZSTD_createCCtx());
  ET_ASSERT(cctx != nullptr);
  return Compress(cctx.get(), bytes, level);
}

Result<std::string> ZstdDecompress(std::string_view bytes, int64_t bytes_max) {
  const auto corrupt = [](const std::string& why) { return Status::Corruption("zstd: " + why); };
  const uint64_t max = static_cast<uint64_t>(std::max<int64_t>(bytes_max, 0));
  // One zstd frame exactly: the magic number (a skippable frame carries no
  // content), then a frame that ends where the bytes end.
  uint32_t magic = 0;
  if (bytes.size() >= 4) {
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
    magic = static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
            static_cast<uint32_t>(p[3]) << 24;
  }
  if (magic != ZSTD_MAGICNUMBER) return corrupt("not a zstd frame (" + std::to_string(bytes.size()) + " bytes)");
  const size_t frame = ZSTD_findFrameCompressedSize(bytes.data(), bytes.size());
  if (ZSTD_isError(frame)) return corrupt(std::string("bad frame: ") + ZSTD_getErrorName(frame));
  if (frame != bytes.size()) {
    return corrupt(std::to_string(bytes.size() - frame) + " bytes after the frame's end at byte " +
                   std::to_string(frame));
  }
  const unsigned long long declared = ZSTD_getFrameContentSize(bytes.data(), bytes.size());
  if (declared == ZSTD_CONTENTSIZE_ERROR) return corrupt("bad frame header");

  std::unique_ptr<ZSTD_DCtx, DctxDeleter> dctx(ZSTD_createDCtx());
  if (dctx == nullptr) return Status::Internal("zstd: cannot create a decompression context");
  ZSTD_DCtx_setParameter(dctx.get(), ZSTD_d_windowLogMax, kZstdWindowLogMax);

  if (declared != ZSTD_CONTENTSIZE_UNKNOWN) {
    if (declared > max) {
      return corrupt("content of " + std::to_string(declared) + " bytes exceeds the bound of " + std::to_string(max));
    }
    std::string out(static_cast<size_t>(declared), '\0');
    const size_t n = ZSTD_decompressDCtx(dctx.get(), out.data(), out.size(), bytes.data(), bytes.size());
    if (ZSTD_isError(n)) return corrupt(ZSTD_getErrorName(n));
    if (n != out.size()) {
      return corrupt("frame declares " + std::to_string(declared) + " bytes, holds " + std::to_string(n));
    }
    return out;
  }

  // Content size unknown (a streamed frame): grow the output up to the bound.
  std::string out;
  ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
  size_t ret = 1;
  while (ret != 0) {
    const size_t chunk = ZSTD_DStreamOutSize();
    const size_t used = out.size();
    out.resize(used + chunk);
    ZSTD_outBuffer o{out.data() + used, chunk, 0};
    ret = ZSTD_decompressStream(dctx.get(), &o, &in);
    out.resize(used + o.pos);
    if (ZSTD_isError(ret)) return corrupt(ZSTD_getErrorName(ret));
    if (out.size() > max) return corrupt("content exceeds the bound of " + std::to_string(max) + " bytes");
    if (ret != 0 && in.pos == in.size && o.pos == 0) return corrupt("frame cut short");
  }
  if (ret != 0) return corrupt("frame cut short");
  return out;
}

// --- CurlTransport -------------------------------------------------------------

struct CurlTransport::Impl {
  CurlTransportOptions options;
  std::string base_url;  // without a trailing '/'
  std::unique_ptr<CURL, CurlDeleter> curl;
  std::unique_ptr<ZSTD_CCtx, CctxDeleter> cctx;
  SlistPtr headers_plain;  // request headers of an uncompressed body
  SlistPtr headers_zstd;   // ... and of a compressed one
  char error[CURL_ERROR_SIZE] = {0};

  // The reply being received (callbacks run inside curl_easy_perform).
  std::string reply_body;
  std::string reply_content_type;
  std::string reply_content_encoding;
  bool reply_too_large = false;

  mutable std::mutex mu;
  TransportStats stats;  // GUARDED_BY(mu)

  static size_t OnBody(char* data, size_t size, size_t n, void* self) {
    auto* impl = static_cast<Impl*>(self);
    const size_t len = size * n;
    if (static_cast<int64_t>(impl->reply_body.size() + len) > impl->options.reply_bytes_max) {
      impl->reply_too_large = true;
      return 0;  // libcurl stops with CURLE_WRITE_ERROR
    }
    impl->reply_body.append(data, len);
    return len;
  }

  static size_t OnHeader(char* data, size_t size, size_t n, void* self) {
    auto* impl = static_cast<Impl*>(self);
    const size_t len = size * n;
    const std::string_view line(data, len);
    if (line.rfind("HTTP/", 0) == 0) {
      // A new response (after a 100 Continue, or a retry): forget the last.
      impl->reply_content_type.clear();
      impl->reply_content_encoding.clear();
      return len;
    }
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return len;
    const std::string_view name = Trim(line.substr(0, colon));
    const std::string_view value = Trim(line.substr(colon + 1));
    if (IEquals(name, "Content-Type")) impl->reply_content_type = std::string(value);
    if (IEquals(name, "Content-Encoding")) impl->reply_content_encoding = std::string(value);
    return len;
  }

  Status Configure();
  Status MapError(CURLcode code, const std::string& url) const;
};

Status CurlTransport::Impl::Configure() {
  CURL* c = curl.get();
  Status first = Status::Ok();
  const auto check = [&](CURLcode code, const char* option) {
    if (code != CURLE_OK && first.ok()) {
      first = Status::Internal(std::string("transport: libcurl refused ") + option + ": " + curl_easy_strerror(code));
    }
  };
  const CurlTransportOptions& o = options;
  // Requests: POST over HTTP/1.1 only, to http(s) only, no redirects.
  check(curl_easy_setopt(c, CURLOPT_POST, 1L), "CURLOPT_POST");
  check(curl_easy_setopt(c, CURLOPT_HTTP_VERSION, static_cast<long>(CURL_HTTP_VERSION_1_1)), "CURLOPT_HTTP_VERSION");
  check(curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR");
  check(curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"), "CURLOPT_REDIR_PROTOCOLS_STR");
  check(curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L), "CURLOPT_FOLLOWLOCATION");
  check(curl_easy_setopt(c, CURLOPT_MAXREDIRS, 0L), "CURLOPT_MAXREDIRS");
  check(curl_easy_setopt(c, CURLOPT_USERAGENT, kUserAgent), "CURLOPT_USERAGENT");
  check(curl_easy_setopt(c, CURLOPT_FAILONERROR, 0L), "CURLOPT_FAILONERROR");
  check(curl_easy_setopt(c, CURLOPT_UNRESTRICTED_AUTH, 0L), "CURLOPT_UNRESTRICTED_AUTH");
  check(curl_easy_setopt(c, CURLOPT_NETRC, static_cast<long>(CURL_NETRC_IGNORED)), "CURLOPT_NETRC");
  // Bodies: we compress and decompress ourselves (zstd), libcurl never does.
  check(curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, static_cast<const char*>(nullptr)), "CURLOPT_ACCEPT_ENCODING");
  check(curl_easy_setopt(c, CURLOPT_HTTP_CONTENT_DECODING, 0L), "CURLOPT_HTTP_CONTENT_DECODING");
  check(curl_easy_setopt(c, CURLOPT_HTTP_TRANSFER_DECODING, 1L), "CURLOPT_HTTP_TRANSFER_DECODING");
  check(curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(o.reply_bytes_max)),
        "CURLOPT_MAXFILESIZE_LARGE");
  check(curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, &Impl::OnBody), "CURLOPT_WRITEFUNCTION");
  check(curl_easy_setopt(c, CURLOPT_WRITEDATA, this), "CURLOPT_WRITEDATA");
  check(curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, &Impl::OnHeader), "CURLOPT_HEADERFUNCTION");
  check(curl_easy_setopt(c, CURLOPT_HEADERDATA, this), "CURLOPT_HEADERDATA");
  check(curl_easy_setopt(c, CURLOPT_ERRORBUFFER, error), "CURLOPT_ERRORBUFFER");
  check(curl_easy_setopt(c, CURLOPT_VERBOSE, 0L), "CURLOPT_VERBOSE");
  // Time: no signals (we run on a sync thread), bounded connect and request.
  check(curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L), "CURLOPT_NOSIGNAL");
  check(curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, ToLong(o.connect_timeout_ms)), "CURLOPT_CONNECTTIMEOUT_MS");
  check(curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, ToLong(o.request_timeout_ms)), "CURLOPT_TIMEOUT_MS");
  // Connections: one, kept alive and reused; never a proxy from the
  // environment (a gateway's http_proxy is not for the hub).
  check(curl_easy_setopt(c, CURLOPT_PROXY, ""), "CURLOPT_PROXY");
  check(curl_easy_setopt(c, CURLOPT_NOPROXY, "*"), "CURLOPT_NOPROXY");
  check(curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L), "CURLOPT_MAXCONNECTS");
  check(curl_easy_setopt(c, CURLOPT_FORBID_REUSE, 0L), "CURLOPT_FORBID_REUSE");
  check(curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 0L), "CURLOPT_FRESH_CONNECT");
  check(curl_easy_setopt(c, CURLOPT_MAXAGE_CONN, kConnectionIdleMaxS), "CURLOPT_MAXAGE_CONN");
  check(curl_easy_setopt(c, CURLOPT_TCP_NODELAY, 1L), "CURLOPT_TCP_NODELAY");
  check(curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L), "CURLOPT_TCP_KEEPALIVE");
  check(curl_easy_setopt(c, CURLOPT_TCP_KEEPIDLE, kTcpKeepIdleS), "CURLOPT_TCP_KEEPIDLE");
  check(curl_easy_setopt(c, CURLOPT_TCP_KEEPINTVL, kTcpKeepIntervalS), "CURLOPT_TCP_KEEPINTVL");
  // TLS: at least 1.2, the peer's certificate and name verified, against the
  // configured CA only when one is given; our certificate when configured.
  check(curl_easy_setopt(c, CURLOPT_SSLVERSION, static_cast<long>(CURL_SSLVERSION_TLSv1_2)), "CURLOPT_SSLVERSION");
  check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L), "CURLOPT_SSL_VERIFYPEER");
  check(curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L), "CURLOPT_SSL_VERIFYHOST");
  check(curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 1L), "CURLOPT_SSL_SESSIONID_CACHE");
  if (!o.ca_file.empty()) {
    check(curl_easy_setopt(c, CURLOPT_CAINFO, o.ca_file.c_str()), "CURLOPT_CAINFO");
    check(curl_easy_setopt(c, CURLOPT_CAPATH, static_cast<const char*>(nullptr)), "CURLOPT_CAPATH");
  }
  if (!o.client_cert_file.empty()) {
    check(curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM"), "CURLOPT_SSLCERTTYPE");
    check(curl_easy_setopt(c, CURLOPT_SSLCERT, o.client_cert_file.c_str()), "CURLOPT_SSLCERT");
    // Without a key file the key is read from the certificate file.
    if (!o.client_key_file.empty()) {
      check(curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM"), "CURLOPT_SSLKEYTYPE");
      check(curl_easy_setopt(c, CURLOPT_SSLKEY, o.client_key_file.c_str()), "CURLOPT_SSLKEY");
    }
  }

  // Request headers. "Expect:" turns off 100-continue, a round trip per
  // large body. Accept-Encoding tells the hub it may compress the reply.
  const auto make_headers = [&](bool zstd) {
    curl_slist* list = nullptr;
    const auto add = [&](const std::string& h) {
      curl_slist* next = curl_slist_append(list, h.c_str());
      if (next == nullptr) {
        curl_slist_free_all(list);
        list = nullptr;
        return false;
      }
      list = next;
      return true;
    };
    bool ok = add(std::string("Content-Type: ") + kContentType) && add("Accept-Encoding: zstd") && add("Expect:");
    if (ok && zstd) ok = add("Content-Encoding: zstd");
    if (ok && !o.bearer_token.empty()) ok = add("Authorization: Bearer " + o.bearer_token);
    return SlistPtr(ok ? list : nullptr);
  };
  headers_plain = make_headers(false);
  headers_zstd = make_headers(true);
  if (headers_plain == nullptr || headers_zstd == nullptr) {
    return Status::Internal("transport: cannot allocate the request headers");
  }
  return first;
}

Status CurlTransport::Impl::MapError(CURLcode code, const std::string& url) const {
  std::string detail = error[0] != '\0' ? std::string(error) : std::string(curl_easy_strerror(code));
  while (!detail.empty() && (detail.back() == '\n' || detail.back() == '\r')) detail.pop_back();
  const std::string what = "POST " + url + ": " + detail + " (curl error " + std::to_string(code) + ")";
  switch (code) {
    // The peer is not who the CA says it is (or the CA cannot be used): a
    // retry will not change that.
    case CURLE_PEER_FAILED_VERIFICATION:  // also CURLE_SSL_CACERT
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
      return Status::Unauthenticated(what + "; check ca_file \"" +
                                     (options.ca_file.empty() ? std::string("(system CAs)") : options.ca_file) +
                                     "\" and the hub's certificate");
    // Our own configuration.
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_ENGINE_INITFAILED:
      return Status::InvalidArgument(what);
    case CURLE_FILESIZE_EXCEEDED:
      return Status::LimitExceeded(what + "; the reply is larger than reply_bytes_max " +
                                   std::to_string(options.reply_bytes_max));
    case CURLE_WRITE_ERROR:
      if (reply_too_large) {
        return Status::LimitExceeded("POST " + url + ": the reply is larger than reply_bytes_max " +
                                     std::to_string(options.reply_bytes_max));
      }
      return Status::Internal(what);
    case CURLE_OUT_OF_MEMORY:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_UNKNOWN_OPTION:
      return Status::Internal(what);
    // Cannot resolve or connect, timeouts, a connection or handshake cut
    // short, a reply cut short: the hub or the network may come back.
    default:
      return Status::Unavailable(what);
  }
}

Result<std::unique_ptr<CurlTransport>> CurlTransport::Create(const CurlTransportOptions& options) {
  const auto bad = [](const std::string& why) { return Status::InvalidArgument("transport: " + why); };
  if (options.base_url.empty()) return bad("base_url is empty");
  {
    std::unique_ptr<CURLU, UrlDeleter> url(curl_url());
    if (url == nullptr) return Status::Internal("transport: cannot allocate a URL handle");
    if (curl_url_set(url.get(), CURLUPART_URL, options.base_url.c_str(), 0) != CURLUE_OK) {
      return bad("base_url \"" + options.base_url + "\" is not a URL");
    }
    char* scheme = nullptr;
    std::string s;
    if (curl_url_get(url.get(), CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK) s = scheme;
    curl_free(scheme);
    if (s != "http" && s != "https") return bad("base_url \"" + options.base_url + "\" is not http:// or https://");
    char* query = nullptr;
    const bool has_query = curl_url_get(url.get(), CURLUPART_QUERY, &query, 0) == CURLUE_OK;
    curl_free(query);
    if (has_query || options.base_url.find('#') != std::string::npos) {
      return bad("base_url \"" + options.base_url + "\" has a query or a fragment");
    }
  }
  if (!options.ca_file.empty()) ET_RETURN_IF_ERROR(CheckReadable(options.ca_file, "ca_file"));
  if (!options.client_key_file.empty() && options.client_cert_file.empty()) {
    return bad("client_key_file is set without client_cert_file");
  }
  if (!options.client_cert_file.empty()) {
    ET_RETURN_IF_ERROR(CheckReadable(options.client_cert_file, "client_cert_file"));
  }
  if (!options.client_key_file.empty()) ET_RETURN_IF_ERROR(CheckReadable(options.client_key_file, "client_key_file"));
  if (HasControlCharacter(options.bearer_token)) return bad("bearer_token contains a control character");
  if (options.connect_timeout_ms <= 0) return bad("connect_timeout_ms must be positive");
  if (options.request_timeout_ms <= 0) return bad("request_timeout_ms must be positive");
  if (options.compress_min_bytes < 0) return bad("compress_min_bytes must not be negative");
  if (options.reply_bytes_max <= 0) return bad("reply_bytes_max must be positive");
  if (options.zstd_level < ZSTD_minCLevel() || options.zstd_level > ZSTD_maxCLevel()) {
    return bad("zstd_level " + std::to_string(options.zstd_level) + " is outside " + std::to_string(ZSTD_minCLevel()) +
               ".." + std::to_string(ZSTD_maxCLevel()));
  }

  const CURLcode init = GlobalInit();
  if (init != CURLE_OK)
    return Status::Internal(std::string("transport: curl_global_init: ") + curl_easy_strerror(init));
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  impl->base_url = options.base_url;
  while (!impl->base_url.empty() && impl->base_url.back() == '/') impl->base_url.pop_back();
  impl->curl.reset(curl_easy_init());
  if (impl->curl == nullptr) return Status::Internal("transport: curl_easy_init failed");
  impl->cctx.reset(ZSTD_createCCtx());
  if (impl->cctx == nullptr) return Status::Internal("transport: cannot create a zstd context");
  ET_RETURN_IF_ERROR(impl->Configure());
  return std::unique_ptr<CurlTransport>(new CurlTransport(std::move(impl)));
}

CurlTransport::CurlTransport(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

CurlTransport::~CurlTransport() = default;

Result<HttpReply> CurlTransport::Post(std::string_view path, std::string_view body) {
  Impl& m = *impl_;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    ++m.stats.requests;
  }
  const auto fail = [&](Status s) {
    std::lock_guard<std::mutex> lock(m.mu);
    ++m.stats.failures;
    return s;
  };
  if (path.empty() || path.front() != '/' || HasControlCharacter(path) || path.find(' ') != std::string_view::npos) {
    return fail(Status::InvalidArgument("transport: path \"" + std::string(path) + "\" must start with '/'"));
  }
  const std::string url = m.base_url + std::string(path);

  // Compress when the body is large enough and it pays.
  std::string compressed;
  std::string_view wire = body;
  bool zstd = false;
  if (static_cast<int64_t>(body.size()) >= m.options.compress_min_bytes && !body.empty()) {
    compressed = Compress(m.cctx.get(), body, m.options.zstd_level);
    if (compressed.size() < body.size()) {
      wire = compressed;
      zstd = true;
    }
  }

  CURL* c = m.curl.get();
  m.reply_body.clear();
  m.reply_content_type.clear();
  m.reply_content_encoding.clear();
  m.reply_too_large = false;
  m.error[0] = '\0';
  // Never a null POSTFIELDS: libcurl would then read the body from stdin.
  const char* data = wire.data() != nullptr ? wire.data() : "";
  CURLcode code = curl_easy_setopt(c, CURLOPT_URL, url.c_str());
  if (code == CURLE_OK) code = curl_easy_setopt(c, CURLOPT_POSTFIELDS, data);
  if (code == CURLE_OK) {
    code = curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(wire.size()));
  }
  if (code == CURLE_OK) {
    code = curl_easy_setopt(c, CURLOPT_HTTPHEADER, zstd ? m.headers_zstd.get() : m.headers_plain.get());
  }
  if (code == CURLE_OK) code = curl_easy_perform(c);

  long connects = 0;
  curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &connects);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    m.stats.connections += connects;
    m.stats.bytes_sent += static_cast<int64_t>(wire.size());
    m.stats.bytes_sent_raw += static_cast<int64_t>(body.size());
    m.stats.bytes_received += static_cast<int64_t>(m.reply_body.size());
  }
  if (code != CURLE_OK) return fail(m.MapError(code, url));

  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  HttpReply reply;
  reply.status = static_cast<int>(status);
  reply.content_type = m.reply_content_type;
  const std::string& encoding = m.reply_content_encoding;
  if (IEquals(encoding, "zstd")) {
    auto plain = ZstdDecompress(m.reply_body, m.options.reply_bytes_max);
    if (!plain.ok()) return fail(plain.status().WithPrefix("POST " + url + ": reply body"));
    reply.body = std::move(plain).value();
  } else if (encoding.empty() || IEquals(encoding, "identity")) {
    reply.body = std::move(m.reply_body);
    m.reply_body = std::string();
  } else {
    return fail(Status::Corruption("POST " + url + ": reply Content-Encoding \"" + encoding + "\" is not supported"));
  }
  return reply;
}

TransportStats CurlTransport::Stats() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  return impl_->stats;
}

}  // namespace edgetable::sync
