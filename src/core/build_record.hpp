#pragma once
// What one ended build teaches about its profile: how long each stage took
// and how the build ended. bscd adds one per build to its profile's record
// in Redis; the estimate (core/estimate.hpp) learns from the recent ones.

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/build_event.hpp"
#include "core/build_start.hpp"

namespace bscd {

// A stage of one build: the code that ended it, and how long it ran (from
// the code before it, or from the build's start for the first).
struct StageTime {
    int code = 0;
    std::int64_t duration_ms = 0;

    friend bool operator==(const StageTime&, const StageTime&) = default;
};

struct BuildRecord {
    std::string build;  // build_identity(): tells a resent record from a new one
    std::int64_t started_ms = 0;
    std::int64_t ended_ms = 0;
    int outcome = 0;                // the final code: 1000 success, any other failure
    std::vector<StageTime> stages;  // in order of arrival; the final code's last

    [[nodiscard]] bool succeeded() const { return outcome == 1000; }

    // {"build":"demo@1764931200000","started":1764931200000,
    //  "ended":1764931290000,"outcome":1000,"stages":[[10,53000],[11,2000]]}
    [[nodiscard]] std::string to_json() const;
    // nullopt for anything that is not such an object (a damaged record is
    // skipped, never fatal).
    static std::optional<BuildRecord> from_json(std::string_view text);

    friend bool operator==(const BuildRecord&, const BuildRecord&) = default;
};

// "<project>@<started ms>": a project's stream holds one build, and its
// start tells a later build reusing the name from it.
std::string build_identity(std::string_view project, std::int64_t started_ms);

// The record of a build from its start and its history entries, in stream
// order; nullopt until a final code is among them. Entries after the final
// code belong to no build of this start and are ignored. A stage's duration
// is never negative (bscd's clock may step back).
std::optional<BuildRecord> record_build(std::string_view project, const BuildStart& start,
                                        std::span<const HistoryEntry> entries);

}  // namespace bscd
