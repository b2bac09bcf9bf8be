#include "edge/item/key.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/edge/item/random_value.h"

namespace edgetable::item {
namespace {

Number N(std::string_view t) { return Number::Parse(t).value(); }

int Sign(int x) { return x < 0 ? -1 : (x > 0 ? 1 : 0); }

int MemcmpSign(const std::string& a, const std::string& b) {
  const size_t n = std::min(a.size(), b.size());
  const int c = n == 0 ? 0 : std::memcmp(a.data(), b.data(), n);
  if (c != 0) return Sign(c);
  return a.size() == b.size() ? 0 : (a.size() < b.size() ? -1 : 1);
}

const KeySchema kSchema{{"device", Type::kS}, KeyAttribute{"ts", Type::kN}};

TEST(KeyTest, NumberEncodingOrdersKnownValues) {
  const char* ordered[] = {"-9.9999999999999999999999999999999999999E+125", "-1E+125", "-100",
                           "-10",  "-9.5", "-9.05", "-9", "-1", "-0.5", "-1E-130", "0", "1E-130",
                           "0.5",  "1",    "1.05",  "1.5", "9",  "10", "100", "1E+125",
                           "9.9999999999999999999999999999999999999E+125"};
  std::string prev;
  for (size_t i = 0; i < std::size(ordered); ++i) {
    auto enc = EncodeKeyValue(Value::N(N(ordered[i])));
    ASSERT_TRUE(enc.ok());
    if (i > 0) {
      EXPECT_LT(MemcmpSign(prev, *enc), 0) << ordered[i - 1] << " < " << ordered[i];
    }
    prev = *enc;
    EXPECT_LE(enc->size(), 22u);
  }
  EXPECT_EQ(*EncodeKeyValue(Value::N(N("1.50"))), *EncodeKeyValue(Value::N(N("1.5"))));
  EXPECT_EQ(*EncodeKeyValue(Value::N(N("-0"))), *EncodeKeyValue(Value::N(N("0"))));
}

TEST(KeyTest, EncodeRejectsNonKeyValues) {
  EXPECT_EQ(EncodeKeyValue(Value::Bool(true)).status().code(), Status::Code::kInvalidArgument);
  EXPECT_FALSE(EncodeKeyValue(Value::SS({"a"})).ok());
  EXPECT_FALSE(EncodeKeyValue(Value::S("")).ok());
  EXPECT_FALSE(EncodeKeyValue(Value::B("")).ok());
  EXPECT_EQ(*EncodeKeyValue(Value::S("abc")), "abc") << "S is its raw bytes";
}

TEST(KeyTest, DecodeRejectsInvalidNumberBytes) {
  for (const std::string& bad :
       {std::string(), std::string("\x02\x00", 2), std::string("\x03"), std::string("\x03\x80"),
        std::string("\x03\x80\x64", 3), std::string("\x03\x80\x0a\x00", 4),
        std::string("\x01\x7f\x59"), std::string("\x04\x80\x0a"), std::string("\x03\x80\x00", 3)}) {
    auto r = DecodeKeyValue(bad, Type::kN);
    EXPECT_FALSE(r.ok());
    if (!r.ok()) {
      EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    }
  }
  EXPECT_FALSE(DecodeKeyValue("", Type::kS).ok());
  EXPECT_FALSE(DecodeKeyValue("x", Type::kBool).ok());
}

// Invariants (1) and (2) of key.h over seeded random values of each key type.
TEST(KeyTest, PropertyOrderAndRoundTrip) {
  for (Type t : {Type::kS, Type::kN, Type::kB}) {
    for (uint64_t seed = 1; seed <= 4; ++seed) {
      testing::RandomValues rnd(seed * 7919 + static_cast<uint64_t>(t));
      std::vector<Value> values;
      std::vector<std::string> encoded;
      for (int i = 0; i < 1500; ++i) {
        Value v = rnd.Scalar(t);
        auto enc = EncodeKeyValue(v);
        ASSERT_TRUE(enc.ok()) << enc.status().ToString();
        auto dec = DecodeKeyValue(*enc, t);
        ASSERT_TRUE(dec.ok()) << "seed " << seed << ": " << dec.status().ToString();
        ASSERT_EQ(*dec, v) << "seed " << seed;
        values.push_back(std::move(v));
        encoded.push_back(*std::move(enc));
      }
      // Each value against its neighbour and against a value far away.
      for (size_t i = 1; i < values.size(); ++i) {
        for (size_t j : {i - 1, (i * 31) % values.size()}) {
          ASSERT_EQ(MemcmpSign(encoded[i], encoded[j]), Sign(CompareScalar(values[i], values[j])))
              << "type " << TypeName(t) << " seed " << seed << " i " << i << " j " << j;
        }
      }
    }
  }
}

TEST(KeyTest, ExtractKeyEncodesBothParts) {
  Map item{{"device", Value::S("d1")}, {"ts", Value::N(N("17"))}, {"temp", Value::N(N("21.5"))}};
  auto key = ExtractKey(item, kSchema);
  ASSERT_TRUE(key.ok()) << key.status().ToString();
  EXPECT_EQ(key->partition, "d1");
  EXPECT_EQ(key->sort, *EncodeKeyValue(Value::N(N("17"))));
  const KeySchema hash_only{{"device", Type::kS}, std::nullopt};
  auto hk = ExtractKey(item, hash_only);
  ASSERT_TRUE(hk.ok());
  EXPECT_TRUE(hk->sort.empty());
}

TEST(KeyTest, ExtractKeyErrorsNameTheAttribute) {
  Map no_device{{"ts", Value::N(N("1"))}};
  auto r = ExtractKey(no_device, kSchema);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "One or more parameter values were invalid: Missing the key device in the item");
  Map wrong_type{{"device", Value::N(N("1"))}, {"ts", Value::N(N("1"))}};
  r = ExtractKey(wrong_type, kSchema);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(),
            "One or more parameter values were invalid: Type mismatch for key device expected: S "
            "actual: N");
  Map empty_b{{"device", Value::S("x")}, {"ts", Value::N(N("1"))}};
  const KeySchema b_sort{{"device", Type::kS}, KeyAttribute{"blob", Type::kB}};
  empty_b["blob"] = Value::B("");
  r = ExtractKey(empty_b, b_sort);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("empty binary value. Key: blob"), std::string::npos);
  // key_only: exactly the key attributes.
  Map key_plus{{"device", Value::S("d")}, {"ts", Value::N(N("1"))}, {"x", Value::Null()}};
  r = ExtractKey(key_plus, kSchema, /*key_only=*/true);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().message(), "The provided key element does not match the schema");
  key_plus.erase("x");
  EXPECT_TRUE(ExtractKey(key_plus, kSchema, true).ok());
  key_plus.erase("ts");
  EXPECT_FALSE(ExtractKey(key_plus, kSchema, true).ok());
}

TEST(KeyTest, KeyOfKeepsOnlyKeyAttributes) {
  Map item{{"device", Value::S("d1")}, {"ts", Value::N(N("17"))}, {"temp", Value::N(N("21.5"))}};
  Map key = KeyOf(item, kSchema);
  EXPECT_EQ(key.size(), 2u);
  EXPECT_EQ(key.count("temp"), 0u);
  EXPECT_EQ(KeyOf({{"temp", Value::Null()}}, kSchema).size(), 0u);
}

}  // namespace
}  // namespace edgetable::item
