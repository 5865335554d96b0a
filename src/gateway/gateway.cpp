#include "gateway/gateway.hpp"

#include <exception>
#include <mutex>

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "core/project.hpp"
#include "core/unix_ms.hpp"
#include "core/web_route.hpp"
#include "gateway/access_token.hpp"
#include "gateway/loop_feed.hpp"
#include "gateway/refusal_log.hpp"
#include "gateway/timeline_reader.hpp"

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

// Reads a project's whole history (page by page) into `reader`'s timeline;
// `done` says whether Redis answered every read.
void read_to_end(const std::shared_ptr<TimelineReader>& reader,
                 const std::function<void(bool read)>& done) {
    const bool sent = reader->read([reader, done](std::optional<TimelineReader::Page> page) {
        if (page && page->more) {
            read_to_end(reader, done);
        } else {
            done(page.has_value());
        }
    });
    if (!sent) {
        done(false);
    }
}

// `done`, made to run on `caller` with its answer.
template <class Answer>
std::function<void(Answer)> back_to(boost::asio::any_io_executor caller,
                                    std::function<void(Answer)> done) {
    return [caller = std::move(caller), done = std::move(done)](Answer answer) {
        boost::asio::post(
            caller, [done, answer = std::move(answer)]() mutable { done(std::move(answer)); });
    };
}

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

Gateway::Gateway(GatewayOptions options, Catalog catalog)
    : options_(std::move(options)), catalog_(std::move(catalog)), admission_(options_) {
    const std::size_t count = options_.threads_to_run();
    for (std::size_t index = 0; index < count; ++index) {
        loops_.push_back(std::make_unique<ViewerLoop>(index, *this));
        busy_.push_back(boost::asio::make_work_guard(loops_.back()->io()));
    }
    redis_ = std::make_unique<RedisSide>(io(), *this);
}

Gateway::~Gateway() {
    stopped_ = true;
    busy_.clear();
    // Loop 0 first: what waits in it may hold objects of the other loops
    // (the pending accept's socket, a request's answer on its way back),
    // while nothing the others hold reaches loop 0 once stopped_ is set.
    for (auto& loop : loops_) {
        loop->close();
    }
}

ViewerLoop& Gateway::next_loop() {
    ViewerLoop& loop = *loops_[next_loop_];
    next_loop_ = (next_loop_ + 1) % loops_.size();
    return loop;
}

void Gateway::start() {
    redis_->reader.start();
    redis_->subscriber.start();
    schedule_sweep();
}

void Gateway::run() {
    // A handler's exception ends every loop, and run() throws it.
    std::mutex failed_mutex;
    std::exception_ptr failed;
    const auto run_loop = [&](ViewerLoop& loop) {
        try {
            loop.io().run();
        } catch (...) {
            const std::lock_guard lock(failed_mutex);
            if (!failed) {
                failed = std::current_exception();
            }
            shut_down();
        }
    };
    for (std::size_t index = 1; index < loops_.size(); ++index) {
        threads_.emplace_back([&run_loop, loop = loops_[index].get()] { run_loop(*loop); });
    }
    run_loop(*loops_.front());
    for (auto& thread : threads_) {
        thread.join();
    }
    threads_.clear();
    if (failed) {
        std::rethrow_exception(failed);
    }
}

void Gateway::shut_down() {
    for (auto& loop : loops_) {
        loop->io().stop();
    }
}

void Gateway::stop() {
    stopped_ = true;
    if (redis_) {
        redis_->sweep_timer.cancel();
        redis_->subscriber.stop();
        redis_->reader.stop();
        redis_.reset();
        // Loops' feeds still hold theirs; the last ones go with the loops.
        feeds_.clear();
    }
}

bool Gateway::redis_up() const {
    return redis_ && redis_->reader.redis_up() && redis_->subscriber.connected();
}

std::string Gateway::render_metrics() {
    GatewayMetrics metrics;
    metrics.connections = connections_;
    metrics.connections_refused_total = connections_refused_total_;
    metrics.refused_client_rate_total = admission_.refused_for_rate();
    metrics.refused_project_full_total = admission_.refused_project_full();
    metrics.rate_clients = admission_.rate_clients();
    metrics.events_received_total = history_counters_.entries_received;
    metrics.history_reads_total = history_counters_.history_reads;
    metrics.history_reads_coalesced_total = follows_coalesced_;
    metrics.history_gaps_total = history_counters_.history_gaps;
    metrics.backfills_total = backfills_;
    for (const auto& loop : loops_) {
        const LoopMetrics& counted = loop->metrics();
        metrics.sse_viewers += counted.sse_viewers.get();
        metrics.websocket_viewers += counted.websocket_viewers.get();
        metrics.events_relayed_total += counted.events_relayed_total.get();
        metrics.viewers_dropped_slow_total += counted.viewers_dropped_slow_total.get();
        metrics.history_reads_coalesced_total += counted.follows_coalesced.get();
        metrics.loop_viewers.push_back(loop->viewers());
    }
    if (redis_) {
        metrics.projects_followed = redis_->subscriber.subscribed_count();
        RedisLinkCounts links = redis_->reader.link_counts();
        links += redis_->subscriber.link_counts();
        metrics.redis_reconnects_total = links.reconnects;
        metrics.redis_connect_failures_total = links.connect_failures;
    }
    metrics.redis_up = redis_up();
    return metrics.render();
}

void Gateway::health(Executor caller, std::function<void(bool)> done) {
    boost::asio::post(
        io(), [this, reply = back_to(std::move(caller), std::move(done))] { reply(redis_up()); });
}

void Gateway::metrics_text(Executor caller, std::function<void(std::string)> done) {
    boost::asio::post(io(), [this, reply = back_to(std::move(caller), std::move(done))] {
        reply(render_metrics());
    });
}

void Gateway::read_state(const std::string& project, Executor caller,
                         std::function<void(State)> done) {
    boost::asio::post(io(), [this, project, reply = back_to(std::move(caller), std::move(done))] {
        read_state_here(project, reply);
    });
}

void Gateway::read_backfill(const std::shared_ptr<Backfill>& backfill, Executor caller,
                            std::function<void(Backfill::Page)> done) {
    boost::asio::post(io(), [this, backfill, reply = back_to(std::move(caller), std::move(done))] {
        read_backfill_here(backfill, reply);
    });
}

void Gateway::read_backfill_here(const std::shared_ptr<Backfill>& backfill,
                                 const std::function<void(Backfill::Page)>& done) {
    if (!redis_) {
        done(Backfill::Page::failure());
        return;
    }
    if (!backfill->reader) {
        ++backfills_;
        backfill->reader = std::make_shared<TimelineReader>(backfill->project(), catalog_,
                                                            redis_->reader, history_counters_);
    }
    const bool sent =
        backfill->reader->read([this, backfill, done](std::optional<TimelineReader::Page> page) {
            if (!page) {
                done(Backfill::Page::failure());
                return;
            }
            Backfill::Page owed = backfill->take(std::move(*page), history_counters_);
            if (owed.events.empty() && !owed.done) {
                read_backfill_here(backfill, done);  // still before the resume point
                return;
            }
            done(std::move(owed));
        });
    if (!sent) {
        done(Backfill::Page::failure());
    }
}

void Gateway::attach(const std::shared_ptr<LoopFeed>& feed) {
    boost::asio::post(io(), [this, feed] {
        if (redis_) {
            follow(feed->project())->attach(feed);
        }
    });
}

void Gateway::detach(const std::shared_ptr<LoopFeed>& feed) {
    if (stopped_) {
        return;  // the feeds are gone, and loop 0 may be too
    }
    boost::asio::post(io(), [this, feed] {
        if (const auto it = feeds_.find(feed->channel()); it != feeds_.end()) {
            it->second->detach(*feed);
        }
    });
}

bool Gateway::admits(const std::string& scope, std::string_view token) const {
    return options_.token_secret.empty() || token_grants(options_.token_secret, scope, token);
}

std::string Gateway::page_link(const std::string& project) const {
    std::string link = project_route_path(RouteKind::Page, project);
    if (!options_.token_secret.empty()) {
        link += "?token=" + access_token(options_.token_secret, project);
    }
    return link;
}

void Gateway::list_builds(Executor caller, std::function<void(std::optional<std::string>)> done) {
    boost::asio::post(io(), [this, reply = back_to(std::move(caller), std::move(done))] {
        if (!redis_) {
            reply(std::nullopt);
            return;
        }
        redis_->board.list(reply);
    });
}

std::shared_ptr<ProjectFeed> Gateway::follow(const std::string& project) {
    const std::string channel = channel_for_project(project);
    idle_since_.erase(channel);
    auto& feed = feeds_[channel];
    if (!feed) {
        feed = std::make_shared<ProjectFeed>(project, catalog_, redis_->reader,
                                             options_.estimate_rules, history_counters_);
        feed->on_idle([this, channel] { idle_since_[channel] = std::chrono::steady_clock::now(); });
        redis_->subscriber.watch(channel);
        spdlog::debug("Project {}: following {}", project, channel);
    } else {
        ++follows_coalesced_;
    }
    return feed;
}

void Gateway::read_state_here(const std::string& project, const std::function<void(State)>& done) {
    const auto open = feeds_.find(channel_for_project(project));
    if (open != feeds_.end() && open->second->ready() && !open->second->empty()) {
        done({open->second->state_json(), false});
        return;
    }
    if (!redis_) {
        done({std::nullopt, true});
        return;
    }
    auto reader =
        std::make_shared<TimelineReader>(project, catalog_, redis_->reader, history_counters_);
    read_to_end(reader, [this, project, reader, done](bool read) {
        if (!read) {
            done({std::nullopt, true});
            return;
        }
        if (reader->timeline().empty() || !redis_) {
            done({std::nullopt, false});
            return;
        }
        // What the estimate needs besides: once learnt (or not to be learnt
        // now), the state is answered with what is known.
        auto estimate = std::make_shared<ProjectEstimate>(project, catalog_, redis_->reader,
                                                          options_.estimate_rules);
        estimate->learn([estimate, reader, done] {
            const Estimate now = estimate->at(reader->timeline(), unix_ms_now());
            done({reader->timeline().state_json(estimate->start(), &now), false});
        });
    });
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
        "Project {}: the gateway may not read its channel {}; its viewers get 503 "
        "(WebSocket: close 1013) and Redis is asked again in {} s at the earliest",
        feed->project(), channel, refusal_hold.count());
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
            refusal_log().flush_summary();  // refusals that stopped still get their count
            close_idle_feeds();
            schedule_sweep();
        }
    });
}

void Gateway::close_idle_feeds() {
    const auto now = std::chrono::steady_clock::now();
    for (auto it = idle_since_.begin(); it != idle_since_.end();) {
        const auto feed = feeds_.find(it->first);
        if (feed == feeds_.end() || feed->second->follower_count() > 0) {
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
