#include "edge/item/validate.h"

#include <string>

#include <gtest/gtest.h>

#include "edge/base/limits.h"
#include "edge/item/json.h"

namespace edgetable::item {
namespace {

Number N(std::string_view t) { return Number::Parse(t).value(); }

bool Contains(const Status& s, std::string_view what) {
  return s.message().find(what) != std::string::npos;
}

const KeySchema kSchema{{"device", Type::kS}, KeyAttribute{"ts", Type::kN}};

Item Base() { return {{"device", Value::S("d1")}, {"ts", Value::N(N("1700000000000"))}}; }

TEST(ValidateTest, EmptySetsRejected) {
  Status ss = ValidateValue(Value::SS({}), "tags");
  EXPECT_EQ(ss.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(ss, "One or more parameter values were invalid: An string set  may not be empty"));
  EXPECT_TRUE(Contains(ss, "tags"));
  EXPECT_TRUE(Contains(ValidateValue(Value::NS({}), "n"), "An number set  may not be empty"));
  EXPECT_TRUE(Contains(ValidateValue(Value::BS({}), "b"), "Binary sets should not be empty"));
}

TEST(ValidateTest, DuplicatesRejected) {
  Status ss = ValidateValue(Value::SS({"a", "a"}), "tags");
  EXPECT_TRUE(Contains(ss, "Input collection [a, a] contains duplicates.")) << ss.message();
  Status ns = ValidateValue(Value::NS({N("1"), N("1.0")}), "n");
  EXPECT_TRUE(Contains(ns, "contains duplicates")) << "numerically equal: " << ns.message();
  Status bs = ValidateValue(Value::BS({"b", "b"}), "b");
  EXPECT_TRUE(Contains(bs, "[Yg==, Yg==]of type BS contains duplicates.")) << bs.message();
  EXPECT_TRUE(ValidateValue(Value::SS({"a", "b"}), "x").ok());
  EXPECT_TRUE(ValidateValue(Value::NS({N("1"), N("1.5")}), "x").ok());
}

TEST(ValidateTest, EmptyStringsAllowedOutsideKeys) {
  Item item = Base();
  item["note"] = Value::S("");
  item["blob"] = Value::B("");
  EXPECT_TRUE(ValidateItem(item, kSchema).ok());
}

TEST(ValidateTest, NestedErrorsNameThePath) {
  Value v = Value::M({{"a", Value::L({Value::Null(), Value::SS({})})}});
  Status s = ValidateValue(v, "doc");
  EXPECT_TRUE(Contains(s, "doc.a[1]")) << s.message();
}

Value Nest(int wraps) {
  Value v = Value::S("leaf");
  for (int i = 0; i < wraps; ++i) v = Value::M({{"n", std::move(v)}});
  return v;
}

TEST(ValidateTest, NestingLimit) {
  // DynamoDB: the attribute is level 1; 31 maps around a scalar put it at
  // level 32 (accepted); 32 maps put it at 33 (rejected).
  EXPECT_TRUE(ValidateValue(Nest(31), "data").ok());
  Status s = ValidateValue(Nest(32), "data");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "Nesting Levels have exceeded supported limits")) << s.message();
  Value l = Value::S("x");
  for (int i = 0; i < 32; ++i) l = Value::L({std::move(l)});
  EXPECT_FALSE(ValidateValue(l, "list").ok());
  Item item = Base();
  item["data"] = Nest(32);
  EXPECT_FALSE(ValidateItem(item, kSchema).ok());
}

// Sizes: DynamoDB developer guide "Item sizes and formats".
TEST(ValidateTest, SizeRulesFromTheDeveloperGuide) {
  // String: name bytes + UTF-8 bytes.
  EXPECT_EQ(AttributeSize("id", Value::S("abc")), 5);
  EXPECT_EQ(AttributeSize("n\xc3\xa9", Value::S("\xc3\xa9")), 5) << "UTF-8 bytes, not characters";
  // Binary: name + raw bytes (not base64 length).
  EXPECT_EQ(AttributeSize("b", Value::B(std::string(10, 'x'))), 11);
  // Null / Boolean: name + 1.
  EXPECT_EQ(AttributeSize("flag", Value::Bool(true)), 5);
  EXPECT_EQ(AttributeSize("none", Value::Null()), 5);
  // Empty List or Map: name + 3.
  EXPECT_EQ(AttributeSize("m", Value::M({})), 4);
  EXPECT_EQ(AttributeSize("l", Value::L({})), 4);
  // List or Map: name + 3 + per element (1 + size); map element names count.
  EXPECT_EQ(AttributeSize("l", Value::L({Value::S("ab"), Value::Bool(false)})), 1 + 3 + 3 + 2);
  EXPECT_EQ(AttributeSize("m", Value::M({{"k", Value::S("ab")}})), 1 + 3 + 1 + 1 + 2);
  // Numbers: about 1 byte per two significant digits + 1; leading and
  // trailing zeros trimmed.
  EXPECT_EQ(NumberSize(N("0")), 1);
  EXPECT_EQ(NumberSize(N("7")), 2);
  EXPECT_EQ(NumberSize(N("27")), 2);
  EXPECT_EQ(NumberSize(N("2099")), 3);
  EXPECT_EQ(NumberSize(N("123")), 3);
  EXPECT_EQ(NumberSize(N("1230000")), 3) << "trailing zeros trimmed";
  EXPECT_EQ(NumberSize(N("0.00123")), 3) << "leading zeros trimmed";
  EXPECT_EQ(NumberSize(N("1.2")), 3) << "pairs straddle the base-100 digits";
  EXPECT_EQ(NumberSize(N("-7")), 3) << "negative numbers take one byte more";
  EXPECT_EQ(NumberSize(N(std::string(38, '9'))), 20);
  // Sets: the sum of their elements.
  EXPECT_EQ(AttributeSize("ss", Value::SS({"a", "bc"})), 2 + 3);
  EXPECT_EQ(AttributeSize("ns", Value::NS({N("1"), N("27")})), 2 + 2 + 2);
}

// Worked examples published with DynamoDB size calculators that follow the
// developer guide's rules (ddbitemsizer README: 141 bytes; dyno-item-size
// README: 32 bytes).
TEST(ValidateTest, SizeWorkedExamples) {
  auto item = ItemFromJson(nlohmann::json::parse(R"({
    "itemType": {"S": "SLOT"}, "id": {"S": "abc1231"}, "hostName": {"S": "Harry Mason"},
    "timeSlot": {"S": "February 23, 1999"}, "slotStatus": {"S": "OPEN"},
    "createdAt": {"S": "February 1, 1999"}, "updatedAt": {"S": "February 1, 1999"},
    "expiresAt": {"N": "2099"}})"));
  ASSERT_TRUE(item.ok());
  EXPECT_EQ(ItemSize(*item), 141);
  Item small{{"string", Value::S("string")}, {"number", Value::N(N("27"))},
             {"buffer", Value::B("buffer")}};
  EXPECT_EQ(ItemSize(small), 32);
}

TEST(ValidateTest, ItemSizeLimit) {
  Item item = Base();
  const int64_t base = ItemSize(item);
  item["payload"] = Value::B(std::string(static_cast<size_t>(limits::kItemBytesMax - base - 7), 'x'));
  EXPECT_EQ(ItemSize(item), limits::kItemBytesMax);
  EXPECT_TRUE(ValidateItem(item, kSchema).ok());
  item["z"] = Value::Null();  // 2 bytes more
  Status s = ValidateItem(item, kSchema);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_TRUE(Contains(s, "Item size has exceeded the maximum allowed size"));
}

TEST(ValidateTest, KeyRules) {
  Item missing{{"ts", Value::N(N("1"))}};
  Status s = ValidateItem(missing, kSchema);
  EXPECT_TRUE(Contains(s, "One or more parameter values were invalid: Missing the key device in the item"))
      << s.message();
  Item mismatch = Base();
  mismatch["ts"] = Value::S("yesterday");
  s = ValidateItem(mismatch, kSchema);
  EXPECT_TRUE(Contains(s, "Type mismatch for key ts expected: N actual: S")) << s.message();
  Item empty = Base();
  empty["device"] = Value::S("");
  s = ValidateItem(empty, kSchema);
  EXPECT_TRUE(Contains(s, "cannot contain an empty string value. Key: device")) << s.message();
  Item long_key = Base();
  long_key["device"] = Value::S(std::string(2049, 'd'));
  s = ValidateItem(long_key, kSchema);
  EXPECT_TRUE(Contains(s, "Size of hashkey has exceeded the maximum size limit of2048 bytes"))
      << s.message();
  long_key["device"] = Value::S(std::string(2048, 'd'));
  EXPECT_TRUE(ValidateItem(long_key, kSchema).ok());
  const KeySchema sorted_by_name{{"device", Type::kS}, KeyAttribute{"name", Type::kS}};
  Item long_sort{{"device", Value::S("d")}, {"name", Value::S(std::string(1025, 'n'))}};
  s = ValidateItem(long_sort, sorted_by_name);
  EXPECT_TRUE(Contains(s, "Aggregated size of all range keys has exceeded the size limit of 1024 bytes"))
      << s.message();
  long_sort["name"] = Value::S(std::string(1024, 'n'));
  EXPECT_TRUE(ValidateItem(long_sort, sorted_by_name).ok());
}

}  // namespace
}  // namespace edgetable::item
