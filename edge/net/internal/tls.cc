#include "edge/net/internal/tls.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstdio>
#include <mutex>
#include <utility>

#include "edge/base/assert.h"
#include "edge/net/crypto.h"

namespace edgetable::net::internal {
namespace {

// ECDHE only (forward secrecy), AEAD only. ECDSA first: gateways use EC keys.
const int kCiphersuites[] = {
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    MBEDTLS_TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
    MBEDTLS_TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
    0,
};

}  // namespace

std::string MbedError(int rc) {
  char buf[160];
  mbedtls_strerror(rc, buf, sizeof(buf));
  char code[24];
  std::snprintf(code, sizeof(code), " (-0x%04X)", static_cast<unsigned>(-rc));
  return std::string(buf) + code;
}

int BioSend(void* ctx, const unsigned char* buf, size_t len) {
  auto* s = static_cast<Socket*>(ctx);
  for (;;) {
    ssize_t n = ::send(s->fd, buf, len, MSG_NOSIGNAL);
    if (n >= 0) {
      if (s->counters != nullptr) s->counters->out.fetch_add(n, std::memory_order_relaxed);
      return static_cast<int>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_WRITE;
    if (errno == EPIPE || errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_SEND_FAILED;
  }
}

int BioRecv(void* ctx, unsigned char* buf, size_t len) {
  auto* s = static_cast<Socket*>(ctx);
  for (;;) {
    ssize_t n = ::recv(s->fd, buf, len, 0);
    if (n >= 0) {
      if (s->counters != nullptr) s->counters->in.fetch_add(n, std::memory_order_relaxed);
      return static_cast<int>(n);
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return MBEDTLS_ERR_SSL_WANT_READ;
    if (errno == ECONNRESET) return MBEDTLS_ERR_NET_CONN_RESET;
    return MBEDTLS_ERR_NET_RECV_FAILED;
  }
}

struct TlsContext::Impl {
  mbedtls_ssl_config conf;
  mbedtls_x509_crt chain;
  mbedtls_x509_crt client_ca;
  mbedtls_pk_context key;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;
  std::mutex drbg_mu;  // the DRBG is shared by every session of this server

  Impl() {
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&chain);
    mbedtls_x509_crt_init(&client_ca);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~Impl() {
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&chain);
    mbedtls_x509_crt_free(&client_ca);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  static int LockedRandom(void* ctx, unsigned char* out, size_t len) {
    auto* self = static_cast<Impl*>(ctx);
    std::lock_guard<std::mutex> lock(self->drbg_mu);
    return mbedtls_ctr_drbg_random(&self->drbg, out, len);
  }
};

struct TlsSession::Impl {
  mbedtls_ssl_context ssl;
  Socket socket;
  Impl() { mbedtls_ssl_init(&ssl); }
  ~Impl() { mbedtls_ssl_free(&ssl); }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
};

TlsContext::TlsContext(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsContext::~TlsContext() = default;

Result<std::unique_ptr<TlsContext>> TlsContext::Create(const TlsOptions& options) {
  auto impl = std::make_unique<Impl>();
  static constexpr char kPersonalization[] = "edgetable-tls-server";
  int rc = mbedtls_ctr_drbg_seed(&impl->drbg, mbedtls_entropy_func, &impl->entropy,
                                 reinterpret_cast<const unsigned char*>(kPersonalization),
                                 sizeof(kPersonalization) - 1);
  if (rc != 0) return Status::Internal("tls: seeding CTR-DRBG: " + MbedError(rc));

  if (options.cert_chain_file.empty()) return Status::InvalidArgument("tls: cert_chain_file is empty");
  rc = mbedtls_x509_crt_parse_file(&impl->chain, options.cert_chain_file.c_str());
  if (rc != 0) {
    return Status::InvalidArgument("tls: cannot load certificate chain '" + options.cert_chain_file +
                                   "': " + (rc > 0 ? std::to_string(rc) + " certificate(s) failed to parse"
                                                   : MbedError(rc)));
  }
  if (options.key_file.empty()) return Status::InvalidArgument("tls: key_file is empty");
  rc = mbedtls_pk_parse_keyfile(&impl->key, options.key_file.c_str(), nullptr);
  if (rc != 0) {
    return Status::InvalidArgument("tls: cannot load private key '" + options.key_file + "': " + MbedError(rc));
  }
  rc = mbedtls_pk_check_pair(&impl->chain.pk, &impl->key);
  if (rc != 0) {
    return Status::InvalidArgument("tls: private key '" + options.key_file + "' does not match certificate '" +
                                   options.cert_chain_file + "': " + MbedError(rc));
  }

  mbedtls_ssl_config* conf = &impl->conf;
  rc = mbedtls_ssl_config_defaults(conf, MBEDTLS_SSL_IS_SERVER, MBEDTLS_SSL_TRANSPORT_STREAM,
                                   MBEDTLS_SSL_PRESET_DEFAULT);
  if (rc != 0) return Status::Internal("tls: config defaults: " + MbedError(rc));
  mbedtls_ssl_conf_min_version(conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
  mbedtls_ssl_conf_ciphersuites(conf, kCiphersuites);
  mbedtls_ssl_conf_rng(conf, &Impl::LockedRandom, impl.get());
  rc = mbedtls_ssl_conf_own_cert(conf, &impl->chain, &impl->key);
  if (rc != 0) return Status::Internal("tls: own cert: " + MbedError(rc));

  if (options.client_cert == ClientCertMode::kNone) {
    mbedtls_ssl_conf_authmode(conf, MBEDTLS_SSL_VERIFY_NONE);
  } else {
    if (options.client_ca_file.empty()) {
      return Status::InvalidArgument("tls: client_ca_file is needed to verify client certificates");
    }
    rc = mbedtls_x509_crt_parse_file(&impl->client_ca, options.client_ca_file.c_str());
    if (rc != 0) {
      return Status::InvalidArgument("tls: cannot load client CA '" + options.client_ca_file + "': " +
                                     (rc > 0 ? std::to_string(rc) + " certificate(s) failed to parse"
                                             : MbedError(rc)));
    }
    mbedtls_ssl_conf_ca_chain(conf, &impl->client_ca, nullptr);
    // OPTIONAL lets a client without a certificate through; the session then
    // refuses a presented certificate that fails (see Handshake()).
    mbedtls_ssl_conf_authmode(conf, options.client_cert == ClientCertMode::kRequired ? MBEDTLS_SSL_VERIFY_REQUIRED
                                                                                     : MBEDTLS_SSL_VERIFY_OPTIONAL);
  }
  return std::unique_ptr<TlsContext>(new TlsContext(std::move(impl)));
}

Result<std::unique_ptr<TlsSession>> TlsContext::NewSession(int fd, ByteCounters* counters) {
  auto impl = std::make_unique<TlsSession::Impl>();
  int rc = mbedtls_ssl_setup(&impl->ssl, &impl_->conf);
  if (rc != 0) return Status::Internal("tls: session setup: " + MbedError(rc));
  impl->socket = Socket{fd, counters};
  mbedtls_ssl_set_bio(&impl->ssl, &impl->socket, &BioSend, &BioRecv, nullptr);
  return std::unique_ptr<TlsSession>(new TlsSession(std::move(impl)));
}

TlsSession::TlsSession(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TlsSession::~TlsSession() = default;

TlsSession::Io TlsSession::Handshake() {
  int rc = mbedtls_ssl_handshake(&impl_->ssl);
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return Io::kWantRead;
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return Io::kWantWrite;
  if (rc != 0) {
    error_ = "handshake: " + MbedError(rc);
    uint32_t flags = mbedtls_ssl_get_verify_result(&impl_->ssl);
    if (flags != 0 && flags != static_cast<uint32_t>(-1)) {
      char buf[256];
      mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
      error_ += "; client certificate: " + std::string(buf);
      while (!error_.empty() && (error_.back() == '\n' || error_.back() == ' ')) error_.pop_back();
    }
    return Io::kError;
  }
  const mbedtls_x509_crt* peer = mbedtls_ssl_get_peer_cert(&impl_->ssl);
  if (peer != nullptr) {
    // With VERIFY_OPTIONAL mbedTLS completes the handshake even when the
    // presented certificate failed; a certificate that is shown must verify.
    uint32_t flags = mbedtls_ssl_get_verify_result(&impl_->ssl);
    if (flags != 0) {
      char buf[256];
      mbedtls_x509_crt_verify_info(buf, sizeof(buf), "", flags);
      error_ = "client certificate refused: " + std::string(buf);
      while (!error_.empty() && (error_.back() == '\n' || error_.back() == ' ')) error_.pop_back();
      return Io::kError;
    }
    char subject[512];
    int n = mbedtls_x509_dn_gets(subject, sizeof(subject), &peer->subject);
    peer_subject_ = n > 0 ? std::string(subject, static_cast<size_t>(n)) : std::string();
    peer_sha256_ = crypto::HexEncode(crypto::Sha256(
        std::string_view(reinterpret_cast<const char*>(peer->raw.p), peer->raw.len)));
  }
  return Io::kOk;
}

TlsSession::IoResult TlsSession::Read(char* buf, int64_t len) {
  int rc = mbedtls_ssl_read(&impl_->ssl, reinterpret_cast<unsigned char*>(buf), static_cast<size_t>(len));
  if (rc > 0) return {Io::kOk, rc};
  if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) return {Io::kClosed, 0};
  if (rc == MBEDTLS_ERR_SSL_WANT_READ) return {Io::kWantRead, 0};
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) return {Io::kWantWrite, 0};
  if (rc == MBEDTLS_ERR_NET_CONN_RESET) return {Io::kClosed, 0};
  error_ = "read: " + MbedError(rc);
  return {Io::kError, 0};
}

TlsSession::IoResult TlsSession::Write(const char* buf, int64_t len) {
  if (write_in_flight_ > 0) {
    ET_ASSERT(len >= write_in_flight_);
    len = write_in_flight_;
  } else {
    int max = mbedtls_ssl_get_max_out_record_payload(&impl_->ssl);
    if (max > 0 && len > max) len = max;
  }
  int rc = mbedtls_ssl_write(&impl_->ssl, reinterpret_cast<const unsigned char*>(buf), static_cast<size_t>(len));
  if (rc > 0) {
    write_in_flight_ = 0;
    return {Io::kOk, rc};
  }
  if (rc == MBEDTLS_ERR_SSL_WANT_WRITE || rc == MBEDTLS_ERR_SSL_WANT_READ) {
    write_in_flight_ = len;
    return {rc == MBEDTLS_ERR_SSL_WANT_WRITE ? Io::kWantWrite : Io::kWantRead, 0};
  }
  if (rc == MBEDTLS_ERR_NET_CONN_RESET) return {Io::kClosed, 0};
  error_ = "write: " + MbedError(rc);
  return {Io::kError, 0};
}

bool TlsSession::HasPending() const { return mbedtls_ssl_check_pending(&impl_->ssl) != 0; }

void TlsSession::CloseNotify() { (void)mbedtls_ssl_close_notify(&impl_->ssl); }

}  // namespace edgetable::net::internal
