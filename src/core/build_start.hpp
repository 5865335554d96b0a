#pragma once
// When a build started and what kind of build it is: bscd's start (a builder
// starts bscd first) and the build's profile, whose earlier builds its
// estimate learns from. Kept in Redis beside the history, and in the spool so
// that a restarted bscd keeps them.

#include <cstdint>
#include <optional>
#include <string>

namespace bscd {

struct BuildStart {
    std::int64_t started_ms = 0;  // Unix ms, bscd's clock (the clock of the history's ts)
    std::string profile;          // empty: none (no estimate learnt or recorded)

    friend bool operator==(const BuildStart&, const BuildStart&) = default;
};

// When a build started, if its start is known (what estimate_build takes).
inline std::optional<std::int64_t> started_ms(const std::optional<BuildStart>& start) {
    return start ? std::optional(start->started_ms) : std::nullopt;
}

}  // namespace bscd
