#include "edge/net/crypto.h"

#include <gtest/gtest.h>

#include <set>
#include <string>

namespace edgetable::net::crypto {
namespace {

TEST(Sha256Test, FipsVectors) {
  EXPECT_EQ(HexEncode(Sha256("")), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HexEncode(Sha256("abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(HexEncode(Sha256("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  EXPECT_EQ(HexEncode(Sha256(std::string(1'000'000, 'a'))),
            "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST(HmacSha256Test, Rfc4231Vectors) {
  // Test case 1
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\x0b'), "Hi There")),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block
  EXPECT_EQ(HexEncode(HmacSha256("Jefe", "what do ya want for nothing?")),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 3
  EXPECT_EQ(HexEncode(HmacSha256(std::string(20, '\xaa'), std::string(50, '\xdd'))),
            "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test case 6: a key longer than the block is hashed first
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'), "Test Using Larger Than Block-Size Key - Hash Key First")),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7
  EXPECT_EQ(HexEncode(HmacSha256(std::string(131, '\xaa'),
                                 "This is a test using a larger than block-size key and a larger than block-size "
                                 "data. The key needs to be hashed before being used by the HMAC algorithm.")),
            "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST(HmacSha256Test, ChainsOnRawDigestBytes) {
  // SigV4 keys each step with the previous step's raw digest.
  Sha256Digest first = HmacSha256("AWS4secret", "20150830");
  std::string raw = DigestBytes(first);
  ASSERT_EQ(raw.size(), 32u);
  EXPECT_EQ(HexEncode(raw), HexEncode(first));
  EXPECT_EQ(HmacSha256(raw, "us-east-1"), HmacSha256(DigestBytes(first), "us-east-1"));
  EXPECT_NE(HmacSha256(raw, "us-east-1"), HmacSha256(raw, "us-west-2"));
}

TEST(HexTest, RoundTripAndErrors) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  std::string hex = HexEncode(all);
  EXPECT_EQ(hex.substr(0, 8), "00010203");
  EXPECT_EQ(hex.substr(hex.size() - 4), "feff");
  auto back = HexDecode(hex);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(*back, all);
  auto upper = HexDecode("DEADbeef");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(*upper, std::string("\xde\xad\xbe\xef"));

  auto odd = HexDecode("abc");
  ASSERT_FALSE(odd.ok());
  EXPECT_EQ(odd.status().code(), Status::Code::kInvalidArgument);
  auto bad = HexDecode("00zz");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("offset 2"), std::string::npos) << bad.status().ToString();
}

TEST(ConstantTimeEqualTest, ComparesContentAndLength) {
  EXPECT_TRUE(ConstantTimeEqual("", ""));
  EXPECT_TRUE(ConstantTimeEqual("abc", "abc"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEqual("abc", "abcd"));
  EXPECT_FALSE(ConstantTimeEqual(std::string("a\0b", 3), std::string("a\0c", 3)));
}

TEST(RandomBytesTest, LengthAndVariety) {
  auto zero = RandomBytes(0);
  ASSERT_TRUE(zero.ok());
  EXPECT_TRUE(zero->empty());
  std::set<std::string> seen;
  for (int i = 0; i < 64; ++i) {
    auto r = RandomBytes(16);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 16u);
    seen.insert(*r);
  }
  EXPECT_EQ(seen.size(), 64u);  // 128-bit values do not repeat
  auto big = RandomBytes(100'000);  // more than one DRBG request
  ASSERT_TRUE(big.ok());
  int zeros = 0;
  for (char c : *big) zeros += c == 0;
  EXPECT_LT(zeros, 1000);  // expected ~390
}

}  // namespace
}  // namespace edgetable::net::crypto
