#pragma once
// Reading DynamoDB request parameters out of a JSON body, with DynamoDB's
// error messages. Internal to edge/api.

#include <optional>
#include <string>
#include <string_view>

#include "edge/api/errors.h"
#include "edge/base/status.h"
#include "edge/expr/context.h"
#include "edge/item/json.h"
#include "edge/item/key.h"
#include "edge/item/value.h"

namespace edgetable::api::internal {

using Json = nlohmann::json;

// Statuses whose message starts with this prefix become a
// SerializationException (a JSON member of the wrong type) rather than a
// ValidationException.
inline constexpr std::string_view kSerializationPrefix = "SERIALIZATION:";

// ErrorFromStatus, plus kSerializationPrefix.
ApiError ToApiError(const Status& s);

// A response body already written as JSON text (a JSON object), by the
// hot operations that write items straight to text (item::AppendItemJson).
struct JsonText {
  std::string text;
};

// What an operation answers: a JSON body (a tree, or text already written),
// or an error (any ApiError, or a Status mapped by ErrorFromStatus).
class Reply {
 public:
  Reply(Json body) : body_(std::move(body)) {}           // NOLINT(google-explicit-constructor)
  Reply(JsonText text) : text_(std::move(text.text)), is_text_(true) {}  // NOLINT(google-explicit-constructor)
  Reply(ApiError error) : error_(std::move(error)) {}    // NOLINT(google-explicit-constructor)
  Reply(const Status& s) : error_(ToApiError(s)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return !error_.has_value(); }
  const ApiError& error() const { return *error_; }
  // The body as JSON text: the written text, or the tree dumped as the API
  // always dumped it (invalid UTF-8 replaced). REQUIRES: ok().
  std::string Text() const;
  // Text(), moving the written text out. REQUIRES: ok().
  std::string TakeText();
  // For ET_ASSIGN_OR_RETURN-style use: the status() of a Result converts.
 private:
  Json body_;
  std::string text_;
  bool is_text_ = false;
  std::optional<ApiError> error_;
};

// "1 validation error detected: Value null at 'tableName' failed to satisfy
// constraint: Member must not be null".
Status MissingParameter(std::string_view name);

// A member of the request object, or nullptr when absent or JSON null.
const Json* Member(const Json& request, std::string_view name);

// Typed readers. Absent -> nullopt (or the error for Required*). Present with
// the wrong JSON type -> SerializationException-style kInvalidArgument.
Result<std::optional<std::string>> OptString(const Json& request, std::string_view name);
Result<std::string> RequiredString(const Json& request, std::string_view name);
Result<std::optional<bool>> OptBool(const Json& request, std::string_view name);
Result<std::optional<int64_t>> OptInt(const Json& request, std::string_view name);

// TableName: present, 3-255 characters of [a-zA-Z0-9_.-].
Result<std::string> TableName(const Json& request, std::string_view member = "TableName");

// A map of attribute values (Item, Key, ExclusiveStartKey): an object of
// name -> {"S": ...}; errors name the attribute.
Result<item::Map> AttributeMap(const Json& value, std::string_view member);

// ExpressionAttributeNames / ExpressionAttributeValues of a request (or of
// one transaction element) as an expression context.
Result<expr::ExpressionContext> Context(const Json& request);

// One of the allowed strings, or the default when absent. Otherwise
// ValidationException "1 validation error detected: Value 'X' at
// '<member>' failed to satisfy constraint: Member must satisfy enum value
// set: [A, B]".
Result<std::string> Enum(const Json& request, std::string_view name,
                         std::initializer_list<std::string_view> allowed,
                         std::string_view default_value);

// "Can not use both expression and non-expression parameters in the same
// request: Non-expression parameters: {X} Expression parameters: {Y}" when
// both `legacy` and `modern` members are present.
Status CheckNotBoth(const Json& request, std::string_view legacy, std::string_view modern);

// The JSON of a key schema as DynamoDB describes it.
Json KeySchemaJson(const item::KeySchema& schema);
Json AttributeDefinitionsJson(const item::KeySchema& schema);

}  // namespace edgetable::api::internal
