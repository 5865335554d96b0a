#include "core/spool_record.hpp"

#include <cstdio>
#include <stdexcept>
#include <string>
#include <vector>

#include <boost/crc.hpp>
#include <gtest/gtest.h>

namespace bscd {
namespace {

// `body` as the spool writes a line: its CRC-32 in hex, then '\n'.
std::string checked_line(const std::string& body) {
    boost::crc_32_type crc;
    crc.process_bytes(body.data(), body.size());
    char hex[9];
    (void)std::snprintf(hex, sizeof hex, "%08x", static_cast<unsigned>(crc.checksum()));
    return body + ' ' + hex + '\n';
}

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

TEST(SpoolRecordTest, EncodesTheBuildStartAsOneLine) {
    // The example in spool_record.hpp.
    EXPECT_EQ(encode_build_start({1763938454570, "bookworm-arm64"}),
              "start 1763938454570 bookworm-arm64 9cff40e2\n");
    EXPECT_EQ(encode_build_start({1763938454570, ""}), "start 1763938454570 d89550a1\n");
}

TEST(SpoolRecordTest, ReadsBackTheBuildStartBesideTheRecords) {
    const BuildStart start{1763938454570, "raspbian-buster-armhf.rpi-3-b"};
    const auto a = record(1763938454571, 0, 10, "A");
    for (const std::string& text :
         {encode_build_start(start) + encode_spool_record(a),
          encode_spool_record(a) + encode_build_start(start) + encode_confirmed_mark(a.id)}) {
        const auto scan = scan_spool(text);
        EXPECT_EQ(scan.build_start, start) << text;
        EXPECT_EQ(scan.damaged_lines, 0U) << text;
        EXPECT_EQ(scan.intact_bytes, text.size()) << text;
        // The start is not a code: it is neither replayed nor confirmed.
        EXPECT_EQ(scan.records.size() + scan.confirmed_records, 1U) << text;
    }
    EXPECT_EQ(scan_spool(encode_build_start({5, ""})).build_start, (BuildStart{5, ""}));
    EXPECT_EQ(scan_spool(encode_spool_record(a)).build_start, std::nullopt);
}

TEST(SpoolRecordTest, TheLastBuildStartCounts) {
    const auto scan =
        scan_spool(encode_build_start({1000, "old"}) + encode_build_start({2000, "new"}));
    EXPECT_EQ(scan.build_start, (BuildStart{2000, "new"}));
}

TEST(SpoolRecordTest, ADamagedOrTornBuildStartIsSkipped) {
    const auto a = encode_spool_record(record(1000, 0, 10, "A"));
    auto damaged = encode_build_start({1000, "bookworm-arm64"});
    damaged[damaged.find("arm")] = 'x';
    const auto damaged_scan = scan_spool(damaged + a);
    EXPECT_EQ(damaged_scan.build_start, std::nullopt);
    EXPECT_EQ(damaged_scan.damaged_lines, 1U);
    EXPECT_EQ(damaged_scan.records.size(), 1U);
    // A damaged later start leaves the earlier one.
    const auto earlier = encode_build_start({500, "earlier"});
    EXPECT_EQ(scan_spool(earlier + damaged).build_start, (BuildStart{500, "earlier"}));
    const auto whole = encode_build_start({1000, "bookworm-arm64"});
    const auto torn_scan = scan_spool(a + whole.substr(0, whole.size() - 1));
    EXPECT_EQ(torn_scan.build_start, std::nullopt);
    EXPECT_TRUE(torn_scan.torn_tail);
}

TEST(SpoolRecordTest, StartLinesThatDoNotParseAreDamaged) {
    // Rightly checksummed, so only the format can refuse them.
    for (const std::string body :
         {"start", "start ", "start x", "start 1x", "start 1 ", "start 1 a b", "start 1 a..b",
          "start 1  a", "start  1", "started 1 a", "start 1 a/b"}) {
        const auto scan = scan_spool(checked_line(body));
        EXPECT_EQ(scan.build_start, std::nullopt) << body;
        EXPECT_EQ(scan.damaged_lines, 1U) << body;
    }
    ASSERT_EQ(checked_line("start 7 a"), encode_build_start({7, "a"}));  // the helper is right
    EXPECT_EQ(scan_spool(checked_line("start 7 a")).build_start, (BuildStart{7, "a"}));
}

TEST(SpoolRecordTest, AProfileThatCouldNotBeReadBackIsRefused) {
    for (const std::string& profile :
         std::vector<std::string>{"a b", "a\nb", "a..b", "caf\xc3\xa9", std::string(129, 'x')}) {
        EXPECT_THROW(encode_build_start({1, profile}), std::invalid_argument) << profile;
    }
}

}  // namespace
}  // namespace bscd
