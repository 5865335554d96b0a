#include "core/build_record.hpp"

#include <gtest/gtest.h>

#include "core/unix_ms.hpp"

namespace bscd {
namespace {

HistoryEntry entry(int code, std::int64_t ts) {
    return {EntryId{static_cast<std::uint64_t>(ts), 0}, code, "", ts};
}

TEST(BuildRecordTest, EachStageRunsFromTheCodeBeforeItAndTheFirstFromTheStart) {
    const std::vector<HistoryEntry> entries{entry(10, 1'500), entry(11, 4'000), entry(1000, 4'100)};
    const auto record = record_build("demo", {1'000, "p"}, entries);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->build, "demo@1000");
    EXPECT_EQ(record->started_ms, 1'000);
    EXPECT_EQ(record->ended_ms, 4'100);
    EXPECT_EQ(record->outcome, 1000);
    EXPECT_TRUE(record->succeeded());
    EXPECT_EQ(record->stages, (std::vector<StageTime>{{10, 500}, {11, 2'500}, {1000, 100}}));
}

TEST(BuildRecordTest, NoRecordBeforeAFinalCode) {
    const std::vector<HistoryEntry> entries{entry(10, 1'500), entry(11, 4'000)};
    EXPECT_FALSE(record_build("demo", {1'000, "p"}, entries));
    EXPECT_FALSE(record_build("demo", {1'000, "p"}, {}));
}

TEST(BuildRecordTest, AFailureIsRecordedAndWhatFollowsTheFinalCodeIsNot) {
    const std::vector<HistoryEntry> entries{entry(10, 1'500), entry(1001, 2'000), entry(10, 9'000),
                                            entry(1000, 9'500)};
    const auto record = record_build("demo", {1'000, ""}, entries);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->outcome, 1001);
    EXPECT_FALSE(record->succeeded());
    EXPECT_EQ(record->ended_ms, 2'000);
    EXPECT_EQ(record->stages, (std::vector<StageTime>{{10, 500}, {1001, 500}}));
}

TEST(BuildRecordTest, AClockSteppingBackGivesZeroNeverANegativeDuration) {
    const std::vector<HistoryEntry> entries{entry(10, 900), entry(11, 800), entry(1000, 1'300)};
    const auto record = record_build("demo", {1'000, ""}, entries);
    ASSERT_TRUE(record);
    EXPECT_EQ(record->stages, (std::vector<StageTime>{{10, 0}, {11, 0}, {1000, 300}}));
}

TEST(BuildRecordTest, JsonRoundTrips) {
    const BuildRecord record{"demo@1000", 1'000, 4'100, 1000, {{10, 500}, {11, 2'500}}};
    EXPECT_EQ(record.to_json(),
              R"({"build":"demo@1000","started":1000,"ended":4100,"outcome":1000,)"
              R"("stages":[[10,500],[11,2500]]})");
    EXPECT_EQ(BuildRecord::from_json(record.to_json()), record);
}

TEST(BuildRecordTest, DamagedJsonIsNoRecord) {
    for (const char* text :
         {"", "[]", "{", R"({"build":"a","started":1,"ended":2,"outcome":1000})",
          R"({"build":1,"started":1,"ended":2,"outcome":1000,"stages":[]})",
          R"({"build":"a","started":"1","ended":2,"outcome":1000,"stages":[]})",
          R"({"build":"a","started":1,"ended":2,"outcome":1000,"stages":[[10]]})",
          R"({"build":"a","started":1,"ended":2,"outcome":1000,"stages":[[10,-5]]})",
          R"({"build":"a","started":1,"ended":2,"outcome":1e30,"stages":[]})",
          R"({"build":"a","started":1,"ended":2,"outcome":99999999999,"stages":[]})"}) {
        EXPECT_FALSE(BuildRecord::from_json(text)) << text;
    }
}

TEST(UnixMsTest, ElapsedIsNeverNegativeAndNeverOverflows) {
    EXPECT_EQ(elapsed_ms(1'000, 1'500), 500);
    EXPECT_EQ(elapsed_ms(1'500, 1'000), 0);
    EXPECT_EQ(elapsed_ms(-2, std::numeric_limits<std::int64_t>::max()),
              std::numeric_limits<std::int64_t>::max());
}

}  // namespace
}  // namespace bscd
