#include "redis/publishing_mode.hpp"

#include <hiredis/hiredis.h>

#include "redis/redis_link.hpp"

namespace bscd {
namespace {

void send_through_script(RedisLink& link, const PublishingBatch& batch,
                         const AsyncConnection::ReplyHandler& settled) {
    link.command(history_script_call(batch.script_sha, batch.history, batch.codes, batch.context),
                 settled);
}

std::optional<HistoryOutcome> script_outcome(const redisReply& reply, std::size_t /*count*/) {
    return parse_history_reply(&reply);
}

void send_plain(RedisLink& link, const PublishingBatch& batch,
                const AsyncConnection::ReplyHandler& settled) {
    // Pieman's traffic exactly: one PUBLISH per code, pipelined. The batch is
    // confirmed by its last reply (replies come in order). Unlike the
    // history script, a PUBLISH resent after a lost reply may be seen twice.
    const std::size_t count = batch.codes.size();
    std::size_t sent = 0;
    for (const Delivery& delivery : batch.codes) {
        const bool last = ++sent == count;
        link.command({"PUBLISH", batch.history.channel, std::to_string(delivery.code->value)},
                     [settled, last](const redisReply* reply) {
                         if (reply != nullptr && (reply->type != REDIS_REPLY_INTEGER || last)) {
                             settled(reply);
                         }
                     });
    }
}

std::optional<HistoryOutcome> plain_outcome(const redisReply& reply, std::size_t count) {
    if (reply.type != REDIS_REPLY_INTEGER) {
        return std::nullopt;
    }
    return HistoryOutcome{count, count, std::nullopt};
}

}  // namespace

const PublishingMode history_publishing{
    .loads_script = true,
    .resends_without_duplicates = true,
    .send = send_through_script,
    .outcome = script_outcome,
};

const PublishingMode plain_publishing{
    .loads_script = false,
    .resends_without_duplicates = false,
    .send = send_plain,
    .outcome = plain_outcome,
};

}  // namespace bscd
