// Fuzz target: HTTP/1.1 requests, the RequestParser of edge/net (internal to
// that module; tests may include it). The first two input bytes choose the
// limits and how the rest is cut into reads; the rest is the byte stream of
// one connection, fed as the server feeds it (edge/net/server.cc,
// ProcessInput): Feed until an error or until every byte is consumed, taking
// each completed request before feeding on.
//
// Invariants: Feed never consumes more than it was given; kNeedMore means
// every byte was consumed; errors are 400, 413 or 431; a request's body is
// within the limit. And the split does not matter: the same stream fed in
// one piece yields the same requests, and an error exactly when the split
// stream does (the same status, unless one of the two is a limit's).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "edge/net/http.h"
#include "edge/net/internal/request_parser.h"
#include "tests/fuzz/fuzz_check.h"

namespace {

using edgetable::net::Request;
using edgetable::net::internal::ParseLimits;
using edgetable::net::internal::RequestParser;

struct Outcome {
  std::vector<Request> requests;
  std::vector<bool> keep_alive;
  int error_status = 0;
  std::string error_message;
};

// Feeds `stream` in pieces of the sizes `next_piece` returns (>= 1).
template <typename NextPiece>
Outcome Run(std::string_view stream, ParseLimits limits, NextPiece next_piece) {
  Outcome out;
  RequestParser parser(limits);
  std::string in;  // bytes received and not yet consumed, as the server buffers them
  size_t off = 0;
  size_t pos = 0;
  // Each Feed either consumes a byte, completes a request or ends the loop;
  // a request needs at least a few bytes, so this bound is never reached
  // by a parser that makes progress.
  size_t feeds_left = 4 * stream.size() + 16;
  while (pos < stream.size()) {
    const size_t piece = std::min(next_piece(), stream.size() - pos);
    in.append(stream.substr(pos, piece));
    pos += piece;
    while (off < in.size()) {
      FUZZ_CHECK(feeds_left-- > 0, "RequestParser makes no progress");
      const size_t len = in.size() - off;
      const RequestParser::Step step = parser.Feed(in.data() + off, len);
      FUZZ_CHECK(step.consumed <= len, "Feed consumed more than it was given");
      off += step.consumed;
      static_cast<void>(parser.TakeContinue());
      if (parser.headers_complete()) {
        FUZZ_CHECK(parser.body_bytes() <= limits.body_bytes_max, "body over the limit");
      }
      if (step.event == RequestParser::Event::kError) {
        const int status = parser.error_status();
        FUZZ_CHECK(status == 400 || status == 413 || status == 431, parser.error_message().c_str());
        out.error_status = status;
        out.error_message = parser.error_message();
        return out;
      }
      if (step.event == RequestParser::Event::kNeedMore) {
        FUZZ_CHECK(off == in.size(), "kNeedMore with bytes left over");
        break;
      }
      Request r = parser.TakeRequest();
      FUZZ_CHECK(!r.method.empty(), "request without a method");
      FUZZ_CHECK(static_cast<int64_t>(r.body.size()) <= limits.body_bytes_max, "body over the limit");
      out.keep_alive.push_back(parser.keep_alive());
      out.requests.push_back(std::move(r));
    }
    in.erase(0, off);
    off = 0;
  }
  return out;
}

// For a failure report: what a run parsed.
void Print(const char* label, const Outcome& o) {
  std::fprintf(stderr, "%s: %zu request(s), error %d %s\n", label, o.requests.size(), o.error_status,
               o.error_message.c_str());
  for (size_t i = 0; i < o.requests.size(); ++i) {
    const Request& r = o.requests[i];
    std::fprintf(stderr, "  %s %s ?%s HTTP/1.%d, %zu header(s), %zu body bytes, keep-alive %d\n",
                 r.method.c_str(), r.path.c_str(), r.query.c_str(), r.http_minor, r.headers.size(),
                 r.body.size(), o.keep_alive[i] ? 1 : 0);
  }
}

bool IsLimit(int status) { return status == 413 || status == 431; }

bool SameHeaders(const Request& a, const Request& b) {
  if (a.headers.size() != b.headers.size()) return false;
  for (size_t i = 0; i < a.headers.size(); ++i) {
    if (a.headers[i].name != b.headers[i].name || a.headers[i].value != b.headers[i].value) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: limits. The production limits, and small ones that the fuzzer
  // can cross with short inputs.
  static constexpr int64_t kHeaderLimits[] = {64 * 1024, 512, 64, 16};
  static constexpr int64_t kBodyLimits[] = {16 * 1024 * 1024, 1024, 10, 0};
  const ParseLimits limits{kHeaderLimits[data[0] & 3], kBodyLimits[(data[0] >> 2) & 3]};
  // Byte 1: the reads. Its top bits pick the largest read, the rest seed the sizes.
  static constexpr size_t kPieceMax[] = {1, 3, 16, 4096};
  const size_t piece_max = kPieceMax[data[1] >> 6];
  uint32_t rng = 0x9E3779B9u ^ data[1];
  auto next_piece = [&rng, piece_max]() -> size_t {
    rng ^= rng << 13;
    rng ^= rng >> 17;
    rng ^= rng << 5;
    return 1 + rng % piece_max;
  };
  const std::string_view stream(reinterpret_cast<const char*>(data) + 2, size - 2);

  const Outcome split = Run(stream, limits, next_piece);
  const Outcome whole = Run(stream, limits, [&stream]() { return stream.size(); });
  if (split.requests.size() != whole.requests.size() ||
      (split.error_status == 0) != (whole.error_status == 0)) {
    Print("split", split);
    Print("whole", whole);
  }

  FUZZ_CHECK(split.requests.size() == whole.requests.size(),
             "the split changed how many requests were parsed");
  for (size_t i = 0; i < split.requests.size(); ++i) {
    const Request& a = split.requests[i];
    const Request& b = whole.requests[i];
    FUZZ_CHECK(a.method == b.method && a.path == b.path && a.query == b.query &&
                   a.http_minor == b.http_minor && a.body == b.body,
               "the split changed a request");
    FUZZ_CHECK(SameHeaders(a, b), "the split changed a request's headers");
    FUZZ_CHECK(split.keep_alive[i] == whole.keep_alive[i], "the split changed keep-alive");
  }
  // Both fail or neither. A request that is both over a limit and malformed
  // may be refused for either reason: the limits are counted per callback, so
  // a short read can reach one before http-parser sees the bad byte.
  FUZZ_CHECK((split.error_status == 0) == (whole.error_status == 0),
             (split.error_message + " | " + whole.error_message).c_str());
  FUZZ_CHECK(split.error_status == whole.error_status || IsLimit(split.error_status) ||
                 IsLimit(whole.error_status),
             (split.error_message + " | " + whole.error_message).c_str());
  return 0;
}
