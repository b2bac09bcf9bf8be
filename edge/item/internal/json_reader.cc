#include "edge/item/internal/json_reader.h"

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "edge/base/limits.h"
#include "edge/item/base64.h"
#include "edge/item/internal/utf8.h"
#include "edge/item/number.h"

namespace edgetable::item::internal {
namespace {

using nlohmann::json;

// Deeper documents go to the library, whose parser is not recursive.
constexpr int kDepthMax = 64;

class Reader {
 public:
  explicit Reader(std::string_view text, std::string_view take_member = {}, std::optional<Item>* taken = nullptr)
      : p_(reinterpret_cast<const unsigned char*>(text.data())),
        end_(p_ + text.size()),
        take_member_(take_member),
        taken_(taken) {}

  bool Document(json* out) {
    SkipSpace();
    if (!Value(out, 0)) return false;
    SkipSpace();
    return p_ == end_;
  }

 private:
  void SkipSpace() {
    while (p_ < end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size()) return false;
    for (size_t i = 0; i < word.size(); ++i) {
      if (p_[i] != static_cast<unsigned char>(word[i])) return false;
    }
    p_ += word.size();
    return true;
  }

  bool Value(json* out, int depth) {
    if (p_ == end_) return false;
    switch (*p_) {
      case '{': return Object(out, depth + 1);
      case '[': return Array(out, depth + 1);
      case '"': {
        std::string s;
        if (!String(&s)) return false;
        *out = std::move(s);
        return true;
      }
      case 't':
        if (!Literal("true")) return false;
        *out = true;
        return true;
      case 'f':
        if (!Literal("false")) return false;
        *out = false;
        return true;
      case 'n':
        if (!Literal("null")) return false;
        *out = nullptr;
        return true;
      default:
        return Integer(out);
    }
  }

  // The elements of an object or array up to `close`, each read by
  // `element`, separated by commas; just after the opening bracket and the
  // space after it.
  template <typename Fn>
  bool Elements(unsigned char close, Fn element) {
    if (p_ < end_ && *p_ == close) {
      ++p_;
      return true;
    }
    for (;;) {
      if (!element()) return false;
      SkipSpace();
      if (p_ == end_) return false;
      if (*p_ == close) {
        ++p_;
        return true;
      }
      if (*p_ != ',') return false;
      ++p_;
      SkipSpace();
    }
  }

  bool Object(json* out, int depth) {
    if (depth > kDepthMax) return false;
    ++p_;  // '{'
    *out = json::object();
    auto& members = out->get_ref<json::object_t&>();
    SkipSpace();
    return Elements('}', [&] {
      if (p_ == end_ || *p_ != '"') return false;
      std::string key;
      if (!String(&key)) return false;
      SkipSpace();
      if (p_ == end_ || *p_ != ':') return false;
      ++p_;
      SkipSpace();
      json child;
      if (depth == 1 && taken_ != nullptr && key == take_member_ && p_ < end_ && *p_ == '{') {
        // The item itself, without a tree (a repeated member fails below).
        Item item;
        if (!Attributes(&item, 1)) return false;
        taken_->emplace(std::move(item));
        child = json::object();
      } else if (!Value(&child, depth)) {
        return false;
      }
      // A repeated key: the library's rule (the last wins) applies there.
      return members.emplace(std::move(key), std::move(child)).second;
    });
  }

  bool Array(json* out, int depth) {
    if (depth > kDepthMax) return false;
    ++p_;  // '['
    *out = json::array();
    auto& elements = out->get_ref<json::array_t&>();
    SkipSpace();
    return Elements(']', [&] {
      json child;
      if (!Value(&child, depth)) return false;
      elements.push_back(std::move(child));
      return true;
    });
  }

  static int Hex(unsigned char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  }

  // Four hex digits after "\u"; -1 if not.
  int32_t Hex4() {
    if (end_ - p_ < 4) return -1;
    int32_t v = 0;
    for (int i = 0; i < 4; ++i) {
      const int h = Hex(p_[i]);
      if (h < 0) return -1;
      v = v * 16 + h;
    }
    p_ += 4;
    return v;
  }

  static void PutUtf8(uint32_t cp, std::string* out) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    } else {
      out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    }
  }

  // At the opening quote. Plain runs are copied whole.
  bool String(std::string* out) {
    ++p_;  // '"'
    const unsigned char* run = p_;
    for (;;) {
      if (p_ == end_) return false;
      const unsigned char c = *p_;
      if (c == '"') {
        out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p_ - run));
        ++p_;
        return true;
      }
      if (c < 0x20) return false;  // the library refuses raw control characters
      if (c >= 0x80) {
        const size_t len = Utf8Length(p_, static_cast<size_t>(end_ - p_));
        if (len == 0) return false;
        p_ += len;
        continue;
      }
      if (c != '\\') {
        ++p_;
        continue;
      }
      out->append(reinterpret_cast<const char*>(run), static_cast<size_t>(p_ - run));
      ++p_;
      if (p_ == end_) return false;
      const unsigned char e = *p_++;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
          int32_t cp = Hex4();
          if (cp < 0) return false;
          if (cp >= 0xDC00 && cp <= 0xDFFF) return false;  // a lone low surrogate
          if (cp >= 0xD800 && cp <= 0xDBFF) {               // needs its low half
            if (end_ - p_ < 2 || p_[0] != '\\' || p_[1] != 'u') return false;
            p_ += 2;
            const int32_t low = Hex4();
            if (low < 0xDC00 || low > 0xDFFF) return false;
            cp = 0x10000 + ((cp - 0xD800) << 10) + (low - 0xDC00);
          }
          PutUtf8(static_cast<uint32_t>(cp), out);
          break;
        }
        default:
          return false;
      }
      run = p_;
    }
  }

  // Integers only, as the library types them: negative ones int64_t,
  // others uint64_t. Fractions, exponents and overflow go to the library
  // (its double conversion is what they need).
  bool Integer(json* out) {
    const bool negative = *p_ == '-';
    if (negative) ++p_;
    if (p_ == end_ || *p_ < '0' || *p_ > '9') return false;
    if (*p_ == '0' && p_ + 1 < end_ && p_[1] >= '0' && p_[1] <= '9') return false;  // leading zero
    uint64_t v = 0;
    while (p_ < end_ && *p_ >= '0' && *p_ <= '9') {
      const uint64_t d = *p_ - '0';
      if (v > (UINT64_MAX - d) / 10) return false;
      v = v * 10 + d;
      ++p_;
    }
    if (p_ < end_ && (*p_ == '.' || *p_ == 'e' || *p_ == 'E')) return false;
    if (negative) {
      if (v > static_cast<uint64_t>(INT64_MAX) + 1) return false;
      *out = static_cast<int64_t>(0 - v);
    } else {
      *out = v;
    }
    return true;
  }

  // --- Attribute values straight from text: item::ItemFromJson's success
  // path (json.cc FromJson), giving up wherever FromJson would fail. ---

  bool Expect(unsigned char c) {
    SkipSpace();
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    SkipSpace();
    return true;
  }

  bool StringValue(std::string* out) { return p_ < end_ && *p_ == '"' && String(out); }

  bool NumberValue(Number* out) {
    std::string text;
    if (!StringValue(&text)) return false;
    Result<Number> n = Number::Parse(text);
    if (!n.ok()) return false;
    *out = std::move(n).value();
    return true;
  }

  bool BytesValue(std::string* out) {
    std::string text;
    if (!StringValue(&text)) return false;
    Result<std::string> bytes = Base64Decode(text);
    if (!bytes.ok()) return false;
    *out = std::move(bytes).value();
    return true;
  }

  // A JSON array, each element read by `element`; at '['.
  template <typename Fn>
  bool ArrayOf(Fn element) {
    return Expect('[') && Elements(']', element);
  }

  // {"name": <attribute value>, ...} at `level` (ItemFromJson: 1); names unique.
  bool Attributes(Map* out, int level) {
    if (!Expect('{')) return false;
    return Elements('}', [&] {
      std::string name;
      if (!StringValue(&name)) return false;
      if (!Expect(':')) return false;
      item::Value v;
      if (!AttributeValue(&v, level)) return false;
      return out->emplace(std::move(name), std::move(v)).second;
    });
  }

  // {"<type>": <value>} with exactly one type key.
  bool AttributeValue(item::Value* out, int level) {
    if (level > limits::kNestingDepthMax) return false;
    if (!Expect('{')) return false;
    std::string type;
    if (!StringValue(&type) || !Expect(':')) return false;
    if (type == "S") {
      std::string s;
      if (!StringValue(&s)) return false;
      *out = item::Value::S(std::move(s));
    } else if (type == "N") {
      Number n;
      if (!NumberValue(&n)) return false;
      *out = item::Value::N(std::move(n));
    } else if (type == "B") {
      std::string bytes;
      if (!BytesValue(&bytes)) return false;
      *out = item::Value::B(std::move(bytes));
    } else if (type == "BOOL") {
      if (p_ < end_ && *p_ == 't' && Literal("true")) {
        *out = item::Value::Bool(true);
      } else if (p_ < end_ && *p_ == 'f' && Literal("false")) {
        *out = item::Value::Bool(false);
      } else {
        return false;
      }
    } else if (type == "NULL") {
      if (!(p_ < end_ && *p_ == 't' && Literal("true"))) return false;
      *out = item::Value::Null();
    } else if (type == "M") {
      Map m;
      if (!Attributes(&m, level + 1)) return false;
      *out = item::Value::M(std::move(m));
    } else if (type == "L") {
      List l;
      if (!ArrayOf([&] {
            item::Value v;
            if (!AttributeValue(&v, level + 1)) return false;
            l.push_back(std::move(v));
            return true;
          })) {
        return false;
      }
      *out = item::Value::L(std::move(l));
    } else if (type == "SS" || type == "BS") {
      const bool bytes = type == "BS";
      std::vector<std::string> elements;
      if (!ArrayOf([&] {
            std::string e;
            if (!(bytes ? BytesValue(&e) : StringValue(&e))) return false;
            elements.push_back(std::move(e));
            return true;
          })) {
        return false;
      }
      *out = bytes ? item::Value::BS(std::move(elements)) : item::Value::SS(std::move(elements));
    } else if (type == "NS") {
      std::vector<Number> elements;
      if (!ArrayOf([&] {
            Number n;
            if (!NumberValue(&n)) return false;
            elements.push_back(std::move(n));
            return true;
          })) {
        return false;
      }
      *out = item::Value::NS(std::move(elements));
    } else {
      return false;
    }
    SkipSpace();
    if (p_ == end_ || *p_ != '}') return false;  // exactly one type key
    ++p_;
    return true;
  }

  const unsigned char* p_;
  const unsigned char* end_;
  std::string_view take_member_;
  std::optional<Item>* taken_;
};

}  // namespace

bool FastParseJson(std::string_view text, nlohmann::json* out) { return Reader(text).Document(out); }

bool FastParseJsonTakingItem(std::string_view text, std::string_view member, nlohmann::json* out,
                             std::optional<Item>* taken) {
  taken->reset();
  return Reader(text, member, taken).Document(out);
}

}  // namespace edgetable::item::internal
