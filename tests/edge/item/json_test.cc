#include "edge/item/json.h"

#include <string>

#include <gtest/gtest.h>

#include "edge/item/base64.h"
#include "tests/edge/item/random_value.h"

namespace edgetable::item {
namespace {

using nlohmann::json;

Number N(std::string_view t) { return Number::Parse(t).value(); }

Status ErrorOf(std::string_view text) {
  auto j = ParseJson(text);
  EXPECT_TRUE(j.ok()) << text;
  if (!j.ok()) return j.status();
  return ValueFromJson(*j, "attr").status();
}

bool Contains(const Status& s, std::string_view what) {
  return s.message().find(what) != std::string::npos;
}

TEST(Base64Test, RoundTripsAndRejectsGarbage) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  EXPECT_EQ(Base64Decode("Zm9vYmE=").value(), "fooba");
  EXPECT_EQ(Base64Decode("Zm9vYmE").value(), "fooba") << "padding optional";
  EXPECT_EQ(Base64Decode("").value(), "");
  EXPECT_FALSE(Base64Decode("Zm9v!mE=").ok());
  EXPECT_FALSE(Base64Decode("Z").ok());
  EXPECT_FALSE(Base64Decode("Zm9=v").ok());
  EXPECT_FALSE(Base64Decode("Zm=").ok());
  EXPECT_FALSE(Base64Decode("Zm9v YmE=").ok());
  EXPECT_FALSE(Base64Decode("Zg===").ok());
  testing::RandomValues rnd(11);
  for (int i = 0; i < 500; ++i) {
    const std::string bytes = rnd.Bytes(0, 40);
    EXPECT_EQ(Base64Decode(Base64Encode(bytes)).value(), bytes);
  }
}

TEST(JsonTest, DecodesEveryType) {
  auto item = ItemFromJson(json::parse(R"({
    "s": {"S": "héllo"}, "n": {"N": "1.50"}, "b": {"B": "AAH/"}, "t": {"BOOL": true},
    "z": {"NULL": true}, "m": {"M": {"x": {"N": "1e2"}}}, "l": {"L": [{"S": "a"}, {"NULL": true}]},
    "ss": {"SS": ["b", "a"]}, "ns": {"NS": ["10", "-1"]}, "bs": {"BS": ["AQ==", "AA=="]}})"));
  ASSERT_TRUE(item.ok()) << item.status().ToString();
  const Item& i = *item;
  EXPECT_EQ(i.at("s"), Value::S("h\xc3\xa9llo"));
  EXPECT_EQ(i.at("n").n().ToString(), "1.5");
  EXPECT_EQ(i.at("b"), Value::B(std::string("\x00\x01\xff", 3)));
  EXPECT_EQ(i.at("t"), Value::Bool(true));
  EXPECT_EQ(i.at("z"), Value::Null());
  EXPECT_EQ(i.at("m"), Value::M({{"x", Value::N(N("100"))}}));
  EXPECT_EQ(i.at("l"), Value::L({Value::S("a"), Value::Null()}));
  EXPECT_EQ(i.at("ss"), Value::SS({"a", "b"}));
  EXPECT_EQ(i.at("ns"), Value::NS({N("-1"), N("10")}));
  EXPECT_EQ(i.at("bs"), Value::BS({std::string(1, '\0'), "\x01"}));

  const json out = ItemToJson(i);
  EXPECT_EQ(out["n"], json::parse(R"({"N":"1.5"})"));
  EXPECT_EQ(out["m"], json::parse(R"({"M":{"x":{"N":"100"}}})"));
  EXPECT_EQ(out["b"], json::parse(R"({"B":"AAH/"})"));
  EXPECT_EQ(out["ns"], json::parse(R"({"NS":["-1","10"]})"));
  EXPECT_EQ(out["bs"], json::parse(R"({"BS":["AA==","AQ=="]})"));
  EXPECT_EQ(out["z"], json::parse(R"({"NULL":true})"));
  EXPECT_EQ(out["t"], json::parse(R"({"BOOL":true})"));
}

TEST(JsonTest, RandomRoundTrips) {
  testing::RandomValues rnd(2024);
  for (int i = 0; i < 2000; ++i) {
    const Item item = rnd.AnyItem(4);
    const json j = ItemToJson(item);
    auto back = ItemFromJson(json::parse(j.dump()));
    ASSERT_TRUE(back.ok()) << back.status().ToString() << "\n" << j.dump();
    ASSERT_EQ(*back, item) << j.dump();
    ASSERT_EQ(ItemToJson(*back), j) << "canonical output";
  }
}

TEST(JsonTest, MalformedValuesRejectedWithClearMessages) {
  Status s = ErrorOf(R"({"S":"a","N":"1"})");
  EXPECT_TRUE(Contains(s, "Supplied AttributeValue has more than one datatypes set")) << s.message();
  EXPECT_TRUE(Contains(s, "attr"));
  s = ErrorOf(R"({})");
  EXPECT_TRUE(Contains(s, "Supplied AttributeValue is empty")) << s.message();
  s = ErrorOf(R"({"X":"1"})");
  EXPECT_TRUE(Contains(s, "unknown datatype \"X\"")) << s.message();
  s = ErrorOf(R"({"NULL":false})");
  EXPECT_TRUE(Contains(s, "Null attribute value types must have the value of true")) << s.message();
  s = ErrorOf(R"({"N":"abc"})");
  EXPECT_TRUE(Contains(s, "The parameter cannot be converted to a numeric value: abc")) << s.message();
  EXPECT_TRUE(Contains(s, "(attribute attr)")) << s.message();
  s = ErrorOf(R"({"N":1.5})");
  EXPECT_TRUE(Contains(s, "Invalid N value")) << s.message();
  s = ErrorOf(R"({"B":"!!!"})");
  EXPECT_TRUE(Contains(s, "Invalid base64")) << s.message();
  s = ErrorOf(R"({"BS":["AA==", "%%"]})");
  EXPECT_TRUE(Contains(s, "Invalid base64")) << s.message();
  s = ErrorOf(R"({"NS":["1", "x"]})");
  EXPECT_TRUE(Contains(s, "numeric value: x")) << s.message();
  s = ErrorOf(R"({"SS":["a", 1]})");
  EXPECT_TRUE(Contains(s, "Invalid SS value")) << s.message();
  s = ErrorOf(R"({"BOOL":"true"})");
  EXPECT_TRUE(Contains(s, "Invalid BOOL value")) << s.message();
  s = ErrorOf(R"({"M":[]})");
  EXPECT_TRUE(Contains(s, "Invalid M value")) << s.message();
  s = ErrorOf(R"({"L":{}})");
  EXPECT_TRUE(Contains(s, "Invalid L value")) << s.message();
  s = ErrorOf(R"("just a string")");
  EXPECT_TRUE(Contains(s, "must be a JSON object")) << s.message();
  s = ErrorOf(R"({"M":{"a":{"L":[{"S":"x"},{"N":"1e999"}]}}})");
  EXPECT_TRUE(Contains(s, "Number overflow")) << s.message();
  EXPECT_TRUE(Contains(s, "attr.a[1]")) << s.message();
  for (const auto& [text, name] : {std::pair{"[]", "array"}, std::pair{"1", "number"}}) {
    auto r = ItemFromJson(json::parse(text));
    ASSERT_FALSE(r.ok());
    EXPECT_TRUE(Contains(r.status(), name)) << r.status().message();
  }
}

TEST(JsonTest, DeepNestingRejectedWithoutRecursingForever) {
  std::string deep;
  for (int i = 0; i < 5000; ++i) deep += R"({"L":[)";
  deep += R"({"S":"x"})";
  for (int i = 0; i < 5000; ++i) deep += "]}";
  Status s = ErrorOf(deep);
  EXPECT_TRUE(Contains(s, "Nesting Levels have exceeded supported limits")) << s.message();
}

TEST(JsonTest, ParseJsonNamesTheOffset) {
  auto r = ParseJson(R"({"a": [1, 2,, 3]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(r.status(), "at byte 12:")) << r.status().message();
}

TEST(PlainJsonTest, TypesMapAsDocumented) {
  auto v = ValueFromPlainJson(
      R"({"s":"x","i":42,"neg":-7,"f":21.5,"t":true,"f2":false,"z":null,"a":[1,"b"],"o":{"k":{}}})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  ASSERT_TRUE(v->is(Type::kM));
  const Map& m = v->m();
  EXPECT_EQ(m.at("s"), Value::S("x"));
  EXPECT_EQ(m.at("i"), Value::N(N("42")));
  EXPECT_EQ(m.at("neg"), Value::N(N("-7")));
  EXPECT_EQ(m.at("f"), Value::N(N("21.5")));
  EXPECT_EQ(m.at("t"), Value::Bool(true));
  EXPECT_EQ(m.at("f2"), Value::Bool(false));
  EXPECT_EQ(m.at("z"), Value::Null());
  EXPECT_EQ(m.at("a"), Value::L({Value::N(N("1")), Value::S("b")}));
  EXPECT_EQ(m.at("o"), Value::M({{"k", Value::M({})}}));
  EXPECT_EQ(ValueFromPlainJson("\"top\"").value(), Value::S("top"));
  EXPECT_EQ(ValueFromPlainJson("[]").value(), Value::L({}));
}

TEST(PlainJsonTest, NumbersStayExact) {
  auto v = ValueFromPlainJson(
      R"({"big":12345678901234567890123456789012345678,"frac":0.1000000000000000055511151231257827,
          "u64":18446744073709551615,"past64":18446744073709551616,"min":-9223372036854775808,
          "exp":1.5e-7,"tiny":1E-130,"zero":-0.0})");
  ASSERT_TRUE(v.ok()) << v.status().ToString();
  const Map& m = v->m();
  EXPECT_EQ(m.at("big").n().ToString(), "12345678901234567890123456789012345678");
  EXPECT_EQ(m.at("frac").n().ToString(), "0.1000000000000000055511151231257827");
  EXPECT_EQ(m.at("u64").n().ToString(), "18446744073709551615");
  EXPECT_EQ(m.at("past64").n().ToString(), "18446744073709551616");
  EXPECT_EQ(m.at("min").n().ToString(), "-9223372036854775808");
  EXPECT_EQ(m.at("exp").n().ToString(), "0.00000015");
  EXPECT_EQ(m.at("tiny").n().ToString(), "0." + std::string(129, '0') + "1");
  EXPECT_TRUE(m.at("zero").n().is_zero());
}

TEST(PlainJsonTest, RejectsWhatDynamoDbCannotStore) {
  auto r = ValueFromPlainJson(R"({"x":{"y":[1,123456789012345678901234567890123456789]}})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "more than 38 significant digits")) << r.status().message();
  EXPECT_TRUE(Contains(r.status(), "$.x.y[1]")) << r.status().message();
  r = ValueFromPlainJson(R"({"x":1e-131})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "Number underflow")) << r.status().message();
  r = ValueFromPlainJson(R"({"x":1e400})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
  r = ValueFromPlainJson(R"({"x":1,"x":2})");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "duplicate key \"x\"")) << r.status().message();
}

TEST(PlainJsonTest, BadJsonNamesTheByteOffset) {
  for (const auto& [text, offset] :
       {std::pair<std::string, std::string>{R"({"a":1,})", "byte 7:"},
        {R"({"a":tru})", "byte 8:"},
        {"", "byte 0:"},
        {R"({"a":1} x)", "byte 8:"},
        {"{\"a\":\"\xff\"}", "byte 6:"}}) {
    auto r = ValueFromPlainJson(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument);
    EXPECT_TRUE(Contains(r.status(), "Invalid JSON at " + offset)) << text << ": " << r.status().message();
  }
}

TEST(PlainJsonTest, DeepNestingRejected) {
  std::string ok_text = std::string(33, '[') + std::string(33, ']');
  EXPECT_TRUE(ValueFromPlainJson(ok_text).ok());
  std::string deep = std::string(100000, '[') + std::string(100000, ']');
  auto r = ValueFromPlainJson(deep);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(Contains(r.status(), "nesting deeper than")) << r.status().message();
}

}  // namespace
}  // namespace edgetable::item
