#include "edge/net/server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <ctime>
#include <exception>
#include <system_error>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "edge/base/assert.h"
#include "edge/base/clock.h"
#include "edge/base/log.h"
#include "edge/net/internal/request_parser.h"
#include "edge/net/internal/tls.h"
#include "edge/net/internal/worker_pool.h"

namespace edgetable::net {
namespace {

// One read() brings at most this much; at least one TLS record (16 KB), so a
// TLS read drains a whole record and leaves nothing hidden in mbedTLS.
constexpr int64_t kReadChunkBytes = 64 * 1024;
// Reads per connection per loop turn, so one fast sender cannot starve others.
constexpr int kReadsPerTurn = 4;
// While this much response data waits for the client, no new request on the
// connection is parsed: a client that pipelines but never reads is bounded.
constexpr int64_t kOutPendingBytesMax = 1024 * 1024;
// Granularity of timeouts.
constexpr int kTickMs = 50;
constexpr int kEpollBatch = 128;
constexpr int kListenBacklog = 511;
constexpr uint64_t kListenId = 0;
constexpr uint64_t kWakeId = 1;
constexpr uint64_t kFirstConnectionId = 2;

int64_t NowNs() { return Clock::System()->MonotonicNs(); }
int64_t MsToNs(int64_t ms) { return ms * 1'000'000; }

std::string ErrnoText(int err) {
  char buf[128];
  const char* s = strerror_r(err, buf, sizeof(buf));
  return std::string(s);
}

std::string FormatPeer(const sockaddr_storage& addr) {
  char host[INET6_ADDRSTRLEN] = {0};
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    return std::string(host) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    return "[" + std::string(host) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "unknown";
}

// RFC 7231 IMF-fixdate, independent of the process locale.
std::string HttpDate(int64_t now_ms) {
  static constexpr const char* kDays[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                            "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  // Civil time from 64-bit milliseconds with <chrono>: no time_t, which is
  // 32 bits on armhf and would wrap in 2038.
  using namespace std::chrono;
  const sys_seconds t{seconds{now_ms / 1000}};
  const sys_days day = floor<days>(t);
  const year_month_day ymd{day};
  const hh_mm_ss<seconds> hms{t - day};
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%s, %02u %s %04d %02d:%02d:%02d GMT", kDays[weekday{day}.c_encoding()],
                unsigned{ymd.day()}, kMonths[unsigned{ymd.month()} - 1], int{ymd.year()},
                static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                static_cast<int>(hms.seconds().count()));
  return buf;
}

bool HasCrOrLf(std::string_view s) { return s.find_first_of("\r\n") != std::string_view::npos; }

// Connection life cycle (the function behind each transition):
//
//   accept ─► kHandshake ─(Handshake ok: DoHandshake)─┐          (TLS only)
//   accept ─────────────────────────────────────────► kIdle ◄──────────────┐
//                   (first byte: ProcessInput)        │                    │
//                                                     ▼                    │
//                                                 kHeaders ─► kBody        │
//                                                     │         │          │
//                             (request complete: Dispatch)      │          │
//                                                     ▼         ▼          │
//                                                  kDispatched ─(OnResponse, keep-alive)
//                                                     │
//   error response / Connection: close (OnResponse, SendError) ─► kClosing
//   kClosing ─(all written: BeginLinger)─► kLingering ─(EOF or linger_ms)─► closed
//   any state ─(timeout, I/O error, hang-up: Close)─► closed
enum class Phase { kHandshake, kIdle, kHeaders, kBody, kDispatched, kClosing, kLingering };

struct Connection {
  uint64_t id = 0;
  int fd = -1;
  std::string peer;
  std::unique_ptr<internal::TlsSession> tls;
  std::unique_ptr<internal::RequestParser> parser;
  Phase phase = Phase::kIdle;
  std::string in;  // received, not yet parsed
  size_t in_off = 0;
  std::string out;  // to send
  size_t out_off = 0;
  int64_t deadline_ns = 0;        // of the phase; 0: none
  int64_t write_deadline_ns = 0;  // while out has bytes: no progress by then closes
  bool close_after_write = false;
  bool peer_eof = false;
  bool tls_wants_write = false;
  bool closed = false;
  uint32_t events = 0;  // epoll interest registered
  std::string cert_subject;
  std::string cert_sha256;
  int64_t body_budget_held = 0;  // bytes of buffered_body_bytes_max this connection holds

  int64_t out_pending() const { return static_cast<int64_t>(out.size() - out_off); }
  bool reading() const { return phase == Phase::kIdle || phase == Phase::kHeaders || phase == Phase::kBody; }
};

struct Completion {
  uint64_t id = 0;
  Response response;
  bool keep_alive = true;
  bool head = false;
  int64_t body_budget = 0;  // released when the completion reaches the I/O thread
};

}  // namespace

struct Server::Impl {
  ServerOptions options;
  Router router;
  std::unique_ptr<internal::TlsContext> tls;
  int listen_fd = -1;
  int epoll_fd = -1;
  int wake_fd = -1;
  int port = 0;
  std::unique_ptr<internal::WorkerPool> pool;
  std::thread io_thread;
  std::atomic<bool> shutdown_called{false};

  // Statistics (any thread reads).
  std::atomic<int64_t> accepted{0}, rejected{0}, active{0}, requests{0}, bad_requests{0}, overloaded{0},
      handshakes{0}, handshake_failures{0}, timeouts{0};
  internal::ByteCounters bytes;

  // Shared between workers / Shutdown() and the I/O thread.
  std::mutex mu;
  std::vector<Completion> completions;  // guarded by mu
  bool drain_requested = false;         // guarded by mu
  int64_t drain_deadline_ns = 0;        // guarded by mu

  // I/O thread only.
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns;
  std::vector<uint64_t> ready;      // connections to revisit without an epoll event
  std::vector<uint64_t> graveyard;  // closed, to erase at the end of the turn
  uint64_t next_id = kFirstConnectionId;
  std::vector<char> read_buf = std::vector<char>(static_cast<size_t>(kReadChunkBytes));
  bool draining = false;
  int64_t deadline_ns = 0;  // drain deadline
  int64_t body_budget_used = 0;  // sum of every body_budget_held and in-handler body
  int64_t listen_paused_until_ns = 0;
  int64_t date_second = -1;
  std::string date_text;

  ~Impl() {
    if (listen_fd >= 0) ::close(listen_fd);
    if (wake_fd >= 0) ::close(wake_fd);
    if (epoll_fd >= 0) ::close(epoll_fd);
  }

  Status Listen();
  void Loop();
  void Wake();
  void Accept(int64_t now);
  void HandleEvent(Connection* c, uint32_t ev, int64_t now);
  void DoHandshake(Connection* c, int64_t now);
  void ReadInput(Connection* c, int64_t now);
  void ProcessInput(Connection* c, int64_t now);
  void OnPeerEof(Connection* c);
  void Dispatch(Connection* c);
  void HandleCompletions(int64_t now);
  void OnResponse(Connection* c, Completion& done, int64_t now);
  void SendError(Connection* c, int status, const std::string& message, int64_t now);
  bool ReserveBody(Connection* c);
  void AppendResponse(Connection* c, const Response& r, bool close, bool head, int64_t now);
  void Flush(Connection* c, int64_t now);
  void BeginLinger(Connection* c, int64_t now);
  void Linger(Connection* c);
  void UpdateInterest(Connection* c);
  void CheckTimeouts(int64_t now);
  void StartDrain();
  void DrainConnection(Connection* c);
  void Close(Connection* c, const char* why);
  Connection* Find(uint64_t id) {
    auto it = conns.find(id);
    return (it == conns.end() || it->second->closed) ? nullptr : it->second.get();
  }
};

Status Server::Impl::Listen() {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string port_text = std::to_string(options.port);
  int rc = getaddrinfo(options.host.c_str(), port_text.c_str(), &hints, &res);
  if (rc != 0) {
    return Status::IOError("listen: cannot resolve host '" + options.host + "': " + gai_strerror(rc));
  }
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
    int fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      last_error = "socket: " + ErrnoText(errno);
      continue;
    }
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
      last_error = "bind: " + ErrnoText(errno);
      ::close(fd);
      continue;
    }
    if (::listen(fd, kListenBacklog) != 0) {
      last_error = "listen: " + ErrnoText(errno);
      ::close(fd);
      continue;
    }
    listen_fd = fd;
    break;
  }
  freeaddrinfo(res);
  if (listen_fd < 0) {
    return Status::IOError("listen on " + options.host + ":" + port_text + " failed: " + last_error);
  }
  sockaddr_storage bound{};
  socklen_t len = sizeof(bound);
  if (getsockname(listen_fd, reinterpret_cast<sockaddr*>(&bound), &len) != 0) {
    return Status::IOError("getsockname: " + ErrnoText(errno));
  }
  port = bound.ss_family == AF_INET6 ? ntohs(reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port)
                                     : ntohs(reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
  return Status::Ok();
}

void Server::Impl::Wake() {
  uint64_t one = 1;
  ssize_t n = ::write(wake_fd, &one, sizeof(one));
  (void)n;  // a full counter already means "wake up"
}

void Server::Impl::Loop() {
  std::vector<epoll_event> events(kEpollBatch);
  int64_t next_tick_ns = NowNs() + MsToNs(kTickMs);
  for (;;) {
    int timeout_ms = -1;
    if (!ready.empty()) {
      timeout_ms = 0;
    } else if (!conns.empty() || draining || listen_paused_until_ns != 0) {
      timeout_ms = kTickMs;
    }
    int n = epoll_wait(epoll_fd, events.data(), kEpollBatch, timeout_ms);
    if (n < 0) {
      if (errno == EINTR) continue;
      ET_LOG_ERROR("net: epoll_wait failed: {}; the server stops", ErrnoText(errno));
      break;
    }
    int64_t now = NowNs();
    for (int i = 0; i < n; ++i) {
      uint64_t id = events[static_cast<size_t>(i)].data.u64;
      uint32_t ev = events[static_cast<size_t>(i)].events;
      if (id == kListenId) {
        Accept(now);
      } else if (id == kWakeId) {
        uint64_t count = 0;
        ssize_t r = ::read(wake_fd, &count, sizeof(count));
        (void)r;
        HandleCompletions(now);
      } else if (Connection* c = Find(id)) {
        HandleEvent(c, ev, now);
      }
    }
    if (!ready.empty()) {
      std::vector<uint64_t> todo;
      todo.swap(ready);
      for (uint64_t id : todo) {
        Connection* c = Find(id);
        if (c == nullptr || !c->reading()) continue;
        ProcessInput(c, now);
        if (!c->closed) ReadInput(c, now);
        if (!c->closed) UpdateInterest(c);
      }
    }
    if (now >= next_tick_ns) {
      CheckTimeouts(now);
      next_tick_ns = now + MsToNs(kTickMs);
      if (listen_paused_until_ns != 0 && now >= listen_paused_until_ns && listen_fd >= 0) {
        listen_paused_until_ns = 0;
        epoll_event e{};
        e.events = EPOLLIN;
        e.data.u64 = kListenId;
        (void)epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &e);
      }
    }
    if (draining) {
      for (auto& [id, c] : conns) {
        (void)id;
        if (!c->closed) DrainConnection(c.get());
      }
    }
    for (uint64_t id : graveyard) conns.erase(id);
    graveyard.clear();
    if (draining && (conns.empty() || now >= deadline_ns)) break;
  }
  for (auto& [id, c] : conns) {
    (void)id;
    if (!c->closed) Close(c.get(), "server stopped");
  }
  conns.clear();
  graveyard.clear();
}

void Server::Impl::Accept(int64_t now) {
  for (;;) {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&addr), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      int err = errno;
      if (err == EINTR || err == ECONNABORTED) continue;
      if (err == EAGAIN || err == EWOULDBLOCK) return;
      // Out of descriptors or memory: stop listening for a moment instead of
      // spinning on a listener that stays readable.
      ET_LOG_WARN("net: accept failed: {}; pausing accepts for {} ms", ErrnoText(err), 100);
      epoll_event e{};
      e.events = 0;
      e.data.u64 = kListenId;
      (void)epoll_ctl(epoll_fd, EPOLL_CTL_MOD, listen_fd, &e);
      listen_paused_until_ns = now + MsToNs(100);
      return;
    }
    if (static_cast<int64_t>(conns.size()) >= options.connections_max) {
      rejected.fetch_add(1, std::memory_order_relaxed);  // counted before the peer can see it
      ::close(fd);
      continue;
    }
    int one = 1;
    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    auto c = std::make_unique<Connection>();
    c->id = next_id++;
    c->fd = fd;
    c->peer = FormatPeer(addr);
    c->parser = std::make_unique<internal::RequestParser>(
        internal::ParseLimits{options.header_bytes_max, options.body_bytes_max});
    if (tls != nullptr) {
      auto session = tls->NewSession(fd, &bytes);
      if (!session.ok()) {
        ET_LOG_ERROR("net: {}: {}", c->peer, session.status().ToString());
        ::close(fd);
        continue;
      }
      c->tls = std::move(session).value();
      c->phase = Phase::kHandshake;
      c->deadline_ns = now + MsToNs(options.handshake_timeout_ms);
    } else {
      c->phase = Phase::kIdle;
      // The first request gets the header timeout: a client that connects
      // and says nothing is a slow client.
      c->deadline_ns = now + MsToNs(options.header_timeout_ms);
    }
    epoll_event e{};
    e.events = EPOLLIN;
    e.data.u64 = c->id;
    if (epoll_ctl(epoll_fd, EPOLL_CTL_ADD, fd, &e) != 0) {
      ET_LOG_ERROR("net: epoll_ctl add failed: {}", ErrnoText(errno));
      ::close(fd);
      continue;
    }
    c->events = EPOLLIN;
    accepted.fetch_add(1, std::memory_order_relaxed);
    active.fetch_add(1, std::memory_order_relaxed);
    conns.emplace(c->id, std::move(c));
  }
}

void Server::Impl::HandleEvent(Connection* c, uint32_t ev, int64_t now) {
  if ((ev & (EPOLLERR | EPOLLHUP)) != 0) {
    // Both directions are gone (reset, or our shutdown plus the peer's):
    // nothing more can be written.
    Close(c, "hang-up");
    return;
  }
  if (c->phase == Phase::kHandshake) {
    DoHandshake(c, now);
    return;
  }
  if (c->phase == Phase::kLingering) {
    Linger(c);
    return;
  }
  if ((ev & EPOLLOUT) != 0 && c->out_pending() > 0) Flush(c, now);
  bool retry_read = (ev & EPOLLOUT) != 0 && c->tls_wants_write;
  if (retry_read) c->tls_wants_write = false;
  if (!c->closed && ((ev & EPOLLIN) != 0 || retry_read)) ReadInput(c, now);
  if (!c->closed) UpdateInterest(c);
}

void Server::Impl::DoHandshake(Connection* c, int64_t now) {
  switch (c->tls->Handshake()) {
    case internal::TlsSession::Io::kOk:
      handshakes.fetch_add(1, std::memory_order_relaxed);
      c->cert_subject = c->tls->peer_subject();
      c->cert_sha256 = c->tls->peer_sha256();
      c->tls_wants_write = false;
      c->phase = Phase::kIdle;
      c->deadline_ns = now + MsToNs(options.header_timeout_ms);
      ready.push_back(c->id);  // application data may already sit in the session
      break;
    case internal::TlsSession::Io::kWantRead:
      c->tls_wants_write = false;
      break;
    case internal::TlsSession::Io::kWantWrite:
      c->tls_wants_write = true;
      break;
    case internal::TlsSession::Io::kClosed:
    case internal::TlsSession::Io::kError:
      handshake_failures.fetch_add(1, std::memory_order_relaxed);
      ET_LOG_INFO("net: TLS handshake with {} failed: {}", c->peer,
                  c->tls->error().empty() ? std::string("connection closed") : c->tls->error());
      Close(c, "handshake failed");
      return;
  }
  UpdateInterest(c);
}

void Server::Impl::ReadInput(Connection* c, int64_t now) {
  for (int i = 0; i < kReadsPerTurn; ++i) {
    if (c->closed || !c->reading() || c->out_pending() >= kOutPendingBytesMax) return;
    char* buf = read_buf.data();
    int64_t n = 0;
    bool eof = false;
    if (c->tls != nullptr) {
      auto r = c->tls->Read(buf, kReadChunkBytes);
      if (r.io == internal::TlsSession::Io::kOk) {
        n = r.bytes;
      } else if (r.io == internal::TlsSession::Io::kWantRead) {
        return;
      } else if (r.io == internal::TlsSession::Io::kWantWrite) {
        c->tls_wants_write = true;  // an alert to send first; retried on EPOLLOUT
        return;
      } else {
        if (r.io == internal::TlsSession::Io::kError) ET_LOG_DEBUG("net: {}: TLS {}", c->peer, c->tls->error());
        eof = true;
      }
    } else {
      ssize_t r = ::recv(c->fd, buf, static_cast<size_t>(kReadChunkBytes), 0);
      if (r > 0) {
        n = r;
        bytes.in.fetch_add(n, std::memory_order_relaxed);
      } else if (r == 0) {
        eof = true;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        return;
      } else if (errno == EINTR) {
        continue;
      } else {
        eof = true;
      }
    }
    if (eof) {
      OnPeerEof(c);
      return;
    }
    c->in.append(buf, static_cast<size_t>(n));
    ProcessInput(c, now);
  }
  // Budget used up: come back next turn (also covers TLS bytes buffered in
  // the session, which epoll cannot report).
  if (!c->closed && c->reading()) ready.push_back(c->id);
}

void Server::Impl::OnPeerEof(Connection* c) {
  c->peer_eof = true;
  if (c->out_pending() > 0) {
    // Answer what was asked, then close.
    c->close_after_write = true;
    if (c->reading()) c->phase = Phase::kClosing;
    return;
  }
  if (c->reading()) Close(c, "peer closed");
}

void Server::Impl::ProcessInput(Connection* c, int64_t now) {
  while (!c->closed && c->reading() && c->in_off < c->in.size() && c->out_pending() < kOutPendingBytesMax) {
    auto step = c->parser->Feed(c->in.data() + c->in_off, c->in.size() - c->in_off);
    c->in_off += step.consumed;
    Phase want = !c->parser->in_message()         ? Phase::kIdle
                 : !c->parser->headers_complete() ? Phase::kHeaders
                                                  : Phase::kBody;
    if (want != c->phase) {
      c->phase = want;
      c->deadline_ns = now + MsToNs(want == Phase::kHeaders ? options.header_timeout_ms
                                    : want == Phase::kBody  ? options.body_timeout_ms
                                                            : options.idle_timeout_ms);
    }
    if (step.event == internal::RequestParser::Event::kError) {
      bad_requests.fetch_add(1, std::memory_order_relaxed);
      SendError(c, c->parser->error_status(), c->parser->error_message(), now);
      break;
    }
    if (c->parser->headers_complete() && !ReserveBody(c)) {
      overloaded.fetch_add(1, std::memory_order_relaxed);
      ET_LOG_WARN("net: {}: request body refused, {} of {} buffered body bytes in use", c->peer, body_budget_used,
                  options.buffered_body_bytes_max);
      SendError(c, 503, "server busy: too many request bodies in memory, retry later", now);
      break;
    }
    if (c->parser->TakeContinue()) {
      c->out.append("HTTP/1.1 100 Continue\r\n\r\n");
    }
    if (step.event == internal::RequestParser::Event::kMessageComplete) {
      Dispatch(c);
      break;
    }
  }
  if (c->in_off == c->in.size()) {
    c->in.clear();
    c->in_off = 0;
  } else if (c->in_off >= static_cast<size_t>(kReadChunkBytes)) {
    c->in.erase(0, c->in_off);
    c->in_off = 0;
  }
  if (!c->closed && c->out_pending() > 0) Flush(c, now);
}

// Grows the connection's share of the body budget to what its current
// request needs (the declared length, or the bytes so far when chunked).
bool Server::Impl::ReserveBody(Connection* c) {
  int64_t need = std::max(c->parser->declared_body_bytes(), c->parser->body_bytes());
  if (need <= c->body_budget_held) return true;
  int64_t extra = need - c->body_budget_held;
  if (body_budget_used + extra > options.buffered_body_bytes_max) return false;
  body_budget_used += extra;
  c->body_budget_held = need;
  return true;
}

void Server::Impl::Dispatch(Connection* c) {
  Request request = c->parser->TakeRequest();
  bool keep_alive = c->parser->keep_alive();
  request.peer_address = c->peer;
  request.tls = c->tls != nullptr;
  request.client_cert_subject = c->cert_subject;
  request.client_cert_sha256 = c->cert_sha256;
  bool head = request.method == "HEAD";
  c->phase = Phase::kDispatched;
  c->deadline_ns = 0;
  requests.fetch_add(1, std::memory_order_relaxed);
  uint64_t id = c->id;
  // The body now belongs to the handler; its budget comes back with the completion.
  int64_t budget = c->body_budget_held;
  c->body_budget_held = 0;
  bool queued = pool->Submit([this, id, keep_alive, head, budget, req = std::move(request)]() {
    Completion done;
    done.id = id;
    done.keep_alive = keep_alive;
    done.head = head;
    done.body_budget = budget;
    try {
      router.Dispatch(req, done.response);
    } catch (const std::exception& e) {
      ET_LOG_ERROR("net: handler for {} {} threw: {}", req.method, req.path, e.what());
      done.response = Response();
      done.response.status = 500;
      done.response.body = "internal error\n";
    } catch (...) {
      ET_LOG_ERROR("net: handler for {} {} threw a non-standard exception", req.method, req.path);
      done.response = Response();
      done.response.status = 500;
      done.response.body = "internal error\n";
    }
    bool was_empty = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      was_empty = completions.empty();
      completions.push_back(std::move(done));
    }
    // The I/O thread takes the whole list after each wake-up, so only the
    // first completion after a take needs to wake it.
    if (was_empty) Wake();
  });
  if (!queued) {
    body_budget_used -= budget;
    Close(c, "server stopping");
  }
}

void Server::Impl::HandleCompletions(int64_t now) {
  std::vector<Completion> done;
  bool drain = false;
  {
    std::lock_guard<std::mutex> lock(mu);
    done.swap(completions);
    drain = drain_requested;
    if (drain && !draining) deadline_ns = drain_deadline_ns;
  }
  if (drain && !draining) StartDrain();
  for (Completion& d : done) {
    body_budget_used -= d.body_budget;
    ET_ASSERT(body_budget_used >= 0);
    Connection* c = Find(d.id);
    if (c == nullptr || c->phase != Phase::kDispatched) continue;  // the client left meanwhile
    OnResponse(c, d, now);
  }
}

void Server::Impl::OnResponse(Connection* c, Completion& done, int64_t now) {
  const std::string* conn_header = done.response.FindHeader("Connection");
  bool handler_closes = conn_header != nullptr && HeaderNameEquals(*conn_header, "close");
  bool close = !done.keep_alive || draining || c->peer_eof || handler_closes;
  AppendResponse(c, done.response, close, done.head, now);
  if (close) {
    c->close_after_write = true;
    c->phase = Phase::kClosing;
  } else {
    c->phase = Phase::kIdle;
    c->deadline_ns = now + MsToNs(options.idle_timeout_ms);
  }
  Flush(c, now);
  if (!c->closed && c->reading()) ready.push_back(c->id);  // a pipelined request may be waiting
}

void Server::Impl::SendError(Connection* c, int status, const std::string& message, int64_t now) {
  ET_LOG_DEBUG("net: {}: answering {}: {}", c->peer, status, message);
  // A request that was refused mid-read gives its budget back at once.
  body_budget_used -= c->body_budget_held;
  c->body_budget_held = 0;
  Response r;
  r.status = status;
  if (status == 503) r.SetHeader("Retry-After", "1");
  r.SetHeader("Content-Type", "text/plain");
  r.body = message + "\n";
  AppendResponse(c, r, /*close=*/true, /*head=*/false, now);
  c->close_after_write = true;
  c->phase = Phase::kClosing;
  c->deadline_ns = 0;
}

void Server::Impl::AppendResponse(Connection* c, const Response& r, bool close, bool head, int64_t now) {
  std::string& out = c->out;
  int status = (r.status >= 200 && r.status <= 999) ? r.status : 500;
  out.append("HTTP/1.1 ");
  out.append(std::to_string(status));
  out.push_back(' ');
  out.append(internal::StatusReason(status));
  out.append("\r\n");
  for (const HeaderField& h : r.headers) {
    if (HeaderNameEquals(h.name, "Content-Length") || HeaderNameEquals(h.name, "Transfer-Encoding") ||
        HeaderNameEquals(h.name, "Connection") || HeaderNameEquals(h.name, "Date")) {
      continue;
    }
    if (h.name.empty() || HasCrOrLf(h.name) || HasCrOrLf(h.value)) {
      ET_LOG_WARN("net: dropping response header '{}' with an empty name or a line break", h.name);
      continue;
    }
    out.append(h.name);
    out.append(": ");
    out.append(h.value);
    out.append("\r\n");
  }
  if (options.date_header) {
    int64_t wall_ms = Clock::System()->NowMs();
    if (wall_ms / 1000 != date_second) {
      date_second = wall_ms / 1000;
      date_text = HttpDate(wall_ms);
    }
    out.append("Date: ");
    out.append(date_text);
    out.append("\r\n");
  }
  bool no_body = status == 204 || status == 304;
  if (!no_body) {
    out.append("Content-Length: ");
    out.append(std::to_string(r.body.size()));
    out.append("\r\n");
  }
  if (close) out.append("Connection: close\r\n");
  out.append("\r\n");
  if (!no_body && !head) out.append(r.body);
  (void)now;
}

void Server::Impl::Flush(Connection* c, int64_t now) {
  bool progress = false;
  while (c->out_pending() > 0) {
    const char* data = c->out.data() + c->out_off;
    int64_t len = c->out_pending();
    int64_t n = 0;
    if (c->tls != nullptr) {
      auto r = c->tls->Write(data, len);
      if (r.io == internal::TlsSession::Io::kOk) {
        n = r.bytes;
      } else if (r.io == internal::TlsSession::Io::kWantWrite || r.io == internal::TlsSession::Io::kWantRead) {
        break;
      } else {
        Close(c, "write failed");
        return;
      }
    } else {
      ssize_t r = ::send(c->fd, data, static_cast<size_t>(len), MSG_NOSIGNAL);
      if (r >= 0) {
        n = r;
        bytes.out.fetch_add(n, std::memory_order_relaxed);
      } else if (errno == EINTR) {
        continue;
      } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
        break;
      } else {
        Close(c, "write failed");
        return;
      }
    }
    c->out_off += static_cast<size_t>(n);
    progress = progress || n > 0;
  }
  if (c->out_pending() == 0) {
    bool was_backlogged = c->out.size() >= static_cast<size_t>(kOutPendingBytesMax);
    c->out.clear();
    c->out_off = 0;
    c->write_deadline_ns = 0;
    if (c->close_after_write) {
      BeginLinger(c, now);
      return;
    }
    if (c->phase == Phase::kIdle) c->deadline_ns = now + MsToNs(options.idle_timeout_ms);
    if (was_backlogged && c->reading()) ready.push_back(c->id);
  } else if (progress || c->write_deadline_ns == 0) {
    c->write_deadline_ns = now + MsToNs(options.idle_timeout_ms);
  }
  UpdateInterest(c);
}

void Server::Impl::BeginLinger(Connection* c, int64_t now) {
  if (c->peer_eof || draining) {
    Close(c, "done");
    return;
  }
  if (c->tls != nullptr) c->tls->CloseNotify();
  // Half-close, then read and drop what the client still sends, so that a
  // client in the middle of an upload reads our answer instead of a reset.
  (void)::shutdown(c->fd, SHUT_WR);
  c->phase = Phase::kLingering;
  c->deadline_ns = now + MsToNs(options.linger_ms);
  UpdateInterest(c);
}

void Server::Impl::Linger(Connection* c) {
  for (int i = 0; i < kReadsPerTurn; ++i) {
    ssize_t r = ::recv(c->fd, read_buf.data(), read_buf.size(), 0);
    if (r > 0) {
      bytes.in.fetch_add(r, std::memory_order_relaxed);
      continue;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
    Close(c, "closed after response");
    return;
  }
}

void Server::Impl::UpdateInterest(Connection* c) {
  if (c->closed) return;
  uint32_t want = 0;
  switch (c->phase) {
    case Phase::kHandshake:
      want = c->tls_wants_write ? EPOLLOUT : EPOLLIN;
      break;
    case Phase::kLingering:
      want = EPOLLIN;
      break;
    default:
      if (c->out_pending() > 0 || c->tls_wants_write) want |= EPOLLOUT;
      if (c->reading() && c->out_pending() < kOutPendingBytesMax) want |= EPOLLIN;
      break;
  }
  if (want == c->events) return;
  epoll_event e{};
  e.events = want;
  e.data.u64 = c->id;
  if (epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c->fd, &e) != 0) {
    ET_LOG_ERROR("net: epoll_ctl mod failed: {}", ErrnoText(errno));
    Close(c, "epoll failed");
    return;
  }
  c->events = want;
}

void Server::Impl::CheckTimeouts(int64_t now) {
  for (auto& [id, owned] : conns) {
    (void)id;
    Connection* c = owned.get();
    if (c->closed) continue;
    bool write_stalled = c->out_pending() > 0 && c->write_deadline_ns != 0 && now >= c->write_deadline_ns;
    // While a response drains, the idle clock does not run (Flush restarts it).
    bool phase_expired = c->deadline_ns != 0 && now >= c->deadline_ns &&
                         !(c->phase == Phase::kIdle && c->out_pending() > 0);
    if (!write_stalled && !phase_expired) continue;
    if (c->phase == Phase::kLingering) {
      Close(c, "linger over");
      continue;
    }
    timeouts.fetch_add(1, std::memory_order_relaxed);
    const char* what = write_stalled                      ? "write stalled"
                       : c->phase == Phase::kHandshake    ? "TLS handshake timeout"
                       : c->phase == Phase::kHeaders      ? "header timeout"
                       : c->phase == Phase::kBody         ? "body timeout"
                                                          : "idle timeout";
    if (c->phase == Phase::kHandshake) handshake_failures.fetch_add(1, std::memory_order_relaxed);
    ET_LOG_DEBUG("net: {}: {}", c->peer, what);
    Close(c, what);
  }
}

void Server::Impl::StartDrain() {
  draining = true;
  if (listen_fd >= 0) {
    (void)epoll_ctl(epoll_fd, EPOLL_CTL_DEL, listen_fd, nullptr);
    ::close(listen_fd);
    listen_fd = -1;
  }
  for (auto& [id, c] : conns) {
    (void)id;
    if (!c->closed) DrainConnection(c.get());
  }
}

void Server::Impl::DrainConnection(Connection* c) {
  switch (c->phase) {
    case Phase::kDispatched:
    case Phase::kClosing:
      return;  // a request in a handler, or an answer going out
    case Phase::kLingering:
      Close(c, "server stopping");
      return;
    default:
      if (c->out_pending() == 0) {
        Close(c, "server stopping");
      } else {
        c->close_after_write = true;
        c->phase = Phase::kClosing;
      }
      return;
  }
}

void Server::Impl::Close(Connection* c, const char* why) {
  if (c->closed) return;
  ET_LOG_DEBUG("net: closing {} ({})", c->peer, why);
  c->closed = true;
  body_budget_used -= c->body_budget_held;
  c->body_budget_held = 0;
  active.fetch_sub(1, std::memory_order_relaxed);  // counted before the peer can see it
  (void)epoll_ctl(epoll_fd, EPOLL_CTL_DEL, c->fd, nullptr);
  ::close(c->fd);
  c->fd = -1;
  graveyard.push_back(c->id);
}

// --- Server ---------------------------------------------------------------

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Server::~Server() { Shutdown(0); }

Result<std::unique_ptr<Server>> Server::Create(ServerOptions options, Router router) {
  if (options.port < 0 || options.port > 65535) {
    return Status::InvalidArgument("server: port " + std::to_string(options.port) + " out of range");
  }
  if (options.worker_threads < 1) return Status::InvalidArgument("server: worker_threads must be >= 1");
  if (options.connections_max < 1) return Status::InvalidArgument("server: connections_max must be >= 1");
  if (options.header_bytes_max < 256) return Status::InvalidArgument("server: header_bytes_max must be >= 256");
  if (options.body_bytes_max < 0) return Status::InvalidArgument("server: body_bytes_max must be >= 0");
  if (options.buffered_body_bytes_max < options.body_bytes_max) {
    return Status::InvalidArgument("server: buffered_body_bytes_max must be >= body_bytes_max");
  }
  if (options.handshake_timeout_ms <= 0 || options.header_timeout_ms <= 0 || options.body_timeout_ms <= 0 ||
      options.idle_timeout_ms <= 0 || options.linger_ms < 0) {
    return Status::InvalidArgument("server: timeouts must be > 0 ms");
  }
  auto impl = std::make_unique<Impl>();
  impl->options = std::move(options);
  impl->router = std::move(router);
  if (impl->options.tls.has_value()) {
    auto ctx = internal::TlsContext::Create(*impl->options.tls);
    if (!ctx.ok()) return ctx.status();
    impl->tls = std::move(ctx).value();
  }
  ET_RETURN_IF_ERROR(impl->Listen());
  impl->epoll_fd = epoll_create1(EPOLL_CLOEXEC);
  if (impl->epoll_fd < 0) return Status::Internal("server: epoll_create1: " + ErrnoText(errno));
  impl->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl->wake_fd < 0) return Status::Internal("server: eventfd: " + ErrnoText(errno));
  epoll_event e{};
  e.events = EPOLLIN;
  e.data.u64 = kListenId;
  if (epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->listen_fd, &e) != 0) {
    return Status::Internal("server: epoll_ctl: " + ErrnoText(errno));
  }
  e.data.u64 = kWakeId;
  if (epoll_ctl(impl->epoll_fd, EPOLL_CTL_ADD, impl->wake_fd, &e) != 0) {
    return Status::Internal("server: epoll_ctl: " + ErrnoText(errno));
  }
  try {
    impl->pool = std::make_unique<internal::WorkerPool>(impl->options.worker_threads);
    Impl* raw = impl.get();
    impl->io_thread = std::thread([raw] { raw->Loop(); });
  } catch (const std::system_error& err) {
    return Status::Internal(std::string("server: cannot start threads: ") + err.what());
  }
  ET_LOG_INFO("net: serving {} on {}:{} ({} workers)", impl->tls ? "HTTPS" : "HTTP", impl->options.host,
              impl->port, impl->options.worker_threads);
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

int Server::port() const { return impl_->port; }

void Server::Shutdown(int64_t deadline_ms) {
  if (impl_ == nullptr || impl_->shutdown_called.exchange(true)) return;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->drain_requested = true;
    impl_->drain_deadline_ns = NowNs() + MsToNs(deadline_ms < 0 ? 0 : deadline_ms);
  }
  impl_->Wake();
  if (impl_->io_thread.joinable()) impl_->io_thread.join();
  impl_->pool->Stop();
}

ServerStats Server::stats() const {
  ServerStats s;
  const Impl& i = *impl_;
  s.connections_accepted = i.accepted.load(std::memory_order_relaxed);
  s.connections_rejected = i.rejected.load(std::memory_order_relaxed);
  s.connections_active = i.active.load(std::memory_order_relaxed);
  s.requests = i.requests.load(std::memory_order_relaxed);
  s.bad_requests = i.bad_requests.load(std::memory_order_relaxed);
  s.overloaded = i.overloaded.load(std::memory_order_relaxed);
  s.handshakes = i.handshakes.load(std::memory_order_relaxed);
  s.handshake_failures = i.handshake_failures.load(std::memory_order_relaxed);
  s.timeouts = i.timeouts.load(std::memory_order_relaxed);
  s.bytes_in = i.bytes.in.load(std::memory_order_relaxed);
  s.bytes_out = i.bytes.out.load(std::memory_order_relaxed);
  return s;
}

}  // namespace edgetable::net
