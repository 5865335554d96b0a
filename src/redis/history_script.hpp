#pragma once
// The server-side step that makes an accepted code visible: append it to the
// history stream and PUBLISH it on the live channel, atomically, skipping any
// entry whose id is not above the stream's last one (a retry after a lost
// reply), so a code is never published twice.

#include <chrono>
#include <cstddef>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/outbox.hpp"

namespace bscd {

struct HistorySettings {
    std::string channel;  // live channel, e.g. bscd-demo
    // Entries kept, at least; Redis trims whole nodes ("MAXLEN ~"), which
    // halves its cost per code (docs/performance.md), so a few more may stay.
    std::size_t max_length = 1000;
    std::chrono::seconds ttl_after_final{86400};  // history lifetime after 1000/1001
    // Lifetime after any other code, so that a build that died without a
    // final code does not leave its history in Redis for ever.
    std::chrono::seconds idle_ttl{std::chrono::days(7)};
};

// The Lua source, loaded once per connection with SCRIPT LOAD.
std::string_view history_script();

// EVALSHA arguments writing `batch` (oldest first). The script answers the
// number of entries it wrote (the rest had been written before).
std::vector<std::string> history_script_call(const std::string& sha,
                                             const HistorySettings& settings,
                                             std::span<const Delivery> batch);

}  // namespace bscd

namespace bscd {

class SyncClient;

// Where a restarted bscd continues the history of `channel`: the stream's
// last id, or {0, 0} when it has none. Throws RedisError.
EntryId read_history_position(SyncClient& redis, const std::string& channel);

}  // namespace bscd
