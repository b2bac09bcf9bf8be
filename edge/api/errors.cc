#include "edge/api/errors.h"

namespace edgetable::api {

std::string ApiError::Body() const {
  nlohmann::json body = extra;
  body["__type"] = type;
  body["message"] = message;
  // Messages may quote client bytes that are not UTF-8: replace, never throw.
  return body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

ApiError MakeError(std::string_view type, std::string message, int http_status) {
  ApiError e;
  e.http_status = http_status;
  e.type = std::string(type);
  e.message = std::move(message);
  return e;
}

ApiError ErrorFromStatus(const Status& status) {
  using C = Status::Code;
  const std::string& m = status.message();
  switch (status.code()) {
    case C::kInvalidArgument:
    case C::kLimitExceeded:
      return MakeError(error_type::kValidation, m);
    case C::kNotFound:
      return MakeError(error_type::kResourceNotFound, m.empty() ? "Requested resource not found" : m);
    case C::kAlreadyExists:
      return MakeError(error_type::kResourceInUse, m);
    case C::kConditionFailed:
      return MakeError(error_type::kConditionalCheckFailed,
                       m.empty() ? "The conditional request failed" : m);
    case C::kBusy:
      return MakeError(error_type::kThrottling, m.empty() ? "Rate of requests exceeds the allowed throughput." : m);
    case C::kUnavailable:
      return MakeError(error_type::kServiceUnavailable, m, 503);
    case C::kUnauthenticated:
      return MakeError(error_type::kUnrecognizedClient, m);
    case C::kPermissionDenied:
      return MakeError(error_type::kAccessDenied, m);
    case C::kOk:
    case C::kCorruption:
    case C::kIOError:
    case C::kInternal:
      break;
  }
  return MakeError(error_type::kInternalServerError, "Internal server error: " + m, 500);
}

std::string_view ShortTypeName(std::string_view type) {
  size_t hash = type.rfind('#');
  return hash == std::string_view::npos ? type : type.substr(hash + 1);
}

}  // namespace edgetable::api
