#pragma once
// edge/api/errors.h: DynamoDB's error shapes. The one table that maps
// EdgeTable Status codes to DynamoDB `__type` names and HTTP codes, so that
// SDKs raise their usual exceptions (ConditionalCheckFailedException,
// ResourceNotFoundException, ValidationException, ...).
// Threads: pure functions and values.

#include <string>
#include <string_view>

#include "edge/base/status.h"
#include "edge/item/json.h"

namespace edgetable::api {

// One error answer: HTTP status, the `__type` (full, with its namespace), the
// message, and extra members (CancellationReasons, Item for
// ReturnValuesOnConditionCheckFailure, ...).
struct ApiError {
  int http_status = 400;
  std::string type;
  std::string message;
  nlohmann::json extra = nlohmann::json::object();

  // The JSON body: {"__type": ..., "message": ..., ...extra}.
  std::string Body() const;
};

// DynamoDB's exception names, with their namespaces.
namespace error_type {
inline constexpr std::string_view kValidation = "com.amazon.coral.validate#ValidationException";
inline constexpr std::string_view kSerialization = "com.amazon.coral.service#SerializationException";
inline constexpr std::string_view kUnknownOperation = "com.amazon.coral.service#UnknownOperationException";
inline constexpr std::string_view kMissingAuthenticationToken =
    "com.amazon.coral.service#MissingAuthenticationTokenException";
inline constexpr std::string_view kUnrecognizedClient = "com.amazon.coral.service#UnrecognizedClientException";
inline constexpr std::string_view kInvalidSignature = "com.amazon.coral.service#InvalidSignatureException";
inline constexpr std::string_view kIncompleteSignature = "com.amazon.coral.service#IncompleteSignatureException";
inline constexpr std::string_view kAccessDenied = "com.amazon.coral.service#AccessDeniedException";
inline constexpr std::string_view kThrottling = "com.amazon.coral.availability#ThrottlingException";
inline constexpr std::string_view kServiceUnavailable = "com.amazon.coral.availability#ServiceUnavailableException";
inline constexpr std::string_view kResourceNotFound = "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException";
inline constexpr std::string_view kResourceInUse = "com.amazonaws.dynamodb.v20120810#ResourceInUseException";
inline constexpr std::string_view kConditionalCheckFailed =
    "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException";
inline constexpr std::string_view kTransactionCanceled =
    "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";
inline constexpr std::string_view kTransactionConflict =
    "com.amazonaws.dynamodb.v20120810#TransactionConflictException";
inline constexpr std::string_view kIdempotentParameterMismatch =
    "com.amazonaws.dynamodb.v20120810#IdempotentParameterMismatchException";
inline constexpr std::string_view kTransactionInProgress =
    "com.amazonaws.dynamodb.v20120810#TransactionInProgressException";
inline constexpr std::string_view kLimitExceeded = "com.amazonaws.dynamodb.v20120810#LimitExceededException";
inline constexpr std::string_view kInternalServerError = "com.amazonaws.dynamodb.v20120810#InternalServerError";
inline constexpr std::string_view kExpiredIterator =
    "com.amazonaws.dynamodb.v20120810#ExpiredIteratorException";
inline constexpr std::string_view kTrimmedDataAccess =
    "com.amazonaws.dynamodb.v20120810#TrimmedDataAccessException";
}  // namespace error_type

// The DynamoDB error for an EdgeTable Status:
//   kInvalidArgument, kLimitExceeded -> ValidationException (400)
//   kNotFound                        -> ResourceNotFoundException (400)
//   kAlreadyExists                   -> ResourceInUseException (400)
//   kConditionFailed                 -> ConditionalCheckFailedException (400)
//   kBusy                            -> ThrottlingException (400, SDKs retry it)
//   kUnavailable                     -> ServiceUnavailableException (503, SDKs retry it)
//   kUnauthenticated                 -> UnrecognizedClientException (400)
//   kPermissionDenied                -> AccessDeniedException (400)
//   kCorruption, kIOError, kInternal -> InternalServerError (500)
// REQUIRES: !status.ok().
ApiError ErrorFromStatus(const Status& status);

ApiError MakeError(std::string_view type, std::string message, int http_status = 400);

// The `__type` without its namespace ("ConditionalCheckFailedException").
std::string_view ShortTypeName(std::string_view type);

}  // namespace edgetable::api
