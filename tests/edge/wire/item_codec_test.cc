#include "edge/wire/item_codec.h"

#include <cstring>
#include <string>

#include <gtest/gtest.h>

#include "tests/edge/item/random_value.h"

namespace edgetable::wire {
namespace {

using item::Item;
using item::Number;
using item::Value;

Number N(std::string_view t) { return Number::Parse(t).value(); }

constexpr const char* kGolden =
    "100000004554493100000600080004000600000004000000050000006c010000e0000000b0000000500000000400"
    "0000b0feffff3c000000100000000c000a0009000000000004000c0000001000000000010a000c00000008000400"
    "0a0000000c0000000400000002000000313700000200000074730000f8feffff440000001800000014000c000b00"
    "00000000000000000000000004001400000008000000000000070200000010000000040000000100000062000000"
    "010000006100000004000000746167730000000008000e000400080008000000200000001400000000000e000800"
    "070000000000000006000e00000000000103020000006f6b000080ffffff740000001400000010000c000b000000"
    "00000000000004001000000008000000000000050100000004000000b0ffffff3c000000100000000c000c000b00"
    "0000000004000c000000100000000000000108000c000b00040008000000080000000000000102000000323500"
    "000100000076000000010000006d00000008000c000400080008000000200000000c000000080008000000040008"
    "000000040000000200000064310000060000006465766963650000";

Item EveryType() {
  return Item{
      {"s", Value::S("h\xc3\xa9llo")},
      {"empty_s", Value::S("")},
      {"n", Value::N(N("-1.5E-7"))},
      {"zero", Value::N(Number())},
      {"big", Value::N(N("9.9999999999999999999999999999999999999E+125"))},
      {"b", Value::B(std::string("\x00\x01\xff", 3))},
      {"empty_b", Value::B("")},
      {"t", Value::Bool(true)},
      {"f", Value::Bool(false)},
      {"z", Value::Null()},
      {"m", Value::M({{"x", Value::N(N("1"))}, {"", Value::S("empty name")}})},
      {"empty_m", Value::M({})},
      {"l", Value::L({Value::S("a"), Value::Null(), Value::L({})})},
      {"ss", Value::SS({"b", "a"})},
      {"ns", Value::NS({N("10"), N("-1"), N("0")})},
      {"bs", Value::BS({"\x01", std::string(1, '\0')})},
  };
}

Result<Item> RoundTrip(const Item& item) { return DecodeItem(EncodeItem(item)); }

TEST(ItemCodecTest, RoundTripsEveryType) {
  const Item item = EveryType();
  auto back = RoundTrip(item);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, item);
  EXPECT_EQ(back->at("n").n().ToString(), "-0.00000015");
  EXPECT_EQ(back->at("b").s(), std::string("\x00\x01\xff", 3));
  EXPECT_EQ(back->at("bs").strings()[0], std::string(1, '\0'));
  EXPECT_TRUE(RoundTrip(Item{}).ok());
}

TEST(ItemCodecTest, DeepNestingRoundTrips) {
  Value v = Value::S("leaf");
  for (int i = 0; i < 31; ++i) {
    v = (i % 2 == 0) ? Value::M({{"n", std::move(v)}}) : Value::L({std::move(v)});
  }
  Item item{{"deep", v}};
  auto back = RoundTrip(item);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, item);
  // One level more than DynamoDB stores is not a valid stored item.
  Item too_deep{{"deep", Value::L({v})}};
  auto r = RoundTrip(too_deep);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
}

TEST(ItemCodecTest, RandomItemsRoundTrip) {
  item::testing::RandomValues rnd(77);
  for (int i = 0; i < 3000; ++i) {
    const Item item = rnd.AnyItem(5);
    auto back = RoundTrip(item);
    ASSERT_TRUE(back.ok()) << "item " << i << ": " << back.status().ToString();
    ASSERT_EQ(*back, item) << "item " << i;
    ASSERT_EQ(EncodeItem(*back), EncodeItem(item)) << "item " << i;
  }
}

TEST(ItemCodecTest, EncodingIsDeterministic) {
  Item a;
  a.emplace("z", Value::N(N("1")));
  a.emplace("a", Value::SS({"y", "x"}));
  Item b;
  b.emplace("a", Value::SS({"x", "y"}));
  b.emplace("z", Value::N(N("1.0")));
  EXPECT_EQ(EncodeItem(a), EncodeItem(b));
  EXPECT_EQ(EncodeItem(EveryType()), EncodeItem(EveryType()));
}

// The bytes are part of the storage and sync formats: identical on every
// architecture (this test also runs under qemu for arm64/armhf). Changing
// them needs a migration.
TEST(ItemCodecTest, GoldenBytes) {
  const Item item{{"device", Value::S("d1")},
                  {"ts", Value::N(N("1700000000000"))},
                  {"ok", Value::Bool(true)},
                  {"tags", Value::SS({"b", "a"})},
                  {"m", Value::M({{"v", Value::N(N("-2.5"))}})}};
  const std::string bytes = EncodeItem(item);
  std::string hex;
  for (unsigned char c : bytes) {
    static const char* kHex = "0123456789abcdef";
    hex += kHex[c >> 4];
    hex += kHex[c & 15];
  }
  EXPECT_EQ(hex, kGolden);
}

TEST(ItemCodecTest, RejectsTruncatedBuffers) {
  const std::string bytes = EncodeItem(EveryType());
  size_t rejected = 0;
  for (size_t len = 0; len < bytes.size(); ++len) {
    auto r = DecodeItem(std::string_view(bytes).substr(0, len));
    if (r.ok()) {
      // Only alignment padding at the very end may go unnoticed, and then the
      // item is intact.
      ASSERT_GE(len + 4, bytes.size()) << "prefix of " << len << " bytes decoded";
      ASSERT_EQ(*r, EveryType());
      continue;
    }
    ASSERT_EQ(r.status().code(), Status::Code::kCorruption);
    ++rejected;
  }
  EXPECT_GE(rejected + 4, bytes.size());
}

TEST(ItemCodecTest, RejectsGarbage) {
  item::testing::RandomValues rnd(5);
  for (int i = 0; i < 2000; ++i) {
    const std::string junk = rnd.Bytes(0, 200);
    auto r = DecodeItem(junk);
    if (!r.ok()) {
      ASSERT_EQ(r.status().code(), Status::Code::kCorruption);
    }
  }
  EXPECT_FALSE(DecodeItem("").ok());
  EXPECT_FALSE(DecodeItem("ETI1").ok());
  EXPECT_FALSE(DecodeItem(std::string(64, '\0')).ok());
}

// Every single-bit flip either is rejected as corruption or decodes to a
// valid item (a flip inside a string's bytes is undetectable by design);
// never a crash, never a sanitizer report.
TEST(ItemCodecTest, BitFlipsNeverCrash) {
  const std::string good = EncodeItem(EveryType());
  int rejected = 0;
  for (size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      std::string bad = good;
      bad[i] = static_cast<char>(bad[i] ^ (1 << bit));
      auto r = DecodeItem(bad);
      if (!r.ok()) {
        ASSERT_EQ(r.status().code(), Status::Code::kCorruption);
        ++rejected;
      } else {
        // Whatever decoded must encode and decode again.
        auto again = DecodeItem(EncodeItem(*r));
        ASSERT_TRUE(again.ok());
        ASSERT_EQ(*again, *r);
      }
    }
  }
  EXPECT_GT(rejected, 0);
}

TEST(ItemCodecTest, DecodesFromUnalignedMemory) {
  const std::string bytes = EncodeItem(EveryType());
  std::string shifted = "x" + bytes;
  auto r = DecodeItem(std::string_view(shifted).substr(1));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, EveryType());
}

TEST(ItemCodecTest, RejectsOutOfOrderNames) {
  // Swap the two attribute offsets of a two-attribute item: the buffer stays
  // verifiable but is no longer canonical.
  const std::string bytes = EncodeItem(Item{{"a", Value::Null()}, {"b", Value::Null()}});
  // Find the attributes vector: uoffset length 2 followed by two offsets.
  bool swapped = false;
  for (size_t i = 0; i + 12 <= bytes.size() && !swapped; i += 4) {
    uint32_t len = 0;
    std::memcpy(&len, bytes.data() + i, 4);
    if (len != 2) continue;
    uint32_t o1 = 0;
    uint32_t o2 = 0;
    std::memcpy(&o1, bytes.data() + i + 4, 4);
    std::memcpy(&o2, bytes.data() + i + 8, 4);
    std::string bad = bytes;
    // Offsets are relative to their own position.
    const uint32_t n1 = o2 + 4;
    const uint32_t n2 = o1 - 4;
    std::memcpy(&bad[i + 4], &n1, 4);
    std::memcpy(&bad[i + 8], &n2, 4);
    auto r = DecodeItem(bad);
    if (r.ok()) continue;  // not the vector we were looking for
    EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
    if (r.status().message().find("not strictly sorted") != std::string::npos) swapped = true;
  }
  EXPECT_TRUE(swapped);
}

}  // namespace
}  // namespace edgetable::wire
