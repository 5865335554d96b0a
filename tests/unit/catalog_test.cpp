#include "core/catalog.hpp"

#include <ostream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/request.hpp"

namespace bscd {
namespace {

// Parses `text` expecting a CatalogError; returns it (fails the test if none).
CatalogError parse_error(std::string_view text, const std::string& source = "codes.txt") {
    try {
        Catalog::parse(text, source);
    } catch (const CatalogError& e) {
        return e;
    }
    ADD_FAILURE() << "no CatalogError for:\n" << text;
    return CatalogError(source, 0, "none");
}

std::vector<int> values_of(const Catalog& catalog) {
    std::vector<int> values;
    for (const StatusCode& code : catalog.codes()) {
        values.push_back(code.value);
    }
    return values;
}

// ---- builtin ---------------------------------------------------------------

TEST(BuiltinCatalog, HasTheSixteenCodesOfTheDesignInFileOrder) {
    const Catalog& catalog = Catalog::builtin();
    EXPECT_EQ(values_of(catalog), (std::vector<int>{10, 20, 21, 30, 31, 32, 33, 40, 50, 60, 70, 80,
                                                    81, 82, 1000, 1001}));
}

TEST(BuiltinCatalog, NamesAndDescriptionsComeFromTheDataFile) {
    struct Expected {
        int value;
        const char* name;
        const char* description;
    };
    const Expected expected[] = {
        {10, "PREPARED_CHROOT_ENV_CODE", "chroot environment prepared (debootstrap or apk.static)"},
        {20, "SET_UP_LOCALE_CODE", "locale set up"},
        {21, "SET_UP_TIMEZONE_CODE", "time zone set up"},
        {30, "UPDATED_CODE", "package indexes updated"},
        {31, "INSTALLED_PACKAGES_CODE", "packages from INCLUDES installed"},
        {32, "UPGRADED_CODE", "operating system upgraded"},
        {33, "INSTALLED_KERNEL_CODE", "kernel installed"},
        {40, "PREPARED_BOOT_PARTITION_CODE", "boot partition prepared"},
        {50, "DONE_WITH_NETWORKING_CODE", "networking configured"},
        {60, "DONE_WITH_USERS_CODE", "users configured"},
        {70, "DONE_WITH_CLEAN_UP_CODE", "caches and indexes removed"},
        {80, "CREATED_IMAGE_CODE", "target image file created"},
        {81, "FORMATTED_PARTITION_CODE", "partitions formatted"},
        {82, "SYNCED_CODE", "chroot synced into the root partition"},
        {1000, "SUCCESSFUL_CODE", "build succeeded"},
        {1001, "FAILED_CODE", "build failed"},
    };
    const auto codes = Catalog::builtin().codes();
    ASSERT_EQ(codes.size(), std::size(expected));
    for (std::size_t i = 0; i < codes.size(); ++i) {
        SCOPED_TRACE(expected[i].name);
        EXPECT_EQ(codes[i].value, expected[i].value);
        EXPECT_EQ(codes[i].name, expected[i].name);
        EXPECT_EQ(codes[i].description, expected[i].description);
    }
}

TEST(BuiltinCatalog, IsOneObject) {
    EXPECT_EQ(&Catalog::builtin(), &Catalog::builtin());
}

TEST(BuiltinCatalog, EmbeddedTextIsTheDataFile) {
    EXPECT_NE(builtin_catalog_text().find("SYNCED_CODE=82"), std::string_view::npos);
    EXPECT_EQ(values_of(Catalog::parse(builtin_catalog_text(), "x")),
              values_of(Catalog::builtin()));
}

TEST(BuiltinCatalog, PositionIsCatalogOrder) {
    const Catalog& catalog = Catalog::builtin();
    const auto codes = catalog.codes();
    for (std::size_t i = 0; i < codes.size(); ++i) {
        EXPECT_EQ(catalog.position(codes[i].value), i) << codes[i].name;
    }
    EXPECT_EQ(catalog.position(10), 0u);
    EXPECT_EQ(catalog.position(82), 13u);
    EXPECT_EQ(catalog.position(1001), 15u);
    EXPECT_EQ(catalog.position(11), std::nullopt);
    EXPECT_EQ(catalog.position(0), std::nullopt);
    EXPECT_EQ(catalog.position(-10), std::nullopt);
}

TEST(BuiltinCatalog, FindByValueAndByName) {
    const Catalog& catalog = Catalog::builtin();
    for (const StatusCode& code : catalog.codes()) {
        EXPECT_EQ(catalog.find(code.value), &code);
        EXPECT_EQ(catalog.find(code.name), &code);
    }
    EXPECT_EQ(catalog.find(11), nullptr);
    EXPECT_EQ(catalog.find(std::string_view("NO_SUCH_CODE")), nullptr);
    EXPECT_EQ(catalog.find(std::string_view("synced_code")), nullptr);
    EXPECT_EQ(catalog.find(std::string_view("SYNCED_CODE ")), nullptr);
    EXPECT_EQ(catalog.find(std::string_view("")), nullptr);
}

TEST(BuiltinCatalog, FinalAndSuccess) {
    const Catalog& catalog = Catalog::builtin();
    for (const StatusCode& code : catalog.codes()) {
        SCOPED_TRACE(code.name);
        EXPECT_EQ(code.is_final(), code.value == 1000 || code.value == 1001);
        EXPECT_EQ(code.is_success(), code.value == 1000);
    }
    EXPECT_TRUE(catalog.find(1000)->is_success());
    EXPECT_TRUE(catalog.find(1001)->is_final());
    EXPECT_FALSE(catalog.find(1001)->is_success());
    EXPECT_FALSE(catalog.find(82)->is_final());
}

TEST(StatusCode, FinalFromOneThousandUp) {
    EXPECT_FALSE((StatusCode{999, "A", ""}.is_final()));
    EXPECT_TRUE((StatusCode{1000, "A", ""}.is_final()));
    EXPECT_TRUE((StatusCode{1002, "A", ""}.is_final()));
    EXPECT_FALSE((StatusCode{1002, "A", ""}.is_success()));
    EXPECT_FALSE((StatusCode{0, "A", ""}.is_success()));
}

// ---- parse: valid text -----------------------------------------------------

TEST(CatalogParse, CommentsBlankLinesAndBlanksAreIgnored) {
    const Catalog catalog = Catalog::parse(
        "# a comment\n"
        "\n"
        "   \t \n"
        "  # an indented comment = with equals\n"
        "\tA_CODE=1\n"
        "B_CODE=2   \t\n"
        "  C_CODE=3  # third\n",
        "t");
    ASSERT_EQ(catalog.codes().size(), 3u);
    EXPECT_EQ(catalog.codes()[0].name, "A_CODE");
    EXPECT_EQ(catalog.codes()[0].value, 1);
    EXPECT_EQ(catalog.codes()[1].name, "B_CODE");
    EXPECT_EQ(catalog.codes()[1].value, 2);
    EXPECT_EQ(catalog.codes()[2].name, "C_CODE");
    EXPECT_EQ(catalog.codes()[2].value, 3);
    EXPECT_EQ(catalog.codes()[2].description, "third");
}

TEST(CatalogParse, Descriptions) {
    const Catalog catalog = Catalog::parse(
        "NONE=1\n"
        "EMPTY=2 #\n"
        "BLANK=3 #   \t\n"
        "TRIMMED=4\t#   spaced   out  \n"
        "HASHES=5 # a # b\n"
        "TIGHT=6 #tight\n",
        "t");
    ASSERT_EQ(catalog.codes().size(), 6u);
    EXPECT_EQ(catalog.find(1)->description, "");
    EXPECT_EQ(catalog.find(2)->description, "");
    EXPECT_EQ(catalog.find(3)->description, "");
    EXPECT_EQ(catalog.find(4)->description, "spaced   out");
    EXPECT_EQ(catalog.find(5)->description, "a # b");
    EXPECT_EQ(catalog.find(6)->description, "tight");
}

TEST(CatalogParse, CrlfLinesAndNoFinalNewline) {
    const Catalog catalog = Catalog::parse("# c\r\nA=1\r\nB=2 # two\r\n\r\nC=3", "t");
    EXPECT_EQ(values_of(catalog), (std::vector<int>{1, 2, 3}));
    EXPECT_EQ(catalog.find(2)->description, "two");
    EXPECT_EQ(catalog.find(1)->name, "A");
    EXPECT_EQ(catalog.find(3)->name, "C");
}

TEST(CatalogParse, KeepsFileOrderNotValueOrder) {
    const Catalog catalog = Catalog::parse("Z=30\nA=10\nM=20\n", "t");
    EXPECT_EQ(values_of(catalog), (std::vector<int>{30, 10, 20}));
    EXPECT_EQ(catalog.position(30), 0u);
    EXPECT_EQ(catalog.position(10), 1u);
    EXPECT_EQ(catalog.position(20), 2u);
}

TEST(CatalogParse, ValueLimits) {
    const Catalog catalog = Catalog::parse("ZERO=0\nMAX=999999999\nPADDED=007\n", "t");
    EXPECT_EQ(values_of(catalog), (std::vector<int>{0, Catalog::max_value, 7}));
}

TEST(CatalogParse, NameCharacters) {
    const Catalog catalog = Catalog::parse("_=1\n_a9=2\nlower_case=3\nEXIT_CODE=4\nX=5\n", "t");
    EXPECT_EQ(catalog.find(1)->name, "_");
    EXPECT_EQ(catalog.find(2)->name, "_a9");
    EXPECT_EQ(catalog.find(3)->name, "lower_case");
    EXPECT_EQ(catalog.find(4)->name, "EXIT_CODE");
    EXPECT_EQ(catalog.find(5)->name, "X");
}

// ---- parse: errors ---------------------------------------------------------

struct ErrorCase {
    const char* label;
    const char* text;
    std::size_t line;
    const char* what;
};

// The value gtest (and so ctest's test name) shows: the label, not the
// object's bytes, which hold pointers and change from run to run.
void PrintTo(const ErrorCase& c, std::ostream* out) {
    *out << c.label;
}

class CatalogParseError : public ::testing::TestWithParam<ErrorCase> {};

TEST_P(CatalogParseError, NamesSourceLineAndReason) {
    const ErrorCase& c = GetParam();
    const CatalogError e = parse_error(c.text);
    EXPECT_EQ(e.source(), "codes.txt");
    EXPECT_EQ(e.line(), c.line);
    EXPECT_STREQ(e.what(), c.what);
}

const ErrorCase error_cases[] = {
    {"no_equals", "# c\nA=1\n\nFOO\n", 4, "codes.txt:4: expected NAME=VALUE"},
    {"bare_word", "A=1\n\n\n\nFOO BAR\n", 5, "codes.txt:5: expected NAME=VALUE"},
    {"name_starts_with_digit", "A=1\n9ABC=2\n", 2, "codes.txt:2: bad name \"9ABC\""},
    {"empty_name", "=2\n", 1, "codes.txt:1: bad name \"\""},
    {"blank_before_equals", "A=1\nFOO =2\n", 2, "codes.txt:2: bad name \"FOO \""},
    {"dash_in_name", "FOO-BAR=2\n", 1, "codes.txt:1: bad name \"FOO-BAR\""},
    {"export", "export FOO=2\n", 1, "codes.txt:1: bad name \"export FOO\""},
    {"non_ascii_name", "F\xc3\xa9=2\n", 1, "codes.txt:1: bad name \"F\\xc3\\xa9\""},
    {"reserved_exit", "A=1\nEXIT=2\n", 2, "codes.txt:2: bad name \"EXIT\""},
    {"value_letters", "A=1\nB=2\nC=3\nFOO_CODE=1x\n", 4,
     "codes.txt:4: value \"1x\" of FOO_CODE is not a number"},
    {"value_empty", "FOO=\n", 1, "codes.txt:1: value \"\" of FOO is not a number"},
    {"blank_after_equals", "FOO= 2\n", 1, "codes.txt:1: value \"\" of FOO is not a number"},
    {"value_negative", "FOO=-1\n", 1, "codes.txt:1: value \"-1\" of FOO is not a number"},
    {"value_plus", "FOO=+1\n", 1, "codes.txt:1: value \"+1\" of FOO is not a number"},
    {"value_hex", "FOO=0x10\n", 1, "codes.txt:1: value \"0x10\" of FOO is not a number"},
    {"value_quoted", "FOO=\"10\"\n", 1, "codes.txt:1: value \"\"10\"\" of FOO is not a number"},
    {"hash_without_blank", "FOO=10#x\n", 1, "codes.txt:1: value \"10#x\" of FOO is not a number"},
    {"second_equals", "FOO=BAR=1\n", 1, "codes.txt:1: value \"BAR=1\" of FOO is not a number"},
    {"value_too_big", "FOO=1000000000\n", 1,
     "codes.txt:1: value \"1000000000\" of FOO is out of range 0..999999999"},
    {"value_huge", "FOO=99999999999999999999999\n", 1,
     "codes.txt:1: value \"99999999999999999999999\" of FOO is out of range 0..999999999"},
    {"text_after_value", "FOO=10 bar\n", 1,
     "codes.txt:1: unexpected \"bar\" after the value of FOO (a description starts with '#')"},
    {"duplicate_name", "A=1\nB=2\n# c\nA=3\n", 4,
     "codes.txt:4: duplicate name A (already on line 1)"},
    {"duplicate_value",
     "# header\nPREPARED_CHROOT_ENV_CODE=10\nSET_UP_LOCALE_CODE=20\n\nX=1\n\nOTHER_CODE=20\n", 7,
     "codes.txt:7: duplicate value 20 (already SET_UP_LOCALE_CODE on line 3)"},
    {"duplicate_value_padded", "A=10\nB=010\n", 2,
     "codes.txt:2: duplicate value 10 (already A on line 1)"},
    {"crlf_line_numbers", "A=1\r\nB=2\r\nC\r\n", 3, "codes.txt:3: expected NAME=VALUE"},
    {"empty_text", "", 0, "codes.txt: no codes"},
    {"only_comments", "# one\n\n  # two\n\t\n", 0, "codes.txt: no codes"},
    {"only_blanks", " \r\n\t\n", 0, "codes.txt: no codes"},
};

INSTANTIATE_TEST_SUITE_P(AllKinds, CatalogParseError, ::testing::ValuesIn(error_cases),
                         [](const auto& param_info) {
                             return std::string(param_info.param.label);
                         });

TEST(CatalogParse, ErrorNamesTheGivenSource) {
    const CatalogError e = parse_error("FOO\n", "/etc/bscd/codes");
    EXPECT_EQ(e.source(), "/etc/bscd/codes");
    EXPECT_STREQ(e.what(), "/etc/bscd/codes:1: expected NAME=VALUE");
}

TEST(CatalogParse, ErrorQuotesBinaryEscapedAndShort) {
    const std::string name = "A\x01" + std::string(200, 'B');
    const CatalogError e = parse_error(name + "=1\n");
    const std::string what = e.what();
    EXPECT_EQ(what.find('\x01'), std::string::npos);
    EXPECT_NE(what.find("A\\x01BBB"), std::string::npos);
    EXPECT_NE(what.find("...\""), std::string::npos);
    EXPECT_LT(what.size(), 100u);
}

// Found by tests/fuzz/fuzz_catalog: a catalog took a name longer than any
// request, so producers could not send that code by its name.
TEST(CatalogParse, NameNoLongerThanARequest) {
    const std::string longest(max_request_length, 'A');
    const Catalog catalog = Catalog::parse(longest + "=1\n", "codes.txt");
    EXPECT_EQ(parse_request(longest, catalog).code, catalog.find(1));

    const CatalogError e = parse_error("A=1\n" + longest + "B=2\n");
    EXPECT_EQ(e.line(), 2u);
    EXPECT_EQ(std::string(e.what()), "codes.txt:2: bad name \"" + std::string(60, 'A') +
                                         "...\": longer than 256 characters, the longest request");
}

TEST(CatalogError, WhatWithAndWithoutLine) {
    EXPECT_STREQ(CatalogError("f", 3, "bad").what(), "f:3: bad");
    EXPECT_STREQ(CatalogError("f", 0, "bad").what(), "f: bad");
    EXPECT_EQ(CatalogError("f", 3, "bad").line(), 3u);
    EXPECT_EQ(CatalogError("f", 3, "bad").source(), "f");
}

}  // namespace
}  // namespace bscd
