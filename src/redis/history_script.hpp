#pragma once
// The server-side step that makes an accepted code visible: append it to the
// history stream and PUBLISH it on the live channel, atomically. An entry
// whose id is not above the stream's last one is skipped only when the
// stream holds that very entry (a retry after a lost reply), so a code is
// never published twice; any other entry in its way is a conflict (another
// writer), and the script stops there, so that bscd can move its codes past
// it instead of losing them.

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/build_start.hpp"
#include "core/entry_id.hpp"
#include "core/outbox.hpp"

struct redisReply;

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
    // The build's start, kept beside the stream with its lifetime (nullopt:
    // not known, nothing kept).
    std::optional<BuildStart> build;
};

// The Lua source, loaded once per connection with SCRIPT LOAD.
std::string_view history_script();

// Where a batch stands in bscd's outbox, for the script's checks.
struct BatchContext {
    // The entry just before the batch while it is still unconfirmed (sent in
    // an earlier call on this link): if the stream lacks it (that very code,
    // at that id), that call met a conflict, and this batch must write
    // nothing ahead of the codes it held.
    std::optional<Delivery> after;
    // Entries at or below this id may have been written by an earlier call
    // (a lost reply, a crash) and trimmed from the stream since; an absent
    // entry above it was never written.
    std::optional<EntryId> possibly_written_up_to;
};

// EVALSHA arguments writing `batch` (oldest first).
std::vector<std::string> history_script_call(const std::string& sha,
                                             const HistorySettings& settings,
                                             std::span<const Delivery> batch,
                                             const BatchContext& context = {});

// What the script answers: the batch's first `processed` entries are in the
// history (`written` of them by this call, the rest were already there); on
// a conflict, the entry after them met one, nothing from it on was written,
// and `conflict_last` is the stream's last id then ({0, 0} without a stream).
struct HistoryOutcome {
    std::size_t processed = 0;
    std::size_t written = 0;
    std::optional<EntryId> conflict_last;
};

// The script's reply read, or nullopt when it is not one (an error reply
// included).
std::optional<HistoryOutcome> parse_history_reply(const redisReply* reply);

}  // namespace bscd

namespace bscd {

class SyncClient;

// Where a restarted bscd continues the history of `channel`: the stream's
// last id, or {0, 0} when it has none. Throws RedisError.
EntryId read_history_position(SyncClient& redis, const std::string& channel);

}  // namespace bscd
