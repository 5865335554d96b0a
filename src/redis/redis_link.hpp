#pragma once
// A Redis link that stays up: finds its node (NodeLocator), connects, and
// after a failure or a lost link finds and connects again with backoff, for
// as long as it runs. Every program's event-loop link is one of these: the
// publisher's, the gateway's subscriber's and history reader's.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/backoff.hpp"
#include "redis/async_connection.hpp"
#include "redis/node_locator.hpp"

namespace bscd {

struct RedisLinkPolicy {
    std::chrono::milliseconds connect_timeout{2000};
    std::chrono::milliseconds backoff_initial = Backoff::reconnect_initial;
    std::chrono::milliseconds backoff_cap = Backoff::reconnect_cap;
    // A link that is up counts as healthy (the backoff starts small again).
    // The publisher says so itself, once Redis took a write: a link on which
    // Redis refuses every write (NOPERM, OOM) is retried with backoff.
    bool healthy_when_ready = true;
    // The link logs its outages (one warning each). The publisher logs its
    // own, with the codes it holds.
    bool log_outages = true;
};

// What links counted over their lives, for the gateway's /metrics.
struct RedisLinkCounts {
    std::uint64_t reconnects = 0;  // links re-established after a loss
    // Attempts that ended before Redis answered the handshake: Redis down,
    // refused credentials, or no descriptor left for the socket.
    std::uint64_t connect_failures = 0;

    RedisLinkCounts& operator+=(const RedisLinkCounts& other) {
        reconnects += other.reconnects;
        connect_failures += other.connect_failures;
        return *this;
    }
};

class RedisLink {
public:
    // `purpose` names the link in log lines ("subscriber", "history
    // reader"); `key` is the key it serves, which places it in a cluster.
    RedisLink(boost::asio::io_context& io, RedisOptions options, std::string purpose,
              std::string key = {}, RedisLinkPolicy policy = {});

    // Connects now and whenever the link is lost. on_ready runs after each
    // (re)connection, on_lost after each loss (before the next attempt),
    // with the reason (hiredis' or Redis' words).
    using LostHandler = std::function<void(const std::string& reason)>;
    void start(std::function<void()> on_ready, LostHandler on_lost);
    void stop();

    AsyncConnection& connection() { return connection_; }
    [[nodiscard]] bool ready() const { return connection_.ready(); }
    // The node connected to (or last tried), for log lines.
    [[nodiscard]] std::string address() const { return connection_.options().address(); }

    // A command for the link's key: sent with ASKING ahead while an ASK
    // redirection holds. False when there is no link.
    bool command(const std::vector<std::string>& args, AsyncConnection::ReplyHandler on_reply);

    // Drops the link (e.g. Redis stopped answering); it reconnects.
    void fail(const std::string& reason);
    // Redis answered a command with `error`: the link is dropped and
    // reconnects to where the error points: MOVED and ASK name the node,
    // READONLY, MASTERDOWN and LOADING mean the master has changed.
    // `reason` is what the lost handler is told.
    void fail_after_error(std::string_view error, const std::string& reason);
    // The owner's word that the link works (see RedisLinkPolicy).
    void healthy() { backoff_.reset(); }

    [[nodiscard]] const RedisLinkCounts& counts() const { return counts_; }

private:
    void connect();
    void connect_to(RedisOptions node);
    void on_lost(const std::string& reason);

    // The link's life. start() enters Connecting and stop() Stopped; a
    // connection made enters Up, a loss or a failed attempt Down.
    enum class Phase {
        Stopped,     // before start() and after stop(): nothing is retried
        Connecting,  // the first attempt after start()
        Up,          // a link exists
        Down,        // lost, or never made: the outage is announced once,
                     // and attempts follow with backoff
    };
    // Where the next attempt goes, from Redis's last answer. on_lost() and
    // connect() consume it.
    struct FindNode {};   // locate the key's node afresh: it may have moved (a failover)
    struct MovedNode {};  // MOVED: the locator already knows the new node
    struct AskedNode {    // ASK: this node, for one connection, with ASKING
        RedisOptions node;
    };
    using NextNode = std::variant<FindNode, MovedNode, AskedNode>;

    AsyncConnection connection_;
    NodeLocator locator_;
    std::string purpose_;
    std::string key_;
    RedisLinkPolicy policy_;
    Backoff backoff_;
    boost::asio::steady_timer retry_timer_;
    std::function<void()> on_ready_;
    LostHandler on_lost_;
    Phase phase_ = Phase::Stopped;
    NextNode next_node_;
    bool asking_ = false;           // this connection is one an ASK pointed to
    std::uint64_t links_made_ = 0;  // after the first, each link is a reconnection
    RedisLinkCounts counts_;
};

}  // namespace bscd
