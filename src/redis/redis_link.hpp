#pragma once
// A Redis link that stays up: connects, and after a failure or a lost link
// connects again with backoff, for as long as it runs. For consumers that
// only need "a link when Redis is there" (the gateway's subscriber and
// history reader); the Publisher manages its own, as it resends on loss.

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/backoff.hpp"
#include "redis/async_connection.hpp"

namespace bscd {

class RedisLink {
public:
    // `purpose` names the link in log lines ("subscriber", "history reader").
    RedisLink(boost::asio::io_context& io, RedisOptions options, std::string purpose);

    // Connects now and whenever the link is lost. on_ready runs after each
    // (re)connection, on_lost after each loss (before the next attempt),
    // with the reason (hiredis' or Redis' words).
    using LostHandler = std::function<void(const std::string& reason)>;
    void start(std::function<void()> on_ready, LostHandler on_lost);
    void stop();

    AsyncConnection& connection() { return connection_; }
    [[nodiscard]] bool ready() const { return connection_.ready(); }
    // Drops the link (e.g. Redis stopped answering); it reconnects.
    void fail(const std::string& reason) { connection_.fail(reason); }
    // Links re-established after a loss.
    [[nodiscard]] std::uint64_t reconnects() const { return reconnects_; }

private:
    void connect();
    void on_lost(const std::string& reason);

    AsyncConnection connection_;
    std::string purpose_;
    Backoff backoff_{std::chrono::milliseconds(100), std::chrono::milliseconds(5000)};
    boost::asio::steady_timer retry_timer_;
    std::function<void()> on_ready_;
    LostHandler on_lost_;
    bool running_ = false;
    bool was_up_ = false;  // a link existed before: the next one is a reconnection
    bool logged_down_ = false;
    std::uint64_t reconnects_ = 0;
};

}  // namespace bscd
