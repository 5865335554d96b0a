// The wording bsc status and bsc watch share for a build's outlook, the
// watch's progress lines on a terminal of a given width, and the server's
// clock the watch counts down with: pure, no Redis.

#include "client/build_outlook.hpp"

#include <gtest/gtest.h>

namespace bscd::client {
namespace {

using namespace std::chrono_literals;

const Catalog& catalog() {
    static const Catalog c = Catalog::parse(
        "A=10 # stage a\nB=11 # stage b\nC=12 # stage c\nSUCCESS=1000 # done\n"
        "FAILURE=1001 # failed\n",
        "<test>");
    return c;
}

BuildRecord success(std::int64_t a, std::int64_t b, std::int64_t c) {
    static int next = 0;
    return {"p" + std::to_string(++next) + "@0", 0, 0, 1000,
            std::vector<StageTime>{{10, a}, {11, b}, {12, c}, {1000, 100}}};
}

// The outlook of a build of profile "p" that passed A at 1 000 000 (started
// at 999 000), `elapsed` ms into B.
BuildOutlook in_stage_b(const std::vector<BuildRecord>& history, std::int64_t elapsed,
                        const std::string& profile = "p") {
    const Arrival a{10, 1'000'000};
    return {BuildStart{999'000, profile}, estimate_build(catalog(), learn(catalog(), history),
                                                         999'000, {&a, 1}, a.ts_ms + elapsed)};
}

const std::vector<BuildRecord> three{success(1'000, 60'000, 5'000), success(1'000, 65'000, 5'000),
                                     success(1'000, 70'000, 5'000)};

TEST(BuildOutlookTest, TheTimeLeftIsWordedAsBscStatusPrintsIt) {
    const auto outlook = in_stage_b(three, 0);
    EXPECT_EQ(time_left(outlook.estimate), "about 1 min 10 s left");  // 65 s + 5 s + 0.1 s
    EXPECT_EQ(time_left_range(outlook.estimate), "(1 min 7 s to 1 min 12 s)");
    EXPECT_EQ(estimate_line(outlook),
              "about 1 min 10 s left (1 min 7 s to 1 min 12 s), from 3 builds of p");
    EXPECT_EQ(stages_to_come(outlook.estimate),
              "11 B (usually 1 min 5 s), 12 C (usually 5.0 s), 1000 SUCCESS (usually 100 ms)");
    EXPECT_EQ(to_come_items(outlook.estimate).size(), 3U);
}

TEST(BuildOutlookTest, PaceIsFlaggedInBothWordings) {
    // B: p90 69 s; stalled past max(2 x 70 s, 70 s + 60 s) = 140 s.
    const auto slower = in_stage_b(three, 69'001);
    EXPECT_EQ(estimate_line(slower),
              "about 5.1 s left, from 3 builds of p; this stage is slower than usual");
    EXPECT_EQ(progress_note(slower).pace, "slower than usual");
    const auto stalled = in_stage_b(three, 140'001);
    EXPECT_NE(estimate_line(stalled).find("; this stage has probably stalled"), std::string::npos);
    EXPECT_EQ(progress_note(stalled).pace, "probably stalled");
    EXPECT_EQ(progress_note(in_stage_b(three, 1'000)).pace, "");
}

TEST(BuildOutlookTest, TheWatchNoteHasTheTimeLeftRangeAndStagesToCome) {
    const ProgressNote note = progress_note(in_stage_b(three, 5'000));
    EXPECT_EQ(note.outlook, "about 1 min 5 s left");
    EXPECT_EQ(note.range, "(1 min 2 s to 1 min 7 s)");
    EXPECT_EQ(note.to_come,
              (std::vector<std::string>{"11 B (usually 1 min 5 s)", "12 C (usually 5.0 s)",
                                        "1000 SUCCESS (usually 100 ms)"}));
    EXPECT_FALSE(note.now_ms) << "the caller's to fill";
}

TEST(BuildOutlookTest, AFirstBuildSaysSoBriefly) {
    const auto first = in_stage_b({}, 1'000);
    EXPECT_EQ(progress_note(first).outlook, "first build of this kind");
    EXPECT_TRUE(progress_note(first).to_come.empty()) << "no durations learnt: no list";
    EXPECT_EQ(estimate_line(first),
              "first build of this kind (p): no time left until one has succeeded");
}

TEST(BuildOutlookTest, TheSecondBuildOfAKindHasATimeLeftButNoPaceYet) {
    const auto second = in_stage_b({three[0]}, 59'000);  // B took 60 s in the one before
    EXPECT_EQ(estimate_line(second), "about 6.1 s left, from 1 build of p")
        << "no range: no spread";
    const ProgressNote note = progress_note(second);
    EXPECT_EQ(note.outlook, "about 6.1 s left");
    EXPECT_EQ(note.range, "");
    EXPECT_EQ(note.to_come.size(), 3U);
    EXPECT_EQ(progress_note(in_stage_b({three[0]}, 61'000)).pace, "")
        << "one build's time is no spread: slower than usual needs two";
}

TEST(BuildOutlookTest, ABuildWithoutAProfileGetsNoNote) {
    const ProgressNote note = progress_note(in_stage_b({}, 1'000, ""));
    EXPECT_EQ(note.outlook, "");
    EXPECT_TRUE(note.to_come.empty());
    EXPECT_EQ(estimate_line(in_stage_b({}, 1'000, "")),
              "none: the build has no profile (bscd --profile)");
}

TEST(ServerClockTest, NowIsTheLatestReadingMovedOnByTheMonotonicClock) {
    ServerClock clock;
    const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
    EXPECT_FALSE(clock.now(t0));
    clock.observe(1'000'000, t0);  // Redis TIME
    EXPECT_EQ(clock.now(t0 + 1500ms), 1'001'500);
    clock.observe(990'000, t0 + 2s);  // a replayed code: older, moves nothing
    EXPECT_EQ(clock.now(t0 + 3s), 1'003'000);
    clock.observe(1'004'000, t0 + 3s);  // a live code stamped ahead of Redis' clock
    EXPECT_EQ(clock.now(t0 + 4s), 1'005'000);
    EXPECT_EQ(clock.now(t0), 1'004'000) << "never before the reading";
}

BuildProgress progress_after(std::initializer_list<std::pair<int, std::int64_t>> codes) {
    BuildProgress progress(catalog());
    for (const auto& [code, ts] : codes) {
        progress.record(*catalog().find(code), ts);
    }
    return progress;
}

TEST(ProgressLineTest, WithoutANoteItIsTodaysLine) {
    const auto progress = progress_after({{10, 1'000'000}});
    EXPECT_EQ(
        progress_line(progress, {}, 1'072'000, 60, false),
        "  [" + std::string(6, '#') + std::string(15, '-') + "] 33%  stage 1 of 3  stage a  01:12");
}

TEST(ProgressLineTest, TheRangeThenTheDescriptionThenTheBarGiveWay) {
    const auto progress = progress_after({{10, 1'000'000}});
    ProgressNote note;
    note.outlook = "about 1 min 5 s left";
    note.range = "(1 min 2 s to 1 min 7 s)";
    note.pace = "slower than usual";
    const std::string full =
        "33%  stage 1 of 3  stage a  00:05  about 1 min 5 s left (1 min 2 s to 1 min 7 s); "
        "slower than usual";
    const std::string no_range =
        "33%  stage 1 of 3  stage a  00:05  about 1 min 5 s left; slower than usual";
    const std::string no_description =
        "33%  stage 1 of 3  00:05  about 1 min 5 s left; slower than usual";
    const auto line = [&](std::size_t width) {
        return progress_line(progress, note, 1'005'000, width, false);
    };
    const auto bar = [](std::size_t filled, std::size_t empty) {
        return "  [" + std::string(filled, '#') + std::string(empty, '-') + "] ";
    };
    EXPECT_EQ(line(200), bar(9, 21) + full);
    EXPECT_EQ(line(90), bar(3, 7) + no_range);
    EXPECT_EQ(line(85), bar(4, 10) + no_description);
    EXPECT_EQ(line(78), "  " + no_range) << "without the bar the description fits again";
    EXPECT_EQ(line(40), ("  " + no_description).substr(0, 39));
}

TEST(ProgressLineTest, AFirstBuildIsSaidOnTheLine) {
    const auto progress = progress_after({{10, 1'000'000}});
    ProgressNote note;
    note.outlook = "first build of this kind";
    EXPECT_EQ(progress_line(progress, note, 1'005'000, 200, false).substr(35),
              "33%  stage 1 of 3  stage a  00:05  first build of this kind");
}

TEST(ProgressLineTest, ItNeverTakesTheLastColumn) {
    const auto progress = progress_after({{10, 1'000'000}, {11, 1'001'000}});
    ProgressNote note;
    note.outlook = "about 1 min 5 s left";
    note.range = "(1 min 2 s to 1 min 7 s)";
    for (std::size_t width = 1; width < 200; ++width) {
        const std::string line = progress_line(progress, note, 1'005'000, width, true);
        std::size_t columns = 0;
        for (const char c : line) {
            columns += (static_cast<unsigned char>(c) & 0xC0) != 0x80 ? 1 : 0;
        }
        EXPECT_LT(columns, std::max<std::size_t>(width, 1)) << width << ": " << line;
    }
}

TEST(ToComeLineTest, TheItemsThatFitThenHowManyMore) {
    const std::vector<std::string> items{"11 B (usually 1 min 5 s)", "12 C (usually 5.0 s)",
                                         "1000 SUCCESS (usually 100 ms)"};
    EXPECT_EQ(to_come_line(items, 200),
              "  to come: 11 B (usually 1 min 5 s), 12 C (usually 5.0 s), 1000 SUCCESS (usually "
              "100 ms)");
    EXPECT_EQ(to_come_line(items, 70),
              "  to come: 11 B (usually 1 min 5 s), 12 C (usually 5.0 s), +1 more");
    EXPECT_EQ(to_come_line(items, 50), "  to come: 11 B (usually 1 min 5 s), +2 more");
    EXPECT_EQ(to_come_line(items, 30), "  to come: +3 more");
    EXPECT_EQ(to_come_line(items, 10), "  to come");
    EXPECT_EQ(to_come_line({}, 80), "");
}

}  // namespace
}  // namespace bscd::client
