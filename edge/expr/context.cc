#include "edge/expr/context.h"

#include <string>

namespace edgetable::expr {
namespace {

std::string JoinKeys(const std::vector<std::string>& keys) {
  std::string out = "{";
  for (size_t i = 0; i < keys.size(); ++i) {
    if (i > 0) out += ", ";
    out += keys[i];
  }
  out += "}";
  return out;
}

}  // namespace

std::string_view ExprKindName(ExprKind kind) {
  switch (kind) {
    case ExprKind::kCondition:
      return "ConditionExpression";
    case ExprKind::kFilter:
      return "FilterExpression";
    case ExprKind::kKeyCondition:
      return "KeyConditionExpression";
    case ExprKind::kProjection:
      return "ProjectionExpression";
    case ExprKind::kUpdate:
      return "UpdateExpression";
  }
  return "Expression";
}

namespace {

// '#' or ':' followed by one or more of [A-Za-z0-9_], as the lexer reads them.
bool IsPlaceholder(std::string_view key, char mark) {
  if (key.size() < 2 || key[0] != mark) return false;
  for (char c : key.substr(1)) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

}  // namespace

Result<ExpressionContext> ExpressionContext::Create(const NameMap* names, const ValueMap* values,
                                                    bool any_expression) {
  if (names != nullptr && names->empty()) {
    return Status::InvalidArgument("ExpressionAttributeNames must not be empty");
  }
  if (values != nullptr && values->empty()) {
    return Status::InvalidArgument("ExpressionAttributeValues must not be empty");
  }
  if (!any_expression && names != nullptr) {
    return Status::InvalidArgument(
        "ExpressionAttributeNames can only be specified when using expressions");
  }
  if (!any_expression && values != nullptr) {
    return Status::InvalidArgument(
        "ExpressionAttributeValues can only be specified when using expressions");
  }
  if (names != nullptr) {
    for (const auto& [key, name] : *names) {
      if (!IsPlaceholder(key, '#')) {
        return Status::InvalidArgument(
            "ExpressionAttributeNames contains invalid key: Syntax error; key: \"" + key + "\"");
      }
      if (name.empty()) {
        return Status::InvalidArgument(
            "ExpressionAttributeNames contains invalid value: Empty attribute name for key " + key);
      }
    }
  }
  if (values != nullptr) {
    for (const auto& [key, value] : *values) {
      if (!IsPlaceholder(key, ':')) {
        return Status::InvalidArgument(
            "ExpressionAttributeValues contains invalid key: Syntax error; key: \"" + key + "\"");
      }
    }
  }
  return ExpressionContext(names != nullptr ? *names : NameMap{},
                           values != nullptr ? *values : ValueMap{});
}

Result<std::string> ExpressionContext::ResolveName(std::string_view placeholder) {
  auto it = names_.find(placeholder);
  if (it == names_.end()) {
    return Status::InvalidArgument(
        "An expression attribute name used in the document path is not defined; attribute name: " +
        std::string(placeholder));
  }
  used_names_.insert(it->first);
  return it->second;
}

Result<const item::Value*> ExpressionContext::ResolveValue(std::string_view placeholder) {
  auto it = values_.find(placeholder);
  if (it == values_.end()) {
    return Status::InvalidArgument(
        "An expression attribute value used in expression is not defined; attribute value: " +
        std::string(placeholder));
  }
  used_values_.insert(it->first);
  return &it->second;
}

Status ExpressionContext::CheckAllUsed() const {
  std::vector<std::string> unused;
  for (const auto& [key, name] : names_) {
    if (!used_names_.contains(key)) unused.push_back(key);
  }
  if (!unused.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeNames unused in expressions: keys: " +
        JoinKeys(unused));
  }
  for (const auto& [key, value] : values_) {
    if (!used_values_.contains(key)) unused.push_back(key);
  }
  if (!unused.empty()) {
    return Status::InvalidArgument(
        "Value provided in ExpressionAttributeValues unused in expressions: keys: " +
        JoinKeys(unused));
  }
  return Status::Ok();
}

}  // namespace edgetable::expr
