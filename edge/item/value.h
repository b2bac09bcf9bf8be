#pragma once
// edge/item: DynamoDB's item model.
//
// Value is one attribute value of DynamoDB's ten types (S, N, B, BOOL, NULL,
// M, L, SS, NS, BS); Item is a map of attribute names to values. Numbers are
// exact decimals (edge/item/number.h), never doubles. Maps are ordered by
// name so that every encoding of an item is deterministic (digests, sync).
// Sets keep their elements in a canonical order (sorted by DynamoDB's order:
// bytes for SS/BS, numerically for NS) so that equal sets compare equal.
//
// Validation of DynamoDB's rules (non-empty sets without duplicates, key
// attributes, sizes, nesting depth) lives in edge/item/validate.h; a Value
// may be built that breaks them, and validation says what is wrong.
// Threads: plain values; safe to share read-only between threads.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "edge/item/number.h"

namespace edgetable::item {

class Value;
using Map = std::map<std::string, Value, std::less<>>;
using List = std::vector<Value>;
using Item = Map;

enum class Type : uint8_t { kS, kN, kB, kBool, kNull, kM, kL, kSS, kNS, kBS };

// "S", "N", "B", "BOOL", "NULL", "M", "L", "SS", "NS", "BS".
std::string_view TypeName(Type t);

class Value {
 public:
  Value() : type_(Type::kNull), v_(std::monostate{}) {}

  static Value S(std::string s) { return Value(Type::kS, std::move(s)); }
  static Value N(Number n) { return Value(Type::kN, std::move(n)); }
  static Value B(std::string bytes) { return Value(Type::kB, std::move(bytes)); }
  static Value Bool(bool b) { return Value(Type::kBool, b); }
  static Value Null() { return Value(); }
  static Value M(Map m) { return Value(Type::kM, std::move(m)); }
  static Value L(List l) { return Value(Type::kL, std::move(l)); }
  // Sets: elements are sorted into canonical order; duplicates are kept so
  // that validation can report them (ValidateValue rejects them).
  static Value SS(std::vector<std::string> v);
  static Value NS(std::vector<Number> v);
  static Value BS(std::vector<std::string> v);

  Type type() const { return type_; }
  bool is(Type t) const { return type_ == t; }
  bool is_set() const { return type_ == Type::kSS || type_ == Type::kNS || type_ == Type::kBS; }

  // REQUIRES: the matching type. S and B share storage (bytes).
  const std::string& s() const { return std::get<std::string>(v_); }   // S or B
  const Number& n() const { return std::get<Number>(v_); }             // N
  bool boolean() const { return std::get<bool>(v_); }                  // BOOL
  const Map& m() const { return std::get<Map>(v_); }                   // M
  Map& m() { return std::get<Map>(v_); }
  const List& l() const { return std::get<List>(v_); }                 // L
  List& l() { return std::get<List>(v_); }
  const std::vector<std::string>& strings() const {                    // SS or BS
    return std::get<std::vector<std::string>>(v_);
  }
  const std::vector<Number>& numbers() const { return std::get<std::vector<Number>>(v_); }  // NS

  // DynamoDB equality: same type and same value (numbers numerically, sets as sets).
  bool operator==(const Value& o) const;
  bool operator!=(const Value& o) const { return !(*this == o); }

 private:
  using Storage = std::variant<std::monostate, std::string, Number, bool, Map, List,
                               std::vector<std::string>, std::vector<Number>>;
  template <typename T>
  Value(Type t, T&& v) : type_(t), v_(std::forward<T>(v)) {}

  Type type_;
  Storage v_;
};

// Compares two values of the same scalar key type (S, N or B) in DynamoDB's
// order: S and B by unsigned bytes, N numerically. Returns <0, 0, >0.
// REQUIRES: a.type() == b.type() and the type is S, N or B.
int CompareScalar(const Value& a, const Value& b);

}  // namespace edgetable::item
