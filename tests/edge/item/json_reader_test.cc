// ParseJson's fast path (internal/json_reader.h) against the library it
// stands in for: wherever it accepts a text, its tree is the library's
// (same values, same value types); wherever the library refuses a text, the
// fast path refuses it too, so ParseJson's errors stay the library's.

#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "edge/item/internal/json_reader.h"
#include "edge/item/json.h"
#include "tests/edge/item/random_value.h"

namespace edgetable::item {
namespace {

using nlohmann::json;

// Same values and the same types all the way down (json == compares
// numbers across types, so check the types separately).
void ExpectSameTree(const json& a, const json& b, const std::string& where) {
  ASSERT_EQ(a.type(), b.type()) << where;
  if (a.is_object()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (auto it = a.begin(); it != a.end(); ++it) {
      ASSERT_TRUE(b.contains(it.key())) << where << " ." << it.key();
      ExpectSameTree(it.value(), b.at(it.key()), where + "." + it.key());
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.size(), b.size()) << where;
    for (size_t i = 0; i < a.size(); ++i) ExpectSameTree(a[i], b[i], where + "[" + std::to_string(i) + "]");
  } else {
    ASSERT_EQ(a, b) << where;
  }
}

// Checks one text; returns whether the fast path took it.
bool Check(const std::string& text) {
  json fast;
  const bool took = internal::FastParseJson(text, &fast);
  json lib;
  bool lib_ok = true;
  try {
    lib = json::parse(text);
  } catch (const json::exception&) {
    lib_ok = false;
  }
  if (!lib_ok) {
    EXPECT_FALSE(took) << "the fast path accepted what the library refuses: " << text;
    auto r = ParseJson(text);
    EXPECT_FALSE(r.ok()) << text;
    return took;
  }
  if (took) ExpectSameTree(fast, lib, text);
  auto r = ParseJson(text);
  EXPECT_TRUE(r.ok()) << text;
  if (r.ok()) ExpectSameTree(*r, lib, text);
  return took;
}

TEST(JsonReaderTest, RequestShapesTakeTheFastPathAndMatchTheLibrary) {
  const std::vector<std::string> texts = {
      R"({})",
      R"({"TableName":"bench","Key":{"device":{"S":"get-1"},"ts":{"N":"1"}}})",
      R"({"TableName":"bench","KeyConditionExpression":"device = :d","ExpressionAttributeValues":{":d":{"S":"q"}}})",
      R"( { "Limit" : 10 , "Segment":0, "Neg": -5, "Min": -9223372036854775808, "Max": 18446744073709551615 } )",
      R"({"a":[],"b":[1,[2,[3]]],"c":{},"d":true,"e":false,"f":null,"g":"","h":[{"x":{}}]})",
      "{\"esc\":\"q\\\"b\\\\s\\/b\\bf\\fn\\nr\\rt\\t\"}",
      R"({"u":"\u00e9\u20AC\ud83d\ude00\u0000\u001f"})",
      "{\"raw\":\"caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80\"}",
      "\n\t{\r\n}\n",
      R"({"Item":{"device":{"S":"d"},"ts":{"N":"1700000000000"},"temp":{"N":"21.5"},"ok":{"BOOL":true}}})",
  };
  for (const std::string& t : texts) EXPECT_TRUE(Check(t)) << t;
}

TEST(JsonReaderTest, LeavesTheRestToTheLibrary) {
  // Valid JSON the fast path declines (the library decides): floats,
  // exponents, integers past 64 bits, repeated keys, deep nesting, a BOM.
  const std::vector<std::string> valid = {
      R"({"f":1.5})", R"({"e":1e3})", R"({"E":-2E-2})", R"({"big":18446744073709551616})",
      R"({"small":-9223372036854775809})", R"({"k":1,"k":2})", "\xEF\xBB\xBF{}",
      std::string(100, '[') + std::string(100, ']'),
  };
  for (const std::string& t : valid) EXPECT_FALSE(Check(t)) << t;
  // Malformed: the fast path must refuse every one.
  const std::vector<std::string> bad = {
      "", " ", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "[1,]", "{\"a\":1 \"b\":2}", "{'a':1}",
      "{\"a\":01}", "{\"a\":-}", "{\"a\":-01}", "{\"a\":1.}", "{\"a\":.5}", "{\"a\":tru}", "{\"a\":nul}",
      "{\"a\":\"x\ny\"}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\ud800\"}", "{\"a\":\"\\udc00\"}",
      "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"\xC3\"}", "{\"a\":\"\xED\xA0\x80\"}", "{\"a\":\"\xC0\xAF\"}",
      "{\"a\":\"\xFF\"}", "{\"a\":1}x", "{} {}", "{\"a\":\"unterminated}", "{\"a\":[1,2}", "{\"a\":+1}",
      "{\"a\":NaN}", "{\"a\":1}/*c*/",
  };
  for (const std::string& t : bad) {
    json out;
    EXPECT_FALSE(internal::FastParseJson(t, &out)) << t;
    Check(t);
  }
}

TEST(JsonReaderTest, ErrorsStayTheLibrarys) {
  auto r = ParseJson("{\"a\":1,}");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("Invalid JSON at byte 7"), std::string::npos) << r.status().message();
}

TEST(JsonReaderTest, RandomItemsBothEscapingsAndTruncations) {
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    testing::RandomValues r(seed);
    const Item item = r.AnyItem(3);
    std::string text;
    AppendItemJson(item, &text);
    EXPECT_TRUE(Check(text)) << "seed " << seed;
    // ensure_ascii: every non-ASCII character as \u escapes (surrogate pairs too).
    const std::string ascii = ItemToJson(item).dump(-1, ' ', true, json::error_handler_t::replace);
    EXPECT_TRUE(Check(ascii)) << "seed " << seed;
    auto back = ParseJson(ascii);
    ASSERT_TRUE(back.ok());
    auto again = ItemFromJson(*back);
    ASSERT_TRUE(again.ok()) << again.status().ToString();
    EXPECT_EQ(*again, item) << "seed " << seed;
    // Cut short or with a byte changed: malformed or not, both must agree.
    const size_t cut = static_cast<size_t>(r.Int(0, static_cast<int64_t>(text.size()) - 1));
    Check(text.substr(0, cut));
    std::string flipped = text;
    flipped[cut] = static_cast<char>(r.Int(0, 255));
    Check(flipped);
  }
}


// ParseJsonTakingItem: the member is decoded straight into an Item exactly
// when ItemFromJson accepts its tree, and then to the same Item.
void CheckTaking(const std::string& body, const std::string& member) {
  std::optional<Item> taken;
  auto r = ParseJsonTakingItem(body, member, &taken);
  json lib;
  try {
    lib = json::parse(body);
  } catch (const json::exception&) {
    EXPECT_FALSE(r.ok()) << body;
    EXPECT_FALSE(taken.has_value()) << body;
    return;
  }
  ASSERT_TRUE(r.ok()) << body;
  std::optional<Item> expected;
  if (lib.is_object() && lib.contains(member) && lib[member].is_object()) {
    auto item = ItemFromJson(lib[member]);
    if (item.ok()) expected = *item;
  }
  if (taken.has_value()) {
    ASSERT_TRUE(expected.has_value()) << "took what ItemFromJson refuses: " << body;
    EXPECT_EQ(*taken, *expected) << body;
    json rest = lib;
    rest[member] = json::object();
    ExpectSameTree(*r, rest, body);
  } else {
    ExpectSameTree(*r, lib, body);
  }
}

TEST(JsonReaderTest, TakingTheItemMatchesItemFromJson) {
  for (uint64_t seed = 1; seed <= 1500; ++seed) {
    testing::RandomValues r(seed);
    const Item item = r.AnyItem(3);
    std::string text;
    AppendItemJson(item, &text);
    const std::string body = R"({"TableName":"t","ReturnValues":"NONE","Item":)" + text + "}";
    std::optional<Item> taken;
    auto parsed = ParseJsonTakingItem(body, "Item", &taken);
    ASSERT_TRUE(parsed.ok());
    ASSERT_TRUE(taken.has_value()) << "seed " << seed << ": " << body;
    EXPECT_EQ(*taken, item) << "seed " << seed;
    CheckTaking(body, "Item");
    CheckTaking(" {\n \"Item\" : " + ItemToJson(item).dump(2, ' ', true) + " , \"TableName\":\"t\"}", "Item");
    // Cut short or with a byte changed: taken only when still acceptable.
    const size_t cut = static_cast<size_t>(r.Int(0, static_cast<int64_t>(body.size()) - 1));
    CheckTaking(body.substr(0, cut), "Item");
    std::string flipped = body;
    flipped[cut] = static_cast<char>(r.Int(0, 255));
    CheckTaking(flipped, "Item");
  }
}

TEST(JsonReaderTest, TakingLeavesEveryRefusedItemToTheTree) {
  const std::vector<std::string> members = {
      R"({"a":{"N":"x"}})", R"({"a":{"N":1}})", R"({"a":{"S":"x","N":"1"}})", R"({"a":{}})",
      R"({"a":{"NULL":false}})", R"({"a":{"BOOL":"true"}})", R"({"a":{"B":"!!"}})", R"({"a":{"X":"1"}})",
      R"({"a":{"SS":["x",1]}})", R"({"a":{"NS":["1","y"]}})", R"({"a":{"BS":["Zm9v","?"]}})",
      R"({"a":{"M":{"b":{"N":"1e999"}}}})", R"({"a":{"L":[{"S":"x"},{"Q":"y"}]}})", R"({"a":"x"})",
      R"({"a":{"S":"1"},"a":{"S":"2"}})", R"({"a":{"N":"123456789012345678901234567890123456789"}})",
      R"([])", R"("x")", R"({"a":{"S":"x"}} )", R"({"a":{"S":"é"},"b":{"SS":[]},"c":{"M":{}}})",
      R"({"a":{"NULL":true},"b":{"BOOL":false},"c":{"L":[]},"d":{"B":""},"e":{"NS":["-0"]}})",
  };
  for (const std::string& m : members) {
    CheckTaking(R"({"TableName":"t","Item":)" + m + "}", "Item");
    CheckTaking(R"({"Key":)" + m + R"(,"Item":{"x":{"S":"y"}}})", "Key");
  }
  // Nesting: 32 levels are an item, 33 are not (limits::kNestingDepthMax).
  for (int depth : {31, 32, 33}) {
    std::string v = R"({"S":"leaf"})";
    for (int i = 1; i < depth; ++i) v = R"({"L":[)" + v + "]}";
    CheckTaking(R"({"Item":{"deep":)" + v + "}}", "Item");
  }
  // The member repeated: the tree's rule applies.
  CheckTaking(R"({"Item":{"a":{"S":"1"}},"Item":{"a":{"S":"2"}}})", "Item");
  // Not an object: nothing taken, and the tree says what it is.
  CheckTaking(R"({"Item":null})", "Item");
  CheckTaking(R"({"Item":[{"S":"x"}]})", "Item");
}

}  // namespace
}  // namespace edgetable::item
