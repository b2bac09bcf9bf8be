#include "tests/edge/net/net_test_util.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <sstream>

namespace edgetable::net::testing {

int Connect(int port, int recv_timeout_ms) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{};
  tv.tv_sec = recv_timeout_ms / 1000;
  tv.tv_usec = (recv_timeout_ms % 1000) * 1000;
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  return fd;
}

bool SendAll(int fd, const std::string& data) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

RawResponse ReadResponse(int fd, std::string* buffer) {
  RawResponse r;
  char buf[16384];
  for (;;) {
    size_t end = buffer->find("\r\n\r\n");
    if (end != std::string::npos) {
      std::string head = buffer->substr(0, end);
      // 1xx responses have no body: return them as they are.
      int status = 0;
      if (head.size() >= 12) status = std::atoi(head.substr(9, 3).c_str());
      int64_t length = 0;
      std::string lower = head;
      for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      size_t cl = lower.find("\r\ncontent-length:");
      if (cl != std::string::npos) length = std::atoll(lower.c_str() + cl + 17);
      if (status >= 200 && buffer->size() < end + 4 + static_cast<size_t>(length)) {
        // need more body
      } else {
        r.ok = true;
        r.status = status;
        r.head = head;
        size_t body_len = status >= 200 ? static_cast<size_t>(length) : 0;
        r.body = buffer->substr(end + 4, body_len);
        buffer->erase(0, end + 4 + body_len);
        return r;
      }
    }
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) return r;
    buffer->append(buf, static_cast<size_t>(n));
  }
}

bool WaitForClose(int fd, int timeout_ms) {
  char buf[4096];
  int waited = 0;
  while (waited <= timeout_ms) {
    pollfd p{fd, POLLIN, 0};
    int rc = ::poll(&p, 1, 50);
    if (rc > 0) {
      ssize_t n = ::recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
      if (n == 0) return true;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return true;
    }
    waited += 50;
  }
  return false;
}

namespace {

size_t Append(char* data, size_t size, size_t nmemb, void* user) {
  static_cast<std::string*>(user)->append(data, size * nmemb);
  return size * nmemb;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

CurlClient::CurlClient() {
  GlobalInit();
  handle_ = curl_easy_init();
  CURL* h = static_cast<CURL*>(handle_);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
  curl_easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &Append);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &Append);
  curl_easy_setopt(h, CURLOPT_PROXY, "");
}

CurlClient::~CurlClient() { curl_easy_cleanup(static_cast<CURL*>(handle_)); }

void CurlClient::SetTls(const std::string& ca_file, const std::string& cert_file, const std::string& key_file) {
  CURL* h = static_cast<CURL*>(handle_);
  curl_easy_setopt(h, CURLOPT_CAINFO, ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!cert_file.empty()) {
    curl_easy_setopt(h, CURLOPT_SSLCERT, cert_file.c_str());
    curl_easy_setopt(h, CURLOPT_SSLKEY, key_file.c_str());
  }
}

CurlResult CurlClient::Get(const std::string& url) {
  CURL* h = static_cast<CURL*>(handle_);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  return Perform();
}

CurlResult CurlClient::Post(const std::string& url, const std::string& body, const std::vector<std::string>& headers) {
  CURL* h = static_cast<CURL*>(handle_);
  curl_slist* list = nullptr;
  for (const std::string& header : headers) list = curl_slist_append(list, header.c_str());
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, list);
  CurlResult r = Perform();
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, nullptr);
  curl_slist_free_all(list);
  return r;
}

long CurlClient::new_connections() const {
  long n = -1;
  curl_easy_getinfo(static_cast<CURL*>(handle_), CURLINFO_NUM_CONNECTS, &n);
  return n;
}

CurlResult CurlClient::Perform() {
  CURL* h = static_cast<CURL*>(handle_);
  CurlResult r;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &r.body);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &r.headers);
  r.curl_code = static_cast<int>(curl_easy_perform(h));
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r.status);
  r.error = error;
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  return r;
}

namespace {

void Run(const std::string& cmd) {
  std::string full = cmd + " >/dev/null 2>&1";
  if (std::system(full.c_str()) != 0) {
    std::fprintf(stderr, "command failed: %s\n", cmd.c_str());
    std::abort();
  }
}

}  // namespace

CertFiles MakeCa(const std::string& dir, const std::string& name, const std::string& cn) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  Run("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -keyout " + f.key +
      " -out " + f.cert + " -subj '/CN=" + cn + "/O=EdgeTable Tests'" +
      " -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign");
  return f;
}

CertFiles MakeLeaf(const std::string& dir, const std::string& name, const std::string& cn, const CertFiles& ca,
                   bool server) {
  CertFiles f{dir + "/" + name + ".crt", dir + "/" + name + ".key"};
  std::string csr = dir + "/" + name + ".csr";
  std::string ext = dir + "/" + name + ".ext";
  {
    std::ofstream out(ext);
    out << "basicConstraints=CA:FALSE\n"
        << "keyUsage=critical,digitalSignature\n"
        << "extendedKeyUsage=" << (server ? "serverAuth" : "clientAuth") << "\n"
        << "subjectAltName=IP:127.0.0.1,DNS:localhost\n";
  }
  Run("openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout " + f.key + " -out " + csr +
      " -subj '/CN=" + cn + "/O=EdgeTable Tests'");
  Run("openssl x509 -req -in " + csr + " -CA " + ca.cert + " -CAkey " + ca.key + " -set_serial " +
      std::to_string(1000 + std::rand() % 100000) + " -days 2 -out " + f.cert + " -extfile " + ext);
  return f;
}

std::string OpensslFingerprint(const std::string& cert_file) {
  std::string cmd = "openssl x509 -in " + cert_file + " -noout -fingerprint -sha256";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return "";
  char buf[256] = {0};
  std::string line;
  while (std::fgets(buf, sizeof(buf), p) != nullptr) line += buf;
  ::pclose(p);
  size_t eq = line.find('=');
  std::string hex;
  if (eq == std::string::npos) return "";
  for (char ch : line.substr(eq + 1)) {
    if (std::isxdigit(static_cast<unsigned char>(ch))) hex.push_back(static_cast<char>(std::tolower(ch)));
  }
  return hex;
}

}  // namespace edgetable::net::testing

#include <chrono>
#include <stdexcept>
#include <thread>

namespace edgetable::net::testing {

Router MakeTestRouter() {
  Router router;
  auto check = [](Status s) {
    if (!s.ok()) std::abort();
  };
  check(router.Add("GET", "/health", [](const Request&, Response& resp) { resp.body = "ok"; }));
  check(router.Add("POST", "/echo", [](const Request& req, Response& resp) {
    resp.body = req.body;
    const std::string* target = req.FindHeader("x-amz-target");
    resp.SetHeader("X-Target", target != nullptr ? *target : "-");
    resp.SetHeader("X-Query", req.query);
    resp.SetHeader("X-Peer", req.peer_address);
    resp.SetHeader("Content-Type", "application/octet-stream");
  }));
  check(router.Add("POST", "/slow", [](const Request& req, Response& resp) {
    std::this_thread::sleep_for(std::chrono::milliseconds(std::atoi(req.body.c_str())));
    resp.body = req.body;
  }));
  check(router.Add("GET", "/bye", [](const Request&, Response& resp) {
    resp.SetHeader("Connection", "close");
    resp.body = "bye";
  }));
  check(router.Add("GET", "/throw", [](const Request&, Response&) { throw std::runtime_error("boom"); }));
  check(router.Add("GET", "/cert", [](const Request& req, Response& resp) {
    resp.body = req.client_cert_subject + "\n" + req.client_cert_sha256;
  }));
  return router;
}

}  // namespace edgetable::net::testing
