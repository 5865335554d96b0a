#include "gateway/access_token.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

// RFC 4231 section 4: HMAC-SHA256 test vectors (key, data, MAC).
TEST(AccessToken, Rfc4231KnownAnswers) {
    struct Case {
        const char* name;
        std::string key;
        std::string data;
        std::string mac;
    };
    const Case cases[] = {
        {"test case 1", std::string(20, '\x0b'), "Hi There",
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {"test case 2: key shorter than the output", "Jefe", "what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {"test case 3", std::string(20, '\xaa'), std::string(50, '\xdd'),
         "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {"test case 4",
         "\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d\x0e\x0f\x10\x11\x12\x13\x14\x15\x16"
         "\x17\x18\x19",
         std::string(50, '\xcd'),
         "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {"test case 6: key larger than the block", std::string(131, '\xaa'),
         "Test Using Larger Than Block-Size Key - Hash Key First",
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {"test case 7: key and data larger than the block", std::string(131, '\xaa'),
         "This is a test using a larger than block-size key and a larger than block-size data. "
         "The key needs to be hashed before being used by the HMAC algorithm.",
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (const Case& c : cases) {
        SCOPED_TRACE(c.name);
        EXPECT_EQ(access_token(c.key, c.data), c.mac);
        EXPECT_TRUE(token_grants(c.key, c.data, c.mac));
    }
    // Test case 5 gives only the first 128 bits (truncated output).
    EXPECT_EQ(access_token(std::string(20, '\x0c'), "Test With Truncation").substr(0, 32),
              "a3b6167473100ee06e0c796c2955552b");
}

// Computed with `printf '%s' PROJECT | openssl dgst -sha256 -hmac SECRET`, i.e. the
// command an operator can use to check a token by hand.
TEST(AccessToken, MatchesOpensslDgst) {
    EXPECT_EQ(access_token("s3cret", "demo"),
              "cef80a7f3d9c9c74e59ae94e34cd873695e4122c4fbf0c418d5873d2da3eaa7e");
    EXPECT_EQ(access_token("s3cret", "4c8a7e42-6b0f-4b8e-9c1e-2f6a3d5b7e90"),
              "175d36cc96516c5299d7b83b99e8fe0f1f73659aab33d601095d25e43dbbd339");
    EXPECT_EQ(access_token("s3cret", "a"),
              "867f0987c003fefc53050cb183cab08542541d365bd4b3e7b2b114744c2a9001");
    EXPECT_EQ(access_token("another secret", "demo"),
              "85548cfe37d0004f9a50931cf7d33dcafccb75aa731f5f0d69ba8dfe41bcb85c");
    EXPECT_EQ(access_token("s3cret", ""),
              "91dfac70c5348b04e1babb8b421ac92cec08b565b49ca16130dccb72503647b7");
}

TEST(AccessToken, IsLowercaseHexOf32Bytes) {
    for (const std::string& project :
         {std::string("demo"), std::string("x"), std::string(128, 'p')}) {
        const std::string token = access_token("secret", project);
        ASSERT_EQ(token.size(), 64U);
        for (const char c : token) {
            EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << token;
        }
    }
}

TEST(AccessToken, EmptyInputsWork) {
    // Empty string_views (null data()) must not reach OpenSSL as null pointers.
    EXPECT_EQ(access_token(std::string_view{}, std::string_view{}),
              access_token(std::string(), std::string()));
    EXPECT_EQ(access_token(std::string_view{}, "demo").size(), 64U);
}

TEST(AccessToken, GrantsOnlyItsProjectWithItsSecret) {
    const std::string token = access_token("s3cret", "demo");
    EXPECT_TRUE(token_grants("s3cret", "demo", token));
    EXPECT_FALSE(token_grants("s3cret", "demo2", token));
    EXPECT_FALSE(token_grants("s3cret", "Demo", token));
    EXPECT_FALSE(token_grants("s3cret!", "demo", token));
    EXPECT_FALSE(token_grants("", "demo", token));
}

TEST(AccessToken, RejectsAlteredTokens) {
    const std::string token = access_token("s3cret", "demo");
    std::string upper = token;
    for (char& c : upper) {
        if (c >= 'a' && c <= 'f') {
            c = static_cast<char>(c - 'a' + 'A');
        }
    }
    std::string last_changed = token;
    last_changed.back() = last_changed.back() == '0' ? '1' : '0';
    std::string first_changed = token;
    first_changed.front() = first_changed.front() == '0' ? '1' : '0';
    const std::string altered[] = {
        "",
        token.substr(0, 63),
        token.substr(0, 32),
        token + "0",
        token + std::string(1, '\0'),
        upper,
        last_changed,
        first_changed,
        std::string(64, '0'),
        std::string(64, '\0'),
    };
    for (const std::string& presented : altered) {
        SCOPED_TRACE(presented);
        EXPECT_FALSE(token_grants("s3cret", "demo", presented));
    }
}

}  // namespace
}  // namespace bscd
