#include "edge/api/internal/params.h"

#include <cctype>

#include "edge/base/limits.h"
#include "edge/item/validate.h"

namespace edgetable::api::internal {
namespace {

// DynamoDB names members lowerCamelCase in validation messages.
std::string MemberPath(std::string_view name) {
  std::string s(name);
  if (!s.empty()) s[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[0])));
  return s;
}

Status WrongType(std::string_view name, std::string_view want) {
  return Status::InvalidArgument(std::string(kSerializationPrefix) + "Unexpected value type for '" + std::string(name) +
                                 "': expected " + std::string(want));
}

}  // namespace

ApiError ToApiError(const Status& s) {
  if (s.code() == Status::Code::kInvalidArgument &&
      s.message().compare(0, kSerializationPrefix.size(), kSerializationPrefix) == 0) {
    return MakeError(error_type::kSerialization, s.message().substr(kSerializationPrefix.size()));
  }
  return ErrorFromStatus(s);
}

std::string Reply::Text() const {
  if (is_text_) return text_;
  return body_.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string Reply::TakeText() {
  if (is_text_) return std::move(text_);
  return Text();
}

Status MissingParameter(std::string_view name) {
  return Status::InvalidArgument("1 validation error detected: Value null at '" + MemberPath(name) +
                                 "' failed to satisfy constraint: Member must not be null");
}

const Json* Member(const Json& request, std::string_view name) {
  if (!request.is_object()) return nullptr;
  auto it = request.find(name);
  if (it == request.end() || it->is_null()) return nullptr;
  return &*it;
}

Result<std::optional<std::string>> OptString(const Json& request, std::string_view name) {
  const Json* m = Member(request, name);
  if (m == nullptr) return std::optional<std::string>();
  if (!m->is_string()) return WrongType(name, "a string");
  return std::optional<std::string>(m->get<std::string>());
}

Result<std::string> RequiredString(const Json& request, std::string_view name) {
  ET_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(request, name));
  if (!s) return MissingParameter(name);
  return *s;
}

Result<std::optional<bool>> OptBool(const Json& request, std::string_view name) {
  const Json* m = Member(request, name);
  if (m == nullptr) return std::optional<bool>();
  if (!m->is_boolean()) return WrongType(name, "a boolean");
  return std::optional<bool>(m->get<bool>());
}

Result<std::optional<int64_t>> OptInt(const Json& request, std::string_view name) {
  const Json* m = Member(request, name);
  if (m == nullptr) return std::optional<int64_t>();
  if (!m->is_number_integer()) return WrongType(name, "an integer");
  return std::optional<int64_t>(m->get<int64_t>());
}

Result<std::string> TableName(const Json& request, std::string_view member) {
  ET_ASSIGN_OR_RETURN(std::string name, RequiredString(request, member));
  std::string path = MemberPath(member);
  if (static_cast<int64_t>(name.size()) < limits::kTableNameBytesMin) {
    return Status::InvalidArgument("1 validation error detected: Value '" + name + "' at '" + path +
                                   "' failed to satisfy constraint: Member must have length "
                                   "greater than or equal to 3");
  }
  if (static_cast<int64_t>(name.size()) > limits::kTableNameBytesMax) {
    return Status::InvalidArgument("1 validation error detected: Value '" + name + "' at '" + path +
                                   "' failed to satisfy constraint: Member must have length "
                                   "less than or equal to 255");
  }
  for (char c : name) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) {
      return Status::InvalidArgument(
          "1 validation error detected: Value '" + name + "' at '" + path +
          "' failed to satisfy constraint: Member must satisfy regular expression pattern: "
          "[a-zA-Z0-9_.-]+");
    }
  }
  return name;
}

Result<item::Map> AttributeMap(const Json& value, std::string_view member) {
  if (!value.is_object()) return WrongType(member, "a map of attribute values");
  Result<item::Item> m = item::ItemFromJson(value);
  if (!m.ok()) return m.status();
  return std::move(m).value();
}

Result<expr::ExpressionContext> Context(const Json& request) {
  expr::NameMap names;
  expr::ValueMap values;
  if (const Json* n = Member(request, "ExpressionAttributeNames")) {
    if (!n->is_object()) return WrongType("ExpressionAttributeNames", "a map of strings");
    if (n->empty()) {
      return Status::InvalidArgument("ExpressionAttributeNames must not be empty");
    }
    for (auto it = n->begin(); it != n->end(); ++it) {
      if (!it.value().is_string()) return WrongType("ExpressionAttributeNames", "a map of strings");
      names.emplace(it.key(), it.value().get<std::string>());
    }
  }
  if (const Json* v = Member(request, "ExpressionAttributeValues")) {
    if (!v->is_object()) return WrongType("ExpressionAttributeValues", "a map of attribute values");
    if (v->empty()) {
      return Status::InvalidArgument("ExpressionAttributeValues must not be empty");
    }
    for (auto it = v->begin(); it != v->end(); ++it) {
      Result<item::Value> value = item::ValueFromJson(it.value(), it.key());
      if (!value.ok()) {
        return Status::InvalidArgument("ExpressionAttributeValues contains invalid value: " +
                                       value.status().message() + " for key " + it.key());
      }
      if (Status valid = item::ValidateValue(*value, it.key()); !valid.ok()) {
        return Status::InvalidArgument("ExpressionAttributeValues contains invalid value: " +
                                       valid.message() + " for key " + it.key());
      }
      values.emplace(it.key(), std::move(value).value());
    }
  }
  return expr::ExpressionContext(std::move(names), std::move(values));
}

Result<std::string> Enum(const Json& request, std::string_view name,
                         std::initializer_list<std::string_view> allowed,
                         std::string_view default_value) {
  ET_ASSIGN_OR_RETURN(std::optional<std::string> s, OptString(request, name));
  if (!s) return std::string(default_value);
  for (std::string_view a : allowed) {
    if (*s == a) return *s;
  }
  std::string set;
  for (std::string_view a : allowed) {
    if (!set.empty()) set += ", ";
    set += a;
  }
  return Status::InvalidArgument("1 validation error detected: Value '" + *s + "' at '" +
                                 MemberPath(name) +
                                 "' failed to satisfy constraint: Member must satisfy enum value set: [" +
                                 set + "]");
}

Status CheckNotBoth(const Json& request, std::string_view legacy, std::string_view modern) {
  if (Member(request, legacy) != nullptr && Member(request, modern) != nullptr) {
    return Status::InvalidArgument(
        "Can not use both expression and non-expression parameters in the same request: "
        "Non-expression parameters: {" + std::string(legacy) + "} Expression parameters: {" +
        std::string(modern) + "}");
  }
  return Status::Ok();
}

Json KeySchemaJson(const item::KeySchema& schema) {
  Json ks = Json::array();
  ks.push_back({{"AttributeName", schema.partition.name}, {"KeyType", "HASH"}});
  if (schema.sort) ks.push_back({{"AttributeName", schema.sort->name}, {"KeyType", "RANGE"}});
  return ks;
}

Json AttributeDefinitionsJson(const item::KeySchema& schema) {
  Json defs = Json::array();
  defs.push_back({{"AttributeName", schema.partition.name},
                  {"AttributeType", std::string(item::TypeName(schema.partition.type))}});
  if (schema.sort) {
    defs.push_back({{"AttributeName", schema.sort->name},
                    {"AttributeType", std::string(item::TypeName(schema.sort->type))}});
  }
  return defs;
}

}  // namespace edgetable::api::internal
