// DynamoDB JSON text written straight from values (json.h): the response
// path. Matches nlohmann's dump(-1, ' ', false, replace) of ValueToJson /
// ItemToJson byte for byte (json_test.cc checks it over random items), so
// switching a response from the tree to the writer changes no byte.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "edge/item/base64.h"
#include "edge/item/internal/utf8.h"
#include "edge/item/json.h"

namespace edgetable::item {
namespace {

// What a byte asks of the string writer: 0 copy as is, 'u' escape as
// \u00xx, '8' part of a multi-byte character (checked), else the letter
// that follows '\' in its short escape.
constexpr std::array<char, 256> MakeClasses() {
  std::array<char, 256> t{};
  for (int c = 0; c < 0x20; ++c) t[c] = 'u';
  t['"'] = '"';
  t['\\'] = '\\';
  t['\b'] = 'b';
  t['\f'] = 'f';
  t['\n'] = 'n';
  t['\r'] = 'r';
  t['\t'] = 't';
  for (int c = 0x80; c < 0x100; ++c) t[c] = '8';
  return t;
}
constexpr std::array<char, 256> kClass = MakeClasses();

void AppendKey(std::string_view name, std::string* out) {
  AppendJsonString(name, out);
  out->push_back(':');
}

// Appends each element of `elements` with `each`, separated by commas.
template <typename Container, typename Fn>
void AppendJoined(const Container& elements, std::string* out, Fn each) {
  bool first = true;
  for (const auto& e : elements) {
    if (!first) out->push_back(',');
    first = false;
    each(e);
  }
}

// {"name":<value>,...} for an item or an M value.
void AppendMembers(const Map& members, std::string* out);

}  // namespace

void AppendJsonString(std::string_view s, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  const size_t at = out->size();
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  out->push_back('"');
  size_t run = 0;  // start of the bytes not yet copied
  size_t i = 0;
  while (i < n) {
    const char e = kClass[p[i]];
    if (e == 0) {
      ++i;
      continue;
    }
    if (e == '8') {
      const size_t len = internal::Utf8Length(p + i, n - i);
      if (len == 0) {
        // Invalid UTF-8 is rare (requests are UTF-8-checked when parsed):
        // let the library replace it exactly as the tree path did.
        out->resize(at);
        out->append(nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
      }
      i += len;
      continue;
    }
    out->append(s, run, i - run);
    out->push_back('\\');
    if (e == 'u') {
      const char u[5] = {'u', '0', '0', kHex[p[i] >> 4], kHex[p[i] & 15]};
      out->append(u, 5);
    } else {
      out->push_back(e);
    }
    run = ++i;
  }
  out->append(s, run, n - run);
  out->push_back('"');
}

void AppendValueJson(const Value& v, std::string* out) {
  switch (v.type()) {
    case Type::kS:
      out->append("{\"S\":");
      AppendJsonString(v.s(), out);
      break;
    case Type::kN:
      out->append("{\"N\":\"");
      v.n().AppendTo(out);  // digits, '-' and '.': nothing to escape
      out->push_back('"');
      break;
    case Type::kB:
      out->append("{\"B\":\"");
      Base64EncodeTo(v.s(), out);
      out->push_back('"');
      break;
    case Type::kBool:
      out->append(v.boolean() ? "{\"BOOL\":true" : "{\"BOOL\":false");
      break;
    case Type::kNull:
      out->append("{\"NULL\":true");
      break;
    case Type::kM: {
      out->append("{\"M\":");
      AppendMembers(v.m(), out);
      break;
    }
    case Type::kL: {
      out->append("{\"L\":[");
      AppendJoined(v.l(), out, [&](const Value& child) { AppendValueJson(child, out); });
      out->push_back(']');
      break;
    }
    case Type::kSS:
    case Type::kBS: {
      out->append(v.is(Type::kSS) ? "{\"SS\":[" : "{\"BS\":[");
      AppendJoined(v.strings(), out, [&](const std::string& s) {
        if (v.is(Type::kSS)) {
          AppendJsonString(s, out);
        } else {
          out->push_back('"');
          Base64EncodeTo(s, out);
          out->push_back('"');
        }
      });
      out->push_back(']');
      break;
    }
    case Type::kNS: {
      out->append("{\"NS\":[");
      AppendJoined(v.numbers(), out, [&](const Number& n) {
        out->push_back('"');
        n.AppendTo(out);
        out->push_back('"');
      });
      out->push_back(']');
      break;
    }
  }
  out->push_back('}');
}

void AppendItemJson(const Item& item, std::string* out) { AppendMembers(item, out); }

namespace {

void AppendMembers(const Map& members, std::string* out) {
  out->push_back('{');
  AppendJoined(members, out, [&](const auto& member) {
    AppendKey(member.first, out);
    AppendValueJson(member.second, out);
  });
  out->push_back('}');
}

}  // namespace

}  // namespace edgetable::item
