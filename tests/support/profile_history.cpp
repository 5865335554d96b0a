#include "support/profile_history.hpp"

#include <gtest/gtest.h>

#include "core/build_keys.hpp"
#include "core/unix_ms.hpp"

namespace bscd::test {

void seed_profile(RedisServer& redis, const std::string& profile,
                  const std::vector<std::vector<StageTime>>& builds) {
    constexpr std::int64_t day_ms = 24LL * 3600 * 1000;
    std::int64_t started = unix_ms_now() - static_cast<std::int64_t>(builds.size() + 1) * day_ms;
    for (const auto& stages : builds) {
        BuildRecord record;
        record.build = build_identity("earlier", started);
        record.started_ms = started;
        record.ended_ms = started;
        for (const StageTime& stage : stages) {
            record.ended_ms += stage.duration_ms;
        }
        record.outcome = 1000;
        record.stages = stages;
        // Newest first, as bscd's LPUSH leaves them.
        const Reply pushed = redis.command({"LPUSH", profile_key(profile), record.to_json()});
        EXPECT_EQ(pushed.type, Reply::Integer)
            << "LPUSH " << profile_key(profile) << ": " << pushed.str;
        started += day_ms;
    }
}

}  // namespace bscd::test
