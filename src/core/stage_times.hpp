#pragma once
// What a build has done so far, in the form its estimate needs: each code it
// passed, once, in the order it first came, with the time spent in it
// (repeats summed). Bounded by the catalog, however many codes a producer
// sends: a build timeline keeps this instead of every code.
//
// A code's time is the time since the code before it. The first code's
// time is only known with the build's start, which may be learnt later: it
// is kept apart (first_ts) and added by whoever knows the start
// (estimate_build).

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace bscd {

class StageTimes {
public:
    struct Passed {
        int code = 0;
        bool final = false;
        // The time of its runs after the build's first code: nullopt for
        // the first code while it has not run again.
        std::optional<std::int64_t> took_ms;
    };

    // The build's next code (a catalog's), accepted at Unix ms `ts_ms`.
    // Codes after a final one are ignored.
    void add(int code, bool final, std::int64_t ts_ms);

    [[nodiscard]] std::span<const Passed> passed() const { return passed_; }
    // Unix ms of the first code, and the latest of all (nullopt before any).
    [[nodiscard]] std::optional<std::int64_t> first_ts() const { return first_ts_; }
    [[nodiscard]] std::optional<std::int64_t> last_ts() const { return last_ts_; }
    [[nodiscard]] bool finished() const { return !passed_.empty() && passed_.back().final; }

private:
    std::vector<Passed> passed_;
    std::optional<std::int64_t> first_ts_;
    std::optional<std::int64_t> last_ts_;
};

}  // namespace bscd
