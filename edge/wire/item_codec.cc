#include "edge/wire/item_codec.h"

#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

#include "edge/base/limits.h"
#include "schemas/item_generated.h"

namespace edgetable::wire {
namespace {

namespace fb = edgetable::wire::fb;
using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;
using item::Type;
using item::Value;

// Verifier bounds, set explicitly rather than trusting library defaults.
// Depth: the Item table is depth 1, a top-level attribute's Value depth 3 and
// each M/L level adds an Attribute and a Value (or one Value), so a value at
// nesting level k is at most depth 2k + 1 and its Number 2k + 2.
constexpr uint32_t kVerifyDepthMax = 2 * limits::kNestingDepthMax + 4;
// Tables: every table of a valid item accounts for at least 2/3 of a byte of
// DynamoDB item size (a 1-byte name and a zero N make 2 bytes and 3 tables),
// so a valid item has fewer than 1.5 * kItemBytesMax of them.
constexpr uint32_t kVerifyTablesMax = static_cast<uint32_t>(4 * limits::kItemBytesMax);
// Scalars read from the buffer are at most 4 bytes wide; buffers whose start
// is not aligned to this are copied first.
constexpr uintptr_t kBufferAlign = 8;

Offset<fb::Number> EncodeNumber(FlatBufferBuilder& b, const item::Number& n) {
  auto digits = b.CreateString(n.digits());
  fb::NumberBuilder nb(b);
  nb.add_negative(n.negative());
  nb.add_digits(digits);
  nb.add_exponent(n.exponent());
  return nb.Finish();
}

Offset<flatbuffers::Vector<uint8_t>> EncodeBytes(FlatBufferBuilder& b, const std::string& s) {
  return b.CreateVector(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}

Offset<fb::Value> EncodeValue(FlatBufferBuilder& b, const Value& v);

Offset<flatbuffers::Vector<Offset<fb::Attribute>>> EncodeAttributes(FlatBufferBuilder& b,
                                                                    const item::Map& m) {
  std::vector<Offset<fb::Attribute>> attrs;
  attrs.reserve(m.size());
  for (const auto& [name, value] : m) {  // std::map order: unsigned bytes
    auto name_off = b.CreateString(name);
    auto value_off = EncodeValue(b, value);
    attrs.push_back(fb::CreateAttribute(b, name_off, value_off));
  }
  return b.CreateVector(attrs);
}

Offset<fb::Value> EncodeValue(FlatBufferBuilder& b, const Value& v) {
  // Children first: FlatBuffers builds bottom-up, no table may be open while
  // another is built.
  Offset<flatbuffers::String> s;
  Offset<flatbuffers::Vector<uint8_t>> bytes;
  Offset<fb::Number> n;
  Offset<flatbuffers::Vector<Offset<fb::Attribute>>> m;
  Offset<flatbuffers::Vector<Offset<fb::Value>>> l;
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> ss;
  Offset<flatbuffers::Vector<Offset<fb::Number>>> ns;
  Offset<flatbuffers::Vector<Offset<fb::Bytes>>> bs;
  fb::ValueType type = fb::ValueType::Null;
  switch (v.type()) {
    case Type::kS:
      type = fb::ValueType::S;
      s = b.CreateString(v.s());
      break;
    case Type::kN:
      type = fb::ValueType::N;
      n = EncodeNumber(b, v.n());
      break;
    case Type::kB:
      type = fb::ValueType::B;
      bytes = EncodeBytes(b, v.s());
      break;
    case Type::kBool:
      type = fb::ValueType::Bool;
      break;
    case Type::kNull:
      type = fb::ValueType::Null;
      break;
    case Type::kM:
      type = fb::ValueType::M;
      m = EncodeAttributes(b, v.m());
      break;
    case Type::kL: {
      type = fb::ValueType::L;
      std::vector<Offset<fb::Value>> elements;
      elements.reserve(v.l().size());
      for (const Value& e : v.l()) elements.push_back(EncodeValue(b, e));
      l = b.CreateVector(elements);
      break;
    }
    case Type::kSS: {
      type = fb::ValueType::SS;
      std::vector<Offset<flatbuffers::String>> elements;
      elements.reserve(v.strings().size());
      for (const std::string& e : v.strings()) elements.push_back(b.CreateString(e));
      ss = b.CreateVector(elements);
      break;
    }
    case Type::kNS: {
      type = fb::ValueType::NS;
      std::vector<Offset<fb::Number>> elements;
      elements.reserve(v.numbers().size());
      for (const item::Number& e : v.numbers()) elements.push_back(EncodeNumber(b, e));
      ns = b.CreateVector(elements);
      break;
    }
    case Type::kBS: {
      type = fb::ValueType::BS;
      std::vector<Offset<fb::Bytes>> elements;
      elements.reserve(v.strings().size());
      for (const std::string& e : v.strings()) {
        auto data = EncodeBytes(b, e);
        elements.push_back(fb::CreateBytes(b, data));
      }
      bs = b.CreateVector(elements);
      break;
    }
  }
  fb::ValueBuilder vb(b);
  vb.add_type(type);
  if (v.is(Type::kBool)) vb.add_boolean(v.boolean());
  if (!s.IsNull()) vb.add_s(s);
  if (!bytes.IsNull()) vb.add_b(bytes);
  if (!n.IsNull()) vb.add_n(n);
  if (!m.IsNull()) vb.add_m(m);
  if (!l.IsNull()) vb.add_l(l);
  if (!ss.IsNull()) vb.add_ss(ss);
  if (!ns.IsNull()) vb.add_ns(ns);
  if (!bs.IsNull()) vb.add_bs(bs);
  return vb.Finish();
}

// --- decoding (the buffer has passed the Verifier) ---------------------------

Status Corrupt(const std::string& what) { return Status::Corruption("item buffer: " + what); }

int CompareBytes(const flatbuffers::String* a, const flatbuffers::String* b) {
  const size_t n = std::min(a->size(), b->size());
  const int c = n == 0 ? 0 : std::memcmp(a->data(), b->data(), n);
  if (c != 0) return c;
  if (a->size() == b->size()) return 0;
  return a->size() < b->size() ? -1 : 1;
}

Result<item::Number> DecodeNumber(const fb::Number* n) {
  if (n == nullptr || n->digits() == nullptr) return Corrupt("number without digits");
  auto number = item::Number::FromParts(n->negative(), n->digits()->str(), n->exponent());
  if (!number.ok()) return Corrupt(number.status().message());
  return number;
}

Result<Value> DecodeValue(const fb::Value* v, int level);

Result<item::Map> DecodeAttributes(const flatbuffers::Vector<Offset<fb::Attribute>>* attrs,
                                   int level) {
  item::Map out;
  const fb::Attribute* prev = nullptr;
  for (const fb::Attribute* a : *attrs) {
    // name and value are (required) and checked by the Verifier.
    if (prev != nullptr && CompareBytes(prev->name(), a->name()) >= 0) {
      return Corrupt("attribute names not strictly sorted at \"" + a->name()->str() + "\"");
    }
    prev = a;
    auto value = DecodeValue(a->value(), level);
    if (!value.ok()) return value.status();
    out.emplace_hint(out.end(), a->name()->str(), std::move(value).value());
  }
  return out;
}

Result<Value> DecodeValue(const fb::Value* v, int level) {
  if (level > limits::kNestingDepthMax) return Corrupt("nesting deeper than the limit");
  switch (v->type()) {
    case fb::ValueType::S:
      if (v->s() == nullptr) return Corrupt("S without its string");
      return Value::S(v->s()->str());
    case fb::ValueType::N: {
      ET_ASSIGN_OR_RETURN(item::Number n, DecodeNumber(v->n()));
      return Value::N(std::move(n));
    }
    case fb::ValueType::B:
      if (v->b() == nullptr) return Corrupt("B without its bytes");
      return Value::B(std::string(reinterpret_cast<const char*>(v->b()->data()), v->b()->size()));
    case fb::ValueType::Bool:
      return Value::Bool(v->boolean());
    case fb::ValueType::Null:
      return Value::Null();
    case fb::ValueType::M: {
      if (v->m() == nullptr) return Corrupt("M without its attributes");
      ET_ASSIGN_OR_RETURN(item::Map m, DecodeAttributes(v->m(), level + 1));
      return Value::M(std::move(m));
    }
    case fb::ValueType::L: {
      if (v->l() == nullptr) return Corrupt("L without its elements");
      item::List l;
      l.reserve(v->l()->size());
      for (const fb::Value* e : *v->l()) {
        ET_ASSIGN_OR_RETURN(Value ev, DecodeValue(e, level + 1));
        l.push_back(std::move(ev));
      }
      return Value::L(std::move(l));
    }
    case fb::ValueType::SS:
    case fb::ValueType::BS: {
      const bool is_ss = v->type() == fb::ValueType::SS;
      std::vector<std::string> elements;
      if (is_ss) {
        if (v->ss() == nullptr) return Corrupt("SS without its elements");
        elements.reserve(v->ss()->size());
        for (const flatbuffers::String* e : *v->ss()) elements.push_back(e->str());
      } else {
        if (v->bs() == nullptr) return Corrupt("BS without its elements");
        elements.reserve(v->bs()->size());
        for (const fb::Bytes* e : *v->bs()) {
          if (e->data() == nullptr) return Corrupt("BS element without its bytes");
          elements.emplace_back(reinterpret_cast<const char*>(e->data()->data()), e->data()->size());
        }
      }
      for (size_t i = 1; i < elements.size(); ++i) {
        if (elements[i] < elements[i - 1]) return Corrupt("set elements not sorted");
      }
      return is_ss ? Value::SS(std::move(elements)) : Value::BS(std::move(elements));
    }
    case fb::ValueType::NS: {
      if (v->ns() == nullptr) return Corrupt("NS without its elements");
      std::vector<item::Number> elements;
      elements.reserve(v->ns()->size());
      for (const fb::Number* e : *v->ns()) {
        ET_ASSIGN_OR_RETURN(item::Number n, DecodeNumber(e));
        if (!elements.empty() && n < elements.back()) return Corrupt("NS elements not sorted");
        elements.push_back(std::move(n));
      }
      return Value::NS(std::move(elements));
    }
  }
  return Corrupt("unknown value type tag " + std::to_string(static_cast<int>(v->type())));
}

}  // namespace

std::string EncodeItem(const item::Item& item) {
  FlatBufferBuilder b(1024);
  b.ForceDefaults(false);
  auto attrs = EncodeAttributes(b, item);
  auto root = fb::CreateItem(b, attrs);
  fb::FinishItemBuffer(b, root);
  return std::string(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
}

Result<item::Item> DecodeItem(std::string_view bytes) {
  if (bytes.size() >= FLATBUFFERS_MAX_BUFFER_SIZE) return Corrupt("larger than a FlatBuffer can be");
  // FlatBuffers reads scalars in place; give it an aligned copy when the
  // caller's bytes (e.g. a SQLite blob) do not start aligned.
  const auto* data = reinterpret_cast<const uint8_t*>(bytes.data());
  std::unique_ptr<uint64_t[]> aligned;
  if (reinterpret_cast<uintptr_t>(data) % kBufferAlign != 0) {
    aligned = std::make_unique<uint64_t[]>(bytes.size() / sizeof(uint64_t) + 1);
    std::memcpy(aligned.get(), bytes.data(), bytes.size());
    data = reinterpret_cast<const uint8_t*>(aligned.get());
  }
  flatbuffers::Verifier::Options opts;
  opts.max_depth = kVerifyDepthMax;
  opts.max_tables = kVerifyTablesMax;
  opts.check_alignment = true;
  opts.check_nested_flatbuffers = true;
  flatbuffers::Verifier verifier(data, bytes.size(), opts);
  if (!fb::VerifyItemBuffer(verifier)) return Corrupt("fails FlatBuffers verification");
  const fb::Item* root = fb::GetItem(data);
  if (root->attributes() == nullptr) return Corrupt("item without attributes");
  return DecodeAttributes(root->attributes(), 1);
}

}  // namespace edgetable::wire
