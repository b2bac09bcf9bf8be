#include "edge/api/errors.h"

#include <gtest/gtest.h>

namespace edgetable::api {
namespace {

TEST(ErrorsTest, EveryStatusCodeMapsToADynamoDbError) {
  struct Case {
    Status status;
    std::string_view type;
    int http;
  };
  const Case cases[] = {
      {Status::InvalidArgument("x"), "ValidationException", 400},
      {Status::LimitExceeded("x"), "ValidationException", 400},
      {Status::NotFound("x"), "ResourceNotFoundException", 400},
      {Status::AlreadyExists("x"), "ResourceInUseException", 400},
      {Status::ConditionFailed("x"), "ConditionalCheckFailedException", 400},
      {Status::Busy("x"), "ThrottlingException", 400},
      {Status::Unavailable("x"), "ServiceUnavailableException", 503},
      {Status::Unauthenticated("x"), "UnrecognizedClientException", 400},
      {Status::PermissionDenied("x"), "AccessDeniedException", 400},
      {Status::IOError("disk"), "InternalServerError", 500},
      {Status::Corruption("x"), "InternalServerError", 500},
      {Status::Internal("x"), "InternalServerError", 500},
  };
  for (const Case& c : cases) {
    ApiError e = ErrorFromStatus(c.status);
    EXPECT_EQ(ShortTypeName(e.type), c.type) << c.status.ToString();
    EXPECT_EQ(e.http_status, c.http) << c.status.ToString();
  }
}

TEST(ErrorsTest, BodyHasTypeMessageAndExtras) {
  ApiError e = MakeError(error_type::kTransactionCanceled, "Transaction cancelled");
  e.extra["CancellationReasons"] = nlohmann::json::array({{{"Code", "None"}}});
  nlohmann::json body = nlohmann::json::parse(e.Body());
  EXPECT_EQ(body["__type"], "com.amazonaws.dynamodb.v20120810#TransactionCanceledException");
  EXPECT_EQ(body["message"], "Transaction cancelled");
  EXPECT_EQ(body["CancellationReasons"][0]["Code"], "None");
}

}  // namespace
}  // namespace edgetable::api
