#include "core/stage_times.hpp"

#include <cstdint>
#include <limits>
#include <vector>

#include <gtest/gtest.h>

#include "core/build_event.hpp"
#include "core/estimate.hpp"

namespace bscd {
namespace {

TEST(StageTimesTest, EachCodeOnceInTheOrderItFirstCameWithItsRunsSummed) {
    StageTimes times;
    times.add(10, false, 1'000);
    times.add(11, false, 3'000);
    times.add(10, false, 6'000);
    times.add(12, false, 6'500);
    ASSERT_EQ(times.passed().size(), 3U);
    EXPECT_EQ(times.passed()[0].code, 10);
    EXPECT_EQ(times.passed()[0].took_ms, 3'000);  // only its second run: the start is not known
    EXPECT_EQ(times.passed()[1].took_ms, 2'000);
    EXPECT_EQ(times.passed()[2].took_ms, 500);
    EXPECT_EQ(times.first_ts(), 1'000);
    EXPECT_EQ(times.last_ts(), 6'500);
    EXPECT_FALSE(times.finished());
}

TEST(StageTimesTest, NothingCountsAfterAFinalCode) {
    StageTimes times;
    times.add(10, false, 1'000);
    times.add(1001, true, 2'000);
    times.add(11, false, 9'000);
    times.add(10, false, 9'500);
    EXPECT_TRUE(times.finished());
    ASSERT_EQ(times.passed().size(), 2U);
    EXPECT_FALSE(times.passed()[0].took_ms);
    EXPECT_EQ(times.last_ts(), 2'000);
}

TEST(StageTimesTest, AbsurdTimesSaturateInsteadOfOverflowing) {
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    StageTimes times;
    times.add(10, false, std::numeric_limits<std::int64_t>::min());
    times.add(11, false, 0);
    times.add(10, false, max);
    times.add(11, false, std::numeric_limits<std::int64_t>::min());
    times.add(10, false, max);
    EXPECT_EQ(times.passed()[0].took_ms, max);
}

// What a producer sends cannot grow a timeline: 200,000 codes alternating
// between two stages leave two stage times, and the estimate made from them
// is the one made from every code.
TEST(StageTimesTest, ATimelineOfAnyLengthKeepsOneTimePerCode) {
    const Catalog& catalog = Catalog::builtin();
    BuildTimeline timeline("flood", catalog);
    std::vector<Arrival> arrivals;
    for (std::uint64_t i = 0; i < 200'000; ++i) {
        const int code = i % 2 == 0 ? 10 : 20;
        const auto ts = static_cast<std::int64_t>(1'000 + 3 * i);
        ASSERT_TRUE(timeline.add({EntryId{1, i}, code, "", ts}).has_value());
        arrivals.push_back({code, ts});
    }
    EXPECT_EQ(timeline.event_count(), 200'000U);
    EXPECT_EQ(timeline.stage_times().passed().size(), 2U);
    const ProfileStats learnt = learn(catalog, {});
    const std::int64_t now = 700'000;
    const Estimate kept = estimate_build(catalog, learnt, 500, timeline.stage_times(), now);
    const Estimate all = estimate_build(catalog, learnt, 500, arrivals, now);
    ASSERT_EQ(kept.plan.size(), all.plan.size());
    for (std::size_t i = 0; i < kept.plan.size(); ++i) {
        EXPECT_EQ(kept.plan[i].code, all.plan[i].code);
        EXPECT_EQ(kept.plan[i].took_ms, all.plan[i].took_ms);
    }
    EXPECT_EQ(kept.plan[0].took_ms, 500 + 299'997);  // its start, then every other 3 ms
    EXPECT_EQ(kept.stage_elapsed_ms, all.stage_elapsed_ms);
}

}  // namespace
}  // namespace bscd
