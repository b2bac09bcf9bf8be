// Applying an UpdateExpression to an item.
//
// DynamoDB semantics: every operand reads the item as it was before the
// update (so `SET a = b, b = a` swaps), and list indexes name positions in
// the original lists. Hence all values are computed first; then the actions
// that write are applied in ascending path order (so that SETs past the end
// of a list append in index order) and REMOVEs in descending path order (so
// that removing one list element does not shift the next one to remove).

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "edge/expr/expr.h"
#include "edge/expr/internal/messages.h"

namespace edgetable::expr {
namespace {

using item::Type;
using item::Value;

Status MissingAttribute() {
  return Status::InvalidArgument(std::string(internal::kMissingAttribute));
}
Status IncorrectType() {
  return Status::InvalidArgument(std::string(internal::kIncorrectDataType));
}
Status InvalidPath() {
  return Status::InvalidArgument(std::string(internal::kInvalidPathForUpdate));
}

// Writes the value of `o`, read from `item`, to *out. (An out-parameter
// rather than Result<Value>: GCC 12 reports a false maybe-uninitialized
// warning when a Value is moved out of a Result.)
Status EvaluateOperand(const Operand& o, const item::Item& item, Value* out) {
  switch (o.kind) {
    case Operand::Kind::kValue:
      *out = o.value;
      return Status::Ok();
    case Operand::Kind::kPath: {
      const Value* v = ResolvePath(item, o.path);
      if (v == nullptr) return MissingAttribute();
      *out = *v;
      return Status::Ok();
    }
    case Operand::Kind::kIfNotExists: {
      const Value* v = ResolvePath(item, o.path);
      if (v == nullptr) return EvaluateOperand(o.args[0], item, out);
      *out = *v;
      return Status::Ok();
    }
    case Operand::Kind::kListAppend: {
      Value a;
      Value b;
      ET_RETURN_IF_ERROR(EvaluateOperand(o.args[0], item, &a));
      ET_RETURN_IF_ERROR(EvaluateOperand(o.args[1], item, &b));
      if (!a.is(Type::kL) || !b.is(Type::kL)) return IncorrectType();
      item::List joined = std::move(a.l());
      for (Value& v : b.l()) joined.push_back(std::move(v));
      *out = Value::L(std::move(joined));
      return Status::Ok();
    }
    case Operand::Kind::kPlus:
    case Operand::Kind::kMinus: {
      Value a;
      Value b;
      ET_RETURN_IF_ERROR(EvaluateOperand(o.args[0], item, &a));
      ET_RETURN_IF_ERROR(EvaluateOperand(o.args[1], item, &b));
      if (!a.is(Type::kN) || !b.is(Type::kN)) return IncorrectType();
      Result<item::Number> r = o.kind == Operand::Kind::kPlus ? a.n().Add(b.n()) : a.n().Sub(b.n());
      if (!r.ok()) return r.status();
      *out = Value::N(std::move(r).value());
      return Status::Ok();
    }
    case Operand::Kind::kSize:
      break;
  }
  // size() in SET is rejected by the parser; a hand-built one is a bug.
  return Status::Internal("size() is not an update operand");
}

// Where a path's last element lives in the (mutable) item: its container and
// the value there now, if any.
struct Slot {
  item::Map* map = nullptr;    // container when the last element is a name
  item::List* list = nullptr;  // container when the last element is an index
  const PathElement* last = nullptr;
  Value* existing = nullptr;
};

Result<Slot> Locate(item::Item& root, const Path& path) {
  Slot slot;
  slot.map = &root;
  const size_t n = path.elements.size();
  for (size_t i = 0; i < n; ++i) {
    const PathElement& e = path.elements[i];
    Value* here = nullptr;
    if (slot.map != nullptr) {
      auto it = slot.map->find(e.name);
      if (it != slot.map->end()) here = &it->second;
    } else if (e.index < slot.list->size()) {
      here = &(*slot.list)[e.index];
    }
    if (i + 1 == n) {
      slot.last = &e;
      slot.existing = here;
      return slot;
    }
    const PathElement& next = path.elements[i + 1];
    if (here == nullptr) return InvalidPath();
    if (!next.is_index && here->is(Type::kM)) {
      slot.map = &here->m();
      slot.list = nullptr;
    } else if (next.is_index && here->is(Type::kL)) {
      slot.list = &here->l();
      slot.map = nullptr;
    } else {
      return InvalidPath();
    }
  }
  return InvalidPath();  // an empty path; the parser never makes one
}

void Put(const Slot& slot, Value v) {
  if (slot.existing != nullptr) {
    *slot.existing = std::move(v);
  } else if (slot.map != nullptr) {
    slot.map->insert_or_assign(slot.last->name, std::move(v));
  } else {
    slot.list->push_back(std::move(v));  // past the end of a list: append
  }
}

void Erase(const Slot& slot) {
  if (slot.existing == nullptr) return;
  if (slot.map != nullptr) {
    slot.map->erase(slot.last->name);
  } else {
    slot.list->erase(slot.list->begin() + slot.last->index);
  }
}

bool NumberIn(const std::vector<item::Number>& v, const item::Number& x) {
  return std::any_of(v.begin(), v.end(), [&](const item::Number& e) { return e == x; });
}
bool StringIn(const std::vector<std::string>& v, const std::string& x) {
  return std::find(v.begin(), v.end(), x) != v.end();
}

// a ∪ b (add) or a \ b (!add); nullopt when a \ b is empty.
std::optional<Value> SetOp(const Value& a, const Value& b, bool add) {
  if (a.is(Type::kNS)) {
    std::vector<item::Number> out;
    for (const item::Number& x : a.numbers()) {
      if (add || !NumberIn(b.numbers(), x)) out.push_back(x);
    }
    if (add) {
      for (const item::Number& x : b.numbers()) {
        if (!NumberIn(out, x)) out.push_back(x);
      }
    }
    if (out.empty()) return std::nullopt;
    return Value::NS(std::move(out));
  }
  std::vector<std::string> out;
  for (const std::string& x : a.strings()) {
    if (add || !StringIn(b.strings(), x)) out.push_back(x);
  }
  if (add) {
    for (const std::string& x : b.strings()) {
      if (!StringIn(out, x)) out.push_back(x);
    }
  }
  if (out.empty()) return std::nullopt;
  return a.is(Type::kSS) ? Value::SS(std::move(out)) : Value::BS(std::move(out));
}

// Orders paths element by element: names by bytes, indexes numerically, a
// name before an index (such pairs never meet: the parser rejects them).
bool PathLess(const Path& a, const Path& b) {
  const size_t n = std::min(a.elements.size(), b.elements.size());
  for (size_t i = 0; i < n; ++i) {
    const PathElement& x = a.elements[i];
    const PathElement& y = b.elements[i];
    if (x.is_index != y.is_index) return !x.is_index;
    if (x.is_index) {
      if (x.index != y.index) return x.index < y.index;
    } else if (x.name != y.name) {
      return x.name < y.name;
    }
  }
  return a.elements.size() < b.elements.size();
}

struct Step {
  const UpdateAction* action;
  Value value;  // SET: the new value; ADD/DELETE: the operand
};

}  // namespace

Result<item::Item> ApplyUpdate(const UpdateExpression& update, const item::Item& item) {
  std::vector<Step> writes;
  std::vector<const UpdateAction*> removes;
  for (const UpdateAction& a : update.actions) {
    if (a.kind == UpdateAction::Kind::kRemove) {
      removes.push_back(&a);
      continue;
    }
    Step step{&a, Value()};
    ET_RETURN_IF_ERROR(EvaluateOperand(a.value, item, &step.value));
    writes.push_back(std::move(step));
  }
  std::stable_sort(writes.begin(), writes.end(), [](const Step& x, const Step& y) {
    return PathLess(x.action->path, y.action->path);
  });
  std::stable_sort(
      removes.begin(), removes.end(),
      [](const UpdateAction* x, const UpdateAction* y) { return PathLess(y->path, x->path); });

  item::Item out = item;
  for (Step& step : writes) {
    ET_ASSIGN_OR_RETURN(Slot slot, Locate(out, step.action->path));
    const Value* cur = slot.existing;
    switch (step.action->kind) {
      case UpdateAction::Kind::kSet:
        Put(slot, std::move(step.value));
        break;
      case UpdateAction::Kind::kAdd: {
        if (cur == nullptr) {
          Put(slot, std::move(step.value));
        } else if (cur->is(Type::kN) && step.value.is(Type::kN)) {
          Result<item::Number> sum = cur->n().Add(step.value.n());
          if (!sum.ok()) return sum.status();
          Put(slot, Value::N(std::move(sum).value()));
        } else if (cur->is_set() && cur->type() == step.value.type()) {
          std::optional<Value> all = SetOp(*cur, step.value, /*add=*/true);
          if (all.has_value()) {
            Put(slot, std::move(*all));
          } else {
            Erase(slot);  // only when both sets were empty (an invalid item)
          }
        } else {
          return IncorrectType();
        }
        break;
      }
      case UpdateAction::Kind::kDelete: {
        if (cur == nullptr) break;
        if (!cur->is_set() || cur->type() != step.value.type()) return IncorrectType();
        std::optional<Value> rest = SetOp(*cur, step.value, /*add=*/false);
        if (rest.has_value()) {
          Put(slot, std::move(*rest));
        } else {
          Erase(slot);
        }
        break;
      }
      case UpdateAction::Kind::kRemove:
        break;
    }
  }
  for (const UpdateAction* a : removes) {
    ET_ASSIGN_OR_RETURN(Slot slot, Locate(out, a->path));
    Erase(slot);
  }
  return out;
}

}  // namespace edgetable::expr
