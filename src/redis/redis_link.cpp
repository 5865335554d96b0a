#include "redis/redis_link.hpp"

#include <spdlog/spdlog.h>

namespace bscd {

RedisLink::RedisLink(boost::asio::io_context& io, RedisOptions options, std::string purpose)
    : connection_(io, std::move(options)), purpose_(std::move(purpose)), retry_timer_(io) {}

void RedisLink::start(std::function<void()> on_ready, LostHandler on_lost) {
    on_ready_ = std::move(on_ready);
    on_lost_ = std::move(on_lost);
    running_ = true;
    connect();
}

void RedisLink::stop() {
    running_ = false;
    retry_timer_.cancel();
    connection_.close();
}

void RedisLink::connect() {
    connection_.connect(
        std::chrono::seconds(2),
        [this] {
            backoff_.reset();
            if (was_up_) {
                ++reconnects_;
            }
            if (was_up_ || logged_down_) {
                spdlog::info("Redis {} link to {} is back", purpose_,
                             connection_.options().address());
            }
            was_up_ = true;
            logged_down_ = false;
            if (on_ready_) {
                on_ready_();
            }
        },
        [this](const std::string& reason) { on_lost(reason); });
}

void RedisLink::on_lost(const std::string& reason) {
    if (!running_) {
        return;
    }
    const auto delay = backoff_.next();
    // One warning per outage, not one per attempt.
    if (!logged_down_) {
        spdlog::warn("Redis {} link to {}: {}; reconnecting (backoff up to 5 s)", purpose_,
                     connection_.options().address(), reason);
        logged_down_ = true;
    } else {
        spdlog::debug("Redis {} link to {}: {}; next attempt in {} ms", purpose_,
                      connection_.options().address(), reason, delay.count());
    }
    if (on_lost_) {
        on_lost_(reason);
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && running_) {
            connect();
        }
    });
}

}  // namespace bscd
