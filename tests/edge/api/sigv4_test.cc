#include "edge/api/sigv4.h"

#include <gtest/gtest.h>

namespace edgetable::api {
namespace {

// A request signed by botocore's SigV4Auth (the signer boto3 and the AWS CLI
// use) at 2026-11-24T12:00:00Z with the key below.
constexpr const char* kSecret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr const char* kSignature = "1cab37b625cde21361977b19c26b42ef1d3a8c56038e5420295cf193a85dcd01";
constexpr int64_t kSignedAtMs = 1'795'521'600'000;  // 2026-11-24T12:00:00Z

net::Request SignedRequest(std::string signature = kSignature) {
  net::Request r;
  r.method = "POST";
  r.path = "/";
  r.body = R"({"TableName":"telemetry"})";
  r.headers = {
      {"Host", "127.0.0.1:8000"},
      {"X-Amz-Target", "DynamoDB_20120810.DescribeTable"},
      {"Content-Type", "application/x-amz-json-1.0"},
      {"X-Amz-Date", "20261124T120000Z"},
      {"Authorization",
       "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261124/us-east-1/dynamodb/aws4_request, "
       "SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + signature},
  };
  return r;
}

SigV4Verifier Verifier(const Clock* clock) {
  return SigV4Verifier({{"AKIDEXAMPLE", kSecret}}, clock);
}

TEST(SigV4Test, MatchesBotocore) {
  EXPECT_EQ(SigV4Verifier::Sign(SignedRequest(), kSecret, "20261124T120000Z",
                                "20261124/us-east-1/dynamodb/aws4_request",
                                "content-type;host;x-amz-date;x-amz-target"),
            kSignature);
}

TEST(SigV4Test, AcceptsAValidSignature) {
  FakeClock clock(kSignedAtMs + 60'000);
  ApiError e;
  std::string key;
  EXPECT_TRUE(Verifier(&clock).Verify(SignedRequest(), &e, &key)) << e.message;
  EXPECT_EQ(key, "AKIDEXAMPLE");
}

TEST(SigV4Test, RefusesATamperedBody) {
  FakeClock clock(kSignedAtMs);
  net::Request r = SignedRequest();
  r.body = R"({"TableName":"other"})";
  ApiError e;
  std::string key;
  EXPECT_FALSE(Verifier(&clock).Verify(r, &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "InvalidSignatureException");
}

TEST(SigV4Test, RefusesAWrongSecretUnknownKeyAndOldDate) {
  ApiError e;
  std::string key;
  FakeClock clock(kSignedAtMs);
  SigV4Verifier other({{"AKIDEXAMPLE", "not-the-secret"}}, &clock);
  EXPECT_FALSE(other.Verify(SignedRequest(), &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "InvalidSignatureException");

  SigV4Verifier unknown({{"AKIDOTHER", kSecret}}, &clock);
  EXPECT_FALSE(unknown.Verify(SignedRequest(), &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "UnrecognizedClientException");

  FakeClock later(kSignedAtMs + 16 * 60'000);
  EXPECT_FALSE(Verifier(&later).Verify(SignedRequest(), &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "InvalidSignatureException");
  EXPECT_NE(e.message.find("15 minutes"), std::string::npos);
}

TEST(SigV4Test, MissingOrMalformedHeaders) {
  FakeClock clock(kSignedAtMs);
  ApiError e;
  std::string key;
  net::Request r = SignedRequest();
  r.headers.pop_back();  // no Authorization
  EXPECT_FALSE(Verifier(&clock).Verify(r, &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "MissingAuthenticationTokenException");

  r.headers.push_back({"Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/x"});
  EXPECT_FALSE(Verifier(&clock).Verify(r, &e, &key));
  EXPECT_EQ(ShortTypeName(e.type), "IncompleteSignatureException");
}

TEST(SigV4Test, NoKeysMeansUnsignedRequestsPass) {
  SigV4Verifier none({}, Clock::System());
  ApiError e;
  std::string key;
  net::Request r;
  EXPECT_FALSE(none.enabled());
  EXPECT_TRUE(none.Verify(r, &e, &key));
}

}  // namespace
}  // namespace edgetable::api
