#include "edge/net/client_stream.h"

#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/pk.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

#include "edge/net/internal/tls.h"

namespace edgetable::net {
namespace {

using internal::BioRecv;
using internal::BioSend;
using internal::MbedError;

constexpr char kSystemBundle[] = "/etc/ssl/certs/ca-certificates.crt";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// Waits until fd is ready for `events` or the deadline passes.
bool WaitFd(int fd, short events, int64_t deadline_ms) {
  for (;;) {
    int64_t left = deadline_ms - NowMs();
    if (left <= 0) return false;
    pollfd p{fd, events, 0};
    int rc = ::poll(&p, 1, static_cast<int>(left));
    if (rc > 0) return true;
    if (rc < 0 && errno != EINTR) return false;
  }
}

}  // namespace

struct ClientStream::Impl {
  int fd = -1;
  internal::Socket socket{-1, nullptr};  // the BIO's view of fd
  bool tls = false;
  mbedtls_ssl_context ssl;
  mbedtls_ssl_config conf;
  mbedtls_x509_crt ca;
  mbedtls_x509_crt cert;
  mbedtls_pk_context key;
  mbedtls_entropy_context entropy;
  mbedtls_ctr_drbg_context drbg;

  Impl() {
    mbedtls_ssl_init(&ssl);
    mbedtls_ssl_config_init(&conf);
    mbedtls_x509_crt_init(&ca);
    mbedtls_x509_crt_init(&cert);
    mbedtls_pk_init(&key);
    mbedtls_entropy_init(&entropy);
    mbedtls_ctr_drbg_init(&drbg);
  }
  ~Impl() {
    if (tls && fd >= 0) mbedtls_ssl_close_notify(&ssl);
    mbedtls_ssl_free(&ssl);
    mbedtls_ssl_config_free(&conf);
    mbedtls_x509_crt_free(&ca);
    mbedtls_x509_crt_free(&cert);
    mbedtls_pk_free(&key);
    mbedtls_ctr_drbg_free(&drbg);
    mbedtls_entropy_free(&entropy);
    if (fd >= 0) ::close(fd);
  }
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;

  Status LoadTls(const ClientStreamOptions& o) {
    static constexpr char kPersonalization[] = "edgetable-tls-client";
    int rc = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
                                   reinterpret_cast<const unsigned char*>(kPersonalization),
                                   sizeof(kPersonalization) - 1);
    if (rc != 0) return Status::Internal("tls: seeding CTR-DRBG: " + MbedError(rc));
    rc = mbedtls_ssl_config_defaults(&conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                     MBEDTLS_SSL_PRESET_DEFAULT);
    if (rc != 0) return Status::Internal("tls: config defaults: " + MbedError(rc));
    mbedtls_ssl_conf_min_version(&conf, MBEDTLS_SSL_MAJOR_VERSION_3, MBEDTLS_SSL_MINOR_VERSION_3);
    mbedtls_ssl_conf_rng(&conf, mbedtls_ctr_drbg_random, &drbg);
    if (o.verify) {
      const std::string& bundle = o.ca_file.empty() ? std::string(kSystemBundle) : o.ca_file;
      rc = mbedtls_x509_crt_parse_file(&ca, bundle.c_str());
      if (rc < 0) return Status::InvalidArgument("tls: cannot load CA file '" + bundle + "': " + MbedError(rc));
      mbedtls_ssl_conf_ca_chain(&conf, &ca, nullptr);
      mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    } else {
      mbedtls_ssl_conf_authmode(&conf, MBEDTLS_SSL_VERIFY_NONE);
    }
    if (!o.cert_file.empty() || !o.key_file.empty()) {
      if (o.cert_file.empty() || o.key_file.empty()) {
        return Status::InvalidArgument("tls: a client certificate needs both cert_file and key_file");
      }
      rc = mbedtls_x509_crt_parse_file(&cert, o.cert_file.c_str());
      if (rc != 0) {
        return Status::InvalidArgument("tls: cannot load certificate '" + o.cert_file + "': " +
                                       (rc > 0 ? std::to_string(rc) + " certificate(s) failed to parse"
                                               : MbedError(rc)));
      }
      rc = mbedtls_pk_parse_keyfile(&key, o.key_file.c_str(),
                                    o.key_password.empty() ? nullptr : o.key_password.c_str());
      if (rc != 0) return Status::InvalidArgument("tls: cannot load key '" + o.key_file + "': " + MbedError(rc));
      rc = mbedtls_ssl_conf_own_cert(&conf, &cert, &key);
      if (rc != 0) return Status::InvalidArgument("tls: client certificate: " + MbedError(rc));
    }
    rc = mbedtls_ssl_setup(&ssl, &conf);
    if (rc != 0) return Status::Internal("tls: session setup: " + MbedError(rc));
    if (o.verify) {
      rc = mbedtls_ssl_set_hostname(&ssl, o.host.c_str());
      if (rc != 0) return Status::Internal("tls: host name: " + MbedError(rc));
    }
    mbedtls_ssl_set_bio(&ssl, &socket, &BioSend, &BioRecv, nullptr);
    return Status::Ok();
  }

  Status Handshake(const std::string& where, int64_t deadline_ms) {
    for (;;) {
      int rc = mbedtls_ssl_handshake(&ssl);
      if (rc == 0) return Status::Ok();
      short events = 0;
      if (rc == MBEDTLS_ERR_SSL_WANT_READ) events = POLLIN;
      if (rc == MBEDTLS_ERR_SSL_WANT_WRITE) events = POLLOUT;
      if (events == 0) {
        std::string why = MbedError(rc);
        uint32_t flags = mbedtls_ssl_get_verify_result(&ssl);
        if (flags != 0 && flags != static_cast<uint32_t>(-1)) {
          char info[512];
          mbedtls_x509_crt_verify_info(info, sizeof(info), "", flags);
          std::string v(info);
          while (!v.empty() && (v.back() == '\n' || v.back() == ' ')) v.pop_back();
          for (char& c : v) {
            if (c == '\n') c = ';';
          }
          why = "certificate verification failed: " + v;
        }
        return Status::Unavailable(where + ": TLS handshake: " + why);
      }
      if (!WaitFd(fd, events, deadline_ms)) return Status::Unavailable(where + ": TLS handshake timed out");
    }
  }
};

ClientStream::ClientStream(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClientStream::~ClientStream() = default;

Result<std::unique_ptr<ClientStream>> ClientStream::Connect(const ClientStreamOptions& options) {
  auto impl = std::make_unique<Impl>();
  std::string where = options.host + ":" + std::to_string(options.port);
  if (options.tls) ET_RETURN_IF_ERROR(impl->LoadTls(options));
  int64_t deadline = NowMs() + options.connect_timeout_ms;

  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  std::string port = std::to_string(options.port);
  int gai = ::getaddrinfo(options.host.c_str(), port.c_str(), &hints, &found);
  if (gai != 0) return Status::Unavailable(where + ": cannot resolve: " + ::gai_strerror(gai));
  std::string last_error = "no address";
  for (addrinfo* a = found; a != nullptr && impl->fd < 0; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
    if (fd < 0) {
      last_error = std::strerror(errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      if (WaitFd(fd, POLLOUT, deadline)) {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        if (err != 0) errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc != 0) {
      last_error = std::strerror(errno);
      ::close(fd);
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    impl->fd = fd;
    impl->socket.fd = fd;
  }
  ::freeaddrinfo(found);
  if (impl->fd < 0) return Status::Unavailable(where + ": " + last_error);
  if (options.tls) {
    impl->tls = true;
    Status hs = impl->Handshake(where, deadline);
    if (!hs.ok()) {
      impl->tls = false;  // no close_notify on a session that never opened
      return hs;
    }
  }
  return std::unique_ptr<ClientStream>(new ClientStream(std::move(impl)));
}

int ClientStream::fd() const { return impl_->fd; }

Result<int64_t> ClientStream::ReadSome(char* buf, int64_t len) {
  if (!impl_->tls) {
    for (;;) {
      ssize_t n = ::recv(impl_->fd, buf, static_cast<size_t>(len), 0);
      if (n > 0) return static_cast<int64_t>(n);
      if (n == 0) return Status::Unavailable("connection closed by the peer");
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return int64_t{0};
      return Status::Unavailable(std::string("receive: ") + std::strerror(errno));
    }
  }
  int rc = mbedtls_ssl_read(&impl_->ssl, reinterpret_cast<unsigned char*>(buf), static_cast<size_t>(len));
  if (rc > 0) return static_cast<int64_t>(rc);
  if (rc == MBEDTLS_ERR_SSL_WANT_READ || rc == MBEDTLS_ERR_SSL_WANT_WRITE) return int64_t{0};
  if (rc == 0 || rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY) {
    return Status::Unavailable("connection closed by the peer");
  }
  return Status::Unavailable("TLS receive: " + MbedError(rc));
}

bool ClientStream::HasPending() const {
  return impl_->tls && mbedtls_ssl_get_bytes_avail(&impl_->ssl) > 0;
}

Status ClientStream::WriteAll(std::string_view data, int timeout_ms) {
  int64_t deadline = NowMs() + timeout_ms;
  size_t done = 0;
  while (done < data.size()) {
    short wait_for = POLLOUT;
    if (!impl_->tls) {
      ssize_t n = ::send(impl_->fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n > 0) {
        done += static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return Status::Unavailable(std::string("send: ") + std::strerror(errno));
      }
    } else {
      int rc = mbedtls_ssl_write(&impl_->ssl, reinterpret_cast<const unsigned char*>(data.data() + done),
                                 data.size() - done);
      if (rc > 0) {
        done += static_cast<size_t>(rc);
        continue;
      }
      if (rc == MBEDTLS_ERR_SSL_WANT_READ) {
        wait_for = POLLIN;
      } else if (rc != MBEDTLS_ERR_SSL_WANT_WRITE) {
        return Status::Unavailable("TLS send: " + MbedError(rc));
      }
    }
    if (!WaitFd(impl_->fd, wait_for, deadline)) return Status::Unavailable("send timed out");
  }
  return Status::Ok();
}

}  // namespace edgetable::net
