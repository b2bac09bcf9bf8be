#include "edge/net/internal/request_parser.h"

#include <http_parser.h>

#include <algorithm>
#include <utility>

#include "edge/base/assert.h"
#include "edge/base/limits.h"

namespace edgetable::net::internal {
namespace {
constexpr uint64_t kBodyReserveBytesMax = 64 * 1024;
// http-parser has its own header limit, compiled in; ours must be the one
// that speaks first, so the client gets 431 with our message.
static_assert(limits::kRequestHeaderBytesMax <= HTTP_MAX_HEADER_SIZE,
              "EdgeTable's header limit must not exceed http-parser's");
}  // namespace

struct RequestParser::Impl {
  http_parser parser;
  http_parser_settings settings;

  static RequestParser* Self(http_parser* p) { return static_cast<RequestParser*>(p->data); }

  // Adds n header bytes; false (and an error) when the total passes the limit.
  static bool CountHeader(RequestParser* self, size_t n) {
    self->header_bytes_ += static_cast<int64_t>(n);
    if (self->header_bytes_ > self->limits_.header_bytes_max) {
      self->error_status_ = 431;
      self->error_message_ = "request header larger than " + std::to_string(self->limits_.header_bytes_max) + " bytes";
      return false;
    }
    return true;
  }

  static void FinishHeader(RequestParser* self) {
    if (!self->field_.empty()) {
      // Trimmed in place: no second copy of every value.
      std::string value = std::move(self->value_);
      size_t e = value.find_last_not_of(" \t");
      if (e == std::string::npos) {
        value.clear();
      } else {
        value.erase(e + 1);
        value.erase(0, value.find_first_not_of(" \t"));
      }
      if (self->current_.headers.empty()) self->current_.headers.reserve(16);
      self->current_.headers.push_back(HeaderField{std::move(self->field_), std::move(value)});
    }
    self->field_.clear();
    self->value_.clear();
    self->last_was_value_ = false;
  }

  static int OnMessageBegin(http_parser* p) {
    RequestParser* self = Self(p);
    self->in_message_ = true;
    return 0;
  }
  static int OnUrl(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    if (!CountHeader(self, len)) return 1;
    self->url_.append(at, len);
    return 0;
  }
  static int OnHeaderField(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    // ": " and CRLF count too, once per field: the parser may deliver one
    // name in several pieces, as the bytes arrive.
    const bool new_field = self->last_was_value_ || self->field_.empty();
    if (!CountHeader(self, len + (new_field ? 4 : 0))) return 1;
    if (self->last_was_value_) FinishHeader(self);
    self->field_.append(at, len);
    return 0;
  }
  static int OnHeaderValue(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    if (!CountHeader(self, len)) return 1;
    self->value_.append(at, len);
    self->last_was_value_ = true;
    return 0;
  }
  static int OnHeadersComplete(http_parser* p) {
    RequestParser* self = Self(p);
    FinishHeader(self);
    Request& r = self->current_;
    r.method = http_method_str(static_cast<http_method>(p->method));
    r.http_minor = p->http_minor;
    if (p->method == HTTP_CONNECT) {  // tunnels are not something this server speaks
      self->error_status_ = 400;
      self->error_message_ = "CONNECT is not supported";
      return -1;
    }
    if (p->http_major != 1) {
      self->error_status_ = 400;  // 505 would be exact; nothing but 1.x reaches here in practice
      self->error_message_ = "unsupported HTTP version";
      return -1;
    }
    // Origin-form ("/path?query") is what clients send to a server; the
    // absolute form is accepted for completeness, the rest is refused.
    std::string_view url = self->url_;
    if (!url.empty() && url.front() == '/') {
      size_t q = url.find('?');
      std::string_view path = url.substr(0, q);
      size_t hash = path.find('#');
      r.path = std::string(path.substr(0, hash));
      if (q != std::string_view::npos) {
        std::string_view query = url.substr(q + 1);
        r.query = std::string(query.substr(0, query.find('#')));
      }
    } else {
      http_parser_url u;
      http_parser_url_init(&u);
      if (http_parser_parse_url(url.data(), url.size(), 0, &u) != 0 || (u.field_set & (1 << UF_PATH)) == 0) {
        self->error_status_ = 400;
        self->error_message_ = "request target is not a path";
        return -1;
      }
      r.path = std::string(url.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len));
      if (u.field_set & (1 << UF_QUERY)) {
        r.query = std::string(url.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len));
      }
    }
    // A declared length over the limit is refused now, before any body byte
    // is read (413 without reading the body). Chunked bodies are counted in
    // OnBody. Without the F_CONTENTLENGTH flag, content_length is not a length.
    if ((p->flags & F_CONTENTLENGTH) != 0 &&
        p->content_length > static_cast<uint64_t>(self->limits_.body_bytes_max)) {
      self->error_status_ = 413;
      self->error_message_ = "declared body of " + std::to_string(p->content_length) + " bytes is over " +
                             std::to_string(self->limits_.body_bytes_max);
      return -1;
    }
    // Reserve a little, not the declared length: memory follows the bytes
    // that arrive, not what a client claims it will send.
    if ((p->flags & F_CONTENTLENGTH) != 0 && p->content_length > 0) {
      self->current_.body.reserve(static_cast<size_t>(std::min<uint64_t>(p->content_length, kBodyReserveBytesMax)));
    }
    self->declared_body_bytes_ =
        (p->flags & F_CONTENTLENGTH) != 0 ? static_cast<int64_t>(p->content_length) : (p->flags & F_CHUNKED) != 0 ? -1 : 0;
    const std::string* expect = r.FindHeader("Expect");
    bool has_body = (p->flags & F_CHUNKED) != 0 || ((p->flags & F_CONTENTLENGTH) != 0 && p->content_length > 0);
    self->expect_continue_ = expect != nullptr && HeaderNameEquals(*expect, "100-continue") && has_body &&
                             p->http_minor >= 1;
    self->headers_complete_ = true;
    return 0;
  }
  static int OnBody(http_parser* p, const char* at, size_t len) {
    RequestParser* self = Self(p);
    if (static_cast<int64_t>(self->current_.body.size()) + static_cast<int64_t>(len) > self->limits_.body_bytes_max) {
      self->error_status_ = 413;
      self->error_message_ = "body over " + std::to_string(self->limits_.body_bytes_max) + " bytes";
      return 1;
    }
    self->current_.body.append(at, len);
    return 0;
  }
  static int OnMessageComplete(http_parser* p) {
    RequestParser* self = Self(p);
    self->message_complete_ = true;
    self->keep_alive_ = http_should_keep_alive(p) != 0;
    self->expect_continue_ = false;  // the body is already here
    http_parser_pause(p, 1);  // stop here: the next request waits for this one's answer
    return 0;
  }
};

std::string_view StatusReason(int status) {
  const char* s = http_status_str(static_cast<http_status>(status));
  if (s == nullptr || s[0] == '<') return "Unknown";
  return s;
}

RequestParser::RequestParser(ParseLimits limits) : impl_(std::make_unique<Impl>()), limits_(limits) {
  http_parser_init(&impl_->parser, HTTP_REQUEST);
  impl_->parser.data = this;
  http_parser_settings_init(&impl_->settings);
  impl_->settings.on_message_begin = &Impl::OnMessageBegin;
  impl_->settings.on_url = &Impl::OnUrl;
  impl_->settings.on_header_field = &Impl::OnHeaderField;
  impl_->settings.on_header_value = &Impl::OnHeaderValue;
  impl_->settings.on_headers_complete = &Impl::OnHeadersComplete;
  impl_->settings.on_body = &Impl::OnBody;
  impl_->settings.on_message_complete = &Impl::OnMessageComplete;
}

RequestParser::~RequestParser() = default;

RequestParser::Step RequestParser::Feed(const char* data, size_t len) {
  ET_ASSERT(len > 0);
  ET_ASSERT(error_status_ == 0);
  ET_ASSERT(!message_complete_);
  Step step;
  step.consumed = http_parser_execute(&impl_->parser, &impl_->settings, data, len);
  http_errno err = HTTP_PARSER_ERRNO(&impl_->parser);
  if (err == HPE_PAUSED) {
    http_parser_pause(&impl_->parser, 0);
    step.event = Event::kMessageComplete;
    return step;
  }
  if (err != HPE_OK) {
    if (error_status_ == 0) {
      error_status_ = err == HPE_HEADER_OVERFLOW ? 431 : 400;
      error_message_ = std::string("malformed request: ") + http_errno_description(err);
    }
    step.event = Event::kError;
    return step;
  }
  if (message_complete_) {  // completed on the last byte without pausing early
    step.event = Event::kMessageComplete;
    return step;
  }
  // An Upgrade header (e.g. h2c) is ignored: the request is answered over
  // HTTP/1.1, as RFC 9110 allows. CONNECT is refused in OnHeadersComplete.
  step.event = Event::kNeedMore;
  return step;
}

Request RequestParser::TakeRequest() {
  ET_ASSERT(message_complete_);
  Request out = std::move(current_);
  current_ = Request();
  url_.clear();
  field_.clear();
  value_.clear();
  last_was_value_ = false;
  header_bytes_ = 0;
  in_message_ = false;
  headers_complete_ = false;
  message_complete_ = false;
  expect_continue_ = false;
  declared_body_bytes_ = -1;
  return out;
}

bool RequestParser::TakeContinue() {
  bool c = expect_continue_;
  expect_continue_ = false;
  return c;
}

}  // namespace edgetable::net::internal
