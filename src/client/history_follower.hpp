#pragma once
// Reads a build's history from Redis and keeps following it: every entry
// exactly once, in order, across Redis reconnects, because the position is
// the id of the last entry seen (docs/architecture.md, "Entry ids and resume").

#include <chrono>
#include <functional>
#include <optional>
#include <string>

#include "core/entry_id.hpp"
#include "redis/redis_options.hpp"
#include "redis/sync_client.hpp"

namespace bscd::client {

class HistoryFollower {
public:
    using Clock = std::chrono::steady_clock;
    // Return false to stop following.
    using EntryHandler = std::function<bool(const StreamEntry&)>;

    HistoryFollower(RedisOptions redis, std::string key);

    // Entries after `after`, the stored ones first, then each new one as it
    // arrives, until `on_entry` returns false (true is returned) or the
    // deadline passes (false). A lost link is re-established with backoff;
    // reading resumes after the last entry handed out. Throws RedisError
    // when Redis cannot be reached at the start.
    // `on_tick`, when given, runs at least once a second while waiting
    // (a display redraws its clock there).
    bool follow(EntryId after, const EntryHandler& on_entry,
                std::optional<Clock::time_point> deadline,
                const std::function<void()>& on_tick = {});

    // The stored entries after `after`, with no waiting. Throws RedisError.
    std::vector<StreamEntry> read_all(EntryId after = {});

private:
    SyncClient& connection();

    RedisOptions redis_;
    std::string key_;
    std::optional<SyncClient> client_;
};

}  // namespace bscd::client
