#pragma once
// The gateway's link for reading history streams (XRANGE), which also
// tells whether Redis answers: it PINGs every second, and a PING left
// unanswered for two drops the link (Redis hung, or the network did).

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/entry_id.hpp"
#include "redis/redis_link.hpp"
#include "redis/stream_reply.hpp"

namespace bscd {

class HistoryReader {
public:
    // The entries read, or nullopt when Redis gave no answer (link lost, or
    // an error reply, which is logged).
    using EntriesHandler = std::function<void(std::optional<std::vector<StreamEntry>> entries)>;

    // on_ready runs after each (re)connection: reads that found no link can
    // be tried again then.
    HistoryReader(boost::asio::io_context& io, RedisOptions options,
                  std::function<void()> on_ready);

    void start();
    void stop();

    // Runs when Redis stopped answering PINGs (the link is being dropped):
    // other links to the same node may be stuck as well.
    void on_unresponsive(std::function<void()> handler) { on_unresponsive_ = std::move(handler); }

    // Up to `count` entries of stream `key` after `after` (exclusive), oldest
    // first. False (and no call of `done`) when there is no link now.
    bool read_after(const std::string& key, const EntryId& after, std::size_t count,
                    EntriesHandler done);

    // The link is up and the last PING was answered in time.
    [[nodiscard]] bool redis_up() const { return link_.ready() && !ping_overdue_; }
    [[nodiscard]] std::uint64_t reconnects() const { return link_.reconnects(); }

private:
    void schedule_ping();
    void ping();

    RedisLink link_;
    std::function<void()> on_ready_;
    std::function<void()> on_unresponsive_;
    boost::asio::steady_timer ping_timer_;
    std::uint64_t pings_sent_ = 0;
    std::uint64_t pings_answered_ = 0;
    bool ping_overdue_ = false;
};

}  // namespace bscd
