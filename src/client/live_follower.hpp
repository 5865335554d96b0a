#pragma once
// bsc watch --live: follows a build over plain pub/sub, for a publisher that
// keeps no history (Pieman's bscd.py, bscd --no-history). Pub/sub forgets:
// what was published before subscribing, or while the link was down, is
// not seen. Each message becomes an entry stamped when it arrived.

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "client/history_follower.hpp"
#include "redis/redis_options.hpp"

namespace bscd::client {

class LiveFollower {
public:
    using Clock = HistoryFollower::Clock;

    LiveFollower(RedisOptions redis, std::string channel);

    // As HistoryFollower::follow, from the moment of subscribing.
    bool follow(const HistoryFollower::EntryHandler& on_entry,
                std::optional<Clock::time_point> deadline, const std::function<void()>& on_tick);

private:
    RedisOptions redis_;
    std::string channel_;
};

}  // namespace bscd::client
