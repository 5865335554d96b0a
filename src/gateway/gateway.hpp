#pragma once
// The gateway's shared state (Beast chat example's `shared_state`): the
// options, the catalog, the Redis links, the metrics, and the feeds of the
// projects that have viewers, one live subscription each. Sessions ask it
// for a project's feed; it opens the subscription with the first viewer and
// closes it a moment after the last one left (so a page reload does not
// re-read the history).

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/catalog.hpp"
#include "gateway/builds_board.hpp"
#include "gateway/gateway_options.hpp"
#include "gateway/metrics.hpp"
#include "gateway/project_feed.hpp"
#include "redis/channel_subscriber.hpp"
#include "redis/history_reader.hpp"

namespace bscd {

class Gateway {
public:
    Gateway(boost::asio::io_context& io, GatewayOptions options, Catalog catalog);
    Gateway(const Gateway&) = delete;
    Gateway& operator=(const Gateway&) = delete;

    void start();  // connects to Redis (and keeps reconnecting)
    // Closes the Redis links and timers, which need the event loop: call it
    // before the loop is destroyed. Sessions destroyed with the loop's
    // pending handlers afterwards still find the rest of the gateway.
    void stop();

    [[nodiscard]] const GatewayOptions& options() const { return options_; }
    [[nodiscard]] GatewayMetrics& metrics() { return metrics_; }
    // The metrics in Prometheus text format, gauges brought up to date.
    [[nodiscard]] std::string render_metrics();
    // Redis answers the reader's PINGs and the live subscription link is up
    // (in a cluster: every master answers, and so does the subscriber's node).
    [[nodiscard]] bool redis_up() const {
        return redis_ && redis_->reader.redis_up() && redis_->subscriber.connected();
    }

    // Whether `token` lets its bearer see `scope`: a project, or
    // operator_scope (always, without a secret).
    [[nodiscard]] bool admits(const std::string& scope, std::string_view token) const;

    // A project's page; with a token secret, its link carries the project's
    // token (the operator's list hands it out).
    [[nodiscard]] std::string page_link(const std::string& project) const;

    // The project's feed, opened (subscribed) if it was not.
    std::shared_ptr<ProjectFeed> follow(const std::string& project);

    // The project's state as `bsc status --json` prints it; no json when it
    // has no history, or (redis_failed) when Redis could not be asked.
    struct State {
        std::optional<std::string> json;
        bool redis_failed = false;
    };
    void read_state(const std::string& project, const std::function<void(State)>& done);

    // The operator's list of builds (BuildsBoard); nullopt when Redis could
    // not be asked.
    void list_builds(std::function<void(std::optional<std::string> json)> done);

    // Connections, for --max-connections: a session holds a Slot.
    class Slot {
    public:
        explicit Slot(Gateway& gateway) : gateway_(&gateway) { ++gateway_->metrics_.connections; }
        ~Slot() {
            if (gateway_ != nullptr) {
                --gateway_->metrics_.connections;
            }
        }
        Slot(Slot&& other) noexcept : gateway_(other.gateway_) { other.gateway_ = nullptr; }
        Slot(const Slot&) = delete;
        Slot& operator=(const Slot&) = delete;
        Slot& operator=(Slot&&) = delete;

    private:
        Gateway* gateway_;
    };
    [[nodiscard]] bool at_capacity() const {
        return metrics_.connections >= options_.max_connections;
    }

private:
    void on_subscribed(const std::string& channel);
    void on_message(const std::string& channel);
    // Redis refused the subscription: the feed's viewers are told, for a while.
    void on_refused(const std::string& channel);
    void on_reader_ready();
    void schedule_sweep();
    void close_idle_feeds();

    GatewayOptions options_;
    Catalog catalog_;
    GatewayMetrics metrics_;
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
    // When each idle feed's last viewer left.
    std::unordered_map<std::string, std::chrono::steady_clock::time_point> idle_since_;
};

}  // namespace bscd
