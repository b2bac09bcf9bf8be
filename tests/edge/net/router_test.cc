#include "edge/net/router.h"

#include <gtest/gtest.h>

namespace edgetable::net {
namespace {

Request Make(std::string method, std::string path) {
  Request r;
  r.method = std::move(method);
  r.path = std::move(path);
  return r;
}

TEST(RouterTest, ExactRoutes404And405) {
  Router router;
  ASSERT_TRUE(router.Add("GET", "/health", [](const Request&, Response& resp) { resp.body = "ok"; }).ok());
  ASSERT_TRUE(router.Add("POST", "/", [](const Request& req, Response& resp) { resp.body = req.body; }).ok());
  ASSERT_TRUE(router.Add("PUT", "/health", [](const Request&, Response& resp) { resp.status = 204; }).ok());

  Response r1;
  router.Dispatch(Make("GET", "/health"), r1);
  EXPECT_EQ(r1.status, 200);
  EXPECT_EQ(r1.body, "ok");

  Response r2;
  router.Dispatch(Make("GET", "/health/x"), r2);  // exact match only
  EXPECT_EQ(r2.status, 404);

  Response r3;
  router.Dispatch(Make("DELETE", "/health"), r3);
  EXPECT_EQ(r3.status, 405);
  ASSERT_NE(r3.FindHeader("allow"), nullptr);
  EXPECT_EQ(*r3.FindHeader("Allow"), "GET, PUT");
}

TEST(RouterTest, RejectsBadAndDuplicateRoutes) {
  Router router;
  auto h = [](const Request&, Response&) {};
  EXPECT_EQ(router.Add("", "/", h).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "health", h).code(), Status::Code::kInvalidArgument);
  EXPECT_EQ(router.Add("GET", "/", nullptr).code(), Status::Code::kInvalidArgument);
  ASSERT_TRUE(router.Add("GET", "/", h).ok());
  EXPECT_EQ(router.Add("GET", "/", h).code(), Status::Code::kAlreadyExists);
}

TEST(HttpTest, HeaderLookupIsCaseInsensitive) {
  Request req;
  req.headers.push_back({"X-Amz-Target", "DynamoDB_20120810.GetItem"});
  req.headers.push_back({"x-amz-target", "second"});
  ASSERT_NE(req.FindHeader("x-AMZ-target"), nullptr);
  EXPECT_EQ(*req.FindHeader("X-AMZ-TARGET"), "DynamoDB_20120810.GetItem");
  EXPECT_EQ(req.FindHeader("X-Amz-Targe"), nullptr);

  Response resp;
  resp.SetHeader("Content-Type", "a");
  resp.SetHeader("content-type", "b");
  ASSERT_EQ(resp.headers.size(), 1u);
  EXPECT_EQ(*resp.FindHeader("CONTENT-TYPE"), "b");
}

}  // namespace
}  // namespace edgetable::net
