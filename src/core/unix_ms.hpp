#pragma once
// Times as the history keeps them: Unix milliseconds, bscd's clock.

#include <chrono>
#include <cstdint>
#include <limits>

namespace bscd {

// Now, as bscd stamps codes. Reading the clock is the one impure thing
// here; the logic that compares times takes `now` as an argument.
inline std::int64_t unix_ms_now() {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

// Milliseconds from `from` to `to`, never negative (bscd's clock may step
// back between two codes) and without overflow (a stream may hold absurd
// times).
inline std::int64_t elapsed_ms(std::int64_t from, std::int64_t to) {
    if (to <= from) {
        return 0;
    }
    constexpr std::int64_t max = std::numeric_limits<std::int64_t>::max();
    return from < 0 && to > max + from ? max : to - from;
}

}  // namespace bscd
