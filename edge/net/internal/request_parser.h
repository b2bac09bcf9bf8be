#pragma once
// RequestParser: turns the bytes of one connection into Requests, one at a
// time, with http-parser (the only file that includes <http_parser.h> is
// request_parser.cc). It enforces the header and body limits while parsing,
// so an oversized request is refused before it is read in full.
//
// Threads: one connection's parser is used by the I/O thread only.
//
// Use: Feed() bytes until it reports kMessageComplete (then TakeRequest() and
// feed the rest later, which is how pipelined requests are answered one by
// one, in order) or kError (then answer error_status() and close).

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "edge/net/http.h"

namespace edgetable::net::internal {

struct ParseLimits {
  int64_t header_bytes_max = 0;  // request line + header lines; more: 431
  int64_t body_bytes_max = 0;    // decoded body; more: 413
};

// The reason phrase for an HTTP status code ("Not Found"), "Unknown" if none.
std::string_view StatusReason(int status);

class RequestParser {
 public:
  enum class Event {
    kNeedMore,         // every byte consumed, no complete request yet
    kMessageComplete,  // a request is complete; the rest of the bytes are unread
    kError,            // malformed or over a limit; see error_status()
  };
  struct Step {
    size_t consumed = 0;
    Event event = Event::kNeedMore;
  };

  explicit RequestParser(ParseLimits limits);
  ~RequestParser();
  RequestParser(const RequestParser&) = delete;
  RequestParser& operator=(const RequestParser&) = delete;

  // REQUIRES: len > 0; not after kError; after kMessageComplete only once
  // TakeRequest() was called.
  Step Feed(const char* data, size_t len);

  // REQUIRES: the last Feed() returned kMessageComplete. Moves the request out.
  Request TakeRequest();
  // For the request last completed: false when the connection must close
  // after the response (Connection: close, or HTTP/1.0 without keep-alive).
  bool keep_alive() const { return keep_alive_; }

  // Whether any byte of the next request was seen / all its headers were.
  bool in_message() const { return in_message_; }
  bool headers_complete() const { return headers_complete_; }

  // True once per request whose headers carry "Expect: 100-continue" while
  // its body is not complete yet: the caller should send 100 Continue.
  bool TakeContinue();

  // Body bytes of the current request so far, and the declared length once
  // the headers are complete (-1 when chunked or not yet known).
  int64_t body_bytes() const { return static_cast<int64_t>(current_.body.size()); }
  int64_t declared_body_bytes() const { return declared_body_bytes_; }

  // After kError: 400, 413 or 431, and a reason for the log.
  int error_status() const { return error_status_; }
  const std::string& error_message() const { return error_message_; }

 private:
  struct Impl;
  friend struct Impl;
  std::unique_ptr<Impl> impl_;

  ParseLimits limits_;
  Request current_;
  std::string url_;
  std::string field_;
  std::string value_;
  bool last_was_value_ = false;
  int64_t header_bytes_ = 0;
  bool in_message_ = false;
  bool headers_complete_ = false;
  bool message_complete_ = false;
  bool keep_alive_ = true;
  bool expect_continue_ = false;
  int64_t declared_body_bytes_ = -1;
  int error_status_ = 0;
  std::string error_message_;
};

}  // namespace edgetable::net::internal
