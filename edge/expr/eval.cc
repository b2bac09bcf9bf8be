// Evaluation of conditions, projections and sort key conditions.
// DynamoDB's rule throughout: a condition over values of the wrong type, or
// over absent attributes, is false rather than an error.

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "edge/expr/expr.h"
#include "edge/expr/internal/eval_util.h"
#include "edge/expr/internal/parse_util.h"

namespace edgetable::expr {

using item::Type;
using item::Value;

const Value* ResolvePath(const item::Item& item, const Path& path) {
  if (path.elements.empty() || path.elements[0].is_index) return nullptr;
  auto it = item.find(path.elements[0].name);
  if (it == item.end()) return nullptr;
  const Value* v = &it->second;
  for (size_t i = 1; i < path.elements.size(); ++i) {
    const PathElement& e = path.elements[i];
    if (e.is_index) {
      if (!v->is(Type::kL) || e.index >= v->l().size()) return nullptr;
      v = &v->l()[e.index];
    } else {
      if (!v->is(Type::kM)) return nullptr;
      auto m = v->m().find(e.name);
      if (m == v->m().end()) return nullptr;
      v = &m->second;
    }
  }
  return v;
}

namespace internal {

size_t Utf16Length(std::string_view s) {
  size_t n = 0;
  for (char c : s) {
    const auto b = static_cast<unsigned char>(c);
    if ((b & 0xC0) != 0x80) ++n;  // each code point starts one unit...
    if (b >= 0xF0) ++n;           // ...and those past U+FFFF need a surrogate pair
  }
  return n;
}

std::optional<int64_t> SizeOf(const Value& v) {
  switch (v.type()) {
    case Type::kS:
      return static_cast<int64_t>(Utf16Length(v.s()));
    case Type::kB:
      return static_cast<int64_t>(v.s().size());
    case Type::kSS:
    case Type::kBS:
      return static_cast<int64_t>(v.strings().size());
    case Type::kNS:
      return static_cast<int64_t>(v.numbers().size());
    case Type::kL:
      return static_cast<int64_t>(v.l().size());
    case Type::kM:
      return static_cast<int64_t>(v.m().size());
    default:
      return std::nullopt;
  }
}

}  // namespace internal

namespace {

// An operand's value: a pointer into the item or the constant, or an owned
// value computed by size().
class Resolved {
 public:
  const Value* get() const { return ptr_ ? ptr_ : (owned_ ? &*owned_ : nullptr); }
  void Point(const Value* v) { ptr_ = v; }
  void Own(Value v) { owned_ = std::move(v); }

 private:
  const Value* ptr_ = nullptr;
  std::optional<Value> owned_;
};

Resolved ResolveOperand(const Operand& o, const item::Item& item) {
  Resolved r;
  switch (o.kind) {
    case Operand::Kind::kPath:
      r.Point(ResolvePath(item, o.path));
      break;
    case Operand::Kind::kValue:
      r.Point(&o.value);
      break;
    case Operand::Kind::kSize: {
      const Value* v = o.args.empty() ? ResolvePath(item, o.path) : &o.args[0].value;
      if (v == nullptr) break;
      std::optional<int64_t> size = internal::SizeOf(*v);
      if (size.has_value()) r.Own(Value::N(item::Number::FromInt(*size)));
      break;
    }
    default:
      // Update-only operands never reach a condition (the parser rejects them).
      break;
  }
  return r;
}

bool IsOrdered(const Value& v) { return v.is(Type::kS) || v.is(Type::kN) || v.is(Type::kB); }

bool Compare(CompareOp op, const Value* a, const Value* b) {
  if (op == CompareOp::kNe) return a == nullptr || b == nullptr || *a != *b;
  if (a == nullptr || b == nullptr) return false;
  if (op == CompareOp::kEq) return *a == *b;
  if (a->type() != b->type() || !IsOrdered(*a)) return false;
  const int c = item::CompareScalar(*a, *b);
  switch (op) {
    case CompareOp::kLt:
      return c < 0;
    case CompareOp::kLe:
      return c <= 0;
    case CompareOp::kGt:
      return c > 0;
    case CompareOp::kGe:
      return c >= 0;
    default:
      return false;
  }
}

bool Contains(const Value& container, const Value& x) {
  switch (container.type()) {
    case Type::kS:
      return x.is(Type::kS) && container.s().find(x.s()) != std::string::npos;
    case Type::kB:
      return x.is(Type::kB) && container.s().find(x.s()) != std::string::npos;
    case Type::kSS:
    case Type::kBS: {
      const Type element = container.is(Type::kSS) ? Type::kS : Type::kB;
      if (!x.is(element)) return false;
      const auto& v = container.strings();
      return std::find(v.begin(), v.end(), x.s()) != v.end();
    }
    case Type::kNS: {
      if (!x.is(Type::kN)) return false;
      for (const item::Number& n : container.numbers()) {
        if (n == x.n()) return true;
      }
      return false;
    }
    case Type::kL:
      return std::any_of(container.l().begin(), container.l().end(),
                         [&](const Value& e) { return e == x; });
    default:
      return false;
  }
}

bool BeginsWith(const Value& v, const Value& prefix) {
  if (v.type() != prefix.type() || !(v.is(Type::kS) || v.is(Type::kB))) return false;
  return v.s().compare(0, prefix.s().size(), prefix.s()) == 0 && v.s().size() >= prefix.s().size();
}

}  // namespace

bool EvaluateCondition(const Condition& cond, const item::Item& item) {
  switch (cond.kind) {
    case Condition::Kind::kAnd:
      return EvaluateCondition(cond.children[0], item) && EvaluateCondition(cond.children[1], item);
    case Condition::Kind::kOr:
      return EvaluateCondition(cond.children[0], item) || EvaluateCondition(cond.children[1], item);
    case Condition::Kind::kNot:
      return !EvaluateCondition(cond.children[0], item);
    case Condition::Kind::kAttributeExists:
      return ResolvePath(item, cond.operands[0].path) != nullptr;
    case Condition::Kind::kAttributeNotExists:
      return ResolvePath(item, cond.operands[0].path) == nullptr;
    default:
      break;
  }
  Resolved first = ResolveOperand(cond.operands[0], item);
  const Value* a = first.get();
  switch (cond.kind) {
    case Condition::Kind::kCompare: {
      Resolved second = ResolveOperand(cond.operands[1], item);
      return Compare(cond.op, a, second.get());
    }
    case Condition::Kind::kBetween: {
      Resolved low = ResolveOperand(cond.operands[1], item);
      Resolved high = ResolveOperand(cond.operands[2], item);
      const Value* lo = low.get();
      const Value* hi = high.get();
      if (a == nullptr || lo == nullptr || hi == nullptr) return false;
      if (!IsOrdered(*a) || a->type() != lo->type() || a->type() != hi->type()) return false;
      return item::CompareScalar(*lo, *a) <= 0 && item::CompareScalar(*a, *hi) <= 0;
    }
    case Condition::Kind::kIn: {
      if (a == nullptr) return false;
      for (size_t i = 1; i < cond.operands.size(); ++i) {
        Resolved r = ResolveOperand(cond.operands[i], item);
        if (r.get() != nullptr && *r.get() == *a) return true;
      }
      return false;
    }
    case Condition::Kind::kAttributeType: {
      Resolved type = ResolveOperand(cond.operands[1], item);
      if (a == nullptr || type.get() == nullptr || !type.get()->is(Type::kS)) return false;
      std::optional<Type> t = internal::ParseTypeName(type.get()->s());
      return t.has_value() && a->type() == *t;
    }
    case Condition::Kind::kBeginsWith: {
      Resolved prefix = ResolveOperand(cond.operands[1], item);
      return a != nullptr && prefix.get() != nullptr && BeginsWith(*a, *prefix.get());
    }
    case Condition::Kind::kContains: {
      Resolved x = ResolveOperand(cond.operands[1], item);
      return a != nullptr && x.get() != nullptr && Contains(*a, *x.get());
    }
    default:
      return false;
  }
}

bool SortKeyMatches(const SortCondition& cond, const Value& v) {
  if (cond.op == SortCondition::Op::kBeginsWith) return BeginsWith(v, cond.value1);
  if (v.type() != cond.value1.type() || !IsOrdered(v)) return false;
  const int c = item::CompareScalar(v, cond.value1);
  switch (cond.op) {
    case SortCondition::Op::kEq:
      return c == 0;
    case SortCondition::Op::kLt:
      return c < 0;
    case SortCondition::Op::kLe:
      return c <= 0;
    case SortCondition::Op::kGt:
      return c > 0;
    case SortCondition::Op::kGe:
      return c >= 0;
    case SortCondition::Op::kBetween:
      return c >= 0 && v.type() == cond.value2.type() && item::CompareScalar(v, cond.value2) <= 0;
    case SortCondition::Op::kBeginsWith:
      break;
  }
  return false;
}

// --- Projection --------------------------------------------------------------
namespace {

// The selected parts of a value: either all of it, or some map keys, or some
// list elements (never both: the parser rejects conflicting paths).
struct Selection {
  bool all = false;
  std::map<std::string, Selection, std::less<>> keys;
  std::map<uint32_t, Selection> indexes;
};

std::optional<Value> Select(const Value& v, const Selection& sel) {
  if (sel.all) return v;
  if (!sel.keys.empty()) {
    if (!v.is(Type::kM)) return std::nullopt;
    item::Map out;
    for (const auto& [name, child] : sel.keys) {
      auto it = v.m().find(name);
      if (it == v.m().end()) continue;
      std::optional<Value> picked = Select(it->second, child);
      if (picked.has_value()) out.emplace(name, std::move(*picked));
    }
    if (out.empty()) return std::nullopt;
    return Value::M(std::move(out));
  }
  if (!v.is(Type::kL)) return std::nullopt;
  item::List out;
  for (const auto& [index, child] : sel.indexes) {
    if (index >= v.l().size()) continue;
    std::optional<Value> picked = Select(v.l()[index], child);
    if (picked.has_value()) out.push_back(std::move(*picked));
  }
  if (out.empty()) return std::nullopt;
  return Value::L(std::move(out));
}

}  // namespace

item::Item Project(const Projection& projection, const item::Item& item) {
  Selection root;
  for (const Path& path : projection.paths) {
    Selection* s = &root;
    for (const PathElement& e : path.elements) {
      s = e.is_index ? &s->indexes[e.index] : &s->keys[e.name];
    }
    s->all = true;
  }
  item::Item out;
  for (const auto& [name, sel] : root.keys) {
    auto it = item.find(name);
    if (it == item.end()) continue;
    std::optional<Value> picked = Select(it->second, sel);
    if (picked.has_value()) out.emplace(name, std::move(*picked));
  }
  return out;
}

}  // namespace edgetable::expr
