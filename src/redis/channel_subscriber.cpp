#include "redis/channel_subscriber.hpp"

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "redis/stream_reply.hpp"

namespace bscd {

ChannelSubscriber::ChannelSubscriber(boost::asio::io_context& io, RedisOptions options,
                                     Handlers handlers)
    : link_(io, std::move(options), "subscriber"), handlers_(std::move(handlers)) {
    link_.connection().set_push_handler([this](const redisReply& reply) { on_push(reply); });
}

void ChannelSubscriber::start() {
    link_.start([this] { on_ready(); }, [this] { on_lost(); });
}

void ChannelSubscriber::stop() {
    link_.stop();
}

void ChannelSubscriber::watch(const std::string& channel) {
    channels_[channel].wanted = true;
    reconcile(channel);
}

void ChannelSubscriber::unwatch(const std::string& channel) {
    const auto it = channels_.find(channel);
    if (it != channels_.end()) {
        it->second.wanted = false;
        reconcile(channel);
    }
}

std::size_t ChannelSubscriber::subscribed_count() const {
    std::size_t count = 0;
    for (const auto& [name, channel] : channels_) {
        count += channel.state == State::Subscribed ? 1 : 0;
    }
    return count;
}

void ChannelSubscriber::reconcile(const std::string& name) {
    const auto it = channels_.find(name);
    if (it == channels_.end()) {
        return;
    }
    Channel& channel = it->second;
    if (!channel.wanted && channel.state == State::Unsubscribed) {
        channels_.erase(it);
        return;
    }
    if (!link_.ready() || channel.state == State::Subscribing ||
        channel.state == State::Unsubscribing) {
        return;  // on_ready or the pending reply reconciles again
    }
    if (channel.wanted && channel.state == State::Unsubscribed) {
        if (link_.connection().subscription_command({"SUBSCRIBE", name})) {
            channel.state = State::Subscribing;
        }
    } else if (!channel.wanted && channel.state == State::Subscribed) {
        if (link_.connection().subscription_command({"UNSUBSCRIBE", name})) {
            channel.state = State::Unsubscribing;
        }
    }
}

void ChannelSubscriber::on_ready() {
    std::vector<std::string> names;
    names.reserve(channels_.size());
    for (const auto& [name, channel] : channels_) {
        names.push_back(name);
    }
    for (const auto& name : names) {
        reconcile(name);
    }
}

void ChannelSubscriber::on_lost() {
    // Redis forgot the subscriptions with the link.
    for (auto it = channels_.begin(); it != channels_.end();) {
        if (it->second.wanted) {
            it->second.state = State::Unsubscribed;
            ++it;
        } else {
            it = channels_.erase(it);
        }
    }
}

void ChannelSubscriber::on_push(const redisReply& reply) {
    // ["subscribe", channel, count], ["unsubscribe", channel, count],
    // ["message", channel, payload]
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3) {
        return;
    }
    const std::string_view kind = reply_text(*reply.element[0]);
    const std::string name(reply_text(*reply.element[1]));
    const auto it = channels_.find(name);
    if (it == channels_.end()) {
        return;
    }
    Channel& channel = it->second;
    if (kind == "message") {
        if (channel.wanted && channel.state == State::Subscribed && handlers_.message) {
            handlers_.message(name, reply_text(*reply.element[2]));
        }
        return;
    }
    if (kind == "subscribe") {
        channel.state = State::Subscribed;
        spdlog::debug("Subscribed to {}", name);
        if (channel.wanted && handlers_.subscribed) {
            handlers_.subscribed(name);
        }
    } else if (kind == "unsubscribe") {
        channel.state = State::Unsubscribed;
        spdlog::debug("Unsubscribed from {}", name);
    }
    reconcile(name);
}

}  // namespace bscd
