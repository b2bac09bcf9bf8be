// The direct JSON writer (json.h AppendItemJson & co.) against the tree path
// it replaces on the response side: ItemToJson + dump(replace) must give the
// same bytes for every item, and the text must parse back to the same item.

#include <string>

#include <gtest/gtest.h>

#include "edge/item/base64.h"
#include "edge/item/json.h"
#include "tests/edge/item/random_value.h"

namespace edgetable::item {
namespace {

using nlohmann::json;

std::string TreeText(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

std::string Written(const Item& item) {
  std::string out;
  AppendItemJson(item, &out);
  return out;
}

std::string WrittenString(std::string_view s) {
  std::string out;
  AppendJsonString(s, &out);
  return out;
}

Number N(std::string_view t) { return Number::Parse(t).value(); }

TEST(JsonWriterTest, RandomItemsMatchTheTreeAndRoundTrip) {
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    testing::RandomValues r(seed);
    const Item item = r.AnyItem(3);
    const std::string text = Written(item);
    ASSERT_EQ(text, TreeText(ItemToJson(item))) << "seed " << seed;
    auto parsed = ParseJson(text);
    ASSERT_TRUE(parsed.ok()) << "seed " << seed << ": " << parsed.status().ToString();
    auto back = ItemFromJson(*parsed);
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.status().ToString();
    EXPECT_EQ(*back, item) << "seed " << seed;
  }
}

TEST(JsonWriterTest, RandomValuesMatchTheTree) {
  for (uint64_t seed = 1; seed <= 3000; ++seed) {
    testing::RandomValues r(seed * 7919);
    const Value v = r.Any(4);
    std::string out = "x";  // appends, never replaces
    AppendValueJson(v, &out);
    ASSERT_EQ(out, "x" + TreeText(ValueToJson(v))) << "seed " << seed;
  }
}

TEST(JsonWriterTest, EscapesControlCharactersQuotesAndBackslashes) {
  std::string all;
  for (int c = 0; c < 0x80; ++c) all.push_back(static_cast<char>(c));
  EXPECT_EQ(WrittenString(all), TreeText(json(all)));
  EXPECT_EQ(WrittenString("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(WrittenString("\b\f\n\r\t"), "\"\\b\\f\\n\\r\\t\"");
  EXPECT_EQ(WrittenString(std::string("\x00\x01\x1f", 3)), "\"\\u0000\\u0001\\u001f\"");
  EXPECT_EQ(WrittenString("\x7f"), "\"\x7f\"") << "DEL is not escaped";
  EXPECT_EQ(WrittenString(""), "\"\"");
}

TEST(JsonWriterTest, KeepsNonAsciiAndReplacesInvalidUtf8AsTheTreeDid) {
  // Valid: 2, 3 and 4 byte forms, the edges of the ranges, kept as bytes.
  for (std::string s : {"\xC3\xA9", "\xE2\x82\xAC", "\xF0\x9F\x98\x80", "\xEF\xBF\xBF", "\xF4\x8F\xBF\xBF",
                        "\xC2\x80", "\xE0\xA0\x80", "\xF0\x90\x80\x80", "caf\xC3\xA9 \xE2\x82\xAC"}) {
    EXPECT_EQ(WrittenString(s), "\"" + s + "\"");
    EXPECT_EQ(WrittenString(s), TreeText(json(s)));
  }
  // Invalid: lone continuation, overlong, surrogate, above U+10FFFF,
  // truncated at the end and in the middle, 0xFF.
  for (std::string s : {"\x80", "a\xC0\xAFz", "\xED\xA0\x80", "\xF4\x90\x80\x80", "ab\xE2\x82", "\xE2\x82x",
                        "\xFF\xFE", "\xC3", "ok\xC3\xA9\xC3"}) {
    EXPECT_EQ(WrittenString(s), TreeText(json(s)));
  }
  // Random bytes, valid or not.
  testing::RandomValues r(42);
  for (int i = 0; i < 5000; ++i) {
    const std::string s = r.Bytes(0, 12);
    ASSERT_EQ(WrittenString(s), TreeText(json(s))) << "case " << i;
  }
}

TEST(JsonWriterTest, NumbersKeepEveryDigit) {
  Item item;
  item.emplace("big", Value::N(N("12345678901234567890123456789012345678")));
  item.emplace("tiny", Value::N(N("-1.2345678901234567890123456789012345678E-120")));
  item.emplace("huge", Value::N(N("9.9E+125")));
  item.emplace("frac", Value::N(N("1.50")));
  item.emplace("zero", Value::N(N("-0.000")));
  item.emplace("ns", Value::NS({N("10"), N("-2.5"), N("1E2")}));
  const std::string text = Written(item);
  EXPECT_EQ(text, TreeText(ItemToJson(item)));
  EXPECT_NE(text.find("\"big\":{\"N\":\"12345678901234567890123456789012345678\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"frac\":{\"N\":\"1.5\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"zero\":{\"N\":\"0\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"huge\":{\"N\":\"99" + std::string(124, '0') + "\"}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"ns\":{\"NS\":[\"-2.5\",\"10\",\"100\"]}"), std::string::npos) << text;
  EXPECT_EQ(N("-1.2345678901234567890123456789012345678E-120").ToString(),
            "-0." + std::string(119, '0') + "12345678901234567890123456789012345678");
}

TEST(JsonWriterTest, BinaryIsBase64AndEveryTypeIsWritten) {
  Item item;
  item.emplace("b", Value::B(std::string("\x00\xff\x10", 3)));
  item.emplace("bs", Value::BS({"", "a", "ab", "abc"}));
  item.emplace("t", Value::Bool(true));
  item.emplace("f", Value::Bool(false));
  item.emplace("nul", Value::Null());
  item.emplace("m", Value::M({}));
  item.emplace("l", Value::L({}));
  item.emplace("ss", Value::SS({"x\"y", "\xC3\xA9"}));
  item.emplace("key \"quoted\"\n", Value::S("v"));
  const std::string text = Written(item);
  EXPECT_EQ(text, TreeText(ItemToJson(item)));
  EXPECT_NE(text.find("\"b\":{\"B\":\"" + Base64Encode(std::string("\x00\xff\x10", 3)) + "\"}"), std::string::npos);
  EXPECT_NE(text.find("\"bs\":{\"BS\":[\"\",\"YQ==\",\"YWI=\",\"YWJj\"]}"), std::string::npos) << text;
  EXPECT_NE(text.find("\"key \\\"quoted\\\"\\n\":{\"S\":\"v\"}"), std::string::npos) << text;
  EXPECT_EQ(Written(Item{}), "{}");
}

TEST(JsonWriterTest, Base64EncodeToAppends) {
  std::string out = "=>";
  Base64EncodeTo("foobar", &out);
  Base64EncodeTo("f", &out);
  EXPECT_EQ(out, "=>Zm9vYmFyZg==");
}

}  // namespace
}  // namespace edgetable::item
