#pragma once
// Number: DynamoDB's N, an exact decimal of up to 38 significant digits with
// magnitude from 1E-130 to below 1E+126 (or zero). Never a double.
//
// Stored normalised: sign, significant digits without leading or trailing
// zeros, and a decimal exponent, so "1.50" == "1.5", "-0" == "0" and
// "1E2" == "100" compare and encode identically.
// Threads: plain value.

#include <cstdint>
#include <string>
#include <string_view>

#include "edge/base/status.h"

namespace edgetable::item {

class Number {
 public:
  // Zero.
  Number() = default;

  // Parses DynamoDB's number syntax: optional sign, digits with an optional
  // fraction, optional exponent (e/E, optional sign, digits). Leading and
  // trailing zeros are not significant.
  // Returns kInvalidArgument naming the text when it is not a number, has
  // more than 38 significant digits, or its magnitude is out of range.
  static Result<Number> Parse(std::string_view text);
  static Number FromInt(int64_t v);

  // The canonical text DynamoDB returns for this number.
  std::string ToString() const;

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }
  // Significant digits ("15" for 1.5), empty for zero.
  const std::string& digits() const { return digits_; }
  // Value = 0.<digits> * 10^exponent... see number.cc for the exact convention.
  int32_t exponent() const { return exponent_; }

  // Exact sum/difference. kInvalidArgument if the result needs more than 38
  // significant digits or leaves the range (DynamoDB's messages).
  Result<Number> Add(const Number& o) const;
  Result<Number> Sub(const Number& o) const;

  // <0, 0, >0 numerically.
  int Compare(const Number& o) const;
  bool operator==(const Number& o) const { return Compare(o) == 0; }
  bool operator<(const Number& o) const { return Compare(o) < 0; }

  // If the value is an integer that fits, sets *out and returns true.
  bool ToInt64(int64_t* out) const;

 private:
  bool negative_ = false;
  std::string digits_;   // no leading/trailing zeros; empty means zero
  int32_t exponent_ = 0;
};

}  // namespace edgetable::item
