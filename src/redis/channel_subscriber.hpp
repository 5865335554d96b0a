#pragma once
// One pub/sub link to Redis for many channels, e.g. the gateway's live
// subscription to every project that has viewers. Channels come and go as
// viewers do; the link reconnects with backoff and subscribes again, and
// says so per channel, so that consumers can catch up on what they missed.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "redis/redis_link.hpp"

namespace bscd {

class ChannelSubscriber {
public:
    struct Handlers {
        // The subscription to `channel` is in place (also again after a
        // reconnection): messages from now on will be seen.
        std::function<void(const std::string& channel)> subscribed;
        std::function<void(const std::string& channel, std::string_view payload)> message;
    };

    ChannelSubscriber(boost::asio::io_context& io, const RedisOptions& options, Handlers handlers);

    // Redis refused to subscribe to `channel` (its ACL user lacks the
    // channel): logged as an error, and not asked again until the channel
    // is unwatched and watched anew.
    using RefusedHandler =
        std::function<void(const std::string& channel, const std::string& reason)>;
    void on_refused(RefusedHandler handler) { on_refused_ = std::move(handler); }

    void start();
    void stop();

    // Drops the link (e.g. its node stopped answering another link's
    // PINGs); it reconnects, to the new master after a failover, and
    // subscribes again. In a cluster the subscriber checks its node itself
    // (no other link need go there): every second it asks for something
    // Redis must answer, and drops the link after 2 s without an answer.
    void reconnect(const std::string& reason) { link_.fail(reason); }

    // Subscribe to / unsubscribe from `channel`; idempotent.
    void watch(const std::string& channel);
    void unwatch(const std::string& channel);

    [[nodiscard]] bool connected() const { return link_.ready(); }
    [[nodiscard]] const RedisLinkCounts& link_counts() const { return link_.counts(); }
    // Channels with a confirmed subscription right now.
    [[nodiscard]] std::size_t subscribed_count() const;
    [[nodiscard]] bool refused(const std::string& channel) const;

private:
    // hiredis 0.14 forgets a channel's callback when an UNSUBSCRIBE reply
    // comes: a SUBSCRIBE sent before that reply would be lost. So each
    // channel has at most one request in flight, and what is wanted is
    // reconciled with what Redis has once each reply is in.
    //
    // hiredis 0.14 also drops a refused SUBSCRIBE's error reply (ACL NOPERM):
    // it closes the whole link with the error as its reason. The channels
    // whose SUBSCRIBE was in flight then are suspects; they are subscribed
    // again one at a time, so that the next refusal names its channel.
    enum class State { Unsubscribed, Subscribing, Subscribed, Unsubscribing, Refused };
    struct Channel {
        bool wanted = false;
        State state = State::Unsubscribed;
        bool suspect = false;  // in flight when a refusal closed the link
    };

    void reconcile(const std::string& name);
    void reconcile_all();
    [[nodiscard]] bool suspect_in_flight() const;
    void on_lost(const std::string& reason);
    void on_push(const redisReply& reply);
    void refuse(const std::string& name, Channel& channel, const std::string& reason);
    void schedule_probe();
    void probe();

    RedisLink link_;
    Handlers handlers_;
    RefusedHandler on_refused_;
    std::unordered_map<std::string, Channel> channels_;
    bool clustered_;
    boost::asio::steady_timer probe_timer_;
    // Since when an answer is awaited (a probe, or a request in flight).
    std::optional<std::chrono::steady_clock::time_point> awaiting_since_;
};

}  // namespace bscd
