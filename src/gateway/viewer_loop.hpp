#pragma once
// One of the gateway's event loops and the connections it holds: an
// io_context run by one thread, and a LoopFeed for each project its viewers
// follow. The listener gives each new connection to one loop, where it
// stays until it closes: a viewer's events, writes and timers never involve
// another thread. Loop 0 also runs the gateway's Redis side.
//
// The loop keeps its viewers in a list and ticks: each tick asks every
// viewer whether something is due (a heartbeat, a stuck write, a wait for
// the history that took too long), so that no viewer needs a timer.

#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/intrusive/list.hpp>

#include "gateway/gateway_options.hpp"
#include "gateway/metrics.hpp"
#include "gateway/viewer.hpp"

namespace bscd {

class Gateway;

class ViewerLoop {
public:
    ViewerLoop(std::size_t index, Gateway& gateway);
    ViewerLoop(const ViewerLoop&) = delete;
    ViewerLoop& operator=(const ViewerLoop&) = delete;
    ~ViewerLoop();

    [[nodiscard]] std::size_t index() const { return index_; }
    [[nodiscard]] boost::asio::io_context& io() { return *io_; }
    [[nodiscard]] Gateway& gateway() { return gateway_; }
    [[nodiscard]] const GatewayOptions& options() const;
    [[nodiscard]] LoopMetrics& metrics() { return metrics_; }

    // On this loop: the loop's feed of `project`, made and attached to the
    // gateway's feed (on the Redis loop) with the first viewer.
    std::shared_ptr<LoopFeed> follow(const std::string& project);
    // From the feed, when its last viewer went: it is detached from the
    // gateway's feed.
    void forget(const LoopFeed& feed);

    // A new viewer of this loop, ticked until it goes.
    void enlist(Viewer& viewer) { viewers_.push_back(viewer); }

    // The loop's viewers, for /metrics (any thread).
    [[nodiscard]] std::uint64_t viewers() const {
        return metrics_.sse_viewers.get() + metrics_.websocket_viewers.get();
    }

    // Destroys what is still pending on the loop (sessions included),
    // once it has stopped: the gateway's parts they use still exist.
    void close();

private:
    void tick();

    std::size_t index_;
    Gateway& gateway_;
    LoopMetrics metrics_;
    std::unordered_map<std::string, std::shared_ptr<LoopFeed>> feeds_;
    boost::intrusive::list<Viewer, boost::intrusive::constant_time_size<false>> viewers_;
    // Destroyed first, with the sessions in its queue, which use the rest.
    std::unique_ptr<boost::asio::io_context> io_;
    std::unique_ptr<boost::asio::steady_timer> ticker_;  // on io_: goes before it
};

}  // namespace bscd
