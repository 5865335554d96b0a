#include "core/stage_times.hpp"

#include <algorithm>
#include <limits>

#include "core/unix_ms.hpp"

namespace bscd {

void StageTimes::add(int code, bool final, std::int64_t ts_ms) {
    if (finished()) {
        return;
    }
    std::optional<std::int64_t> took;
    if (last_ts_) {
        // Never negative: bscd's clock may step back between two codes.
        took = elapsed_ms(*last_ts_, ts_ms);
    } else {
        first_ts_ = ts_ms;
    }
    last_ts_ = std::max(last_ts_.value_or(ts_ms), ts_ms);
    auto passed = std::find_if(passed_.begin(), passed_.end(),
                               [&](const Passed& p) { return p.code == code; });
    if (passed == passed_.end()) {
        passed_.push_back({code, final, took});
    } else if (took) {
        // Saturating: a stream may hold absurd times, and repeats add up.
        const std::int64_t sum = passed->took_ms.value_or(0);
        passed->took_ms = *took > std::numeric_limits<std::int64_t>::max() - sum
                              ? std::numeric_limits<std::int64_t>::max()
                              : sum + *took;
    }
}

}  // namespace bscd
