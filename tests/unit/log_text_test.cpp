#include "core/log_text.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

TEST(QuotedForLog, PrintableAsciiIsQuotedAsItIs) {
    EXPECT_EQ(quoted_for_log("https://ci.example:8080"), "\"https://ci.example:8080\"");
    EXPECT_EQ(quoted_for_log(""), "\"\"");
    EXPECT_EQ(quoted_for_log("a b~"), "\"a b~\"");
}

TEST(QuotedForLog, QuotesBackslashesControlsAndHighBytesAreEscaped) {
    EXPECT_EQ(quoted_for_log("say \"hi\""), R"("say \"hi\"")");
    EXPECT_EQ(quoted_for_log("C:\\x41"), R"("C:\\x41")");  // not to be read as the byte 0x41
    EXPECT_EQ(quoted_for_log("a\r\nINFO  forged"), R"("a\x0d\x0aINFO  forged")");
    EXPECT_EQ(quoted_for_log(std::string("\0\t\x1b[31m\x7f", 8)), R"("\x00\x09\x1b[31m\x7f")");
    EXPECT_EQ(quoted_for_log("\xff\xfe\xc3\xa9"), R"("\xff\xfe\xc3\xa9")");
}

TEST(QuotedForLog, LongTextIsCutAndSaysHowLongItWas) {
    EXPECT_EQ(quoted_for_log("abcdef", 3), R"("abc"...(6 bytes))");
    EXPECT_EQ(quoted_for_log("abc", 3), R"("abc")");
    // Never inside an escape: the escape that would not fit is left out.
    EXPECT_EQ(quoted_for_log("ab\xff", 5), R"("ab"...(3 bytes))");
    EXPECT_EQ(quoted_for_log("ab\xff", 6), R"("ab\xff")");
    EXPECT_EQ(quoted_for_log("a\"b", 2), R"("a"...(3 bytes))");

    // An 8 KiB Origin of high bytes: about 200 characters, all ASCII.
    const std::string origin = "http://" + std::string(8000, '\xff');
    const std::string quoted = quoted_for_log(origin);
    EXPECT_LE(quoted.size(), log_quote_limit + 20) << quoted;
    EXPECT_TRUE(quoted.starts_with(R"("http://\xff\xff)")) << quoted;
    EXPECT_TRUE(quoted.ends_with(R"(\xff"...(8007 bytes))")) << quoted;
    for (const char c : quoted) {
        EXPECT_TRUE(c >= 0x20 && c <= 0x7e) << quoted;
    }
}

}  // namespace
}  // namespace bscd
