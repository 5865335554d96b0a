#include "redis/channel_subscriber.hpp"

#include <algorithm>
#include <utility>

#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include "redis/stream_reply.hpp"

namespace bscd {
namespace {
constexpr auto probe_interval = std::chrono::seconds(1);
constexpr auto probe_timeout = std::chrono::seconds(2);
}  // namespace

ChannelSubscriber::ChannelSubscriber(boost::asio::io_context& io, const RedisOptions& options,
                                     Handlers handlers)
    : link_(io, options, "subscriber"),
      handlers_(std::move(handlers)),
      clustered_(options.mode() == RedisMode::Cluster),
      probe_timer_(io) {
    link_.connection().set_push_handler([this](const redisReply& reply) { on_push(reply); });
}

void ChannelSubscriber::start() {
    link_.start(
        [this] {
            awaiting_since_.reset();
            reconcile_all();
        },
        [this](const std::string& reason) { on_lost(reason); });
    if (clustered_) {
        // Nothing else watches this node: the history reader's links go to
        // the masters of the slots it reads, which need not include it.
        schedule_probe();
    }
}

void ChannelSubscriber::stop() {
    probe_timer_.cancel();
    link_.stop();
}

void ChannelSubscriber::schedule_probe() {
    probe_timer_.expires_after(probe_interval);
    probe_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec) {
            probe();
            schedule_probe();
        }
    });
}

void ChannelSubscriber::probe() {
    if (!link_.ready()) {
        awaiting_since_.reset();
        return;
    }
    const auto now = std::chrono::steady_clock::now();
    if (awaiting_since_) {
        if (now - *awaiting_since_ >= probe_timeout) {
            awaiting_since_.reset();
            link_.fail("Redis did not answer within 2 s");
        }
        return;
    }
    // hiredis 0.14 cannot read a PING's reply on a subscribed link, but
    // Redis confirms a SUBSCRIBE to a channel it is subscribed to again.
    const auto subscribed = std::find_if(channels_.begin(), channels_.end(), [](const auto& named) {
        return named.second.state == State::Subscribed;
    });
    const bool in_flight = std::any_of(channels_.begin(), channels_.end(), [](const auto& named) {
        return named.second.state == State::Subscribing ||
               named.second.state == State::Unsubscribing;
    });
    if (subscribed != channels_.end()) {
        if (!link_.connection().subscription_command({"SUBSCRIBE", subscribed->first})) {
            return;
        }
    } else if (!in_flight) {
        // Subscribed to nothing (hiredis left subscribed mode): a plain PING.
        if (!link_.connection().command({"PING"}, [this](const redisReply* reply) {
                if (reply != nullptr) {
                    awaiting_since_.reset();
                }
            })) {
            return;
        }
    }
    // else the reply to the request in flight is the answer.
    awaiting_since_ = now;
}

void ChannelSubscriber::watch(const std::string& channel) {
    Channel& wanted = channels_[channel];
    wanted.wanted = true;
    if (wanted.state == State::Refused) {
        wanted.state = State::Unsubscribed;  // watched anew: the ACL may have changed
    }
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

bool ChannelSubscriber::refused(const std::string& channel) const {
    const auto it = channels_.find(channel);
    return it != channels_.end() && it->second.state == State::Refused;
}

bool ChannelSubscriber::suspect_in_flight() const {
    return std::any_of(channels_.begin(), channels_.end(), [](const auto& named) {
        return named.second.suspect && named.second.state == State::Subscribing;
    });
}

void ChannelSubscriber::reconcile(const std::string& name) {
    const auto it = channels_.find(name);
    if (it == channels_.end()) {
        return;
    }
    Channel& channel = it->second;
    if (!channel.wanted &&
        (channel.state == State::Unsubscribed || channel.state == State::Refused)) {
        channels_.erase(it);
        return;
    }
    if (!link_.ready() || channel.state == State::Subscribing ||
        channel.state == State::Unsubscribing || channel.state == State::Refused) {
        return;  // the next link or the pending reply reconciles again
    }
    if (channel.wanted && channel.state == State::Unsubscribed) {
        if (channel.suspect && suspect_in_flight()) {
            return;  // its turn comes when that one is confirmed
        }
        if (link_.connection().subscription_command({"SUBSCRIBE", name})) {
            channel.state = State::Subscribing;
        }
    } else if (!channel.wanted && channel.state == State::Subscribed) {
        if (link_.connection().subscription_command({"UNSUBSCRIBE", name})) {
            channel.state = State::Unsubscribing;
        }
    }
}

void ChannelSubscriber::reconcile_all() {
    std::vector<std::string> names;
    names.reserve(channels_.size());
    for (const auto& [name, channel] : channels_) {
        names.push_back(name);
    }
    for (const auto& name : names) {
        reconcile(name);
    }
}

void ChannelSubscriber::on_lost(const std::string& reason) {
    if (reason.starts_with("NOPERM")) {
        std::vector<std::string> in_flight;
        for (const auto& [name, channel] : channels_) {
            if (channel.state == State::Subscribing) {
                in_flight.push_back(name);
            }
        }
        if (in_flight.size() == 1) {
            refuse(in_flight.front(), channels_.at(in_flight.front()), reason);
        } else {
            for (const auto& name : in_flight) {
                channels_.at(name).suspect = true;
            }
        }
    }
    // Redis forgot the subscriptions with the link.
    for (auto it = channels_.begin(); it != channels_.end();) {
        if (!it->second.wanted) {
            it = channels_.erase(it);
        } else {
            if (it->second.state != State::Refused) {
                it->second.state = State::Unsubscribed;
            }
            ++it;
        }
    }
}

void ChannelSubscriber::refuse(const std::string& name, Channel& channel,
                               const std::string& reason) {
    channel.state = State::Refused;
    channel.suspect = false;
    spdlog::error(
        "Redis at {} refused the subscription to {}: {} (the Redis user needs the "
        "channel in its ACL, e.g. &{}); not asking again while it is followed",
        link_.connection().options().address(), name, reason, name);
    if (on_refused_) {
        on_refused_(name, reason);
    }
}

void ChannelSubscriber::on_push(const redisReply& reply) {
    // ["subscribe", channel, count], ["unsubscribe", channel, count],
    // ["message", channel, payload]
    if (reply.type != REDIS_REPLY_ARRAY || reply.elements < 3) {
        return;
    }
    awaiting_since_.reset();  // Redis answers
    const std::string_view kind = reply_text(*reply.element[0]);
    const std::string name(reply_text(*reply.element[1]));
    const auto it = channels_.find(name);
    if (it == channels_.end()) {
        return;
    }
    Channel& channel = it->second;
    if (kind == "subscribe" && channel.state != State::Subscribing) {
        return;  // a probe's confirmation (only ever sent once subscribed)
    }
    if (kind == "message") {
        if (channel.wanted && channel.state == State::Subscribed && handlers_.message) {
            handlers_.message(name, reply_text(*reply.element[2]));
        }
        return;
    }
    if (kind == "subscribe") {
        channel.state = State::Subscribed;
        spdlog::debug("Subscribed to {}", name);
        if (std::exchange(channel.suspect, false)) {
            reconcile_all();  // the next suspect's turn
        }
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
