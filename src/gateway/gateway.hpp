#pragma once
// The gateway's shared state (Beast chat example's `shared_state`): the
// options, the catalog, the event loops, the Redis links, and the feeds of
// the projects that have viewers, one live subscription each.
//
// Threads: the viewers are spread over --threads event loops (ViewerLoop),
// each owning its connections. Loop 0 also runs the Redis side: the links,
// the ProjectFeeds and the operator's board, which only it touches. A loop
// reaches the Redis side by posting to loop 0 (attach, detach, the state,
// health and metrics requests), and the feeds post their new events back
// to the loops that have viewers of them (LoopFeed). So a project's history
// is read once and its subscription made once for the whole process, and
// nothing on the per-viewer path takes a lock.
//
// A feed is opened with its first follower and closed a moment after the
// last one left (so a page reload does not re-read the history).

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/catalog.hpp"
#include "gateway/admission.hpp"
#include "gateway/backfill.hpp"
#include "gateway/builds_board.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/metrics.hpp"
#include "gateway/project_feed.hpp"
#include "gateway/viewer_loop.hpp"
#include "redis/channel_subscriber.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

class LoopFeed;

class Gateway {
public:
    // Makes options.threads_to_run() event loops; none runs yet.
    Gateway(GatewayOptions options, Catalog catalog);
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;
    // Destroys the loops (loop 0 first), and with them the sessions still
    // pending in them, which find the rest of the gateway alive.
    ~Gateway();

    // Loop 0's: the Redis side's, the listener's and the signals'.
    [[nodiscard]] boost::asio::io_context& io() { return loops_.front()->io(); }
    // The loop for the next connection (the listener's, on loop 0).
    ViewerLoop& next_loop();

    void start();  // connects to Redis (and keeps reconnecting)
    // Runs loop 0 on the calling thread and the others on threads of their
    // own, until shut_down(); then waits for the threads.
    void run();
    // From loop 0 (a signal): every loop stops.
    void shut_down();
    // Closes the Redis links and timers, which need loop 0: call it before
    // the gateway is destroyed, once run() returned (or instead of run()).
    void stop();

    [[nodiscard]] const GatewayOptions& options() const { return options_; }

    // Whether `token` lets its bearer see `scope`: a project, or
    // operator_scope (always, without a secret).
    [[nodiscard]] bool admits(const std::string& scope, std::string_view token) const;

    // A project's page; with a token secret, its link carries the project's
    // token (the operator's list hands it out).
    [[nodiscard]] std::string page_link(const std::string& project) const;

    // From a loop, asking the Redis side: each `done` runs on `caller`.
    using Executor = boost::asio::any_io_executor;
    // Redis answers the reader's PINGs and the live subscription link is up
    // (in a cluster: every master answers, and so does the subscriber's node).
    void health(Executor caller, std::function<void(bool up)> done);
    // The metrics in Prometheus text format, gauges brought up to date.
    void metrics_text(Executor caller, std::function<void(std::string text)> done);
    // The project's state as `bsc status --json` prints it; no json when it
    // has no history, or (redis_failed) when Redis could not be asked.
    struct State {
        std::optional<std::string> json;
        bool redis_failed = false;
    };
    void read_state(const std::string& project, Executor caller, std::function<void(State)> done);
    // The next page of a viewer's backfill (the events its feed no longer
    // keeps in memory), read from Redis.
    void read_backfill(const std::shared_ptr<Backfill>& backfill, Executor caller,
                       std::function<void(Backfill::Page)> done);
    // The operator's list of builds (BuildsBoard); nullopt when Redis could
    // not be asked.
    void list_builds(Executor caller, std::function<void(std::optional<std::string> json)> done);

    // From a loop: its feed of a project follows (or no longer follows)
    // the project's ProjectFeed.
    void attach(const std::shared_ptr<LoopFeed>& feed);
    void detach(const std::shared_ptr<LoopFeed>& feed);

    // What a connection holds of the gateway (any loop): its place among
    // --max-connections and, once it is a viewer, its seat among its
    // project's --max-project-viewers. Both go with the session holding it.
    class Slot {
    public:
        explicit Slot(Gateway& gateway) : gateway_(&gateway) { ++gateway_->connections_; }
        ~Slot() {
            if (gateway_ != nullptr) {
                --gateway_->connections_;
            }
        }
        Slot(Slot&& other) noexcept : gateway_(other.gateway_), seat_(std::move(other.seat_)) {
            other.gateway_ = nullptr;
        }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot& operator=(Slot&&) = delete;

        // A seat among `project`'s viewers for the viewer this connection
        // becomes: false when the project has none free.
        [[nodiscard]] bool take_seat(const std::string& project) {
            seat_.reset();
            if (auto seat = gateway_->admission_.seat(project)) {
                seat_.emplace(std::move(*seat));
            }
            return seat_.has_value();
        }

    private:
        Gateway* gateway_;
        std::optional<Admission::Seat> seat_;
    };
    [[nodiscard]] Admission& admission() { return admission_; }
    [[nodiscard]] std::uint64_t connections() const { return connections_; }
    [[nodiscard]] bool at_capacity() const { return connections_ >= options_.max_connections; }
    // The listener's (loop 0): a connection refused for want of room.
    void count_refused() { ++connections_refused_total_; }

private:
    // On loop 0, the Redis side's own:
    std::shared_ptr<ProjectFeed> follow(const std::string& project);
    void read_state_here(const std::string& project, const std::function<void(State)>& done);
    void read_backfill_here(const std::shared_ptr<Backfill>& backfill,
                            const std::function<void(Backfill::Page)>& done);
    [[nodiscard]] bool redis_up() const;
    [[nodiscard]] std::string render_metrics();
    void on_subscribed(const std::string& channel);
    void on_message(const std::string& channel);
    // Redis refused the subscription: the feed's viewers are told, for a while.
    void on_refused(const std::string& channel);
    void on_reader_ready();
    void schedule_sweep();
    void close_idle_feeds();

    GatewayOptions options_;
    Catalog catalog_;
    Admission admission_;  // before the loops: their sessions' seats go back to it
    std::atomic<std::uint64_t> connections_{0};
    std::uint64_t connections_refused_total_ = 0;  // loop 0's
    HistoryCounters history_counters_;             // loop 0's: feeds, state reads, replays
    std::uint64_t follows_coalesced_ = 0;          // loop 0's: follows of a feed already open
    std::uint64_t backfills_ = 0;                  // loop 0's: viewers' backfills begun
    std::size_t next_loop_ = 0;
    std::atomic<bool> stopped_{false};  // stop() ran: loops no longer post to loop 0

    std::vector<std::unique_ptr<ViewerLoop>> loops_;
    std::vector<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> busy_;
    std::vector<std::thread> threads_;

    struct RedisSide {
        RedisSide(boost::asio::io_context& io, Gateway& gateway);
        HistoryReader reader;
        ChannelSubscriber subscriber;
        boost::asio::steady_timer sweep_timer;  // closes idle feeds, retries failed reads
        BuildsBoard board;                      // reads with `reader`: goes before it
    };
    std::unique_ptr<RedisSide> redis_;
    // By channel name, as the subscriber reports them.
    std::unordered_map<std::string, std::shared_ptr<ProjectFeed>> feeds_;
    // When each idle feed's last follower left.
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> idle_since_;
};

}  // namespace bscd
