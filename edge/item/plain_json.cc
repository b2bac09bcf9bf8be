// Plain JSON -> Value through nlohmann's SAX interface, so that a number is
// seen as its source text (number_float gets the raw token, and integers too
// large for 64 bits arrive there too) rather than as a double.

#include <exception>
#include <utility>
#include <vector>

#include "edge/base/limits.h"
#include "edge/item/json.h"

namespace edgetable::item {
namespace {

using nlohmann::json;

// Containers may nest one level deeper than an item's attributes may: the
// root object stands for the item itself.
constexpr size_t kPlainDepthMax = static_cast<size_t>(limits::kNestingDepthMax) + 1;

class PlainBuilder {
 public:
  // --- nlohmann SAX interface ---------------------------------------------
  bool null() { return Add(Value::Null()); }
  bool boolean(bool b) { return Add(Value::Bool(b)); }
  bool number_integer(json::number_integer_t v) { return Add(Value::N(Number::FromInt(v))); }
  bool number_unsigned(json::number_unsigned_t v) { return Add(Value::N(Number::FromUint(v))); }
  bool number_float(json::number_float_t /*unused*/, const json::string_t& text) {
    auto n = Number::Parse(text);
    if (!n.ok()) return Fail(n.status().message() + " (at " + Path() + ")");
    return Add(Value::N(std::move(n).value()));
  }
  bool string(json::string_t& s) { return Add(Value::S(std::move(s))); }
  bool binary(json::binary_t& /*unused*/) { return Fail("binary values are not JSON"); }
  bool start_object(std::size_t /*unused*/) { return Push(Frame{true, {}, {}, {}}); }
  bool key(json::string_t& k) {
    Frame& f = frames_.back();
    if (f.map.count(k) != 0) return Fail("duplicate key \"" + k + "\" (at " + Path() + ")");
    f.key = std::move(k);
    return true;
  }
  bool end_object() { return Pop(); }
  bool start_array(std::size_t /*unused*/) { return Push(Frame{false, {}, {}, {}}); }
  bool end_array() { return Pop(); }
  bool parse_error(std::size_t position, const std::string& /*last_token*/,
                   const nlohmann::detail::exception& ex) {
    if (error_.ok()) {
      // nlohmann counts bytes read, so the offending byte is one before.
      const std::size_t offset = position > 0 ? position - 1 : 0;
      error_ = Status::InvalidArgument("Invalid JSON at byte " + std::to_string(offset) + ": " +
                                       ex.what());
    }
    return false;
  }
  // -------------------------------------------------------------------------

  const Status& error() const { return error_; }
  bool has_result() const { return has_result_; }
  Value& result() { return result_; }

 private:
  struct Frame {
    bool is_map;
    Map map;
    List list;
    std::string key;  // of the member being read, when is_map
  };

  bool Fail(std::string message) {
    if (error_.ok()) error_ = Status::InvalidArgument(std::move(message));
    return false;
  }

  // "$.a.b[2]" for the value being read.
  std::string Path() const {
    std::string p = "$";
    for (const Frame& f : frames_) {
      if (f.is_map) {
        p += "." + f.key;
      } else {
        p += "[" + std::to_string(f.list.size()) + "]";
      }
    }
    return p;
  }

  bool Add(Value v) {
    if (frames_.empty()) {
      result_ = std::move(v);
      has_result_ = true;
      return true;
    }
    Frame& f = frames_.back();
    if (f.is_map) {
      f.map.emplace(std::move(f.key), std::move(v));
      f.key.clear();
    } else {
      f.list.push_back(std::move(v));
    }
    return true;
  }

  bool Push(Frame f) {
    if (frames_.size() >= kPlainDepthMax) {
      return Fail("JSON nesting deeper than " + std::to_string(kPlainDepthMax) + " levels (at " +
                  Path() + ")");
    }
    frames_.push_back(std::move(f));
    return true;
  }

  bool Pop() {
    Frame f = std::move(frames_.back());
    frames_.pop_back();
    return Add(f.is_map ? Value::M(std::move(f.map)) : Value::L(std::move(f.list)));
  }

  std::vector<Frame> frames_;
  Value result_;
  bool has_result_ = false;
  Status error_;  // OK until the first error
};

}  // namespace

// GCC 12 at -O2 reports a false "may be used uninitialized" inside
// std::variant's move constructor when the built Value is moved into the
// Result (GCC bug 105562 family); the moved-from Value is fully constructed.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
Result<Value> ValueFromPlainJson(std::string_view text) {
  PlainBuilder builder;
  bool ok = false;
  try {
    ok = json::sax_parse(text.begin(), text.end(), &builder, json::input_format_t::json,
                         /*strict=*/true, /*ignore_comments=*/false);
  } catch (const std::exception& e) {
    return Status::InvalidArgument(std::string("Invalid JSON: ") + e.what());
  }
  if (!builder.error().ok()) return builder.error();
  if (!ok || !builder.has_result()) return Status::InvalidArgument("Invalid JSON");
  return Result<Value>(std::move(builder.result()));
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

}  // namespace edgetable::item
