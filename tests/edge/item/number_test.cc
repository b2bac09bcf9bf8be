#include "edge/item/number.h"

#include <string>

#include <gtest/gtest.h>

namespace edgetable::item {
namespace {

Number N(std::string_view text) {
  auto r = Number::Parse(text);
  EXPECT_TRUE(r.ok()) << text << ": " << r.status().ToString();
  return r.ok() ? *r : Number();
}

std::string Canon(std::string_view text) { return N(text).ToString(); }

TEST(NumberTest, NormalisesEquivalentForms) {
  EXPECT_EQ(N("1.50"), N("1.5"));
  EXPECT_EQ(N("-0"), N("0"));
  EXPECT_EQ(N("1e2"), N("100"));
  EXPECT_EQ(N("1E+2"), N("100.000"));
  EXPECT_EQ(N("0.0015e3"), N("1.5"));
  EXPECT_EQ(N("+7"), N("7"));
  EXPECT_EQ(N("007"), N("7"));
  EXPECT_FALSE(N("-0").negative());
  EXPECT_TRUE(N("0e999999999").is_zero());

  const Number n = N("150");
  EXPECT_EQ(n.digits(), "15");
  EXPECT_EQ(n.exponent(), 2);
  EXPECT_EQ(N("0.015").exponent(), -2);
  EXPECT_EQ(N("1.5").exponent(), 0);
}

TEST(NumberTest, ToStringIsPlainNotation) {
  EXPECT_EQ(Canon("1.50"), "1.5");
  EXPECT_EQ(Canon("1e2"), "100");
  EXPECT_EQ(Canon("-0"), "0");
  EXPECT_EQ(Canon("00042"), "42");
  EXPECT_EQ(Canon("1.0"), "1");
  EXPECT_EQ(Canon("1.5E2"), "150");
  EXPECT_EQ(Canon("-1.25e-3"), "-0.00125");
  EXPECT_EQ(Canon(".5"), "0.5");
  EXPECT_EQ(Canon("5."), "5");
  EXPECT_EQ(Canon("123.456"), "123.456");
  EXPECT_EQ(Canon("1E+125"), "1" + std::string(125, '0'));
  EXPECT_EQ(Canon("1E-130"), "0." + std::string(129, '0') + "1");
  EXPECT_EQ(Canon("1.00000000000000007629769841092E+50"),
            "100000000000000007629769841092000000000000000000000");
}

TEST(NumberTest, DigitLimit) {
  const std::string d38 = "12345678901234567890123456789012345678";
  const std::string d39 = d38 + "9";
  EXPECT_TRUE(Number::Parse(d38).ok());
  EXPECT_TRUE(Number::Parse("-1." + d38.substr(1)).ok());
  EXPECT_TRUE(Number::Parse(d38 + "000000").ok()) << "trailing zeros are not significant";
  EXPECT_TRUE(Number::Parse("0.000" + d38).ok()) << "leading zeros are not significant";
  auto r = Number::Parse(d39);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(r.status().message().find("Attempting to store more than 38 significant digits"),
            std::string::npos);
  EXPECT_NE(r.status().message().find(d39), std::string::npos) << "names the value";
  EXPECT_FALSE(Number::Parse("-1.23456789012345678901234567890123456789").ok());
}

TEST(NumberTest, RangeLimits) {
  EXPECT_TRUE(Number::Parse("1E-130").ok());
  EXPECT_TRUE(Number::Parse("-1E-130").ok());
  EXPECT_TRUE(Number::Parse("9.9999999999999999999999999999999999999E+125").ok());
  EXPECT_TRUE(Number::Parse("-9.9999999999999999999999999999999999999E+125").ok());

  auto over = Number::Parse("1E+126");
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.status().message().find("Number overflow"), std::string::npos);
  EXPECT_NE(over.status().message().find("1E+126"), std::string::npos);
  EXPECT_FALSE(Number::Parse("-1e126").ok());
  EXPECT_FALSE(Number::Parse("10E125").ok());

  auto under = Number::Parse("1E-131");
  ASSERT_FALSE(under.ok());
  EXPECT_NE(under.status().message().find("Number underflow"), std::string::npos);
  EXPECT_NE(under.status().message().find("1E-131"), std::string::npos);
  EXPECT_FALSE(Number::Parse("-1e-131").ok());
  EXPECT_FALSE(Number::Parse("0.1E-130").ok());
  EXPECT_FALSE(Number::Parse("1e99999999999999999999").ok());
  EXPECT_FALSE(Number::Parse("1e-99999999999999999999").ok());
}

TEST(NumberTest, ParseErrorsNameTheValue) {
  for (const char* bad : {"", "abc", "1.2.3", "1e", "1e+", "--1", "+", ".", "1 ", " 1", "0x10",
                          "NaN", "Infinity", "1,5", "e5", "1e5.5", "١"}) {
    auto r = Number::Parse(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(r.status().message().find("cannot be converted to a numeric value"),
              std::string::npos);
    EXPECT_NE(r.status().message().find(bad), std::string::npos) << bad;
  }
  // Huge garbage is named, but cut short.
  auto r = Number::Parse(std::string(10000, 'x'));
  ASSERT_FALSE(r.ok());
  EXPECT_LT(r.status().message().size(), 300u);
}

TEST(NumberTest, CompareIsNumeric) {
  EXPECT_LT(N("-10"), N("-9"));
  EXPECT_LT(N("-1"), N("0"));
  EXPECT_LT(N("0"), N("1E-130"));
  EXPECT_LT(N("1"), N("1.05"));
  EXPECT_LT(N("1.05"), N("1.5"));
  EXPECT_LT(N("9"), N("10"));
  EXPECT_LT(N("-1.5"), N("-1.05"));
  EXPECT_LT(N("-1.05"), N("-1"));
  EXPECT_EQ(N("2").Compare(N("2.000")), 0);
}

TEST(NumberTest, AddAndSubAreExact) {
  auto sum = N("0.1").Add(N("0.2"));
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ(sum->ToString(), "0.3");
  EXPECT_EQ(N("1").Sub(N("1")).value().ToString(), "0");
  EXPECT_EQ(N("-5").Add(N("3")).value().ToString(), "-2");
  EXPECT_EQ(N("5").Sub(N("7.25")).value().ToString(), "-2.25");
  EXPECT_EQ(N("999").Add(N("1")).value().ToString(), "1000");
  EXPECT_EQ(N("1000").Sub(N("0.001")).value().ToString(), "999.999");
  EXPECT_EQ(N("-0.5").Sub(N("-0.5")).value().ToString(), "0");
  EXPECT_EQ(N("0").Add(N("-3")).value().ToString(), "-3");
  // 38 digits exactly.
  auto big = N("99999999999999999999999999999999999998").Add(N("1"));
  ASSERT_TRUE(big.ok());
  EXPECT_EQ(big->ToString(), "99999999999999999999999999999999999999");
  EXPECT_EQ(N("1E125").Sub(N("1E125")).value().ToString(), "0");
  EXPECT_EQ(N("1E-130").Add(N("1E-130")).value().ToString(), "0." + std::string(129, '0') + "2");
}

TEST(NumberTest, AddReportsPrecisionAndRange) {
  // 39 significant digits needed.
  auto p = N("99999999999999999999999999999999999999").Add(N("0.1"));
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("more than 38 significant digits"), std::string::npos);
  auto q = N("1E20").Add(N("1E-20"));
  ASSERT_FALSE(q.ok());
  // Overflow past 1E+126.
  auto o = N("9.9999999999999999999999999999999999999E+125").Add(N("1E+88"));
  ASSERT_FALSE(o.ok());
  EXPECT_NE(o.status().message().find("Number overflow"), std::string::npos);
  auto neg_o = N("-9E+125").Sub(N("1E+125"));
  ASSERT_FALSE(neg_o.ok());
  EXPECT_NE(neg_o.status().message().find("Number overflow"), std::string::npos);
  // Underflow below 1E-130.
  auto u = N("1.1E-130").Sub(N("1E-130"));
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.status().message().find("Number underflow"), std::string::npos);
}

TEST(NumberTest, IntConversions) {
  int64_t v = 0;
  EXPECT_TRUE(N("42").ToInt64(&v));
  EXPECT_EQ(v, 42);
  EXPECT_TRUE(N("-9223372036854775808").ToInt64(&v));
  EXPECT_EQ(v, INT64_MIN);
  EXPECT_TRUE(N("9223372036854775807").ToInt64(&v));
  EXPECT_EQ(v, INT64_MAX);
  EXPECT_FALSE(N("9223372036854775808").ToInt64(&v));
  EXPECT_FALSE(N("1.5").ToInt64(&v));
  EXPECT_FALSE(N("1E20").ToInt64(&v));
  EXPECT_TRUE(N("1.7E3").ToInt64(&v));
  EXPECT_EQ(v, 1700);
  EXPECT_EQ(Number::FromInt(INT64_MIN).ToString(), "-9223372036854775808");
  EXPECT_EQ(Number::FromInt(-1200).ToString(), "-1200");
  EXPECT_EQ(Number::FromInt(-1200), N("-1.2e3"));
  EXPECT_EQ(Number::FromUint(UINT64_MAX).ToString(), "18446744073709551615");
  EXPECT_TRUE(Number::FromInt(0).is_zero());
}

TEST(NumberTest, FromPartsRejectsNonNormalised) {
  EXPECT_TRUE(Number::FromParts(false, "15", 0).ok());
  EXPECT_FALSE(Number::FromParts(false, "150", 0).ok());
  EXPECT_FALSE(Number::FromParts(false, "015", 0).ok());
  EXPECT_FALSE(Number::FromParts(false, "1a", 0).ok());
  EXPECT_FALSE(Number::FromParts(true, "", 0).ok());
  EXPECT_FALSE(Number::FromParts(false, "", 3).ok());
  EXPECT_FALSE(Number::FromParts(false, "1", 126).ok());
  EXPECT_FALSE(Number::FromParts(false, "1", -131).ok());
  EXPECT_FALSE(Number::FromParts(false, std::string(39, '1'), 0).ok());
}

}  // namespace
}  // namespace edgetable::item
