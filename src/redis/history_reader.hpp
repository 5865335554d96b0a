#pragma once
// The gateway's links for reading history streams (XRANGE), which also
// tell whether Redis answers: each PINGs every second, and a PING left
// unanswered for two drops its link (Redis hung, or the network did).
//
// One link to the node (standalone) or to the master (Sentinel). In a
// cluster, one link per master, to every master of the slot map the reader
// keeps (its own NodeLocator); each read goes to the master of its key's
// slot, follows MOVED (the map is corrected and read again) and ASK (ASKING
// and the read on the node named, once), and a lost link makes the reader
// read the map again, so that a promoted replica replaces a dead master.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/entry_id.hpp"
#include "redis/node_locator.hpp"
#include "redis/redis_link.hpp"
#include "redis/stream_reply.hpp"

namespace bscd {

class HistoryReader {
public:
    // A page of a stream: the entries after a cursor, oldest first.
    struct StreamPage {
        std::vector<StreamEntry> entries;
        // The cursor's entry is gone, and entries after it may have gone
        // too before they were read: Redis trimmed the stream past it
        // (entries_removed_after). A stream made anew, as by a Redis
        // restarted empty, lost nothing: not this.
        bool entries_lost = false;
        // The page is full: more entries may follow at once.
        bool more = false;
    };
    // The page read, or nullopt when Redis gave no answer (link lost, or an
    // error reply, which is logged).
    using PageHandler = std::function<void(std::optional<StreamPage> page)>;

    // on_ready runs after each (re)connection of a link, and in a cluster
    // after each new slot map: reads that found no link can be tried again
    // then.
    HistoryReader(boost::asio::io_context& io, RedisOptions options,
                  std::function<void()> on_ready);

    void start();
    void stop();

    // Runs when Redis stopped answering PINGs (the link is being dropped):
    // other links to the same node may be stuck as well.
    void on_unresponsive(std::function<void()> handler) { on_unresponsive_ = std::move(handler); }

    // Up to `count` entries of stream `key` after `cursor` (the last entry
    // read before; none: from the start). The cursor's own entry is read as
    // well: when it is gone, XINFO STREAM tells whether entries after it
    // were deleted too (on Redis before 7, which does not say, they count
    // as lost). False (and no call of `done`) when there is no link now.
    bool read_page(const std::string& key, const std::optional<EntryId>& cursor, std::size_t count,
                   PageHandler done);

    // Any other read of one key (HMGET, LRANGE...): `command` goes to the
    // node that serves `key`, redirections followed. `done` gets the reply,
    // or nullptr when Redis gave no answer (link lost, or an error reply,
    // which is logged). False (and no call of `done`) when there is no link.
    using ReplyHandler = std::function<void(const redisReply* reply)>;
    bool read(const std::string& key, std::vector<std::string> command, ReplyHandler done);

    // Every link is up and its last PING was answered in time; in a
    // cluster, also a slot map is loaded: every master in it answers.
    [[nodiscard]] bool redis_up() const;
    // What its links counted, also those it dropped; in a cluster a link to
    // a new master that replaced a dead one counts as a reconnection.
    [[nodiscard]] RedisLinkCounts link_counts() const;

private:
    struct NodeLink {
        NodeLink(boost::asio::io_context& io, RedisOptions options)
            : link(io, std::move(options), "history reader") {}
        RedisLink link;
        std::uint64_t pings_sent = 0;
        std::uint64_t pings_answered = 0;
        bool ping_overdue = false;
        bool replaces_lost = false;  // counts as a reconnection once up
    };
    struct Read {
        std::string key;
        std::vector<std::string> command;
        ReplyHandler done;
        int redirects = 0;
    };

    // The cursor of a page is gone: were entries after it deleted too?
    void ask_what_was_deleted(const std::string& key, const EntryId& cursor, StreamPage page,
                              const PageHandler& done);
    [[nodiscard]] bool clustered() const { return options_.mode() == RedisMode::Cluster; }
    NodeLink& add_link(const std::string& name, RedisOptions options);
    // Cluster: the link to `node`, started if there was none.
    NodeLink& link_to(const HostPort& node);
    // The link for `key`; null when the slot map does not say yet.
    NodeLink* route(const std::string& key);
    bool send(const std::shared_ptr<Read>& read, NodeLink* node, bool asking);
    void on_reply(const std::shared_ptr<Read>& read, NodeLink& node, const redisReply& reply);
    void reload_slots();
    void on_slots(const std::string& error);
    void schedule_ping();
    void ping(NodeLink& node);

    boost::asio::io_context& io_;
    RedisOptions options_;
    std::function<void()> on_ready_;
    std::function<void()> on_unresponsive_;
    // By node ("host:port"); the one link of standalone and Sentinel is "".
    std::map<std::string, std::unique_ptr<NodeLink>> links_;
    NodeLocator slots_;  // cluster only
    bool have_slots_ = false;
    bool reloading_ = false;
    // Of links dropped with their node, and new masters' links replacing them.
    RedisLinkCounts counted_;
    boost::asio::steady_timer ping_timer_;
    bool running_ = false;
};

}  // namespace bscd
