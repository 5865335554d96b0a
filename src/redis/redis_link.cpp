#include "redis/redis_link.hpp"

#include <memory>

#include <spdlog/spdlog.h>

#include "core/redis_redirect.hpp"

namespace bscd {

RedisLink::RedisLink(boost::asio::io_context& io, RedisOptions options, std::string purpose,
                     std::string key, RedisLinkPolicy policy)
    : connection_(io, options),
      locator_(io, std::move(options)),
      purpose_(std::move(purpose)),
      key_(std::move(key)),
      policy_(policy),
      backoff_(policy.backoff_initial, policy.backoff_cap),
      retry_timer_(io) {}

void RedisLink::start(std::function<void()> on_ready, LostHandler on_lost) {
    on_ready_ = std::move(on_ready);
    on_lost_ = std::move(on_lost);
    phase_ = Phase::Connecting;
    connect();
}

void RedisLink::stop() {
    phase_ = Phase::Stopped;
    retry_timer_.cancel();
    connection_.close();
}

void RedisLink::connect() {
    auto* asked = std::get_if<AskedNode>(&next_node_);
    asking_ = asked != nullptr;
    if (asked) {
        RedisOptions node = std::move(asked->node);
        next_node_ = FindNode{};
        connect_to(std::move(node));
        return;
    }
    locator_.locate(key_, [this](std::optional<RedisOptions> node, const std::string& error) {
        if (phase_ == Phase::Stopped) {
            return;
        }
        if (!node) {
            ++counts_.connect_failures;
            on_lost(error);
            return;
        }
        connect_to(std::move(*node));
    });
}

void RedisLink::connect_to(RedisOptions node) {
    // Whether this attempt got as far as a link: a loss before that is a
    // failed attempt.
    auto reached = std::make_shared<bool>(false);
    connection_.connect(
        std::move(node), policy_.connect_timeout,
        [this, reached] {
            *reached = true;
            if (policy_.healthy_when_ready) {
                backoff_.reset();
            }
            if (links_made_++ > 0) {
                ++counts_.reconnects;
            }
            if (policy_.log_outages && phase_ == Phase::Down) {
                spdlog::info("Redis {} link to {} is back", purpose_, address());
            }
            phase_ = Phase::Up;
            if (on_ready_) {
                on_ready_();
            }
        },
        [this, reached](const std::string& reason) {
            if (!*reached) {
                ++counts_.connect_failures;
            }
            on_lost(reason);
        });
}

bool RedisLink::command(const std::vector<std::string>& args,
                        AsyncConnection::ReplyHandler on_reply) {
    if (asking_ && !connection_.command({"ASKING"}, [](const redisReply* /*ok*/) {})) {
        return false;
    }
    return connection_.command(args, std::move(on_reply));
}

void RedisLink::fail(const std::string& reason) {
    connection_.fail(reason);
}

void RedisLink::fail_after_error(std::string_view error, const std::string& reason) {
    if (auto redirect = parse_redirect(error, connection_.options().host)) {
        if (redirect->kind == Redirect::Kind::Moved) {
            locator_.moved(redirect->slot, redirect->node);
            next_node_ = MovedNode{};
        } else {
            next_node_ = AskedNode{locator_.options().at(redirect->node)};
        }
    } else if (is_retry_elsewhere_error(error)) {
        locator_.forget();
    }
    connection_.fail(reason);
}

void RedisLink::on_lost(const std::string& reason) {
    if (phase_ == Phase::Stopped) {
        return;
    }
    // Unless Redis said where to go (MOVED, ASK), the node may be gone for
    // good (a failover): find it again. Backoff either way, so that nodes
    // pointing at each other during a resharding are not hammered.
    if (std::holds_alternative<FindNode>(next_node_)) {
        locator_.forget();
    } else if (std::holds_alternative<MovedNode>(next_node_)) {
        next_node_ = FindNode{};
    }
    const auto delay = backoff_.next();
    if (policy_.log_outages && phase_ != Phase::Down) {
        // One warning per outage, not one per attempt.
        spdlog::warn("Redis {} link to {}: {}; reconnecting (backoff up to {} ms)", purpose_,
                     address(), reason, policy_.backoff_cap.count());
    } else {
        spdlog::debug("Redis {} link to {}: {}; next attempt in {} ms", purpose_, address(), reason,
                      delay.count());
    }
    phase_ = Phase::Down;
    if (on_lost_) {
        on_lost_(reason);
    }
    retry_timer_.expires_after(delay);
    retry_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec && phase_ != Phase::Stopped) {
            connect();
        }
    });
}

}  // namespace bscd
