#include "core/estimate.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace bscd {
namespace {

const Catalog& catalog() {
    static const Catalog c = Catalog::parse(
        "A=10 # a\nB=11 # b\nC=12 # c\nD=13 # d\nSUCCESS=1000 # done\nFAILURE=1001 # failed\n",
        "<test>");
    return c;
}

BuildRecord build(int outcome, std::vector<StageTime> stages) {
    static int next = 0;
    ++next;
    return {"p" + std::to_string(next) + "@0", 0, 0, outcome, std::move(stages)};
}

BuildRecord success(std::int64_t a, std::int64_t b, std::int64_t d) {
    return build(1000, {{10, a}, {11, b}, {12, 1'000}, {13, d}, {1000, 100}});
}

std::vector<int> codes_of(const Estimate& e) {
    std::vector<int> codes;
    for (const auto& stage : e.plan) {
        codes.push_back(stage.code->value);
    }
    return codes;
}

std::vector<StageState> states_of(const Estimate& e) {
    std::vector<StageState> states;
    for (const auto& stage : e.plan) {
        states.push_back(stage.state);
    }
    return states;
}

using S = StageState;

TEST(EstimateTest, WithNoHistoryThePlanIsTheCatalogAndThereIsNoTimeLeft) {
    const auto e = estimate_build(catalog(), learn(catalog(), {}), 0, StageTimes{}, 5'000);
    EXPECT_EQ(e.basis, EstimateBasis::learning);
    EXPECT_EQ(e.builds, 0U);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 12, 13, 1000}));
    EXPECT_EQ(states_of(e),
              (std::vector<S>{S::current, S::upcoming, S::upcoming, S::upcoming, S::upcoming}));
    EXPECT_EQ(e.stage_elapsed_ms, 5'000);  // since the start: the first stage has a time too
    EXPECT_FALSE(e.left);
    EXPECT_EQ(e.pace, Pace::unknown);
    EXPECT_FALSE(e.next_change_ms);
}

TEST(EstimateTest, OneBuildGivesATimeLeftButNoSlowerThanUsual) {
    const std::vector<BuildRecord> history{build(1000, {{10, 4'000}, {11, 6'000}, {1000, 50}})};
    const auto learnt = learn(catalog(), history);
    auto e = estimate_build(catalog(), learnt, 0, StageTimes{}, 1'000);
    EXPECT_EQ(e.basis, EstimateBasis::learnt);
    EXPECT_EQ(e.builds, 1U);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 1000}));  // that build skipped 12 and 13
    ASSERT_TRUE(e.plan[1].usual);
    EXPECT_EQ(e.plan[1].usual->median, 6'000);
    ASSERT_TRUE(e.left);
    EXPECT_EQ(e.left->ms, 3'000 + 6'000 + 50);
    EXPECT_EQ(e.left_low->ms, e.left->ms);  // one build: no spread
    EXPECT_EQ(e.left_high->ms, e.left->ms);
    // One build's time is no spread: a little over it is not "slower"; well
    // over it is still a stall.
    EXPECT_FALSE(e.slow_after_ms);
    e = estimate_build(catalog(), learnt, 0, StageTimes{}, 5'000);
    EXPECT_EQ(e.pace, Pace::usual);
    ASSERT_TRUE(e.stalled_after_ms);
    e = estimate_build(catalog(), learnt, 0, StageTimes{}, *e.stalled_after_ms + 1);
    EXPECT_EQ(e.pace, Pace::stalled);
}

TEST(EstimateTest, NoEarlierBuildIsTheFirstBuildOfItsKind) {
    const std::vector<BuildRecord> history{build(1001, {{10, 4'000}, {1001, 50}})};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, StageTimes{}, 1'000);
    EXPECT_EQ(e.basis, EstimateBasis::learning);  // a failed build teaches no plan
    EXPECT_EQ(e.builds, 0U);
    EXPECT_FALSE(e.left);
}

TEST(EstimateTest, TimeLeftIsTheCurrentStagesRestPlusTheMediansToCome) {
    const std::vector<BuildRecord> history{success(10'000, 20'000, 5'000),
                                           success(12'000, 22'000, 7'000)};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, StageTimes{}, 1'000);
    EXPECT_EQ(e.basis, EstimateBasis::learnt);
    EXPECT_EQ(e.builds, 2U);
    ASSERT_TRUE(e.left);
    // A: median 11 s, 1 s run; then B 21 s, C 1 s, D 6 s, success 0.1 s.
    EXPECT_EQ(e.left->counting_ms, 10'000);
    EXPECT_EQ(e.left->ms, 10'000 + 21'000 + 1'000 + 6'000 + 100);
    EXPECT_EQ(e.left_low->counting_ms, 9'500);
    EXPECT_EQ(e.left_low->ms, 9'500 + 20'500 + 1'000 + 5'500 + 100);
    EXPECT_EQ(e.left_high->counting_ms, 10'500);
    EXPECT_EQ(e.left_high->ms, 10'500 + 21'500 + 1'000 + 6'500 + 100);
    EXPECT_EQ(e.pace, Pace::usual);
}

struct PaceCase {
    std::int64_t elapsed;   // in stage B, which ran 20, 21 and 22 s before (longest 22 s)
    std::int64_t left;      // the point estimate
    std::int64_t counting;  // its part that passes with the clock
    Pace pace;
    std::optional<std::int64_t> next_change_in;  // from now
};

TEST(EstimateTest, TheCurrentStageCountsDownToZeroThenSlowerThenStalled) {
    const std::vector<BuildRecord> history{success(1'000, 20'000, 5'000),
                                           success(1'000, 21'000, 5'000),
                                           success(1'000, 22'000, 5'000)};
    const auto learnt = learn(catalog(), history);
    const std::int64_t rest = 1'000 + 5'000 + 100;  // C, D, success
    // B: median 21 s, p90 21.8 s; stalled past max(2 x 22 s, 22 s + 60 s) = 82 s.
    const PaceCase cases[] = {
        {0, 21'000 + rest, 21'000, Pace::usual, 21'001},
        {20'000, 1'000 + rest, 1'000, Pace::usual, 1'001},
        {21'000, rest, 0, Pace::usual, 1},  // at the median: never negative
        {21'500, rest, 0, Pace::usual, 301},
        {21'801, rest, 0, Pace::slower, 60'200},
        {82'000, rest, 0, Pace::slower, 1},
        {82'001, rest, 0, Pace::stalled, std::nullopt},
        {600'000, rest, 0, Pace::stalled, std::nullopt},
    };
    for (const PaceCase& c : cases) {
        const Arrival a{10, 1'000'000};
        const std::int64_t now = a.ts_ms + c.elapsed;
        const auto e = estimate_build(catalog(), learnt, 999'000, {&a, 1}, now);
        SCOPED_TRACE(c.elapsed);
        EXPECT_EQ(e.stage_elapsed_ms, c.elapsed);
        EXPECT_EQ(e.plan[1].code->value, 11);
        EXPECT_EQ(e.plan[1].state, S::current);
        ASSERT_TRUE(e.left);
        EXPECT_EQ(e.left->ms, c.left);
        EXPECT_EQ(e.left->counting_ms, c.counting);
        EXPECT_EQ(e.pace, c.pace);
        EXPECT_EQ(e.slow_after_ms, 21'800);
        EXPECT_EQ(e.stalled_after_ms, 82'000);
        if (c.next_change_in) {
            EXPECT_EQ(e.next_change_ms, now + *c.next_change_in);
        } else {
            EXPECT_FALSE(e.next_change_ms);
        }
    }
}

TEST(EstimateTest, ALongStageStallsAtTwiceItsLongestRun) {
    const std::vector<BuildRecord> history{success(100'000, 1'000, 1'000),
                                           success(120'000, 1'000, 1'000)};
    const EstimateRules rules{.stall_factor = 2, .stall_margin_ms = 60'000};
    const auto e =
        estimate_build(catalog(), learn(catalog(), history), 0, StageTimes{}, 240'001, rules);
    EXPECT_EQ(e.stalled_after_ms, 240'000);  // 2 x 120 s is past 120 s + 60 s
    EXPECT_EQ(e.pace, Pace::stalled);
}

TEST(EstimateTest, FailedBuildsTeachNoTimesButCountForTheStall) {
    const std::vector<BuildRecord> history{
        success(1'000, 20'000, 5'000), success(1'000, 20'000, 5'000),
        build(1001, {{10, 1'000}, {11, 100'000}, {1001, 10}})};  // B hung, then failed
    const auto learnt = learn(catalog(), history);
    EXPECT_EQ(learnt.builds, 2U);
    const Arrival a{10, 1'000};
    const auto e = estimate_build(catalog(), learnt, 0, {&a, 1}, 1'000 + 150'000);
    EXPECT_EQ(e.builds, 2U);
    EXPECT_EQ(e.plan[1].usual->median, 20'000);
    EXPECT_EQ(e.stalled_after_ms, 200'000);  // the failed build's 100 s is the longest
    EXPECT_EQ(e.pace, Pace::slower);
}

TEST(EstimateTest, TheBuildItselfIsNotLearntFrom) {
    std::vector<BuildRecord> history{success(1'000, 20'000, 5'000), success(1'000, 40'000, 5'000)};
    history[1].build = "demo@7";
    EXPECT_EQ(learn(catalog(), history).builds, 2U);
    const auto learnt = learn(catalog(), history, "demo@7");
    EXPECT_EQ(learnt.builds, 1U);
    EXPECT_EQ(learnt.stages[1]->median, 20'000);
}

TEST(EstimateTest, AnOutlierMovesTheRangeMoreThanThePoint) {
    const std::vector<BuildRecord> history{
        success(1'000, 20'000, 5'000), success(1'000, 21'000, 5'000), success(1'000, 22'000, 5'000),
        success(1'000, 400'000, 5'000)};
    const auto learnt = learn(catalog(), history);
    const auto& b = *learnt.stages[1];
    EXPECT_EQ(b.builds, 4U);
    EXPECT_EQ(b.median, 21'500);
    EXPECT_EQ(b.p25, 20'750);
    EXPECT_EQ(b.p75, 116'500);
}

TEST(EstimateTest, PlannedStagesPassedByDropOutAndSkippedOnesLeaveThePlan) {
    const std::vector<BuildRecord> history{success(1'000, 2'000, 3'000),
                                           success(1'000, 2'000, 3'000)};
    // This build goes from A to D: B and C were skipped.
    const std::vector<Arrival> arrivals{{10, 1'000}, {13, 4'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, arrivals, 4'500);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 13, 1000}));
    EXPECT_EQ(states_of(e), (std::vector<S>{S::done, S::done, S::current}));
    EXPECT_EQ(e.plan[0].took_ms, 1'000);
    EXPECT_EQ(e.plan[1].took_ms, 3'000);
    EXPECT_EQ(e.left->ms, 0);  // success usually comes 0.1 s after D: 0.5 s have passed
}

TEST(EstimateTest, AStageMostBuildsSkipIsNotPlanned) {
    const std::vector<BuildRecord> history{
        build(1000, {{10, 1'000}, {11, 1'000}, {1000, 10}}),
        build(1000, {{10, 1'000}, {11, 1'000}, {1000, 10}}),
        build(1000, {{10, 1'000}, {11, 1'000}, {12, 9'000}, {1000, 10}})};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, StageTimes{}, 0);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 1000}));
    EXPECT_EQ(e.left->ms, 1'000 + 1'000 + 10);
}

TEST(EstimateTest, ARepeatedStageIsOneStageWithItsRunsSummed) {
    const std::vector<BuildRecord> history{
        build(1000, {{10, 1'000}, {11, 2'000}, {10, 3'000}, {1000, 10}}),
        build(1000, {{10, 1'000}, {11, 2'000}, {10, 3'000}, {1000, 10}})};
    const auto learnt = learn(catalog(), history);
    EXPECT_EQ(learnt.stages[0]->median, 4'000);
    // This build: A, B, A again; still past B, so C and D are not to come.
    const std::vector<Arrival> arrivals{{10, 1'000}, {11, 3'000}, {10, 6'000}};
    const auto e = estimate_build(catalog(), learnt, 0, arrivals, 6'000);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 1000}));
    EXPECT_EQ(e.plan[0].took_ms, 4'000);
    EXPECT_EQ(e.plan[2].state, S::current);
}

TEST(EstimateTest, AFinishedBuildIsItsOwnPlanWithTheUsualBesideIt) {
    const std::vector<BuildRecord> history{success(1'000, 2'000, 3'000),
                                           success(3'000, 2'000, 3'000)};
    const std::vector<Arrival> arrivals{{10, 1'500}, {11, 4'000}, {1001, 4'200}, {13, 9'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, arrivals, 50'000);
    EXPECT_EQ(e.basis, EstimateBasis::finished);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 1001}));
    EXPECT_EQ(states_of(e), (std::vector<S>{S::done, S::done, S::done}));
    EXPECT_EQ(e.plan[0].took_ms, 1'500);
    EXPECT_EQ(e.plan[0].usual->median, 2'000);
    EXPECT_FALSE(e.plan[2].usual);  // no successful build failed
    EXPECT_FALSE(e.left);
    EXPECT_EQ(e.pace, Pace::unknown);
}

TEST(EstimateTest, WithoutAStartTheFirstStageHasNoTimeAndElapsedRunsFromItsCode) {
    const std::vector<Arrival> arrivals{{10, 1'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), {}), std::nullopt, arrivals, 1'700);
    EXPECT_FALSE(e.plan[0].took_ms);
    EXPECT_EQ(e.stage_elapsed_ms, 700);
    const auto nothing = estimate_build(catalog(), learn(catalog(), {}), std::nullopt,
                                        std::vector<Arrival>{}, 1'700);
    EXPECT_EQ(nothing.stage_elapsed_ms, 0);
}

TEST(EstimateTest, AViewerClockBehindBscdsNeverGivesANegativeElapsed) {
    const std::vector<Arrival> arrivals{{10, 10'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), {}), 0, arrivals, 4'000);
    EXPECT_EQ(e.stage_elapsed_ms, 0);
}

TEST(EstimateTest, CodesTheCatalogLacksAreSkipped) {
    const std::vector<Arrival> arrivals{{10, 1'000}, {77, 2'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), {}), 0, arrivals, 3'000);
    EXPECT_EQ(codes_of(e), (std::vector<int>{10, 11, 12, 13, 1000}));
    // The stage after A runs from A's code: an unknown code ends no stage here.
    EXPECT_EQ(e.stage_elapsed_ms, 2'000);
}

TEST(EstimateTest, TheMessageHasTheProfileThePlanAndTheEstimate) {
    const std::vector<BuildRecord> history{success(1'000, 2'000, 3'000),
                                           success(1'000, 2'000, 3'000)};
    const std::vector<Arrival> arrivals{{10, 1'000}};
    const auto e = estimate_build(catalog(), learn(catalog(), history), 0, arrivals, 1'500);
    EXPECT_EQ(
        estimate_message("demo", BuildStart{0, "p"}, e),
        R"({"type":"estimate","project":"demo","profile":"p",)"
        R"("build_started":"1970-01-01T00:00:00.000Z","plan":[{"code":10,"name":"A","description":"a","state":"done","took_ms":1000,)"
        R"("usual_ms":1000},{"code":11,"name":"B","description":"b","state":"current",)"
        R"("usual_ms":2000},{"code":12,"name":"C","description":"c","state":"upcoming",)"
        R"("usual_ms":1000},{"code":13,"name":"D","description":"d","state":"upcoming",)"
        R"("usual_ms":3000},{"code":1000,"name":"SUCCESS","description":"done",)"
        R"("state":"upcoming","usual_ms":100}],"estimate":{"basis":"learnt","builds":2,)"
        R"("pace":"usual","stage_elapsed_ms":500,"slow_after_ms":2000,)"
        R"("stalled_after_ms":62000,"left":{"ms":5600,"counting_ms":1500},)"
        R"("left_low":{"ms":5600,"counting_ms":1500},"left_high":{"ms":5600,)"
        R"("counting_ms":1500}}})");
}

TEST(EstimateTest, TheOperatorsSummaryOfABuildWaitingRunningAndEnded) {
    const std::vector<BuildRecord> history{success(1'000, 2'000, 3'000),
                                           success(1'000, 2'000, 3'000)};
    const auto learnt = learn(catalog(), history);
    const BuildStart start{0, "p"};
    BuildTimeline timeline("demo", catalog());
    const auto at = [&](std::int64_t now_ms) {
        return build_summary(timeline, start,
                             estimate_build(catalog(), learnt, 0, timeline.stage_times(), now_ms))
            .dump();
    };
    EXPECT_EQ(at(100), R"({"project":"demo","profile":"p",)"
                       R"("build_started":"1970-01-01T00:00:00.000Z","state":"waiting"})");
    (void)timeline.add({EntryId{1'000, 0}, 10, "A", 1'000});
    EXPECT_EQ(at(1'500), R"({"project":"demo","profile":"p",)"
                         R"("build_started":"1970-01-01T00:00:00.000Z","state":"running",)"
                         R"("progress":25,"code":10,"name":"A","description":"a",)"
                         R"("updated":"1970-01-01T00:00:01.000Z","estimate":{"basis":"learnt",)"
                         R"("pace":"usual","left":{"ms":5600,"counting_ms":1500}}})");
    (void)timeline.add({EntryId{9'000, 0}, 1001, "FAILURE", 9'000});
    EXPECT_EQ(at(9'500), R"({"project":"demo","profile":"p",)"
                         R"("build_started":"1970-01-01T00:00:00.000Z","state":"failed",)"
                         R"("progress":25,"code":1001,"name":"FAILURE","description":"failed",)"
                         R"("updated":"1970-01-01T00:00:09.000Z","took_ms":9000,)"
                         R"("estimate":{"basis":"finished","pace":"unknown"}})");
}

}  // namespace
}  // namespace bscd
