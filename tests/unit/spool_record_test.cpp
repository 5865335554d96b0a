#include "core/spool_record.hpp"

#include <string>

#include <gtest/gtest.h>

namespace bscd {
namespace {

SpoolRecord record(std::uint64_t ms, std::uint64_t seq, int code, const std::string& name) {
    return SpoolRecord{EntryId{ms, seq}, code, name, static_cast<std::int64_t>(ms)};
}

TEST(SpoolRecordTest, EncodesOneReadableLineWithAChecksum) {
    // The examples in spool_record.hpp and docs/reliability.md (CRC-32, as zlib's).
    EXPECT_EQ(encode_spool_record(record(1763938454570, 0, 10, "PREPARED_CHROOT_ENV_CODE")),
              "1763938454570-0 10 PREPARED_CHROOT_ENV_CODE 1763938454570 2da08314\n");
    EXPECT_EQ(encode_confirmed_mark(EntryId{1763938454570, 0}),
              "confirmed 1763938454570-0 daff4c25\n");
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

TEST(SpoolRecordTest, AMarkConfirmsTheRecordsUpToItsId) {
    const auto a = encode_spool_record(record(1000, 0, 10, "A"));
    const auto b = encode_spool_record(record(1000, 1, 20, "B"));
    const auto c = encode_spool_record(record(1002, 0, 30, "C"));
    const auto mark = encode_confirmed_mark(EntryId{1000, 1});
    const auto scan = scan_spool(a + b + c + mark);  // c was written before b's mark
    ASSERT_EQ(scan.records.size(), 1U);
    EXPECT_EQ(scan.records[0].code, 30);
    EXPECT_EQ(scan.confirmed_records, 2U);
    EXPECT_EQ(scan.damaged_lines, 0U);
    EXPECT_EQ(scan.intact_bytes, a.size() + b.size() + c.size() + mark.size());
}

TEST(SpoolRecordTest, TheNewestMarkCountsAndRecordsAfterItStay) {
    const auto scan = scan_spool(
        encode_spool_record(record(1000, 0, 10, "A")) + encode_confirmed_mark(EntryId{1001, 0}) +
        encode_spool_record(record(1002, 0, 20, "B")) + encode_confirmed_mark(EntryId{1000, 0}));
    ASSERT_EQ(scan.records.size(), 1U);
    EXPECT_EQ(scan.records[0].code, 20);
}

TEST(SpoolRecordTest, ADamagedOrTornMarkConfirmsNothing) {
    const auto a = encode_spool_record(record(1000, 0, 10, "A"));
    auto damaged = encode_confirmed_mark(EntryId{1000, 0});
    damaged[damaged.find("1000")] = '2';
    const auto damaged_scan = scan_spool(a + damaged);
    EXPECT_EQ(damaged_scan.records.size(), 1U);
    EXPECT_EQ(damaged_scan.damaged_lines, 1U);
    const auto mark = encode_confirmed_mark(EntryId{1000, 0});
    const auto torn_scan = scan_spool(a + mark.substr(0, mark.size() - 1));
    EXPECT_EQ(torn_scan.records.size(), 1U);
    EXPECT_TRUE(torn_scan.torn_tail);
}

}  // namespace
}  // namespace bscd
