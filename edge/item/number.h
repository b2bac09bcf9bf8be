#pragma once
// Number: DynamoDB's N, an exact decimal of up to 38 significant digits with
// magnitude from 1E-130 to below 1E+126 (or zero). Never a double.
//
// Stored normalised: sign, significant digits without leading or trailing
// zeros, and a decimal exponent, so "1.50" == "1.5", "-0" == "0" and
// "1E2" == "100" compare and encode identically.
//
// Exponent convention (scientific): value = d1.d2d3...dn * 10^exponent, where
// d1..dn are digits() and d1 != 0. So "1.5" is digits "15", exponent 0; "150"
// is digits "15", exponent 2; "0.015" is digits "15", exponent -2. The valid
// range is exactly limits::kNumberExponentMin <= exponent <=
// limits::kNumberExponentMax (-130..125), i.e. magnitude in [1E-130, 1E+126).
// Zero has empty digits, exponent 0 and is never negative.
//
// Text: ToString() is plain notation without exponent for every value, as
// DynamoDB returns numbers ("1E2" -> "100", "1.50" -> "1.5", "1E-3" ->
// "0.001", "1E+125" -> "1" followed by 125 zeros). At most 1 + 2 + 130 + 38
// characters.
//
// Errors use DynamoDB's ValidationException wording, followed by the value:
//   "The parameter cannot be converted to a numeric value: <text>"
//   "Attempting to store more than 38 significant digits in a Number: <text>"
//   "Number overflow. Attempting to store a number with magnitude larger than
//    supported range: <text>"
//   "Number underflow. Attempting to store a number with magnitude smaller
//    than supported range: <text>"
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
  static Number FromUint(uint64_t v);

  // Builds a number from its normalised parts (see the convention above).
  // Returns kInvalidArgument if digits are not ASCII digits, start or end with
  // '0', are more than 38, if a zero is negative or has a non-zero exponent,
  // or if the exponent is out of range.
  static Result<Number> FromParts(bool negative, std::string digits, int32_t exponent);

  // The canonical text DynamoDB returns for this number.
  std::string ToString() const;
  // Appends ToString()'s text to *out, without a temporary string.
  void AppendTo(std::string* out) const;

  bool is_zero() const { return digits_.empty(); }
  bool negative() const { return negative_; }
  // Significant digits ("15" for 1.5), empty for zero.
  const std::string& digits() const { return digits_; }
  // Value = d1.d2...dn * 10^exponent (see the convention above); 0 for zero.
  int32_t exponent() const { return exponent_; }

  // Exact sum/difference. kInvalidArgument if the result needs more than 38
  // significant digits or leaves the range (DynamoDB's messages above; the
  // value named is the exact result that could not be stored).
  Result<Number> Add(const Number& o) const;
  Result<Number> Sub(const Number& o) const;

  // <0, 0, >0 numerically.
  int Compare(const Number& o) const;
  bool operator==(const Number& o) const { return Compare(o) == 0; }
  bool operator<(const Number& o) const { return Compare(o) < 0; }

  // If the value is an integer that fits, sets *out and returns true.
  bool ToInt64(int64_t* out) const;

  // -x (zero stays zero).
  Number Negated() const;

 private:
  bool negative_ = false;
  std::string digits_;   // no leading/trailing zeros; empty means zero
  int32_t exponent_ = 0;
};

}  // namespace edgetable::item
