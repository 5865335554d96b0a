#pragma once
// What `bsc status` and `bsc watch` tell of a build's future: the time left,
// the pace of the current stage and the stages still to come, estimated
// (core/estimate.hpp) from what Redis keeps: its clock (TIME), the build's
// start and profile, and the profile's earlier builds. Reading Redis is
// here; the wording is pure and shared, so both commands say the same.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "client/terminal_view.hpp"
#include "core/build_event.hpp"
#include "core/build_start.hpp"
#include "core/catalog.hpp"
#include "core/estimate.hpp"
#include "redis/redis_options.hpp"

namespace bscd::client {

// What an estimate learns from, as Redis has it now.
struct OutlookSources {
    std::optional<std::int64_t> redis_now_ms;  // TIME
    std::optional<BuildStart> start;           // nullopt: bscd kept none (yet)
    ProfileStats learnt;                       // the profile's earlier builds
    std::string error;                         // why the start or the profile could not be read
    std::string clock_error;  // why TIME could not be (a viewer's ACL without +time)
};

// One connection, three commands. Never throws: what could not be read is
// left out and said in `error` or `clock_error`.
OutlookSources read_outlook_sources(const RedisOptions& redis, const std::string& project,
                                    const std::string& channel, const Catalog& catalog);

// The build's start and its estimate at one moment.
struct BuildOutlook {
    std::optional<BuildStart> start;
    Estimate estimate;
};

// `bsc status`: the outlook as Redis knows it now (this machine's clock
// when Redis' cannot be read). Says on stderr what could not be read.
BuildOutlook outlook(const RedisOptions& redis, const std::string& project,
                     const std::string& channel, const Catalog& catalog,
                     const BuildTimeline& timeline);

// "about 1 min 5 s left" (empty without a time left).
std::string time_left(const Estimate& estimate);
// "(55 s to 1 min 10 s)" (empty without a time left, or without a spread:
// from one build).
std::string time_left_range(const Estimate& estimate);

// The estimate in one line, as `bsc status` prints it (and `bsc watch` off
// a terminal): "about 1 min 5 s left (55 s to 1 min 10 s), from 5 builds of
// bookworm-arm64; this stage is slower than usual".
std::string estimate_line(const BuildOutlook& outlook);

// The stages still to come, the current one first, each with its usual
// duration when earlier builds passed it:
// {"21 SET_UP_TIMEZONE_CODE (usually 0.4 s)", "1000 SUCCESS"}.
std::vector<std::string> to_come_items(const Estimate& estimate);
// The same joined: "21 SET_UP_TIMEZONE_CODE (usually 0.4 s), 1000 SUCCESS".
std::string stages_to_come(const Estimate& estimate);

// What `bsc watch` shows of an outlook on a terminal, beside the progress
// (`now_ms` is left to the caller): the time left and its range, or a word
// on a first build of its kind; the pace when it is not as usual; the
// stages to come once an earlier build taught their durations. Nothing for
// a build without a profile.
ProgressNote progress_note(const BuildOutlook& outlook);

// The server's clock as `bsc watch` follows it, from readings of it (Redis
// TIME, a code's ts from bscd) each taken at a moment of this machine's
// monotonic clock: now is the latest reading moved on by the monotonic time
// since. A reading behind that (a replayed code's ts) moves nothing. Pure.
class ServerClock {
public:
    using Steady = std::chrono::steady_clock::time_point;

    void observe(std::int64_t server_ms, Steady at);
    // nullopt before any reading.
    [[nodiscard]] std::optional<std::int64_t> now(Steady at) const;

private:
    std::optional<std::int64_t> read_ms_;
    Steady read_at_{};
};

// `bsc watch`'s outlook: Redis is read at the first code or wait, and once
// more at a later code while the build's start was not known (bscd
// registers a build when it starts, perhaps after the watch did); the
// profile's history is never polled. Between codes the estimate moves on
// with the server's clock (ServerClock), so the time left counts down and
// the pace changes with no Redis call.
class WatchOutlook {
public:
    using Steady = ServerClock::Steady;

    WatchOutlook(RedisOptions redis, std::string project, std::string channel,
                 const Catalog& catalog);

    // Following began, or waits: reads Redis if it has not yet.
    void begin(Steady at);
    // A code arrived with its ts (bscd's clock) at `at`.
    void code_arrived(std::int64_t ts_ms, Steady at);

    // The server's clock now, once known.
    [[nodiscard]] std::optional<std::int64_t> now_ms(Steady at) const { return clock_.now(at); }
    // The outlook now; nullopt while the build's start or the clock is unknown.
    [[nodiscard]] std::optional<BuildOutlook> at(const BuildTimeline& timeline, Steady at) const;

private:
    void read(Steady at);

    RedisOptions redis_;
    std::string project_;
    std::string channel_;
    const Catalog& catalog_;
    int reads_ = 0;
    bool told_ = false;  // a problem reading Redis was said on stderr
    std::optional<BuildStart> start_;
    ProfileStats learnt_;
    ServerClock clock_;
};

}  // namespace bscd::client
