#include "gateway/gateway.hpp"

#include <spdlog/spdlog.h>

#include "core/project.hpp"
#include "core/unix_ms.hpp"
#include "gateway/access_token.hpp"

namespace bscd {
namespace {

// How long a feed stays subscribed after its last viewer left: a reload or
// a reconnecting viewer finds it still there.
constexpr auto feed_linger = std::chrono::seconds(2);
constexpr auto sweep_interval = std::chrono::seconds(1);
// How long a project whose channel Redis refused is answered 503 without
// asking Redis again. Each refused SUBSCRIBE costs every project a
// resubscription (hiredis 0.14 closes the link on it), so viewers retrying
// must not cause one each; an ACL fixed meanwhile is still seen soon.
constexpr auto refusal_hold = std::chrono::seconds(5);
// Entries read for a state request at most (bscd keeps 1000 by default).
constexpr std::size_t state_read_limit = 100'000;

}  // namespace

Gateway::RedisSide::RedisSide(boost::asio::io_context& io, Gateway& gateway)
    : reader(io, gateway.options_.redis, [&gateway] { gateway.on_reader_ready(); }),
      subscriber(io, gateway.options_.redis,
                 {[&gateway](const std::string& channel) { gateway.on_subscribed(channel); },
                  [&gateway](const std::string& channel, std::string_view /*payload*/) {
                      gateway.on_message(channel);
                  }}),
      sweep_timer(io),
      board(
          reader, [&gateway](const std::string& project) { return gateway.follow(project); },
          [&gateway](const std::string& project) { return gateway.page_link(project); }) {
    subscriber.on_refused([&gateway](const std::string& channel, const std::string& /*reason*/) {
        gateway.on_refused(channel);  // the subscriber has logged the reason
    });
    if (gateway.options_.redis.mode() == RedisMode::Sentinel) {
        // A hung master (paused, or its host gone without a reset) leaves a
        // subscription waiting with no error; Sentinel also moves the
        // master. The reader's PINGs notice within 2 s: follow them.
        // (Standalone keeps its behaviour: TCP keepalive. In a cluster the
        // reader's nodes need not be the subscriber's: it checks its own.)
        reader.on_unresponsive(
            [this] { subscriber.reconnect("Redis did not answer PING within 2 s"); });
    }
}

Gateway::Gateway(boost::asio::io_context& io, GatewayOptions options, Catalog catalog)
    : options_(std::move(options)),
      catalog_(std::move(catalog)),
      redis_(std::make_unique<RedisSide>(io, *this)) {}

void Gateway::start() {
    redis_->reader.start();
    redis_->subscriber.start();
    schedule_sweep();
}

void Gateway::stop() {
    if (redis_) {
        redis_->sweep_timer.cancel();
        redis_->subscriber.stop();
        redis_->reader.stop();
        redis_.reset();
        // Viewers still hold theirs; the last ones go with the loop.
        feeds_.clear();
    }
}

std::string Gateway::render_metrics() {
    if (redis_) {
        metrics_.projects_followed = redis_->subscriber.subscribed_count();
        metrics_.redis_reconnects_total =
            redis_->reader.reconnects() + redis_->subscriber.reconnects();
    }
    metrics_.redis_up = redis_up();
    return metrics_.render();
}

bool Gateway::admits(const std::string& scope, std::string_view token) const {
    return options_.token_secret.empty() || token_grants(options_.token_secret, scope, token);
}

std::string Gateway::page_link(const std::string& project) const {
    std::string link = "/projects/" + project;  // project names need no escaping
    if (!options_.token_secret.empty()) {
        link += "?token=" + access_token(options_.token_secret, project);
    }
    return link;
}

void Gateway::list_builds(std::function<void(std::optional<std::string>)> done) {
    if (!redis_) {
        done(std::nullopt);
        return;
    }
    redis_->board.list(std::move(done));
}

std::shared_ptr<ProjectFeed> Gateway::follow(const std::string& project) {
    const std::string channel = channel_for_project(project);
    idle_since_.erase(channel);
    auto& feed = feeds_[channel];
    if (!feed) {
        feed = std::make_shared<ProjectFeed>(project, catalog_, redis_->reader, metrics_,
                                             options_.estimate_rules);
        feed->on_idle([this, channel] { idle_since_[channel] = std::chrono::steady_clock::now(); });
        redis_->subscriber.watch(channel);
        spdlog::debug("Project {}: following {}", project, channel);
    }
    return feed;
}

void Gateway::read_state(const std::string& project, const std::function<void(State)>& done) {
    const auto open = feeds_.find(channel_for_project(project));
    if (open != feeds_.end() && open->second->ready() && !open->second->empty()) {
        done({open->second->state_json(), false});
        return;
    }
    const bool sent =
        redis_ &&
        redis_->reader.read_after(
            history_key(channel_for_project(project)), EntryId{}, state_read_limit,
            [this, project, done](std::optional<std::vector<StreamEntry>> entries) {
                if (!entries) {
                    done({std::nullopt, true});
                    return;
                }
                auto timeline = std::make_shared<BuildTimeline>(project, catalog_);
                for (const auto& stored : *entries) {
                    if (const auto entry = parse_history_entry(stored.id, stored.fields)) {
                        (void)timeline->add(*entry);
                    }
                }
                if (timeline->stages().empty() || !redis_) {
                    done({std::nullopt, false});
                    return;
                }
                // What the estimate needs besides: once learnt (or not to be
                // learnt now), the state is answered with what is known.
                auto estimate = std::make_shared<ProjectEstimate>(project, catalog_, redis_->reader,
                                                                  options_.estimate_rules);
                estimate->learn([estimate, timeline, done] {
                    const Estimate now = estimate->at(*timeline, unix_ms_now());
                    done({timeline->state_json(estimate->start(), &now), false});
                });
            });
    if (!sent) {
        done({std::nullopt, true});
    }
}

void Gateway::on_subscribed(const std::string& channel) {
    if (const auto it = feeds_.find(channel); it != feeds_.end()) {
        it->second->on_subscribed();
    }
}

void Gateway::on_refused(const std::string& channel) {
    const auto it = feeds_.find(channel);
    if (it == feeds_.end()) {
        return;
    }
    const auto& feed = it->second;
    spdlog::warn(
        "Project {}: the gateway may not read its channel {}; its viewers ({} now) get 503 "
        "(WebSocket: close 1013) and Redis is asked again in {} s at the earliest",
        feed->project(), channel, feed->viewer_count(), refusal_hold.count());
    feed->on_refused(std::chrono::steady_clock::now() + refusal_hold);
}

void Gateway::on_message(const std::string& channel) {
    if (const auto it = feeds_.find(channel); it != feeds_.end()) {
        it->second->on_message();
    }
}

void Gateway::on_reader_ready() {
    for (auto& [channel, feed] : feeds_) {
        feed->on_reader_ready();
    }
}

void Gateway::schedule_sweep() {
    redis_->sweep_timer.expires_after(sweep_interval);
    redis_->sweep_timer.async_wait([this](boost::system::error_code ec) {
        if (!ec && redis_) {
            for (auto& [channel, feed] : feeds_) {
                feed->on_tick();
            }
            redis_->board.on_tick();
            close_idle_feeds();
            schedule_sweep();
        }
    });
}

void Gateway::close_idle_feeds() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle_since_.begin(); it != idle_since_.end();) {
        const auto feed = feeds_.find(it->first);
        if (feed == feeds_.end() || feed->second->viewer_count() > 0) {
            it = idle_since_.erase(it);
        } else if (feed->second->refused() ? now >= feed->second->refused_until()
                                           : now - it->second >= feed_linger) {
            if (feed->second->refused()) {
                spdlog::info("Project {}: its next viewer makes the gateway ask Redis for {} again",
                             feed->second->project(), it->first);
            } else {
                spdlog::debug("Project {}: no viewers, closing {}", feed->second->project(),
                              it->first);
            }
            redis_->subscriber.unwatch(it->first);
            feeds_.erase(feed);
            it = idle_since_.erase(it);
        } else {
            ++it;
        }
    }
}

}  // namespace bscd
