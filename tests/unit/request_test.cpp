#include "core/request.hpp"

#include <cstdio>
#include <ostream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/line_framer.hpp"

namespace bscd {
namespace {

const Catalog& builtin() {
    return Catalog::builtin();
}

std::string kind_name(Request::Kind kind) {
    switch (kind) {
        case Request::Kind::Code:
            return "Code";
        case Request::Kind::Exit:
            return "Exit";
        case Request::Kind::Invalid:
            return "Invalid";
    }
    return "?";
}

// ---- valid requests --------------------------------------------------------

TEST(ParseRequest, EveryCodeValueOfTheBuiltinCatalog) {
    for (const StatusCode& code : builtin().codes()) {
        const std::string text = std::to_string(code.value);
        SCOPED_TRACE(text);
        const Request r = parse_request(text, builtin());
        EXPECT_EQ(r.kind, Request::Kind::Code);
        EXPECT_EQ(r.code, &code);
        EXPECT_EQ(r.error, "");
    }
}

TEST(ParseRequest, EveryCodeNameOfTheBuiltinCatalog) {
    for (const StatusCode& code : builtin().codes()) {
        SCOPED_TRACE(code.name);
        const Request r = parse_request(code.name, builtin());
        EXPECT_EQ(r.kind, Request::Kind::Code);
        EXPECT_EQ(r.code, &code);
        EXPECT_EQ(r.error, "");
    }
}

TEST(ParseRequest, OneTrailingCarriageReturnIsIgnored) {
    for (const StatusCode& code : builtin().codes()) {
        EXPECT_EQ(parse_request(std::to_string(code.value) + "\r", builtin()).code, &code);
        EXPECT_EQ(parse_request(code.name + "\r", builtin()).code, &code);
    }
    EXPECT_EQ(parse_request("EXIT\r", builtin()).kind, Request::Kind::Exit);
}

TEST(ParseRequest, Exit) {
    const Request r = parse_request("EXIT", builtin());
    EXPECT_EQ(r.kind, Request::Kind::Exit);
    EXPECT_EQ(r.code, nullptr);
    EXPECT_EQ(r.error, "");
}

TEST(ParseRequest, LeadingZerosAreDecimal) {
    const StatusCode* ten = builtin().find(10);
    EXPECT_EQ(parse_request("010", builtin()).code, ten);  // not octal 8
    EXPECT_EQ(parse_request("000000010", builtin()).code, ten);
    EXPECT_EQ(parse_request("0082", builtin()).code, builtin().find(82));
    EXPECT_EQ(parse_request("01000", builtin()).code, builtin().find(1000));
}

TEST(ParseRequest, UsesTheGivenCatalog) {
    const Catalog mine = Catalog::parse("ALPHA=7 # first\nOMEGA=999999999\n", "mine");
    EXPECT_EQ(parse_request("7", mine).code, mine.find(7));
    EXPECT_EQ(parse_request("ALPHA", mine).code, mine.find(7));
    EXPECT_EQ(parse_request("999999999", mine).code, mine.find(999999999));
    EXPECT_EQ(parse_request("10", mine).error, "unknown code 10");
    EXPECT_EQ(parse_request("SYNCED_CODE", mine).error, "unknown code name SYNCED_CODE");
}

TEST(ParseRequest, MaxLengthRequestIsParsed) {
    const std::string padded = std::string(max_request_length - 2, '0') + "10";
    ASSERT_EQ(padded.size(), max_request_length);
    // 256 digits: well-formed, but more than any value has.
    EXPECT_EQ(parse_request(padded, builtin()).error.rfind("unknown code 000", 0), 0u);

    const std::string name(max_request_length, 'N');
    EXPECT_EQ(parse_request(name, builtin()).error.rfind("unknown code name NNN", 0), 0u);
}

// ---- invalid requests ------------------------------------------------------

struct BadCase {
    const char* label;
    std::string text;
    std::string error;
};

// The value gtest (and so ctest's test name) shows: the label, not the
// object's bytes, which hold pointers and change from run to run.
void PrintTo(const BadCase& c, std::ostream* out) {
    *out << c.label;
}

class ParseBadRequest : public ::testing::TestWithParam<BadCase> {};

TEST_P(ParseBadRequest, IsInvalidWithItsReason) {
    const BadCase& c = GetParam();
    const Request r = parse_request(c.text, builtin());
    EXPECT_EQ(kind_name(r.kind), "Invalid");
    EXPECT_EQ(r.code, nullptr);
    EXPECT_EQ(r.error, c.error);
}

std::string bytes(const char* data, std::size_t size) {
    return std::string(data, size);
}

const BadCase bad_cases[] = {
    // empty
    {"empty", "", "empty request"},
    {"only_cr", "\r", "empty request"},
    // unknown values and names
    {"unknown_value", "11", "unknown code 11"},
    {"zero", "0", "unknown code 0"},
    {"unknown_padded", "0011", "unknown code 0011"},
    {"nine_digits", "999999999", "unknown code 999999999"},
    {"ten_digits", "1000000000", "unknown code 1000000000"},
    {"eleven_digits", "99999999999", "unknown code 99999999999"},
    {"padded_known_too_many_digits", "0000000010", "unknown code 0000000010"},
    {"digits_overflowing_uint64", "123456789012345678901234567890",
     "unknown code 123456789012345678901234567890"},
    {"very_long_number", std::string(100, '9'), "unknown code " + std::string(40, '9') + "..."},
    {"unknown_name", "NO_SUCH_CODE", "unknown code name NO_SUCH_CODE"},
    {"lowercase_name", "synced_code", "unknown code name synced_code"},
    {"mixed_case_name", "Synced_Code", "unknown code name Synced_Code"},
    {"lowercase_exit", "exit", "unknown code name exit"},
    {"exit_prefix", "EXITS", "unknown code name EXITS"},
    {"underscore", "_", "unknown code name _"},
    {"name_with_digit_suffix", "SYNCED_CODE2", "unknown code name SYNCED_CODE2"},
    // not a request at all
    {"minus_one", "-1", "not a request: -1"},
    {"plus_ten", "+10", "not a request: +10"},
    {"leading_space", " 10", "not a request:  10"},
    {"trailing_space", "10 ", "not a request: 10 "},
    {"inner_space", "1 0", "not a request: 1 0"},
    {"only_spaces", "   ", "not a request:    "},
    {"tab", "10\t", "not a request: 10\\x09"},
    {"leading_tab", "\t10", "not a request: \\x0910"},
    {"name_with_space", "SYNCED_CODE ", "not a request: SYNCED_CODE "},
    {"exit_with_space", "EXIT ", "not a request: EXIT "},
    {"name_with_equals", "SYNCED_CODE=82", "not a request: SYNCED_CODE=82"},
    {"assignment_only", "=82", "not a request: =82"},
    {"name_starting_with_digit", "1SYNCED", "not a request: 1SYNCED"},
    {"dash_in_name", "SYNCED-CODE", "not a request: SYNCED-CODE"},
    {"hex", "0x0a", "not a request: 0x0a"},
    {"decimal_point", "10.0", "not a request: 10.0"},
    {"two_requests", "10 20", "not a request: 10 20"},
    {"newline_inside", "10\n20", "not a request: 10\\x0a20"},
    {"two_carriage_returns", "10\r\r", "not a request: 10\\x0d"},
    {"cr_inside", "1\r0", "not a request: 1\\x0d0"},
    {"backslash", "a\\b", "not a request: a\\b"},
    {"nul_only", bytes("\0", 1), "not a request: \\x00"},
    {"nul_after_code", bytes("10\0", 3), "not a request: 10\\x00"},
    {"nul_inside_name", bytes("SYNCED\0CODE", 11), "not a request: SYNCED\\x00CODE"},
    {"high_bytes", "\xff\xfe", "not a request: \\xff\\xfe"},
    {"utf8_name",
     "SYNC\xc3\x89"
     "D",
     "not a request: SYNC\\xc3\\x89D"},
    {"control_chars", "\x1b[31m", "not a request: \\x1b[31m"},
    {"delete_char", "10\x7f", "not a request: 10\\x7f"},
    {"http", "GET / HTTP/1.1", "not a request: GET / HTTP/1.1"},
    // too long (parse_request applies the limit itself, too)
    {"too_long_digits", std::string(max_request_length + 1, '1'), "request too long"},
    {"ten_kilobytes", std::string(std::size_t{10} * 1024, 'x'), "request too long"},
};

INSTANTIATE_TEST_SUITE_P(AllClasses, ParseBadRequest, ::testing::ValuesIn(bad_cases),
                         [](const auto& param_info) {
                             return std::string(param_info.param.label);
                         });

TEST(ParseRequest, TooLongRequest) {
    const Request r = too_long_request();
    EXPECT_EQ(r.kind, Request::Kind::Invalid);
    EXPECT_EQ(r.code, nullptr);
    EXPECT_EQ(r.error, "request too long");
}

// Whatever the bytes, the reason is one printable line of bounded length.
void expect_safe_reason(const Request& r) {
    ASSERT_EQ(r.kind, Request::Kind::Invalid);
    EXPECT_FALSE(r.error.empty());
    EXPECT_LE(r.error.size(), 80u) << r.error;
    for (char c : r.error) {
        const auto byte = static_cast<unsigned char>(c);
        ASSERT_TRUE(byte >= 0x20 && byte <= 0x7e) << "raw byte " << int(byte) << " in reason";
    }
}

TEST(ParseRequest, RandomBinaryIsRejectedWithAPrintableReason) {
    std::mt19937 random(20261123);
    std::uniform_int_distribution<int> byte(0, 255);
    std::uniform_int_distribution<std::size_t> length(1, 300);
    int checked = 0;
    for (int i = 0; i < 2000; ++i) {
        std::string text(length(random), '\0');
        for (char& c : text) {
            c = static_cast<char>(byte(random));
        }
        text[text.size() / 2] = '\x80';  // surely binary, surely no code
        SCOPED_TRACE(printable(text));
        const Request r = parse_request(text, builtin());
        expect_safe_reason(r);
        if (text.size() <= max_request_length) {
            EXPECT_EQ(r.error.rfind("not a request: ", 0), 0u) << r.error;
        } else {
            EXPECT_EQ(r.error, "request too long");
        }
        ++checked;
    }
    EXPECT_EQ(checked, 2000);
}

TEST(ParseRequest, EveryBadCaseHasASafeReason) {
    for (const BadCase& c : bad_cases) {
        SCOPED_TRACE(c.label);
        expect_safe_reason(parse_request(c.text, builtin()));
    }
}

// ---- through the framer, as the server sees them ---------------------------

std::vector<Request> requests_of(const std::string& stream) {
    LineFramer framer(max_request_length);
    std::vector<Request> requests;
    const auto handle = [&](const Frame& f) {
        requests.push_back(f.too_long ? too_long_request() : parse_request(f.text, builtin()));
    };
    framer.feed(stream, handle);
    if (auto f = framer.finish()) {
        handle(*f);
    }
    return requests;
}

TEST(ParseRequest, ThroughTheFramer) {
    const std::string ten_kb(std::size_t{10} * 1024, '7');
    const auto requests =
        requests_of("10\r\nSYNCED_CODE\n\n" + ten_kb + "\n-1\n" + std::string("\0\n", 2) + "1000");
    ASSERT_EQ(requests.size(), 7u);
    EXPECT_EQ(requests[0].code, builtin().find(10));
    EXPECT_EQ(requests[1].code, builtin().find(82));
    EXPECT_EQ(requests[2].error, "empty request");
    EXPECT_EQ(requests[3].error, "request too long");
    EXPECT_EQ(requests[4].error, "not a request: -1");
    EXPECT_EQ(requests[5].error, "not a request: \\x00");
    EXPECT_EQ(requests[6].code, builtin().find(1000));
}

TEST(ParseRequest, PiemanClientThroughTheFramer) {
    const auto requests = requests_of("10");
    ASSERT_EQ(requests.size(), 1u);
    EXPECT_EQ(requests[0].kind, Request::Kind::Code);
    EXPECT_EQ(requests[0].code->value, 10);
}

TEST(ParseRequest, ExitThroughTheFramer) {
    const auto requests = requests_of("82\nEXIT\n");
    ASSERT_EQ(requests.size(), 2u);
    EXPECT_EQ(requests[0].code, builtin().find(82));
    EXPECT_EQ(requests[1].kind, Request::Kind::Exit);
}

// ---- printable -------------------------------------------------------------

TEST(Printable, KeepsPrintableAscii) {
    std::string all;
    for (int c = 0x20; c <= 0x7e; ++c) {
        all += static_cast<char>(c);
    }
    EXPECT_EQ(printable(all, 1000), all);
    EXPECT_EQ(printable("a\\x00b"), "a\\x00b");  // a backslash is kept as is
}

TEST(Printable, EscapesOtherBytesAsLowercaseHex) {
    EXPECT_EQ(printable(std::string("\0", 1)), "\\x00");
    EXPECT_EQ(printable("\n"), "\\x0a");
    EXPECT_EQ(printable("\r"), "\\x0d");
    EXPECT_EQ(printable("\t"), "\\x09");
    EXPECT_EQ(printable("\x1f"), "\\x1f");
    EXPECT_EQ(printable("\x7f"), "\\x7f");
    EXPECT_EQ(printable("\x80"), "\\x80");
    EXPECT_EQ(printable("\xab"), "\\xab");
    EXPECT_EQ(printable("\xff"), "\\xff");
    EXPECT_EQ(printable("a\xc3\xa9z"), "a\\xc3\\xa9z");
}

TEST(Printable, EveryByteValue) {
    for (int b = 0; b < 256; ++b) {
        const std::string out = printable(std::string(1, static_cast<char>(b)));
        if (b >= 0x20 && b <= 0x7e) {
            EXPECT_EQ(out, std::string(1, static_cast<char>(b)));
        } else {
            char expected[5];
            (void)std::snprintf(expected, sizeof expected, "\\x%02x", b);
            EXPECT_EQ(out, expected);
        }
    }
}

TEST(Printable, EmptyStaysEmpty) {
    EXPECT_EQ(printable(""), "");
    EXPECT_EQ(printable("", 0), "");
}

TEST(Printable, CutsAtTheLimit) {
    EXPECT_EQ(printable(std::string(40, 'a')), std::string(40, 'a'));  // default limit 40
    EXPECT_EQ(printable(std::string(41, 'a')), std::string(40, 'a') + "...");
    EXPECT_EQ(printable("abcdef", 6), "abcdef");
    EXPECT_EQ(printable("abcdefg", 6), "abcdef...");
    EXPECT_EQ(printable("abc", 0), "...");
    EXPECT_EQ(printable(std::string(100000, 'z'), 10), std::string(10, 'z') + "...");
}

TEST(Printable, LimitCountsOutputCharactersAndNeverSplitsAnEscape) {
    EXPECT_EQ(printable("\x01\x02", 8), "\\x01\\x02");
    EXPECT_EQ(printable("\x01\x02\x03", 8), "\\x01\\x02...");
    EXPECT_EQ(printable("ab\x01", 5), "ab...");  // "\x01" would not fit whole
    EXPECT_EQ(printable("ab\x01", 6), "ab\\x01");
    EXPECT_EQ(printable("ab\x01z", 6), "ab\\x01...");
}

}  // namespace
}  // namespace bscd
