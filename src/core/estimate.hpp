#pragma once
// How long until the image is ready: the plan of a running build and the
// time it has left, learnt from the recent builds of its profile. Pure: the
// caller says what time it is, on the same clock as the history's ts
// (bscd's), so that a viewer's clock never enters a comparison.
//
// The rules (docs/gateway.md, "Estimates"):
// - Learning: the successful earlier builds of the profile; a stage's
//   duration in one build is the sum of its runs there (a stage may repeat).
//   Below `min_builds` of them (1: the second build of a kind has an
//   estimate) there is no estimate: "first build of this kind".
// - The plan: the stages that at least half of those builds passed, plus
//   the success code, in catalog order; with nothing learnt, the catalog's
//   stages and its success code. Stages this build has passed come first,
//   as they came; a planned stage it went past without passing (skipped)
//   drops out. The current stage is the first one still to come.
// - Time left: what the current stage usually has left (its median less
//   what it has run, never below 0) plus the medians of the stages after
//   it. The range: the same with the 25th and 75th percentiles.
// - Pace: slower than usual past the current stage's 90th percentile, once
//   `min_builds_slower` builds passed it (one build's time is no spread);
//   probably stalled past `stall_factor` times, and `stall_margin` beyond,
//   the longest that stage ran in any earlier build (a short stage needs the
//   margin: twice two seconds is no stall).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "core/build_record.hpp"
#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/stage_times.hpp"

namespace bscd {

struct EstimateRules {
    std::size_t min_builds = 1;
    std::size_t min_builds_slower = 2;
    std::int64_t stall_factor = 2;
    std::int64_t stall_margin_ms = 60'000;
};

// A code of the running build and when bscd accepted it.
struct Arrival {
    int code = 0;
    std::int64_t ts_ms = 0;
};

// A stage's durations over the builds learnt from (ms).
struct StageStats {
    std::size_t builds = 0;  // builds that passed the stage
    std::int64_t p25 = 0;
    std::int64_t median = 0;
    std::int64_t p75 = 0;
    std::int64_t p90 = 0;
};

enum class StageState { done, current, upcoming };
enum class Pace { unknown, usual, slower, stalled };
enum class EstimateBasis {
    learning,  // fewer than min_builds successful earlier builds: no time left
    learnt,    // running, with a time left
    finished,  // the build has ended: the plan is what it did
};

struct PlannedStage {
    const StatusCode* code = nullptr;  // the catalog's; never null
    StageState state = StageState::upcoming;
    std::optional<std::int64_t> took_ms;  // done: this build's time in it
    std::optional<StageStats> usual;      // learnt: the earlier builds'
};

// A time left, and the part of it that passes with the clock (the current
// stage's share): a viewer shows ms - min(counting_ms, time since it was
// told), and so needs no message per second.
struct TimeLeft {
    std::int64_t ms = 0;
    std::int64_t counting_ms = 0;
};

struct Estimate {
    EstimateBasis basis = EstimateBasis::learning;
    std::size_t builds = 0;  // successful earlier builds learnt from
    std::vector<PlannedStage> plan;
    // Learnt: the point (medians) and the range (25th, 75th percentiles).
    std::optional<TimeLeft> left, left_low, left_high;
    Pace pace = Pace::unknown;
    std::int64_t stage_elapsed_ms = 0;  // the current stage's run so far
    // The current stage's thresholds (elapsed ms): slower than usual after
    // `slow_after` (none from fewer than min_builds_slower builds), probably
    // stalled after `stalled_after`.
    std::optional<std::int64_t> slow_after_ms, stalled_after_ms;
    // When, with no new code, this estimate next changes in a way a viewer
    // cannot work out itself: the current stage reaching its median, its
    // 90th percentile or the stall threshold (Unix ms, the caller's clock).
    std::optional<std::int64_t> next_change_ms;
};

// Adds what viewers are told of the build's plan and time to `object` (a
// state or an estimate message), members without a value left out:
//   "profile":"bookworm-arm64","build_started":"2026-12-05T12:00:00.000Z",
//   "plan":[{"code":10,"name":"...","description":"...","state":"done",
//            "took_ms":53000,"usual_ms":50000},...],
//   "estimate":{"basis":"learnt","builds":5,"pace":"usual",
//     "stage_elapsed_ms":1200,"slow_after_ms":9000,"stalled_after_ms":70000,
//     "left":{"ms":61000,"counting_ms":3000},"left_low":{...},"left_high":{...}}
// state: done, current, upcoming; basis: learning, learnt, finished; pace:
// unknown, usual, slower, stalled.
void add_estimate(nlohmann::ordered_json& object, const std::optional<BuildStart>& start,
                  const Estimate& estimate);

// One build in the operator's list (GET /api/v1/builds), for a timeline with
// or without codes yet:
//   {"project":"demo","profile":"bookworm-arm64",
//    "build_started":"2026-12-05T12:00:00.000Z","state":"running",
//    "progress":40,"code":32,"name":"...","description":"...",
//    "updated":"...","took_ms":95000 (finished, with a start),
//    "estimate":{"basis":"learnt","pace":"usual",
//                "left":{"ms":61000,"counting_ms":3000}}}
// state: waiting (no code yet), running, succeeded, failed.
nlohmann::ordered_json build_summary(const BuildTimeline& timeline,
                                     const std::optional<BuildStart>& start,
                                     const Estimate& estimate);

// The message SSE (event "estimate") and WebSocket viewers get when the
// estimate changes: {"type":"estimate","project":"demo", then add_estimate's}.
std::string estimate_message(std::string_view project, const std::optional<BuildStart>& start,
                             const Estimate& estimate);

// Per code, the stats of its durations over the successful `history`; a
// record of `except_build` (the build being estimated, once it ended) is
// left out: it teaches nothing about itself.
struct ProfileStats {
    std::size_t builds = 0;
    // Indexed like the catalog's codes(); nullopt for codes no build passed.
    std::vector<std::optional<StageStats>> stages;
    // The longest each code ran in any earlier build, failures included.
    std::vector<std::optional<std::int64_t>> longest;
};
ProfileStats learn(const Catalog& catalog, std::span<const BuildRecord> history,
                   std::string_view except_build = {});

// The estimate of a build that started at `started_ms` (nullopt when not
// known: its first stage then has no time) and has done `times` (a
// timeline's stage_times()), at `now_ms`.
Estimate estimate_build(const Catalog& catalog, const ProfileStats& learnt,
                        std::optional<std::int64_t> started_ms, const StageTimes& times,
                        std::int64_t now_ms, const EstimateRules& rules = {});
// The same from the build's codes as they came (codes the catalog lacks
// are skipped).
Estimate estimate_build(const Catalog& catalog, const ProfileStats& learnt,
                        std::optional<std::int64_t> started_ms, std::span<const Arrival> arrivals,
                        std::int64_t now_ms, const EstimateRules& rules = {});

}  // namespace bscd
