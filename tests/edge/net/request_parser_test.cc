#include "edge/net/internal/request_parser.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace edgetable::net::internal {
namespace {

constexpr ParseLimits kLimits{4096, 1 << 20};

// Feeds data in pieces of `piece` bytes; collects complete requests.
struct Collected {
  std::vector<Request> requests;
  std::vector<bool> keep_alive;
  int error = 0;
  int continues = 0;
};

Collected FeedAll(RequestParser& parser, const std::string& data, size_t piece) {
  Collected out;
  size_t off = 0;
  while (off < data.size()) {
    size_t end = std::min(data.size(), off + piece);
    size_t pos = off;
    while (pos < end) {
      auto step = parser.Feed(data.data() + pos, end - pos);
      pos += step.consumed;
      if (parser.TakeContinue()) ++out.continues;
      if (step.event == RequestParser::Event::kError) {
        out.error = parser.error_status();
        return out;
      }
      if (step.event == RequestParser::Event::kMessageComplete) {
        out.keep_alive.push_back(parser.keep_alive());
        out.requests.push_back(parser.TakeRequest());
      }
    }
    off = end;
  }
  return out;
}

const std::string kTwoRequests =
    "POST /sync/push?since=42 HTTP/1.1\r\nHost: hub\r\nX-Amz-Target:  DynamoDB_20120810.PutItem \r\n"
    "Content-Length: 11\r\n\r\nhello world"
    "GET /metrics HTTP/1.1\r\nHost: hub\r\nConnection: close\r\n\r\n";

TEST(RequestParserTest, EverySplitGivesTheSameRequests) {
  for (size_t piece : {size_t{1}, size_t{2}, size_t{3}, size_t{7}, size_t{64}, kTwoRequests.size()}) {
    RequestParser parser(kLimits);
    Collected c = FeedAll(parser, kTwoRequests, piece);
    ASSERT_EQ(c.error, 0) << "piece " << piece;
    ASSERT_EQ(c.requests.size(), 2u) << "piece " << piece;
    const Request& a = c.requests[0];
    EXPECT_EQ(a.method, "POST");
    EXPECT_EQ(a.path, "/sync/push");
    EXPECT_EQ(a.query, "since=42");
    EXPECT_EQ(a.body, "hello world");
    ASSERT_NE(a.FindHeader("x-amz-target"), nullptr);
    EXPECT_EQ(*a.FindHeader("x-amz-target"), "DynamoDB_20120810.PutItem");
    EXPECT_TRUE(c.keep_alive[0]);
    const Request& b = c.requests[1];
    EXPECT_EQ(b.method, "GET");
    EXPECT_EQ(b.path, "/metrics");
    EXPECT_TRUE(b.body.empty());
    EXPECT_FALSE(c.keep_alive[1]);
  }
}

TEST(RequestParserTest, ChunkedBodyIsDecoded) {
  RequestParser parser(kLimits);
  Collected c = FeedAll(parser,
                        "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
                        "4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n",
                        5);
  ASSERT_EQ(c.error, 0);
  ASSERT_EQ(c.requests.size(), 1u);
  EXPECT_EQ(c.requests[0].body, "Wikipedia in\r\n\r\nchunks.");
}

TEST(RequestParserTest, ExpectContinueOnlyWhileBodyIsMissing) {
  RequestParser parser(kLimits);
  std::string head = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
  auto step = parser.Feed(head.data(), head.size());
  EXPECT_EQ(step.event, RequestParser::Event::kNeedMore);
  EXPECT_TRUE(parser.TakeContinue());
  EXPECT_FALSE(parser.TakeContinue());  // once
  step = parser.Feed("abc", 3);
  EXPECT_EQ(step.event, RequestParser::Event::kMessageComplete);
  EXPECT_EQ(parser.TakeRequest().body, "abc");

  // Headers and body in one piece: nothing to continue.
  RequestParser whole(kLimits);
  std::string all = "POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc";
  step = whole.Feed(all.data(), all.size());
  EXPECT_EQ(step.event, RequestParser::Event::kMessageComplete);
  EXPECT_FALSE(whole.TakeContinue());
}

TEST(RequestParserTest, LimitsAndErrors) {
  {
    RequestParser parser(ParseLimits{4096, 10});
    Collected c = FeedAll(parser, "POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\n", 1000);
    EXPECT_EQ(c.error, 413);  // refused at the headers, before any body byte
  }
  {
    RequestParser parser(ParseLimits{4096, 10});
    Collected c = FeedAll(parser, "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n8\r\n12345678\r\n8\r\nabc", 1000);
    EXPECT_EQ(c.error, 413);
  }
  {
    RequestParser parser(ParseLimits{256, 10});
    Collected c = FeedAll(parser, "GET / HTTP/1.1\r\nX-Big: " + std::string(300, 'b') + "\r\n\r\n", 17);
    EXPECT_EQ(c.error, 431);
  }
  {
    RequestParser parser(kLimits);
    Collected c = FeedAll(parser, "GET / HTTP/2.0\r\n\r\n", 1000);
    EXPECT_EQ(c.error, 400);
  }
  {
    RequestParser parser(kLimits);
    Collected c = FeedAll(parser, "GET http://hub:8443/health?x=1 HTTP/1.1\r\n\r\n", 1000);
    ASSERT_EQ(c.error, 0);
    ASSERT_EQ(c.requests.size(), 1u);
    EXPECT_EQ(c.requests[0].path, "/health");
    EXPECT_EQ(c.requests[0].query, "x=1");
  }
}

TEST(RequestParserTest, RandomBytesNeverCrash) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 2000; ++round) {
    std::string data = kTwoRequests;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int i = 0; i < flips; ++i) data[rng() % data.size()] = static_cast<char>(rng() & 0xff);
    RequestParser parser(kLimits);
    Collected c = FeedAll(parser, data, 1 + rng() % 40);
    EXPECT_LE(c.requests.size(), 2u);
    if (c.error != 0) {
      EXPECT_TRUE(c.error == 400 || c.error == 413 || c.error == 431) << c.error;
    }
  }
}

}  // namespace
}  // namespace edgetable::net::internal
