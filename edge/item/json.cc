#include "edge/item/json.h"

#include <exception>
#include <utility>

#include "edge/base/limits.h"
#include "edge/item/base64.h"
#include "edge/item/internal/json_reader.h"

namespace edgetable::item {
namespace {

using nlohmann::json;

std::string At(std::string_view path) { return " (attribute " + std::string(path) + ")"; }

Status Invalid(std::string message, std::string_view path) {
  return Status::InvalidArgument(std::move(message) + At(path));
}

Status WrongJsonType(std::string_view type_key, std::string_view expected, const json& got,
                     std::string_view path) {
  return Invalid("Invalid " + std::string(type_key) + " value: expected " + std::string(expected) +
                     ", got a JSON " + got.type_name(),
                 path);
}

Result<Number> NumberFromJson(const json& j, std::string_view type_key, std::string_view path) {
  if (!j.is_string()) return WrongJsonType(type_key, "a string holding a number", j, path);
  auto n = Number::Parse(j.get_ref<const std::string&>());
  if (!n.ok()) return Invalid(n.status().message(), path);
  return n;
}

Result<std::string> BytesFromJson(const json& j, std::string_view type_key,
                                  std::string_view path) {
  if (!j.is_string()) return WrongJsonType(type_key, "a base64 string", j, path);
  auto bytes = Base64Decode(j.get_ref<const std::string&>());
  if (!bytes.ok()) return Invalid(bytes.status().message(), path);
  return bytes;
}

Result<Value> FromJson(const json& j, std::string_view path, int level) {
  if (level > limits::kNestingDepthMax) {
    return Invalid(
        "Nesting Levels have exceeded supported limits: Attributes in the item have nested levels "
        "beyond supported limit",
        path);
  }
  if (!j.is_object()) {
    return Invalid(std::string("Supplied AttributeValue must be a JSON object with one datatype "
                               "key, got a JSON ") +
                       j.type_name(),
                   path);
  }
  if (j.empty()) {
    return Invalid(
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        path);
  }
  if (j.size() > 1) {
    return Invalid(
        "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the "
        "supported datatypes",
        path);
  }
  const auto it = j.begin();
  const std::string& key = it.key();
  const json& v = it.value();
  if (key == "S") {
    if (!v.is_string()) return WrongJsonType(key, "a string", v, path);
    return Value::S(v.get<std::string>());
  }
  if (key == "N") {
    ET_ASSIGN_OR_RETURN(Number n, NumberFromJson(v, key, path));
    return Value::N(std::move(n));
  }
  if (key == "B") {
    ET_ASSIGN_OR_RETURN(std::string bytes, BytesFromJson(v, key, path));
    return Value::B(std::move(bytes));
  }
  if (key == "BOOL") {
    if (!v.is_boolean()) return WrongJsonType(key, "true or false", v, path);
    return Value::Bool(v.get<bool>());
  }
  if (key == "NULL") {
    if (!v.is_boolean()) return WrongJsonType(key, "true", v, path);
    if (!v.get<bool>()) {
      return Invalid(
          "One or more parameter values were invalid: Null attribute value types must have the "
          "value of true",
          path);
    }
    return Value::Null();
  }
  if (key == "M") {
    if (!v.is_object()) return WrongJsonType(key, "an object", v, path);
    Map m;
    for (const auto& [name, child] : v.items()) {
      ET_ASSIGN_OR_RETURN(Value cv, FromJson(child, std::string(path) + "." + name, level + 1));
      m.emplace(name, std::move(cv));
    }
    return Value::M(std::move(m));
  }
  if (key == "L") {
    if (!v.is_array()) return WrongJsonType(key, "an array", v, path);
    List l;
    l.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      ET_ASSIGN_OR_RETURN(
          Value cv, FromJson(v[i], std::string(path) + "[" + std::to_string(i) + "]", level + 1));
      l.push_back(std::move(cv));
    }
    return Value::L(std::move(l));
  }
  if (key == "SS" || key == "BS") {
    if (!v.is_array()) return WrongJsonType(key, "an array of strings", v, path);
    std::vector<std::string> elements;
    elements.reserve(v.size());
    for (const json& e : v) {
      if (key == "SS") {
        if (!e.is_string()) return WrongJsonType(key, "an array of strings", e, path);
        elements.push_back(e.get<std::string>());
      } else {
        ET_ASSIGN_OR_RETURN(std::string bytes, BytesFromJson(e, key, path));
        elements.push_back(std::move(bytes));
      }
    }
    return key == "SS" ? Value::SS(std::move(elements)) : Value::BS(std::move(elements));
  }
  if (key == "NS") {
    if (!v.is_array()) return WrongJsonType(key, "an array of strings", v, path);
    std::vector<Number> elements;
    elements.reserve(v.size());
    for (const json& e : v) {
      ET_ASSIGN_OR_RETURN(Number n, NumberFromJson(e, key, path));
      elements.push_back(std::move(n));
    }
    return Value::NS(std::move(elements));
  }
  return Invalid("Supplied AttributeValue has an unknown datatype \"" + key +
                     "\", must contain exactly one of the supported datatypes",
                 path);
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text) {
  // The fast path takes what it knows; everything else, malformed text
  // included, is the library's (internal/json_reader.h).
  if (json fast; internal::FastParseJson(text, &fast)) return fast;
  try {
    return json::parse(text.begin(), text.end());
  } catch (const json::parse_error& e) {
    // e.byte counts the bytes read; the offending byte is the last of them.
    const std::size_t offset = e.byte > 0 ? e.byte - 1 : 0;
    return Status::InvalidArgument("Invalid JSON at byte " + std::to_string(offset) + ": " +
                                   e.what());
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("Invalid JSON: ") + e.what());
  }
}

Result<nlohmann::json> ParseJsonTakingItem(std::string_view text, std::string_view member,
                                           std::optional<Item>* taken) {
  if (json fast; internal::FastParseJsonTakingItem(text, member, &fast, taken)) return fast;
  taken->reset();
  return ParseJson(text);
}

Result<Value> ValueFromJson(const nlohmann::json& j, std::string_view path) {
  try {
    return FromJson(j, path, 1);
  } catch (const std::exception& e) {
    // The accessors above check types first; this is a guard, not a path.
    return Status::Internal(std::string("JSON access failed: ") + e.what());
  }
}

Result<Item> ItemFromJson(const nlohmann::json& j) {
  if (!j.is_object()) {
    return Status::InvalidArgument(std::string("An item must be a JSON object of attribute "
                                               "name to attribute value, got a JSON ") +
                                   j.type_name());
  }
  Item item;
  for (const auto& [name, v] : j.items()) {
    ET_ASSIGN_OR_RETURN(Value value, ValueFromJson(v, name));
    item.emplace(name, std::move(value));
  }
  return item;
}

nlohmann::json ValueToJson(const Value& v) {
  switch (v.type()) {
    case Type::kS:
      return json{{"S", v.s()}};
    case Type::kN:
      return json{{"N", v.n().ToString()}};
    case Type::kB:
      return json{{"B", Base64Encode(v.s())}};
    case Type::kBool:
      return json{{"BOOL", v.boolean()}};
    case Type::kNull:
      return json{{"NULL", true}};
    case Type::kM: {
      json m = json::object();
      for (const auto& [name, child] : v.m()) m[name] = ValueToJson(child);
      return json{{"M", std::move(m)}};
    }
    case Type::kL: {
      json l = json::array();
      for (const Value& child : v.l()) l.push_back(ValueToJson(child));
      return json{{"L", std::move(l)}};
    }
    case Type::kSS: {
      json a = json::array();
      for (const std::string& s : v.strings()) a.push_back(s);
      return json{{"SS", std::move(a)}};
    }
    case Type::kBS: {
      json a = json::array();
      for (const std::string& s : v.strings()) a.push_back(Base64Encode(s));
      return json{{"BS", std::move(a)}};
    }
    case Type::kNS: {
      json a = json::array();
      for (const Number& n : v.numbers()) a.push_back(n.ToString());
      return json{{"NS", std::move(a)}};
    }
  }
  return json::object();
}

nlohmann::json ItemToJson(const Item& item) {
  json out = json::object();
  for (const auto& [name, v] : item) out[name] = ValueToJson(v);
  return out;
}

}  // namespace edgetable::item
