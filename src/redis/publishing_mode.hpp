#pragma once
// How the publisher writes a batch of codes to Redis, chosen once at start
// (as Redis' pubsubtype table replaces `if (shard)` branches): with the
// history (the history script: a stream entry and a PUBLISH per code), or as
// Pieman's bscd.py does (--no-history: one plain PUBLISH per code).

#include <cstddef>
#include <optional>
#include <span>
#include <string>

#include "core/outbox.hpp"
#include "redis/async_connection.hpp"
#include "redis/history_script.hpp"

namespace bscd {

class RedisLink;

// One batch as the publisher hands it to a mode.
struct PublishingBatch {
    const std::string& script_sha;  // empty unless the mode loads the script
    const HistorySettings& history;
    std::span<const Delivery> codes;
    BatchContext context;
};

struct PublishingMode {
    // Whether each new link loads the history script before it is used.
    bool loads_script;
    // Whether a batch sent again is written only where it is missing: only
    // then may a reconnection in Sentinel or Cluster mode send the codes
    // confirmed lately again, in case a promoted replica lacks them.
    bool resends_without_duplicates;
    // Sends the batch on `link`; `settled` gets the reply that settles it
    // (the last one, or the first that went wrong) and nothing else.
    void (*send)(RedisLink& link, const PublishingBatch& batch,
                 const AsyncConnection::ReplyHandler& settled);
    // What the settling reply says about a batch of `count` codes; nullopt
    // when it is not the answer hoped for (an error reply included).
    std::optional<HistoryOutcome> (*outcome)(const redisReply& reply, std::size_t count);
};

extern const PublishingMode history_publishing;
extern const PublishingMode plain_publishing;  // --no-history

}  // namespace bscd
