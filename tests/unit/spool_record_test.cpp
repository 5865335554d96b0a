#include "core/spool_record.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

SpoolRecord record(std::uint64_t ms, std::uint64_t seq, int code, const std::string& name) {
    return SpoolRecord{EntryId{ms, seq}, code, name, static_cast<std::int64_t>(ms)};
}

TEST(SpoolRecordTest, EncodesOneReadableLineWithAChecksum) {
    const auto line = encode_spool_record(record(1763938454570, 0, 10, "PREPARED_CHROOT_ENV_CODE"));
    EXPECT_EQ(line.rfind("1763938454570-0 10 PREPARED_CHROOT_ENV_CODE 1763938454570 ", 0), 0U)
        << line;
    EXPECT_EQ(line.size(), std::string("1763938454570-0 10 PREPARED_CHROOT_ENV_CODE "
                                       "1763938454570 01234567\n")
                               .size());
    EXPECT_EQ(line.back(), '\n');
}

TEST(SpoolRecordTest, ReadsBackWhatItWrote) {
    const auto a = record(1000, 0, 10, "PREPARED_CHROOT_ENV_CODE");
    const auto b = record(1000, 1, 1001, "FAILED_CODE");
    const auto scan = scan_spool(encode_spool_record(a) + encode_spool_record(b));
    ASSERT_EQ(scan.records.size(), 2U);
    EXPECT_EQ(scan.records[0], a);
    EXPECT_EQ(scan.records[1], b);
    EXPECT_EQ(scan.damaged_lines, 0U);
    EXPECT_FALSE(scan.torn_tail);
    EXPECT_EQ(scan.intact_bytes, encode_spool_record(a).size() + encode_spool_record(b).size());
}

TEST(SpoolRecordTest, AnEmptyFileHoldsNothing) {
    const auto scan = scan_spool("");
    EXPECT_TRUE(scan.records.empty());
    EXPECT_EQ(scan.intact_bytes, 0U);
    EXPECT_FALSE(scan.torn_tail);
}

TEST(SpoolRecordTest, ATornLastLineIsNotAValidRecord) {
    const auto a = encode_spool_record(record(1000, 0, 10, "A"));
    const auto b = encode_spool_record(record(1001, 0, 20, "B"));
    for (std::size_t cut = 0; cut < b.size(); ++cut) {  // every prefix of a write, '\n' missing
        const auto scan = scan_spool(a + b.substr(0, cut));
        ASSERT_EQ(scan.records.size(), 1U) << cut;
        EXPECT_EQ(scan.intact_bytes, a.size());
        EXPECT_EQ(scan.torn_tail, cut > 0);
    }
}

TEST(SpoolRecordTest, ADamagedLineIsSkippedAndTheRestKept) {
    const auto a = encode_spool_record(record(1000, 0, 10, "A"));
    auto b = encode_spool_record(record(1001, 0, 20, "B"));
    const auto c = encode_spool_record(record(1002, 0, 30, "C"));
    b[b.find("20")] = '3';  // a flipped digit: the checksum no longer matches
    const auto scan = scan_spool(a + b + c);
    ASSERT_EQ(scan.records.size(), 2U);
    EXPECT_EQ(scan.records[0].code, 10);
    EXPECT_EQ(scan.records[1].code, 30);
    EXPECT_EQ(scan.damaged_lines, 1U);
    EXPECT_EQ(scan.intact_bytes, a.size() + b.size() + c.size());
}

TEST(SpoolRecordTest, LinesThatAreNotRecordsAreDamaged) {
    for (const std::string line : {"\n", "garbage\n", "1-0 10 A 1\n", "1-0 10 A 1 zzzzzzzz\n",
                                   "1-0 10 A 1 0\n", "\x01\x02\n"}) {
        const auto scan = scan_spool(line);
        EXPECT_TRUE(scan.records.empty()) << line;
        EXPECT_EQ(scan.damaged_lines, 1U) << line;
    }
}

}  // namespace
}  // namespace bscd
