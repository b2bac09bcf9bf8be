#include "edge/item/number.h"

#include <algorithm>
#include <cstddef>
#include <vector>

#include "edge/base/limits.h"

namespace edgetable::item {
namespace {

// Values named in messages are cut to this many bytes so that a huge bogus
// input cannot blow up an error message.
constexpr size_t kQuotedBytesMax = 128;

std::string Quoted(std::string_view text) {
  if (text.size() <= kQuotedBytesMax) return std::string(text);
  return std::string(text.substr(0, kQuotedBytesMax)) + "...";
}

Status NotANumber(std::string_view text) {
  return Status::InvalidArgument("The parameter cannot be converted to a numeric value: " +
                                 Quoted(text));
}
Status TooManyDigits(std::string_view text) {
  return Status::InvalidArgument(
      "Attempting to store more than 38 significant digits in a Number: " + Quoted(text));
}
Status Overflow(std::string_view text) {
  return Status::InvalidArgument(
      "Number overflow. Attempting to store a number with magnitude larger than supported "
      "range: " +
      Quoted(text));
}
Status Underflow(std::string_view text) {
  return Status::InvalidArgument(
      "Number underflow. Attempting to store a number with magnitude smaller than supported "
      "range: " +
      Quoted(text));
}

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// Exponents of absurd inputs ("1e99999999999") saturate here; any value this
// far out is out of range either way.
constexpr int64_t kExponentSaturation = int64_t{1} << 40;

// Checks digit count and range of a normalised (digits, exponent) pair.
// `shown` is the text named in an error.
Status CheckLimits(const std::string& digits, int64_t exponent, std::string_view shown) {
  if (digits.empty()) return Status::Ok();
  if (digits.size() > static_cast<size_t>(limits::kNumberDigitsMax)) return TooManyDigits(shown);
  if (exponent > limits::kNumberExponentMax) return Overflow(shown);
  if (exponent < limits::kNumberExponentMin) return Underflow(shown);
  return Status::Ok();
}

// Appends the plain-notation text of a normalised magnitude (no sign).
void AppendPlainMagnitude(const std::string& digits, int64_t exponent, std::string* out) {
  if (digits.empty()) {
    out->push_back('0');
    return;
  }
  const int64_t n = static_cast<int64_t>(digits.size());
  if (exponent >= n - 1) {
    out->append(digits);
    out->append(static_cast<size_t>(exponent - (n - 1)), '0');
  } else if (exponent < 0) {
    out->append("0.");
    out->append(static_cast<size_t>(-exponent - 1), '0');
    out->append(digits);
  } else {
    const size_t int_len = static_cast<size_t>(exponent + 1);
    out->append(digits, 0, int_len);
    out->push_back('.');
    out->append(digits, int_len);
  }
}

}  // namespace

Result<Number> Number::Parse(std::string_view text) {
  size_t i = 0;
  const size_t len = text.size();
  bool negative = false;
  if (i < len && (text[i] == '+' || text[i] == '-')) {
    negative = text[i] == '-';
    ++i;
  }
  std::string all;  // every mantissa digit, integer part then fraction
  int64_t frac_len = 0;
  bool seen_digit = false;
  while (i < len && IsDigit(text[i])) {
    all += text[i++];
    seen_digit = true;
  }
  if (i < len && text[i] == '.') {
    ++i;
    while (i < len && IsDigit(text[i])) {
      all += text[i++];
      ++frac_len;
      seen_digit = true;
    }
  }
  if (!seen_digit) return NotANumber(text);
  int64_t exp_value = 0;
  if (i < len && (text[i] == 'e' || text[i] == 'E')) {
    ++i;
    bool exp_negative = false;
    if (i < len && (text[i] == '+' || text[i] == '-')) {
      exp_negative = text[i] == '-';
      ++i;
    }
    if (i >= len || !IsDigit(text[i])) return NotANumber(text);
    while (i < len && IsDigit(text[i])) {
      if (exp_value < kExponentSaturation) exp_value = exp_value * 10 + (text[i] - '0');
      ++i;
    }
    if (exp_negative) exp_value = -exp_value;
  }
  if (i != len) return NotANumber(text);

  // `low` is the power of ten of the last digit of `all`.
  int64_t low = exp_value - frac_len;
  const size_t first = all.find_first_not_of('0');
  Number out;
  if (first == std::string::npos) return out;  // zero, whatever its sign or exponent
  const size_t last = all.find_last_not_of('0');
  low += static_cast<int64_t>(all.size() - 1 - last);
  std::string digits = all.substr(first, last - first + 1);
  const int64_t exponent = low + static_cast<int64_t>(digits.size()) - 1;
  ET_RETURN_IF_ERROR(CheckLimits(digits, exponent, text));
  out.negative_ = negative;
  out.digits_ = std::move(digits);
  out.exponent_ = static_cast<int32_t>(exponent);
  return out;
}

Number Number::FromUint(uint64_t v) {
  Number out;
  if (v == 0) return out;
  std::string s = std::to_string(v);
  const size_t last = s.find_last_not_of('0');
  out.exponent_ = static_cast<int32_t>(s.size() - 1);
  s.resize(last + 1);
  out.digits_ = std::move(s);
  return out;
}

Number Number::FromInt(int64_t v) {
  // Negate in unsigned arithmetic so that INT64_MIN works.
  const uint64_t magnitude =
      v < 0 ? uint64_t{0} - static_cast<uint64_t>(v) : static_cast<uint64_t>(v);
  Number out = FromUint(magnitude);
  out.negative_ = v < 0;
  return out;
}

Result<Number> Number::FromParts(bool negative, std::string digits, int32_t exponent) {
  Number out;
  if (digits.empty()) {
    if (negative || exponent != 0) {
      return Status::InvalidArgument("Number parts are not normalised: zero with sign or exponent");
    }
    return out;
  }
  for (char c : digits) {
    if (!IsDigit(c)) return Status::InvalidArgument("Number parts are not normalised: non-digit");
  }
  if (digits.front() == '0' || digits.back() == '0') {
    return Status::InvalidArgument("Number parts are not normalised: leading or trailing zero");
  }
  // Stored numbers come through here (wire decoding): the text an error
  // names is built only when there is an error.
  if (digits.size() > static_cast<size_t>(limits::kNumberDigitsMax) ||
      exponent > limits::kNumberExponentMax || exponent < limits::kNumberExponentMin) {
    std::string shown = (negative ? "-" : "") + digits.substr(0, 1) +
                        (digits.size() > 1 ? "." + digits.substr(1) : "") + "E" +
                        std::to_string(exponent);
    ET_RETURN_IF_ERROR(CheckLimits(digits, exponent, shown));
  }
  out.negative_ = negative;
  out.digits_ = std::move(digits);
  out.exponent_ = exponent;
  return out;
}

std::string Number::ToString() const {
  std::string out;
  AppendTo(&out);
  return out;
}

void Number::AppendTo(std::string* out) const {
  if (negative_) out->push_back('-');
  AppendPlainMagnitude(digits_, exponent_, out);
}

int Number::Compare(const Number& o) const {
  const int sa = is_zero() ? 0 : (negative_ ? -1 : 1);
  const int sb = o.is_zero() ? 0 : (o.negative_ ? -1 : 1);
  if (sa != sb) return sa < sb ? -1 : 1;
  if (sa == 0) return 0;
  int mag = 0;
  if (exponent_ != o.exponent_) {
    mag = exponent_ < o.exponent_ ? -1 : 1;
  } else {
    const int c = digits_.compare(o.digits_);
    mag = c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return sa * mag;
}

Number Number::Negated() const {
  Number out = *this;
  if (!out.is_zero()) out.negative_ = !out.negative_;
  return out;
}

Result<Number> Number::Add(const Number& o) const {
  if (o.is_zero()) return *this;
  if (is_zero()) return o;
  // Lay both magnitudes out over a common range of powers of ten, least
  // significant first: index k holds the digit of 10^(low + k).
  const int64_t n_a = static_cast<int64_t>(digits_.size());
  const int64_t n_b = static_cast<int64_t>(o.digits_.size());
  const int64_t low = std::min<int64_t>(exponent_ - n_a + 1, o.exponent_ - n_b + 1);
  const int64_t high = std::max<int64_t>(exponent_, o.exponent_);
  const size_t width = static_cast<size_t>(high - low + 2);  // + a carry digit
  std::vector<int> a(width, 0);
  std::vector<int> b(width, 0);
  for (int64_t k = 0; k < n_a; ++k) a[static_cast<size_t>(exponent_ - k - low)] = digits_[static_cast<size_t>(k)] - '0';
  for (int64_t k = 0; k < n_b; ++k) b[static_cast<size_t>(o.exponent_ - k - low)] = o.digits_[static_cast<size_t>(k)] - '0';

  std::vector<int> r(width, 0);
  bool negative = negative_;
  if (negative_ == o.negative_) {
    int carry = 0;
    for (size_t k = 0; k < width; ++k) {
      const int sum = a[k] + b[k] + carry;
      r[k] = sum % 10;
      carry = sum / 10;
    }
  } else {
    // Subtract the smaller magnitude from the larger; the result takes the
    // sign of the larger.
    Number abs_a = *this;
    abs_a.negative_ = false;
    Number abs_b = o;
    abs_b.negative_ = false;
    const int cmp = abs_a.Compare(abs_b);
    if (cmp == 0) return Number();
    const std::vector<int>& big = cmp > 0 ? a : b;
    const std::vector<int>& small = cmp > 0 ? b : a;
    negative = cmp > 0 ? negative_ : o.negative_;
    int borrow = 0;
    for (size_t k = 0; k < width; ++k) {
      int d = big[k] - small[k] - borrow;
      borrow = d < 0 ? 1 : 0;
      if (d < 0) d += 10;
      r[k] = d;
    }
  }
  size_t top = width;
  while (top > 0 && r[top - 1] == 0) --top;
  if (top == 0) return Number();
  size_t bottom = 0;
  while (r[bottom] == 0) ++bottom;
  std::string digits;
  digits.reserve(top - bottom);
  for (size_t k = top; k > bottom; --k) digits += static_cast<char>('0' + r[k - 1]);
  const int64_t exponent = low + static_cast<int64_t>(top) - 1;
  if (!CheckLimits(digits, exponent, "").ok()) {
    std::string shown = negative ? "-" : "";
    AppendPlainMagnitude(digits, exponent, &shown);
    ET_RETURN_IF_ERROR(CheckLimits(digits, exponent, shown));
  }
  Number out;
  out.negative_ = negative;
  out.digits_ = std::move(digits);
  out.exponent_ = static_cast<int32_t>(exponent);
  return out;
}

Result<Number> Number::Sub(const Number& o) const { return Add(o.Negated()); }

bool Number::ToInt64(int64_t* out) const {
  if (is_zero()) {
    *out = 0;
    return true;
  }
  const int64_t n = static_cast<int64_t>(digits_.size());
  if (exponent_ < n - 1) return false;  // has a fraction
  if (exponent_ > 18) return false;     // >= 1E19, beyond int64
  uint64_t magnitude = 0;
  for (char c : digits_) magnitude = magnitude * 10 + static_cast<uint64_t>(c - '0');
  for (int64_t k = n - 1; k < exponent_; ++k) magnitude *= 10;  // < 1E19 < 2^64
  constexpr uint64_t kMaxPositive = static_cast<uint64_t>(INT64_MAX);
  if (negative_) {
    if (magnitude > kMaxPositive + 1) return false;
    *out = magnitude == kMaxPositive + 1 ? INT64_MIN : -static_cast<int64_t>(magnitude);
  } else {
    if (magnitude > kMaxPositive) return false;
    *out = static_cast<int64_t>(magnitude);
  }
  return true;
}

}  // namespace edgetable::item
